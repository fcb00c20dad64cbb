// SPDX-License-Identifier: GPL-3.0-or-later
// COMPRESS=DEFLATE negotiation (RFC 4978) on an authenticated session.
#pragma once

#include <uidsync/core/error.hpp>
#include <uidsync/imap/session.hpp>
#include <uidsync/net/deflate_transport.hpp>

#include <chrono>

namespace uidsync::imap {

// Turns on compression when the session's capabilities (as last seen: refresh
// them after login first) include COMPRESS=DEFLATE; sends nothing otherwise.
// `transport` must be the transport `session` runs on, still passing through,
// and nothing may be in flight (RFC 4978 §3: no command may follow COMPRESS
// before its tagged OK). On OK, the transport switches to DEFLATE while the OK
// is being dispatched, before any later byte is read. Returns true when
// compression is on, false when the server lacks the capability or answered
// NO/BAD (one debug line; the session goes on uncompressed). Fails
// (Scope::account) when the connection ends or `timeout` passes.
core::Result<bool> start_compression(Session& session, net::DeflateTransport& transport,
                                     std::chrono::milliseconds timeout);

} // namespace uidsync::imap
