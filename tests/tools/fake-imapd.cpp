// SPDX-License-Identifier: GPL-3.0-or-later
// fake-imapd SCENARIO [--port N] [--transcript FILE]: serves a scenario until SIGTERM or SIGINT.
#include "support/fake_imap_server.hpp"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

namespace {

int usage() {
  std::cerr << "usage: fake-imapd SCENARIO [--port N] [--transcript FILE]\n"
               "  SCENARIO  a .scn file (a bare name is looked up in tests/data/scenarios)\n"
               "  --port N  listen on 127.0.0.1:N (default 0: any free port)\n"
               "  --transcript FILE  rewrite FILE with the C:/S: transcript after each connection\n"
               "Prints PORT=<n> on stdout, then serves until SIGTERM or SIGINT.\n";
  return 64;
}

} // namespace

int main(int argc, char** argv) {
  std::string scenario_path;
  std::string transcript;
  long port = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--port" && i + 1 < argc) {
      char* end = nullptr;
      port = std::strtol(argv[++i], &end, 10);
      if (*end != '\0' || port < 0 || port > 65535) {
        std::cerr << "fake-imapd: --port needs a number from 0 to 65535\n";
        return 64;
      }
    } else if (arg == "--transcript" && i + 1 < argc) {
      transcript = argv[++i];
    } else if (arg == "-h" || arg == "--help" || !scenario_path.empty() || arg.rfind("--", 0) == 0) {
      return usage();
    } else {
      scenario_path = arg;
    }
  }
  if (scenario_path.empty()) {
    return usage();
  }
  auto scenario = uidsync::test::load_scenario(scenario_path);
  if (!scenario) {
    std::cerr << "fake-imapd: " << scenario.error().what() << "\n";
    return 65;
  }
  // Block the stop signals before any thread starts, then wait for one of them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  try {
    uidsync::test::FakeImapServer server(std::move(*scenario), static_cast<std::uint16_t>(port));
    if (!transcript.empty()) {
      server.set_transcript_file(transcript);
    }
    std::cout << "PORT=" << server.port() << std::endl;
    int received = 0;
    sigwait(&signals, &received);
    server.stop();
  } catch (const uidsync::core::Failure& failure) {
    std::cerr << "fake-imapd: " << failure.what() << "\n";
    return 69;
  }
  return 0;
}
