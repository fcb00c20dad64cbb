// SPDX-License-Identifier: GPL-3.0-or-later
// DeflateTransport: raw DEFLATE both ways over another transport (RFC 4978).
#include <uidsync/net/deflate_transport.hpp>

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <string>

namespace uidsync::net {

namespace {

constexpr std::size_t k_wire_chunk = 64 * 1024;
// Input handed to deflate() per call: zlib counts in uInt.
constexpr std::size_t k_deflate_input = 1024 * 1024;
// RFC 4978 §4: raw DEFLATE, no zlib header; 32 KiB window.
constexpr int k_window_bits = -15;
constexpr int k_mem_level = 8;

std::string zlib_text(const z_stream& z, int rc) {
  if (z.msg != nullptr) {
    return z.msg;
  }
  return "zlib error " + std::to_string(rc);
}

util::Unexpected<core::Error> corrupt(const std::string& why) {
  return core::fail(core::Scope::account, "the server's compressed stream is corrupt: " + why,
                    "the connection is dropped; if this keeps happening, set compress = false "
                    "for this account and report it to the server's operator");
}

} // namespace

struct DeflateTransport::Streams {
  z_stream in{};
  z_stream out{};
  bool in_ready = false;
  bool out_ready = false;

  ~Streams() {
    if (in_ready) {
      inflateEnd(&in);
    }
    if (out_ready) {
      deflateEnd(&out);
    }
  }
};

DeflateTransport::DeflateTransport(std::unique_ptr<Transport> inner)
    : m_inner(std::move(inner)) {}

DeflateTransport::~DeflateTransport() = default;

core::Result<void> DeflateTransport::start() {
  if (m_on) {
    return core::fail(core::Scope::account, "COMPRESS DEFLATE is already active on this connection");
  }
  auto z = std::make_unique<Streams>();
  if (inflateInit2(&z->in, k_window_bits) != Z_OK) {
    return core::fail(core::Scope::account,
                      "cannot start decompression: " + zlib_text(z->in, Z_MEM_ERROR),
                      "the system is out of memory; set compress = false or free memory");
  }
  z->in_ready = true;
  if (deflateInit2(&z->out, Z_DEFAULT_COMPRESSION, Z_DEFLATED, k_window_bits, k_mem_level,
                   Z_DEFAULT_STRATEGY) != Z_OK) {
    return core::fail(core::Scope::account,
                      "cannot start compression: " + zlib_text(z->out, Z_MEM_ERROR),
                      "the system is out of memory; set compress = false or free memory");
  }
  z->out_ready = true;
  m_z = std::move(z);
  m_on = true;
  return {};
}

core::Result<std::size_t> DeflateTransport::read_some(std::span<char> buf) {
  if (!m_on) {
    auto n = m_inner->read_some(buf);
    UIDSYNC_TRY(n);
    m_imap_read += *n;
    return *n;
  }
  if (buf.empty()) {
    return std::size_t{0};
  }
  z_stream& z = m_z->in;
  while (true) {
    if (m_in_used < m_in.size() || m_more) {
      z.next_in = reinterpret_cast<Bytef*>(m_in.data() + m_in_used);
      z.avail_in = static_cast<uInt>(m_in.size() - m_in_used);
      z.next_out = reinterpret_cast<Bytef*>(buf.data());
      z.avail_out = static_cast<uInt>(std::min<std::size_t>(buf.size(), k_deflate_input));
      const uInt room = z.avail_out;
      const std::size_t before = m_in_used;
      const int rc = inflate(&z, Z_SYNC_FLUSH);
      m_in_used = m_in.size() - z.avail_in;
      const std::size_t produced = room - z.avail_out;
      m_more = z.avail_out == 0;
      if (rc == Z_STREAM_END) {
        // RFC 4978 §4: compression lasts as long as the connection.
        return corrupt("it ended (a final DEFLATE block) while the connection is still open");
      }
      if (rc != Z_OK && rc != Z_BUF_ERROR) {
        return corrupt(zlib_text(z, rc));
      }
      m_imap_read += produced;
      if (produced > 0) {
        return produced;
      }
      if (m_in_used < m_in.size()) {
        if (m_in_used == before) {
          // Input left, room to write, and inflate() moved nothing: never spin.
          return corrupt("the decompressor is stuck");
        }
        continue;
      }
    }
    m_in.resize(k_wire_chunk);
    m_in_used = 0;
    auto n = m_inner->read_some(m_in);
    if (!n) {
      m_in.clear();
      return util::unexpected(std::move(n).error());
    }
    m_in.resize(*n);
    if (*n == 0) {
      return std::size_t{0};
    }
  }
}

core::Result<void> DeflateTransport::write_all(std::string_view data,
                                               std::chrono::milliseconds timeout) {
  if (!m_on) {
    UIDSYNC_TRY(m_inner->write_all(data, timeout));
    m_imap_written += data.size();
    return {};
  }
  if (data.empty()) {
    return {};
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  z_stream& z = m_z->out;
  std::array<char, k_wire_chunk> out;
  while (!data.empty()) {
    const std::size_t take = std::min(data.size(), k_deflate_input);
    const int flush = take == data.size() ? Z_SYNC_FLUSH : Z_NO_FLUSH;
    // zlib's API is not const-correct; deflate() only reads next_in.
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = static_cast<uInt>(take);
    do {
      z.next_out = reinterpret_cast<Bytef*>(out.data());
      z.avail_out = static_cast<uInt>(out.size());
      const int rc = deflate(&z, flush);
      if (rc != Z_OK && rc != Z_BUF_ERROR) {
        return core::fail(core::Scope::account, "compressing a command failed: " +
                                                    zlib_text(z, rc));
      }
      const std::size_t have = out.size() - z.avail_out;
      if (have > 0) {
        const auto left = std::max(std::chrono::milliseconds(0),
                                   std::chrono::duration_cast<std::chrono::milliseconds>(
                                       deadline - std::chrono::steady_clock::now()));
        UIDSYNC_TRY(m_inner->write_all(std::string_view(out.data(), have), left));
      }
    } while (z.avail_out == 0 || z.avail_in > 0);
    data.remove_prefix(take);
    m_imap_written += take;
  }
  return {};
}

core::Result<bool> DeflateTransport::wait(WaitFor what, std::chrono::milliseconds timeout) {
  const bool reading = (static_cast<unsigned>(what) & static_cast<unsigned>(WaitFor::read)) != 0;
  if (m_on && reading && (m_more || m_in_used < m_in.size())) {
    return true;
  }
  return m_inner->wait(what, timeout);
}

void DeflateTransport::close() {
  m_inner->close();
}

} // namespace uidsync::net
