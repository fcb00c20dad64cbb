// SPDX-License-Identifier: GPL-3.0-or-later
// The configuration model: plain values with their defaults. Reading and checking
// the TOML file is cli::load_config's job; everything else only reads these.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace uidsync::core {

enum class Tls { implicit, starttls, none };
enum class Auth { automatic, plain, login, xoauth2, oauthbearer };
enum class Layout { fs, maildir_plus_plus };
enum class Direction { two_way, pull };

// The spelling used in the config file ("implicit", "auto", "maildir++", "two-way").
std::string_view to_string(Tls tls);
std::string_view to_string(Auth auth);
std::string_view to_string(Layout layout);
std::string_view to_string(Direction direction);

// 993 for implicit TLS, 143 otherwise (RFC 8314 §7.3 / RFC 3501 §2.1).
std::uint16_t default_port(Tls tls);

// A helper command: its argv (run without a shell) and the text the user wrote,
// for messages. `argv` is empty when the command is not set.
struct Command {
  std::vector<std::string> argv;
  std::string text;

  bool empty() const { return argv.empty(); }
};

// Where the password comes from. At most one source is set per account.
struct PasswordSource {
  enum class Kind { none, command, inline_password, netrc };
  Kind kind = Kind::none;
  Command command;             // Kind::command: first line of its stdout
  std::string secret;          // Kind::inline_password
  std::filesystem::path netrc; // Kind::netrc: the file; empty means ~/.netrc
};

std::string_view to_string(PasswordSource::Kind kind);

struct QuarantinePolicy {
  // Wait before the n-th retry of a quarantined message; the last one repeats.
  std::vector<std::chrono::seconds> backoff{std::chrono::hours(1), std::chrono::hours(4),
                                            std::chrono::hours(24), std::chrono::hours(24 * 7)};
};

struct GuardPolicy {
  // Deletions are held when a run would delete more than this share of a folder
  // *and* more than max_delete_count messages.
  int max_delete_percent = 25;
  int max_delete_count = 10;
};

struct Account {
  std::string name; // [A-Za-z0-9_.-]+
  std::string host;
  std::uint16_t port = 993; // resolved: default_port(tls) unless set
  Tls tls = Tls::implicit;
  bool allow_plaintext = false;
  std::filesystem::path ca_file; // empty: the system store
  std::string fingerprint;       // empty, or 64 lowercase hex digits (SHA-256 of the cert)
  std::string user;
  PasswordSource password;
  Auth auth = Auth::automatic;
  Command oauth2_token_cmd;
  std::string proxy;             // empty, or socks5h://, socks5://, socks4://, http://, https://
  std::string bind_address;      // empty, or the local IPv4/IPv6 address to connect from
  // COMPRESS=DEFLATE (RFC 4978) when the server offers it; unset: see wants_compression().
  std::optional<bool> compress;
  std::filesystem::path maildir; // absolute, ~ expanded
  Layout layout = Layout::fs;
  std::vector<std::string> folders{"*"}; // globs; a leading '!' excludes
  Direction direction = Direction::two_way;
  int max_connections = 4; // 1..16
  Command post_sync_cmd;
  std::chrono::seconds timeout{60}; // connect and read
  QuarantinePolicy quarantine;
  GuardPolicy guard;
};

// Whether to ask for COMPRESS=DEFLATE: `compress` when set; otherwise on, except for a
// server on the loopback interface (localhost, 127.0.0.0/8, ::1), where compressing
// only costs CPU: over loopback it made a 10,000-message first sync five times slower.
bool wants_compression(const Account& account);

struct General {
  std::filesystem::path state_dir; // empty: the XDG default (see core/paths.hpp)
};

struct Config {
  std::filesystem::path source; // the file it was read from
  General general;
  std::vector<Account> accounts; // in file order
  // Problems worth telling the user that do not stop a run (already logged).
  std::vector<std::string> warnings;

  // The account called `name`, or nullptr.
  const Account* find(std::string_view name) const;
};

} // namespace uidsync::core
