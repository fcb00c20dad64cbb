// SPDX-License-Identifier: GPL-3.0-or-later
// uidsync_bench_fetch_all: fetch every message body of an account and discard it.
// Measures the IMAP client core alone (transport, parser, pipelined session):
//   LIST, then per selectable folder EXAMINE + UID FETCH 1:* (BODY.PEEK[]).
// Usage: uidsync_bench_fetch_all HOST PORT USER PASSWORD [--tls none|implicit|starttls]
//                                [--ca FILE] [-j CONNECTIONS]
// Prints one JSON line: messages, bytes (literal bytes), folders, seconds, connections.
#include <uidsync/cli/connect.hpp>
#include <uidsync/imap/session.hpp>
#include <uidsync/net/curl_transport.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using uidsync::imap::Response;

constexpr auto k_timeout = 120s;

struct Totals {
  std::atomic<std::uint64_t> messages{0};
  std::atomic<std::uint64_t> bytes{0};
};

// Counts streamed bodies and drops them.
class DiscardSink : public uidsync::imap::BodySink {
public:
  explicit DiscardSink(Totals& totals) : m_totals(totals) {}
  void begin(std::uint32_t, std::string_view, std::uint64_t) override {}
  void chunk(std::string_view bytes) override { m_totals.bytes += bytes.size(); }
  void finish(const uidsync::imap::Fetch&) override { ++m_totals.messages; }
  void abort(std::string_view) override {}

private:
  Totals& m_totals;
};

int fail(const std::string& what) {
  std::fprintf(stderr, "uidsync_bench_fetch_all: %s\n", what.c_str());
  return 1;
}

std::unique_ptr<uidsync::net::CurlTransport> connect(const uidsync::net::ConnectOptions& o,
                                                     std::string& error) {
  auto t = uidsync::net::CurlTransport::connect(o);
  if (!t) {
    error = t.error().what();
    return nullptr;
  }
  return std::move(*t);
}

// Fetches every folder handed out by `next` on one connection.
std::string fetch_folders(const uidsync::net::ConnectOptions& o,
                          const std::vector<std::string>& folders, std::atomic<std::size_t>& next,
                          Totals& totals) {
  std::string error;
  auto transport = connect(o, error);
  if (!transport) {
    return error;
  }
  DiscardSink sink(totals);
  uidsync::imap::SessionOptions so;
  so.body_sink = &sink;
  uidsync::imap::Session session(*transport, so);
  const auto mode = session.literal_mode();
  for (std::size_t i = next++; i < folders.size(); i = next++) {
    auto examine = uidsync::imap::select_command(folders[i], true, std::nullopt, false, mode);
    if (!examine) {
      return examine.error().what();
    }
    auto selected = session.execute(*examine, k_timeout);
    if (!selected) {
      return folders[i] + ": " + selected.error().what();
    }
    auto fetch = uidsync::imap::CommandBuilder("UID FETCH", mode).raw("1:*").raw("(BODY.PEEK[])").build();
    auto fetched = session.execute(*fetch, k_timeout, [&totals](const Response& r) {
      if (const auto* f = std::get_if<uidsync::imap::Fetch>(&r.value)) {
        for (const auto& b : f->bodies) {
          if (!b.streamed && b.data) {
            totals.bytes += b.data->size();
            ++totals.messages;
          }
        }
      }
    });
    if (!fetched) {
      return folders[i] + ": " + fetched.error().what();
    }
  }
  (void)session.logout(10s);
  return {};
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    return fail("usage: HOST PORT USER PASSWORD [--tls none|implicit|starttls] [--ca FILE] "
                "[-j CONNECTIONS]");
  }
  uidsync::net::ConnectOptions o;
  o.host = argv[1];
  o.port = std::atoi(argv[2]);
  o.user = argv[3];
  o.secret = argv[4];
  o.tls = uidsync::net::TlsMode::none;
  o.allow_plaintext = true;
  int connections = 1;
  for (int i = 5; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--tls") {
      o.tls = value == "implicit"   ? uidsync::net::TlsMode::implicit
              : value == "starttls" ? uidsync::net::TlsMode::starttls
                                    : uidsync::net::TlsMode::none;
    } else if (flag == "--ca") {
      o.ca_file = value;
    } else if (flag == "-j") {
      connections = std::max(1, std::atoi(value.c_str()));
    } else {
      return fail("unknown option " + flag);
    }
  }

  const auto start = std::chrono::steady_clock::now();
  // List the folders on a first connection.
  std::vector<std::string> folders;
  {
    std::string error;
    auto transport = connect(o, error);
    if (!transport) {
      return fail(error);
    }
    uidsync::imap::Session session(*transport);
    auto listed = uidsync::cli::list_folders(session, k_timeout);
    if (!listed) {
      return fail(listed.error().what());
    }
    for (const auto& m : *listed) {
      folders.push_back(m.name);
    }
    (void)session.logout(10s);
  }

  Totals totals;
  std::atomic<std::size_t> next{0};
  std::vector<std::string> errors(static_cast<std::size_t>(connections));
  std::vector<std::thread> threads;
  for (int c = 0; c < connections; ++c) {
    threads.emplace_back([&, c] {
      errors[static_cast<std::size_t>(c)] = fetch_folders(o, folders, next, totals);
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  for (const auto& e : errors) {
    if (!e.empty()) {
      return fail(e);
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("{\"messages\": %llu, \"bytes\": %llu, \"folders\": %zu, \"seconds\": %.3f, "
              "\"connections\": %d}\n",
              static_cast<unsigned long long>(totals.messages.load()),
              static_cast<unsigned long long>(totals.bytes.load()), folders.size(), seconds,
              connections);
  return 0;
}
