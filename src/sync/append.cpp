// SPDX-License-Identifier: GPL-3.0-or-later
// Uploads new local mail with APPEND, journaled so that no message is uploaded twice.
#include "../maildir/crash_hook.hpp"
#include "detail.hpp"

#include <uidsync/imap/command.hpp>
#include <uidsync/maildir/content.hpp>
#include <uidsync/util/log.hpp>

#include <fmt/format.h>

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <optional>
#include <set>
#include <utility>

namespace uidsync::sync::detail {

namespace {

// One counted step of an upload (journal written, APPEND answered, file renamed,
// state row written, journal closed), for the crash tests.
void step_done() {
  maildir::detail::crash_point();
}

// The file's bytes and modification time.
struct LocalFile {
  std::string bytes;
  std::int64_t mtime = 0;
};

core::Result<LocalFile> read_local(const maildir::Folder& folder, const std::string& name) {
  const auto path = folder.path() / name;
  std::ifstream in(path, std::ios::binary);
  struct stat st {};
  if (!in || ::stat(path.c_str(), &st) != 0) {
    return core::fail(
        core::Scope::message,
        fmt::format("cannot read new message file {}: {}", path.string(), std::strerror(errno)),
        "nothing to do if it was moved or deleted; otherwise check its permissions");
  }
  LocalFile out;
  out.bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (in.bad()) {
    return core::fail(core::Scope::message, fmt::format("cannot read {}", path.string()),
                      "check the disk; the file is tried again on the next run");
  }
  out.mtime = st.st_mtim.tv_sec;
  return out;
}

// RFC 3501 date-time in UTC: "02-Jan-2024 10:00:00 +0000" (month names fixed, not
// from the locale).
std::string imap_date(std::int64_t secs) {
  static constexpr std::array<std::string_view, 12> k_months{
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const auto t = static_cast<std::time_t>(secs);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  return fmt::format("{:02}-{}-{:04} {:02}:{:02}:{:02} +0000", tm.tm_mday,
                     k_months.at(static_cast<std::size_t>(tm.tm_mon)), tm.tm_year + 1900,
                     tm.tm_hour, tm.tm_min, tm.tm_sec);
}

maildir::ContentInfo content_of_bytes(std::string_view bytes) {
  maildir::ContentHasher hasher;
  hasher.update(bytes);
  return hasher.finish();
}

// Digests of BODY[] literals large enough to be streamed to the session's sink.
class DigestSink : public imap::BodySink {
public:
  void begin(std::uint32_t /*seq*/, std::string_view /*section*/, std::uint64_t /*size*/) override {
    m_hasher = maildir::ContentHasher();
  }
  void chunk(std::string_view bytes) override { m_hasher.update(bytes); }
  void finish(const imap::Fetch& fetch) override {
    if (fetch.uid) {
      m_digests[*fetch.uid] = m_hasher.finish().digest;
    }
  }
  void abort(std::string_view /*reason*/) override {}

  std::map<core::Uid, std::string> m_digests;

private:
  maildir::ContentHasher m_hasher;
};

// Points the session's body router at a sink for as long as it lives.
class RouteTo {
public:
  RouteTo(BodyRouter& router, imap::BodySink& sink) : m_router(router) { router.set_target(&sink); }
  ~RouteTo() { m_router.set_target(nullptr); }
  RouteTo(const RouteTo&) = delete;
  RouteTo& operator=(const RouteTo&) = delete;

private:
  BodyRouter& m_router;
};

// What identifies one uploaded message on the server. A file with bare LF line
// ends may be stored with CRLF (Dovecot, Gmail: RFC 5322 §2.3 asks for CRLF), so
// the server's RFC822.SIZE and bytes are either the file's or those of its CRLF
// form; both are accepted.
struct Wanted {
  std::string message_id; // may be empty
  std::set<std::uint64_t> sizes;
  std::set<std::string> digests;
};

// `bytes` with every LF not preceded by CR turned into CRLF.
std::string with_crlf(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() + bytes.size() / 32);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (bytes[i] == '\n' && (i == 0 || bytes[i - 1] != '\r')) {
      out += '\r';
    }
    out += bytes[i];
  }
  return out;
}

Wanted wanted_for(std::string_view bytes, const maildir::ContentInfo& content) {
  Wanted w{content.message_id, {content.size}, {content.digest}};
  if (bytes.find('\n') != std::string_view::npos) {
    const auto crlf = with_crlf(bytes);
    if (crlf.size() != bytes.size()) {
      w.sizes.insert(crlf.size());
      w.digests.insert(content_of_bytes(crlf).digest);
    }
  }
  return w;
}

// Finds `wanted` among `candidates` (UIDs of one of its sizes that nothing else
// claims), lowest UID first. With a Message-ID: UID SEARCH HEADER Message-ID, and
// the size already matched. Without one: the body of each candidate is fetched
// (BODY.PEEK[], so \Seen is untouched) and its SHA-256 compared; only same-size
// candidates are fetched, which is usually the one message just uploaded.
core::Result<std::optional<core::Uid>> find_copy(imap::Session& session, BodyRouter& router,
                                                 const Wanted& wanted,
                                                 const std::set<core::Uid>& candidates,
                                                 const ExecuteOptions& options,
                                                 const std::string& where) {
  if (candidates.empty()) {
    return std::optional<core::Uid>{};
  }
  if (!wanted.message_id.empty()) {
    auto search = imap::CommandBuilder("UID SEARCH", session.literal_mode())
                      .raw("HEADER")
                      .raw("Message-ID")
                      .string(wanted.message_id)
                      .build();
    UIDSYNC_TRY(search);
    std::set<core::Uid> hits;
    UIDSYNC_TRY(run_all(
        session, {std::move(*search)},
        [&hits](const imap::Response& r) {
          if (const auto* s = std::get_if<imap::Search>(&r.value)) {
            hits.insert(s->numbers.begin(), s->numbers.end());
          } else if (const auto* e = std::get_if<imap::ESearch>(&r.value)) {
            for (const auto& range : e->all.ranges()) {
              for (std::uint64_t u = range.first; u <= range.last; ++u) {
                hits.insert(static_cast<core::Uid>(u));
              }
            }
          }
        },
        options.timeout, where + ": UID SEARCH HEADER Message-ID"));
    for (const core::Uid uid : candidates) {
      if (hits.count(uid) != 0) {
        return std::optional<core::Uid>{uid};
      }
    }
    return std::optional<core::Uid>{};
  }
  DigestSink sink;
  const RouteTo route(router, sink);
  for (const core::Uid uid : candidates) {
    auto fetch = imap::CommandBuilder("UID FETCH").number(uid).raw("(UID BODY.PEEK[])").build();
    UIDSYNC_TRY(fetch);
    UIDSYNC_TRY(run_all(
        session, {std::move(*fetch)},
        [&sink](const imap::Response& r) {
          const auto* f = std::get_if<imap::Fetch>(&r.value);
          if (f == nullptr || !f->uid) {
            return;
          }
          for (const auto& body : f->bodies) {
            if (body.data) {
              sink.m_digests[*f->uid] = content_of_bytes(*body.data).digest;
            }
          }
        },
        options.timeout, where + ": UID FETCH BODY.PEEK[]"));
    if (auto d = sink.m_digests.find(uid);
        d != sink.m_digests.end() && wanted.digests.count(d->second) != 0) {
      return std::optional<core::Uid>{uid};
    }
  }
  return std::optional<core::Uid>{};
}

// UIDs >= `floor` the server lists now, with their sizes (UID FETCH floor:*
// (UID RFC822.SIZE)). RFC 3501: "n:*" also matches the last message when n is
// above every UID; the caller filters on the UIDs it already knows.
core::Result<std::map<core::Uid, std::uint64_t>> sizes_from(imap::Session& session, core::Uid floor,
                                                            const ExecuteOptions& options,
                                                            const std::string& where) {
  auto fetch = imap::CommandBuilder("UID FETCH")
                   .raw(fmt::format("{}:*", floor))
                   .raw("(UID RFC822.SIZE)")
                   .build();
  UIDSYNC_TRY(fetch);
  std::map<core::Uid, std::uint64_t> out;
  UIDSYNC_TRY(run_all(
      session, {std::move(*fetch)},
      [&out](const imap::Response& r) {
        if (const auto* f = std::get_if<imap::Fetch>(&r.value);
            f != nullptr && f->uid && f->rfc822_size) {
          out[*f->uid] = *f->rfc822_size;
        }
      },
      options.timeout, where + ": UID FETCH (RFC822.SIZE)"));
  return out;
}

} // namespace

core::Result<std::vector<state::MessageRow>>
recover_appends(imap::Session& session, BodyRouter& router, maildir::Folder& folder, state::Db& db,
                const state::FolderRow& row, const RemoteView& view,
                std::map<core::Uid, state::MessageRow>& rows, const ExecuteOptions& options) {
  const auto log = util::logger("sync");
  const auto where = "folder " + row.name;
  auto journal = db.appends(row.id);
  UIDSYNC_TRY(journal);
  std::vector<state::MessageRow> recovered;
  if (journal->empty()) {
    return recovered;
  }
  auto scan = folder.scan();
  UIDSYNC_TRY(scan);
  // UIDs that belong to something already: paired in the state, or named by a file.
  std::set<core::Uid> claimed;
  for (const auto& [uid, r] : rows) {
    claimed.insert(uid);
  }
  for (const auto& m : scan->messages) {
    if (m.uid != 0) {
      claimed.insert(m.uid);
    }
  }
  // A message-scope problem leaves its journal row for the next run.
  auto keep_for_later = [&](const core::Error& e) -> core::Result<void> {
    if (e.scope != core::Scope::message) {
      return util::unexpected(e);
    }
    log->warn("{}: {}", where, e.what());
    return {};
  };
  auto record = [&](const std::string& name, core::Uid uid) -> core::Result<void> {
    const auto& info = view.by_uid.at(uid);
    auto content = folder.content(name);
    UIDSYNC_TRY(content);
    state::MessageRow r;
    r.folder_id = row.id;
    r.uid = uid;
    r.local_name = name;
    r.flags = info.flags; // the server's flags now are the pair's common base
    r.size = info.size;
    r.internaldate = info.internaldate;
    r.message_id = content->message_id;
    r.digest = content->digest;
    UIDSYNC_TRY(db.put_message(r));
    rows[uid] = r;
    recovered.push_back(std::move(r));
    return {};
  };

  for (const auto& j : *journal) {
    const auto renamed_prefix = j.local_key + ",U=";
    const maildir::LocalMessage* original = nullptr;
    const maildir::LocalMessage* renamed = nullptr;
    for (const auto& m : scan->messages) {
      const auto key = message_key(m.name);
      if (key == j.local_key) {
        original = &m;
      } else if (m.uid != 0 && key.starts_with(renamed_prefix)) {
        renamed = &m;
      }
    }
    if (renamed != nullptr) {
      // Uploaded and renamed: the state row may be missing.
      const auto paired = rows.find(renamed->uid);
      if ((paired == rows.end() || paired->second.local_name != renamed->name) &&
          view.by_uid.count(renamed->uid) != 0) {
        UIDSYNC_TRY(record(renamed->name, renamed->uid));
      }
      log->info("{}: the interrupted upload of {} had finished as UID {}", where, renamed->name,
                renamed->uid);
    } else if (original == nullptr) {
      log->info("{}: the file {} of an interrupted upload is gone; if it reached the server, "
                "it comes back as new mail",
                where, j.local_key);
    } else {
      // The file as it is now: the journal row is only the intent (a file edited
      // since is looked for as it is, and uploaded as it is if not found).
      auto file = read_local(folder, original->name);
      if (!file) {
        UIDSYNC_TRY(keep_for_later(file.error())); // the journal row stays
        continue;
      }
      const auto wanted = wanted_for(file->bytes, content_of_bytes(file->bytes));
      std::set<core::Uid> candidates;
      for (const auto& [uid, info] : view.by_uid) {
        if (wanted.sizes.count(info.size) != 0 && claimed.count(uid) == 0) {
          candidates.insert(uid);
        }
      }
      auto found = find_copy(session, router, wanted, candidates, options, where);
      UIDSYNC_TRY(found);
      if (*found) {
        auto name = folder.set_uid(original->name, **found);
        if (!name) {
          UIDSYNC_TRY(keep_for_later(name.error())); // the journal row stays
          continue;
        }
        UIDSYNC_TRY(record(*name, **found));
        claimed.insert(**found);
        log->info("{}: the interrupted upload of {} had reached the server as UID {}", where,
                  original->name, **found);
      } else {
        log->info("{}: the interrupted upload of {} had not reached the server; it is uploaded "
                  "again",
                  where, original->name);
      }
    }
    UIDSYNC_TRY(db.delete_append(row.id, j.local_key));
  }
  return recovered;
}

core::Result<void> append_messages(imap::Session& session, BodyRouter& router,
                                   maildir::Folder& folder, state::Db& db,
                                   const state::FolderRow& row, const std::vector<Append>& appends,
                                   const std::map<std::string, std::string>& name_of,
                                   const RemoteView& view, const ExecuteOptions& options,
                                   Stats& stats) {
  const auto log = util::logger("sync");
  const auto where = "folder " + row.name;
  const bool uidplus = session.has_capability("UIDPLUS");
  // Without UIDPLUS the new UID is at or above this: UIDNEXT before the APPEND
  // (RFC 3501 §2.3.1.1), moved past every UID this run has seen or found.
  core::Uid floor = std::max<core::Uid>(view.uidnext, 1);
  std::set<core::Uid> claimed;
  for (const auto& [uid, info] : view.by_uid) {
    claimed.insert(uid);
    floor = std::max(floor, uid + 1);
  }
  auto skip = [&](const core::Error& e) -> core::Result<void> {
    if (e.scope != core::Scope::message) {
      return util::unexpected(e);
    }
    log->warn("{}: {}", where, e.what());
    ++stats.failed;
    return {};
  };

  std::size_t uploaded = 0;
  for (const auto& a : appends) {
    const auto& name = name_of.at(a.key);
    auto file = read_local(folder, name);
    if (!file) {
      UIDSYNC_TRY(skip(file.error()));
      continue;
    }
    const auto content = content_of_bytes(file->bytes);
    const auto wanted = wanted_for(file->bytes, content);
    state::AppendJournalRow journal;
    journal.folder_id = row.id;
    journal.local_key = a.key;
    journal.message_id = content.message_id;
    journal.size = content.size;
    journal.digest = content.digest;
    journal.started_at = static_cast<std::int64_t>(std::time(nullptr));
    UIDSYNC_TRY(db.put_append(journal));
    step_done();

    // The date is the file's mtime: what a Maildir reader shows as the arrival
    // time, and what our own deliveries set from INTERNALDATE.
    auto command = imap::CommandBuilder("APPEND", session.literal_mode())
                       .mailbox(row.name)
                       .raw(flags_to_imap(a.flags))
                       .string(imap_date(file->mtime))
                       .literal(file->bytes)
                       .build();
    UIDSYNC_TRY(command);
    auto answered = session.execute(std::move(*command), options.timeout);
    if (!answered) {
      if (answered.error().scope != core::Scope::folder) {
        return util::unexpected(answered.error()); // the journal row stays for the next run
      }
      // NO or BAD: over quota, too big, refused content. This message only.
      UIDSYNC_TRY(db.delete_append(row.id, a.key));
      UIDSYNC_TRY(
          skip(core::Error{core::Scope::message,
                           fmt::format("{} was not uploaded: {}", (folder.path() / name).string(),
                                       answered.error().message),
                           "the file is kept and tried again on the next run"}));
      continue;
    }
    step_done();

    core::Uid uid = 0;
    std::optional<std::uint64_t> server_size;
    const auto& code = answered->code;
    if (uidplus && code.kind == imap::ResponseCode::Kind::appenduid && code.uids.count() == 1) {
      if (code.number != row.uidvalidity) {
        return core::fail(core::Scope::folder,
                          fmt::format("{}: APPEND answered UIDVALIDITY {}, the folder had {}; "
                                      "{} is recorded in the upload journal",
                                      where, code.number, row.uidvalidity, name),
                          "run sync again: the folder's UIDVALIDITY change is handled first");
      }
      uid = code.uids.ranges().front().first;
    } else {
      // No APPENDUID (the server lacks UIDPLUS, RFC 4315): look the copy up.
      auto sizes = sizes_from(session, floor, options, where);
      UIDSYNC_TRY(sizes);
      std::set<core::Uid> candidates;
      for (const auto& [u, size] : *sizes) {
        if (wanted.sizes.count(size) != 0 && claimed.count(u) == 0) {
          candidates.insert(u);
        }
      }
      auto found = find_copy(session, router, wanted, candidates, options, where);
      UIDSYNC_TRY(found);
      if (!*found) {
        // Kept in the journal: the next run looks for it again before uploading.
        UIDSYNC_TRY(skip(
            core::Error{core::Scope::message,
                        fmt::format("{} was uploaded, but its copy was not found on the server (no "
                                    "APPENDUID, and no message of size {} with its {})",
                                    (folder.path() / name).string(), content.size,
                                    content.message_id.empty() ? "digest" : "Message-ID"),
                        "the next sync looks for it again before uploading it"}));
        continue;
      }
      uid = **found;
      server_size = sizes->at(uid);
    }
    if (!server_size && wanted.sizes.size() > 1) {
      // Bare LFs: the server's size may be the CRLF form's. The state row records
      // the server's RFC822.SIZE, as for fetched mail.
      auto sizes = sizes_from(session, uid, options, where);
      UIDSYNC_TRY(sizes);
      if (auto s = sizes->find(uid); s != sizes->end()) {
        server_size = s->second;
      }
    }
    claimed.insert(uid);
    floor = std::max(floor, uid + 1);

    auto renamed = folder.set_uid(name, uid);
    if (!renamed) {
      UIDSYNC_TRY(skip(renamed.error())); // the journal row stays: the next run pairs it
      continue;
    }
    step_done();
    state::MessageRow r;
    r.folder_id = row.id;
    r.uid = uid;
    r.local_name = *renamed;
    r.flags = a.flags;
    r.size = server_size.value_or(content.size);
    r.internaldate = file->mtime;
    r.message_id = content.message_id;
    r.digest = content.digest;
    UIDSYNC_TRY(db.put_message(r));
    step_done();
    UIDSYNC_TRY(db.delete_append(row.id, a.key));
    step_done();
    ++uploaded;
    ++stats.appended;
    // appends_pending counted the whole plan; what went up is no longer pending.
    --stats.appends_pending;
    log->debug("{}: uploaded {} as UID {}", where, *renamed, uid);
  }
  if (uploaded != appends.size()) {
    log->warn("{}: {} of {} new local message(s) not uploaded (see above)", where,
              appends.size() - uploaded, appends.size());
  }
  return {};
}

} // namespace uidsync::sync::detail
