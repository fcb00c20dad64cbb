// SPDX-License-Identifier: GPL-3.0-or-later
// Small IMAP syntax helpers shared by the parser, the command builder and the trace.
// Internal to the imap layer.
#pragma once

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace uidsync::imap::syntax {

inline std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

// RFC 3501 ATOM-CHAR: anything but atom-specials "(){ %*\"\\]" and CTL/SP.
inline bool is_atom_char(char c) {
  auto u = static_cast<unsigned char>(c);
  if (u <= 0x20 || u >= 0x7f) {
    return false;
  }
  return std::string_view("(){%*\"\\]").find(c) == std::string_view::npos;
}

// Parses the decimal `digits` with overflow check. nullopt if empty, not digits,
// or larger than 2^64-1.
inline std::optional<std::uint64_t> parse_u64(std::string_view digits) {
  if (digits.empty() || digits.size() > 20) {
    return std::nullopt;
  }
  std::uint64_t v = 0;
  for (char c : digits) {
    if (!is_digit(c)) {
      return std::nullopt;
    }
    auto d = static_cast<std::uint64_t>(c - '0');
    if (v > (std::numeric_limits<std::uint64_t>::max() - d) / 10) {
      return std::nullopt;
    }
    v = v * 10 + d;
  }
  return v;
}

struct LiteralHeader {
  std::size_t start = 0;  // offset of '~' or '{' in the line
  std::uint64_t size = 0;
  bool overflow = false;  // digits present but too many for 64 bits
};

// Finds a literal header "{n}", "{n+}" or "~{n}" at the end of `line` (line
// terminator already removed).
inline std::optional<LiteralHeader> literal_at_end(std::string_view line) {
  if (line.empty() || line.back() != '}') {
    return std::nullopt;
  }
  auto open = line.rfind('{');
  if (open == std::string_view::npos) {
    return std::nullopt;
  }
  auto digits = line.substr(open + 1, line.size() - open - 2);
  if (!digits.empty() && digits.back() == '+') {
    digits.remove_suffix(1);
  }
  if (digits.empty() || !std::all_of(digits.begin(), digits.end(), is_digit)) {
    return std::nullopt;
  }
  LiteralHeader h;
  h.start = (open > 0 && line[open - 1] == '~') ? open - 1 : open;
  auto v = parse_u64(digits);
  h.overflow = !v;
  h.size = v.value_or(0);
  return h;
}

} // namespace uidsync::imap::syntax
