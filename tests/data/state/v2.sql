-- SPDX-License-Identifier: GPL-3.0-or-later
-- A state DB as schema version 2 wrote it, with the same rows as v1.sql plus an
-- anomaly. Frozen: never edit.
CREATE TABLE schema_version (version INTEGER NOT NULL);
INSERT INTO schema_version (version) VALUES (2);
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
CREATE TABLE anomaly (
  id        INTEGER PRIMARY KEY,
  folder_id INTEGER NOT NULL REFERENCES folder(id) ON DELETE CASCADE,
  kind      INTEGER NOT NULL,
  detail    TEXT    NOT NULL,
  seen_at   INTEGER NOT NULL
);
CREATE INDEX anomaly_by_folder ON anomaly (folder_id, seen_at);
CREATE INDEX message_by_message_id ON message (folder_id, message_id);
INSERT INTO folder (id, name, uidvalidity, uidnext, highestmodseq, local_path, last_sync)
  VALUES (1, 'INBOX', 1700000000, 4, 77, 'INBOX', 1700000100);
INSERT INTO folder (id, name, uidvalidity, uidnext, highestmodseq, local_path, last_sync)
  VALUES (2, 'Work/Projects', 42, 10, 0, 'Work/Projects', 0);
INSERT INTO message VALUES (1, 1, 'cur/1700000000.P1Q1.host,U=1:2,S', 'S', '', 1200, 1690000000, '<a@example.org>', 'aa', 0);
INSERT INTO message VALUES (1, 3, 'new/1700000000.P1Q2.host,U=3', '', '$Junk', 5000, 1690000500, '<b@example.org>', 'bb', 0);
INSERT INTO message VALUES (2, 9, 'cur/1700000000.P1Q3.host,U=9:2,FS', 'FS', '', 77, 1690000900, '<c@example.org>', 'cc', 1);
INSERT INTO quarantine VALUES (1, 1700000000, 2, 'short-literal', 'got 10 of 20 bytes', 1700000000, 1700000000, 1, 1700003600, 0);
INSERT INTO anomaly (folder_id, kind, detail, seen_at) VALUES (1, 4, 'UIDVALIDITY 1 -> 1700000000', 1700000000);
