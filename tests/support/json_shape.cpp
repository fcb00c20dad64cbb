// SPDX-License-Identifier: GPL-3.0-or-later
// A small JSON reader that records the shape of a document, and the check of that
// shape against the field tables of docs/json.md.
#include "support/json_shape.hpp"

#include "support/temp_dir.hpp"

#include <sstream>
#include <stdexcept>

namespace uidsync::test {

namespace {

class ShapeReader {
public:
  explicit ShapeReader(std::string_view text) : m_text(text) {}

  JsonShape read() {
    value("");
    skip_space();
    if (m_pos != m_text.size()) {
      fail("text after the document");
    }
    return std::move(m_shape);
  }

private:
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("JSON: " + what + " at byte " + std::to_string(m_pos));
  }

  void skip_space() {
    while (m_pos < m_text.size() && (m_text[m_pos] == ' ' || m_text[m_pos] == '\n' ||
                                     m_text[m_pos] == '\r' || m_text[m_pos] == '\t')) {
      ++m_pos;
    }
  }

  char peek() {
    skip_space();
    if (m_pos == m_text.size()) {
      fail("unexpected end");
    }
    return m_text[m_pos];
  }

  void expect(char c) {
    if (peek() != c) {
      fail(std::string("expected '") + c + "'");
    }
    ++m_pos;
  }

  void record(const std::string& path, const char* type) {
    if (!path.empty()) {
      m_shape[path].insert(type);
    }
  }

  void literal(std::string_view word) {
    if (m_text.substr(m_pos, word.size()) != word) {
      fail("unknown literal");
    }
    m_pos += word.size();
  }

  std::string string() {
    expect('"');
    std::string out;
    while (true) {
      if (m_pos >= m_text.size()) {
        fail("unterminated string");
      }
      const char c = m_text[m_pos++];
      if (c == '"') {
        return out;
      }
      if (static_cast<unsigned char>(c) < 0x20) {
        fail("control character in a string");
      }
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (m_pos >= m_text.size()) {
        fail("unterminated escape");
      }
      const char e = m_text[m_pos++];
      if (e == 'u') {
        if (m_pos + 4 > m_text.size()) {
          fail("short \\u escape");
        }
        out += '?'; // the shape does not need the character
        m_pos += 4;
      } else if (std::string_view("\"\\/bfnrt").find(e) != std::string_view::npos) {
        out.push_back(e);
      } else {
        fail("bad escape");
      }
    }
  }

  void number() {
    const std::size_t start = m_pos;
    if (m_text[m_pos] == '-') {
      ++m_pos;
    }
    while (m_pos < m_text.size() &&
           std::string_view("0123456789.eE+-").find(m_text[m_pos]) != std::string_view::npos) {
      ++m_pos;
    }
    if (m_pos == start || (m_pos == start + 1 && m_text[start] == '-')) {
      fail("bad number");
    }
  }

  void value(const std::string& path) {
    const char c = peek();
    if (c == '{') {
      record(path, "object");
      ++m_pos;
      if (peek() == '}') {
        ++m_pos;
        return;
      }
      while (true) {
        const std::string key = string();
        expect(':');
        value(path.empty() ? key : path + "." + key);
        if (peek() == ',') {
          ++m_pos;
          continue;
        }
        expect('}');
        return;
      }
    }
    if (c == '[') {
      record(path, "array");
      ++m_pos;
      if (peek() == ']') {
        ++m_pos;
        return;
      }
      while (true) {
        value(path + "[]");
        if (peek() == ',') {
          ++m_pos;
          continue;
        }
        expect(']');
        return;
      }
    }
    if (c == '"') {
      string();
      record(path, "string");
    } else if (c == 't') {
      literal("true");
      record(path, "boolean");
    } else if (c == 'f') {
      literal("false");
      record(path, "boolean");
    } else if (c == 'n') {
      literal("null");
      record(path, "null");
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      number();
      record(path, "number");
    } else {
      fail("unexpected character");
    }
  }

  std::string_view m_text;
  std::size_t m_pos = 0;
  JsonShape m_shape;
};

std::string trim(std::string_view text) {
  const auto first = text.find_first_not_of(' ');
  if (first == std::string_view::npos) {
    return {};
  }
  const auto last = text.find_last_not_of(' ');
  return std::string(text.substr(first, last - first + 1));
}

// Whether every array on the way to `path` (and `path` itself, for an element
// path) had elements in `shape`.
bool arrays_had_elements(const std::string& path, const JsonShape& shape) {
  for (auto end = path.find("[]"); end != std::string::npos; end = path.find("[]", end + 2)) {
    if (shape.count(path.substr(0, end + 2)) == 0) {
      return false;
    }
  }
  return true;
}

} // namespace

JsonShape json_shape(std::string_view text) {
  return ShapeReader(text).read();
}

std::map<std::string, std::string> documented_fields(const std::filesystem::path& doc,
                                                     std::string_view heading) {
  std::istringstream in(read_file(doc));
  std::map<std::string, std::string> out;
  bool inside = false;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("## ", 0) == 0) {
      if (inside) {
        break;
      }
      inside = line.find(heading) != std::string::npos;
      continue;
    }
    if (!inside || line.rfind("| `", 0) != 0) {
      continue;
    }
    const auto path_end = line.find('`', 3);
    const auto type_end = line.find('|', path_end);
    if (path_end == std::string::npos || type_end == std::string::npos) {
      throw std::runtime_error(doc.string() + ": bad table row: " + line);
    }
    const auto type_start = line.find('|', path_end) + 1;
    const auto type_stop = line.find('|', type_start);
    out[line.substr(3, path_end - 3)] = trim(line.substr(type_start, type_stop - type_start));
  }
  if (out.empty()) {
    throw std::runtime_error(doc.string() + ": no field table under a heading with '" +
                             std::string(heading) + "'");
  }
  return out;
}

std::vector<std::string> shape_differences(const std::map<std::string, std::string>& documented,
                                           const JsonShape& shape) {
  std::vector<std::string> out;
  for (const auto& [path, types] : shape) {
    const auto doc = documented.find(path);
    if (doc == documented.end()) {
      out.push_back("undocumented field `" + path + "`");
      continue;
    }
    for (const auto& type : types) {
      if (doc->second.find(type) == std::string::npos) {
        out.push_back("`" + path + "` is " + type + ", documented as " + doc->second);
      }
    }
  }
  for (const auto& [path, type] : documented) {
    if (shape.count(path) == 0 && arrays_had_elements(path, shape)) {
      out.push_back("documented field `" + path + "` (" + type + ") is missing");
    }
  }
  return out;
}

} // namespace uidsync::test
