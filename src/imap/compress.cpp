// SPDX-License-Identifier: GPL-3.0-or-later
// COMPRESS=DEFLATE negotiation (RFC 4978 §3).
#include <uidsync/imap/compress.hpp>

#include <uidsync/util/log.hpp>

#include <optional>
#include <string>

namespace uidsync::imap {

core::Result<bool> start_compression(Session& session, net::DeflateTransport& transport,
                                     std::chrono::milliseconds timeout) {
  auto log = util::logger("imap");
  if (transport.compressing()) {
    return true;
  }
  if (!session.has_capability("COMPRESS=DEFLATE")) {
    log->debug("server does not offer COMPRESS=DEFLATE; the connection is not compressed");
    return false;
  }
  if (session.in_flight() != 0) {
    return core::fail(core::Scope::account,
                      "COMPRESS DEFLATE must be the only command in flight, " +
                          std::to_string(session.in_flight()) + " others are pending",
                      "this is a bug in uidsync; set compress = false to work around it");
  }
  std::optional<Tagged> result;
  std::optional<core::Error> switch_error;
  session.submit(CommandBuilder("COMPRESS").raw("DEFLATE").build().value(),
                 [&](const Tagged& t) {
                   result = t;
                   // RFC 4978 §3: the server's next byte after this OK line is compressed.
                   if (t.status == Status::ok) {
                     auto started = transport.start();
                     if (!started) {
                       switch_error = started.error();
                     }
                   }
                 });
  auto finished = session.run_until([&result] { return result.has_value(); }, timeout);
  UIDSYNC_TRY(finished);
  if (switch_error) {
    return util::unexpected(std::move(*switch_error));
  }
  if (!*finished) {
    return core::fail(core::Scope::account,
                      "COMPRESS DEFLATE got no answer within " + std::to_string(timeout.count()) +
                          " ms",
                      "the server is slow or stuck; raise the timeout or set compress = false");
  }
  if (result->status == Status::bye) {
    return core::fail(core::Scope::account, "COMPRESS DEFLATE failed: " + result->text);
  }
  if (result->status != Status::ok) {
    log->debug("server refused COMPRESS DEFLATE ({} {}); the connection is not compressed",
               to_string(result->status), result->text);
    return false;
  }
  return true;
}

} // namespace uidsync::imap
