// SPDX-License-Identifier: GPL-3.0-or-later
// uidsync_netem: NetProxy as a program, for scripts and benchmarks.
//
//   uidsync_netem --to HOST:PORT [--listen PORT] [--delay-ms N] [--rate-kbit N]
//                 [--cut-after N] [--stall-after N] [--dir s2c|c2s|both]
//                 [--connection N] [--stats FILE]
//
// Prints "listening 127.0.0.1:PORT" as its first stdout line, forwards until SIGTERM or
// SIGINT, then (with --stats) writes one JSON object to FILE:
//   {"connections":N,"bytes_c2s":N,"bytes_s2c":N,"exchanges":N}
// --delay-ms and --rate-kbit apply to each direction (RTT = 2 x delay); --cut-after and
// --stall-after to the directions of --dir (default both), on every connection or only
// the --connection'th. Exit status: 0, or 2 for a usage error or a proxy that cannot start.
#include "support/net_proxy.hpp"

#include <csignal>
#include <cstdio>
#include <exception>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>

namespace {

using uidsync::test::NetFault;
using uidsync::test::NetProxy;
using uidsync::test::NetProxyOptions;

int usage(const std::string& why) {
  std::cerr << "uidsync_netem: " << why
            << "\nusage: uidsync_netem --to HOST:PORT [--listen PORT] [--delay-ms N]"
               " [--rate-kbit N] [--cut-after N] [--stall-after N] [--dir s2c|c2s|both]"
               " [--connection N] [--stats FILE]\n";
  return 2;
}

std::uint64_t number(std::string_view flag, const std::string& text) {
  std::size_t used = 0;
  const auto n = std::stoull(text, &used);
  if (used != text.size()) {
    throw std::invalid_argument(std::string(flag) + ": not a number: " + text);
  }
  return n;
}

} // namespace

int main(int argc, char** argv) {
  NetProxyOptions options;
  std::string to;
  std::string dir = "both";
  std::string stats_file;
  NetFault fault; // the faults of the chosen directions
  std::uint64_t delay_ms = 0;
  std::uint64_t rate_kbit = 0;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string_view flag = argv[i];
      if (i + 1 >= argc) {
        return usage(std::string(flag) + " needs a value");
      }
      const std::string value = argv[++i];
      if (flag == "--to") {
        to = value;
      } else if (flag == "--listen") {
        options.listen_port = static_cast<int>(number(flag, value));
      } else if (flag == "--delay-ms") {
        delay_ms = number(flag, value);
      } else if (flag == "--rate-kbit") {
        rate_kbit = number(flag, value);
      } else if (flag == "--cut-after") {
        fault.cut_after = number(flag, value);
      } else if (flag == "--stall-after") {
        fault.stall_after = number(flag, value);
      } else if (flag == "--dir") {
        dir = value;
      } else if (flag == "--connection") {
        options.fault_connection = static_cast<int>(number(flag, value));
      } else if (flag == "--stats") {
        stats_file = value;
      } else {
        return usage("unknown option " + std::string(flag));
      }
    }
  } catch (const std::exception& e) {
    return usage(e.what());
  }
  const auto colon = to.rfind(':');
  if (to.empty() || colon == std::string::npos) {
    return usage("--to HOST:PORT is required");
  }
  if (dir != "s2c" && dir != "c2s" && dir != "both") {
    return usage("--dir must be s2c, c2s or both");
  }
  options.target_host = to.substr(0, colon);
  try {
    options.target_port = static_cast<int>(number("--to", to.substr(colon + 1)));
  } catch (const std::exception& e) {
    return usage(e.what());
  }
  for (NetFault* f : {&options.c2s, &options.s2c}) {
    f->delay = std::chrono::milliseconds(delay_ms);
    f->rate_bytes_per_s = rate_kbit * 1000 / 8;
  }
  if (dir != "s2c") {
    options.c2s.cut_after = fault.cut_after;
    options.c2s.stall_after = fault.stall_after;
  }
  if (dir != "c2s") {
    options.s2c.cut_after = fault.cut_after;
    options.s2c.stall_after = fault.stall_after;
  }

  // Block the signals before any thread starts, so that only sigwait() sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  try {
    NetProxy proxy(options);
    std::cout << "listening 127.0.0.1:" << proxy.port() << std::endl;
    int received = 0;
    sigwait(&signals, &received);
    proxy.stop();
    if (!stats_file.empty()) {
      const auto s = proxy.stats();
      std::ofstream out(stats_file);
      out << "{\"connections\":" << s.connections << ",\"bytes_c2s\":" << s.bytes_c2s
          << ",\"bytes_s2c\":" << s.bytes_s2c << ",\"exchanges\":" << s.exchanges << "}\n";
      if (!out.flush()) {
        std::cerr << "uidsync_netem: cannot write " << stats_file << "\n";
        return 2;
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "uidsync_netem: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
