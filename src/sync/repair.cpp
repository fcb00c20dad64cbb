// SPDX-License-Identifier: GPL-3.0-or-later
// UIDVALIDITY recovery: pair the stored messages with the renumbered ones.
#include "detail.hpp"

#include <uidsync/imap/command.hpp>
#include <uidsync/maildir/content.hpp>
#include <uidsync/sync/repair.hpp>
#include <uidsync/util/log.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <set>
#include <utility>

namespace uidsync::sync {

void PrintTo(const Pairing& pairing, std::ostream* os) {
  *os << pairing.old_uid << "->" << pairing.new_uid;
}

std::vector<Pairing> pair_by_content(const std::vector<state::MessageRow>& old_rows,
                                     const std::vector<ServerHeader>& server) {
  using Key = std::pair<std::string, std::uint64_t>;
  std::map<Key, std::vector<const state::MessageRow*>> olds;
  std::map<Key, std::vector<core::Uid>> news;
  for (const auto& r : old_rows) {
    if (!r.message_id.empty()) {
      olds[{r.message_id, r.size}].push_back(&r);
    }
  }
  for (const auto& h : server) {
    if (!h.message_id.empty()) {
      news[{h.message_id, h.size}].push_back(h.uid);
    }
  }
  std::vector<Pairing> out;
  for (auto& [key, group] : olds) {
    auto it = news.find(key);
    if (it == news.end()) {
      continue;
    }
    auto& uids = it->second;
    std::sort(group.begin(), group.end(), [](auto* a, auto* b) { return a->uid < b->uid; });
    std::sort(uids.begin(), uids.end());
    // (clang 14 cannot capture a structured binding: name the digest first)
    const std::string& digest = group.front()->digest;
    const bool copies = std::all_of(group.begin(), group.end(), [&digest](auto* r) {
      return !r->digest.empty() && r->digest == digest;
    });
    // One stored message with several server candidates: which one is unknown.
    if (!(group.size() == 1 && uids.size() == 1) && !(group.size() > 1 && copies)) {
      continue;
    }
    for (std::size_t i = 0; i < std::min(group.size(), uids.size()); ++i) {
      out.push_back({group[i]->uid, uids[i]});
    }
  }
  std::sort(out.begin(), out.end(),
            [](const Pairing& a, const Pairing& b) { return a.old_uid < b.old_uid; });
  return out;
}

core::Result<RepairReport> repair_uidvalidity(imap::Session& session, maildir::Folder& folder,
                                              state::Db& db, state::FolderRow& row,
                                              const RemoteView& view,
                                              std::map<core::Uid, state::MessageRow>& rows,
                                              std::chrono::milliseconds timeout,
                                              const std::string& where) {
  const auto log = util::logger("sync");
  std::vector<ServerHeader> server;
  if (view.exists != 0) {
    auto list = imap::CommandBuilder("UID FETCH")
                    .raw("1:*")
                    .raw("(UID RFC822.SIZE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
                    .build();
    UIDSYNC_TRY(list);
    UIDSYNC_TRY(detail::run_all(
        session, {std::move(*list)},
        [&](const imap::Response& r) {
          const auto* f = std::get_if<imap::Fetch>(&r.value);
          if (f == nullptr || !f->uid || *f->uid == 0) {
            return;
          }
          ServerHeader h{*f->uid, f->rfc822_size.value_or(0), {}};
          for (const auto& body : f->bodies) {
            if (body.data) {
              h.message_id = maildir::extract_message_id(*body.data);
            }
          }
          server.push_back(std::move(h));
        },
        timeout, where + ": UID FETCH 1:* (Message-ID, size)"));
  }
  std::vector<state::MessageRow> old_rows;
  for (const auto& [uid, r] : rows) {
    old_rows.push_back(r);
  }
  const auto pairs = pair_by_content(old_rows, server);
  std::map<core::Uid, core::Uid> new_of;
  for (const auto& p : pairs) {
    new_of[p.old_uid] = p.new_uid;
  }

  // Files first (see the header for why), then the state in one transaction.
  RepairReport report;
  std::vector<state::MessageRow> new_rows;
  for (const auto& r : old_rows) {
    const auto it = new_of.find(r.uid);
    const core::Uid uid = it == new_of.end() ? 0 : it->second;
    auto renamed = folder.retag_uid(r.local_name, uid);
    if (!renamed) {
      if (renamed.error().scope != core::Scope::message) {
        return util::unexpected(renamed.error());
      }
      log->warn("{}: {}", where, renamed.error().what());
      continue;
    }
    if (uid == 0) {
      ++report.unpaired;
      continue;
    }
    auto n = r;
    n.uid = uid;
    n.local_name = *renamed;
    new_rows.push_back(std::move(n));
    ++report.paired;
  }
  std::set<core::Uid> taken;
  for (const auto& p : pairs) {
    taken.insert(p.new_uid);
  }
  report.fresh = static_cast<std::size_t>(
      std::count_if(server.begin(), server.end(),
                    [&](const ServerHeader& h) { return taken.count(h.uid) == 0; }));

  const auto old_validity = row.uidvalidity;
  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  {
    auto tx = db.begin();
    UIDSYNC_TRY(tx);
    for (const auto& r : old_rows) {
      UIDSYNC_TRY(db.delete_message(row.id, r.uid));
    }
    for (const auto& r : new_rows) {
      UIDSYNC_TRY(db.put_message(r));
    }
    row.uidvalidity = view.uidvalidity;
    row.uidnext = 0;
    row.highestmodseq = 0;
    UIDSYNC_TRY(db.put_folder(row));
    state::AnomalyRow a;
    a.folder_id = row.id;
    a.kind = state::AnomalyKind::uidvalidity_changed;
    a.detail =
        fmt::format("UIDVALIDITY changed from {} to {}: {} message(s) re-paired by "
                    "Message-ID and size, {} new on the server, {} local file(s) kept "
                    "without a UID",
                    old_validity, view.uidvalidity, report.paired, report.fresh, report.unpaired);
    a.seen_at = now;
    a.resolved_at = now;
    UIDSYNC_TRY(db.add_anomaly(a));
    UIDSYNC_TRY(tx->commit());
  }
  rows.clear();
  for (auto& r : new_rows) {
    rows[r.uid] = std::move(r);
  }
  log->warn("{}: UIDVALIDITY changed from {} to {} (the server renumbered the folder): {} "
            "message(s) re-paired without download, {} new on the server, {} local file(s) "
            "kept as new local mail; nothing was deleted",
            where, old_validity, view.uidvalidity, report.paired, report.fresh, report.unpaired);
  return report;
}

} // namespace uidsync::sync
