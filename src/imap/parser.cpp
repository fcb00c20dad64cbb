// SPDX-License-Identifier: GPL-3.0-or-later
// Incremental IMAP response parser: framing (lines + literals, streaming) and token
// functions over one assembled response.
#include <uidsync/imap/parser.hpp>

#include <uidsync/core/mutf7.hpp>

#include "syntax.hpp"

#include <algorithm>
#include <cctype>
#include <limits>

namespace uidsync::imap {

namespace {

using namespace syntax;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && upper(a) == upper(b);
}

std::string_view strip_eol(std::string_view line) {
  if (!line.empty() && line.back() == '\n') {
    line.remove_suffix(1);
  }
  if (!line.empty() && line.back() == '\r') {
    line.remove_suffix(1);
  }
  return line;
}

// Untagged responses that carry data (and so may carry literals): "* <not a status>".
// Status responses and tagged lines end in resp-text, where "{5}" is plain text.
bool frame_allows_literals(std::string_view frame) {
  if (frame.size() < 2 || frame[0] != '*' || frame[1] != ' ') {
    return false;
  }
  auto rest = frame.substr(2);
  auto end = std::min(rest.find(' '), rest.find('\r'));
  auto word = upper(rest.substr(0, std::min(end, rest.size())));
  return word != "OK" && word != "NO" && word != "BAD" && word != "BYE" && word != "PREAUTH";
}

// For "* 12 FETCH (... BODY[]<0> " before a literal: the sequence number and the
// section name, if the literal is the value of a BODY[...] or BINARY[...] item.
std::optional<std::pair<std::uint32_t, std::string>> streamable_item(std::string_view frame,
                                                                      std::size_t header_pos) {
  if (frame.size() < 3 || frame.substr(0, 2) != "* ") {
    return std::nullopt;
  }
  std::size_t p = 2;
  std::size_t digits_start = p;
  while (p < frame.size() && is_digit(frame[p])) {
    ++p;
  }
  auto seq = parse_u64(frame.substr(digits_start, p - digits_start));
  if (!seq || *seq > std::numeric_limits<std::uint32_t>::max()) {
    return std::nullopt;
  }
  if (!iequals(frame.substr(p, 7), " FETCH ")) {
    return std::nullopt;
  }
  auto before = frame.substr(0, header_pos);
  while (!before.empty() && before.back() == ' ') {
    before.remove_suffix(1);
  }
  // Optional "<origin>" of a partial fetch.
  if (!before.empty() && before.back() == '>') {
    auto lt = before.rfind('<');
    if (lt == std::string_view::npos) {
      return std::nullopt;
    }
    before = before.substr(0, lt);
  }
  if (before.empty() || before.back() != ']') {
    return std::nullopt;
  }
  auto bracket = before.rfind('[');
  if (bracket == std::string_view::npos) {
    return std::nullopt;
  }
  auto name_start = before.find_last_of(" (", bracket);
  if (name_start == std::string_view::npos) {
    return std::nullopt;
  }
  auto name = upper(before.substr(name_start + 1, bracket - name_start - 1));
  if (name != "BODY" && name != "BINARY") {
    return std::nullopt;
  }
  auto section = frame.substr(name_start + 1, header_pos - name_start - 1);
  while (!section.empty() && section.back() == ' ') {
    section.remove_suffix(1);
  }
  return std::pair{static_cast<std::uint32_t>(*seq), upper(section)};
}

// ---------------------------------------------------------------------------------
// Token functions over one assembled response. They throw TokenError, caught at
// the parse_frame() boundary (the same shape as Trojitá's LowLevelParser).

struct TokenError {
  std::string message;
  std::size_t column;
};

class Tokens {
public:
  Tokens(std::string_view text, const std::vector<std::size_t>& streamed, const Limits& limits)
      : m_text(text), m_streamed(streamed), m_limits(limits) {}

  std::size_t pos() const { return m_pos; }
  [[noreturn]] void error(const std::string& what) const { throw TokenError{what, m_pos}; }

  char peek() const { return m_pos < m_text.size() ? m_text[m_pos] : '\0'; }
  bool at_eol() const { return peek() == '\r' || peek() == '\n' || m_pos >= m_text.size(); }

  void expect(char c) {
    if (peek() != c) {
      error(std::string("expected '") + c + "'");
    }
    ++m_pos;
  }
  bool accept(char c) {
    if (peek() == c) {
      ++m_pos;
      return true;
    }
    return false;
  }

  // One space. More are tolerated, against RFC 3501 §9 (exactly one SP): a double
  // space carries no meaning, and refusing it would drop a whole response.
  // (No server is recorded here yet; name it when one is seen.)
  void sp() {
    expect(' ');
    while (peek() == ' ') {
      ++m_pos;
    }
  }
  // Optional spaces, at places where servers add stray ones before CRLF or ')'.
  void skip_spaces() {
    while (peek() == ' ') {
      ++m_pos;
    }
  }

  void eol() {
    skip_spaces();
    accept('\r');
    expect('\n');
    if (m_pos != m_text.size()) {
      error("data after the end of the response");
    }
  }

  std::string_view atom() {
    auto start = m_pos;
    while (m_pos < m_text.size() && is_atom_char(m_text[m_pos])) {
      ++m_pos;
    }
    if (start == m_pos) {
      error("expected an atom");
    }
    return m_text.substr(start, m_pos - start);
  }

  std::uint64_t number64() {
    auto start = m_pos;
    while (is_digit(peek())) {
      ++m_pos;
    }
    if (start == m_pos) {
      error("expected a number");
    }
    auto v = parse_u64(m_text.substr(start, m_pos - start));
    if (!v) {
      m_pos = start;
      error("number does not fit in 64 bits");
    }
    return *v;
  }

  void advance(std::size_t n) { m_pos = std::min(m_pos + n, m_text.size()); }

  std::uint32_t number32() {
    auto start = m_pos;
    auto v = number64();
    if (v > std::numeric_limits<std::uint32_t>::max()) {
      m_pos = start;
      error("number " + std::to_string(v) + " does not fit in 32 bits");
    }
    return static_cast<std::uint32_t>(v);
  }

  bool nil() {
    if (iequals(m_text.substr(m_pos, 3), "NIL") && !is_atom_char(char_at(m_pos + 3))) {
      m_pos += 3;
      return true;
    }
    return false;
  }

  // A quoted string or a literal. `streamed` is set when the literal went to the sink.
  std::string string(bool* streamed = nullptr, std::uint64_t* size = nullptr) {
    if (peek() == '"') {
      auto s = quoted();
      if (size) {
        *size = s.size();
      }
      return s;
    }
    if (peek() == '{' || peek() == '~') {
      accept('~');
      expect('{');
      auto n = number64();
      accept('+');
      expect('}');
      accept('\r');
      expect('\n');
      if (size) {
        *size = n;
      }
      if (std::find(m_streamed.begin(), m_streamed.end(), m_pos) != m_streamed.end()) {
        // The framer sent this literal to the sink; only a body item may own it.
        if (!streamed) {
          error("a streamed literal is not the value of a BODY[] or BINARY[] item");
        }
        *streamed = true;
        return {};
      }
      // The framer appended exactly n bytes; a mismatch means a framing bug.
      if (n > m_text.size() - m_pos) {
        error("literal runs past the end of the response");
      }
      std::string s(m_text.substr(m_pos, static_cast<std::size_t>(n)));
      m_pos += static_cast<std::size_t>(n);
      return s;
    }
    error("expected a string");
  }

  std::optional<std::string> nstring(bool* streamed = nullptr, std::uint64_t* size = nullptr) {
    if (nil()) {
      return std::nullopt;
    }
    return string(streamed, size);
  }

  // RFC 3501 astring: 1*ASTRING-CHAR (atom chars plus ']') or string.
  std::string astring() {
    if (peek() == '"' || peek() == '{' || peek() == '~') {
      return string();
    }
    auto start = m_pos;
    while (m_pos < m_text.size() && (is_atom_char(m_text[m_pos]) || m_text[m_pos] == ']')) {
      ++m_pos;
    }
    if (start == m_pos) {
      error("expected an astring");
    }
    return std::string(m_text.substr(start, m_pos - start));
  }

  // A flag: "\Seen", "\*", "$Forwarded", "keyword".
  std::string flag() {
    auto start = m_pos;
    if (accept('\\')) {
      if (!accept('*')) {
        atom();
      }
    } else {
      atom();
    }
    return std::string(m_text.substr(start, m_pos - start));
  }

  // "(" [flag *(SP flag)] ")"
  std::vector<std::string> flag_list() {
    std::vector<std::string> flags;
    expect('(');
    skip_spaces();
    while (!accept(')')) {
      flags.push_back(flag());
      if (peek() != ')') {
        sp();
      }
    }
    return flags;
  }

  // Atoms up to the end of the line or `stop` (capability lists).
  std::vector<std::string> atoms_until(char stop) {
    std::vector<std::string> out;
    skip_spaces();
    while (!at_eol() && peek() != stop) {
      out.push_back(upper(atom()));
      skip_spaces();
    }
    return out;
  }

  std::string text() {
    auto start = m_pos;
    while (!at_eol()) {
      ++m_pos;
    }
    return std::string(m_text.substr(start, m_pos - start));
  }

  // Skips one value of any shape (for FETCH items and extension data we do not model).
  void skip_value(std::size_t depth) {
    if (peek() == '(') {
      if (depth + 1 > m_limits.max_list_depth) {
        error("lists nested deeper than max_list_depth (" +
              std::to_string(m_limits.max_list_depth) + ")");
      }
      ++m_pos;
      skip_spaces();
      while (!accept(')')) {
        skip_value(depth + 1);
        if (peek() != ')') {
          sp();
        }
      }
      return;
    }
    if (peek() == '"' || peek() == '{' || peek() == '~') {
      string();
      return;
    }
    auto start = m_pos;
    while (!at_eol() && peek() != ' ' && peek() != ')' && peek() != '(') {
      if (peek() == '[') {
        skip_section();
      } else {
        ++m_pos;
      }
    }
    if (start == m_pos) {
      error("expected a value");
    }
  }

  // "[...]" including spaces and parentheses inside (BODY[HEADER.FIELDS (FROM)]).
  void skip_section() {
    expect('[');
    while (!at_eol() && peek() != ']') {
      ++m_pos;
    }
    expect(']');
  }

  // A FETCH item name: "UID", "BODY[HEADER.FIELDS (FROM)]<0>", "BINARY.SIZE[1]".
  std::string fetch_item_name() {
    auto start = m_pos;
    while (m_pos < m_text.size() && is_atom_char(m_text[m_pos]) && m_text[m_pos] != '[') {
      ++m_pos;
    }
    if (start == m_pos) {
      error("expected a FETCH item name");
    }
    if (peek() == '[') {
      skip_section();
      if (peek() == '<') {
        ++m_pos;
        number64();
        expect('>');
      }
    }
    return upper(m_text.substr(start, m_pos - start));
  }

  std::string_view rest() const { return m_text.substr(m_pos); }

private:
  char char_at(std::size_t p) const { return p < m_text.size() ? m_text[p] : '\0'; }

  std::string quoted() {
    expect('"');
    std::string out;
    while (true) {
      if (m_pos >= m_text.size()) {
        error("unterminated quoted string");
      }
      char c = m_text[m_pos++];
      if (c == '"') {
        return out;
      }
      if (c == '\r' || c == '\n') {
        --m_pos;
        error("line break inside a quoted string");
      }
      if (c == '\\') {
        if (m_pos >= m_text.size()) {
          error("unterminated quoted string");
        }
        c = m_text[m_pos++];
      }
      out += c;
    }
  }

  std::string_view m_text;
  const std::vector<std::size_t>& m_streamed;
  const Limits& m_limits;
  std::size_t m_pos = 0;
};

ResponseCode response_code(Tokens& t) {
  using Kind = ResponseCode::Kind;
  ResponseCode code;
  t.expect('[');
  code.name = upper(t.atom());
  const std::string& n = code.name;
  auto uid_set = [&t]() {
    auto start = t.pos();
    std::string text;
    while (is_digit(t.peek()) || t.peek() == ':' || t.peek() == ',') {
      text += t.peek();
      t.advance(1);
    }
    auto set = UidSet::parse(text);
    if (!set) {
      throw TokenError{"expected a UID set", start};
    }
    return *set;
  };
  if (n == "ALERT") {
    code.kind = Kind::alert;
  } else if (n == "PARSE") {
    code.kind = Kind::parse;
  } else if (n == "READ-ONLY") {
    code.kind = Kind::read_only;
  } else if (n == "READ-WRITE") {
    code.kind = Kind::read_write;
  } else if (n == "TRYCREATE") {
    code.kind = Kind::trycreate;
  } else if (n == "NOMODSEQ") {
    code.kind = Kind::nomodseq;
  } else if (n == "CLOSED") {
    code.kind = Kind::closed;
  } else if (n == "OVERQUOTA") {
    code.kind = Kind::overquota;
  } else if (n == "UIDVALIDITY" || n == "UIDNEXT" || n == "UNSEEN" || n == "HIGHESTMODSEQ") {
    code.kind = n == "UIDVALIDITY" ? Kind::uidvalidity
                : n == "UIDNEXT"   ? Kind::uidnext
                : n == "UNSEEN"    ? Kind::unseen
                                   : Kind::highestmodseq;
    t.sp();
    // Kept as 64 bits: a UIDVALIDITY above 2^32 is a server bug the caller reports
    // (neomutt/neomutt#3830), not a reason to drop the response.
    code.number = t.number64();
  } else if (n == "PERMANENTFLAGS") {
    code.kind = Kind::permanentflags;
    t.sp();
    code.flags = t.flag_list();
  } else if (n == "CAPABILITY") {
    code.kind = Kind::capability;
    code.flags = t.atoms_until(']');
  } else if (n == "APPENDUID") {
    code.kind = Kind::appenduid;
    t.sp();
    code.number = t.number64();
    t.sp();
    code.uids = uid_set();
  } else if (n == "COPYUID") {
    code.kind = Kind::copyuid;
    t.sp();
    code.number = t.number64();
    t.sp();
    code.source_uids = uid_set();
    t.sp();
    code.uids = uid_set();
  } else {
    code.kind = Kind::other;
    t.skip_spaces();
    auto rest = t.rest();
    auto close = rest.find(']');
    auto eol = rest.find_first_of("\r\n");
    if (close == std::string_view::npos || close > eol) {
      t.error("unterminated response code [" + n);
    }
    code.raw = std::string(rest.substr(0, close));
    t.advance(close);
  }
  t.skip_spaces();
  t.expect(']');
  return code;
}

// resp-text: [SP] ["[" code "]" [SP]] text. Servers omit the SP and the text.
void resp_text(Tokens& t, ResponseCode& code, std::string& text) {
  t.skip_spaces();
  if (t.peek() == '[') {
    code = response_code(t);
    t.skip_spaces();
  }
  text = t.text();
}

std::optional<Status> status_of(std::string_view word) {
  auto w = upper(word);
  if (w == "OK") {
    return Status::ok;
  }
  if (w == "NO") {
    return Status::no;
  }
  if (w == "BAD") {
    return Status::bad;
  }
  if (w == "PREAUTH") {
    return Status::preauth;
  }
  if (w == "BYE") {
    return Status::bye;
  }
  return std::nullopt;
}

Fetch fetch_items(Tokens& t, std::uint32_t seq) {
  Fetch f;
  f.seq = seq;
  t.expect('(');
  t.skip_spaces();
  while (!t.accept(')')) {
    auto name = t.fetch_item_name();
    t.sp();
    if (name == "UID") {
      // UID 0 is kept: the sync layer reports it as an anomaly (offlineimap#336).
      f.uid = t.number32();
    } else if (name == "FLAGS") {
      f.flags = t.flag_list();
    } else if (name == "RFC822.SIZE") {
      f.rfc822_size = t.number64();
    } else if (name == "INTERNALDATE") {
      f.internal_date = t.string();
    } else if (name == "MODSEQ") {
      t.expect('(');
      f.modseq = t.number64();
      t.expect(')');
    } else if (name.starts_with("BODY[") || name.starts_with("BINARY[") || name == "RFC822" ||
               name == "RFC822.TEXT" || name == "RFC822.HEADER") {
      BodySection body;
      body.section = name;
      body.data = t.nstring(&body.streamed, &body.size);
      if (body.streamed) {
        body.data.reset();
      }
      f.bodies.push_back(std::move(body));
    } else {
      t.skip_value(1);
      f.other_items.push_back(name);
    }
    if (t.peek() != ')') {
      t.sp();
    }
  }
  return f;
}

MailboxList list_response(Tokens& t, bool lsub) {
  MailboxList l;
  l.lsub = lsub;
  t.sp();
  l.attributes = t.flag_list();
  t.sp();
  if (!t.nil()) {
    auto delim = t.string();
    if (delim.size() != 1) {
      t.error("LIST delimiter must be one character");
    }
    l.delimiter = delim[0];
  }
  t.sp();
  auto start = t.pos();
  l.raw_name = t.astring();
  auto decoded = core::mutf7_decode(l.raw_name);
  if (!decoded) {
    throw TokenError{decoded.error().message, start};
  }
  l.name = *decoded;
  // RFC 5258 extended data, e.g. ("CHILDINFO" ("SUBSCRIBED")): not modelled.
  t.skip_spaces();
  while (!t.at_eol()) {
    t.skip_value(1);
    t.skip_spaces();
  }
  return l;
}

MailboxStatus status_response(Tokens& t) {
  MailboxStatus s;
  t.sp();
  auto start = t.pos();
  auto raw = t.astring();
  auto decoded = core::mutf7_decode(raw);
  if (!decoded) {
    throw TokenError{decoded.error().message, start};
  }
  s.name = *decoded;
  t.sp();
  t.expect('(');
  t.skip_spaces();
  while (!t.accept(')')) {
    auto item = upper(t.atom());
    t.sp();
    s.items.emplace_back(item, t.number64());
    t.skip_spaces();
  }
  return s;
}

Search search_response(Tokens& t) {
  Search s;
  t.skip_spaces();
  while (!t.at_eol()) {
    if (t.accept('(')) {
      if (!iequals(t.atom(), "MODSEQ")) {
        t.error("expected MODSEQ");
      }
      t.sp();
      s.modseq = t.number64();
      t.expect(')');
    } else {
      s.numbers.push_back(t.number32());
    }
    t.skip_spaces();
  }
  return s;
}

ESearch esearch_response(Tokens& t) {
  ESearch e;
  t.skip_spaces();
  if (t.accept('(')) {
    if (!iequals(t.atom(), "TAG")) {
      t.error("expected TAG");
    }
    t.sp();
    e.tag = t.string();
    t.expect(')');
    t.skip_spaces();
  }
  while (!t.at_eol()) {
    auto name = upper(t.atom());
    if (name == "UID") {
      e.uid = true;
    } else {
      t.sp();
      if (name == "MIN") {
        e.min = t.number32();
      } else if (name == "MAX") {
        e.max = t.number32();
      } else if (name == "COUNT") {
        e.count = t.number32();
      } else if (name == "MODSEQ") {
        e.modseq = t.number64();
      } else if (name == "ALL") {
        auto start = t.pos();
        auto text = t.atom();
        auto set = UidSet::parse(text);
        if (!set) {
          throw TokenError{"expected a sequence set after ALL", start};
        }
        e.all = *set;
      } else {
        t.skip_value(1);
      }
    }
    t.skip_spaces();
  }
  return e;
}

Response untagged(Tokens& t) {
  t.expect('*');
  t.sp();
  if (is_digit(t.peek())) {
    auto n = t.number32();
    t.sp();
    auto what = upper(t.atom());
    if (what == "EXISTS") {
      return Response{Exists{n}};
    }
    if (what == "RECENT") {
      return Response{Recent{n}};
    }
    if (what == "EXPUNGE") {
      return Response{Expunge{n}};
    }
    if (what == "FETCH") {
      t.sp();
      return Response{fetch_items(t, n)};
    }
    t.error("unknown numeric response " + what);
  }
  auto word = std::string(t.atom());
  auto name = upper(word);
  if (auto status = status_of(name)) {
    Condition c;
    c.status = *status;
    resp_text(t, c.code, c.text);
    return Response{c};
  }
  if (name == "CAPABILITY") {
    return Response{Capability{t.atoms_until('\n')}};
  }
  if (name == "ENABLED") {
    return Response{Enabled{t.atoms_until('\n')}};
  }
  if (name == "FLAGS") {
    t.sp();
    return Response{FlagList{t.flag_list()}};
  }
  if (name == "LIST" || name == "LSUB") {
    return Response{list_response(t, name == "LSUB")};
  }
  if (name == "STATUS") {
    return Response{status_response(t)};
  }
  if (name == "SEARCH") {
    return Response{search_response(t)};
  }
  if (name == "ESEARCH") {
    return Response{esearch_response(t)};
  }
  if (name == "VANISHED") {
    Vanished v;
    t.sp();
    if (t.accept('(')) {
      if (!iequals(t.atom(), "EARLIER")) {
        t.error("expected EARLIER");
      }
      t.expect(')');
      t.sp();
      v.earlier = true;
    }
    auto start = t.pos();
    auto set = UidSet::parse(t.atom());
    if (!set) {
      throw TokenError{"expected a UID set", start};
    }
    v.uids = *set;
    return Response{v};
  }
  t.skip_spaces();
  return Response{Unknown{name, t.text()}};
}

Response parse_tokens(Tokens& t) {
  if (t.accept('+')) {
    // RFC 3501 §7.5 wants "+ SP text"; a bare "+\r\n" is accepted (RFC 3501 §9
    // resp-text leniency; no specific server recorded yet).
    t.accept(' ');
    return Response{Continuation{t.text()}};
  }
  if (t.peek() == '*') {
    return untagged(t);
  }
  Tagged r;
  r.tag = std::string(t.atom());
  t.sp();
  auto start = t.pos();
  auto status = status_of(t.atom());
  if (!status || *status == Status::preauth || *status == Status::bye) {
    throw TokenError{"tagged response must be OK, NO or BAD", start};
  }
  r.status = *status;
  resp_text(t, r.code, r.text);
  return Response{r};
}

ParseResult parse_frame(std::string_view frame, const std::vector<std::size_t>& streamed,
                        const Limits& limits, std::uint64_t offset) {
  Tokens t(frame, streamed, limits);
  try {
    auto r = parse_tokens(t);
    t.eol();
    return r;
  } catch (const TokenError& e) {
    auto line = frame.substr(0, std::min<std::size_t>(frame.find_first_of("\r\n"), 80));
    return ParseError{e.message + " at column " + std::to_string(e.column) + " of \"" +
                          std::string(line) + "\"",
                      offset, e.column, false};
  }
}

} // namespace

Parser::Parser(Limits limits, BodySink* sink) : m_limits(limits), m_sink(sink) {}

void Parser::feed(std::string_view bytes) {
  if (m_state != State::failed) {
    m_in.append(bytes);
  }
}

ParseResult Parser::fail(std::string message, bool fatal) {
  ParseError e{std::move(message), m_frame_offset, m_frame.size(), fatal};
  if (m_sink_open && m_sink) {
    m_sink->abort(e.message);
  }
  m_sink_open = false;
  m_streaming = false;
  m_streamed.clear();
  m_frame.clear();
  if (fatal) {
    m_state = State::failed;
    m_fatal = e;
    m_in.clear();
    m_in_pos = 0;
    m_scan = 0;
  }
  return e;
}

void Parser::compact() {
  if (m_in_pos == m_in.size()) {
    m_base += m_in_pos;
    m_in.clear();
    m_in_pos = 0;
    m_scan = 0;
  } else if (m_in_pos > 4096 && m_in_pos * 2 > m_in.size()) {
    m_base += m_in_pos;
    m_in.erase(0, m_in_pos);
    m_scan -= m_in_pos;
    m_in_pos = 0;
  }
}

ParseResult Parser::finish_frame() {
  auto result = parse_frame(m_frame, m_streamed, m_limits, m_frame_offset);
  bool had_stream = m_sink_open;
  m_sink_open = false;
  m_streamed.clear();
  m_frame.clear();
  if (had_stream && m_sink) {
    const auto* r = std::get_if<Response>(&result);
    const auto* fetch = r ? std::get_if<Fetch>(&r->value) : nullptr;
    if (fetch) {
      m_sink->finish(*fetch);
    } else if (const auto* e = std::get_if<ParseError>(&result)) {
      m_sink->abort(e->message);
    } else {
      m_sink->abort("streamed literal outside a FETCH");
    }
  }
  return result;
}

std::optional<ParseResult> Parser::start_literal(std::size_t line_start) {
  auto line = strip_eol(std::string_view(m_frame).substr(line_start));
  if (!frame_allows_literals(m_frame)) {
    return std::nullopt;
  }
  auto header = literal_at_end(line);
  if (!header) {
    return std::nullopt;
  }
  if (header->overflow) {
    return fail("literal size " + std::string(line.substr(header->start)) +
                    " exceeds max_literal_size (" + std::to_string(m_limits.max_literal_size) +
                    " bytes)",
                true);
  }
  auto header_pos = line_start + header->start;
  // One streamed literal per FETCH; a second large one (BODY[HEADER] and BODY[TEXT]
  // both large) is buffered under max_literal_size.
  if (m_sink && !m_sink_open && header->size > m_limits.stream_threshold) {
    if (auto item = streamable_item(m_frame, header_pos)) {
      if (header->size > m_limits.max_streamed_literal_size) {
        return fail("literal of " + std::to_string(header->size) +
                        " bytes exceeds max_streamed_literal_size (" +
                        std::to_string(m_limits.max_streamed_literal_size) + " bytes)",
                    true);
      }
      m_sink->begin(item->first, item->second, header->size);
      m_sink_open = true;
      m_streaming = true;
      m_streamed.push_back(m_frame.size());
      m_literal_left = header->size;
      m_state = State::literal;
      return std::nullopt;
    }
  }
  if (header->size > m_limits.max_literal_size) {
    return fail("literal of " + std::to_string(header->size) + " bytes exceeds max_literal_size (" +
                    std::to_string(m_limits.max_literal_size) + " bytes)",
                true);
  }
  if (m_frame.size() + header->size > m_limits.max_response_size) {
    return fail("response exceeds max_response_size (" +
                    std::to_string(m_limits.max_response_size) + " bytes)",
                true);
  }
  m_streaming = false;
  m_literal_left = header->size;
  m_state = State::literal;
  return std::nullopt;
}

ParseResult Parser::next() {
  while (true) {
    if (m_state == State::failed) {
      return m_fatal;
    }
    if (m_state == State::literal) {
      auto take = static_cast<std::size_t>(
          std::min<std::uint64_t>(m_literal_left, m_in.size() - m_in_pos));
      if (take == 0 && m_literal_left > 0) {
        compact();
        return NeedMore{static_cast<std::size_t>(
            std::min<std::uint64_t>(m_literal_left, std::numeric_limits<std::size_t>::max()))};
      }
      auto bytes = std::string_view(m_in).substr(m_in_pos, take);
      if (m_streaming) {
        m_sink->chunk(bytes);
      } else {
        m_frame.append(bytes);
      }
      m_in_pos += take;
      m_literal_left -= take;
      if (m_literal_left == 0) {
        m_state = State::line;
        m_streaming = false;
        m_scan = m_in_pos;
      }
      continue;
    }
    // State::line
    if (m_frame.empty()) {
      m_frame_offset = m_base + m_in_pos;
    }
    auto lf = m_in.find('\n', std::max(m_scan, m_in_pos));
    if (lf == std::string::npos) {
      // +1: a CR may be waiting for its LF.
      if (m_in.size() - m_in_pos > m_limits.max_line_length + 1) {
        return fail("line longer than max_line_length (" +
                        std::to_string(m_limits.max_line_length) + " bytes)",
                    true);
      }
      m_scan = m_in.size();
      compact();
      return NeedMore{1};
    }
    auto length = lf + 1 - m_in_pos;
    auto content = strip_eol(std::string_view(m_in).substr(m_in_pos, length)).size();
    if (content > m_limits.max_line_length) {
      return fail("line longer than max_line_length (" + std::to_string(m_limits.max_line_length) +
                      " bytes)",
                  true);
    }
    if (m_frame.size() + length > m_limits.max_response_size) {
      return fail("response exceeds max_response_size (" +
                      std::to_string(m_limits.max_response_size) + " bytes)",
                  true);
    }
    auto line_start = m_frame.size();
    m_frame.append(m_in, m_in_pos, length);
    m_in_pos = lf + 1;
    m_scan = m_in_pos;
    if (auto failed = start_literal(line_start)) {
      return *failed;
    }
    if (m_state == State::literal) {
      continue;
    }
    auto result = finish_frame();
    compact();
    return result;
  }
}

ParseResult parse_response(std::string_view text, const Limits& limits) {
  Parser parser(limits);
  parser.feed(text);
  auto result = parser.next();
  if (std::holds_alternative<Response>(result) && parser.buffered() != 0) {
    return ParseError{"data after the end of the response", 0, text.size() - parser.buffered(),
                      false};
  }
  return result;
}

} // namespace uidsync::imap
