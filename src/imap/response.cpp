// SPDX-License-Identifier: GPL-3.0-or-later
// Printing of typed responses, for test failures and debug logs.
#include <uidsync/imap/response.hpp>

#include <sstream>

namespace uidsync::imap {

namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) {
      out += ' ';
    }
    out += item;
  }
  return out;
}

template <class T>
void put_optional(std::ostringstream& os, const char* name, const std::optional<T>& value) {
  if (value) {
    os << ' ' << name << ' ' << *value;
  }
}

struct Describer {
  std::ostringstream& os;

  void operator()(const Tagged& r) const {
    os << "TAGGED " << r.tag << ' ' << to_string(r.status) << describe(r.code) << " \"" << r.text
       << '"';
  }
  void operator()(const Condition& r) const {
    os << "CONDITION " << to_string(r.status) << describe(r.code) << " \"" << r.text << '"';
  }
  void operator()(const Continuation& r) const { os << "CONTINUATION \"" << r.text << '"'; }
  void operator()(const Capability& r) const { os << "CAPABILITY (" << join(r.capabilities) << ')'; }
  void operator()(const Enabled& r) const { os << "ENABLED (" << join(r.capabilities) << ')'; }
  void operator()(const FlagList& r) const { os << "FLAGS (" << join(r.flags) << ')'; }
  void operator()(const Exists& r) const { os << "EXISTS " << r.count; }
  void operator()(const Recent& r) const { os << "RECENT " << r.count; }
  void operator()(const Expunge& r) const { os << "EXPUNGE " << r.seq; }
  void operator()(const Vanished& r) const {
    os << "VANISHED" << (r.earlier ? " (EARLIER) " : " ") << r.uids.to_string();
  }
  void operator()(const Fetch& r) const {
    os << "FETCH " << r.seq << " (";
    put_optional(os, "UID", r.uid);
    if (r.flags) {
      os << " FLAGS (" << join(*r.flags) << ')';
    }
    put_optional(os, "RFC822.SIZE", r.rfc822_size);
    put_optional(os, "INTERNALDATE", r.internal_date);
    put_optional(os, "MODSEQ", r.modseq);
    for (const auto& body : r.bodies) {
      os << ' ' << body.section << ' ';
      if (body.streamed) {
        os << "{streamed " << body.size << " bytes}";
      } else if (!body.data) {
        os << "NIL";
      } else if (body.data->size() <= 40) {
        os << '"' << *body.data << '"';
      } else {
        os << '{' << body.size << " bytes}";
      }
    }
    if (!r.other_items.empty()) {
      os << " other (" << join(r.other_items) << ')';
    }
    os << " )";
  }
  void operator()(const MailboxList& r) const {
    os << (r.lsub ? "LSUB (" : "LIST (") << join(r.attributes) << ") ";
    if (r.delimiter) {
      os << '\'' << *r.delimiter << '\'';
    } else {
      os << "NIL";
    }
    os << " \"" << r.name << "\" raw \"" << r.raw_name << '"';
  }
  void operator()(const MailboxStatus& r) const {
    os << "STATUS \"" << r.name << "\" (";
    for (const auto& [name, value] : r.items) {
      os << ' ' << name << ' ' << value;
    }
    os << " )";
  }
  void operator()(const Search& r) const {
    os << "SEARCH";
    for (auto n : r.numbers) {
      os << ' ' << n;
    }
    put_optional(os, "MODSEQ", r.modseq);
  }
  void operator()(const ESearch& r) const {
    os << "ESEARCH tag \"" << r.tag << '"' << (r.uid ? " UID" : "");
    put_optional(os, "MIN", r.min);
    put_optional(os, "MAX", r.max);
    put_optional(os, "COUNT", r.count);
    if (!r.all.empty()) {
      os << " ALL " << r.all.to_string();
    }
    put_optional(os, "MODSEQ", r.modseq);
  }
  void operator()(const Unknown& r) const { os << "UNKNOWN " << r.name << " \"" << r.rest << '"'; }
};

} // namespace

std::string_view to_string(Status status) {
  switch (status) {
  case Status::ok:
    return "OK";
  case Status::no:
    return "NO";
  case Status::bad:
    return "BAD";
  case Status::preauth:
    return "PREAUTH";
  case Status::bye:
    return "BYE";
  }
  return "?";
}

std::string describe(const ResponseCode& code) {
  using Kind = ResponseCode::Kind;
  if (code.kind == Kind::none) {
    return {};
  }
  std::ostringstream os;
  os << " [" << code.name;
  switch (code.kind) {
  case Kind::uidvalidity:
  case Kind::uidnext:
  case Kind::unseen:
  case Kind::highestmodseq:
    os << ' ' << code.number;
    break;
  case Kind::permanentflags:
  case Kind::capability:
    os << " (" << join(code.flags) << ')';
    break;
  case Kind::appenduid:
    os << ' ' << code.number << ' ' << code.uids.to_string();
    break;
  case Kind::copyuid:
    os << ' ' << code.number << ' ' << code.source_uids.to_string() << ' ' << code.uids.to_string();
    break;
  case Kind::other:
    os << " raw \"" << code.raw << '"';
    break;
  default:
    break;
  }
  os << ']';
  return os.str();
}

std::string describe(const Response& response) {
  std::ostringstream os;
  std::visit(Describer{os}, response.value);
  return os.str();
}

void PrintTo(const Response& response, std::ostream* os) { *os << describe(response); }
void PrintTo(const ResponseCode& code, std::ostream* os) { *os << describe(code); }
void PrintTo(const Fetch& fetch, std::ostream* os) { *os << describe(Response{fetch}); }

} // namespace uidsync::imap
