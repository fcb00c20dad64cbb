// SPDX-License-Identifier: GPL-3.0-or-later
// JSON string quoting for --json output.
#include <uidsync/cli/commands.hpp>

#include <array>
#include <cstdio>
#include <string>

namespace uidsync::cli {

std::string json_document_start() {
  return "{\"schema\": " + std::to_string(k_json_schema) + ", ";
}

std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\t':
      out += "\\t";
      break;
    case '\r':
      out += "\\r";
      break;
    default:
      if (static_cast<unsigned char>(c) < 0x20) {
        std::array<char, 8> escaped{};
        std::snprintf(escaped.data(), escaped.size(), "\\u%04x", static_cast<unsigned>(c));
        out += escaped.data();
      } else {
        out.push_back(c);
      }
    }
  }
  return out + "\"";
}

} // namespace uidsync::cli
