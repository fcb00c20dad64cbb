// SPDX-License-Identifier: GPL-3.0-or-later
// Session: pipelined IMAP command execution over a Transport.
#include <uidsync/imap/session.hpp>

#include <uidsync/util/log.hpp>

#include <algorithm>
#include <array>
#include <cctype>

namespace uidsync::imap {

namespace {

constexpr std::size_t k_read_buffer = 64 * 1024;

bool is_select(const Command& c) { return c.name == "SELECT" || c.name == "EXAMINE"; }

// Which command an untagged response belongs to (RFC 3501 §7, RFC 7162, RFC 4731).
bool wants(const Command& c, const Response& r) {
  const auto& n = c.name;
  return std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, Fetch>) {
          return n.starts_with("FETCH") || n.starts_with("UID FETCH") || n.starts_with("STORE") ||
                 n.starts_with("UID STORE") || is_select(c);
        } else if constexpr (std::is_same_v<T, Search> || std::is_same_v<T, ESearch>) {
          return n.starts_with("SEARCH") || n.starts_with("UID SEARCH");
        } else if constexpr (std::is_same_v<T, MailboxList>) {
          return n.starts_with("LIST") || n.starts_with("LSUB");
        } else if constexpr (std::is_same_v<T, MailboxStatus>) {
          // LIST … RETURN (STATUS …) (RFC 5819) answers with STATUS responses too.
          return n.starts_with("STATUS") || n.starts_with("LIST");
        } else if constexpr (std::is_same_v<T, Vanished>) {
          return is_select(c) || n.starts_with("UID FETCH") || n.starts_with("UID EXPUNGE") ||
                 n.starts_with("EXPUNGE");
        } else if constexpr (std::is_same_v<T, Capability>) {
          return n.starts_with("CAPABILITY");
        } else if constexpr (std::is_same_v<T, Enabled>) {
          return n.starts_with("ENABLE");
        } else if constexpr (std::is_same_v<T, Exists> || std::is_same_v<T, Recent> ||
                             std::is_same_v<T, FlagList> || std::is_same_v<T, Condition>) {
          return is_select(c);
        } else {
          return false;
        }
      },
      r.value);
}

} // namespace

Session::Session(net::Transport& transport, SessionOptions options)
    : m_transport(transport), m_options(std::move(options)),
      m_parser(m_options.limits, m_options.body_sink) {}

std::string Session::submit(Command command, CompletionHandler on_done, DataHandler on_data) {
  auto tag = m_options.tag_prefix + std::to_string(m_next_tag++);
  if (m_closed) {
    if (on_done) {
      on_done(Tagged{tag, Status::bye, {}, "connection closed: " + m_bye_text});
    }
    return tag;
  }
  m_outgoing.push_back(Pending{tag, std::move(command), 0, std::move(on_done), std::move(on_data)});
  return tag;
}

LiteralMode Session::literal_mode() const {
  if (has_capability("LITERAL+")) {
    return LiteralMode::plus;
  }
  if (has_capability("LITERAL-")) {
    return LiteralMode::minus;
  }
  return LiteralMode::synchronizing;
}

bool Session::has_capability(std::string_view name) const {
  return m_capabilities.count(std::string(name)) != 0;
}

core::Result<void> Session::write(std::string_view bytes) {
  if (m_options.trace) {
    m_options.trace->client(bytes);
  }
  auto written = m_transport.write_all(bytes, m_options.write_timeout);
  if (!written) {
    return fail_all(written.error().message);
  }
  return {};
}

core::Result<void> Session::flush() {
  if (m_idle_tag && m_idle_started && m_idle_done_requested && !m_idle_done_sent) {
    m_idle_done_sent = true;
    UIDSYNC_TRY(write("DONE\r\n"));
  }
  while (!m_outgoing.empty() && !m_waiting_continuation) {
    // Nothing may follow IDLE until DONE (RFC 2177).
    if (m_idle_tag && m_idle_written && !m_idle_done_sent) {
      break;
    }
    auto& p = m_outgoing.front();
    if (p.next_part == 0 && is_select(p.command)) {
      m_mailbox = {};
    }
    std::string bytes = p.next_part == 0 ? p.tag + " " : std::string();
    bytes += p.command.parts[p.next_part];
    ++p.next_part;
    bool more = p.next_part < p.command.parts.size();
    if (p.command.name == "IDLE") {
      m_idle_written = true;
    }
    if (more) {
      m_waiting_continuation = true;
    } else {
      m_pending.push_back(std::move(p));
      m_outgoing.pop_front();
    }
    UIDSYNC_TRY(write(bytes));
  }
  return {};
}

core::Result<void> Session::fail_all(const std::string& reason) {
  auto message = m_bye_text.empty() ? reason : reason + " (server said: " + m_bye_text + ")";
  m_closed = true;
  m_transport.close();
  std::deque<Pending> all;
  all.swap(m_pending);
  for (auto& p : m_outgoing) {
    all.push_back(std::move(p));
  }
  m_outgoing.clear();
  m_waiting_continuation = false;
  m_idle_tag.reset();
  for (auto& p : all) {
    if (p.on_done) {
      p.on_done(Tagged{p.tag, Status::bye, {}, message});
    }
  }
  return core::fail(core::Scope::account, "IMAP connection lost: " + message,
                    "the account is retried on the next run; check the network or the server");
}

void Session::apply_code(const ResponseCode& code) {
  using Kind = ResponseCode::Kind;
  switch (code.kind) {
  case Kind::uidvalidity:
    m_mailbox.uidvalidity = code.number;
    break;
  case Kind::uidnext:
    m_mailbox.uidnext = code.number;
    break;
  case Kind::highestmodseq:
    m_mailbox.highestmodseq = code.number;
    break;
  case Kind::nomodseq:
    m_mailbox.nomodseq = true;
    break;
  case Kind::permanentflags:
    m_mailbox.permanent_flags = code.flags;
    break;
  case Kind::read_only:
    m_mailbox.read_only = true;
    break;
  case Kind::read_write:
    m_mailbox.read_only = false;
    break;
  case Kind::capability:
    m_capabilities = {code.flags.begin(), code.flags.end()};
    break;
  case Kind::closed:
    // RFC 7162 §3.2.11: what follows belongs to the newly selected mailbox.
    m_mailbox = {};
    break;
  default:
    break;
  }
}

void Session::complete(const Tagged& tagged) {
  apply_code(tagged.code);
  auto take = [&](std::deque<Pending>& queue) -> std::optional<Pending> {
    for (auto it = queue.begin(); it != queue.end(); ++it) {
      if (it->tag == tagged.tag) {
        Pending p = std::move(*it);
        queue.erase(it);
        return p;
      }
    }
    return std::nullopt;
  };
  auto p = take(m_pending);
  if (!p && !m_outgoing.empty() && m_outgoing.front().tag == tagged.tag) {
    // Refused before its literal was sent (the server answered NO instead of "+").
    p = take(m_outgoing);
    m_waiting_continuation = false;
  }
  if (!p) {
    util::logger("imap")->warn("ignoring a completion for unknown tag {}", tagged.tag);
    return;
  }
  if (m_idle_tag == tagged.tag) {
    m_idle_tag.reset();
    m_idle_written = m_idle_started = m_idle_done_requested = m_idle_done_sent = false;
  }
  if (p->on_done) {
    p->on_done(tagged);
  }
}

void Session::route(const Response& response) {
  for (auto& p : m_pending) {
    if (p.on_data && wants(p.command, response)) {
      p.on_data(response);
      return;
    }
  }
  if (!m_outgoing.empty() && m_outgoing.front().next_part > 0) {
    auto& p = m_outgoing.front();
    if (p.on_data && wants(p.command, response)) {
      p.on_data(response);
      return;
    }
  }
  if (m_unsolicited) {
    m_unsolicited(response);
  }
}

void Session::dispatch(Response response) {
  if (auto* tagged = std::get_if<Tagged>(&response.value)) {
    complete(*tagged);
    return;
  }
  if (std::holds_alternative<Continuation>(response.value)) {
    if (m_waiting_continuation) {
      m_waiting_continuation = false;
    } else if (m_idle_tag && m_idle_written && !m_idle_started) {
      m_idle_started = true;
    } else {
      util::logger("imap")->warn("ignoring an unexpected continuation request");
    }
    return;
  }
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, Condition>) {
          apply_code(v.code);
          if (v.status == Status::bye) {
            m_bye_text = v.text;
          }
          if (v.code.kind == ResponseCode::Kind::alert) {
            util::logger("imap")->warn("server alert: {}", v.text);
          }
        } else if constexpr (std::is_same_v<T, Capability>) {
          m_capabilities = {v.capabilities.begin(), v.capabilities.end()};
        } else if constexpr (std::is_same_v<T, Enabled>) {
          m_enabled.insert(v.capabilities.begin(), v.capabilities.end());
        } else if constexpr (std::is_same_v<T, Exists>) {
          m_mailbox.exists = v.count;
        } else if constexpr (std::is_same_v<T, Recent>) {
          m_mailbox.recent = v.count;
        } else if constexpr (std::is_same_v<T, Expunge>) {
          m_mailbox.exists = m_mailbox.exists > 0 ? m_mailbox.exists - 1 : 0;
        } else if constexpr (std::is_same_v<T, Vanished>) {
          // RFC 7162 §3.2.10: after ENABLE QRESYNC, VANISHED replaces EXPUNGE;
          // VANISHED (EARLIER) reports older expunges and changes no count.
          if (!v.earlier) {
            const auto gone = v.uids.count();
            m_mailbox.exists =
                m_mailbox.exists > gone ? static_cast<std::uint32_t>(m_mailbox.exists - gone) : 0;
          }
        } else if constexpr (std::is_same_v<T, FlagList>) {
          m_mailbox.flags = v.flags;
        }
      },
      response.value);
  route(response);
}

core::Result<void> Session::step(std::chrono::milliseconds timeout) {
  if (m_closed) {
    return core::fail(core::Scope::account, "IMAP connection already closed",
                      "the account is retried on the next run");
  }
  UIDSYNC_TRY(flush());
  if (m_closed) {
    return core::fail(core::Scope::account, "IMAP connection closed while sending");
  }
  auto ready = m_transport.wait(net::WaitFor::read, timeout);
  if (!ready) {
    return fail_all(ready.error().message);
  }
  if (!*ready) {
    return {};
  }
  std::array<char, k_read_buffer> buf;
  while (!m_closed) {
    auto n = m_transport.read_some(buf);
    if (!n) {
      if (m_logging_out && !m_bye_text.empty()) {
        // The expected end after LOGOUT.
        m_closed = true;
        m_transport.close();
        return {};
      }
      return fail_all(n.error().message);
    }
    if (*n == 0) {
      break;
    }
    std::string_view bytes(buf.data(), *n);
    if (m_options.trace) {
      m_options.trace->server(bytes);
    }
    m_parser.feed(bytes);
    while (!m_closed) {
      auto r = m_parser.next();
      if (std::holds_alternative<NeedMore>(r)) {
        break;
      }
      if (auto* e = std::get_if<ParseError>(&r)) {
        if (e->fatal) {
          return fail_all("cannot parse the server's response at byte " +
                          std::to_string(e->offset) + ": " + e->message);
        }
        util::logger("imap")->warn("skipped a response the parser rejected: {}", e->message);
        continue;
      }
      dispatch(std::move(std::get<Response>(r)));
    }
  }
  if (m_closed) {
    return {};
  }
  return flush();
}

core::Result<bool> Session::run_until(const std::function<bool()>& done,
                                      std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      return false;
    }
    UIDSYNC_TRY(step(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now)));
    if (m_closed && !done()) {
      return core::fail(core::Scope::account, "IMAP connection closed: " + m_bye_text,
                        "the account is retried on the next run");
    }
  }
  return true;
}

core::Result<Tagged> Session::execute(Command command, std::chrono::milliseconds timeout,
                                      DataHandler on_data) {
  std::optional<Tagged> result;
  auto name = command.name;
  submit(
      std::move(command), [&result](const Tagged& t) { result = t; }, std::move(on_data));
  auto finished = run_until([&result] { return result.has_value(); }, timeout);
  if (!finished) {
    return util::unexpected(std::move(finished).error());
  }
  if (!*finished) {
    return core::fail(core::Scope::account,
                      name + " got no answer within " + std::to_string(timeout.count()) + " ms",
                      "the server is slow or stuck; raise the timeout or retry later");
  }
  if (result->status == Status::bye) {
    return core::fail(core::Scope::account, name + " failed: " + result->text);
  }
  if (result->status != Status::ok) {
    return core::fail(core::Scope::folder,
                      name + " failed: " + std::string(to_string(result->status)) + " " +
                          result->text,
                      "see the server's message; the folder is retried on the next run");
  }
  return *result;
}

core::Result<void> Session::refresh_capabilities(std::chrono::milliseconds timeout) {
  UIDSYNC_TRY(execute(CommandBuilder("CAPABILITY").build().value(), timeout));
  return {};
}

bool Session::adopt_capabilities(std::string_view list) {
  std::set<std::string> caps;
  std::size_t pos = 0;
  while (pos < list.size()) {
    const auto end = std::min(list.find(' ', pos), list.size());
    if (end > pos) {
      std::string atom(list.substr(pos, end - pos));
      std::transform(atom.begin(), atom.end(), atom.begin(),
                     [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
      caps.insert(std::move(atom));
    }
    pos = end + 1;
  }
  if (caps.empty()) {
    return false;
  }
  m_capabilities = std::move(caps);
  return true;
}

core::Result<std::set<std::string>> Session::enable_qresync(std::chrono::milliseconds timeout) {
  CommandBuilder b("ENABLE");
  if (has_capability("QRESYNC")) {
    b.raw("CONDSTORE QRESYNC");
  } else if (has_capability("CONDSTORE")) {
    b.raw("CONDSTORE");
  } else {
    util::logger("imap")->debug("server has neither CONDSTORE nor QRESYNC; full flag listings");
    return std::set<std::string>{};
  }
  if (!has_capability("ENABLE")) {
    util::logger("imap")->debug("server lacks ENABLE; CONDSTORE is enabled by SELECT instead");
    return std::set<std::string>{};
  }
  UIDSYNC_TRY(execute(b.build().value(), timeout));
  return m_enabled;
}

std::string Session::idle(CompletionHandler on_done, DataHandler on_data) {
  auto tag = submit(CommandBuilder("IDLE").build().value(), std::move(on_done), std::move(on_data));
  m_idle_tag = tag;
  return tag;
}

void Session::idle_done() {
  if (m_idle_tag) {
    m_idle_done_requested = true;
  }
}

std::string Session::noop(CompletionHandler on_done) {
  return submit(CommandBuilder("NOOP").build().value(), std::move(on_done));
}

core::Result<void> Session::logout(std::chrono::milliseconds timeout) {
  m_logging_out = true;
  bool done = false;
  submit(CommandBuilder("LOGOUT").build().value(), [&done](const Tagged&) { done = true; });
  if (timeout.count() == 0) {
    auto sent = flush();
    m_closed = true;
    m_transport.close();
    return sent;
  }
  auto finished = run_until([&] { return done || m_closed; }, timeout);
  m_closed = true;
  m_transport.close();
  if (!finished) {
    return util::unexpected(std::move(finished).error());
  }
  return {};
}

core::Result<Command> select_command(std::string_view mailbox_utf8, bool examine,
                                     const std::optional<QresyncParams>& qresync, bool condstore,
                                     LiteralMode mode) {
  CommandBuilder b(examine ? "EXAMINE" : "SELECT", mode);
  b.mailbox(mailbox_utf8);
  if (qresync) {
    auto params = std::to_string(qresync->uidvalidity) + " " + std::to_string(qresync->modseq);
    if (!qresync->known_uids.empty()) {
      params += " " + qresync->known_uids.to_string();
    }
    b.raw("(QRESYNC (" + params + "))");
  } else if (condstore) {
    b.raw("(CONDSTORE)");
  }
  return b.build();
}

} // namespace uidsync::imap
