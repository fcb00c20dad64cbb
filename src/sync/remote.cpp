// SPDX-License-Identifier: GPL-3.0-or-later
// The server's side of one folder: SELECT and the message listing.
#include "detail.hpp"

#include <uidsync/imap/command.hpp>

#include <climits>
#include <fmt/format.h>

#include <cstdint>
#include <utility>

namespace uidsync::sync::detail {

core::Result<RemoteView> read_remote(imap::Session& session, const state::FolderRow& row,
                                     const std::map<core::Uid, state::MessageRow>& known,
                                     const ExecuteOptions& options, const std::string& where) {
  (void)known; // the full listing does not need the state; an incremental one will
  // SELECT (read-write: flags and deletions are written back; EXAMINE for a dry run).
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
  RemoteView view;
  view.uidvalidity = static_cast<core::UidValidity>(*mailbox.uidvalidity);
  view.exists = mailbox.exists;
  view.uidnext = static_cast<core::Uid>(
      mailbox.uidnext.value_or(0) > UINT32_MAX ? 0 : mailbox.uidnext.value_or(0));
  view.highestmodseq = mailbox.highestmodseq.value_or(0);
  if (mailbox.exists == 0) {
    return view;
  }
  auto list = imap::CommandBuilder("UID FETCH")
                  .raw("1:*")
                  .raw("(UID FLAGS RFC822.SIZE INTERNALDATE)")
                  .build();
  UIDSYNC_TRY(list);
  UIDSYNC_TRY(run_all(
      session, {std::move(*list)},
      [&](const imap::Response& r) {
        const auto* f = std::get_if<imap::Fetch>(&r.value);
        if (f == nullptr || !f->uid) {
          return;
        }
        view.listed.push_back(*f->uid);
        if (*f->uid == 0) {
          return;
        }
        RemoteInfo info;
        info.uid = *f->uid;
        info.flags = flags_from_imap(f->flags.value_or(std::vector<std::string>{}));
        info.size = f->rfc822_size.value_or(0);
        info.internaldate =
            f->internal_date ? parse_internaldate(*f->internal_date).value_or(0) : 0;
        view.by_seq[f->seq] = info;
        view.by_uid[info.uid] = info;
      },
      options.timeout, where + ": UID FETCH 1:*"));
  return view;
}

} // namespace uidsync::sync::detail
