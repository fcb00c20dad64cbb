// SPDX-License-Identifier: GPL-3.0-or-later
// Line redaction: a tiny IMAP tokenizer (tag, command, astrings) plus token patterns.
#include <uidsync/util/redact.hpp>

#include <algorithm>
#include <cctype>
#include <optional>

namespace uidsync::util {

namespace {

char lower(char c) {
  return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

std::size_t ifind(std::string_view hay, std::string_view needle, std::size_t from) {
  if (needle.size() > hay.size()) {
    return std::string_view::npos;
  }
  for (std::size_t i = from; i + needle.size() <= hay.size(); ++i) {
    if (iequals(hay.substr(i, needle.size()), needle)) {
      return i;
    }
  }
  return std::string_view::npos;
}

bool is_space(char c) {
  return c == ' ' || c == '\t';
}

std::size_t skip_spaces(std::string_view s, std::size_t pos) {
  while (pos < s.size() && is_space(s[pos])) {
    ++pos;
  }
  return pos;
}

std::size_t word_end(std::string_view s, std::size_t pos) {
  while (pos < s.size() && !is_space(s[pos])) {
    ++pos;
  }
  return pos;
}

// True when `s` ends in an IMAP literal announcement: {N}, {N+} or {N-}.
bool ends_with_literal(std::string_view s) {
  while (!s.empty() && is_space(s.back())) {
    s.remove_suffix(1);
  }
  if (s.empty() || s.back() != '}') {
    return false;
  }
  const auto open = s.rfind('{');
  if (open == std::string_view::npos) {
    return false;
  }
  std::string_view inner = s.substr(open + 1, s.size() - open - 2);
  if (!inner.empty() && (inner.back() == '+' || inner.back() == '-')) {
    inner.remove_suffix(1);
  }
  return !inner.empty() &&
         std::all_of(inner.begin(), inner.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// End of the astring starting at `pos`: an atom, a quoted string (with \" and
// \\ escapes), or nullopt for a literal (its data is not on this line).
std::optional<std::size_t> astring_end(std::string_view s, std::size_t pos) {
  if (pos < s.size() && s[pos] == '{') {
    return std::nullopt;
  }
  if (pos < s.size() && s[pos] == '"') {
    for (std::size_t i = pos + 1; i < s.size(); ++i) {
      if (s[i] == '\\') {
        ++i;
      } else if (s[i] == '"') {
        return i + 1;
      }
    }
    return s.size();
  }
  return word_end(s, pos);
}

struct Command {
  std::string_view tag;
  std::string_view name;
  std::size_t args = 0; // offset of the first argument
};

std::optional<Command> parse_command(std::string_view line) {
  const std::size_t tag_begin = skip_spaces(line, 0);
  const std::size_t tag_end = word_end(line, tag_begin);
  const std::size_t name_begin = skip_spaces(line, tag_end);
  const std::size_t name_end = word_end(line, name_begin);
  if (tag_end == tag_begin || name_end == name_begin) {
    return std::nullopt;
  }
  return Command{line.substr(tag_begin, tag_end - tag_begin),
                 line.substr(name_begin, name_end - name_begin), skip_spaces(line, name_end)};
}

std::string masked_from(std::string_view line, std::size_t pos) {
  if (pos >= line.size()) {
    return std::string(line);
  }
  return std::string(line.substr(0, pos)) + std::string(k_mask);
}

std::string redact_command(std::string_view line) {
  const auto cmd = parse_command(line);
  if (!cmd) {
    return std::string(line);
  }
  if (iequals(cmd->name, "LOGIN")) {
    const auto user_end = astring_end(line, cmd->args);
    if (!user_end) {
      return masked_from(line, cmd->args);
    }
    return masked_from(line, skip_spaces(line, *user_end));
  }
  if (iequals(cmd->name, "AUTHENTICATE")) {
    const std::size_t mech_end = word_end(line, cmd->args);
    return masked_from(line, skip_spaces(line, mech_end));
  }
  return std::string(line);
}

// Masks the word after every case-insensitive occurrence of `keyword`; the word
// ends at a blank, a quote, a comma or a ^A (the XOAUTH2 separator).
std::string mask_after(std::string line, std::string_view keyword) {
  std::size_t pos = 0;
  while ((pos = ifind(line, keyword, pos)) != std::string::npos) {
    std::size_t start = pos + keyword.size();
    std::size_t end = start;
    while (end < line.size() && !is_space(line[end]) && line[end] != '"' && line[end] != ',' &&
           line[end] != '\x01' && line[end] != '&' && line[end] != '}') {
      ++end;
    }
    if (end > start && line.compare(start, end - start, k_mask) != 0) {
      line.replace(start, end - start, k_mask);
      end = start + k_mask.size();
    }
    pos = end;
  }
  return line;
}

// Masks the value of "key": "value" (JSON) and key=value (form encoding).
std::string mask_field(std::string line, std::string_view key) {
  std::size_t pos = 0;
  while ((pos = ifind(line, key, pos)) != std::string::npos) {
    std::size_t i = pos + key.size();
    if (i < line.size() && line[i] == '"') {
      ++i;
    }
    i = skip_spaces(line, i);
    if (i >= line.size() || (line[i] != ':' && line[i] != '=')) {
      pos = i;
      continue;
    }
    i = skip_spaces(line, i + 1);
    const bool quoted = i < line.size() && line[i] == '"';
    const std::size_t start = quoted ? i + 1 : i;
    std::size_t end = start;
    while (end < line.size() &&
           (quoted ? line[end] != '"' : (!is_space(line[end]) && line[end] != '&'))) {
      ++end;
    }
    if (end > start) {
      line.replace(start, end - start, k_mask);
      end = start + k_mask.size();
    }
    pos = end;
  }
  return line;
}

} // namespace

std::string redact_line(std::string_view line) {
  std::string out = redact_command(line);
  out = mask_after(std::move(out), "bearer ");
  out = mask_field(std::move(out), "access_token");
  out = mask_field(std::move(out), "refresh_token");
  return out;
}

std::string Redactor::client(std::string_view line) {
  if (m_secret_literal_next) {
    // Literal data of a LOGIN: it may itself end in the next literal.
    m_secret_literal_next = ends_with_literal(line);
    return std::string(k_mask);
  }
  if (!m_auth_tag.empty()) {
    // RFC 3501 §6.2.2: "*" cancels the exchange and is no secret.
    if (line == "*") {
      return std::string(line);
    }
    return std::string(k_mask);
  }
  if (const auto cmd = parse_command(line)) {
    if (iequals(cmd->name, "AUTHENTICATE")) {
      m_auth_tag = std::string(cmd->tag);
    } else if (iequals(cmd->name, "LOGIN")) {
      m_secret_literal_next = ends_with_literal(line);
    }
  }
  return redact_line(line);
}

std::string Redactor::server(std::string_view line) {
  if (!m_auth_tag.empty()) {
    const auto cmd = parse_command(line);
    if (cmd && cmd->tag == m_auth_tag) {
      m_auth_tag.clear();
    }
  }
  return redact_line(line);
}

} // namespace uidsync::util
