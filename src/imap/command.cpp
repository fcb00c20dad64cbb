// SPDX-License-Identifier: GPL-3.0-or-later
// Command builder: argument quoting rules and UID-set command splitting.
#include <uidsync/imap/command.hpp>

#include <uidsync/core/mutf7.hpp>

#include "syntax.hpp"

#include <algorithm>
#include <cctype>

namespace uidsync::imap {

namespace {

using syntax::is_atom_char;
using syntax::upper;

constexpr std::size_t k_literal_minus_max = 4096; // RFC 7888 §5
constexpr std::size_t k_quoted_max = 1024;        // longer strings go as literals

bool quotable(std::string_view s) {
  if (s.size() > k_quoted_max) {
    return false;
  }
  return std::all_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u >= 0x01 && u <= 0x7f && c != '\r' && c != '\n';
  });
}

} // namespace

std::size_t Command::size() const {
  std::size_t n = 0;
  for (const auto& p : parts) {
    n += p.size();
  }
  return n;
}

CommandBuilder::CommandBuilder(std::string_view verb, LiteralMode mode) : m_mode(mode) {
  m_command.name = upper(verb);
  m_command.parts.emplace_back(verb);
}

void CommandBuilder::separate() { m_command.parts.back() += ' '; }

CommandBuilder& CommandBuilder::raw(std::string_view text) {
  separate();
  m_command.parts.back() += text;
  return *this;
}

CommandBuilder& CommandBuilder::number(std::uint64_t n) { return raw(std::to_string(n)); }

CommandBuilder& CommandBuilder::astring(std::string_view s) {
  if (!s.empty() && std::all_of(s.begin(), s.end(), is_atom_char)) {
    return raw(s);
  }
  return string(s);
}

CommandBuilder& CommandBuilder::string(std::string_view s) {
  if (!quotable(s)) {
    return literal(s);
  }
  separate();
  auto& out = m_command.parts.back();
  out += '"';
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  out += '"';
  return *this;
}

CommandBuilder& CommandBuilder::literal(std::string_view s) {
  if (s.find('\0') != std::string_view::npos) {
    m_error = "a command argument contains NUL, which IMAP cannot send without BINARY";
    return *this;
  }
  separate();
  bool non_sync = m_mode == LiteralMode::plus ||
                  (m_mode == LiteralMode::minus && s.size() <= k_literal_minus_max);
  auto& out = m_command.parts.back();
  out += '{' + std::to_string(s.size()) + (non_sync ? "+}\r\n" : "}\r\n");
  if (non_sync) {
    out += s;
  } else {
    m_command.parts.emplace_back(s);
  }
  return *this;
}

CommandBuilder& CommandBuilder::mailbox(std::string_view utf8) {
  if (upper(utf8) == "INBOX") {
    return raw("INBOX");
  }
  auto encoded = core::mutf7_encode(utf8);
  if (!encoded) {
    m_error = encoded.error().message;
    return *this;
  }
  return astring(*encoded);
}

CommandBuilder& CommandBuilder::uid_set(const UidSet& set) { return raw(set.to_string()); }

core::Result<Command> CommandBuilder::build() {
  if (!m_error.empty()) {
    return core::fail(core::Scope::folder, "cannot build " + m_command.name + ": " + m_error,
                      "check the folder name in the configuration");
  }
  m_command.parts.back() += "\r\n";
  return m_command;
}

std::vector<Command> uid_set_commands(std::string_view verb, const UidSet& set,
                                      std::string_view suffix, std::size_t max_line,
                                      std::size_t tag_reserve) {
  // "<tag> <verb> <set> <suffix>\r\n"
  auto fixed = tag_reserve + 1 + verb.size() + 1 + (suffix.empty() ? 0 : suffix.size() + 1) + 2;
  constexpr std::size_t k_widest_range = 21; // "4294967295:4294967295"
  auto budget = max_line > fixed + k_widest_range ? max_line - fixed : k_widest_range;
  std::vector<Command> out;
  for (const auto& piece : set.split(budget)) {
    CommandBuilder b(verb);
    b.uid_set(piece);
    if (!suffix.empty()) {
      b.raw(suffix);
    }
    out.push_back(std::move(b.build().value()));
  }
  return out;
}

} // namespace uidsync::imap
