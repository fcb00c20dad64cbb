// SPDX-License-Identifier: GPL-3.0-or-later
// Folder name -> Maildir directory, refusing names that could escape the root.
#include <uidsync/maildir/layout.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace uidsync::maildir {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t k_max_component = 255; // NAME_MAX on Linux file systems

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x | 0x20) == (y | 0x20);
         });
}

// Printable form of an untrusted name for error messages: controls as \xNN.
std::string printable(std::string_view name) {
  std::string out;
  for (const char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      out += fmt::format("\\x{:02x}", u);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

} // namespace

bool is_valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if ((c & 0xe0) == 0xc0) {
      len = 2;
      cp = c & 0x1fU;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3;
      cp = c & 0x0fU;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4;
      cp = c & 0x07U;
    } else {
      return false;
    }
    if (i + len > text.size()) {
      return false;
    }
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xc0) != 0x80) {
        return false;
      }
      cp = (cp << 6) | (cc & 0x3fU);
    }
    constexpr std::uint32_t k_min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < k_min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    i += len;
  }
  return true;
}

core::Result<fs::path> folder_path(const fs::path& root, std::string_view name, char separator,
                                   Layout layout) {
  auto refuse = [&](std::string_view why) {
    return core::fail(
        core::Scope::folder,
        fmt::format("folder \"{}\": unsafe name for a local directory: {}", printable(name), why),
        "the folder is skipped; rename it on the server, or exclude it with "
        "`folders = [\"!…\"]` in the account's config");
  };
  if (name.empty()) {
    return refuse("the name is empty");
  }
  if (!is_valid_utf8(name)) {
    return refuse("it is not valid UTF-8");
  }
  for (const char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      return refuse(u == 0 ? "it contains NUL" : "it contains a control character");
    }
  }
  // C1 controls U+0080..U+009F are encoded as C2 80..C2 9F.
  for (std::size_t i = 0; i + 1 < name.size(); ++i) {
    if (static_cast<unsigned char>(name[i]) == 0xc2 &&
        static_cast<unsigned char>(name[i + 1]) >= 0x80 &&
        static_cast<unsigned char>(name[i + 1]) <= 0x9f) {
      return refuse("it contains a control character");
    }
  }

  std::vector<std::string_view> parts;
  if (separator == '\0') {
    parts.push_back(name);
  } else {
    if (name.front() == separator) {
      return refuse("it starts with the hierarchy separator (an absolute path)");
    }
    std::size_t start = 0;
    while (true) {
      const auto pos = name.find(separator, start);
      parts.push_back(name.substr(start, pos == std::string_view::npos ? pos : pos - start));
      if (pos == std::string_view::npos) {
        break;
      }
      start = pos + 1;
    }
  }
  if (name.front() == '/') {
    return refuse("it is an absolute path");
  }
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto part = parts[i];
    if (part.empty()) {
      return refuse("it has an empty component (a doubled or trailing separator)");
    }
    if (part == "." || part == "..") {
      return refuse(fmt::format("it has a \"{}\" component", part));
    }
    if (part.find('/') != std::string_view::npos) {
      return refuse("a component contains '/'");
    }
    if (part.size() > k_max_component) {
      return refuse("a component is longer than 255 bytes");
    }
    if (layout == Layout::fs && i > 0 && (part == "cur" || part == "new" || part == "tmp")) {
      return refuse(
          fmt::format("a sub-folder named \"{}\" would be inside the parent's Maildir", part));
    }
    if (layout == Layout::maildir_plus_plus && part.find('.') != std::string_view::npos) {
      return refuse("a component contains '.', the Maildir++ separator");
    }
  }
  if (iequals(parts[0], "INBOX")) {
    parts[0] = "INBOX";
  }

  fs::path out = root;
  if (layout == Layout::fs) {
    for (const auto part : parts) {
      out /= fs::path(std::string(part));
    }
  } else if (parts.size() == 1 && parts[0] == "INBOX") {
    out /= "INBOX";
  } else {
    std::string joined;
    for (const auto part : parts) {
      joined += '.';
      joined += part;
    }
    if (joined.size() > k_max_component) {
      return refuse("the Maildir++ directory name would be longer than 255 bytes");
    }
    out /= joined;
  }

  // Defence in depth: the result must be strictly below the root.
  const auto norm_root = root.lexically_normal();
  const auto rel = out.lexically_normal().lexically_relative(norm_root);
  if (rel.empty() || rel == "." || *rel.begin() == "..") {
    return refuse("it would resolve outside the Maildir root");
  }
  return out;
}

} // namespace uidsync::maildir
