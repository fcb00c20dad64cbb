// SPDX-License-Identifier: GPL-3.0-or-later
// Scenario files for the fake IMAP server: the mailbox model, the faults, and the session blocks.
#pragma once

#include <uidsync/core/error.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace uidsync::test {

// One stored message. Immutable once shared with a session, except `flags` and
// `modseq`, which only the server changes (under its lock). Operations that change
// content or UID (uid_reuse, uidvalidity_change) make a new FakeMessage instead.
struct FakeMessage {
  std::uint32_t uid = 0;
  std::set<std::string> flags;
  std::string internaldate = "01-Jan-2024 00:00:00 +0000";
  std::string body; // the raw message, CRLF line ends
  std::uint64_t modseq = 1;
};

// Per-UID faults, modelled on Exchange 2010/2013 (see docs/fake-imap-server.md).
// "Body fetch" means BODY[], BODY.PEEK[], BINARY[] or RFC822 of the whole message.
enum class FaultKind {
  ok_no_data,         // body fetch answers OK without FETCH data (RFC 3501 6.4.5: data for each message)
  exchange_stub,      // body fetch: no data; header fetch: the Exchange stub header
  exchange_stub_body, // body fetch serves the Exchange stub as the whole message
  no,                 // a body fetch whose set holds the UID answers NO for the whole command
  bad,                // the same with BAD
  nil_body,           // BODY[] NIL
  size_mismatch,      // literal `delta` bytes longer (or shorter) than RFC822.SIZE (RFC 3501 2.3.4: exact)
  drop_mid_literal,   // the connection is closed halfway through the literal
  hang,               // a body fetch holding the UID is never answered; the socket stays open
};
std::string_view to_string(FaultKind kind);

// How the Exchange stub is written (see docs/fake-imap-server.md).
enum class StubSubject { plain, folded, encoded };

struct Fault {
  FaultKind kind = FaultKind::ok_no_data;
  std::uint32_t uid = 0;
  std::int64_t delta = 100;      // size_mismatch only
  StubSubject subject = StubSubject::plain;
  std::uint32_t subject_uid = 0; // exchange_stub*: the UID named in the Subject (0 = `uid`)
};

struct FakeFolder {
  std::string name;
  std::uint32_t uidvalidity = 1;
  std::uint32_t uidnext = 1;
  std::uint64_t highestmodseq = 1;
  std::vector<std::shared_ptr<FakeMessage>> messages; // in sequence order
  std::vector<Fault> faults;
  bool stale_exists_after_expunge = false;
  std::int64_t exists_offset = 0; // EXISTS reported = real count + offset
  bool explicit_uidnext = false;

  // The fault of `kind` set on `uid`, or nullptr.
  const Fault* fault(std::uint32_t uid) const;
};

// What the server serves at a given moment. The fake server owns one World and
// changes it as clients work and as session blocks apply.
struct World {
  std::string user = "user";
  std::string password = "password";
  std::set<std::string> capabilities; // optional ones: UIDPLUS CONDSTORE QRESYNC LITERAL+ ESEARCH MOVE
  std::map<std::string, FakeFolder> folders;
  int cut_after_errors = 0; // 0 = never
  struct Raw {
    std::string where; // "GREETING" or a verb ("SELECT", "UID FETCH")
    enum class Mode { before, after, instead } mode = Mode::after;
    bool close = false;
    bool once = false;
    std::string text; // bytes to send; "${tag}" is replaced by the command's tag
  };
  std::vector<Raw> raws;
  std::uint32_t next_uidvalidity = 1000; // for CREATE

  bool has(std::string_view capability) const;
  FakeFolder* folder(std::string_view name);
};

// Lines that run when the `session`-th connection (1-based) is accepted.
struct SessionBlock {
  int session = 0;
  std::vector<std::pair<int, std::string>> lines; // (line number, text)
};

struct Scenario {
  std::string origin; // file name, for messages
  std::filesystem::path base_dir;
  World world;
  std::vector<SessionBlock> blocks; // in file order
};

// Parses scenario `text`. `origin` names it in errors ("exchange_poison.scn:12: ..."),
// `base_dir` resolves `file=` paths. Every session block is also dry-run on a copy of
// the world, so a bad line in a block fails here, not in the middle of a test.
core::Result<Scenario> parse_scenario(std::string_view text, std::string origin,
                                      std::filesystem::path base_dir);

// Reads and parses `path`; a relative `path` is looked up in tests/data/scenarios.
core::Result<Scenario> load_scenario(const std::filesystem::path& path);

// load_scenario() for tests: throws core::Failure instead of returning the error.
Scenario must_load_scenario(const std::filesystem::path& path);

// Applies one session block's lines to `world` (used by the server on connection N).
// Fails with the file:line of the first bad line.
core::Result<void> apply_block(World& world, const SessionBlock& block, const Scenario& scenario);

// The deterministic message a `generate` line makes: headers naming `uid` and
// `uidvalidity`, padded with filler text to exactly `size` bytes (at least the headers).
std::string generated_message(std::uint32_t uid, std::uint32_t uidvalidity, std::size_t size);

// The Exchange 2010/2013 "Retrieval using the IMAP4 protocol failed" message for `fault`.
std::string exchange_stub_header(const Fault& fault);
std::string exchange_stub_message(const Fault& fault);

// Expands "\r \n \t \0 \\ \xHH" escapes and "${repeat:N:TEXT}" in a raw directive's text.
core::Result<std::string> expand_raw_text(std::string_view text);

} // namespace uidsync::test
