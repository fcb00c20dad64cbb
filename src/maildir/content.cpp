// SPDX-License-Identifier: GPL-3.0-or-later
// Content index: size, SHA-256 (OpenSSL EVP) and Message-ID of a raw message.
#include <uidsync/maildir/content.hpp>

#include <fmt/format.h>
#include <openssl/evp.h>

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace uidsync::maildir {

namespace {
constexpr std::size_t k_max_header = 256 * 1024;

bool iequals_prefix(std::string_view line, std::string_view prefix) {
  if (line.size() < prefix.size()) {
    return false;
  }
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if ((line[i] | 0x20) != (prefix[i] | 0x20)) {
      return false;
    }
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}
} // namespace

struct ContentHasher::Impl {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::uint64_t size = 0;
  std::string header;
  bool header_done = false;

  Impl() { EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr); }
  ~Impl() { EVP_MD_CTX_free(ctx); }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
};

ContentHasher::ContentHasher() : m_impl(std::make_unique<Impl>()) {}
ContentHasher::~ContentHasher() = default;
ContentHasher::ContentHasher(ContentHasher&&) noexcept = default;
ContentHasher& ContentHasher::operator=(ContentHasher&&) noexcept = default;

void ContentHasher::update(std::string_view chunk) {
  EVP_DigestUpdate(m_impl->ctx, chunk.data(), chunk.size());
  m_impl->size += chunk.size();
  if (!m_impl->header_done) {
    const auto room = k_max_header - m_impl->header.size();
    m_impl->header.append(chunk.substr(0, room));
    const auto& h = m_impl->header;
    if (h.find("\n\n") != std::string::npos || h.find("\r\n\r\n") != std::string::npos ||
        h.size() >= k_max_header) {
      m_impl->header_done = true;
    }
  }
}

ContentInfo ContentHasher::finish() {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(m_impl->ctx, md.data(), &len);
  ContentInfo info;
  info.size = m_impl->size;
  info.digest.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    info.digest += fmt::format("{:02x}", md[i]);
  }
  info.message_id = extract_message_id(m_impl->header);
  return info;
}

std::string extract_message_id(std::string_view header) {
  // Cut at the end of the header block.
  for (const std::string_view end : {std::string_view("\r\n\r\n"), std::string_view("\n\n")}) {
    if (const auto pos = header.find(end); pos != std::string_view::npos) {
      header = header.substr(0, pos + 1);
    }
  }
  std::size_t pos = 0;
  while (pos < header.size()) {
    auto eol = header.find('\n', pos);
    if (eol == std::string_view::npos) {
      eol = header.size();
    }
    const auto line = header.substr(pos, eol - pos);
    pos = eol + 1;
    if (!iequals_prefix(line, "message-id:")) {
      continue;
    }
    std::string value(line.substr(11));
    // Unfold continuation lines (RFC 5322 §2.2.3).
    while (pos < header.size() && (header[pos] == ' ' || header[pos] == '\t')) {
      auto next = header.find('\n', pos);
      if (next == std::string_view::npos) {
        next = header.size();
      }
      value += header.substr(pos, next - pos);
      pos = next + 1;
    }
    const auto lt = value.find('<');
    const auto gt = lt == std::string::npos ? std::string::npos : value.find('>', lt);
    if (gt != std::string::npos) {
      return value.substr(lt, gt - lt + 1);
    }
    return std::string(trim(value));
  }
  return {};
}

core::Result<ContentInfo> content_of(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return core::fail(core::Scope::message,
                      fmt::format("cannot read {}: {}", path.string(), std::strerror(errno)),
                      "check the file's permissions");
  }
  ContentHasher hasher;
  std::array<char, 64 * 1024> buf{};
  while (true) {
    const auto n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return core::fail(core::Scope::message,
                        fmt::format("cannot read {}: {}", path.string(), std::strerror(err)),
                        "check the disk");
    }
    if (n == 0) {
      break;
    }
    hasher.update(std::string_view(buf.data(), static_cast<std::size_t>(n)));
  }
  ::close(fd);
  return hasher.finish();
}

} // namespace uidsync::maildir
