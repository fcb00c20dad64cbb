// SPDX-License-Identifier: GPL-3.0-or-later
// The content index of one message: size, SHA-256 digest and Message-ID, computed
// while the body streams past (delivery) or from a file (adoption, DB rebuild).
#pragma once

#include <uidsync/core/error.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace uidsync::maildir {

struct ContentInfo {
  std::uint64_t size = 0;
  std::string digest;     // lowercase hex SHA-256 of the raw message
  std::string message_id; // "<…>" from the Message-ID header; empty if none
  bool operator==(const ContentInfo&) const = default;
};

// Feeds chunks of one raw message; keeps only the header (up to 256 KiB) in memory.
class ContentHasher {
public:
  ContentHasher();
  ~ContentHasher();
  ContentHasher(ContentHasher&&) noexcept;
  ContentHasher& operator=(ContentHasher&&) noexcept;
  ContentHasher(const ContentHasher&) = delete;
  ContentHasher& operator=(const ContentHasher&) = delete;

  void update(std::string_view chunk);
  // The result; the hasher is spent afterwards.
  ContentInfo finish();

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

// The Message-ID of a header block (unfolded, field name case-insensitive): the
// first "<…>" in its value, or the trimmed value if it has no brackets.
std::string extract_message_id(std::string_view header);

// Reads the file at `path`. Fails with Scope::message naming the file.
core::Result<ContentInfo> content_of(const std::filesystem::path& path);

} // namespace uidsync::maildir
