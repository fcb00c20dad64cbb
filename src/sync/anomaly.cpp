// SPDX-License-Identifier: GPL-3.0-or-later
// Server anomalies: the listing checks, the re-check after NOOP, and their records.
#include "detail.hpp"

#include <uidsync/imap/command.hpp>
#include <uidsync/imap/uid_set.hpp>
#include <uidsync/maildir/content.hpp>
#include <uidsync/sync/anomaly.hpp>
#include <uidsync/util/log.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <utility>

namespace uidsync::sync {

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

core::Uid highest(const RemoteView& view) {
  return view.by_uid.empty() ? 0 : view.by_uid.rbegin()->first;
}

// NOOP, then the full listing of the selected folder (no new SELECT: a lagging
// replica shows its stale view only within one selection) into a fresh view.
core::Result<RemoteView> relist(imap::Session& session, const RemoteView& before,
                                std::chrono::milliseconds timeout, const std::string& where) {
  auto noop = imap::CommandBuilder("NOOP").build();
  UIDSYNC_TRY(noop);
  auto list = imap::CommandBuilder("UID FETCH")
                  .raw("1:*")
                  .raw("(UID FLAGS RFC822.SIZE INTERNALDATE)")
                  .build();
  UIDSYNC_TRY(list);
  RemoteView view;
  view.uidvalidity = before.uidvalidity;
  view.highestmodseq = before.highestmodseq;
  UIDSYNC_TRY(detail::run_all(
      session, {std::move(*noop), std::move(*list)},
      [&](const imap::Response& r) {
        const auto* f = std::get_if<imap::Fetch>(&r.value);
        if (f == nullptr || !f->uid) {
          return;
        }
        view.listed.push_back(*f->uid);
        if (*f->uid == 0) {
          return;
        }
        RemoteInfo info{*f->uid, flags_from_imap(f->flags.value_or(std::vector<std::string>{})),
                        f->rfc822_size.value_or(0),
                        f->internal_date ? parse_internaldate(*f->internal_date).value_or(0) : 0};
        view.by_seq[f->seq] = info;
        view.by_uid[info.uid] = info;
      },
      timeout, where + ": NOOP and UID FETCH 1:* (re-check)"));
  const auto& mailbox = session.mailbox();
  view.exists = mailbox.exists;
  const auto uidnext = mailbox.uidnext.value_or(0);
  view.uidnext = uidnext > UINT32_MAX ? before.uidnext : static_cast<core::Uid>(uidnext);
  view.uidnext = std::max(view.uidnext, before.uidnext);
  return view;
}

// The Message-ID headers of `uids` (BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]).
core::Result<std::map<core::Uid, std::string>> fetch_message_ids(imap::Session& session,
                                                                 const std::vector<core::Uid>& uids,
                                                                 std::chrono::milliseconds timeout,
                                                                 const std::string& where) {
  std::map<core::Uid, std::string> out;
  if (uids.empty()) {
    return out;
  }
  auto commands = imap::uid_set_commands("UID FETCH", imap::UidSet::of(uids),
                                         "(UID BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])");
  UIDSYNC_TRY(detail::run_all(
      session, std::move(commands),
      [&](const imap::Response& r) {
        const auto* f = std::get_if<imap::Fetch>(&r.value);
        if (f == nullptr || !f->uid) {
          return;
        }
        for (const auto& body : f->bodies) {
          if (body.data) {
            out[*f->uid] = maildir::extract_message_id(*body.data);
          }
        }
      },
      timeout, where + ": UID FETCH (Message-ID)"));
  return out;
}

// Records `findings` not already open in the DB; returns how many were written.
core::Result<std::size_t> record(state::Db& db, const state::FolderRow& row,
                                 const std::vector<Finding>& findings, const std::string& where) {
  const auto log = util::logger("sync");
  auto open = db.anomalies(row.id);
  UIDSYNC_TRY(open);
  std::size_t written = 0;
  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  for (const auto& f : findings) {
    log->warn("{}: server anomaly: {}", where, f.detail);
    const bool known = std::any_of(open->begin(), open->end(), [&](const state::AnomalyRow& a) {
      return a.resolved_at == 0 && a.kind == f.kind && a.uid == f.uid;
    });
    if (known) {
      continue;
    }
    state::AnomalyRow a;
    a.folder_id = row.id;
    a.kind = f.kind;
    a.detail = f.detail;
    a.seen_at = now;
    a.uid = f.uid;
    UIDSYNC_TRY(db.add_anomaly(a));
    open->push_back(a);
    ++written;
  }
  return written;
}

} // namespace

void PrintTo(const Finding& finding, std::ostream* os) {
  *os << "{kind=" << static_cast<int>(finding.kind) << " uid=" << finding.uid << " \""
      << finding.detail << "\"}";
}

std::vector<Finding> check_view(const RemoteView& view,
                                const std::map<core::Uid, state::MessageRow>& known,
                                const state::FolderRow& row, const CheckContext& context) {
  using state::AnomalyKind;
  std::vector<Finding> out;
  const std::size_t count = view.incremental ? view.by_uid.size() : view.listed.size();
  if (view.exists != count) {
    out.push_back({AnomalyKind::exists_mismatch, 0,
                   fmt::format("EXISTS says {} messages but the server lists {} UIDs (RFC 3501 "
                               "§7.3.1: EXISTS is the number of messages)",
                               view.exists, count)});
  }
  // The listing itself: no 0, no UID twice, UIDs ascending with the sequence numbers.
  std::set<core::Uid> seen;
  for (const core::Uid uid : view.listed) {
    if (uid == 0) {
      out.push_back({AnomalyKind::bad_uid, 0,
                     "the server lists a message with UID 0 (RFC 3501 §2.3.1.1: UIDs are "
                     "non-zero)"});
    } else if (!seen.insert(uid).second) {
      out.push_back({AnomalyKind::bad_uid, uid,
                     fmt::format("the server lists UID {} twice (RFC 3501 §2.3.1.1: a UID "
                                 "names one message)",
                                 uid)});
    }
  }
  core::Uid previous = 0;
  for (const auto& [seq, info] : view.by_seq) {
    if (info.uid < previous) { // equal: reported above as listed twice
      out.push_back({AnomalyKind::bad_uid, 0,
                     fmt::format("message {} has UID {}, not above the UID {} of an earlier "
                                 "message (RFC 3501 §2.3.1.1: UIDs ascend)",
                                 seq, info.uid, previous)});
      break;
    }
    previous = info.uid;
  }
  if (view.uidnext != 0) {
    for (auto it = view.by_uid.lower_bound(view.uidnext); it != view.by_uid.end(); ++it) {
      out.push_back({AnomalyKind::bad_uid, it->first,
                     fmt::format("UID {} is at or above UIDNEXT {} (RFC 3501 §2.3.1.1: UIDNEXT "
                                 "is above every UID)",
                                 it->first, view.uidnext)});
    }
  }
  // Against the state (same UIDVALIDITY only).
  if (row.uidvalidity == 0 || row.uidvalidity != view.uidvalidity) {
    return out;
  }
  std::set<core::Uid> reported; // a UID held back for another rule is not reported twice
  for (const auto& f : out) {
    reported.insert(f.uid);
  }
  for (const auto& [uid, info] : view.by_uid) {
    if (uid >= row.uidnext) {
      break;
    }
    const auto k = known.find(uid);
    if (k == known.end()) {
      if (context.excused.count(uid) == 0 && reported.count(uid) == 0) {
        out.push_back({AnomalyKind::uid_reappeared, uid,
                       fmt::format("UID {} is offered as new but is below UIDNEXT {} seen "
                                   "before and was expunged or never listed (RFC 3501 "
                                   "§2.3.1.1: UIDs are never reused, new mail gets higher "
                                   "UIDs)",
                                   uid, row.uidnext)});
      }
      continue;
    }
    if (k->second.size == 0 || k->second.size == info.size) {
      continue;
    }
    const auto id = context.message_ids.find(uid);
    if (id != context.message_ids.end() && id->second == k->second.message_id) {
      continue;
    }
    out.push_back(
        {AnomalyKind::uid_reused, uid,
         fmt::format("UID {} was {} bytes{} and is now {} bytes{} (RFC 3501 §2.3.1.1: "
                     "a UID is never reused for another message)",
                     uid, k->second.size,
                     k->second.message_id.empty() ? "" : " " + k->second.message_id, info.size,
                     id == context.message_ids.end() || id->second.empty() ? ""
                                                                           : " " + id->second)});
  }
  return out;
}

std::vector<core::Uid> size_changed(const RemoteView& view,
                                    const std::map<core::Uid, state::MessageRow>& known) {
  std::vector<core::Uid> out;
  for (const auto& [uid, r] : known) {
    const auto it = view.by_uid.find(uid);
    if (it != view.by_uid.end() && r.size != 0 && r.size != it->second.size) {
      out.push_back(uid);
    }
  }
  return out;
}

core::Uid next_uidnext(const RemoteView& view, const std::vector<core::Uid>& known,
                       const std::set<core::Uid>& excused, core::Uid stored) {
  const core::Uid max = highest(view);
  core::Uid next = std::max(view.uidnext, max == 0 ? core::Uid{0} : max + 1);
  for (const auto& [uid, info] : view.by_uid) {
    if (!std::binary_search(known.begin(), known.end(), uid) && excused.count(uid) == 0) {
      next = std::min(next, uid);
      break;
    }
  }
  return std::max(stored, next);
}

bool is_exchange_stub(std::string_view header) {
  // Unfold (RFC 5322 §2.2.3) and decode the one encoded word Exchange writes.
  std::string text;
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (header[i] == '\r') {
      continue;
    }
    if (header[i] == '\n' && i + 1 < header.size() &&
        (header[i + 1] == ' ' || header[i + 1] == '\t')) {
      continue;
    }
    text += header[i];
  }
  std::string decoded;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '=' && i + 2 < text.size() &&
        std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      decoded += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      decoded += text[i] == '_' ? ' ' : text[i];
    }
  }
  const auto l = lower(decoded);
  std::string squeezed;
  for (const char c : l) {
    if ((c == ' ' || c == '\t') && !squeezed.empty() && squeezed.back() == ' ') {
      continue;
    }
    squeezed += c == '\t' ? ' ' : c;
  }
  return squeezed.find("retrieval using the imap4 protocol failed for the following message") !=
             std::string::npos &&
         squeezed.find("microsoft exchange") != std::string::npos;
}

core::Result<std::set<core::Uid>> quarantined_uids(state::Db& db, std::int64_t folder_id,
                                                   core::UidValidity uidvalidity) {
  auto rows = db.quarantine(folder_id);
  UIDSYNC_TRY(rows);
  std::set<core::Uid> out;
  for (const auto& q : *rows) {
    // Forgotten entries too: the server still lists them, and they were never stored.
    if (q.state != state::QuarantineState::released && q.uidvalidity == uidvalidity) {
      out.insert(q.uid);
    }
  }
  return out;
}

core::Result<Verdict> verify_view(imap::Session& session, state::Db& db,
                                  const state::FolderRow& row, RemoteView& view,
                                  std::map<core::Uid, state::MessageRow>& known,
                                  const std::set<core::Uid>& excused, bool dry_run,
                                  std::chrono::milliseconds timeout, const std::string& where) {
  const auto check = [&](const RemoteView& v) -> core::Result<std::vector<Finding>> {
    CheckContext context{excused, {}};
    auto ids = fetch_message_ids(session, size_changed(v, known), timeout, where);
    UIDSYNC_TRY(ids);
    context.message_ids = std::move(*ids);
    return check_view(v, known, row, context);
  };
  Verdict verdict;
  auto first = check(view);
  UIDSYNC_TRY(first);
  if (!first->empty()) {
    // A lagging replica may catch up: one NOOP and a fresh listing before judging.
    auto again = relist(session, view, timeout, where);
    UIDSYNC_TRY(again);
    auto second = check(*again);
    UIDSYNC_TRY(second);
    if (!view.incremental || !second->empty()) {
      view = std::move(*again);
    }
    verdict.findings = std::move(*second);
  }
  if (verdict.findings.empty()) {
    if (!dry_run && row.id != 0) {
      const auto now = static_cast<std::int64_t>(std::time(nullptr));
      for (const auto kind :
           {state::AnomalyKind::exists_mismatch, state::AnomalyKind::uid_reappeared,
            state::AnomalyKind::uid_reused, state::AnomalyKind::bad_uid}) {
        UIDSYNC_TRY(db.resolve_anomalies(row.id, kind, now));
      }
    }
    return verdict;
  }
  verdict.hold_deletions = true;
  if (!dry_run) {
    auto written = record(db, row, verdict.findings, where);
    UIDSYNC_TRY(written);
    verdict.recorded = *written;
  }
  for (const auto& f : verdict.findings) {
    if (f.uid == 0) {
      continue;
    }
    if (f.kind == state::AnomalyKind::uid_reused) {
      // Keep both: the old file stays (a stray for the planner), the new message is fetched.
      known.erase(f.uid);
      if (!dry_run) {
        UIDSYNC_TRY(db.delete_message(row.id, f.uid));
      }
      continue;
    }
    view.by_uid.erase(f.uid);
    for (auto it = view.by_seq.begin(); it != view.by_seq.end();) {
      it = it->second.uid == f.uid ? view.by_seq.erase(it) : std::next(it);
    }
  }
  return verdict;
}

core::Result<std::size_t> verify_after_expunge(imap::Session& session, state::Db& db,
                                               const state::FolderRow& row,
                                               const std::set<core::Uid>& excused,
                                               std::chrono::milliseconds timeout,
                                               const std::string& where) {
  RemoteView before;
  before.uidvalidity = row.uidvalidity;
  before.uidnext = row.uidnext;
  auto after = relist(session, before, timeout, where);
  UIDSYNC_TRY(after);
  auto stored = db.messages(row.id);
  UIDSYNC_TRY(stored);
  std::map<core::Uid, state::MessageRow> known;
  for (auto& r : *stored) {
    known[r.uid] = std::move(r);
  }
  const auto findings = check_view(*after, known, row, CheckContext{excused, {}});
  if (findings.empty()) {
    return std::size_t{0};
  }
  return record(db, row, findings, where);
}

} // namespace uidsync::sync
