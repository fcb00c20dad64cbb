// SPDX-License-Identifier: GPL-3.0-or-later
// Session: one IMAP connection driven over a net::Transport. Commands are pipelined
// (many in flight), each with its completion handler; untagged data goes to the
// command that asked for it, or to the mailbox state. Nothing blocks except
// step()/run_until(), which wait on the transport at most their timeout.
//
// Contract:
// - Handlers run inside step(), on the caller's thread. They may submit commands.
// - A command's completion handler is called exactly once: with the tagged status,
//   or with Status::bye if the connection ended first (text says why).
// - Transport failures, BYE and unrecoverable parse errors end the session: every
//   pending command completes with Status::bye, closed() turns true, and step()
//   returns an Error with Scope::account.
// - Literals: with LITERAL+ (or LITERAL- for small ones) they are sent inline;
//   otherwise the session waits for the server's "+" before sending each one, and
//   holds later commands back until the literal is out.
#pragma once

#include <uidsync/core/error.hpp>
#include <uidsync/imap/command.hpp>
#include <uidsync/imap/parser.hpp>
#include <uidsync/imap/trace.hpp>
#include <uidsync/net/transport.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace uidsync::imap {

// The selected mailbox, as the server reported it (RFC 3501 §7.3, RFC 7162).
struct MailboxState {
  std::uint32_t exists = 0;
  std::uint32_t recent = 0;
  std::optional<std::uint64_t> uidvalidity; // 64 bits: a server may send more (reported)
  std::optional<std::uint64_t> uidnext;
  std::optional<core::ModSeq> highestmodseq;
  bool nomodseq = false;
  bool read_only = false;
  std::vector<std::string> flags;
  std::vector<std::string> permanent_flags;
};

struct SessionOptions {
  std::string tag_prefix = "u";  // tags are "<prefix><n>"; libcurl's own are "A001"...
  Limits limits;
  std::chrono::milliseconds write_timeout{30000};
  Trace* trace = nullptr;        // redacted transcript, if --trace was given
  BodySink* body_sink = nullptr; // receives large BODY[] literals
};

using CompletionHandler = std::function<void(const Tagged&)>;
using DataHandler = std::function<void(const Response&)>;

class Session {
public:
  // `transport` must be authenticated and outlive the session.
  explicit Session(net::Transport& transport, SessionOptions options = {});

  // Queues `command`. Returns its tag. `on_data` receives the untagged responses
  // that belong to it (FETCH for FETCH/STORE, SEARCH/ESEARCH, LIST/LSUB, STATUS,
  // VANISHED, CAPABILITY, ENABLED, and the SELECT/EXAMINE data).
  std::string submit(Command command, CompletionHandler on_done, DataHandler on_data = {});

  // Untagged responses no command asked for (EXISTS during IDLE, flag changes...).
  void on_unsolicited(DataHandler handler) { m_unsolicited = std::move(handler); }

  // One round: writes what can be written, waits up to `timeout` for the server,
  // reads what is there and dispatches it.
  core::Result<void> step(std::chrono::milliseconds timeout);
  // Calls step() until `done()` is true (returns true) or `timeout` passes (false).
  core::Result<bool> run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout);

  // Runs `command` to completion (pipelining nothing else). Fails (Scope::folder) on
  // NO/BAD, (Scope::account) if the connection ended or `timeout` passed.
  core::Result<Tagged> execute(Command command, std::chrono::milliseconds timeout,
                               DataHandler on_data = {});

  // CAPABILITY, to replace what was seen before authentication.
  core::Result<void> refresh_capabilities(std::chrono::milliseconds timeout);
  // Takes the post-login capabilities the login reply carried (a space-separated
  // list, net::Transport::login_capabilities()) instead of asking for them. An
  // empty list changes nothing and returns false (then call refresh_capabilities).
  bool adopt_capabilities(std::string_view list);
  // ENABLE CONDSTORE QRESYNC when advertised; returns what the server enabled.
  core::Result<std::set<std::string>> enable_qresync(std::chrono::milliseconds timeout);
  // IDLE (RFC 2177): `on_data` gets what arrives meanwhile; stop with idle_done().
  std::string idle(CompletionHandler on_done, DataHandler on_data = {});
  void idle_done();
  bool idling() const { return m_idle_tag.has_value() && m_idle_started; }
  // NOOP and LOGOUT. LOGOUT's BYE is expected and does not count as a failure;
  // logout() with a zero `timeout` sends LOGOUT and closes without waiting for it.
  std::string noop(CompletionHandler on_done);
  core::Result<void> logout(std::chrono::milliseconds timeout);

  bool has_capability(std::string_view name) const;
  const std::set<std::string>& capabilities() const { return m_capabilities; }
  const std::set<std::string>& enabled() const { return m_enabled; }
  LiteralMode literal_mode() const;
  const MailboxState& mailbox() const { return m_mailbox; }
  void reset_mailbox() { m_mailbox = {}; }
  std::size_t in_flight() const { return m_pending.size() + m_outgoing.size(); }
  bool closed() const { return m_closed; }

private:
  struct Pending {
    std::string tag;
    Command command;
    std::size_t next_part = 0;
    CompletionHandler on_done;
    DataHandler on_data;
  };

  core::Result<void> flush();
  core::Result<void> write(std::string_view bytes);
  void dispatch(Response response);
  void complete(const Tagged& tagged);
  void route(const Response& response);
  void apply_code(const ResponseCode& code);
  core::Result<void> fail_all(const std::string& reason);

  net::Transport& m_transport;
  SessionOptions m_options;
  Parser m_parser;
  std::uint64_t m_next_tag = 1;
  std::deque<Pending> m_outgoing;    // not (fully) written yet; front may wait for "+"
  std::deque<Pending> m_pending;     // fully written, waiting for the tagged response
  bool m_waiting_continuation = false;
  std::optional<std::string> m_idle_tag;
  bool m_idle_written = false;
  bool m_idle_started = false;
  bool m_idle_done_requested = false;
  bool m_idle_done_sent = false;
  bool m_logging_out = false;
  bool m_closed = false;
  std::string m_bye_text;
  std::set<std::string> m_capabilities;
  std::set<std::string> m_enabled;
  MailboxState m_mailbox;
  DataHandler m_unsolicited;
};

// "SELECT"/"EXAMINE" with CONDSTORE or QRESYNC parameters (RFC 7162 §3.2.5).
struct QresyncParams {
  std::uint64_t uidvalidity = 0;
  core::ModSeq modseq = 0;
  UidSet known_uids; // optional; empty: not sent
};
core::Result<Command> select_command(std::string_view mailbox_utf8, bool examine,
                                     const std::optional<QresyncParams>& qresync, bool condstore,
                                     LiteralMode mode);

} // namespace uidsync::imap
