// SPDX-License-Identifier: GPL-3.0-or-later
// Redacted protocol transcript.
#include "syntax.hpp"

#include <uidsync/imap/trace.hpp>

#include <algorithm>
#include <cctype>
#include <optional>

namespace uidsync::imap {

namespace {

// The n-th space-separated word of `line` (0-based), or "".
std::string_view word(std::string_view line, std::size_t n) {
  std::size_t pos = 0;
  for (std::size_t i = 0; i < n; ++i) {
    pos = line.find(' ', pos);
    if (pos == std::string_view::npos) {
      return {};
    }
    ++pos;
  }
  return line.substr(pos, line.find(' ', pos) - pos);
}

// The size of a literal header "{n}", "{n+}" or "~{n}" ending `line`, if any.
std::optional<std::uint64_t> literal_size(std::string_view line) {
  auto header = syntax::literal_at_end(line);
  if (!header || header->overflow) {
    return std::nullopt;
  }
  return header->size;
}

} // namespace

void Trace::emit(Side& side, std::string line) {
  if (side.prefix == 'C') {
    auto verb = syntax::upper(word(line, 1));
    if (!m_auth_tag.empty() && verb != "DONE") {
      line = "<redacted AUTHENTICATE data>";
    } else if (verb == "LOGIN") {
      line = std::string(word(line, 0)) + " LOGIN <redacted>";
    } else if (verb == "AUTHENTICATE") {
      m_auth_tag = std::string(word(line, 0));
      auto mechanism = word(line, 2);
      line = m_auth_tag + " AUTHENTICATE " + std::string(mechanism) +
             (word(line, 3).empty() ? "" : " <redacted>");
    }
  } else if (!m_auth_tag.empty() && word(line, 0) == m_auth_tag) {
    m_auth_tag.clear();
  }
  if (m_lock != nullptr) {
    std::lock_guard guard(*m_lock);
    m_out << m_prefix << side.prefix << ": " << line << '\n';
  } else {
    m_out << m_prefix << side.prefix << ": " << line << '\n';
  }
}

void Trace::feed(Side& side, std::string_view bytes) {
  while (!bytes.empty()) {
    if (side.literal_left > 0) {
      auto n = static_cast<std::size_t>(std::min<std::uint64_t>(side.literal_left, bytes.size()));
      side.literal_left -= n;
      bytes.remove_prefix(n);
      continue;
    }
    auto lf = bytes.find('\n');
    side.line.append(bytes.substr(0, lf));
    if (lf == std::string_view::npos) {
      return;
    }
    bytes.remove_prefix(lf + 1);
    std::string line = std::move(side.line);
    side.line.clear();
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    auto size = literal_size(line);
    if (size && m_auth_tag.empty()) {
      side.literal_left = *size;
      line += " <" + std::to_string(*size) + " bytes>";
    }
    emit(side, std::move(line));
  }
}

} // namespace uidsync::imap
