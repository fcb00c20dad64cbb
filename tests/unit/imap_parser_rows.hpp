// SPDX-License-Identifier: GPL-3.0-or-later
// Builders for expected responses in parser table rows.
#pragma once

#include <uidsync/imap/parser.hpp>

#include <ostream>
#include <string>
#include <variant>
#include <vector>

namespace uidsync::imap::rows {

using Kind = ResponseCode::Kind;

// An expected parse error: its message contains `contains`.
struct Err {
  std::string contains;
  bool fatal = false;
};

using Expect = std::variant<Response, Err>;

struct ParserRow {
  std::string name;
  std::string input;
  std::vector<Expect> expected;
  Limits limits = {};
};

inline void PrintTo(const ParserRow& row, std::ostream* os) { *os << row.name; }

inline ResponseCode code(Kind kind, std::string name) {
  ResponseCode c;
  c.kind = kind;
  c.name = std::move(name);
  return c;
}
inline ResponseCode code_number(Kind kind, std::string name, std::uint64_t number) {
  auto c = code(kind, std::move(name));
  c.number = number;
  return c;
}
inline ResponseCode code_flags(Kind kind, std::string name, std::vector<std::string> flags) {
  auto c = code(kind, std::move(name));
  c.flags = std::move(flags);
  return c;
}
inline ResponseCode code_other(std::string name, std::string raw) {
  auto c = code(Kind::other, std::move(name));
  c.raw = std::move(raw);
  return c;
}
inline UidSet uids(const std::string& text) { return UidSet::parse(text).value(); }

inline Response tagged(std::string tag, Status status, std::string text, ResponseCode c = {}) {
  return Response{Tagged{std::move(tag), status, std::move(c), std::move(text)}};
}
inline Response condition(Status status, std::string text, ResponseCode c = {}) {
  return Response{Condition{status, std::move(c), std::move(text)}};
}
inline Response body_fetch(std::uint32_t seq, std::optional<core::Uid> uid, std::string section,
                           std::optional<std::string> data) {
  Fetch f;
  f.seq = seq;
  f.uid = uid;
  BodySection b;
  b.section = std::move(section);
  b.size = data ? data->size() : 0;
  b.data = std::move(data);
  f.bodies.push_back(std::move(b));
  return Response{f};
}
inline Response list(std::vector<std::string> attributes, std::optional<char> delimiter,
                     std::string name, std::string raw_name, bool lsub = false) {
  return Response{
      MailboxList{lsub, std::move(attributes), delimiter, std::move(name), std::move(raw_name)}};
}

} // namespace uidsync::imap::rows
