// SPDX-License-Identifier: GPL-3.0-or-later
// One folder synced with sync::sync_folder() against a server on loopback.
#include "support/sync_harness.hpp"

#include <uidsync/core/error.hpp>
#include <uidsync/imap/session.hpp>
#include <uidsync/maildir/folder.hpp>
#include <uidsync/net/curl_transport.hpp>

#include <stdexcept>

namespace uidsync::test {

namespace {

state::Db open_db(const std::filesystem::path& path) {
  auto db = state::Db::open(path);
  if (!db) {
    throw core::Failure(db.error());
  }
  return std::move(*db);
}

} // namespace

Scenario inline_scenario(const std::string& text) {
  auto s = parse_scenario(text, "inline.scn", UIDSYNC_TEST_DATA_DIR);
  if (!s) {
    throw core::Failure(s.error());
  }
  return std::move(*s);
}

SyncHarness::SyncHarness(std::uint16_t port, std::string user, std::string password,
                         std::string folder)
    : m_root(m_temp.path() / "Mail"), m_state_dir(m_temp.path() / "state"), m_port(port),
      m_user(std::move(user)), m_password(std::move(password)),
      m_db(open_db(m_temp.path() / "state" / "test.db")) {
  m_row.name = folder;
  m_row.local_path = folder;
  auto id = m_db.put_folder(m_row);
  if (!id) {
    throw core::Failure(id.error());
  }
  m_row.id = *id;
  m_options.timeout = std::chrono::milliseconds(1000);
  m_options.state_dir = m_state_dir;
  m_options.account = "test";
}

SyncHarness::Run SyncHarness::sync(int max_connections) {
  Run run;
  std::filesystem::create_directories(m_root);
  auto folder = maildir::Folder::open(m_root, m_root / m_row.local_path, true);
  if (!folder) {
    throw core::Failure(folder.error());
  }
  while (run.connections < max_connections) {
    ++run.connections;
    net::ConnectOptions o;
    o.host = "127.0.0.1";
    o.port = m_port;
    o.tls = net::TlsMode::none;
    o.allow_plaintext = true;
    o.user = m_user;
    o.secret = m_password;
    o.auth = net::AuthMechanism::plain;
    o.io_timeout = std::chrono::milliseconds(5000);
    auto transport = net::CurlTransport::connect(o);
    if (!transport) {
      run.error = transport.error();
      continue;
    }
    sync::BodyRouter router;
    imap::SessionOptions so;
    so.body_sink = &router;
    imap::Session session(**transport, so);
    if (auto caps = session.refresh_capabilities(m_options.timeout); !caps) {
      run.error = caps.error();
      continue;
    }
    auto plan = sync::sync_folder(session, router, *folder, m_db, m_row, m_options, run.stats);
    if (plan) {
      run.error.reset();
      return run;
    }
    run.error = plan.error();
    if (plan.error().scope < core::Scope::account) {
      return run;
    }
  }
  return run;
}

std::map<std::uint32_t, std::vector<std::string>> SyncHarness::local_uids() const {
  std::map<std::uint32_t, std::vector<std::string>> out;
  for (const char* sub : {"cur", "new"}) {
    const auto dir = m_root / m_row.local_path / sub;
    if (!std::filesystem::is_directory(dir)) {
      continue;
    }
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
      const auto name = e.path().filename().string();
      const auto at = name.find(",U=");
      if (at == std::string::npos) {
        continue;
      }
      out[static_cast<std::uint32_t>(std::stoul(name.substr(at + 3)))].push_back(std::string(sub) +
                                                                                 "/" + name);
    }
  }
  return out;
}

std::map<std::uint32_t, state::QuarantineRow> SyncHarness::quarantine() {
  std::map<std::uint32_t, state::QuarantineRow> out;
  auto rows = m_db.quarantine(m_row.id);
  if (!rows) {
    throw core::Failure(rows.error());
  }
  for (auto& r : *rows) {
    out[r.uid] = std::move(r);
  }
  return out;
}

} // namespace uidsync::test
