// SPDX-License-Identifier: GPL-3.0-or-later
// The executor: snapshot both sides of one folder, plan, and carry the plan out.
#include "detail.hpp"

#include <uidsync/imap/command.hpp>
#include <uidsync/imap/uid_set.hpp>
#include <uidsync/maildir/name.hpp>
#include <uidsync/sync/anomaly.hpp>
#include <uidsync/sync/executor.hpp>
#include <uidsync/sync/quarantine.hpp>
#include <uidsync/sync/repair.hpp>
#include <uidsync/util/log.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <iterator>
#include <map>
#include <memory>
#include <utility>

namespace uidsync::sync {

namespace {

struct FlagName {
  core::Flags::Bit bit;
  std::string_view name;
};
// Maildir letter <-> IMAP flag; P has no system flag, $Forwarded is the common keyword.
constexpr std::array<FlagName, 6> k_flag_names{{{core::Flags::draft, "\\Draft"},
                                                {core::Flags::flagged, "\\Flagged"},
                                                {core::Flags::passed, "$Forwarded"},
                                                {core::Flags::replied, "\\Answered"},
                                                {core::Flags::seen, "\\Seen"},
                                                {core::Flags::trashed, "\\Deleted"}}};

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

Quarantine::Options quarantine_options(const state::Db& db, const ExecuteOptions& options) {
  Quarantine::Options q;
  q.policy = options.quarantine;
  q.account = options.account.empty() ? db.path().stem().string() : options.account;
  const auto state_dir = options.state_dir.empty() ? db.path().parent_path() : options.state_dir;
  q.evidence_dir = evidence_dir(state_dir, q.account);
  return q;
}

// The local listing of a folder that is settled since the last sync
// (detail::settled_locally): its files are then exactly the state's local names
// (Folder::settled_stamp checked that when the stamp was taken, and cur/ and new/
// kept their mtimes since), so the listing is derived from `rows` without
// reading the directories. UID and flags come from each name as a scan would
// take them; the size is the state's, not the file's: the planner reads the
// size of unpaired files only, and every file here is paired with its row.
// Fills `name_of` (key -> local name).
std::vector<LocalMsg> settled_listing(const std::map<core::Uid, state::MessageRow>& rows,
                                      std::map<std::string, std::string>& name_of) {
  std::vector<LocalMsg> local;
  local.reserve(rows.size());
  for (const auto& [uid, r] : rows) {
    const auto slash = r.local_name.rfind('/');
    const auto parsed = maildir::parse_name(
        slash == std::string::npos ? std::string_view(r.local_name)
                                   : std::string_view(r.local_name).substr(slash + 1));
    if (!parsed) {
      continue; // a scan skips such a name too
    }
    const auto key = message_key(r.local_name);
    local.push_back({key, parsed->uid, parsed->flags, r.size});
    name_of[key] = r.local_name;
  }
  return local;
}

} // namespace

Stats& Stats::operator+=(const Stats& other) {
  fetched += other.fetched;
  adopted += other.adopted;
  remote_flags += other.remote_flags;
  local_flags += other.local_flags;
  local_deletes += other.local_deletes;
  remote_deletes += other.remote_deletes;
  appended += other.appended;
  appends_pending += other.appends_pending;
  held += other.held;
  failed += other.failed;
  quarantined += other.quarantined;
  quarantine_waiting += other.quarantine_waiting;
  released += other.released;
  anomalies += other.anomalies;
  bytes += other.bytes;
  return *this;
}

void BodyRouter::begin(std::uint32_t seq, std::string_view section, std::uint64_t size) {
  if (m_target != nullptr) {
    m_target->begin(seq, section, size);
  }
}
void BodyRouter::chunk(std::string_view bytes) {
  if (m_target != nullptr) {
    m_target->chunk(bytes);
  }
}
void BodyRouter::finish(const imap::Fetch& fetch) {
  if (m_target != nullptr) {
    m_target->finish(fetch);
  }
}
void BodyRouter::abort(std::string_view reason) {
  if (m_target != nullptr) {
    m_target->abort(reason);
  }
}

core::Flags flags_from_imap(const std::vector<std::string>& names) {
  core::Flags out;
  for (const auto& name : names) {
    for (const auto& f : k_flag_names) {
      if (iequals(name, f.name)) {
        out.set(f.bit);
      }
    }
  }
  return out;
}

std::string flags_to_imap(core::Flags flags) {
  std::string out;
  for (const auto& f : k_flag_names) {
    if (flags.has(f.bit)) {
      out += (out.empty() ? "" : " ") + std::string(f.name);
    }
  }
  return "(" + out + ")";
}

std::optional<std::int64_t> parse_internaldate(std::string_view text) {
  // date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE;
  // the parser has removed the quotes. date-day-fixed may start with a space.
  static constexpr std::array<std::string_view, 12> k_months{
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  while (!text.empty() && text.front() == ' ') {
    text.remove_prefix(1);
  }
  int day = 0;
  int year = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
  int zone = 0;
  char month[4] = {};
  char sign = 0;
  const std::string s(text);
  int consumed = 0;
  if (std::sscanf(s.c_str(), "%2d-%3c-%4d %2d:%2d:%2d %c%4d%n", &day, month, &year, &hour, &minute,
                  &second, &sign, &zone, &consumed) != 8 ||
      static_cast<std::size_t>(consumed) != s.size() || (sign != '+' && sign != '-')) {
    return std::nullopt;
  }
  const auto m = std::find_if(k_months.begin(), k_months.end(),
                              [&](std::string_view name) { return iequals(name, month); });
  if (m == k_months.end() || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = static_cast<int>(m - k_months.begin());
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const std::int64_t offset = (zone / 100) * 3600 + (zone % 100) * 60;
  return static_cast<std::int64_t>(::timegm(&tm)) - (sign == '-' ? -offset : offset);
}

std::string message_key(std::string_view local_name) {
  const auto slash = local_name.rfind('/');
  if (slash != std::string_view::npos) {
    local_name.remove_prefix(slash + 1);
  }
  return std::string(local_name.substr(0, local_name.find(":2,")));
}

core::Result<Plan> sync_folder(imap::Session& session, BodyRouter& router, maildir::Folder& folder,
                               state::Db& db, state::FolderRow& row, const ExecuteOptions& options,
                               Stats& stats) {
  const auto log = util::logger("sync");
  const auto where = "folder " + row.name;
  const Stats before = stats;

  // 0. Nothing changed on either side since the last sync: one SELECT, no plan
  // (unless the account's LIST-STATUS already told a change).
  if (!options.status_checked) {
    auto quiet = detail::nothing_changed(session, folder, db, row, options, where);
    UIDSYNC_TRY(quiet);
    if (*quiet) {
      return Plan{};
    }
  }

  // 1. The state, then the server's side (SELECT, then UID, flags, size and
  // INTERNALDATE of its messages).
  auto state_rows = db.messages_by_uid(row.id);
  UIDSYNC_TRY(state_rows);
  auto rows = std::move(*state_rows);
  auto view = detail::read_remote(session, row, rows, options, where);
  UIDSYNC_TRY(view);
  const auto& by_uid = view->by_uid;
  const auto uidvalidity = view->uidvalidity;
  if (row.uidvalidity != 0 && row.uidvalidity != uidvalidity) {
    if (options.dry_run) {
      return core::fail(core::Scope::folder,
                        fmt::format("{}: UIDVALIDITY changed from {} to {}; a real run re-pairs "
                                    "the messages by Message-ID and size",
                                    where, row.uidvalidity, uidvalidity),
                        "run sync without --dry-run");
    }
    UIDSYNC_TRY(repair_uidvalidity(session, folder, db, row, *view, rows, options.timeout, where));
    ++stats.anomalies;
  }
  // The server's view must keep RFC 3501's rules before anything is acted on.
  auto excused = quarantined_uids(db, row.id, uidvalidity);
  UIDSYNC_TRY(excused);
  auto verdict =
      verify_view(session, db, row, *view, rows, *excused, options.dry_run, options.timeout, where);
  UIDSYNC_TRY(verdict);
  stats.anomalies += verdict->recorded;
  std::vector<StateRow> state;
  state.reserve(rows.size());
  for (const auto& [uid, r] : rows) {
    state.push_back({uid, message_key(r.local_name), r.flags, r.size});
  }
  // Uploads an interrupted run left half done are settled before planning.
  if (!options.dry_run) {
    auto recovered =
        detail::recover_appends(session, router, folder, db, row, *view, rows, options);
    UIDSYNC_TRY(recovered);
    for (const auto& r : *recovered) {
      state.push_back({r.uid, message_key(r.local_name), r.flags, r.size});
    }
  }
  std::vector<RemoteMsg> remote;
  remote.reserve(by_uid.size());
  for (const auto& [uid, info] : by_uid) {
    remote.push_back({uid, info.flags, info.size});
  }

  // 2. The local side: listed, unless it is settled since the last sync.
  auto settled = detail::settled_locally(folder, db, row);
  UIDSYNC_TRY(settled);
  std::vector<LocalMsg> local;
  std::map<std::string, std::string> name_of; // key -> "cur/<file>"
  if (*settled) {
    local = settled_listing(rows, name_of);
    log->debug("{}: unchanged locally since the last sync; {} file(s) listed from the state",
               where, local.size());
  } else {
    auto scan = folder.scan();
    UIDSYNC_TRY(scan);
    local.reserve(scan->messages.size());
    for (const auto& m : scan->messages) {
      const auto key = message_key(m.name);
      local.push_back({key, m.uid, m.flags, m.size});
      name_of[key] = m.name;
    }
  }

  Plan plan = plan_folder(remote, local, state, options.plan);
  if (verdict->hold_deletions && (!plan.local_deletes.empty() || !plan.remote_deletes.empty())) {
    plan.held_local_deletes.insert(plan.held_local_deletes.end(), plan.local_deletes.begin(),
                                   plan.local_deletes.end());
    plan.held_remote_deletes.insert(plan.held_remote_deletes.end(), plan.remote_deletes.begin(),
                                    plan.remote_deletes.end());
    plan.local_deletes.clear();
    plan.remote_deletes.clear();
    plan.held_reason = HoldReason::server_anomaly;
  }
  stats.held += plan.held_local_deletes.size() + plan.held_remote_deletes.size();
  stats.appends_pending += plan.appends.size();
  if (options.dry_run) {
    return plan;
  }
  if (row.uidvalidity == 0) {
    row.uidvalidity = uidvalidity;
    UIDSYNC_TRY(db.put_folder(row));
  }
  // State writes of one step are collected and written in one transaction after the
  // step's side effects (each side effect still comes before its record), so a
  // step costs one commit, not one per message, and no transaction is held open
  // across a network round trip while other connections write the same DB.
  std::vector<state::MessageRow> pending;
  auto put_row = [&](state::MessageRow r) -> core::Result<void> {
    rows[r.uid] = r;
    pending.push_back(std::move(r));
    return {};
  };
  auto flush_rows = [&]() -> core::Result<void> {
    if (!pending.empty()) {
      UIDSYNC_TRY(db.put_messages(pending));
      pending.clear();
    }
    return {};
  };
  auto delete_rows = [&](const std::vector<core::Uid>& uids) -> core::Result<void> {
    if (uids.empty()) {
      return {};
    }
    auto tx = db.begin();
    UIDSYNC_TRY(tx);
    for (const core::Uid uid : uids) {
      UIDSYNC_TRY(db.delete_message(row.id, uid));
      rows.erase(uid);
    }
    return tx->commit();
  };
  auto message_failed = [&](const core::Error& e) -> core::Result<void> {
    if (e.scope != core::Scope::message) {
      return util::unexpected(e);
    }
    log->warn("{}: {}", where, e.what());
    ++stats.failed;
    return {};
  };

  // 3. Fetch: file durable first, then its state row (Batch::commit's order).
  // Quarantined UIDs wait for their backoff; those the server dropped are released.
  auto quarantine = Quarantine::load(db, row, quarantine_options(db, options), stats);
  UIDSYNC_TRY(quarantine);
  if (!view->incremental) {
    std::vector<core::Uid> gone;
    for (const auto& [uid, q] : quarantine->rows()) {
      if (by_uid.count(uid) == 0) {
        gone.push_back(uid);
      }
    }
    for (const core::Uid uid : gone) {
      UIDSYNC_TRY(quarantine->release(uid, true));
    }
  }
  std::erase_if(plan.fetch, [&](core::Uid uid) {
    const bool waiting = quarantine->waiting(uid);
    stats.quarantine_waiting += waiting ? 1 : 0;
    return waiting;
  });
  UIDSYNC_TRY(detail::fetch_bodies(session, router, folder, db, row, plan.fetch, *view, options,
                                   stats, *quarantine));

  // 4. Adoptions: the file already is the message; record the pair.
  for (const auto& a : plan.adopt) {
    state::MessageRow r;
    r.folder_id = row.id;
    r.uid = a.uid;
    r.local_name = name_of.at(a.key);
    r.flags = a.flags;
    r.size = by_uid.at(a.uid).size;
    r.internaldate = by_uid.at(a.uid).internaldate;
    auto content = folder.content(r.local_name);
    if (!content) {
      UIDSYNC_TRY(message_failed(content.error()));
      continue;
    }
    r.message_id = content->message_id;
    r.digest = content->digest;
    UIDSYNC_TRY(put_row(std::move(r)));
    ++stats.adopted;
  }
  UIDSYNC_TRY(flush_rows());

  // The highest UID seen + 1 (the fetched rows are in the DB), so that an old UID
  // offered again is recognised.
  auto stored = db.message_uids(row.id);
  UIDSYNC_TRY(stored);
  if (const auto next = next_uidnext(*view, *stored, *excused, row.uidnext);
      next != row.uidnext) {
    row.uidnext = next;
    UIDSYNC_TRY(db.put_folder(row));
  }

  // 5. Flags, server side then local side, then the agreed flags in the state.
  if (!plan.remote_flags.empty()) {
    UIDSYNC_TRY(detail::run_all(session, detail::store_commands(plan.remote_flags), {},
                                options.timeout, where + ": UID STORE"));
    stats.remote_flags += plan.remote_flags.size();
  }
  for (const auto& f : plan.local_flags) {
    auto renamed = folder.set_flags(name_of.at(f.key), f.flags);
    if (!renamed) {
      UIDSYNC_TRY(message_failed(renamed.error()));
      continue;
    }
    name_of[f.key] = *renamed;
    ++stats.local_flags;
    if (auto r = rows.find(f.uid); r != rows.end() && r->second.local_name != *renamed) {
      auto updated = r->second;
      updated.local_name = *renamed;
      UIDSYNC_TRY(put_row(std::move(updated)));
    }
  }
  for (const auto& s : plan.state_flags) {
    if (auto r = rows.find(s.uid); r != rows.end()) {
      auto updated = r->second;
      updated.flags = s.flags;
      // Flags changed locally: the file was renamed, the row must name it as it is now.
      if (const auto n = name_of.find(message_key(r->second.local_name)); n != name_of.end()) {
        updated.local_name = n->second;
      }
      UIDSYNC_TRY(put_row(std::move(updated)));
    }
  }
  UIDSYNC_TRY(flush_rows());

  // 6. Deletions. Local: the server expunged the UID.
  std::map<std::string, core::Uid> uid_of_key;
  if (!plan.local_deletes.empty()) {
    for (const auto& [uid, r] : rows) {
      uid_of_key[message_key(r.local_name)] = uid;
    }
  }
  std::vector<core::Uid> unlinked;
  for (const auto& key : plan.local_deletes) {
    auto removed = folder.expunge(name_of.at(key));
    if (!removed) {
      UIDSYNC_TRY(message_failed(removed.error()));
      continue;
    }
    ++stats.local_deletes;
    if (const auto it = uid_of_key.find(key); it != uid_of_key.end()) {
      unlinked.push_back(it->second);
    }
  }
  UIDSYNC_TRY(delete_rows(unlinked));
  // Remote: the local file is gone. UID EXPUNGE (RFC 4315) removes only these
  // UIDs; without UIDPLUS a plain EXPUNGE would also remove other clients'
  // \Deleted messages, so the deletion is left for a later version.
  if (!plan.remote_deletes.empty()) {
    if (!session.has_capability("UIDPLUS")) {
      log->warn("{}: {} message(s) deleted locally stay on the server: it lacks UIDPLUS "
                "(RFC 4315), needed to expunge only them",
                where, plan.remote_deletes.size());
    } else {
      const auto set = imap::UidSet::of(plan.remote_deletes);
      auto commands = imap::uid_set_commands("UID STORE", set, "+FLAGS.SILENT (\\Deleted)");
      auto expunges = imap::uid_set_commands("UID EXPUNGE", set, "");
      std::move(expunges.begin(), expunges.end(), std::back_inserter(commands));
      UIDSYNC_TRY(detail::run_all(session, std::move(commands), {}, options.timeout,
                                  where + ": UID EXPUNGE"));
      UIDSYNC_TRY(delete_rows(plan.remote_deletes));
      stats.remote_deletes += plan.remote_deletes.size();
      auto ghosts = verify_after_expunge(session, db, row, *excused, options.timeout, where);
      UIDSYNC_TRY(ghosts);
      stats.anomalies += *ghosts;
    }
  }
  if (plan.held_reason != HoldReason::none) {
    static constexpr std::array<std::string_view, 5> k_reasons{
        "", "more than the mass-deletion guard allows", "the local folder directory is missing",
        "the local folder is empty", "the server's listing breaks RFC 3501's rules (see above)"};
    log->warn("{}: held {} local and {} server deletion(s): {}; nothing was deleted", where,
              plan.held_local_deletes.size(), plan.held_remote_deletes.size(),
              k_reasons.at(static_cast<std::size_t>(plan.held_reason)));
    if (plan.held_reason != HoldReason::server_anomaly) {
      log->warn("{}: if these deletions are intended, run again with --allow-mass-delete", where);
    }
  }
  UIDSYNC_TRY(delete_rows(plan.forget));
  // 7. Uploads of new local mail, each journaled first.
  UIDSYNC_TRY(detail::append_messages(session, router, folder, db, row, plan.appends, name_of,
                                      *view, options, stats));
  auto stamp = detail::stamp_after_sync(folder, db, row, plan, before, stats);
  UIDSYNC_TRY(stamp);
  row.scan_stamp = *stamp; // stored with the folder row by the caller
  UIDSYNC_TRY(detail::remember_modseq(db, row, *view, before, stats, where));
  return plan;
}

} // namespace uidsync::sync
