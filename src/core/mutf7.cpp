// SPDX-License-Identifier: GPL-3.0-or-later
// Modified UTF-7 (RFC 3501 §5.1.3): encode, and strict decode by canonical round trip.
#include <uidsync/core/mutf7.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace uidsync::core {

namespace {

constexpr std::string_view k_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

int base64_value(char c) {
  auto pos = k_alphabet.find(c);
  return pos == std::string_view::npos ? -1 : static_cast<int>(pos);
}

bool is_printable(unsigned char c) { return c >= 0x20 && c <= 0x7e; }

util::Unexpected<Error> bad_name(std::string_view name, std::size_t offset, std::string_view why) {
  return fail(Scope::folder,
              "mailbox name \"" + std::string(name) + "\" is not valid modified UTF-7 at byte " +
                  std::to_string(offset) + ": " + std::string(why),
              "the server sent a malformed name (RFC 3501 §5.1.3); rename the folder on the server");
}

// Decodes one UTF-8 code point at `pos`, advancing it. Returns -1 if invalid.
std::int32_t next_code_point(std::string_view s, std::size_t& pos) {
  auto lead = static_cast<unsigned char>(s[pos]);
  std::size_t len = 0;
  std::int32_t cp = 0;
  if (lead < 0x80) {
    ++pos;
    return lead;
  }
  if ((lead & 0xe0) == 0xc0) {
    len = 2;
    cp = lead & 0x1f;
  } else if ((lead & 0xf0) == 0xe0) {
    len = 3;
    cp = lead & 0x0f;
  } else if ((lead & 0xf8) == 0xf0) {
    len = 4;
    cp = lead & 0x07;
  } else {
    return -1;
  }
  if (pos + len > s.size()) {
    return -1;
  }
  for (std::size_t i = 1; i < len; ++i) {
    auto c = static_cast<unsigned char>(s[pos + i]);
    if ((c & 0xc0) != 0x80) {
      return -1;
    }
    cp = (cp << 6) | (c & 0x3f);
  }
  // Reject overlong forms, surrogates and values beyond U+10FFFF.
  static constexpr std::int32_t k_min[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < k_min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
    return -1;
  }
  pos += len;
  return cp;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

void flush_base64(std::string& out, std::vector<std::uint16_t>& units) {
  if (units.empty()) {
    return;
  }
  out += '&';
  std::uint32_t bits = 0;
  int nbits = 0;
  for (auto unit : units) {
    bits = (bits << 16) | unit;
    nbits += 16;
    while (nbits >= 6) {
      nbits -= 6;
      out += k_alphabet[(bits >> nbits) & 0x3f];
    }
    bits &= (1u << nbits) - 1;
  }
  if (nbits > 0) {
    out += k_alphabet[(bits << (6 - nbits)) & 0x3f];
  }
  out += '-';
  units.clear();
}

} // namespace

Result<std::string> mutf7_encode(std::string_view utf8) {
  std::string out;
  std::vector<std::uint16_t> units;
  std::size_t pos = 0;
  while (pos < utf8.size()) {
    std::size_t start = pos;
    std::int32_t cp = next_code_point(utf8, pos);
    if (cp <= 0) {
      return fail(Scope::folder,
                  "mailbox name is not valid UTF-8 at byte " + std::to_string(start),
                  "use a UTF-8 folder name without NUL");
    }
    if (is_printable(static_cast<unsigned char>(cp < 0x80 ? cp : 0))) {
      flush_base64(out, units);
      out += static_cast<char>(cp);
      if (cp == '&') {
        out += '-';
      }
      continue;
    }
    if (cp >= 0x10000) {
      auto v = static_cast<std::uint32_t>(cp - 0x10000);
      units.push_back(static_cast<std::uint16_t>(0xd800 | (v >> 10)));
      units.push_back(static_cast<std::uint16_t>(0xdc00 | (v & 0x3ff)));
    } else {
      units.push_back(static_cast<std::uint16_t>(cp));
    }
  }
  flush_base64(out, units);
  return out;
}

Result<std::string> mutf7_decode(std::string_view mutf7) {
  std::string out;
  std::size_t pos = 0;
  while (pos < mutf7.size()) {
    auto c = static_cast<unsigned char>(mutf7[pos]);
    if (!is_printable(c)) {
      return bad_name(mutf7, pos, "raw byte outside printable US-ASCII");
    }
    if (c != '&') {
      out += static_cast<char>(c);
      ++pos;
      continue;
    }
    std::size_t start = pos++;
    if (pos < mutf7.size() && mutf7[pos] == '-') {
      out += '&';
      ++pos;
      continue;
    }
    std::uint32_t bits = 0;
    int nbits = 0;
    std::uint32_t high = 0; // pending high surrogate
    bool any = false;
    while (true) {
      if (pos >= mutf7.size()) {
        return bad_name(mutf7, start, "unterminated base64 run (missing '-')");
      }
      char b = mutf7[pos];
      if (b == '-') {
        ++pos;
        break;
      }
      int v = base64_value(b);
      if (v < 0) {
        return bad_name(mutf7, pos, "invalid modified base64 character");
      }
      ++pos;
      bits = (bits << 6) | static_cast<std::uint32_t>(v);
      nbits += 6;
      if (nbits >= 16) {
        nbits -= 16;
        auto unit = static_cast<std::uint16_t>((bits >> nbits) & 0xffff);
        bits &= (1u << nbits) - 1;
        any = true;
        if (high != 0) {
          if (unit < 0xdc00 || unit > 0xdfff) {
            return bad_name(mutf7, pos, "unpaired UTF-16 high surrogate");
          }
          append_utf8(out, 0x10000 + ((high - 0xd800) << 10) + (unit - 0xdc00u));
          high = 0;
        } else if (unit >= 0xd800 && unit <= 0xdbff) {
          high = unit;
        } else if (unit >= 0xdc00 && unit <= 0xdfff) {
          return bad_name(mutf7, pos, "unpaired UTF-16 low surrogate");
        } else if (unit < 0x80 && is_printable(static_cast<unsigned char>(unit))) {
          return bad_name(mutf7, pos, "printable US-ASCII hidden in base64");
        } else if (unit == 0) {
          return bad_name(mutf7, pos, "NUL in base64");
        } else {
          append_utf8(out, unit);
        }
      }
    }
    if (!any || high != 0 || nbits >= 6 || bits != 0) {
      return bad_name(mutf7, start, "incomplete UTF-16 in base64 run");
    }
  }
  // Canonical form only: two adjacent runs or other variants decode, but re-encode
  // differently. Accepting them would give one folder two names.
  auto again = mutf7_encode(out);
  if (!again || *again != mutf7) {
    return bad_name(mutf7, 0, "not in canonical form");
  }
  return out;
}

} // namespace uidsync::core
