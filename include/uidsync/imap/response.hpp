// SPDX-License-Identifier: GPL-3.0-or-later
// Typed IMAP server responses (RFC 3501 §7 plus CONDSTORE/QRESYNC, UIDPLUS, ESEARCH,
// ENABLE). Values only: every type has operator== and PrintTo, so tests compare
// whole responses.
#pragma once

#include <uidsync/core/types.hpp>
#include <uidsync/imap/uid_set.hpp>

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace uidsync::imap {

enum class Status { ok, no, bad, preauth, bye };

// A bracketed response code, "[UIDVALIDITY 3]". `kind` says which fields are set.
struct ResponseCode {
  enum class Kind {
    none,           // no code
    alert,
    parse,
    read_only,
    read_write,
    trycreate,
    uidvalidity,    // number
    uidnext,        // number
    unseen,         // number
    highestmodseq,  // number
    nomodseq,
    permanentflags, // flags
    capability,     // flags (the capability atoms)
    appenduid,      // number = UIDVALIDITY, uids
    copyuid,        // number = UIDVALIDITY, source_uids, uids
    closed,
    overquota,
    other,          // name (upper-cased) + raw argument text
  };
  Kind kind = Kind::none;
  std::string name;                // upper-cased code atom, for `other` (and all kinds)
  std::uint64_t number = 0;
  std::vector<std::string> flags;
  UidSet source_uids;
  UidSet uids;
  std::string raw;                 // the argument text of an `other` code
  bool operator==(const ResponseCode&) const = default;
};

// Completion of a command: "<tag> OK|NO|BAD [code] text".
struct Tagged {
  std::string tag;
  Status status = Status::ok;
  ResponseCode code;
  std::string text;
  bool operator==(const Tagged&) const = default;
};

// Untagged status: "* OK|NO|BAD|PREAUTH|BYE [code] text".
struct Condition {
  Status status = Status::ok;
  ResponseCode code;
  std::string text;
  bool operator==(const Condition&) const = default;
};

// "+ text": the server waits for a literal or an AUTHENTICATE step, or is IDLE.
struct Continuation {
  std::string text;
  bool operator==(const Continuation&) const = default;
};

struct Capability {
  std::vector<std::string> capabilities; // upper-cased
  bool operator==(const Capability&) const = default;
};

struct Enabled {
  std::vector<std::string> capabilities; // upper-cased
  bool operator==(const Enabled&) const = default;
};

// "* FLAGS (...)" after SELECT.
struct FlagList {
  std::vector<std::string> flags;
  bool operator==(const FlagList&) const = default;
};

// "* n EXISTS", "* n RECENT", "* n EXPUNGE".
struct Exists {
  std::uint32_t count = 0;
  bool operator==(const Exists&) const = default;
};
struct Recent {
  std::uint32_t count = 0;
  bool operator==(const Recent&) const = default;
};
struct Expunge {
  std::uint32_t seq = 0;
  bool operator==(const Expunge&) const = default;
};

// RFC 7162 §3.2.10: "* VANISHED [(EARLIER)] uid-set".
struct Vanished {
  bool earlier = false;
  UidSet uids;
  bool operator==(const Vanished&) const = default;
};

// One BODY[section]<origin> or BINARY[section] item of a FETCH.
struct BodySection {
  std::string section;              // "BODY[]", "BODY[HEADER]", "BINARY[1]<0>", upper-cased
  std::optional<std::string> data;  // nullopt: NIL, or streamed to the sink
  bool streamed = false;            // the bytes went to the BodySink, not into `data`
  std::uint64_t size = 0;           // literal or string size in bytes
  bool operator==(const BodySection&) const = default;
};

// "* seq FETCH (...)". Items the parser does not model (ENVELOPE, BODYSTRUCTURE, ...)
// are skipped; `other_items` keeps their names.
struct Fetch {
  std::uint32_t seq = 0;
  std::optional<core::Uid> uid;
  std::optional<std::vector<std::string>> flags;
  std::optional<std::uint64_t> rfc822_size;
  std::optional<std::string> internal_date;
  std::optional<core::ModSeq> modseq;
  std::vector<BodySection> bodies;
  std::vector<std::string> other_items;
  bool operator==(const Fetch&) const = default;
};

// "* LIST (attrs) delim name" (also LSUB).
struct MailboxList {
  bool lsub = false;
  std::vector<std::string> attributes;  // as sent ("\HasNoChildren")
  std::optional<char> delimiter;        // nullopt: NIL (flat namespace)
  std::string name;                     // decoded to UTF-8 from modified UTF-7
  std::string raw_name;                 // as the server sent it
  bool operator==(const MailboxList&) const = default;
};

// "* STATUS name (MESSAGES 3 UIDNEXT 7 ...)".
struct MailboxStatus {
  std::string name;  // decoded to UTF-8
  std::vector<std::pair<std::string, std::uint64_t>> items; // upper-cased names
  bool operator==(const MailboxStatus&) const = default;
};

// "* SEARCH 1 2 3 [(MODSEQ n)]".
struct Search {
  std::vector<std::uint32_t> numbers;
  std::optional<core::ModSeq> modseq;
  bool operator==(const Search&) const = default;
};

// RFC 4731: "* ESEARCH (TAG "t") UID MIN 1 MAX 9 COUNT 4 ALL 1:3,9".
struct ESearch {
  std::string tag;
  bool uid = false;
  std::optional<std::uint32_t> min;
  std::optional<std::uint32_t> max;
  std::optional<std::uint32_t> count;
  UidSet all;
  std::optional<core::ModSeq> modseq;
  bool operator==(const ESearch&) const = default;
};

// Any other untagged response ("* NAMESPACE ...", "* ID ..."): kept, not interpreted.
struct Unknown {
  std::string name;  // upper-cased response name
  std::string rest;  // the rest of its first line
  bool operator==(const Unknown&) const = default;
};

struct Response {
  std::variant<Tagged, Condition, Continuation, Capability, Enabled, FlagList, Exists, Recent,
               Expunge, Vanished, Fetch, MailboxList, MailboxStatus, Search, ESearch, Unknown>
      value;
  bool operator==(const Response&) const = default;
};

std::string_view to_string(Status status);
// One-line description for test failures and debug logs; body data is shown as its size.
std::string describe(const Response& response);
std::string describe(const ResponseCode& code);
void PrintTo(const Response& response, std::ostream* os);
void PrintTo(const ResponseCode& code, std::ostream* os);
void PrintTo(const Fetch& fetch, std::ostream* os);

} // namespace uidsync::imap
