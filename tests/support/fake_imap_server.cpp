// SPDX-License-Identifier: GPL-3.0-or-later
// The scripted fake IMAP server: sockets, threads, and a small IMAP4rev1 state machine.
#include "support/fake_imap_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <optional>
#include <stdexcept>
#include <sstream>
#include <unordered_set>

namespace uidsync::test {

namespace {

constexpr std::size_t k_max_line = 1024 * 1024;            // one command line
constexpr std::size_t k_max_literal = 64 * 1024 * 1024;     // one client literal
constexpr std::size_t k_transcript_width = 200;

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

// A parsed command argument: an atom (NIL included), a string (quoted or literal), or a list.
struct Value {
  enum class Kind { atom, string, list } kind = Kind::atom;
  std::string text;
  std::vector<Value> items;
};

// Parses IMAP arguments from `in` at `pos`. Atoms may carry a [section] with spaces
// and parentheses (BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]) and a <partial>.
class ArgParser {
public:
  explicit ArgParser(std::string_view in) : m_in(in) {}

  std::optional<std::vector<Value>> all() {
    std::vector<Value> out;
    skip_spaces();
    while (m_pos < m_in.size()) {
      auto value = one();
      if (!value) {
        return std::nullopt;
      }
      out.push_back(std::move(*value));
      skip_spaces();
    }
    return out;
  }

private:
  void skip_spaces() {
    while (m_pos < m_in.size() && m_in[m_pos] == ' ') {
      ++m_pos;
    }
  }

  std::optional<Value> one() {
    Value value;
    const char c = m_in[m_pos];
    if (c == '(') {
      value.kind = Value::Kind::list;
      ++m_pos;
      skip_spaces();
      while (m_pos < m_in.size() && m_in[m_pos] != ')') {
        auto item = one();
        if (!item) {
          return std::nullopt;
        }
        value.items.push_back(std::move(*item));
        skip_spaces();
      }
      if (m_pos >= m_in.size()) {
        return std::nullopt;
      }
      ++m_pos;
      return value;
    }
    if (c == '"') {
      value.kind = Value::Kind::string;
      for (++m_pos; m_pos < m_in.size() && m_in[m_pos] != '"'; ++m_pos) {
        if (m_in[m_pos] == '\\' && m_pos + 1 < m_in.size()) {
          ++m_pos;
        }
        value.text += m_in[m_pos];
      }
      if (m_pos >= m_in.size()) {
        return std::nullopt;
      }
      ++m_pos;
      return value;
    }
    if (c == '{') {
      const auto close = m_in.find('}', m_pos);
      if (close == std::string_view::npos) {
        return std::nullopt;
      }
      std::string_view digits = m_in.substr(m_pos + 1, close - m_pos - 1);
      if (!digits.empty() && digits.back() == '+') {
        digits.remove_suffix(1);
      }
      std::size_t size = 0;
      const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), size);
      if (ec != std::errc{} || ptr != digits.data() + digits.size() || m_in.size() < close + 3 ||
          size > m_in.size() - close - 3 || m_in.substr(close + 1, 2) != "\r\n") {
        return std::nullopt;
      }
      value.kind = Value::Kind::string;
      value.text = std::string(m_in.substr(close + 3, size));
      m_pos = close + 3 + size;
      return value;
    }
    int depth = 0;
    while (m_pos < m_in.size()) {
      const char d = m_in[m_pos];
      if (d == '[') {
        ++depth;
      } else if (d == ']') {
        --depth;
      } else if (depth == 0 && (d == ' ' || d == ')' || d == '(')) {
        break;
      }
      value.text += d;
      ++m_pos;
    }
    if (value.text.empty()) {
      return std::nullopt;
    }
    return value;
  }

  std::string_view m_in;
  std::size_t m_pos = 0;
};

// A sequence set or UID set: "1:*", "5,7:9". `star` is the value "*" stands for.
class NumberSet {
public:
  static std::optional<NumberSet> parse(std::string_view text, std::uint32_t star) {
    NumberSet set;
    std::stringstream in{std::string(text)};
    std::string part;
    while (std::getline(in, part, ',')) {
      const auto colon = part.find(':');
      const auto first = number(part.substr(0, colon), star);
      const auto last = colon == std::string::npos ? first : number(part.substr(colon + 1), star);
      if (!first || !last) {
        return std::nullopt;
      }
      set.m_ranges.emplace_back(std::min(*first, *last), std::max(*first, *last));
    }
    if (set.m_ranges.empty()) {
      return std::nullopt;
    }
    return set;
  }

  bool contains(std::uint32_t n) const {
    return std::any_of(m_ranges.begin(), m_ranges.end(),
                       [n](const auto& r) { return n >= r.first && n <= r.second; });
  }

private:
  static std::optional<std::uint32_t> number(const std::string& s, std::uint32_t star) {
    if (s == "*") {
      return star;
    }
    std::uint32_t n = 0;
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc{} || ptr != s.data() + s.size() || s.empty() || n == 0) {
      return std::nullopt;
    }
    return n;
  }

  std::vector<std::pair<std::uint32_t, std::uint32_t>> m_ranges;
};

std::optional<std::string> base64_decode(std::string_view in) {
  static constexpr std::string_view k_chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const char c : in) {
    if (c == '=') {
      break;
    }
    const auto at = k_chars.find(c);
    if (at == std::string_view::npos) {
      return std::nullopt;
    }
    buffer = (buffer << 6U) | static_cast<std::uint32_t>(at);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> static_cast<unsigned>(bits)) & 0xFFU);
    }
  }
  return out;
}

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  return out + "\"";
}

std::string join_flags(const std::set<std::string>& flags) {
  std::string out;
  for (const auto& flag : flags) {
    out += (out.empty() ? "" : " ") + flag;
  }
  return "(" + out + ")";
}

// LIST wildcard match: '*' matches anything, '%' anything but the separator '/'.
bool wildcard(std::string_view pattern, std::string_view name) {
  if (pattern.empty()) {
    return name.empty();
  }
  if (pattern.front() == '*' || pattern.front() == '%') {
    for (std::size_t i = 0; i <= name.size(); ++i) {
      if (wildcard(pattern.substr(1), name.substr(i))) {
        return true;
      }
      if (i < name.size() && pattern.front() == '%' && name[i] == '/') {
        return false;
      }
    }
    return false;
  }
  const bool same = !name.empty() && (upper(std::string(1, pattern.front())) == upper(std::string(1, name.front())));
  return same && wildcard(pattern.substr(1), name.substr(1));
}

// The header block of `body`, blank line included. Bare LF line ends (a client's
// APPEND of a Unix file) count as line ends too, as real servers read them.
std::string header_of(const std::string& body) {
  const auto crlf = body.find("\r\n\r\n");
  const auto lf = body.find("\n\n");
  if (lf != std::string::npos && (crlf == std::string::npos || lf < crlf)) {
    return body.substr(0, lf + 2);
  }
  return crlf == std::string::npos ? body : body.substr(0, crlf + 4);
}

// The header lines of `body` whose field name is in `fields` (upper case), plus the blank line.
std::string header_fields(const std::string& body, const std::vector<std::string>& fields) {
  const std::string header = header_of(body);
  std::string out;
  bool keep = false;
  std::size_t pos = 0;
  while (pos < header.size()) {
    auto end = header.find('\n', pos);
    end = end == std::string::npos ? header.size() : end + 1;
    const std::string line = header.substr(pos, end - pos);
    pos = end;
    if (line == "\r\n" || line == "\n") {
      break;
    }
    if (line.front() != ' ' && line.front() != '\t') {
      const std::string name = upper(line.substr(0, line.find(':')));
      keep = std::find(fields.begin(), fields.end(), name) != fields.end();
    }
    if (keep) {
      out += line;
    }
  }
  return out + "\r\n";
}

std::string printable(const std::string& line) {
  std::string out;
  for (const unsigned char c : line) {
    if (c < 0x20 || c == 0x7F) {
      static constexpr char k_hex[] = "0123456789ABCDEF";
      out += "\\x";
      out += k_hex[c >> 4U];
      out += k_hex[c & 0xFU];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

} // namespace

// One client connection: reads commands, answers them against the server's World.
class FakeImapServer::Session {
public:
  Session(FakeImapServer& server, int number, int fd) : m_server(server), m_number(number), m_fd(fd) {}

  void run() {
    {
      std::unique_lock lock(m_server.m_mutex);
      if (!raw_instead("GREETING", "*")) {
        line("* OK [CAPABILITY " + capabilities() + "] Fake IMAP server ready.");
        add_raws("GREETING", World::Raw::Mode::after, "*", m_out);
      }
    }
    if (!flush() || m_action == Action::close) {
      return;
    }
    while (m_action == Action::none) {
      auto command = read_command();
      if (!command) {
        return;
      }
      handle_command(*command);
      if (!flush()) {
        return;
      }
    }
    if (m_action == Action::hang) {
      // Keep the socket open and unanswered until the client goes away or the server stops.
      while (fill()) {
        m_in.clear();
      }
    }
  }

private:
  enum class State { not_authenticated, authenticated, selected };
  enum class Action { none, close, hang };

  struct Command {
    std::string tag;
    std::string verb; // upper case, "UID FETCH" for UID commands
    std::string args; // the rest, literals inline as {n}\r\n<bytes>
  };

  // ---- Input ----------------------------------------------------------------

  // Waits for bytes (or the server's stop) and appends them to m_in.
  bool fill() {
    std::array<pollfd, 2> fds{{{m_fd, POLLIN, 0}, {m_server.m_wake_fd, POLLIN, 0}}};
    while (true) {
      const int rc = ::poll(fds.data(), fds.size(), -1);
      if (rc < 0 && errno == EINTR) {
        continue;
      }
      if (rc < 0 || (fds[1].revents & POLLIN) != 0) {
        return false;
      }
      break;
    }
    char buffer[16384];
    const ssize_t n = ::recv(m_fd, buffer, sizeof buffer, 0);
    if (n <= 0) {
      return n < 0 && (errno == EAGAIN || errno == EINTR) ? true : false;
    }
    m_in.append(buffer, static_cast<std::size_t>(n));
    return true;
  }

  std::optional<std::string> read_line() {
    while (true) {
      const auto end = m_in.find("\r\n");
      if (end != std::string::npos) {
        std::string line = m_in.substr(0, end);
        m_in.erase(0, end + 2);
        return line;
      }
      if (m_in.size() > k_max_line || !fill()) {
        return std::nullopt;
      }
    }
  }

  std::optional<std::string> read_bytes(std::size_t n) {
    while (m_in.size() < n) {
      if (!fill()) {
        return std::nullopt;
      }
    }
    std::string out = m_in.substr(0, n);
    m_in.erase(0, n);
    return out;
  }

  // Reads one command, literals included; sends "+" continuations for synchronizing ones.
  std::optional<Command> read_command() {
    std::string full;
    std::vector<std::string> shown;
    bool join = false;
    while (true) {
      auto line = read_line();
      if (!line) {
        return std::nullopt;
      }
      full += *line;
      if (join) {
        shown.back() += *line; // the rest of the command after a literal
      } else {
        shown.push_back(*line);
      }
      std::size_t size = 0;
      bool plus = false;
      if (!literal_at_end(*line, size, plus)) {
        break;
      }
      if (size > k_max_literal) {
        send_now("* BAD Literal too large\r\n");
        return std::nullopt;
      }
      if (!plus) {
        send_now("+ Ready for literal data\r\n");
      }
      auto bytes = read_bytes(size);
      if (!bytes) {
        return std::nullopt;
      }
      full += "\r\n" + *bytes;
      shown.push_back("{" + std::to_string(size) + " bytes}");
      join = true;
    }
    Command command;
    const auto sp1 = full.find(' ');
    command.tag = full.substr(0, sp1);
    std::string rest = sp1 == std::string::npos ? std::string() : full.substr(sp1 + 1);
    auto take_word = [&rest] {
      const auto sp = rest.find(' ');
      std::string word = upper(rest.substr(0, sp));
      rest = sp == std::string::npos ? std::string() : rest.substr(sp + 1);
      return word;
    };
    command.verb = take_word();
    if (command.verb == "UID") {
      command.verb += " " + take_word();
    }
    command.args = rest;
    if (command.verb == "LOGIN" || command.verb == "AUTHENTICATE") {
      // Never record credentials: keep the tag and verb (and the SASL mechanism).
      std::string redacted = command.tag + " " + command.verb;
      if (command.verb == "AUTHENTICATE") {
        redacted += " " + upper(rest.substr(0, rest.find(' ')));
      }
      shown = {redacted + " <redacted>"};
    }
    for (auto& text : shown) {
      m_server.record(m_number, 'C', std::move(text));
    }
    return command;
  }

  static bool literal_at_end(const std::string& line, std::size_t& size, bool& plus) {
    if (line.empty() || line.back() != '}') {
      return false;
    }
    const auto open = line.rfind('{');
    if (open == std::string::npos) {
      return false;
    }
    std::string digits = line.substr(open + 1, line.size() - open - 2);
    plus = !digits.empty() && digits.back() == '+';
    if (plus) {
      digits.pop_back();
    }
    const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), size);
    return ec == std::errc{} && ptr == digits.data() + digits.size() && !digits.empty();
  }

  // ---- Output ---------------------------------------------------------------

  void put(const std::string& text) {
    m_out += text;
    m_shown += text;
  }
  void put_literal(const std::string& content) {
    const std::string announce = "{" + std::to_string(content.size()) + "}";
    m_out += announce + "\r\n" + content;
    m_shown += announce;
    m_pending.push_back(std::move(m_shown));
    m_shown = "{" + std::to_string(content.size()) + " bytes}";
  }
  void end_line() {
    m_out += "\r\n";
    m_pending.push_back(std::move(m_shown));
    m_shown.clear();
  }
  void line(const std::string& text) {
    put(text);
    end_line();
  }
  // Arbitrary bytes (raw directives): shown split at line ends.
  void put_raw(const std::string& bytes) {
    m_out += bytes;
    std::size_t pos = 0;
    while (pos < bytes.size()) {
      auto end = bytes.find('\n', pos);
      end = end == std::string::npos ? bytes.size() : end + 1;
      std::string piece = bytes.substr(pos, end - pos);
      if (piece.size() >= 2 && piece.compare(piece.size() - 2, 2, "\r\n") == 0) {
        piece.resize(piece.size() - 2);
      }
      m_pending.push_back(std::move(piece));
      pos = end;
    }
  }

  // Writes m_out to the socket. Returns false if the peer is gone or the server stops.
  bool flush() {
    {
      std::unique_lock lock(m_server.m_mutex);
      for (auto& text : m_pending) {
        m_server.m_transcript.push_back({m_number, 'S', std::move(text)});
      }
    }
    m_pending.clear();
    const bool ok = write_all(m_out);
    m_out.clear();
    return ok;
  }

  void send_now(const std::string& bytes) {
    put_raw(bytes);
    flush();
  }

  bool write_all(const std::string& bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::send(m_fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n > 0) {
        done += static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && errno != EAGAIN && errno != EINTR) {
        return false;
      }
      std::array<pollfd, 2> fds{{{m_fd, POLLOUT, 0}, {m_server.m_wake_fd, POLLIN, 0}}};
      if (::poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) {
        return false;
      }
      if ((fds[1].revents & POLLIN) != 0 || (fds[0].revents & (POLLERR | POLLHUP)) != 0) {
        return false;
      }
    }
    return true;
  }

  // ---- Raw directives -------------------------------------------------------

  bool raw_matches(std::size_t index, const World::Raw& raw, const std::string& where, World::Raw::Mode mode) {
    return raw.where == where && raw.mode == mode && (!raw.once || m_used_raws.count(index) == 0);
  }

  // Appends the text of every matching raw directive to `out`; notes "close".
  void add_raws(const std::string& where, World::Raw::Mode mode, const std::string& tag, std::string& out) {
    const auto& raws = m_server.m_world.raws;
    for (std::size_t i = 0; i < raws.size(); ++i) {
      if (!raw_matches(i, raws[i], where, mode)) {
        continue;
      }
      m_used_raws.insert(i);
      std::string text = raws[i].text;
      for (auto at = text.find("${tag}"); at != std::string::npos; at = text.find("${tag}", at + tag.size())) {
        text.replace(at, 6, tag);
      }
      if (&out == &m_out) {
        put_raw(text);
      } else {
        out += text;
      }
      if (raws[i].close) {
        m_action = Action::close;
      }
    }
  }

  bool raw_instead(const std::string& where, const std::string& tag) {
    const auto& raws = m_server.m_world.raws;
    for (std::size_t i = 0; i < raws.size(); ++i) {
      if (raw_matches(i, raws[i], where, World::Raw::Mode::instead)) {
        add_raws(where, World::Raw::Mode::instead, tag, m_out);
        return true;
      }
    }
    return false;
  }

  // ---- Commands -------------------------------------------------------------

  std::string capabilities() const {
    const World& world = m_server.m_world;
    std::string caps = "IMAP4rev1 SASL-IR AUTH=PLAIN AUTH=LOGIN ID UNSELECT IDLE NAMESPACE";
    for (const char* optional : {"UIDPLUS", "CONDSTORE", "QRESYNC", "LITERAL+", "ESEARCH", "MOVE"}) {
      if (world.has(optional)) {
        caps += std::string(" ") + optional;
      }
    }
    if (world.has("CONDSTORE") || world.has("QRESYNC")) {
      caps += " ENABLE";
    }
    return caps;
  }

  // The tagged completion. Pending "before" raws go first, then mailbox updates.
  void complete(const std::string& status, const std::string& text) {
    if (m_state == State::selected) {
      const bool quiet = m_current.verb.find("FETCH") != std::string::npos ||
                         m_current.verb.find("STORE") != std::string::npos ||
                         m_current.verb.find("SEARCH") != std::string::npos;
      // RFC 3501 7.4.1: no EXPUNGE while answering FETCH, STORE or SEARCH.
      sync_view(!quiet);
    }
    add_raws(m_current.verb, World::Raw::Mode::before, m_current.tag, m_out);
    if (m_action == Action::close) {
      return; // a "before ... close" raw cuts the answer before its tagged line
    }
    line(m_current.tag + " " + status + " " + text);
    if (status != "OK") {
      count_error();
    }
  }
  void ok(const std::string& text) { complete("OK", text); }
  void no(const std::string& text) { complete("NO", text); }
  void bad(const std::string& text) { complete("BAD", text); }

  void count_error() {
    ++m_errors;
    const int limit = m_server.m_world.cut_after_errors;
    if (limit > 0 && m_errors >= limit && !m_cut) {
      m_cut = true;
      m_cut_pending = true;
    }
  }

  void handle_command(const Command& command) {
    m_current = command;
    {
      std::unique_lock lock(m_server.m_mutex);
      ++m_server.m_commands[command.verb];
    }
    if (command.verb == "AUTHENTICATE" && m_state == State::not_authenticated) {
      authenticate(command);
      return;
    }
    if (command.verb == "IDLE" && m_state != State::not_authenticated) {
      idle();
      return;
    }
    std::unique_lock lock(m_server.m_mutex);
    if (raw_instead(command.verb, command.tag)) {
      return;
    }
    dispatch(command);
    add_raws(command.verb, World::Raw::Mode::after, command.tag, m_out);
    if (m_cut_pending) {
      m_cut_pending = false;
      line("* BYE Too many errors, closing the connection.");
      m_action = Action::close;
    }
  }

  void authenticate(const Command& command) {
    const auto sp = command.args.find(' ');
    const std::string mechanism = upper(command.args.substr(0, sp));
    std::string initial = sp == std::string::npos ? std::string() : command.args.substr(sp + 1);
    std::string user;
    std::string password;
    bool cancelled = false;
    const auto ask = [&](const std::string& prompt) -> std::optional<std::string> {
      send_now("+ " + prompt + "\r\n");
      auto reply = read_line();
      if (reply) {
        m_server.record(m_number, 'C', "<redacted>");
        cancelled = *reply == "*";
      }
      return reply;
    };
    if (mechanism == "PLAIN") {
      if (initial.empty()) {
        auto reply = ask("");
        if (!reply) {
          m_action = Action::close;
          return;
        }
        initial = *reply;
      }
      const auto decoded = base64_decode(initial);
      if (decoded) {
        // authzid NUL authcid NUL passwd
        const auto first = decoded->find('\0');
        const auto second = first == std::string::npos ? first : decoded->find('\0', first + 1);
        if (second != std::string::npos) {
          user = decoded->substr(first + 1, second - first - 1);
          password = decoded->substr(second + 1);
        }
      }
    } else if (mechanism == "LOGIN") {
      auto name = initial.empty() ? ask("VXNlcm5hbWU6") : std::optional<std::string>(initial);
      auto pass = name && !cancelled ? ask("UGFzc3dvcmQ6") : std::nullopt;
      if (!pass) {
        m_action = Action::close;
        return;
      }
      user = base64_decode(*name).value_or("");
      password = base64_decode(*pass).value_or("");
    }
    std::unique_lock lock(m_server.m_mutex);
    if (raw_instead(command.verb, command.tag)) {
      return;
    }
    if (cancelled) {
      bad("AUTHENTICATE cancelled.");
    } else if (mechanism != "PLAIN" && mechanism != "LOGIN") {
      no("Unsupported authentication mechanism.");
    } else {
      login_result(user, password);
    }
    add_raws(command.verb, World::Raw::Mode::after, command.tag, m_out);
  }

  void login_result(const std::string& user, const std::string& password) {
    const World& world = m_server.m_world;
    if (user == world.user && password == world.password) {
      m_state = State::authenticated;
      ok("[CAPABILITY " + capabilities() + "] Logged in");
    } else {
      no("[AUTHENTICATIONFAILED] Authentication failed.");
    }
  }

  void idle() {
    send_now("+ idling\r\n");
    auto done = read_line();
    if (!done) {
      m_action = Action::close;
      return;
    }
    m_server.record(m_number, 'C', *done);
    std::unique_lock lock(m_server.m_mutex);
    if (upper(*done) == "DONE") {
      ok("Idle completed.");
    } else {
      bad("Expected DONE.");
    }
  }

  void dispatch(const Command& command) {
    auto parsed = ArgParser(command.args).all();
    if (!parsed) {
      bad("Error in IMAP command " + command.verb + ": invalid arguments.");
      return;
    }
    const std::vector<Value>& args = *parsed;
    const std::string& verb = command.verb;
    if (verb == "CAPABILITY") {
      line("* CAPABILITY " + capabilities());
      ok("Pre-login capabilities listed, post-login capabilities have more.");
      return;
    }
    if (verb == "NOOP") {
      noop();
      return;
    }
    if (verb == "LOGOUT") {
      line("* BYE Logging out");
      ok("Logout completed.");
      m_action = Action::close;
      return;
    }
    if (verb == "ID") {
      line("* ID (\"name\" \"fake-imapd\")");
      ok("ID completed.");
      return;
    }
    static const std::set<std::string> k_known = {
        "LOGIN",     "AUTHENTICATE", "LIST",     "LSUB",       "NAMESPACE", "STATUS",   "SELECT",
        "EXAMINE",   "ENABLE",       "CREATE",   "DELETE",     "APPEND",    "FETCH",    "UID FETCH",
        "SEARCH",    "UID SEARCH",   "STORE",    "UID STORE",  "EXPUNGE",   "UID EXPUNGE", "COPY",
        "UID COPY",  "MOVE",         "UID MOVE", "CLOSE",      "UNSELECT",  "IDLE"};
    if (k_known.count(verb) == 0) {
      bad("Error in IMAP command " + verb + ": Unknown command.");
      return;
    }
    if (m_state == State::not_authenticated) {
      if (verb == "LOGIN" && args.size() == 2) {
        login_result(args[0].text, args[1].text);
      } else if (verb == "LOGIN" || verb == "AUTHENTICATE") {
        bad("Error in IMAP command " + verb + ": invalid arguments.");
      } else {
        bad("Error in IMAP command " + verb + ": not permitted before login.");
      }
      return;
    }
    if (verb == "LOGIN" || verb == "AUTHENTICATE") {
      bad("Already logged in.");
    } else if (verb == "LIST" || verb == "LSUB") {
      list(args);
    } else if (verb == "NAMESPACE") {
      line("* NAMESPACE ((\"\" \"/\")) NIL NIL");
      ok("Namespace completed.");
    } else if (verb == "STATUS") {
      status(args);
    } else if (verb == "SELECT" || verb == "EXAMINE") {
      select(args, verb == "EXAMINE");
    } else if (verb == "ENABLE") {
      enable(args);
    } else if (verb == "CREATE") {
      create(args);
    } else if (verb == "DELETE") {
      remove(args);
    } else if (verb == "APPEND") {
      append(args);
    } else if (m_state != State::selected) {
      bad("Error in IMAP command " + verb + ": no mailbox selected.");
    } else if (verb == "FETCH" || verb == "UID FETCH") {
      fetch(args, verb == "UID FETCH");
    } else if (verb == "SEARCH" || verb == "UID SEARCH") {
      search(args, verb == "UID SEARCH");
    } else if (verb == "STORE" || verb == "UID STORE") {
      store(args, verb == "UID STORE");
    } else if (verb == "EXPUNGE") {
      expunge(std::nullopt);
    } else if (verb == "UID EXPUNGE" && m_server.m_world.has("UIDPLUS")) {
      const auto set = args.size() == 1 ? NumberSet::parse(args[0].text, max_uid()) : std::nullopt;
      if (!set) {
        bad("Error in IMAP command UID EXPUNGE: invalid UID set.");
      } else {
        expunge(set);
      }
    } else if (verb == "COPY" || verb == "UID COPY" || ((verb == "MOVE" || verb == "UID MOVE") && m_server.m_world.has("MOVE"))) {
      copy(args, verb.rfind("UID ", 0) == 0, verb.find("MOVE") != std::string::npos);
    } else if (verb == "CLOSE" || verb == "UNSELECT") {
      if (verb == "CLOSE" && !m_read_only) {
        remove_deleted(std::nullopt);
      }
      m_state = State::authenticated;
      m_view.clear();
      ok(verb == "CLOSE" ? "Close completed." : "Unselect completed.");
    } else {
      bad("Error in IMAP command " + verb + ": Unknown command.");
    }
  }

  FakeFolder* selected() { return m_server.m_world.folder(m_selected); }

  std::uint32_t max_uid() const {
    std::uint32_t max = 0;
    for (const auto& message : m_view) {
      max = std::max(max, message->uid);
    }
    return max;
  }

  std::string exists_line() {
    const FakeFolder* folder = selected();
    const std::int64_t offset = folder == nullptr ? 0 : folder->exists_offset;
    return "* " + std::to_string(static_cast<std::int64_t>(m_view.size()) + offset) + " EXISTS";
  }

  // Brings the session's view of the selected folder up to date: EXPUNGE for messages
  // gone (when allowed), EXISTS for new ones.
  void sync_view(bool allow_expunge) {
    FakeFolder* folder = selected();
    std::unordered_set<const FakeMessage*> present;
    if (folder != nullptr) {
      for (const auto& message : folder->messages) {
        present.insert(message.get());
      }
    }
    if (allow_expunge) {
      for (std::size_t i = 0; i < m_view.size();) {
        const FakeMessage* message = m_view[i].get();
        if (present.count(message) != 0 || m_ghosts.count(message) != 0) {
          ++i;
          continue;
        }
        line("* " + std::to_string(i + 1) + " EXPUNGE");
        if (folder != nullptr && folder->stale_exists_after_expunge) {
          m_lagging.push_back(m_view[i]);
        }
        m_view.erase(m_view.begin() + static_cast<std::ptrdiff_t>(i));
      }
    }
    std::unordered_set<const FakeMessage*> known;
    for (const auto& message : m_view) {
      known.insert(message.get());
    }
    bool grew = false;
    if (folder != nullptr) {
      for (const auto& message : folder->messages) {
        if (known.count(message.get()) == 0) {
          m_view.push_back(message);
          grew = true;
        }
      }
    }
    if (grew) {
      line(exists_line());
    }
  }

  void noop() {
    if (m_state == State::selected && !m_lagging.empty()) {
      // The lagging index replica (Exchange, see stale_exists_after_expunge): the
      // expunged messages come back, breaking RFC 3501 7.4.1 (a message once
      // expunged never reappears).
      for (auto& message : m_lagging) {
        m_ghosts.insert(message.get());
        m_view.push_back(std::move(message));
      }
      m_lagging.clear();
      line(exists_line());
    }
    ok("NOOP completed.");
  }

  void list(const std::vector<Value>& args) {
    if (args.size() < 2) {
      bad("Error in IMAP command LIST: expected reference and pattern.");
      return;
    }
    const std::string verb = m_current.verb;
    if (args[1].text.empty()) {
      line("* " + verb + " (\\Noselect) \"/\" \"\"");
      ok(verb + " completed.");
      return;
    }
    const std::string pattern = args[0].text + args[1].text;
    const auto& folders = m_server.m_world.folders;
    for (const auto& [name, folder] : folders) {
      if (!wildcard(pattern, name)) {
        continue;
      }
      const auto child = folders.lower_bound(name + "/");
      const bool children = child != folders.end() && child->first.rfind(name + "/", 0) == 0;
      line("* " + verb + " (" + (children ? "\\HasChildren" : "\\HasNoChildren") + ") \"/\" " + quote(name));
    }
    ok(verb + " completed.");
  }

  void status(const std::vector<Value>& args) {
    FakeFolder* folder = args.size() == 2 ? m_server.m_world.folder(args[0].text) : nullptr;
    if (args.size() != 2 || args[1].kind != Value::Kind::list) {
      bad("Error in IMAP command STATUS: expected mailbox and item list.");
      return;
    }
    if (folder == nullptr) {
      no("[NONEXISTENT] Mailbox doesn't exist: " + args[0].text);
      return;
    }
    std::string items;
    for (const auto& item : args[1].items) {
      const std::string name = upper(item.text);
      std::string value;
      if (name == "MESSAGES") {
        value = std::to_string(folder->messages.size());
      } else if (name == "UIDNEXT") {
        value = std::to_string(folder->uidnext);
      } else if (name == "UIDVALIDITY") {
        value = std::to_string(folder->uidvalidity);
      } else if (name == "RECENT") {
        value = "0";
      } else if (name == "UNSEEN") {
        value = std::to_string(std::count_if(folder->messages.begin(), folder->messages.end(),
                                             [](const auto& m) { return m->flags.count("\\Seen") == 0; }));
      } else if (name == "HIGHESTMODSEQ" && m_server.m_world.has("CONDSTORE")) {
        value = std::to_string(folder->highestmodseq);
      } else {
        bad("Error in IMAP command STATUS: unknown item " + name + ".");
        return;
      }
      items += (items.empty() ? "" : " ") + name + " " + value;
    }
    line("* STATUS " + quote(folder->name) + " (" + items + ")");
    ok("Status completed.");
  }

  void select(const std::vector<Value>& args, bool read_only) {
    const std::string verb = m_current.verb;
    m_state = State::authenticated; // RFC 3501 6.3.1: a failed SELECT leaves no mailbox selected
    m_view.clear();
    m_ghosts.clear();
    m_lagging.clear();
    FakeFolder* folder = args.empty() ? nullptr : m_server.m_world.folder(args[0].text);
    if (folder == nullptr) {
      no("[NONEXISTENT] Mailbox doesn't exist: " + (args.empty() ? std::string() : args[0].text));
      return;
    }
    m_selected = folder->name;
    m_read_only = read_only;
    m_view = folder->messages;
    line("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)");
    line(exists_line());
    line("* 0 RECENT");
    line("* OK [UIDVALIDITY " + std::to_string(folder->uidvalidity) + "] UIDs valid");
    line("* OK [UIDNEXT " + std::to_string(folder->uidnext) + "] Predicted next UID");
    line("* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted.");
    if (m_server.m_world.has("CONDSTORE")) {
      line("* OK [HIGHESTMODSEQ " + std::to_string(folder->highestmodseq) + "] Highest");
    }
    m_state = State::selected;
    ok(std::string(read_only ? "[READ-ONLY] " : "[READ-WRITE] ") + verb + " completed.");
  }

  void enable(const std::vector<Value>& args) {
    std::string enabled;
    for (const auto& arg : args) {
      const std::string name = upper(arg.text);
      if ((name == "CONDSTORE" || name == "QRESYNC") && m_server.m_world.has(name)) {
        enabled += " " + name;
      }
    }
    line("* ENABLED" + enabled);
    ok("Enabled.");
  }

  void create(const std::vector<Value>& args) {
    World& world = m_server.m_world;
    if (args.size() != 1 || args[0].text.empty()) {
      bad("Error in IMAP command CREATE: expected a mailbox name.");
    } else if (world.folder(args[0].text) != nullptr) {
      no("[ALREADYEXISTS] Mailbox already exists");
    } else {
      FakeFolder& folder = world.folders[args[0].text];
      folder.name = args[0].text;
      folder.uidvalidity = world.next_uidvalidity++;
      ok("Create completed.");
    }
  }

  void remove(const std::vector<Value>& args) {
    World& world = m_server.m_world;
    if (args.size() != 1 || world.folder(args[0].text) == nullptr) {
      no("[NONEXISTENT] Mailbox doesn't exist.");
    } else {
      world.folders.erase(args[0].text);
      ok("Delete completed.");
    }
  }

  std::uint32_t add_message(FakeFolder& folder, std::shared_ptr<FakeMessage> message) {
    message->uid = folder.uidnext++;
    message->modseq = ++folder.highestmodseq;
    folder.messages.push_back(std::move(message));
    return folder.uidnext - 1;
  }

  void append(const std::vector<Value>& args) {
    World& world = m_server.m_world;
    if (args.size() < 2 || args.back().kind != Value::Kind::string) {
      bad("Error in IMAP command APPEND: expected mailbox [flags] [date] literal.");
      return;
    }
    if (!world.has("LITERAL+") && m_current.args.find("+}\r\n") != std::string::npos) {
      bad("Error in IMAP command APPEND: LITERAL+ is not advertised.");
      return;
    }
    FakeFolder* folder = world.folder(args[0].text);
    if (folder == nullptr) {
      no("[TRYCREATE] Mailbox doesn't exist: " + args[0].text);
      return;
    }
    auto message = std::make_shared<FakeMessage>();
    for (std::size_t i = 1; i + 1 < args.size(); ++i) {
      if (args[i].kind == Value::Kind::list) {
        for (const auto& flag : args[i].items) {
          message->flags.insert(flag.text);
        }
      } else {
        message->internaldate = args[i].text;
      }
    }
    message->body = args.back().text;
    const std::uint32_t uid = add_message(*folder, std::move(message));
    if (world.has("UIDPLUS")) {
      ok("[APPENDUID " + std::to_string(folder->uidvalidity) + " " + std::to_string(uid) + "] Append completed.");
    } else {
      ok("Append completed.");
    }
  }

  void copy(const std::vector<Value>& args, bool by_uid, bool move) {
    World& world = m_server.m_world;
    const auto matches = args.size() == 2 ? resolve(args[0].text, by_uid) : std::nullopt;
    if (!matches) {
      bad("Error in IMAP command " + m_current.verb + ": invalid arguments.");
      return;
    }
    FakeFolder* target = world.folder(args[1].text);
    if (target == nullptr) {
      no("[TRYCREATE] Mailbox doesn't exist: " + args[1].text);
      return;
    }
    std::string from;
    std::string to;
    std::unordered_set<const FakeMessage*> moved;
    for (const std::size_t index : *matches) {
      auto copy = std::make_shared<FakeMessage>(*m_view[index]);
      from += (from.empty() ? "" : ",") + std::to_string(m_view[index]->uid);
      to += (to.empty() ? "" : ",") + std::to_string(add_message(*target, std::move(copy)));
      moved.insert(m_view[index].get());
    }
    const std::string code = world.has("UIDPLUS") && !from.empty()
                                 ? "[COPYUID " + std::to_string(target->uidvalidity) + " " + from + " " + to + "] "
                                 : std::string();
    if (move) {
      FakeFolder* source = selected();
      if (source != nullptr) {
        auto& messages = source->messages;
        messages.erase(std::remove_if(messages.begin(), messages.end(),
                                      [&](const auto& m) { return moved.count(m.get()) != 0; }),
                       messages.end());
      }
      if (!code.empty()) {
        line("* OK " + code + "Moved UIDs.");
      }
      ok("Move completed.");
    } else {
      ok(code + "Copy completed.");
    }
  }

  // Indices into m_view matched by `set`, in view order. Nullopt if the set is invalid.
  std::optional<std::vector<std::size_t>> resolve(const std::string& text, bool by_uid) {
    const auto star = by_uid ? max_uid() : static_cast<std::uint32_t>(m_view.size());
    const auto set = NumberSet::parse(text, star);
    if (!set) {
      return std::nullopt;
    }
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < m_view.size(); ++i) {
      const std::uint32_t key = by_uid ? m_view[i]->uid : static_cast<std::uint32_t>(i + 1);
      if (set->contains(key)) {
        out.push_back(i);
      }
    }
    return out;
  }

  void remove_deleted(const std::optional<NumberSet>& uids) {
    FakeFolder* folder = selected();
    if (folder == nullptr) {
      return;
    }
    auto& messages = folder->messages;
    const auto before = messages.size();
    messages.erase(std::remove_if(messages.begin(), messages.end(),
                                  [&](const auto& m) {
                                    return m->flags.count("\\Deleted") != 0 && (!uids || uids->contains(m->uid));
                                  }),
                   messages.end());
    if (messages.size() != before) {
      ++folder->highestmodseq;
    }
  }

  void expunge(const std::optional<NumberSet>& uids) {
    if (m_read_only) {
      no("Mailbox is read-only.");
      return;
    }
    remove_deleted(uids);
    ok("Expunge completed.");
  }

  // ---- FETCH ----------------------------------------------------------------

  struct Item {
    std::string name;    // upper case as asked, e.g. BODY.PEEK[HEADER]
    std::string section; // inside the brackets
    bool body_part = false;
    bool peek = false;
    std::optional<std::pair<std::size_t, std::size_t>> partial;
  };

  static std::optional<Item> fetch_item(const std::string& text) {
    Item item;
    item.name = upper(text);
    const auto open = item.name.find('[');
    if (open == std::string::npos) {
      static const std::set<std::string> k_simple = {"UID",  "FLAGS",  "RFC822.SIZE",   "INTERNALDATE", "MODSEQ",
                                                     "RFC822", "RFC822.HEADER", "RFC822.TEXT", "ENVELOPE"};
      return k_simple.count(item.name) != 0 ? std::optional<Item>(item) : std::nullopt;
    }
    const auto close = item.name.find(']', open);
    const std::string kind = item.name.substr(0, open);
    if (close == std::string::npos ||
        (kind != "BODY" && kind != "BODY.PEEK" && kind != "BINARY" && kind != "BINARY.PEEK")) {
      return std::nullopt;
    }
    item.body_part = true;
    item.peek = kind.find(".PEEK") != std::string::npos;
    item.section = item.name.substr(open + 1, close - open - 1);
    const std::string rest = item.name.substr(close + 1);
    if (!rest.empty()) {
      std::size_t offset = 0;
      std::size_t length = 0;
      if (std::sscanf(rest.c_str(), "<%zu.%zu>", &offset, &length) != 2) {
        return std::nullopt;
      }
      item.partial = std::make_pair(offset, length);
    }
    return item;
  }

  // True if the item returns the whole message (what the poison faults are about).
  static bool whole_body(const Item& item) {
    return (item.body_part && item.section.empty()) || item.name == "RFC822";
  }
  static bool header_part(const Item& item) {
    return (item.body_part && (item.section == "HEADER" || item.section.rfind("HEADER.FIELDS", 0) == 0)) ||
           item.name == "RFC822.HEADER";
  }

  void fetch(const std::vector<Value>& args, bool by_uid) {
    const auto matches = args.size() >= 2 ? resolve(args[0].text, by_uid) : std::nullopt;
    if (!matches) {
      bad("Error in IMAP command " + m_current.verb + ": invalid arguments.");
      return;
    }
    std::vector<Item> items;
    std::vector<Value> asked = args[1].kind == Value::Kind::list ? args[1].items : std::vector<Value>{args[1]};
    std::optional<std::uint64_t> changed_since;
    if (args.size() >= 3 && args[2].kind == Value::Kind::list && args[2].items.size() == 2 &&
        upper(args[2].items[0].text) == "CHANGEDSINCE") {
      const std::string& text = args[2].items[1].text;
      std::uint64_t value = 0;
      const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
      if (ec != std::errc{} || ptr != text.data() + text.size()) {
        bad("Error in IMAP command " + m_current.verb + ": invalid CHANGEDSINCE.");
        return;
      }
      changed_since = value;
    }
    for (const auto& value : asked) {
      const std::string name = upper(value.text);
      const std::vector<std::string> expanded =
          name == "FAST"  ? std::vector<std::string>{"FLAGS", "INTERNALDATE", "RFC822.SIZE"}
          : name == "ALL" ? std::vector<std::string>{"FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE"}
                          : std::vector<std::string>{value.text};
      for (const auto& one : expanded) {
        auto item = fetch_item(one);
        if (!item) {
          bad("Error in IMAP command " + m_current.verb + ": unknown fetch item " + one + ".");
          return;
        }
        items.push_back(std::move(*item));
      }
    }
    const bool wants_body = std::any_of(items.begin(), items.end(), whole_body);
    const bool wants_content = wants_body || std::any_of(items.begin(), items.end(), header_part);
    FakeFolder* folder = selected();
    if (wants_body) {
      for (const std::size_t index : *matches) {
        ++m_server.m_body_fetches[{m_selected, m_view[index]->uid}];
      }
    }
    if (wants_content && folder != nullptr) {
      // Exchange answers NO (or BAD) for the whole command when one UID of the
      // set cannot be served, so the client has to split the set to find it.
      for (const std::size_t index : *matches) {
        const Fault* fault = folder->fault(m_view[index]->uid);
        if (fault == nullptr) {
          continue;
        }
        if (fault->kind == FaultKind::no && wants_body) {
          no("Server Unavailable. 15");
          return;
        }
        if (fault->kind == FaultKind::bad && wants_body) {
          bad("Command Argument Error. 11");
          return;
        }
        if (fault->kind == FaultKind::hang && wants_body) {
          m_action = Action::hang;
          return;
        }
      }
    }
    for (const std::size_t index : *matches) {
      const auto& message = m_view[index];
      if (changed_since && message->modseq <= *changed_since) {
        continue;
      }
      const Fault* fault = folder == nullptr ? nullptr : folder->fault(message->uid);
      if (!fetch_one(index, *message, items, by_uid, changed_since.has_value(), fault)) {
        return;
      }
    }
    ok("Fetch completed.");
  }

  // Writes one "* n FETCH (...)" response. Returns false when a fault ended the command.
  bool fetch_one(std::size_t index, FakeMessage& message, const std::vector<Item>& items, bool by_uid,
                 bool with_modseq, const Fault* fault) {
    const FaultKind kind = fault == nullptr ? FaultKind::hang : fault->kind;
    const bool faulty = fault != nullptr;
    const bool wants_body = std::any_of(items.begin(), items.end(), whole_body);
    if (faulty && wants_body && (kind == FaultKind::ok_no_data || kind == FaultKind::exchange_stub)) {
      // Exchange: "OK FETCH completed" without any data for this UID.
      count_error();
      return true;
    }
    const std::string content = faulty && kind == FaultKind::exchange_stub_body ? exchange_stub_message(*fault)
                                                                                 : message.body;
    std::vector<std::string> names;
    for (const auto& item : items) {
      names.push_back(item.name);
    }
    bool set_seen = false;
    for (const auto& item : items) {
      set_seen = set_seen || ((item.body_part && !item.peek) || item.name == "RFC822" || item.name == "RFC822.TEXT");
    }
    if (set_seen && !m_read_only && message.flags.insert("\\Seen").second) {
      message.modseq = ++selected()->highestmodseq;
    }
    put("* " + std::to_string(index + 1) + " FETCH (");
    bool first = true;
    const auto sep = [&] {
      if (!first) {
        put(" ");
      }
      first = false;
    };
    const bool has_uid = std::find(names.begin(), names.end(), "UID") != names.end();
    if (by_uid || has_uid) {
      sep();
      put("UID " + std::to_string(message.uid));
    }
    const bool has_flags = std::find(names.begin(), names.end(), "FLAGS") != names.end();
    for (const auto& item : items) {
      if (item.name == "UID" || item.name == "FLAGS") {
        continue;
      }
      sep();
      if (item.name == "RFC822.SIZE") {
        std::int64_t size = static_cast<std::int64_t>(content.size());
        if (faulty && kind == FaultKind::size_mismatch) {
          size -= fault->delta;
        }
        put("RFC822.SIZE " + std::to_string(size));
      } else if (item.name == "INTERNALDATE") {
        put("INTERNALDATE " + quote(message.internaldate));
      } else if (item.name == "MODSEQ") {
        put("MODSEQ (" + std::to_string(message.modseq) + ")");
      } else if (item.name == "ENVELOPE") {
        put("ENVELOPE (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
      } else if (!body_item(item, message, content, fault)) {
        return false;
      }
    }
    if (has_flags || set_seen) {
      sep();
      put("FLAGS " + join_flags(message.flags));
    }
    if (with_modseq && std::find(names.begin(), names.end(), "MODSEQ") == names.end()) {
      sep();
      put("MODSEQ (" + std::to_string(message.modseq) + ")");
    }
    put(")");
    end_line();
    return true;
  }

  bool body_item(const Item& item, const FakeMessage& message, const std::string& content, const Fault* fault) {
    const FaultKind kind = fault == nullptr ? FaultKind::hang : fault->kind;
    std::string name = item.name;
    if (item.body_part) {
      name = (item.name.rfind("BINARY", 0) == 0 ? "BINARY[" : "BODY[") + item.section + "]";
      if (item.partial) {
        name += "<" + std::to_string(item.partial->first) + ">";
      }
    }
    put(name + " ");
    std::string data;
    if (whole_body(item)) {
      if (fault != nullptr && kind == FaultKind::nil_body) {
        put("NIL");
        count_error();
        return true;
      }
      data = content;
      if (fault != nullptr && kind == FaultKind::drop_mid_literal) {
        // The connection dies in the middle of the literal.
        m_out += "{" + std::to_string(data.size()) + "}\r\n" + data.substr(0, data.size() / 2);
        m_shown += "{" + std::to_string(data.size()) + "}";
        m_pending.push_back(std::move(m_shown));
        m_pending.push_back("{" + std::to_string(data.size() / 2) + " of " + std::to_string(data.size()) +
                            " bytes, then the connection is closed}");
        m_shown.clear();
        m_action = Action::close;
        return false;
      }
    } else if (header_part(item)) {
      const bool stub = fault != nullptr && (kind == FaultKind::exchange_stub || kind == FaultKind::exchange_stub_body);
      const std::string source = stub ? exchange_stub_header(*fault) : message.body;
      if (item.section.rfind("HEADER.FIELDS", 0) == 0) {
        const auto open = item.section.find('(');
        const auto close = item.section.find(')');
        std::vector<std::string> fields;
        std::stringstream in(open == std::string::npos ? std::string()
                                                       : item.section.substr(open + 1, close - open - 1));
        std::string field;
        while (in >> field) {
          fields.push_back(field);
        }
        data = header_fields(source, fields);
      } else {
        data = header_of(source);
      }
    } else { // TEXT or RFC822.TEXT
      const auto end = content.find("\r\n\r\n");
      data = end == std::string::npos ? std::string() : content.substr(end + 4);
    }
    if (item.partial) {
      data = item.partial->first >= data.size() ? std::string() : data.substr(item.partial->first, item.partial->second);
    }
    put_literal(data);
    return true;
  }

  // ---- SEARCH and STORE -----------------------------------------------------

  void search(const std::vector<Value>& args, bool by_uid) {
    std::size_t i = 0;
    std::vector<std::string> returns;
    bool extended = false;
    if (!args.empty() && upper(args[0].text) == "RETURN" && m_server.m_world.has("ESEARCH") && args.size() >= 2) {
      extended = true;
      for (const auto& r : args[1].items) {
        returns.push_back(upper(r.text));
      }
      if (returns.empty()) {
        returns = {"ALL"};
      }
      i = 2;
    }
    if (i < args.size() && upper(args[i].text) == "CHARSET") {
      i += 2;
    }
    std::vector<bool> keep(m_view.size(), true);
    for (; i < args.size(); ++i) {
      const std::string key = upper(args[i].text);
      std::function<bool(std::size_t)> test;
      if (key == "ALL") {
        continue;
      }
      if (key == "UID" && i + 1 < args.size()) {
        const auto set = NumberSet::parse(args[++i].text, max_uid());
        if (!set) {
          bad("Error in IMAP command " + m_current.verb + ": invalid UID set.");
          return;
        }
        test = [&, set](std::size_t k) { return set->contains(m_view[k]->uid); };
      } else if (key == "HEADER" && i + 2 < args.size()) {
        const std::string field = upper(args[i + 1].text);
        const std::string needle = upper(args[i + 2].text);
        i += 2;
        test = [&, field, needle](std::size_t k) {
          const std::string value = upper(header_fields(m_view[k]->body, {field}));
          return value.size() > 2 && value.find(needle, field.size() + 1) != std::string::npos;
        };
      } else if (key == "SEEN" || key == "UNSEEN" || key == "DELETED" || key == "UNDELETED" || key == "FLAGGED" ||
                 key == "UNFLAGGED" || key == "ANSWERED" || key == "DRAFT") {
        const bool negate = key.rfind("UN", 0) == 0;
        std::string flag = negate ? key.substr(2) : key;
        flag = "\\" + flag.substr(0, 1) + std::string(flag.begin() + 1, flag.end());
        std::transform(flag.begin() + 2, flag.end(), flag.begin() + 2,
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        test = [&, flag, negate](std::size_t k) { return (m_view[k]->flags.count(flag) != 0) != negate; };
      } else if (auto set = NumberSet::parse(key, static_cast<std::uint32_t>(m_view.size())); set) {
        test = [set](std::size_t k) { return set->contains(static_cast<std::uint32_t>(k + 1)); };
      } else {
        bad("Error in IMAP command " + m_current.verb + ": unsupported search key " + key + ".");
        return;
      }
      for (std::size_t k = 0; k < m_view.size(); ++k) {
        keep[k] = keep[k] && test(k);
      }
    }
    std::vector<std::uint32_t> found;
    for (std::size_t k = 0; k < m_view.size(); ++k) {
      if (keep[k]) {
        found.push_back(by_uid ? m_view[k]->uid : static_cast<std::uint32_t>(k + 1));
      }
    }
    if (!extended) {
      std::string text = "* SEARCH";
      for (const auto n : found) {
        text += " " + std::to_string(n);
      }
      line(text);
    } else {
      std::string text = "* ESEARCH (TAG " + quote(m_current.tag) + ")" + (by_uid ? " UID" : "");
      for (const auto& r : returns) {
        if (r == "COUNT") {
          text += " COUNT " + std::to_string(found.size());
        } else if (r == "MIN" && !found.empty()) {
          text += " MIN " + std::to_string(*std::min_element(found.begin(), found.end()));
        } else if (r == "MAX" && !found.empty()) {
          text += " MAX " + std::to_string(*std::max_element(found.begin(), found.end()));
        } else if (r == "ALL" && !found.empty()) {
          std::string all;
          for (const auto n : found) {
            all += (all.empty() ? "" : ",") + std::to_string(n);
          }
          text += " ALL " + all;
        }
      }
      line(text);
    }
    ok("Search completed.");
  }

  void store(const std::vector<Value>& args, bool by_uid) {
    const auto matches = args.size() >= 3 ? resolve(args[0].text, by_uid) : std::nullopt;
    std::size_t at = 1;
    if (args.size() >= 4 && args[1].kind == Value::Kind::list) {
      at = 2; // (UNCHANGEDSINCE n): accepted, not enforced
    }
    const std::string action = matches ? upper(args[at].text) : std::string();
    const bool silent = action.size() > 7 && action.compare(action.size() - 7, 7, ".SILENT") == 0;
    const std::string base = silent ? action.substr(0, action.size() - 7) : action;
    if (!matches || (base != "FLAGS" && base != "+FLAGS" && base != "-FLAGS")) {
      bad("Error in IMAP command " + m_current.verb + ": invalid arguments.");
      return;
    }
    if (m_read_only) {
      no("Mailbox is read-only.");
      return;
    }
    std::set<std::string> flags;
    for (std::size_t i = at + 1; i < args.size(); ++i) {
      if (args[i].kind == Value::Kind::list) {
        for (const auto& flag : args[i].items) {
          flags.insert(flag.text);
        }
      } else {
        flags.insert(args[i].text);
      }
    }
    FakeFolder* folder = selected();
    for (const std::size_t index : *matches) {
      FakeMessage& message = *m_view[index];
      const auto before = message.flags;
      if (base == "FLAGS") {
        message.flags = flags;
      } else if (base == "+FLAGS") {
        message.flags.insert(flags.begin(), flags.end());
      } else {
        for (const auto& flag : flags) {
          message.flags.erase(flag);
        }
      }
      if (message.flags != before && folder != nullptr) {
        message.modseq = ++folder->highestmodseq;
      }
      if (!silent) {
        std::string text = "* " + std::to_string(index + 1) + " FETCH (";
        if (by_uid) {
          text += "UID " + std::to_string(message.uid) + " ";
        }
        text += "FLAGS " + join_flags(message.flags);
        if (m_server.m_world.has("CONDSTORE")) {
          text += " MODSEQ (" + std::to_string(message.modseq) + ")";
        }
        line(text + ")");
      }
    }
    ok("Store completed.");
  }

  FakeImapServer& m_server;
  int m_number;
  int m_fd;
  std::string m_in;
  std::string m_out;
  std::string m_shown;
  std::vector<std::string> m_pending;
  Action m_action = Action::none;
  State m_state = State::not_authenticated;
  Command m_current;
  std::string m_selected;
  bool m_read_only = false;
  std::vector<std::shared_ptr<FakeMessage>> m_view;
  std::vector<std::shared_ptr<FakeMessage>> m_lagging; // expunged, coming back at the next NOOP
  std::unordered_set<const FakeMessage*> m_ghosts;     // expunged but shown again
  std::set<std::size_t> m_used_raws;
  int m_errors = 0;
  bool m_cut = false;
  bool m_cut_pending = false;
};

namespace {

World deep_copy(const World& world) {
  World copy = world;
  for (auto& [name, folder] : copy.folders) {
    for (auto& message : folder.messages) {
      message = std::make_shared<FakeMessage>(*message);
    }
  }
  return copy;
}

} // namespace

FakeImapServer::FakeImapServer(Scenario scenario, std::uint16_t port)
    : m_scenario(std::move(scenario)), m_world(deep_copy(m_scenario.world)) {
  m_listen_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  m_wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  const int one = 1;
  ::setsockopt(m_listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (m_listen_fd < 0 || m_wake_fd < 0 ||
      ::bind(m_listen_fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(m_listen_fd, 64) != 0 ||
      ::getsockname(m_listen_fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    const std::string reason = std::strerror(errno);
    if (m_listen_fd >= 0) {
      ::close(m_listen_fd);
    }
    if (m_wake_fd >= 0) {
      ::close(m_wake_fd);
    }
    throw core::Failure(core::Error{core::Scope::fatal,
                                    "fake IMAP server: cannot listen on 127.0.0.1:" + std::to_string(port) + ": " +
                                        reason,
                                    "use port 0 to let the system pick a free port"});
  }
  m_port = ntohs(address.sin_port);
  m_accept_thread = std::thread([this] { accept_loop(); });
}

FakeImapServer::~FakeImapServer() {
  stop();
}

void FakeImapServer::stop() {
  {
    std::unique_lock lock(m_mutex);
    if (m_stopped) {
      return;
    }
    m_stopped = true;
  }
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto written = ::write(m_wake_fd, &one, sizeof one);
  m_accept_thread.join();
  // No new connections now; every connection thread sees the wake fd and ends.
  for (auto& connection : m_connections) {
    connection->thread.join();
  }
  m_connections.clear();
  ::close(m_listen_fd);
  ::close(m_wake_fd);
  flush_transcript_file();
}

std::string FakeImapServer::url() const {
  return "imap://127.0.0.1:" + std::to_string(m_port) + "/";
}

void FakeImapServer::accept_loop() {
  while (true) {
    std::array<pollfd, 2> fds{{{m_listen_fd, POLLIN, 0}, {m_wake_fd, POLLIN, 0}}};
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      return;
    }
    if ((fds[1].revents & POLLIN) != 0) {
      return;
    }
    const int fd = ::accept4(m_listen_fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
      continue;
    }
    std::unique_lock lock(m_mutex);
    // Join the threads of connections that already ended.
    for (auto it = m_connections.begin(); it != m_connections.end();) {
      if ((*it)->done) {
        (*it)->thread.join();
        it = m_connections.erase(it);
      } else {
        ++it;
      }
    }
    const int number = ++m_accepted;
    for (const auto& block : m_scenario.blocks) {
      if (block.session == number) {
        auto applied = apply_block(m_world, block, m_scenario);
        if (!applied) {
          // Blocks were dry-run at load time, so this only fires if a client changed
          // the world in a way the block did not expect (expunged its UID, say).
          m_transcript.push_back({number, '!', applied.error().what()});
        }
      }
    }
    auto connection = std::make_unique<Connection>();
    connection->fd = fd;
    Connection* raw = connection.get();
    connection->thread = std::thread([this, number, raw] {
      serve(number, raw->fd);
      raw->done = true;
    });
    m_connections.push_back(std::move(connection));
  }
}

void FakeImapServer::serve(int number, int fd) {
  try {
    Session session(*this, number, fd);
    session.run();
  } catch (const std::exception& e) {
    // A bug in the fake server must not take the test binary down with std::terminate.
    record(number, '!', std::string("fake server error: ") + e.what());
  }
  ::shutdown(fd, SHUT_RDWR);
  ::close(fd);
  flush_transcript_file();
}

void FakeImapServer::record(int connection, char side, std::string line) {
  std::unique_lock lock(m_mutex);
  m_transcript.push_back({connection, side, std::move(line)});
}

int FakeImapServer::connections_accepted() const {
  std::unique_lock lock(m_mutex);
  return m_accepted;
}

int FakeImapServer::commands(const std::string& verb) const {
  std::unique_lock lock(m_mutex);
  const auto it = m_commands.find(upper(verb));
  return it == m_commands.end() ? 0 : it->second;
}

int FakeImapServer::body_fetches(const std::string& folder, std::uint32_t uid) const {
  std::unique_lock lock(m_mutex);
  const auto it = m_body_fetches.find({folder, uid});
  return it == m_body_fetches.end() ? 0 : it->second;
}

std::map<std::pair<std::string, std::uint32_t>, int> FakeImapServer::all_body_fetches() const {
  std::unique_lock lock(m_mutex);
  return m_body_fetches;
}

std::string FakeImapServer::transcript(int connection) const {
  std::unique_lock lock(m_mutex);
  std::string out;
  for (const auto& entry : m_transcript) {
    if (connection != 0 && entry.connection != connection) {
      continue;
    }
    std::string text = printable(entry.text);
    if (text.size() > k_transcript_width) {
      text = text.substr(0, k_transcript_width) + " ...(" + std::to_string(entry.text.size()) + " bytes)";
    }
    if (connection == 0) {
      out += "#" + std::to_string(entry.connection) + " ";
    }
    out += std::string(1, entry.side) + ": " + text + "\n";
  }
  return out;
}

void FakeImapServer::set_transcript_file(std::string path) {
  std::unique_lock lock(m_mutex);
  m_transcript_file = std::move(path);
}

void FakeImapServer::flush_transcript_file() const {
  std::string path;
  {
    std::unique_lock lock(m_mutex);
    path = m_transcript_file;
  }
  if (!path.empty()) {
    std::ofstream(path, std::ios::trunc) << transcript(0);
  }
}

World FakeImapServer::world() const {
  std::unique_lock lock(m_mutex);
  return deep_copy(m_world);
}

int FakeImapServer::live_connections() const {
  std::unique_lock lock(m_mutex);
  return static_cast<int>(std::count_if(m_connections.begin(), m_connections.end(),
                                        [](const auto& c) { return !c->done; }));
}

} // namespace uidsync::test
