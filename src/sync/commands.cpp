// SPDX-License-Identifier: GPL-3.0-or-later
// Pipelined commands for the executor: run a list and wait, and flag STOREs.
#include "detail.hpp"

#include <fmt/format.h>

#include <optional>
#include <utility>

namespace uidsync::sync::detail {

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

} // namespace uidsync::sync::detail
