// SPDX-License-Identifier: GPL-3.0-or-later
// The body download: pipelined UID FETCH streamed into durable Maildir batches.
#include "detail.hpp"

#include <uidsync/imap/uid_set.hpp>
#include <uidsync/util/log.hpp>

#include <fmt/format.h>

#include <memory>
#include <optional>
#include <utility>

namespace uidsync::sync::detail {

namespace {

// Receives the bodies of one folder's UID FETCH, small (data handler) or large
// (BodySink), and collects the finished deliveries into durable batches.
class Fetcher : public imap::BodySink {
public:
  Fetcher(maildir::Folder& folder, state::Db& db, std::int64_t folder_id, const RemoteView& view,
          const ExecuteOptions& options, Stats& stats)
      : m_folder(folder), m_db(db), m_folder_id(folder_id), m_by_seq(view.by_seq),
        m_by_uid(view.by_uid), m_options(options), m_stats(stats), m_batch(folder) {}

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

} // namespace

core::Result<void> fetch_bodies(imap::Session& session, BodyRouter& router, maildir::Folder& folder,
                                state::Db& db, const state::FolderRow& row,
                                const std::vector<core::Uid>& uids, const RemoteView& view,
                                const ExecuteOptions& options, Stats& stats) {
  if (uids.empty()) {
    return {};
  }
  Fetcher fetcher(folder, db, row.id, view, options, stats);
  router.set_target(&fetcher);
  auto fetched = run_all(
      session,
      imap::uid_set_commands("UID FETCH", imap::UidSet::of(uids),
                             "(UID FLAGS INTERNALDATE BODY.PEEK[])"),
      [&](const imap::Response& r) { fetcher.on_data(r); }, options.timeout,
      "folder " + row.name + ": UID FETCH (bodies)");
  router.set_target(nullptr);
  if (fetcher.error()) {
    return util::unexpected(*fetcher.error());
  }
  // What arrived is kept even if a later command failed.
  UIDSYNC_TRY(fetcher.commit());
  return fetched;
}

} // namespace uidsync::sync::detail
