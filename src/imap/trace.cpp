// SPDX-License-Identifier: GPL-3.0-or-later
// Redacted protocol transcript.
#include <uidsync/imap/trace.hpp>

#include <algorithm>
#include <cctype>
#include <optional>

namespace uidsync::imap {

namespace {

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

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
  if (digits.empty() || digits.size() > 19 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  return std::stoull(std::string(digits));
}

} // namespace

void Trace::emit(Side& side, std::string line) {
  if (side.prefix == 'C') {
    auto verb = upper(word(line, 1));
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
  m_out << side.prefix << ": " << line << '\n';
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
