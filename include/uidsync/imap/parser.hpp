// SPDX-License-Identifier: GPL-3.0-or-later
// Parser: incremental IMAP response parser. Fed bytes, it hands out complete typed
// responses, "need more", or a parse error with its position. It never blocks,
// never trusts a size (limits are checked before allocating) and streams large
// BODY[]/BINARY[] literals to a sink so memory does not grow with message size.
//
// Two levels: the framer assembles one response (its lines and literals) from the
// byte stream; token functions then turn the assembled response into a Response.
#pragma once

#include <uidsync/imap/response.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <optional>
#include <variant>
#include <vector>

namespace uidsync::imap {

// Every limit is named in the error that trips it ("max_literal_size").
struct Limits {
  std::size_t max_line_length = 64 * 1024;        // bytes of one line, literals excluded
  std::uint64_t max_literal_size = 16 * 1024 * 1024; // a literal held in memory
  std::uint64_t max_streamed_literal_size = 4ull << 30; // a literal sent to the sink
  std::size_t max_list_depth = 32;                // nesting of parenthesised lists
  std::size_t max_response_size = 64 * 1024 * 1024; // one response held in memory
  // BODY[]/BINARY[] literals larger than this go to the sink (if there is one).
  std::uint64_t stream_threshold = 64 * 1024;
};

// Receives the large BODY[]/BINARY[] literals of untagged FETCH responses.
// Call order per literal: begin, chunk (zero or more times), then finish once the
// whole FETCH is parsed (the UID may come after the literal in the item list).
// If the FETCH turns out malformed, abort is called instead of finish. The parser
// does not own the sink; it must outlive the parser. Exceptions propagate out of
// Parser::next().
class BodySink {
public:
  virtual ~BodySink() = default;
  // `seq` is the message sequence number, `section` e.g. "BODY[]", `size` the literal size.
  virtual void begin(std::uint32_t seq, std::string_view section, std::uint64_t size) = 0;
  virtual void chunk(std::string_view bytes) = 0;
  // `fetch` is the complete FETCH; the streamed item has `streamed == true`.
  virtual void finish(const Fetch& fetch) = 0;
  virtual void abort(std::string_view reason) = 0;
};

struct NeedMore {
  std::size_t at_least = 1; // bytes needed before another result is possible (a hint)
  bool operator==(const NeedMore&) const = default;
};

struct ParseError {
  std::string message;  // what is wrong, with the limit name when a limit tripped
  std::uint64_t offset = 0; // byte offset in the stream where the bad response starts
  std::size_t column = 0;   // offset inside that response
  bool fatal = false;       // true: the stream cannot be resynchronised (limit, framing)
  bool operator==(const ParseError&) const = default;
};

using ParseResult = std::variant<NeedMore, Response, ParseError>;

class Parser {
public:
  explicit Parser(Limits limits = {}, BodySink* sink = nullptr);

  // Appends bytes from the server. Bytes are consumed by next(); a streamed literal
  // is passed to the sink in pieces as large as what was fed.
  void feed(std::string_view bytes);

  // The next event. NeedMore when the buffered bytes do not hold a full response.
  // A non-fatal ParseError skips the bad response and parsing continues with the
  // next one; after a fatal one, next() keeps returning it.
  ParseResult next();

  // Sets or clears the sink for later literals.
  void set_sink(BodySink* sink) { m_sink = sink; }
  const Limits& limits() const { return m_limits; }
  // Bytes fed and not consumed yet (bounded by the limits).
  std::size_t buffered() const { return m_in.size() - m_in_pos + m_frame.size(); }

private:
  enum class State { line, literal, failed };
  ParseResult fail(std::string message, bool fatal);
  ParseResult finish_frame();
  // After a line ending in a literal header: decides how to take the literal.
  std::optional<ParseResult> start_literal(std::size_t line_start);
  void compact();

  Limits m_limits;
  BodySink* m_sink;
  State m_state = State::line;
  std::string m_in;          // fed bytes
  std::size_t m_in_pos = 0;  // consumed prefix of m_in
  std::size_t m_scan = 0;    // where the search for LF in m_in resumes
  std::string m_frame;       // the response assembled so far
  std::uint64_t m_frame_offset = 0;  // stream offset of the response start
  std::uint64_t m_base = 0;          // stream offset of m_in[0]
  std::uint64_t m_literal_left = 0;
  bool m_streaming = false;
  bool m_sink_open = false;
  std::vector<std::size_t> m_streamed; // frame offsets of streamed literal bodies
  ParseError m_fatal;
};

// Parses one complete response from `text` (CRLF included, literals inline).
// For tests and tools; the streaming path is Parser.
ParseResult parse_response(std::string_view text, const Limits& limits = {});

} // namespace uidsync::imap
