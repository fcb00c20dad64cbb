// SPDX-License-Identifier: GPL-3.0-or-later
// Escaping control bytes and invalid UTF-8 in text shown on a terminal.
#include <uidsync/util/printable.hpp>

#include <array>
#include <cstddef>
#include <cstdint>

namespace uidsync::util {
namespace {

void escape(std::string& out, unsigned char byte) {
  constexpr std::array<char, 16> k_hex{'0', '1', '2', '3', '4', '5', '6', '7',
                                       '8', '9', 'A', 'B', 'C', 'D', 'E', 'F'};
  out += "\\x";
  out += k_hex[byte >> 4U];
  out += k_hex[byte & 0xFU];
}

// The length of the well-formed UTF-8 sequence starting at `text[at]` (a lead byte
// >= 0x80), or 0 when it is not one (RFC 3629 section 4).
std::size_t sequence_length(std::string_view text, std::size_t at, std::uint32_t& code_point) {
  const auto lead = static_cast<unsigned char>(text[at]);
  std::size_t length = 0;
  std::uint32_t min = 0;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
    min = 0x80;
    code_point = lead & 0x1FU;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    min = 0x800;
    code_point = lead & 0x0FU;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    min = 0x10000;
    code_point = lead & 0x07U;
  } else {
    return 0;
  }
  if (at + length > text.size()) {
    return 0;
  }
  for (std::size_t i = 1; i < length; ++i) {
    const auto c = static_cast<unsigned char>(text[at + i]);
    if ((c & 0xC0U) != 0x80U) {
      return 0;
    }
    code_point = (code_point << 6U) | (c & 0x3FU);
  }
  if (code_point < min || code_point > 0x10FFFF || (code_point >= 0xD800 && code_point <= 0xDFFF)) {
    return 0;
  }
  return length;
}

} // namespace

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      if ((c < 0x20 && c != '\t') || c == 0x7F) {
        escape(out, c);
      } else if (c == '\\' && i + 1 < text.size() && text[i + 1] == 'x') {
        out += "\\\\";
      } else {
        out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    std::uint32_t code_point = 0;
    const std::size_t length = sequence_length(text, i, code_point);
    if (length == 0 || (code_point >= 0x80 && code_point <= 0x9F)) {
      const std::size_t bad = length == 0 ? 1 : length;
      for (std::size_t k = 0; k < bad; ++k) {
        escape(out, static_cast<unsigned char>(text[i + k]));
      }
      i += bad;
      continue;
    }
    out.append(text.substr(i, length));
    i += length;
  }
  return out;
}

} // namespace uidsync::util
