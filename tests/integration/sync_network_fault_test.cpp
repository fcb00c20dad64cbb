// SPDX-License-Identifier: GPL-3.0-or-later
// `uidsync sync` against a real Dovecot through NetProxy (tests/support/net_proxy.hpp):
// a connection cut inside a body literal, inside an APPEND literal, during the TLS or
// the plain login (the first connection: retried within the run; every connection: the
// run gives up after a bounded number of attempts), inside the UID FETCH 1:* listing of
// a large folder, a server that stops answering, and 20 ms of latency. Each faulty run
// ends by itself with the row's exit code (reconnecting within the run where it can);
// the --trace transcript shows where the cut landed. Then a direct run completes and
// the Maildir matches the server: every message exactly once, byte-identical, flags
// right, the state DB agreeing, no duplicate upload on the server. The figures
// (seconds, reconnects, connections) are printed and recorded as test properties.
#include "support/dovecot.hpp"
#include "support/dovecot_search.hpp"
#include "support/net_proxy.hpp"
#include "support/sync_cli.hpp"
#include "support/table.hpp"
#include "support/temp_dir.hpp"
#include "support/verify_mirror.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace uidsync::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr std::size_t k_big_body = 1024 * 1024;   // the server's large message
constexpr std::size_t k_upload_body = 300 * 1024; // the local file uploaded by APPEND
// The small messages of a "large folder" row: their UID FETCH 1:* listing is about
// 600 lines of ~100 bytes, some 60 KiB of server->client traffic.
constexpr std::size_t k_many = 600;

// Where the row's cut must have landed, read from the faulty run's --trace.
enum class Phase {
  any,     // not checked (the byte offset alone places it)
  login,   // before the session began: the cut connection never reached the transcript
  listing, // after the UID FETCH 1:* listing command went out, before its tagged reply
};

// A faulty run the server or the certificate check refuses: never tried again.
enum class Refusal { none, wrong_password, untrusted_certificate };

struct FaultRow {
  std::string name{};
  NetFault c2s{};
  NetFault s2c{};
  int fault_connection = 1; // the Nth connection of the run is hit; 0: every one
  bool upload = false;      // the faulty run uploads a new local file (APPEND)
  int timeout_s = 0;        // the account's `timeout` for the faulty run; 0: default
  int exit_code = 0;        // of the faulty run
  int reconnects = 0;       // of the faulty run (sum over folders, from --json)
  double min_seconds = 0;   // the faulty run lasts at least this long
  double max_seconds = 30;  // and ends within this: half the default timeout (60 s), so
                            // a stalled run that ends in time ended by the row's timeout
  bool plain = false;       // the faulty run speaks plain IMAP (tls = "none"), so byte
                            // offsets are those of the greeting/CAPABILITY/AUTHENTICATE
  std::size_t many = 0;     // the folder also holds this many small messages
  Phase cut_in = Phase::any;
  std::uint64_t connections = 0; // the proxy accepted exactly this many (0: not checked)
  std::string says{};            // the faulty run's output contains this (with {port}: the proxy's)
  Refusal refusal = Refusal::none;
};

// The sum of all "reconnects" members of a `sync --json` document.
int reconnects_in(const std::string& json) {
  static const std::regex k_member("\"reconnects\": ([0-9]+)");
  int n = 0;
  for (std::sregex_iterator it(json.begin(), json.end(), k_member), end; it != end; ++it) {
    n += std::stoi((*it)[1].str());
  }
  return n;
}

// The session numbers ("[n] " prefixes) of a --trace transcript.
std::size_t sessions_in(const std::string& transcript) {
  static const std::regex k_prefix("^\\[([0-9]+)\\] ");
  std::set<std::string> numbers;
  std::istringstream lines(transcript);
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (std::regex_search(line, m, k_prefix)) {
      numbers.insert(m[1].str());
    }
  }
  return numbers.size();
}

// Whether session [1] sent UID FETCH 1:* (the listing), got some of its FETCH lines and
// never its tagged reply, while a later session [2] took over: the cut landed inside
// the listing.
bool cut_inside_listing(const std::string& transcript) {
  static const std::regex k_listing(R"(^\[1\] C: (\S+) UID FETCH 1:\* )");
  std::istringstream lines(transcript);
  std::string tag;
  std::size_t listed = 0;
  bool answered = false;
  bool second = false;
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (tag.empty() && std::regex_search(line, m, k_listing)) {
      tag = m[1].str();
    } else if (!tag.empty() && line.starts_with("[1] S: * ") &&
               line.find(" FETCH (UID ") != std::string::npos) {
      ++listed;
    } else if (!tag.empty() && line.starts_with("[1] S: " + tag + " ")) {
      answered = true;
    } else if (line.starts_with("[2] ")) {
      second = true;
    }
  }
  return !tag.empty() && listed > 0 && !answered && second;
}

class SyncNetworkFault : public DovecotSuite, public ::testing::WithParamInterface<FaultRow> {
protected:
  void SetUp() override {
    DovecotSuite::SetUp();
    write_sync_config(m_dir, *s_dovecot);
  }

  // The same config as config.toml, pointed at `port` instead of Dovecot's.
  fs::path proxied_config(int port, int timeout_s, bool plain, Refusal refusal) {
    std::string text = read_file(m_dir / "config.toml");
    const std::string direct = "\nport = " + std::to_string(s_dovecot->port()) + "\n";
    const auto at = text.find(direct);
    if (at == std::string::npos) {
      ADD_FAILURE() << "no port line in\n" << text;
      return {};
    }
    text.replace(at, direct.size(), "\nport = " + std::to_string(port) + "\n");
    if (timeout_s > 0) {
      text += "timeout = " + std::to_string(timeout_s) + "\n";
    }
    if (plain) {
      // Dovecot allows plaintext authentication on loopback.
      const std::string starttls = "\ntls = \"starttls\"\n";
      const auto tls = text.find(starttls);
      if (tls == std::string::npos) {
        ADD_FAILURE() << "no tls line in\n" << text;
        return {};
      }
      text.replace(tls, starttls.size(), "\ntls = \"none\"\nallow_plaintext = true\n");
    }
    if (refusal == Refusal::wrong_password) {
      const std::string right = (m_dir / "password").string() + "\"";
      write_file(m_dir / "wrong-password", "not-the-password\n");
      text.replace(text.find(right), right.size(), (m_dir / "wrong-password").string() + "\"");
    } else if (refusal == Refusal::untrusted_certificate) {
      // The system CAs do not know the fixture's CA.
      const auto ca = text.find("\nca_file = ");
      text.erase(ca + 1, text.find('\n', ca + 1) - ca);
    }
    // The byte offsets of the cuts are those of the plain IMAP stream.
    text += "compress = false\n";
    const fs::path path = m_dir / "proxied.toml";
    write_file(path, text);
    return path;
  }

  CommandResult sync(const fs::path& config, const std::string& folder,
                     const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args{UIDSYNC_BINARY, "-c", config.string(), "sync", "-f", folder};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_command(args);
  }

  std::vector<std::string> search(const std::string& folder,
                                  const std::vector<std::string>& query) {
    return search_uids(*s_dovecot, folder, query);
  }

  TempDir m_temp;
  fs::path m_dir = m_temp.path();
};

TEST_P(SyncNetworkFault, RunEndsAndTheNextRunLeavesBothSidesEqual) {
  const FaultRow& row = GetParam();
  const std::string folder = "Net_" + row.name;
  const std::string upload_id = "upload-" + row.name;
  std::map<std::string, std::string> sent;
  for (const auto& [id, bytes] :
       {std::pair{"small1-" + row.name, std::size_t{0}}, std::pair{"big-" + row.name, k_big_body},
        std::pair{"small2-" + row.name, std::size_t{2000}}}) {
    sent[id] = message(id, bytes);
  }
  s_dovecot->fill(
      folder, {sent["small1-" + row.name], sent["big-" + row.name], sent["small2-" + row.name]});
  s_dovecot->doveadm(
      {"flags", "add", "-u", s_dovecot->user(), "\\Seen", "mailbox", folder, "uid", "1"});
  if (row.many > 0) {
    std::vector<std::string> more;
    for (std::size_t i = 0; i < row.many; ++i) {
      const std::string id = "m" + std::to_string(i) + "-" + row.name;
      sent[id] = message(id, 200);
      more.push_back(sent[id]);
    }
    seed_folder(*s_dovecot, folder, more);
  }
  const fs::path local = m_dir / "Mail" / folder;
  const std::string upload = message(upload_id, k_upload_body);
  if (row.upload) {
    // The server's mail is here already; the faulty run only uploads.
    const auto first = sync(m_dir / "config.toml", folder);
    ASSERT_EQ(first.status, 0) << first.output;
    write_file(local / "cur" / "1700000900.P1Q1.local:2,S", upload);
  }

  double seconds = 0;
  {
    NetProxy proxy({"127.0.0.1", s_dovecot->port(), 0, row.c2s, row.s2c, row.fault_connection});
    const auto config = proxied_config(proxy.port(), row.timeout_s, row.plain, row.refusal);
    const fs::path trace = m_dir / "faulty.trace";
    const auto start = std::chrono::steady_clock::now();
    const auto faulty = sync(config, folder, {"--json", "--trace", trace.string()});
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const auto stats = proxy.stats();
    std::cout << "[ figures  ] " << row.name << ": exit " << faulty.status << ", " << seconds
              << " s, reconnects " << reconnects_in(faulty.output) << ", connections "
              << stats.connections << ", cuts " << stats.cuts << ", stalls " << stats.stalls
              << "\n";
    RecordProperty("seconds", std::to_string(seconds));
    EXPECT_EQ(faulty.status, row.exit_code) << faulty.output;
    EXPECT_EQ(reconnects_in(faulty.output), row.reconnects) << faulty.output;
    EXPECT_GE(seconds, row.min_seconds);
    EXPECT_LE(seconds, row.max_seconds) << "the run must end by itself";
    const bool faulted =
        row.c2s.cut_after || row.s2c.cut_after || row.c2s.stall_after || row.s2c.stall_after;
    EXPECT_EQ(stats.cuts + stats.stalls > 0, faulted) << "the fault hit the run";
    if (row.connections > 0) {
      EXPECT_EQ(stats.connections, row.connections) << faulty.output;
    }
    if (!row.says.empty()) {
      std::string says = row.says;
      if (const auto at = says.find("{port}"); at != std::string::npos) {
        says.replace(at, 6, std::to_string(proxy.port()));
      }
      EXPECT_NE(faulty.output.find(says), std::string::npos) << says << "\n" << faulty.output;
    }
    const std::string transcript = read_file(trace);
    if (row.cut_in == Phase::login) {
      // Sessions are numbered from the first login on: the cut (or stalled) connections
      // never got that far, so the transcript has a session for each of the others.
      EXPECT_EQ(sessions_in(transcript), stats.connections - stats.cuts - stats.stalls)
          << transcript.substr(0, 4000);
    } else if (row.cut_in == Phase::listing) {
      EXPECT_TRUE(cut_inside_listing(transcript)) << transcript.substr(0, 4000);
    }
  }

  // A direct run completes, and a further one finds nothing to do.
  const auto direct = sync(m_dir / "config.toml", folder);
  ASSERT_EQ(direct.status, 0) << direct.output;
  const auto again = sync(m_dir / "config.toml", folder, {"-v"});
  ASSERT_EQ(again.status, 0) << again.output;
  EXPECT_NE(again.output.find("0 new, 0 flags, 0 deleted"), std::string::npos) << again.output;

  // Every server message exactly once locally, byte-identical; the flag arrived.
  const auto files = local_files(local);
  EXPECT_EQ(files.size(), sent.size() + (row.upload ? 1 : 0)) << "no loss, no duplicate";
  for (const auto& [id, bytes] : sent) {
    const auto name = file_with(files, id);
    ASSERT_FALSE(name.empty()) << id << " missing";
    EXPECT_EQ(files.at(name), crlf(bytes)) << name;
    EXPECT_NE(name.find(",U="), std::string::npos) << name;
  }
  const auto first_name = file_with(files, "small1-" + row.name);
  EXPECT_EQ(first_name.substr(first_name.size() - 4), ":2,S") << first_name;

  // The server: the uploaded file exactly once, with its text.
  EXPECT_EQ(search(folder, {"all"}).size(), files.size()) << "the server holds what we hold";
  if (row.upload) {
    const auto found = search(folder, {"header", "Message-ID", "<" + upload_id + "@example.org>"});
    ASSERT_EQ(found.size(), 1u) << "exactly one copy on the server";
    auto text = s_dovecot->doveadm(
        {"fetch", "-u", s_dovecot->user(), "text", "mailbox", folder, "uid", found[0]});
    std::erase(text, '\r');
    EXPECT_NE(text.find(upload), std::string::npos) << "the server holds the file's text";
    const auto name = file_with(files, upload_id);
    EXPECT_NE(name.find(",U=" + found[0] + ":2,S"), std::string::npos) << name;
  }

  // The whole mirror: server, Maildir and state DB agree message by message.
  const auto mirror =
      verify_mirror(*s_dovecot, {folder}, m_dir / "Mail", m_dir / "state" / "demo.db");
  EXPECT_TRUE(mirror.clean()) << mirror.text();

  // The state DB knows exactly the messages the Maildir holds.
  const auto status =
      run_command({UIDSYNC_BINARY, "-c", (m_dir / "config.toml").string(), "status", "--json"});
  ASSERT_EQ(status.status, 0) << status.output;
  EXPECT_NE(status.output.find("\"name\": \"" + folder + "\""), std::string::npos) << status.output;
  EXPECT_NE(status.output.find("\"messages\": " + std::to_string(files.size())), std::string::npos)
      << status.output;
}

NetFault cut(std::uint64_t k) {
  return {0ms, 0, k, std::nullopt};
}
NetFault stall(std::uint64_t k) {
  return {0ms, 0, std::nullopt, k};
}
NetFault delay(int ms) {
  return {std::chrono::milliseconds(ms), 0, std::nullopt, std::nullopt};
}

// Byte offsets: the TLS handshake, login, SELECT and the two small messages are a few
// KiB, so 400 KiB server->client falls inside the 1 MiB body literal, and 150 KiB
// client->server inside the 300 KiB APPEND literal. In plain IMAP, Dovecot's greeting
// line alone is over 100 bytes, so a cut at server->client byte 40 lands inside it, and
// one at client->server byte 30 inside libcurl's first command (CAPABILITY or
// AUTHENTICATE). With k_many more messages the listing runs from a few KiB to ~65 KiB
// server->client, so 30 KiB lands inside it (the transcript confirms it).
const std::vector<FaultRow> k_cut_rows = {
    {.name = "cut_inside_body_literal", .s2c = cut(400 * 1024), .reconnects = 1},
    {.name = "cut_inside_append_literal", .c2s = cut(150 * 1024), .upload = true, .reconnects = 1},
    {.name = "cut_inside_uid_fetch_listing",
     .s2c = cut(30 * 1024),
     .reconnects = 1,
     .many = k_many,
     .cut_in = Phase::listing},
};
const std::vector<FaultRow> k_login_rows = {
    // A lost login is tried again within the run: 0.5 s later, a second connection.
    {.name = "cut_during_tls_login_server_side",
     .s2c = cut(600),
     .min_seconds = 0.5,
     .cut_in = Phase::login,
     .connections = 2,
     .says = "reconnecting in 0.5 s (attempt 2 of 3)"},
    {.name = "cut_during_tls_login_client_side",
     .c2s = cut(100),
     .min_seconds = 0.5,
     .cut_in = Phase::login,
     .connections = 2,
     .says = "reconnecting in 0.5 s (attempt 2 of 3)"},
    {.name = "cut_in_plain_greeting",
     .s2c = cut(40),
     .min_seconds = 0.5,
     .plain = true,
     .cut_in = Phase::login,
     .connections = 2,
     .says = "reconnecting in 0.5 s (attempt 2 of 3)"},
    {.name = "cut_in_plain_authenticate",
     .c2s = cut(30),
     .min_seconds = 0.5,
     .plain = true,
     .cut_in = Phase::login,
     .connections = 2,
     .says = "reconnecting in 0.5 s (attempt 2 of 3)"},
    // Every connection cut: three attempts, 0.5 s + 1 s apart, then a clear failure.
    {.name = "cut_in_every_login",
     .s2c = cut(40),
     .fault_connection = 0,
     .exit_code = 1,
     .min_seconds = 1.5,
     .max_seconds = 10,
     .plain = true,
     .cut_in = Phase::login,
     .connections = 3,
     .says = "no usable connection after 3 attempts: connection to "
             "127.0.0.1:{port} lost before the login finished"},
    // Refused, not lost: one connection, no retry (a wrong password tried again can lock
    // the account).
    {.name = "wrong_password_is_not_retried",
     .exit_code = 1,
     .max_seconds = 5,
     .connections = 1,
     .says = "refused by 127.0.0.1:{port}",
     .refusal = Refusal::wrong_password},
    {.name = "untrusted_certificate_is_not_retried",
     .exit_code = 1,
     .max_seconds = 5,
     .connections = 1,
     .says = "certificate of 127.0.0.1:{port} is not trusted",
     .refusal = Refusal::untrusted_certificate},
};
const std::vector<FaultRow> k_slow_rows = {
    {.name = "server_stops_answering",
     .s2c = stall(400 * 1024),
     .timeout_s = 2,
     .reconnects = 1,
     .min_seconds = 2,
     .max_seconds = 30},
    // The server greets, then never sees AUTHENTICATE: the login times out after 2 s
    // and is tried again on a new connection.
    {.name = "server_stops_answering_in_login",
     .c2s = stall(30),
     .timeout_s = 2,
     .min_seconds = 2.5,
     .max_seconds = 30,
     .plain = true,
     .cut_in = Phase::login,
     .connections = 2,
     .says = "stopped answering during the login"},
    {.name = "latency_20ms_each_way", .c2s = delay(20), .s2c = delay(20), .fault_connection = 0},
};

// Three ctest tests, so that each stays well inside the time limit.
INSTANTIATE_TEST_SUITE_P(Cuts, SyncNetworkFault, ::testing::ValuesIn(k_cut_rows), RowName{});
INSTANTIATE_TEST_SUITE_P(Logins, SyncNetworkFault, ::testing::ValuesIn(k_login_rows), RowName{});
INSTANTIATE_TEST_SUITE_P(Slow, SyncNetworkFault, ::testing::ValuesIn(k_slow_rows), RowName{});

} // namespace
} // namespace uidsync::test
