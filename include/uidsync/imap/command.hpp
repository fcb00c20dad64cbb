// SPDX-License-Identifier: GPL-3.0-or-later
// Command builder: turns arguments into IMAP command text, choosing atom, quoted
// string or literal for each (RFC 3501 §4), with LITERAL+/LITERAL- (RFC 7888) when
// the server advertises them, and modified UTF-7 for mailbox names.
#pragma once

#include <uidsync/core/error.hpp>
#include <uidsync/imap/uid_set.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace uidsync::imap {

// How literals may be sent (RFC 7888): `synchronizing` waits for "+" before each
// literal; `plus` (LITERAL+) never waits; `minus` (LITERAL-) does not wait for
// literals up to 4096 bytes.
enum class LiteralMode { synchronizing, plus, minus };

// A command without its tag. `parts[0]` is sent first (after "<tag> "); each later
// part is sent only after the server's continuation request. The last part ends
// with CRLF.
struct Command {
  std::string name;                // upper-cased verb, e.g. "UID FETCH", for logs
  std::vector<std::string> parts;
  bool operator==(const Command&) const = default;

  // Total bytes (all parts, without tag).
  std::size_t size() const;
};

class CommandBuilder {
public:
  // `verb` is written verbatim ("UID FETCH", "SELECT").
  explicit CommandBuilder(std::string_view verb, LiteralMode mode = LiteralMode::synchronizing);

  // Verbatim text as one argument, e.g. "(UID FLAGS)" or "1:*". The caller vouches
  // that it is valid IMAP syntax.
  CommandBuilder& raw(std::string_view text);
  CommandBuilder& number(std::uint64_t n);
  // An atom when `s` is a non-empty atom, otherwise a string.
  CommandBuilder& astring(std::string_view s);
  // A quoted string when `s` is short 7-bit text without CR/LF/NUL, otherwise a literal.
  CommandBuilder& string(std::string_view s);
  // Always a literal (APPEND's message).
  CommandBuilder& literal(std::string_view s);
  // A mailbox name given in UTF-8: "INBOX" in any case stays INBOX, anything else is
  // encoded to modified UTF-7, then written as an astring. An invalid name makes
  // build() fail.
  CommandBuilder& mailbox(std::string_view utf8);
  CommandBuilder& uid_set(const UidSet& set);

  // The command. Fails (Scope::folder) if a mailbox name was invalid or a string
  // contains NUL (not representable without the BINARY extension).
  core::Result<Command> build();

private:
  void separate();

  LiteralMode m_mode;
  Command m_command;
  std::string m_error;
};

// Command lines above this length are refused by Exchange/Office 365 ("BAD Command
// Error. 10", nextcloud/mail#6038), and RFC 7162 §4 recommends 8192 as the client's limit.
constexpr std::size_t k_max_command_line = 8192;

// Builds "<verb> <set> <suffix>" commands (e.g. verb "UID FETCH", suffix
// "(UID FLAGS)") covering `set` in ascending order, cutting the set so that every
// command line, tag of up to `tag_reserve` bytes and CRLF included, is at most
// `max_line` bytes. An empty set gives no command.
std::vector<Command> uid_set_commands(std::string_view verb, const UidSet& set,
                                      std::string_view suffix,
                                      std::size_t max_line = k_max_command_line,
                                      std::size_t tag_reserve = 32);

} // namespace uidsync::imap
