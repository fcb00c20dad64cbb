// SPDX-License-Identifier: GPL-3.0-or-later
// The server's side of one folder: SELECT, then the full message listing or, with
// QRESYNC (RFC 7162), only what changed since the stored HIGHESTMODSEQ.
#include "detail.hpp"

#include <uidsync/imap/command.hpp>
#include <uidsync/imap/uid_set.hpp>
#include <uidsync/util/log.hpp>

#include <climits>
#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <utility>

namespace uidsync::sync::detail {

namespace {

// The known-uids argument of SELECT (QRESYNC) is optional; a fragmented set is left
// out rather than risk a command line over the 8 KB that RFC 7162 §4 recommends.
constexpr std::size_t k_max_known_uids_chars = 4000;
constexpr std::string_view k_list_items = "(UID FLAGS RFC822.SIZE INTERNALDATE)";

// Adds one FETCH (UID FLAGS RFC822.SIZE INTERNALDATE) response to the view.
void add_listed(const imap::Fetch& f, RemoteView& view) {
  view.listed.push_back(*f.uid);
  if (*f.uid == 0) {
    return; // kept in `listed` for the anomaly checks
  }
  RemoteInfo info;
  info.uid = *f.uid;
  info.flags = flags_from_imap(f.flags.value_or(std::vector<std::string>{}));
  info.size = f.rfc822_size.value_or(0);
  info.internaldate = f.internal_date ? parse_internaldate(*f.internal_date).value_or(0) : 0;
  view.by_seq[f.seq] = info;
  view.by_uid[info.uid] = info;
}

// SELECT (EXAMINE for a dry run), with `qresync` parameters when given; fills the
// view's header fields. `on_data` gets the SELECT's untagged data.
core::Result<void> select(imap::Session& session, const state::FolderRow& row,
                          const std::optional<imap::QresyncParams>& qresync,
                          const ExecuteOptions& options, const std::string& where,
                          const imap::DataHandler& on_data, RemoteView& view) {
  session.reset_mailbox();
  auto command =
      imap::select_command(row.name, options.dry_run, qresync, false, session.literal_mode());
  UIDSYNC_TRY(command);
  UIDSYNC_TRY(session.execute(*command, options.timeout, on_data));
  const auto& mailbox = session.mailbox();
  if (!mailbox.uidvalidity || *mailbox.uidvalidity == 0 || *mailbox.uidvalidity > UINT32_MAX) {
    return core::fail(core::Scope::folder, where + ": the server sent no usable UIDVALIDITY",
                      "RFC 3501 §2.3.1.1 requires one; report this to the server's operator");
  }
  view.uidvalidity = static_cast<core::UidValidity>(*mailbox.uidvalidity);
  view.exists = mailbox.exists;
  view.uidnext = static_cast<core::Uid>(
      mailbox.uidnext.value_or(0) > UINT32_MAX ? 0 : mailbox.uidnext.value_or(0));
  view.highestmodseq = mailbox.nomodseq ? 0 : mailbox.highestmodseq.value_or(0);
  return {};
}

// UID FETCH 1:* (UID FLAGS RFC822.SIZE INTERNALDATE): every message into the view.
core::Result<void> list_all(imap::Session& session, const ExecuteOptions& options,
                            const std::string& where, RemoteView& view) {
  auto command = imap::CommandBuilder("UID FETCH").raw("1:*").raw(k_list_items).build();
  UIDSYNC_TRY(command);
  return run_all(
      session, {std::move(*command)},
      [&](const imap::Response& r) {
        const auto* f = std::get_if<imap::Fetch>(&r.value);
        if (f != nullptr && f->uid) {
          add_listed(*f, view);
        }
      },
      options.timeout, where + ": UID FETCH 1:*");
}

// Whether this session may use QRESYNC; sends ENABLE once per session (RFC 7162
// §3.2.3: QRESYNC parameters are only allowed after ENABLE QRESYNC).
core::Result<bool> qresync_enabled(imap::Session& session, const ExecuteOptions& options) {
  if (!session.has_capability("QRESYNC") || !session.has_capability("ENABLE")) {
    return false;
  }
  if (session.enabled().count("QRESYNC") == 0) {
    UIDSYNC_TRY(session.enable_qresync(options.timeout));
  }
  return session.enabled().count("QRESYNC") != 0;
}

// The QRESYNC view: the state's rows minus VANISHED plus the changed messages the
// SELECT reported; messages the state does not know are listed in full. Returns
// false when the result cannot be trusted (its count differs from EXISTS), so the
// caller lists the folder in full instead.
core::Result<bool> read_incremental(imap::Session& session, const state::FolderRow& row,
                                    const std::map<core::Uid, state::MessageRow>& known,
                                    const ExecuteOptions& options, const std::string& where,
                                    RemoteView& view) {
  const auto log = util::logger("sync");
  std::vector<core::Uid> known_uids;
  known_uids.reserve(known.size());
  for (const auto& [uid, r] : known) {
    known_uids.push_back(uid);
  }
  imap::QresyncParams params{row.uidvalidity, row.highestmodseq, imap::UidSet::of(known_uids)};
  if (params.known_uids.to_string().size() > k_max_known_uids_chars) {
    params.known_uids = {};
  }
  imap::UidSet vanished;
  std::vector<imap::Fetch> changes;
  UIDSYNC_TRY(select(
      session, row, params, options, where,
      [&](const imap::Response& r) {
        if (const auto* v = std::get_if<imap::Vanished>(&r.value)) {
          for (const auto& range : v->uids.ranges()) {
            vanished.add_range(range.first, range.last);
          }
        } else if (const auto* f = std::get_if<imap::Fetch>(&r.value); f != nullptr && f->uid) {
          changes.push_back(*f);
        }
      },
      view));
  if (view.uidvalidity != row.uidvalidity || view.highestmodseq == 0) {
    // RFC 7162 §3.2.5.2: with another UIDVALIDITY the server ignores the parameters.
    log->debug("{}: {}; full listing", where,
               view.uidvalidity != row.uidvalidity ? "UIDVALIDITY changed" : "NOMODSEQ");
    return false;
  }
  view.vanished = vanished;
  for (const auto& [uid, r] : known) {
    if (!vanished.contains(uid)) {
      // `known` is in UID order: each entry goes at the end, without a search.
      view.by_uid.emplace_hint(view.by_uid.end(), uid,
                               RemoteInfo{uid, r.flags, r.size, r.internaldate});
    }
  }
  // Changes to UIDs the state does not know, and messages above the highest known
  // UID: Dovecot 2.3 limits the SELECT's FETCH responses to the known-uids it was
  // given, so new mail is asked for by UID range when UIDNEXT says there is some.
  const core::Uid highest = known.empty() ? 0 : known.rbegin()->first;
  std::vector<core::Uid> unknown;
  for (const auto& f : changes) {
    if (*f.uid == 0) {
      view.listed.push_back(0);
      continue;
    }
    if (vanished.contains(*f.uid)) {
      continue;
    }
    auto it = view.by_uid.find(*f.uid);
    if (it == view.by_uid.end()) {
      if (*f.uid < highest) {
        unknown.push_back(*f.uid); // listed when its size and date arrive
      }
      continue;
    }
    view.listed.push_back(*f.uid);
    if (f.flags) {
      it->second.flags = flags_from_imap(*f.flags);
    }
    view.by_seq[f.seq] = it->second;
  }
  // UIDNEXT as stored by the last complete sync tells whether mail arrived since,
  // even when the highest UIDs were expunged meanwhile.
  const bool above =
      view.uidnext == 0 ||
      view.uidnext > std::max<std::uint64_t>(row.uidnext, highest + std::uint64_t{1});
  if (!unknown.empty() || (above && view.exists > 0)) {
    const auto set = imap::UidSet::of(unknown);
    auto commands = imap::uid_set_commands("UID FETCH", set, k_list_items);
    if (above && view.exists > 0) {
      // "n:*" with n above every UID still returns the last message (RFC 3501
      // §6.4.8); the listing is filtered to the UIDs asked for.
      auto tail = imap::CommandBuilder("UID FETCH")
                      .raw(fmt::format("{}:*", highest + 1))
                      .raw(k_list_items)
                      .build();
      UIDSYNC_TRY(tail);
      commands.push_back(std::move(*tail));
    }
    UIDSYNC_TRY(run_all(
        session, std::move(commands),
        [&](const imap::Response& r) {
          const auto* f = std::get_if<imap::Fetch>(&r.value);
          if (f != nullptr && f->uid && (*f->uid > highest || set.contains(*f->uid))) {
            add_listed(*f, view);
          }
        },
        options.timeout, where + ": UID FETCH of new messages"));
  }
  if (view.by_uid.size() != view.exists) {
    log->debug("{}: QRESYNC view has {} message(s) but EXISTS is {}; full listing", where,
               view.by_uid.size(), view.exists);
    return false;
  }
  log->debug("{}: QRESYNC since modseq {}: {} changed, {} vanished, {} in all", where,
             row.highestmodseq, changes.size(), vanished.count(), view.by_uid.size());
  return true;
}

} // namespace

core::Result<RemoteView> read_remote(imap::Session& session, const state::FolderRow& row,
                                     const std::map<core::Uid, state::MessageRow>& known,
                                     const ExecuteOptions& options, const std::string& where) {
  const auto log = util::logger("sync");
  auto qresync = qresync_enabled(session, options);
  UIDSYNC_TRY(qresync);
  if (*qresync && row.uidvalidity != 0 && row.highestmodseq != 0) {
    RemoteView view;
    auto done = read_incremental(session, row, known, options, where, view);
    UIDSYNC_TRY(done);
    if (*done) {
      view.incremental = true;
      return view;
    }
    // The folder stays selected; list it in full below.
    RemoteView full;
    full.uidvalidity = view.uidvalidity;
    full.exists = view.exists;
    full.uidnext = view.uidnext;
    full.highestmodseq = view.highestmodseq;
    if (full.exists > 0) {
      UIDSYNC_TRY(list_all(session, options, where, full));
    }
    return full;
  }
  log->debug("{}: full listing ({})", where,
             !*qresync ? "the server has no QRESYNC"
                       : "no HIGHESTMODSEQ stored from a complete earlier sync");
  // SELECT (read-write: flags and deletions are written back; EXAMINE for a dry run).
  RemoteView view;
  UIDSYNC_TRY(select(session, row, std::nullopt, options, where, {}, view));
  if (view.exists > 0) {
    UIDSYNC_TRY(list_all(session, options, where, view));
  }
  return view;
}

core::Result<void> remember_modseq(state::Db& db, state::FolderRow& row, const RemoteView& view,
                                   const Stats& before, const Stats& after,
                                   const std::string& where) {
  const bool left_behind = after.failed != before.failed || after.held != before.held ||
                           after.quarantined != before.quarantined ||
                           after.quarantine_waiting != before.quarantine_waiting;
  if (left_behind) {
    util::logger("sync")->debug("{}: messages left behind; HIGHESTMODSEQ stays {}", where,
                                row.highestmodseq);
    return {};
  }
  if (row.highestmodseq == view.highestmodseq && row.uidnext == view.uidnext) {
    return {};
  }
  row.highestmodseq = view.highestmodseq;
  row.uidnext = view.uidnext;
  UIDSYNC_TRY(db.put_folder(row));
  return {};
}

core::Result<bool> settled_locally(const maildir::Folder& folder, state::Db& db,
                                   const state::FolderRow& row) {
  if (row.uidvalidity == 0 || row.highestmodseq == 0 || row.uidnext == 0 ||
      row.scan_stamp.empty()) {
    return false;
  }
  auto local_same = folder.unchanged_since(row.scan_stamp);
  UIDSYNC_TRY(local_same);
  if (!*local_same) {
    return false;
  }
  auto journal = db.appends(row.id);
  UIDSYNC_TRY(journal);
  auto quarantined = db.quarantine(row.id);
  UIDSYNC_TRY(quarantined);
  return journal->empty() &&
         std::none_of(quarantined->begin(), quarantined->end(), [](const state::QuarantineRow& q) {
           return q.state == state::QuarantineState::active;
         });
}

core::Result<bool> unchanged_by_status(const maildir::Folder& folder, state::Db& db,
                                       const state::FolderRow& row,
                                       const imap::MailboxStatus& status) {
  const auto item = [&status](std::string_view name) -> std::optional<std::uint64_t> {
    for (const auto& [key, value] : status.items) {
      if (key == name) {
        return value;
      }
    }
    return std::nullopt;
  };
  const auto uidvalidity = item("UIDVALIDITY");
  const auto modseq = item("HIGHESTMODSEQ");
  const auto uidnext = item("UIDNEXT");
  const auto messages = item("MESSAGES");
  if (!uidvalidity || !modseq || !uidnext || !messages || *uidvalidity != row.uidvalidity ||
      *modseq != row.highestmodseq || *uidnext != row.uidnext) {
    return false;
  }
  auto settled = settled_locally(folder, db, row);
  UIDSYNC_TRY(settled);
  if (!*settled) {
    return false;
  }
  auto count = db.message_count(row.id);
  UIDSYNC_TRY(count);
  return *count == *messages;
}

core::Result<bool> nothing_changed(imap::Session& session, const maildir::Folder& folder,
                                   state::Db& db, const state::FolderRow& row,
                                   const ExecuteOptions& options, const std::string& where) {
  auto settled = settled_locally(folder, db, row);
  UIDSYNC_TRY(settled);
  if (!*settled) {
    return false;
  }
  auto count = db.message_count(row.id);
  UIDSYNC_TRY(count);
  auto enabled = qresync_enabled(session, options);
  UIDSYNC_TRY(enabled);
  if (!*enabled) {
    return false;
  }
  bool reported = false; // any VANISHED or FETCH: something changed
  RemoteView view;
  UIDSYNC_TRY(select(
      session, row, imap::QresyncParams{row.uidvalidity, row.highestmodseq, {}}, options, where,
      [&](const imap::Response& r) {
        reported = reported || std::holds_alternative<imap::Vanished>(r.value) ||
                   std::holds_alternative<imap::Fetch>(r.value);
      },
      view));
  const bool same = !reported && view.uidvalidity == row.uidvalidity &&
                    view.highestmodseq == row.highestmodseq && view.uidnext == row.uidnext &&
                    view.exists == *count;
  util::logger("sync")->debug("{}: {}", where,
                              same ? "unchanged on both sides since the last sync (one SELECT)"
                                   : "changed since the last sync");
  return same;
}

core::Result<std::string> stamp_after_sync(const maildir::Folder& folder, state::Db& db,
                                           const state::FolderRow& row, const Plan& plan,
                                           const Stats& before, const Stats& after) {
  const bool left_behind = after.failed != before.failed || after.held != before.held ||
                           after.quarantined != before.quarantined ||
                           after.quarantine_waiting != before.quarantine_waiting ||
                           after.appended != before.appended + plan.appends.size() ||
                           !plan.stray.empty();
  if (left_behind) {
    return std::string();
  }
  auto names = db.local_names(row.id);
  UIDSYNC_TRY(names);
  return folder.settled_stamp(std::move(*names));
}

} // namespace uidsync::sync::detail
