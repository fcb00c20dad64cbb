// SPDX-License-Identifier: GPL-3.0-or-later
// The poison-message quarantine: why a UID could not be fetched, when to try it
// again (backoff), its redacted evidence file, and recognising the Exchange stub.
#pragma once

#include <uidsync/core/config.hpp>
#include <uidsync/core/error.hpp>
#include <uidsync/core/types.hpp>
#include <uidsync/state/db.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace uidsync::sync {

struct Stats;

// Why a UID is in the quarantine. Stored as text (to_string) in quarantine.reason.
enum class Reason {
  no_data,            // UID FETCH answered OK without FETCH data for the UID
  exchange_stub,      // the Exchange "Retrieval using the IMAP4 protocol failed" stub
  refused,            // tagged NO for this UID alone
  rejected,           // tagged BAD for this UID alone
  nil_body,           // BODY[] NIL
  size_mismatch,      // the literal's length differs from RFC822.SIZE
  connection_dropped, // the connection ended while this body was expected
  timeout,            // the server never answered the fetch of this UID alone
};

// "no-data", "exchange-stub", "refused", "rejected", "nil-body", "size-mismatch",
// "connection-dropped", "timeout".
std::string_view to_string(Reason reason);
// What the user can do about a UID quarantined for `reason` (one sentence).
std::string_view advice(Reason reason);
// The reason stored as `text`; nullopt for text this build does not know.
std::optional<Reason> parse_reason(std::string_view text);

// The wait before the next try after `tries` failed tries (tries >= 1):
// policy.backoff[tries - 1], the last entry repeating. An empty policy waits 1 h.
std::chrono::seconds backoff_after(const core::QuarantinePolicy& policy, int tries);

// Recognises the stub Exchange 2010/2013 serves instead of a message it cannot
// read: `From:` names "Microsoft Exchange" and the `Subject:` is "Retrieval using the
// IMAP4 protocol failed for the following message: <UID>". `head` is the start of
// the message (its header must be complete within it); CRLF or LF line ends, folded
// fields (RFC 5322 §2.2.3) and RFC 2047 encoded words (B and Q) are understood.
// Returns nullopt when `head` is not the stub, else the UID its Subject names
// (0 when the Subject names none).
std::optional<core::Uid> exchange_stub_uid(std::string_view head);

// `seconds` since the epoch as "2026-11-23T11:50:00Z" (UTC); "-" for 0.
std::string utc_time(std::int64_t seconds);

// Where the evidence files of `account` live: <state_dir>/evidence/<account>.
std::filesystem::path evidence_dir(const std::filesystem::path& state_dir,
                                   std::string_view account);
// The evidence file of one UID inside `dir`: <folder, %-escaped>/<uidvalidity>-<uid>.txt.
std::filesystem::path evidence_file(const std::filesystem::path& dir, std::string_view folder,
                                    core::UidValidity uidvalidity, core::Uid uid);

// One folder's quarantine during a sync: loaded from the state DB, updated as
// fetches fail or succeed. Rows of another UIDVALIDITY are left alone.
//
// A row is *waiting* (active or forgotten, next_try in the future or forgotten):
// the executor does not fetch it. A row is *due* (active, next_try reached): it is
// fetched alone in its own command, after the others. A *suspect* is an active row
// with tries == 0: a UID that was in a multi-UID command the server never answered;
// it is due at once, so the next sync fetches it alone to find the culprit. A
// suspect that is delivered is deleted without counting as a release.
class Quarantine {
public:
  struct Options {
    core::QuarantinePolicy policy;
    std::filesystem::path evidence_dir; // empty: no evidence files are written
    std::string account;                // for log lines and evidence headers
    std::int64_t now = 0;               // unix seconds; 0: the clock at load()
  };

  // Reads the folder's rows. Fails (Scope::account) as the DB does.
  static core::Result<Quarantine> load(state::Db& db, const state::FolderRow& folder,
                                       Options options, Stats& stats);

  // True when `uid` must not be fetched this run (see above).
  bool waiting(core::Uid uid) const;
  // True when `uid` has an active row that is due (suspects included).
  bool due(core::Uid uid) const;
  const std::map<core::Uid, state::QuarantineRow>& rows() const { return m_rows; }

  // Records a failed try: a new row (first_seen = now) or tries + 1, next_try by
  // the backoff, the evidence lines appended to the UID's evidence file
  // (redacted line by line). A UID not quarantined before (or a suspect) counts in
  // Stats::quarantined and gets one warn line naming the folder, UID, reason and
  // what to do. Fails (Scope::account) when the DB write fails; an evidence file
  // that cannot be written is logged and left out.
  // With `announce` false, the warn line waits for announce() (the reason may
  // still be refined by amend()).
  core::Result<void> record(core::Uid uid, Reason reason, const std::string& detail,
                            const std::vector<std::string>& evidence, bool announce = true);
  // Refines the reason of the try just recorded (no new try): a later look showed
  // more (BODY[HEADER] is the Exchange stub). Appends `evidence`.
  core::Result<void> amend(core::Uid uid, Reason reason, const std::string& detail,
                           const std::vector<std::string>& evidence);
  // Logs the warn line record() held back for `uid`; nothing if there is none.
  void announce(core::Uid uid);
  // Marks `uid` a suspect (see above) unless it already has an active row.
  core::Result<void> suspect(core::Uid uid, const std::string& detail);
  // The message was delivered (or `gone`: the server no longer lists it): the row
  // becomes released (a suspect row is deleted). Counts Stats::released for real
  // quarantines. No row: nothing happens.
  core::Result<void> release(core::Uid uid, bool gone);

  // The account/folder/UID an anomaly or a log line names.
  std::string where(core::Uid uid) const;
  std::int64_t now() const { return m_options.now; }

private:
  Quarantine(state::Db& db, const state::FolderRow& folder, Options options, Stats& stats)
      : m_db(&db), m_folder(&folder), m_options(std::move(options)), m_stats(&stats) {}
  std::string write_evidence(core::Uid uid, const std::string& title,
                             const std::vector<std::string>& lines) const;

  state::Db* m_db;
  const state::FolderRow* m_folder;
  Options m_options;
  Stats* m_stats;
  std::map<core::Uid, state::QuarantineRow> m_rows; // this UIDVALIDITY only
  std::set<core::Uid> m_unannounced;                // new rows whose warn line waits
};

} // namespace uidsync::sync
