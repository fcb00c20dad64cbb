// SPDX-License-Identifier: GPL-3.0-or-later
// The body download: pipelined UID FETCH streamed into durable Maildir batches, and
// the classification of every UID the server does not serve (the quarantine).
#include "detail.hpp"

#include <uidsync/imap/uid_set.hpp>
#include <uidsync/sync/quarantine.hpp>
#include <uidsync/util/log.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <memory>
#include <optional>
#include <set>
#include <utility>

namespace uidsync::sync::detail {

namespace {

// UIDs per body command. A NO or BAD for a command is bisected, so this bounds the
// extra commands one poison message costs (log2(32) = 5 levels); Exchange ends a
// session after about 10 errors, and each failed half counts as one.
constexpr std::size_t k_uids_per_command = 32;
// Commands in flight at once. The server answers in order, so a bisection's halves
// and the BODY[HEADER] look at an empty answer wait behind at most this many
// commands, and finish before a later fault (a dropped connection) can stop them.
constexpr std::size_t k_window = 4;
// The head of a streamed body kept for the Exchange stub check; the stub is < 1 KiB.
constexpr std::size_t k_head_bytes = 8192;
constexpr std::string_view k_items = "(UID FLAGS INTERNALDATE BODY.PEEK[])";

// Receives the bodies of one folder's UID FETCH, small (data handler) or large
// (BodySink), collects the finished deliveries into durable batches, and sends
// every UID the server failed to serve to the quarantine.
class Fetcher : public imap::BodySink {
public:
  Fetcher(imap::Session& session, maildir::Folder& folder, state::Db& db,
          const state::FolderRow& row, const RemoteView& view, const ExecuteOptions& options,
          Stats& stats, Quarantine& quarantine)
      : m_session(session), m_folder(folder), m_db(db), m_row(row), m_by_seq(view.by_seq),
        m_by_uid(view.by_uid), m_options(options), m_stats(stats), m_quarantine(quarantine),
        m_batch(folder) {}

  // Fetches `uids`: those not due in the quarantine in commands of up to
  // k_uids_per_command, then each due one alone. Returns the session's error
  // (Scope::account) when the connection ends or stalls, after classifying the
  // UID in flight; a folder-scope error for what the run cannot go on with.
  core::Result<void> run(const std::vector<core::Uid>& uids) {
    std::vector<core::Uid> plain;
    std::vector<core::Uid> alone;
    for (const core::Uid uid : uids) {
      (m_quarantine.due(uid) ? alone : plain).push_back(uid);
    }
    for (std::size_t i = 0; i < plain.size(); i += k_uids_per_command) {
      const auto end = std::min(plain.size(), i + k_uids_per_command);
      m_queue.emplace_back(plain.begin() + static_cast<std::ptrdiff_t>(i),
                           plain.begin() + static_cast<std::ptrdiff_t>(end));
    }
    for (const core::Uid uid : alone) {
      m_queue.push_back({uid});
    }
    pump();
    while (m_outstanding > 0 && !m_error && !m_cut) {
      const auto before = m_progress;
      auto ran = m_session.run_until(
          [&] { return m_progress != before || m_outstanding == 0 || m_error.has_value(); },
          m_options.timeout);
      if (!ran) {
        UIDSYNC_TRY(connection_ended(false));
        return util::unexpected(ran.error());
      }
      if (!*ran) {
        UIDSYNC_TRY(connection_ended(true));
        return core::fail(
            core::Scope::account,
            fmt::format(
                "folder {}: UID FETCH (bodies): no answer from the server for {} s", m_row.name,
                std::chrono::duration_cast<std::chrono::seconds>(m_options.timeout).count()),
            "check the connection, or raise the account's timeout");
      }
    }
    if (m_cut) {
      // Every command in flight was ended by the closed connection.
      UIDSYNC_TRY(connection_ended(false));
      return core::fail(core::Scope::account,
                        fmt::format("folder {}: UID FETCH (bodies): {}", m_row.name, m_cut_text),
                        "the account is retried on the next run");
    }
    if (m_error) {
      return util::unexpected(*m_error);
    }
    return {};
  }

  void begin(std::uint32_t seq, std::string_view, std::uint64_t size) override {
    ++m_progress;
    m_current.reset();
    m_head.clear();
    m_current_uid = 0;
    const auto it = m_by_seq.find(seq);
    if (it == m_by_seq.end()) {
      message_error(0, fmt::format("unexpected body for message number {}", seq));
      return;
    }
    m_current_uid = it->second.uid;
    m_current_size = size;
    if (size != it->second.size) {
      return; // finish() quarantines it; nothing is written
    }
    m_current = start(it->second);
  }

  void chunk(std::string_view bytes) override {
    ++m_progress;
    if (m_head.size() < k_head_bytes) {
      m_head.append(bytes.substr(0, k_head_bytes - m_head.size()));
    }
    if (m_current) {
      auto written = m_current->write(bytes);
      if (!written) {
        note(written.error(), m_current_uid);
        m_current.reset();
      }
    }
  }

  void finish(const imap::Fetch& fetch) override {
    ++m_progress;
    auto delivery = std::move(m_current);
    m_current.reset();
    if (m_current_uid == 0) {
      return;
    }
    // The sink only knows the sequence number at begin(); an EXPUNGE from
    // another client could have shifted it, so the UID must agree.
    if (!fetch.uid || *fetch.uid != m_current_uid) {
      message_error(m_current_uid, "the server's FETCH answer does not carry the expected UID");
      return;
    }
    m_answered.insert(m_current_uid);
    const auto announced = fmt::format("S: * {} FETCH (UID {} BODY[] {{{}}}", fetch.seq,
                                       m_current_uid, m_current_size);
    if (!check_body(m_current_uid, m_current_size, m_head, announced, line_of(m_current_uid)) ||
        !delivery) {
      return; // quarantined; the Delivery's destructor removes the tmp file
    }
    done(*delivery, m_current_uid);
  }

  void abort(std::string_view reason) override {
    ++m_progress;
    if (m_current) {
      message_error(m_current_uid, fmt::format("body download aborted: {}", reason));
    }
    m_current.reset();
  }

  // Makes the collected deliveries durable, records them in one transaction, then
  // releases the delivered UIDs from the quarantine.
  core::Result<void> commit() {
    if (m_batch.size() == 0) {
      return {};
    }
    const auto count = m_batch.size();
    std::vector<core::Uid> delivered;
    auto committed = m_batch.commit(
        [this, &delivered](const std::vector<maildir::Delivered>& items) -> core::Result<void> {
          auto tx = m_db.begin();
          UIDSYNC_TRY(tx);
          for (const auto& d : items) {
            state::MessageRow row;
            row.folder_id = m_row.id;
            row.uid = d.uid;
            row.local_name = d.name;
            row.flags = d.flags;
            row.size = d.content.size;
            row.internaldate = d.internaldate;
            row.message_id = d.content.message_id;
            row.digest = d.content.digest;
            UIDSYNC_TRY(m_db.put_message(row));
            delivered.push_back(d.uid);
          }
          return tx->commit();
        });
    UIDSYNC_TRY(committed);
    m_stats.fetched += count;
    for (const core::Uid uid : delivered) {
      UIDSYNC_TRY(m_quarantine.release(uid, false));
    }
    return {};
  }

private:
  // One UID FETCH in flight: a body command, or a header probe after a body
  // command left `uids` (one UID) without data.
  struct Command {
    std::vector<core::Uid> uids;
    std::string line; // "tag UID FETCH set items", for evidence
    bool probe = false;
    bool tagged = false; // the server's tagged answer arrived
    std::string header;  // the probe's BODY[HEADER]
  };

  Command& add(std::vector<core::Uid> uids, std::string_view items, bool probe) {
    auto c = std::make_unique<Command>();
    c->uids = std::move(uids);
    c->probe = probe;
    Command& cmd = *c;
    m_commands.push_back(std::move(c));
    const auto set = imap::UidSet::of(cmd.uids).to_string();
    auto built = imap::CommandBuilder("UID FETCH").raw(set).raw(items).build();
    if (!built) {
      fail_folder(fmt::format("cannot build UID FETCH {}: {}", set, built.error().message));
      cmd.tagged = true;
      return cmd;
    }
    ++m_outstanding;
    const auto tag = m_session.submit(
        std::move(*built), [this, &cmd](const imap::Tagged& t) { completed(cmd, t); },
        [this, &cmd](const imap::Response& r) { on_data(cmd, r); });
    cmd.line = fmt::format("C: {} UID FETCH {} {}", tag, set, items);
    return cmd;
  }

  // The line of the body command in flight that asked for `uid`; empty if none.
  std::string line_of(core::Uid uid) const {
    for (const auto& c : m_commands) {
      if (!c->probe && !c->tagged &&
          std::find(c->uids.begin(), c->uids.end(), uid) != c->uids.end()) {
        return c->line;
      }
    }
    return {};
  }

  void submit_bodies(std::vector<core::Uid> uids) { add(std::move(uids), k_items, false); }

  // Submits queued body commands while fewer than k_window commands are in flight.
  void pump() {
    while (m_outstanding < k_window && !m_queue.empty() && !m_error && !m_cut) {
      auto uids = std::move(m_queue.front());
      m_queue.pop_front();
      submit_bodies(std::move(uids));
    }
  }

  void on_data(Command& cmd, const imap::Response& response) {
    ++m_progress;
    const auto* f = std::get_if<imap::Fetch>(&response.value);
    if (f == nullptr || !f->uid) {
      return;
    }
    for (const auto& body : f->bodies) {
      if (cmd.probe) {
        if (body.section == "BODY[HEADER]" && body.data) {
          cmd.header = *body.data;
        }
        continue;
      }
      if (body.section != "BODY[]" || body.streamed) {
        continue;
      }
      const core::Uid uid = *f->uid;
      m_answered.insert(uid);
      const auto info = m_by_uid.find(uid);
      if (info == m_by_uid.end()) {
        message_error(uid, "the server sent a body for a UID it did not list");
        continue;
      }
      if (!body.data) {
        record(uid, Reason::nil_body, "the server sent BODY[] NIL",
               {cmd.line, fmt::format("S: * {} FETCH (UID {} BODY[] NIL)", f->seq, uid)});
        continue;
      }
      const auto announced =
          fmt::format("S: * {} FETCH (UID {} BODY[] {{{}}}", f->seq, uid, body.data->size());
      if (!check_body(uid, body.data->size(), *body.data, announced, cmd.line)) {
        continue;
      }
      auto delivery = start(info->second);
      if (!delivery) {
        continue;
      }
      auto written = delivery->write(*body.data);
      if (!written) {
        note(written.error(), uid);
        continue;
      }
      done(*delivery, uid);
    }
  }

  // False (and the UID quarantined) when the body must not be stored: its size
  // is not the announced RFC822.SIZE, or it is the Exchange stub.
  bool check_body(core::Uid uid, std::uint64_t size, std::string_view head,
                  const std::string& announced, const std::string& command_line = {}) {
    const auto expected = m_by_uid.at(uid).size;
    std::vector<std::string> evidence;
    if (!command_line.empty()) {
      evidence.push_back(command_line);
    }
    evidence.push_back(announced);
    if (size != expected) {
      // RFC 3501 §6.4.5: RFC822.SIZE is the size of BODY[]. A copy of another
      // length may be truncated or padded; it is not stored.
      evidence.push_back(
          fmt::format("(RFC822.SIZE was {}, the literal has {} bytes)", expected, size));
      record(uid, Reason::size_mismatch,
             fmt::format("RFC822.SIZE says {} bytes, the server sent {}", expected, size),
             evidence);
      return false;
    }
    if (const auto named = exchange_stub_uid(head)) {
      append_header(evidence, head);
      stub(uid, *named, "the server sent its \"retrieval failed\" stub as the message", evidence,
           false);
      return false;
    }
    return true;
  }

  // Quarantines `uid` for the Exchange stub; a stub naming another UID is also an
  // anomaly (uid_reused: the server's UID no longer points at the message it names).
  // With `amend`, the UID was recorded as no-data a moment ago.
  void stub(core::Uid uid, core::Uid named, const std::string& what,
            std::vector<std::string> evidence, bool amend) {
    if (named != uid && named != 0) {
      evidence.push_back(fmt::format("(the stub names UID {}, not the requested {})", named, uid));
    }
    if (amend) {
      if (auto r = m_quarantine.amend(uid, Reason::exchange_stub, what, evidence); !r) {
        note(r.error(), uid);
      }
    } else {
      record(uid, Reason::exchange_stub, what, evidence);
    }
    if (named != uid && named != 0) {
      state::AnomalyRow a;
      a.folder_id = m_row.id;
      a.kind = state::AnomalyKind::uid_reused;
      a.detail = fmt::format("UID {}: Exchange's retrieval-failed stub names UID {}", uid, named);
      a.seen_at = m_quarantine.now();
      a.uid = uid;
      if (const auto it = m_quarantine.rows().find(uid); it != m_quarantine.rows().end()) {
        a.evidence = it->second.evidence;
      }
      if (auto added = m_db.add_anomaly(a); !added) {
        note(added.error(), uid);
        return;
      }
      ++m_stats.anomalies;
      util::logger("sync")->warn("{}: anomaly: {}", m_quarantine.where(uid), a.detail);
    }
  }

  static void append_header(std::vector<std::string>& evidence, std::string_view head) {
    const auto end = head.find("\r\n\r\n");
    const auto lf_end = head.find("\n\n");
    head = head.substr(0, std::min(end, lf_end));
    for (int n = 0; !head.empty() && n < 30; ++n) {
      const auto nl = head.find('\n');
      auto line = head.substr(0, nl);
      if (!line.empty() && line.back() == '\r') {
        line.remove_suffix(1);
      }
      evidence.push_back("S:   " + std::string(line.substr(0, 200)));
      head.remove_prefix(nl == std::string_view::npos ? head.size() : nl + 1);
    }
  }

  void completed(Command& cmd, const imap::Tagged& t) {
    handle(cmd, t);
    pump();
  }

  void handle(Command& cmd, const imap::Tagged& t) {
    ++m_progress;
    --m_outstanding;
    if (t.status == imap::Status::bye) {
      // The session ends every pending command this way; its text carries the
      // server's BYE, if one came ("(server said: ...)").
      m_cut = true;
      m_cut_text = t.text;
      m_bye = m_bye || t.text.find("server said:") != std::string::npos;
      return;
    }
    cmd.tagged = true;
    const auto tagged = fmt::format("S: {} {} {}", t.tag, to_string(t.status), t.text);
    if (cmd.probe) {
      probed(cmd, tagged);
      return;
    }
    const auto missing = unanswered(cmd);
    if (missing.empty()) {
      return;
    }
    if (t.status == imap::Status::ok) {
      // RFC 3501 §6.4.5 wants the data of every listed message; Exchange answers
      // OK without it for messages its store cannot convert. BODY[HEADER] then
      // shows whether it is the Exchange stub.
      // The UID is quarantined now, so that a connection lost before the look
      // cannot make the next one fetch it again; the look only refines the reason.
      for (const core::Uid uid : missing) {
        record(uid, Reason::no_data, "the server answered OK without sending the message",
               {cmd.line, fmt::format("S: (no FETCH data for UID {})", uid), tagged}, false);
        add({uid}, "(UID BODY.PEEK[HEADER])", true);
      }
      return;
    }
    if (cmd.uids.size() == 1) {
      const bool no = t.status == imap::Status::no;
      record(cmd.uids.front(), no ? Reason::refused : Reason::rejected,
             fmt::format("the server answered {} {}", to_string(t.status), t.text),
             {cmd.line, tagged});
      return;
    }
    // Exchange answers NO/BAD for the whole set when one UID in it is bad: split
    // the UIDs left without data and try each half.
    const auto half = missing.begin() + static_cast<std::ptrdiff_t>((missing.size() + 1) / 2);
    submit_bodies({missing.begin(), half});
    if (half != missing.end()) {
      submit_bodies({half, missing.end()});
    }
  }

  void probed(Command& cmd, const std::string& tagged) {
    const core::Uid uid = cmd.uids.front();
    std::vector<std::string> evidence{cmd.line};
    if (!cmd.header.empty()) {
      evidence.push_back(
          fmt::format("S: * FETCH (UID {} BODY[HEADER] {{{}}}", uid, cmd.header.size()));
      append_header(evidence, cmd.header);
    }
    evidence.push_back(tagged);
    if (const auto named = exchange_stub_uid(cmd.header)) {
      stub(uid, *named, "BODY[] came back empty and BODY[HEADER] is Exchange's stub", evidence,
           true);
    } else if (auto r = m_quarantine.amend(uid, Reason::no_data,
                                           "the server answered OK without sending the message",
                                           evidence);
               !r) {
      note(r.error(), uid);
    }
    m_quarantine.announce(uid);
  }

  // The connection ended (`timeout`: stalled) with commands in flight: decides
  // which UID was to blame. A server BYE (Exchange: "Too many errors") blames none.
  core::Result<void> connection_ended(bool timeout) {
    const auto oldest = std::find_if(m_commands.begin(), m_commands.end(),
                                     [](const auto& c) { return !c->tagged; });
    // Bodies that arrived are kept.
    auto committed = commit();
    // Looks at BODY[HEADER] that got no answer: the UID stays quarantined as no-data.
    for (const auto& c : m_commands) {
      if (c->probe && !c->tagged) {
        m_quarantine.announce(c->uids.front());
      }
    }
    if (!m_bye && oldest != m_commands.end() && !(*oldest)->probe) {
      blame(**oldest, timeout);
    }
    UIDSYNC_TRY(committed);
    if (m_error) {
      return util::unexpected(*m_error);
    }
    return {};
  }

  // The UIDs of `cmd` whose BODY[] has not arrived, in the order asked.
  std::vector<core::Uid> unanswered(const Command& cmd) const {
    std::vector<core::Uid> out;
    for (const core::Uid uid : cmd.uids) {
      if (m_answered.count(uid) == 0) {
        out.push_back(uid);
      }
    }
    return out;
  }

  void blame(const Command& cmd, bool timeout) {
    const auto missing = unanswered(cmd);
    if (missing.empty()) {
      return;
    }
    const auto what = timeout ? fmt::format("(no answer for {} ms)", m_options.timeout.count())
                              : std::string("(the connection was closed)");
    if (cmd.uids.size() == 1) {
      record(missing.front(), timeout ? Reason::timeout : Reason::connection_dropped,
             timeout ? "the server never answered the fetch of this message"
                     : "the connection ended while this message was expected",
             {cmd.line, "S: " + what});
      return;
    }
    // A command of several UIDs did not complete: the culprit is one of them.
    // After a drop, the first UID not received is the likely one, but a server
    // that closes with our later commands unread sends a TCP reset, which can
    // discard answers already on their way, so even that is not certain. The
    // suspects are fetched alone next time, and only one that fails alone is
    // quarantined.
    const auto suspects = timeout ? missing : std::vector<core::Uid>{missing.front()};
    for (const core::Uid uid : suspects) {
      if (auto s = m_quarantine.suspect(uid, "in a fetch the server never completed " + what); !s) {
        note(s.error(), uid);
      }
    }
  }

  void record(core::Uid uid, Reason reason, const std::string& detail,
              const std::vector<std::string>& evidence, bool announce = true) {
    if (auto r = m_quarantine.record(uid, reason, detail, evidence, announce); !r) {
      note(r.error(), uid);
    }
  }

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
    m_stats.bytes += delivered->content.size;
    if (m_options.progress != nullptr) {
      m_options.progress->messages += 1;
      m_options.progress->bytes += delivered->content.size;
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

  void fail_folder(const std::string& what) {
    note({core::Scope::folder, "folder " + m_row.name + ": " + what, {}}, 0);
  }

  void note(const core::Error& error, core::Uid uid) {
    if (error.scope == core::Scope::message) {
      util::logger("sync")->warn("{}: UID {}: {}", m_folder.path().string(), uid, error.what());
      ++m_stats.failed;
    } else if (!m_error) {
      m_error = error;
    }
  }

  imap::Session& m_session;
  maildir::Folder& m_folder;
  state::Db& m_db;
  const state::FolderRow& m_row;
  const std::map<std::uint32_t, RemoteInfo>& m_by_seq;
  const std::map<core::Uid, RemoteInfo>& m_by_uid;
  const ExecuteOptions& m_options;
  Stats& m_stats;
  Quarantine& m_quarantine;
  maildir::Batch m_batch;
  std::vector<std::unique_ptr<Command>> m_commands; // in the order sent
  std::deque<std::vector<core::Uid>> m_queue;       // body commands not sent yet
  std::set<core::Uid> m_answered; // UIDs whose BODY[] arrived (data, NIL or streamed)
  std::size_t m_outstanding = 0;
  std::uint64_t m_progress = 0;
  bool m_bye = false; // the server said BYE: it ended the session, no UID is to blame
  bool m_cut = false; // the connection ended with commands in flight
  std::string m_cut_text;
  std::unique_ptr<maildir::Delivery> m_current;
  core::Uid m_current_uid = 0;
  std::uint64_t m_current_size = 0;
  std::string m_head;
  std::optional<core::Error> m_error;
};

} // namespace

core::Result<void> fetch_bodies(imap::Session& session, BodyRouter& router, maildir::Folder& folder,
                                state::Db& db, const state::FolderRow& row,
                                const std::vector<core::Uid>& uids, const RemoteView& view,
                                const ExecuteOptions& options, Stats& stats,
                                Quarantine& quarantine) {
  if (uids.empty()) {
    return {};
  }
  Fetcher fetcher(session, folder, db, row, view, options, stats, quarantine);
  router.set_target(&fetcher);
  auto fetched = fetcher.run(uids);
  router.set_target(nullptr);
  // What arrived is kept even if a later command failed.
  UIDSYNC_TRY(fetcher.commit());
  return fetched;
}

} // namespace uidsync::sync::detail
