// SPDX-License-Identifier: GPL-3.0-or-later
// The executor: snapshot both sides of one folder, plan, and carry the plan out.
#include <uidsync/imap/command.hpp>
#include <uidsync/imap/uid_set.hpp>
#include <uidsync/sync/executor.hpp>
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

// What the first UID FETCH told about one message.
struct RemoteInfo {
  core::Uid uid = 0;
  core::Flags flags;
  std::uint64_t size = 0;
  std::int64_t internaldate = 0;
};

// Receives the bodies of one folder's UID FETCH, small (data handler) or large
// (BodySink), and collects the finished deliveries into durable batches.
class Fetcher : public imap::BodySink {
public:
  Fetcher(maildir::Folder& folder, state::Db& db, std::int64_t folder_id,
          const std::map<std::uint32_t, RemoteInfo>& by_seq,
          const std::map<core::Uid, RemoteInfo>& by_uid, const ExecuteOptions& options,
          Stats& stats)
      : m_folder(folder), m_db(db), m_folder_id(folder_id), m_by_seq(by_seq), m_by_uid(by_uid),
        m_options(options), m_stats(stats), m_batch(folder) {}

  void begin(std::uint32_t seq, std::string_view, std::uint64_t) override {
    m_current.reset();
    const auto it = m_by_seq.find(seq);
    if (it == m_by_seq.end()) {
      message_error(0, fmt::format("unexpected body for message number {}", seq));
      return;
    }
    m_current_uid = it->second.uid;
    m_current = start(it->second);
  }

  void chunk(std::string_view bytes) override {
    if (m_current) {
      auto written = m_current->write(bytes);
      if (!written) {
        note(written.error(), m_current_uid);
        m_current.reset();
      }
    }
  }

  void finish(const imap::Fetch& fetch) override {
    if (!m_current) {
      return;
    }
    auto delivery = std::move(m_current);
    m_current.reset();
    // The sink only knows the sequence number at begin(); an EXPUNGE from
    // another client could have shifted it, so the UID must agree.
    if (!fetch.uid || *fetch.uid != m_current_uid) {
      message_error(m_current_uid, "the server's FETCH answer does not carry the expected UID");
      return;
    }
    done(*delivery, m_current_uid);
  }

  void abort(std::string_view reason) override {
    if (m_current) {
      message_error(m_current_uid, fmt::format("body download aborted: {}", reason));
    }
    m_current.reset();
  }

  // The data handler: small bodies arrive inline.
  void on_data(const imap::Response& response) {
    const auto* f = std::get_if<imap::Fetch>(&response.value);
    if (f == nullptr || !f->uid) {
      return;
    }
    const auto info = m_by_uid.find(*f->uid);
    for (const auto& body : f->bodies) {
      if (body.section != "BODY[]" || body.streamed) {
        continue;
      }
      if (info == m_by_uid.end() || !body.data) {
        message_error(*f->uid, "the server sent no body for this UID");
        return;
      }
      auto delivery = start(info->second);
      if (!delivery) {
        return;
      }
      auto written = delivery->write(*body.data);
      if (!written) {
        note(written.error(), *f->uid);
        return;
      }
      done(*delivery, *f->uid);
    }
  }

  // Makes the collected deliveries durable, then records them in one transaction.
  core::Result<void> commit() {
    if (m_batch.size() == 0) {
      return {};
    }
    const auto count = m_batch.size();
    auto committed =
        m_batch.commit([this](const std::vector<maildir::Delivered>& items) -> core::Result<void> {
          auto tx = m_db.begin();
          UIDSYNC_TRY(tx);
          for (const auto& d : items) {
            state::MessageRow row;
            row.folder_id = m_folder_id;
            row.uid = d.uid;
            row.local_name = d.name;
            row.flags = d.flags;
            row.size = d.content.size;
            row.internaldate = d.internaldate;
            row.message_id = d.content.message_id;
            row.digest = d.content.digest;
            UIDSYNC_TRY(m_db.put_message(row));
          }
          return tx->commit();
        });
    UIDSYNC_TRY(committed);
    m_stats.fetched += count;
    return {};
  }

  // The first folder- or account-scope error, if any.
  const std::optional<core::Error>& error() const { return m_error; }

private:
  std::unique_ptr<maildir::Delivery> start(const RemoteInfo& info) {
    auto delivery = m_folder.begin_delivery(info.uid, info.flags, info.internaldate);
    if (!delivery) {
      note(delivery.error(), info.uid);
      return nullptr;
    }
    return std::make_unique<maildir::Delivery>(std::move(*delivery));
  }

  void done(maildir::Delivery& delivery, core::Uid uid) {
    auto delivered = delivery.finish();
    if (!delivered) {
      note(delivered.error(), uid);
      return;
    }
    if (delivered->content.size != m_by_uid.at(uid).size) {
      // RFC 3501 §6.4.5: RFC822.SIZE is the size of BODY[]. Keep the message
      // (it is what the server serves) but say so: the next run's adoption
      // check compares sizes and would otherwise fetch it again.
      util::logger("sync")->warn("{}: UID {}: the server announced {} bytes and sent {}",
                                 m_folder.path().string(), uid, m_by_uid.at(uid).size,
                                 delivered->content.size);
    }
    m_batch.add(std::move(*delivered));
    if (m_batch.size() >= m_options.batch_size && !m_error) {
      auto committed = commit();
      if (!committed) {
        note(committed.error(), uid);
      }
    }
  }

  void message_error(core::Uid uid, const std::string& what) {
    note({core::Scope::message, what, "the next sync tries again"}, uid);
  }

  void note(const core::Error& error, core::Uid uid) {
    if (error.scope == core::Scope::message) {
      util::logger("sync")->warn("{}: UID {}: {}", m_folder.path().string(), uid, error.what());
      ++m_stats.failed;
    } else if (!m_error) {
      m_error = error;
    }
  }

  maildir::Folder& m_folder;
  state::Db& m_db;
  std::int64_t m_folder_id;
  const std::map<std::uint32_t, RemoteInfo>& m_by_seq;
  const std::map<core::Uid, RemoteInfo>& m_by_uid;
  const ExecuteOptions& m_options;
  Stats& m_stats;
  maildir::Batch m_batch;
  std::unique_ptr<maildir::Delivery> m_current;
  core::Uid m_current_uid = 0;
  std::optional<core::Error> m_error;
};

// Runs `commands` pipelined; `on_data` gets their untagged data. Fails with
// Scope::folder naming `what` on the first NO/BAD, Scope::account if the
// connection ends or `timeout` passes without progress.
core::Result<void> run_all(imap::Session& session, std::vector<imap::Command> commands,
                           const imap::DataHandler& on_data, std::chrono::milliseconds timeout,
                           const std::string& what) {
  std::size_t left = commands.size();
  std::optional<imap::Tagged> failed;
  for (auto& c : commands) {
    session.submit(
        std::move(c),
        [&](const imap::Tagged& t) {
          --left;
          if (t.status != imap::Status::ok && !failed) {
            failed = t;
          }
        },
        on_data);
  }
  while (left > 0) {
    const std::size_t before = left;
    auto ran = session.run_until([&] { return left < before || left == 0; }, timeout);
    UIDSYNC_TRY(ran);
    if (!*ran) {
      return core::fail(
          core::Scope::account,
          fmt::format("{}: no answer from the server for {} s", what,
                      std::chrono::duration_cast<std::chrono::seconds>(timeout).count()),
          "check the connection, or raise the account's timeout");
    }
  }
  if (failed) {
    return core::fail(
        core::Scope::folder,
        fmt::format("{}: the server answered {} {}", what, to_string(failed->status), failed->text),
        "the next sync tries this folder again");
  }
  return {};
}

std::vector<imap::Command> store_commands(const std::vector<FlagChange>& changes) {
  std::vector<imap::Command> out;
  for (const auto& change : changes) {
    for (const auto& [flags, op] :
         {std::pair{change.add, "+FLAGS.SILENT"}, std::pair{change.remove, "-FLAGS.SILENT"}}) {
      if (flags.empty()) {
        continue;
      }
      auto c = imap::CommandBuilder("UID STORE")
                   .number(change.uid)
                   .raw(op)
                   .raw(flags_to_imap(flags))
                   .build();
      if (c) {
        out.push_back(std::move(*c));
      }
    }
  }
  return out;
}

} // namespace

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

  // 1. SELECT (read-write: flags and deletions are written back; EXAMINE for a dry run).
  session.reset_mailbox();
  auto select =
      imap::select_command(row.name, options.dry_run, std::nullopt, false, session.literal_mode());
  UIDSYNC_TRY(select);
  UIDSYNC_TRY(session.execute(*select, options.timeout));
  const auto& mailbox = session.mailbox();
  if (!mailbox.uidvalidity || *mailbox.uidvalidity == 0 || *mailbox.uidvalidity > UINT32_MAX) {
    return core::fail(core::Scope::folder, where + ": the server sent no usable UIDVALIDITY",
                      "RFC 3501 §2.3.1.1 requires one; report this to the server's operator");
  }
  const auto uidvalidity = static_cast<core::UidValidity>(*mailbox.uidvalidity);
  if (row.uidvalidity != 0 && row.uidvalidity != uidvalidity) {
    return core::fail(core::Scope::folder,
                      fmt::format("{}: UIDVALIDITY changed from {} to {}; re-pairing is not "
                                  "built yet, so nothing in this folder was touched",
                                  where, row.uidvalidity, uidvalidity),
                      "move the local folder and its state aside and sync it afresh");
  }

  // 2. The server's side: UID, flags, size (and INTERNALDATE for the delivery).
  std::map<std::uint32_t, RemoteInfo> by_seq;
  std::map<core::Uid, RemoteInfo> by_uid;
  if (mailbox.exists > 0) {
    auto list = imap::CommandBuilder("UID FETCH")
                    .raw("1:*")
                    .raw("(UID FLAGS RFC822.SIZE INTERNALDATE)")
                    .build();
    UIDSYNC_TRY(list);
    UIDSYNC_TRY(run_all(
        session, {std::move(*list)},
        [&](const imap::Response& r) {
          const auto* f = std::get_if<imap::Fetch>(&r.value);
          if (f == nullptr || !f->uid || *f->uid == 0) {
            return;
          }
          RemoteInfo info;
          info.uid = *f->uid;
          info.flags = flags_from_imap(f->flags.value_or(std::vector<std::string>{}));
          info.size = f->rfc822_size.value_or(0);
          info.internaldate =
              f->internal_date ? parse_internaldate(*f->internal_date).value_or(0) : 0;
          by_seq[f->seq] = info;
          by_uid[info.uid] = info;
        },
        options.timeout, where + ": UID FETCH 1:*"));
  }
  std::vector<RemoteMsg> remote;
  for (const auto& [uid, info] : by_uid) {
    remote.push_back({uid, info.flags, info.size});
  }

  // 3. The local side and the state.
  auto scan = folder.scan();
  UIDSYNC_TRY(scan);
  std::vector<LocalMsg> local;
  std::map<std::string, std::string> name_of; // key -> "cur/<file>"
  for (const auto& m : scan->messages) {
    const auto key = message_key(m.name);
    local.push_back({key, m.uid, m.flags, m.size});
    name_of[key] = m.name;
  }
  auto state_rows = db.messages(row.id);
  UIDSYNC_TRY(state_rows);
  std::map<core::Uid, state::MessageRow> rows;
  std::vector<StateRow> state;
  for (auto& r : *state_rows) {
    state.push_back({r.uid, message_key(r.local_name), r.flags, r.size});
    rows[r.uid] = std::move(r);
  }

  Plan plan = plan_folder(remote, local, state, options.plan);
  stats.held += plan.held_local_deletes.size() + plan.held_remote_deletes.size();
  stats.appends_pending += plan.appends.size();
  if (options.dry_run) {
    return plan;
  }
  if (row.uidvalidity == 0) {
    row.uidvalidity = uidvalidity;
    UIDSYNC_TRY(db.put_folder(row));
  }
  auto put_row = [&](state::MessageRow r) -> core::Result<void> {
    UIDSYNC_TRY(db.put_message(r));
    rows[r.uid] = std::move(r);
    return {};
  };
  auto message_failed = [&](const core::Error& e) -> core::Result<void> {
    if (e.scope != core::Scope::message) {
      return util::unexpected(e);
    }
    log->warn("{}: {}", where, e.what());
    ++stats.failed;
    return {};
  };

  // 4. Fetch: file durable first, then its state row (Batch::commit's order).
  if (!plan.fetch.empty()) {
    Fetcher fetcher(folder, db, row.id, by_seq, by_uid, options, stats);
    router.set_target(&fetcher);
    auto fetched = run_all(
        session,
        imap::uid_set_commands("UID FETCH", imap::UidSet::of(plan.fetch),
                               "(UID FLAGS INTERNALDATE BODY.PEEK[])"),
        [&](const imap::Response& r) { fetcher.on_data(r); }, options.timeout,
        where + ": UID FETCH (bodies)");
    router.set_target(nullptr);
    if (fetcher.error()) {
      return util::unexpected(*fetcher.error());
    }
    // What arrived is kept even if a later command failed.
    UIDSYNC_TRY(fetcher.commit());
    UIDSYNC_TRY(fetched);
  }

  // 5. Adoptions: the file already is the message; record the pair.
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

  // 6. Flags, server side then local side, then the agreed flags in the state.
  if (!plan.remote_flags.empty()) {
    UIDSYNC_TRY(run_all(session, store_commands(plan.remote_flags), {}, options.timeout,
                        where + ": UID STORE"));
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
      UIDSYNC_TRY(put_row(std::move(updated)));
    }
  }

  // 7. Deletions. Local: the server expunged the UID.
  for (const auto& key : plan.local_deletes) {
    auto removed = folder.expunge(name_of.at(key));
    if (!removed) {
      UIDSYNC_TRY(message_failed(removed.error()));
      continue;
    }
    ++stats.local_deletes;
    for (const auto& [uid, r] : rows) {
      if (message_key(r.local_name) == key) {
        UIDSYNC_TRY(db.delete_message(row.id, uid));
        rows.erase(uid);
        break;
      }
    }
  }
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
      UIDSYNC_TRY(
          run_all(session, std::move(commands), {}, options.timeout, where + ": UID EXPUNGE"));
      for (const core::Uid uid : plan.remote_deletes) {
        UIDSYNC_TRY(db.delete_message(row.id, uid));
        rows.erase(uid);
      }
      stats.remote_deletes += plan.remote_deletes.size();
    }
  }
  if (plan.held_reason != HoldReason::none) {
    static constexpr std::array<std::string_view, 4> k_reasons{
        "", "more than the mass-deletion guard allows", "the local folder directory is missing",
        "the local folder is empty"};
    log->warn("{}: held {} local and {} server deletion(s): {}; nothing was deleted", where,
              plan.held_local_deletes.size(), plan.held_remote_deletes.size(),
              k_reasons.at(static_cast<std::size_t>(plan.held_reason)));
    log->warn("{}: if these deletions are intended, run again with --allow-mass-delete", where);
  }
  if (!plan.appends.empty()) {
    log->warn("{}: {} new local message(s) not uploaded: APPEND is not built yet", where,
              plan.appends.size());
  }
  for (const core::Uid uid : plan.forget) {
    UIDSYNC_TRY(db.delete_message(row.id, uid));
  }
  return plan;
}

} // namespace uidsync::sync
