// SPDX-License-Identifier: GPL-3.0-or-later
// The state DB's schema ladder: one SQL script per version step.
#include "schema.hpp"

#include <array>

namespace uidsync::state::detail {

namespace {

// 0 -> 1: the initial tables. Flags are stored as Maildir letters ("FS"), enums
// (message.state, quarantine.state) as the numbers fixed in db.hpp.
constexpr std::string_view k_v1 = R"sql(
CREATE TABLE schema_version (version INTEGER NOT NULL);
INSERT INTO schema_version (version) VALUES (0);
CREATE TABLE folder (
  id            INTEGER PRIMARY KEY,
  name          TEXT    NOT NULL UNIQUE,
  uidvalidity   INTEGER NOT NULL DEFAULT 0,
  uidnext       INTEGER NOT NULL DEFAULT 0,
  highestmodseq INTEGER NOT NULL DEFAULT 0,
  local_path    TEXT    NOT NULL,
  last_sync     INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE message (
  folder_id    INTEGER NOT NULL REFERENCES folder(id) ON DELETE CASCADE,
  uid          INTEGER NOT NULL,
  local_name   TEXT    NOT NULL,
  flags        TEXT    NOT NULL DEFAULT '',
  keywords     TEXT    NOT NULL DEFAULT '',
  size         INTEGER NOT NULL,
  internaldate INTEGER NOT NULL,
  message_id   TEXT    NOT NULL DEFAULT '',
  digest       TEXT    NOT NULL DEFAULT '',
  state        INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (folder_id, uid)
) WITHOUT ROWID;
CREATE TABLE quarantine (
  folder_id   INTEGER NOT NULL REFERENCES folder(id) ON DELETE CASCADE,
  uidvalidity INTEGER NOT NULL,
  uid         INTEGER NOT NULL,
  reason      TEXT    NOT NULL,
  detail      TEXT    NOT NULL DEFAULT '',
  first_seen  INTEGER NOT NULL,
  last_try    INTEGER NOT NULL,
  tries       INTEGER NOT NULL DEFAULT 0,
  next_try    INTEGER NOT NULL,
  state       INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (folder_id, uidvalidity, uid)
) WITHOUT ROWID;
)sql";

// 1 -> 2: server anomalies, and the Message-ID index used to re-pair messages
// after a UIDVALIDITY change.
constexpr std::string_view k_v2 = R"sql(
CREATE TABLE anomaly (
  id        INTEGER PRIMARY KEY,
  folder_id INTEGER NOT NULL REFERENCES folder(id) ON DELETE CASCADE,
  kind      INTEGER NOT NULL,
  detail    TEXT    NOT NULL,
  seen_at   INTEGER NOT NULL
);
CREATE INDEX anomaly_by_folder ON anomaly (folder_id, seen_at);
CREATE INDEX message_by_message_id ON message (folder_id, message_id);
)sql";

// 2 -> 3: the Maildir scan stamp (directory mtimes of cur/ and new/ at the last
// full scan), so a run can skip listing a folder nobody touched.
constexpr std::string_view k_v3 = R"sql(
ALTER TABLE folder ADD COLUMN scan_stamp TEXT NOT NULL DEFAULT '';
)sql";

// 3 -> 4: the APPEND journal (an upload's intent, written before the APPEND so an
// interrupted one is found on the server instead of sent twice), the evidence file
// of a quarantined message, and an anomaly's UID, evidence and resolution time.
constexpr std::string_view k_v4 = R"sql(
CREATE TABLE append_journal (
  folder_id  INTEGER NOT NULL REFERENCES folder(id) ON DELETE CASCADE,
  local_key  TEXT    NOT NULL,
  message_id TEXT    NOT NULL DEFAULT '',
  size       INTEGER NOT NULL,
  digest     TEXT    NOT NULL DEFAULT '',
  started_at INTEGER NOT NULL,
  PRIMARY KEY (folder_id, local_key)
) WITHOUT ROWID;
ALTER TABLE quarantine ADD COLUMN evidence TEXT NOT NULL DEFAULT '';
ALTER TABLE anomaly ADD COLUMN uid INTEGER NOT NULL DEFAULT 0;
ALTER TABLE anomaly ADD COLUMN evidence TEXT NOT NULL DEFAULT '';
ALTER TABLE anomaly ADD COLUMN resolved_at INTEGER NOT NULL DEFAULT 0;
)sql";

constexpr std::array<std::string_view, 4> k_migrations{k_v1, k_v2, k_v3, k_v4};

} // namespace

std::span<const std::string_view> migrations() {
  return k_migrations;
}

} // namespace uidsync::state::detail
