// SPDX-License-Identifier: GPL-3.0-or-later
// Maildir file names: parse, make unique, change flags.
#include <uidsync/maildir/name.hpp>

#include <fmt/format.h>

#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>

namespace uidsync::maildir {

namespace {

std::atomic<std::uint64_t> g_counter{0};

std::string escaped_host() {
  std::array<char, 256> buf{};
  if (::gethostname(buf.data(), buf.size() - 1) != 0 || buf[0] == '\0') {
    return "localhost";
  }
  std::string out;
  for (const char* p = buf.data(); *p != '\0'; ++p) {
    switch (*p) {
    case '/':
      out += "\\057";
      break;
    case ':':
      out += "\\072";
      break;
    case ',':
      out += "\\054";
      break;
    default:
      out.push_back(*p);
    }
  }
  return out;
}

bool is_known_letter(char c) {
  return c == 'D' || c == 'F' || c == 'P' || c == 'R' || c == 'S' || c == 'T';
}

} // namespace

std::optional<ParsedName> parse_name(std::string_view file_name) {
  if (file_name.empty() || file_name.front() == '.') {
    return std::nullopt;
  }
  ParsedName out;
  std::string_view head = file_name;
  if (const auto colon = file_name.rfind(':'); colon != std::string_view::npos) {
    const auto info = file_name.substr(colon + 1);
    head = file_name.substr(0, colon);
    if (info.starts_with("2,")) {
      out.has_info = true;
      out.flags = core::Flags::from_maildir(info.substr(2));
      for (const char c : info.substr(2)) {
        if (!is_known_letter(c)) {
          out.other_letters.push_back(c);
        }
      }
    }
  }
  auto comma = head.find(',');
  out.base = std::string(head.substr(0, comma));
  while (comma != std::string_view::npos) {
    head.remove_prefix(comma + 1);
    comma = head.find(',');
    const auto tag = head.substr(0, comma);
    if (tag.starts_with("U=")) {
      std::uint64_t uid = 0;
      const auto digits = tag.substr(2);
      const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), uid);
      if (ec == std::errc{} && end == digits.data() + digits.size() && uid > 0 &&
          uid <= 0xffffffffULL) {
        out.uid = static_cast<core::Uid>(uid);
      }
    } else if (tag.starts_with("FMD5=")) {
      out.fmd5 = std::string(tag.substr(5));
    }
  }
  return out;
}

std::string make_base(std::int64_t secs) {
  static const std::string host = escaped_host();
  timeval tv{};
  ::gettimeofday(&tv, nullptr);
  return fmt::format("{}.P{}Q{}M{}.{}", secs, ::getpid(), ++g_counter, tv.tv_usec, host);
}

std::string format_name(std::string_view base, core::Uid uid, core::Flags flags) {
  if (uid == 0) {
    return fmt::format("{}:2,{}", base, flags.to_maildir());
  }
  return fmt::format("{},U={}:2,{}", base, uid, flags.to_maildir());
}

std::string with_flags(std::string_view file_name, core::Flags flags) {
  std::string letters = flags.to_maildir();
  std::string_view head = file_name;
  if (const auto colon = file_name.rfind(':'); colon != std::string_view::npos) {
    const auto info = file_name.substr(colon + 1);
    if (info.starts_with("2,")) {
      head = file_name.substr(0, colon);
      for (const char c : info.substr(2)) {
        if (!is_known_letter(c) && letters.find(c) == std::string::npos) {
          letters.push_back(c);
        }
      }
    }
  }
  std::sort(letters.begin(), letters.end());
  return fmt::format("{}:2,{}", head, letters);
}

} // namespace uidsync::maildir
