// SPDX-License-Identifier: GPL-3.0-or-later
// libFuzzer target for the IMAP response parser (and modified UTF-7 decoding).
// Properties checked beyond "no crash": feeding in pieces gives the same results as
// feeding whole; sink calls are well ordered; a decoded mUTF-7 name re-encodes to
// the same bytes.
#include <uidsync/core/mutf7.hpp>
#include <uidsync/imap/parser.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace uidsync;

class CheckingSink : public imap::BodySink {
public:
  void begin(std::uint32_t, std::string_view, std::uint64_t size) override {
    check(!m_open);
    m_open = true;
    m_expected = size;
    m_received = 0;
  }
  void chunk(std::string_view bytes) override {
    check(m_open);
    m_received += bytes.size();
    check(m_received <= m_expected);
  }
  void finish(const imap::Fetch& fetch) override {
    check(m_open && m_received == m_expected);
    bool streamed = false;
    for (const auto& b : fetch.bodies) {
      streamed = streamed || b.streamed;
    }
    check(streamed);
    m_open = false;
  }
  void abort(std::string_view) override {
    check(m_open);
    m_open = false;
  }

private:
  static void check(bool ok) {
    if (!ok) {
      std::abort();
    }
  }
  bool m_open = false;
  std::uint64_t m_expected = 0;
  std::uint64_t m_received = 0;
};

std::vector<imap::ParseResult> run(std::string_view input, std::size_t step) {
  imap::Limits limits;
  limits.max_line_length = 4096;
  limits.max_literal_size = 1 << 16;
  limits.max_response_size = 1 << 18;
  limits.max_list_depth = 16;
  limits.stream_threshold = 8;
  CheckingSink sink;
  imap::Parser parser(limits, &sink);
  std::vector<imap::ParseResult> out;
  for (std::size_t pos = 0; pos < input.size(); pos += step) {
    parser.feed(input.substr(pos, step));
    while (true) {
      auto r = parser.next();
      if (std::holds_alternative<imap::NeedMore>(r)) {
        break;
      }
      out.push_back(r);
      if (auto* e = std::get_if<imap::ParseError>(&r); e && e->fatal) {
        return out;
      }
      if (auto* resp = std::get_if<imap::Response>(&r)) {
        (void)imap::describe(*resp);
      }
    }
  }
  return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  // The first byte picks the piece size for the second run.
  std::size_t step = 1 + data[0] % 17;
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  auto whole = run(input, input.size() + 1);
  auto pieces = run(input, step);
  if (whole != pieces) {
    std::abort();
  }
  if (input.size() < 256) {
    if (auto decoded = core::mutf7_decode(input)) {
      auto encoded = core::mutf7_encode(*decoded);
      if (!encoded || *encoded != input) {
        std::abort();
      }
    }
  }
  return 0;
}
