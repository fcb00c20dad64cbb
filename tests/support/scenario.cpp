// SPDX-License-Identifier: GPL-3.0-or-later
// Scenario file parser and interpreter for the fake IMAP server.
#include "support/scenario.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

namespace uidsync::test {

namespace {

using core::Scope;

// Splits a directive line into words. Double quotes group words ("UID FETCH",
// date="01-Jan-2024 10:00:00 +0000"); inside them \" is a quote and \\ a backslash.
std::vector<std::string> split_words(std::string_view line) {
  std::vector<std::string> words;
  std::string current;
  bool in_word = false;
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '\\' && i + 1 < line.size() && (line[i + 1] == '"' || line[i + 1] == '\\')) {
        current += line[++i];
      } else if (c == '"') {
        quoted = false;
      } else {
        current += c;
      }
      continue;
    }
    if (c == '"') {
      quoted = true;
      in_word = true;
    } else if (c == ' ' || c == '\t') {
      if (in_word) {
        words.push_back(std::move(current));
        current.clear();
        in_word = false;
      }
    } else {
      current += c;
      in_word = true;
    }
  }
  if (in_word) {
    words.push_back(std::move(current));
  }
  return words;
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return std::string(s);
}

template <class Int>
std::optional<Int> parse_int(std::string_view s) {
  Int value{};
  if (!s.empty() && s.front() == '+') {
    s.remove_prefix(1);
  }
  const auto* end = s.data() + s.size();
  const auto [ptr, ec] = std::from_chars(s.data(), end, value);
  if (ec != std::errc{} || ptr != end || s.empty()) {
    return std::nullopt;
  }
  return value;
}

std::string to_crlf(const std::string& text) {
  if (text.find('\r') != std::string::npos) {
    return text;
  }
  std::string out;
  out.reserve(text.size() + text.size() / 40);
  for (const char c : text) {
    if (c == '\n') {
      out += '\r';
    }
    out += c;
  }
  return out;
}

std::uint32_t max_uid(const FakeFolder& folder) {
  std::uint32_t max = 0;
  for (const auto& message : folder.messages) {
    max = std::max(max, message->uid);
  }
  return max;
}

// Runs directive lines against a World. One instance per file or block.
class Interpreter {
public:
  Interpreter(World& world, const Scenario& scenario, std::vector<std::pair<int, std::string>> lines)
      : m_world(world), m_scenario(scenario), m_lines(std::move(lines)) {}

  // Runs every line. Session blocks met on the way are appended to `blocks` (only
  // at file level; a block inside a block is an error).
  core::Result<void> run(std::vector<SessionBlock>* blocks) {
    for (m_index = 0; m_index < m_lines.size(); ++m_index) {
      const std::string line = trim(m_lines[m_index].second);
      if (line.empty() || line.front() == '#') {
        continue;
      }
      auto words = split_words(line);
      if (words.front() == "on") {
        if (blocks == nullptr) {
          return error("'on session' blocks cannot be nested");
        }
        UIDSYNC_TRY(read_block(words, *blocks));
        continue;
      }
      UIDSYNC_TRY(directive(line, words, blocks));
    }
    return {};
  }

private:
  util::Unexpected<core::Error> error(const std::string& what) const {
    const std::size_t at = std::min(m_index, m_lines.size() - 1);
    const int line = m_lines.empty() ? 0 : m_lines[at].first;
    return core::fail(Scope::fatal, m_scenario.origin + ":" + std::to_string(line) + ": " + what,
                      "see docs/fake-imap-server.md for the scenario language");
  }

  core::Result<std::uint32_t> uid_arg(const std::vector<std::string>& words, std::size_t at) const {
    if (words.size() <= at) {
      return error("'" + words.front() + "' needs a UID");
    }
    const auto uid = parse_int<std::uint32_t>(words[at]);
    if (!uid) {
      return error("'" + words[at] + "' is not a UID");
    }
    return *uid;
  }

  core::Result<FakeFolder*> current_folder() {
    FakeFolder* folder = m_world.folder(m_folder);
    if (folder == nullptr) {
      return error("no folder selected: write 'folder NAME' first");
    }
    return folder;
  }

  // key=value options after the positional words, from index `from`.
  core::Result<std::map<std::string, std::string>> options(const std::vector<std::string>& words,
                                                           std::size_t from,
                                                           std::set<std::string> allowed) const {
    std::map<std::string, std::string> out;
    for (std::size_t i = from; i < words.size(); ++i) {
      const auto eq = words[i].find('=');
      const std::string key = words[i].substr(0, eq);
      if (allowed.count(key) == 0) {
        return error("unknown option '" + words[i] + "' for '" + words.front() + "'");
      }
      out[key] = eq == std::string::npos ? std::string() : words[i].substr(eq + 1);
    }
    return out;
  }

  core::Result<void> read_block(const std::vector<std::string>& words, std::vector<SessionBlock>& blocks) {
    // on session N:
    std::string n = words.size() >= 3 ? words[2] : std::string();
    if (!n.empty() && n.back() == ':') {
      n.pop_back();
    }
    const auto session = parse_int<int>(n);
    if (words.size() < 3 || words.size() > 4 || words[1] != "session" || !session || *session < 1) {
      return error("expected 'on session N:'");
    }
    SessionBlock block{*session, {}};
    block.lines.emplace_back(m_lines[m_index].first, "folder \"" + m_folder + "\"");
    if (m_folder.empty()) {
      block.lines.clear();
    }
    for (++m_index; m_index < m_lines.size(); ++m_index) {
      if (trim(m_lines[m_index].second) == "end") {
        blocks.push_back(std::move(block));
        return {};
      }
      block.lines.push_back(m_lines[m_index]);
    }
    return error("'on session " + n + ":' has no matching 'end'");
  }

  core::Result<std::string> inline_body() {
    std::string body;
    for (++m_index; m_index < m_lines.size(); ++m_index) {
      std::string line = m_lines[m_index].second;
      if (!line.empty() && line.back() == '\r') {
        line.pop_back();
      }
      if (line == ".") {
        return body;
      }
      if (line.rfind("..", 0) == 0) {
        line.erase(0, 1);
      }
      body += line + "\r\n";
    }
    return error("inline message body has no terminating '.' line");
  }

  core::Result<std::set<std::string>> flags_option(const std::string& value) const {
    std::set<std::string> flags;
    std::stringstream in(value);
    std::string flag;
    while (std::getline(in, flag, ',')) {
      if (!flag.empty()) {
        flags.insert(flag);
      }
    }
    return flags;
  }

  void add_message(FakeFolder& folder, std::shared_ptr<FakeMessage> message, bool bump_uidnext = true) {
    if (bump_uidnext) {
      folder.uidnext = std::max(folder.uidnext, message->uid + 1);
    }
    folder.messages.push_back(std::move(message));
  }

  core::Result<void> directive(const std::string& line, const std::vector<std::string>& words,
                               std::vector<SessionBlock>* blocks) {
    const std::string& verb = words.front();
    if (verb == "user") {
      if (words.size() != 3) {
        return error("expected 'user NAME PASSWORD'");
      }
      m_world.user = words[1];
      m_world.password = words[2];
      return {};
    }
    if (verb == "capabilities") {
      static const std::set<std::string> k_known = {"UIDPLUS", "CONDSTORE", "QRESYNC",
                                                    "LITERAL+", "ESEARCH",   "MOVE"};
      for (std::size_t i = 1; i < words.size(); ++i) {
        std::string cap = words[i];
        if (cap == "none") {
          m_world.capabilities.clear();
          continue;
        }
        const bool remove = cap.front() == '-';
        if (remove || cap.front() == '+') {
          cap.erase(0, 1);
        }
        if (k_known.count(cap) == 0) {
          return error("unknown capability '" + cap + "' (known: UIDPLUS CONDSTORE QRESYNC LITERAL+ ESEARCH MOVE)");
        }
        if (remove) {
          m_world.capabilities.erase(cap);
        } else {
          m_world.capabilities.insert(cap);
        }
      }
      return {};
    }
    if (verb == "cut_after_errors") {
      const auto n = words.size() == 2 ? parse_int<int>(words[1]) : std::nullopt;
      if (!n || *n < 0) {
        return error("expected 'cut_after_errors N'");
      }
      m_world.cut_after_errors = *n;
      return {};
    }
    if (verb == "raw" || verb == "raw_response") {
      return raw(line, words);
    }
    if (verb == "folder") {
      return folder(words);
    }
    if (verb == "message") {
      return message(words);
    }
    if (verb == "generate") {
      return generate(words);
    }
    if (verb == "uidvalidity_change" || (verb == "uid_reuse" && words.size() > 2)) {
      return deferred(words, blocks);
    }
    return folder_directive(words);
  }

  core::Result<void> raw(const std::string& line, const std::vector<std::string>& words) {
    World::Raw raw;
    if (words.size() < 3) {
      return error("expected 'raw WHERE before|after|instead [close] [once] [text=BYTES]'");
    }
    raw.where = words[1];
    std::transform(raw.where.begin(), raw.where.end(), raw.where.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    if (words[2] == "before") {
      raw.mode = World::Raw::Mode::before;
    } else if (words[2] == "after") {
      raw.mode = World::Raw::Mode::after;
    } else if (words[2] == "instead") {
      raw.mode = World::Raw::Mode::instead;
    } else {
      return error("raw: '" + words[2] + "' is not before, after or instead");
    }
    for (std::size_t i = 3; i < words.size(); ++i) {
      if (words[i] == "close") {
        raw.close = true;
      } else if (words[i] == "once") {
        raw.once = true;
      } else if (words[i].rfind("text=", 0) == 0) {
        // text= takes the rest of the line verbatim (quotes and spaces included).
        const auto at = line.find("text=");
        auto text = expand_raw_text(std::string_view(line).substr(at + 5));
        if (!text) {
          return error(text.error().message);
        }
        raw.text = std::move(*text);
        break;
      } else {
        return error("raw: unknown word '" + words[i] + "'");
      }
    }
    if (raw.where == "GREETING" && raw.mode != World::Raw::Mode::instead && raw.mode != World::Raw::Mode::after) {
      return error("raw GREETING takes 'instead' or 'after'");
    }
    m_world.raws.push_back(std::move(raw));
    return {};
  }

  core::Result<void> folder(const std::vector<std::string>& words) {
    if (words.size() < 2) {
      return error("expected 'folder NAME [uidvalidity=V] [uidnext=N]'");
    }
    auto opts = options(words, 2, {"uidvalidity", "uidnext"});
    UIDSYNC_TRY(opts);
    auto& folder = m_world.folders[words[1]];
    if (folder.name.empty()) {
      folder.name = words[1];
      folder.uidvalidity = m_world.next_uidvalidity++;
    }
    if (opts->count("uidvalidity") != 0) {
      const auto v = parse_int<std::uint32_t>(opts->at("uidvalidity"));
      if (!v || *v == 0) {
        return error("uidvalidity must be a number from 1 to 4294967295");
      }
      folder.uidvalidity = *v;
    }
    if (opts->count("uidnext") != 0) {
      const auto v = parse_int<std::uint32_t>(opts->at("uidnext"));
      if (!v) {
        return error("uidnext must be a number");
      }
      folder.uidnext = *v;
      folder.explicit_uidnext = true;
    }
    m_folder = words[1];
    return {};
  }

  core::Result<void> message(const std::vector<std::string>& words) {
    auto folder = current_folder();
    UIDSYNC_TRY(folder);
    auto uid = uid_arg(words, 1);
    UIDSYNC_TRY(uid);
    auto opts = options(words, 2, {"flags", "date", "size", "file", "inline", "modseq"});
    UIDSYNC_TRY(opts);
    auto message = std::make_shared<FakeMessage>();
    message->uid = *uid;
    if (opts->count("flags") != 0) {
      auto flags = flags_option(opts->at("flags"));
      UIDSYNC_TRY(flags);
      message->flags = *flags;
    }
    if (opts->count("date") != 0) {
      message->internaldate = opts->at("date");
    }
    if (opts->count("modseq") != 0) {
      const auto m = parse_int<std::uint64_t>(opts->at("modseq"));
      if (!m) {
        return error("modseq must be a number");
      }
      message->modseq = *m;
    }
    if (opts->count("inline") != 0) {
      auto body = inline_body();
      UIDSYNC_TRY(body);
      message->body = std::move(*body);
    } else if (opts->count("file") != 0) {
      const auto path = m_scenario.base_dir / opts->at("file");
      std::ifstream in(path, std::ios::binary);
      if (!in) {
        return error("cannot read message file " + path.string());
      }
      std::stringstream content;
      content << in.rdbuf();
      message->body = to_crlf(content.str());
    } else {
      std::size_t size = 1000;
      if (opts->count("size") != 0) {
        const auto s = parse_int<std::size_t>(opts->at("size"));
        if (!s) {
          return error("size must be a number of bytes");
        }
        size = *s;
      }
      message->body = generated_message(*uid, (*folder)->uidvalidity, size);
    }
    (*folder)->highestmodseq = std::max((*folder)->highestmodseq, message->modseq);
    add_message(**folder, std::move(message));
    return {};
  }

  core::Result<void> generate(const std::vector<std::string>& words) {
    auto folder = current_folder();
    UIDSYNC_TRY(folder);
    const auto count = words.size() >= 2 ? parse_int<std::uint32_t>(words[1]) : std::nullopt;
    if (!count) {
      return error("expected 'generate N [size=S|size=MIN..MAX] [start=UID] [flags=...]'");
    }
    auto opts = options(words, 2, {"size", "start", "flags"});
    UIDSYNC_TRY(opts);
    std::size_t min_size = 1000;
    std::size_t max_size = 1000;
    if (opts->count("size") != 0) {
      const std::string& s = opts->at("size");
      const auto dots = s.find("..");
      const auto lo = parse_int<std::size_t>(s.substr(0, dots));
      const auto hi = dots == std::string::npos ? lo : parse_int<std::size_t>(s.substr(dots + 2));
      if (!lo || !hi || *hi < *lo) {
        return error("size must be S or MIN..MAX bytes");
      }
      min_size = *lo;
      max_size = *hi;
    }
    std::uint32_t start = (*folder)->uidnext;
    if (opts->count("start") != 0) {
      const auto s = parse_int<std::uint32_t>(opts->at("start"));
      if (!s) {
        return error("start must be a UID");
      }
      start = *s;
    }
    std::set<std::string> flags;
    if (opts->count("flags") != 0) {
      auto f = flags_option(opts->at("flags"));
      UIDSYNC_TRY(f);
      flags = *f;
    }
    for (std::uint32_t i = 0; i < *count; ++i) {
      auto message = std::make_shared<FakeMessage>();
      message->uid = start + i;
      message->flags = flags;
      // Deterministic spread of sizes over MIN..MAX.
      const std::size_t span = max_size - min_size + 1;
      const std::size_t size = min_size + (static_cast<std::size_t>(message->uid) * 7919U) % span;
      message->body = generated_message(message->uid, (*folder)->uidvalidity, size);
      add_message(**folder, std::move(message));
    }
    return {};
  }

  // Top-level sugar for a session block: "uidvalidity_change N" and "uid_reuse UID session=N".
  core::Result<void> deferred(const std::vector<std::string>& words, std::vector<SessionBlock>* blocks) {
    if (blocks == nullptr) {
      return error("'" + words.front() + "' with a session number cannot appear inside 'on session'");
    }
    if (m_folder.empty()) {
      return error("no folder selected: write 'folder NAME' first");
    }
    const int line = m_lines[m_index].first;
    SessionBlock block;
    if (words.front() == "uidvalidity_change") {
      const auto n = words.size() >= 2 ? parse_int<int>(words[1]) : std::nullopt;
      if (!n || *n < 1 || words.size() > 3) {
        return error("expected 'uidvalidity_change SESSION [uidvalidity=V]'");
      }
      block.session = *n;
      block.lines = {{line, "folder \"" + m_folder + "\""},
                     {line, "renumber" + (words.size() == 3 ? " " + words[2] : std::string())}};
    } else {
      auto uid = uid_arg(words, 1);
      UIDSYNC_TRY(uid);
      const auto n = words[2].rfind("session=", 0) == 0 ? parse_int<int>(words[2].substr(8)) : std::nullopt;
      if (!n || *n < 1 || words.size() != 3) {
        return error("expected 'uid_reuse UID [session=N]'");
      }
      block.session = *n;
      block.lines = {{line, "folder \"" + m_folder + "\""}, {line, "uid_reuse " + words[1]}};
    }
    blocks->push_back(std::move(block));
    return {};
  }

  core::Result<void> fault(FakeFolder& folder, FaultKind kind, const std::vector<std::string>& words) {
    auto uid = uid_arg(words, 1);
    UIDSYNC_TRY(uid);
    Fault fault;
    fault.kind = kind;
    fault.uid = *uid;
    std::size_t from = 2;
    if (kind == FaultKind::size_mismatch && words.size() > 2) {
      const auto delta = parse_int<std::int64_t>(words[2]);
      if (!delta || *delta == 0) {
        return error("size_mismatch DELTA must be a non-zero number like +100 or -20");
      }
      fault.delta = *delta;
      from = 3;
    }
    const bool stub = kind == FaultKind::exchange_stub || kind == FaultKind::exchange_stub_body;
    for (std::size_t i = from; i < words.size(); ++i) {
      if (stub && words[i] == "folded") {
        fault.subject = StubSubject::folded;
      } else if (stub && words[i] == "encoded") {
        fault.subject = StubSubject::encoded;
      } else if (stub && words[i].rfind("subject_uid=", 0) == 0) {
        const auto other = parse_int<std::uint32_t>(words[i].substr(12));
        if (!other) {
          return error("subject_uid must be a UID");
        }
        fault.subject_uid = *other;
      } else {
        return error("unexpected '" + words[i] + "' after '" + words.front() + " UID'");
      }
    }
    folder.faults.erase(std::remove_if(folder.faults.begin(), folder.faults.end(),
                                       [&](const Fault& f) { return f.uid == fault.uid; }),
                        folder.faults.end());
    folder.faults.push_back(fault);
    return {};
  }

  core::Result<void> folder_directive(const std::vector<std::string>& words) {
    static const std::map<std::string, FaultKind> k_faults = {
        {"ok_no_data", FaultKind::ok_no_data},
        {"exchange_stub", FaultKind::exchange_stub},
        {"exchange_stub_body", FaultKind::exchange_stub_body},
        {"no", FaultKind::no},
        {"bad", FaultKind::bad},
        {"nil_body", FaultKind::nil_body},
        {"size_mismatch", FaultKind::size_mismatch},
        {"drop_mid_literal", FaultKind::drop_mid_literal},
        {"hang", FaultKind::hang},
    };
    const std::string& verb = words.front();
    const auto known = k_faults.find(verb);
    static const std::set<std::string> k_folder_verbs = {
        "heal",           "expunge",    "stale_exists_after_expunge", "exists_offset",
        "duplicate_uid",  "descending_uids", "uid_zero",              "uid_at_or_above_uidnext",
        "uidnext_below_max", "uid_reuse", "renumber"};
    if (known == k_faults.end() && k_folder_verbs.count(verb) == 0) {
      return error("unknown directive '" + verb + "'");
    }
    auto current = current_folder();
    UIDSYNC_TRY(current);
    FakeFolder& folder = **current;
    if (known != k_faults.end()) {
      return fault(folder, known->second, words);
    }
    if (verb == "heal") {
      if (words.size() == 2 && words[1] == "all") {
        folder.faults.clear();
        return {};
      }
      auto uid = uid_arg(words, 1);
      UIDSYNC_TRY(uid);
      folder.faults.erase(std::remove_if(folder.faults.begin(), folder.faults.end(),
                                         [&](const Fault& f) { return f.uid == *uid; }),
                          folder.faults.end());
      return {};
    }
    if (verb == "stale_exists_after_expunge") {
      folder.stale_exists_after_expunge = true;
      return {};
    }
    if (verb == "descending_uids") {
      std::reverse(folder.messages.begin(), folder.messages.end());
      return {};
    }
    if (verb == "uidnext_below_max") {
      folder.uidnext = max_uid(folder);
      return {};
    }
    if (verb == "uid_zero" || verb == "uid_at_or_above_uidnext") {
      auto message = std::make_shared<FakeMessage>();
      message->uid = verb == "uid_zero" ? 0 : folder.uidnext;
      message->body = generated_message(message->uid, folder.uidvalidity, 600);
      if (verb == "uid_zero") {
        folder.messages.insert(folder.messages.begin(), std::move(message));
      } else {
        add_message(folder, std::move(message), false);
      }
      return {};
    }
    if (verb == "exists_offset") {
      const auto n = words.size() == 2 ? parse_int<std::int64_t>(words[1]) : std::nullopt;
      if (!n) {
        return error("expected 'exists_offset N' (N may be negative)");
      }
      folder.exists_offset = *n;
      return {};
    }
    if (verb == "renumber") {
      return renumber(folder, words);
    }
    auto uid = uid_arg(words, 1);
    UIDSYNC_TRY(uid);
    auto it = std::find_if(folder.messages.begin(), folder.messages.end(),
                           [&](const auto& m) { return m->uid == *uid; });
    if (it == folder.messages.end()) {
      return error("folder '" + folder.name + "' has no UID " + words[1]);
    }
    if (verb == "expunge") {
      folder.messages.erase(it);
      ++folder.highestmodseq;
    } else if (verb == "duplicate_uid") {
      auto copy = std::make_shared<FakeMessage>(**it);
      folder.messages.insert(it + 1, std::move(copy));
    } else { // uid_reuse: same UID, another message (other Message-ID, other size).
      auto copy = std::make_shared<FakeMessage>(**it);
      copy->body = generated_message(*uid, folder.uidvalidity, copy->body.size() + 123);
      const auto at = copy->body.find("Message-ID: <");
      copy->body.insert(at + 13, "reused-");
      copy->body.resize(copy->body.size() - 7);
      copy->modseq = ++folder.highestmodseq;
      *it = std::move(copy);
    }
    return {};
  }

  core::Result<void> renumber(FakeFolder& folder, const std::vector<std::string>& words) {
    auto opts = options(words, 1, {"uidvalidity"});
    UIDSYNC_TRY(opts);
    std::uint32_t uidvalidity = folder.uidvalidity + 1;
    if (opts->count("uidvalidity") != 0) {
      const auto v = parse_int<std::uint32_t>(opts->at("uidvalidity"));
      if (!v || *v == 0) {
        return error("uidvalidity must be a number from 1 to 4294967295");
      }
      uidvalidity = *v;
    }
    std::map<std::uint32_t, std::uint32_t> renamed;
    std::uint32_t next = 1;
    for (auto& message : folder.messages) {
      auto copy = std::make_shared<FakeMessage>(*message);
      renamed[message->uid] = next;
      copy->uid = next++;
      message = std::move(copy);
    }
    for (auto& f : folder.faults) {
      f.uid = renamed.count(f.uid) != 0 ? renamed[f.uid] : f.uid;
    }
    folder.uidvalidity = uidvalidity;
    folder.uidnext = next;
    return {};
  }

  World& m_world;
  const Scenario& m_scenario;
  std::vector<std::pair<int, std::string>> m_lines;
  std::size_t m_index = 0;
  std::string m_folder;
};

} // namespace

std::string_view to_string(FaultKind kind) {
  switch (kind) {
  case FaultKind::ok_no_data:
    return "ok_no_data";
  case FaultKind::exchange_stub:
    return "exchange_stub";
  case FaultKind::exchange_stub_body:
    return "exchange_stub_body";
  case FaultKind::no:
    return "no";
  case FaultKind::bad:
    return "bad";
  case FaultKind::nil_body:
    return "nil_body";
  case FaultKind::size_mismatch:
    return "size_mismatch";
  case FaultKind::drop_mid_literal:
    return "drop_mid_literal";
  case FaultKind::hang:
    return "hang";
  }
  return "?";
}

const Fault* FakeFolder::fault(std::uint32_t uid) const {
  for (const auto& f : faults) {
    if (f.uid == uid) {
      return &f;
    }
  }
  return nullptr;
}

bool World::has(std::string_view capability) const {
  return capabilities.count(std::string(capability)) != 0;
}

FakeFolder* World::folder(std::string_view name) {
  const auto it = folders.find(std::string(name));
  return it == folders.end() ? nullptr : &it->second;
}

core::Result<Scenario> parse_scenario(std::string_view text, std::string origin,
                                      std::filesystem::path base_dir) {
  Scenario scenario;
  scenario.origin = std::move(origin);
  scenario.base_dir = std::move(base_dir);
  std::vector<std::pair<int, std::string>> lines;
  std::stringstream in{std::string(text)};
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    lines.emplace_back(++number, line);
  }
  Interpreter interpreter(scenario.world, scenario, std::move(lines));
  UIDSYNC_TRY(interpreter.run(&scenario.blocks));
  if (scenario.world.folders.count("INBOX") == 0) {
    return core::fail(core::Scope::fatal, scenario.origin + ": the scenario has no INBOX folder",
                      "add 'folder INBOX' (every IMAP server has one)");
  }
  // Dry-run the blocks in session order so their errors surface at load time.
  World scratch = scenario.world;
  auto order = scenario.blocks;
  std::stable_sort(order.begin(), order.end(),
                   [](const SessionBlock& a, const SessionBlock& b) { return a.session < b.session; });
  for (const auto& block : order) {
    UIDSYNC_TRY(apply_block(scratch, block, scenario));
  }
  return scenario;
}

core::Result<Scenario> load_scenario(const std::filesystem::path& path) {
  std::filesystem::path full = path;
  if (path.is_relative() && !std::filesystem::exists(path)) {
    full = std::filesystem::path(UIDSYNC_TEST_DATA_DIR) / "scenarios" / path;
  }
  std::ifstream in(full, std::ios::binary);
  if (!in) {
    return core::fail(core::Scope::fatal, "cannot read scenario file " + full.string(),
                      "check the path (relative names are looked up in tests/data/scenarios)");
  }
  std::stringstream content;
  content << in.rdbuf();
  return parse_scenario(content.str(), full.filename().string(), full.parent_path());
}

Scenario must_load_scenario(const std::filesystem::path& path) {
  auto scenario = load_scenario(path);
  if (!scenario) {
    throw core::Failure(scenario.error());
  }
  return std::move(*scenario);
}

core::Result<void> apply_block(World& world, const SessionBlock& block, const Scenario& scenario) {
  Interpreter interpreter(world, scenario, block.lines);
  return interpreter.run(nullptr);
}

std::string generated_message(std::uint32_t uid, std::uint32_t uidvalidity, std::size_t size) {
  std::string out = "Message-ID: <" + std::to_string(uid) + "." + std::to_string(uidvalidity) +
                    "@fake.example>\r\n"
                    "From: Sender " +
                    std::to_string(uid) +
                    " <sender@example.org>\r\n"
                    "To: user@example.org\r\n"
                    "Subject: Message " +
                    std::to_string(uid) +
                    "\r\n"
                    "Date: Mon, 01 Jan 2024 00:00:00 +0000\r\n"
                    "\r\n";
  static constexpr std::string_view k_alphabet = "abcdefghijklmnopqrstuvwxyz      ";
  std::uint64_t state = (static_cast<std::uint64_t>(uid) << 32U) ^ uidvalidity ^ 0x9E3779B97F4A7C15ULL;
  const auto next_char = [&] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return k_alphabet[(state >> 33U) % k_alphabet.size()];
  };
  while (out.size() < size) {
    const std::size_t remaining = size - out.size();
    if (remaining == 1) {
      out += '.';
      break;
    }
    const std::size_t line = std::min<std::size_t>(72, remaining - 2);
    for (std::size_t i = 0; i < line; ++i) {
      out += next_char();
    }
    out += "\r\n";
  }
  return out;
}

std::string exchange_stub_header(const Fault& fault) {
  const std::string uid = std::to_string(fault.subject_uid != 0 ? fault.subject_uid : fault.uid);
  std::string subject;
  switch (fault.subject) {
  case StubSubject::plain:
    subject = "Subject: Retrieval using the IMAP4 protocol failed for the following message: " + uid + "\r\n";
    break;
  case StubSubject::folded:
    subject = "Subject: Retrieval using the IMAP4 protocol failed for the following\r\n message: " + uid + "\r\n";
    break;
  case StubSubject::encoded:
    subject = "Subject: =?utf-8?Q?Retrieval_using_the_IMAP4_protocol_failed_for_the_following_message:_" + uid +
              "?=\r\n";
    break;
  }
  return "From: Microsoft Exchange Server 2010\r\n"
         "To: user@example.org\r\n" +
         subject +
         "Date: Mon, 01 Jan 2024 00:00:00 +0000\r\n"
         "Content-Type: text/plain; charset=\"us-ascii\"\r\n"
         "\r\n";
}

std::string exchange_stub_message(const Fault& fault) {
  return exchange_stub_header(fault) +
         "The server couldn't retrieve the following message:\r\n"
         "\r\n"
         "Subject: \"Message " +
         std::to_string(fault.uid) +
         "\"\r\n"
         "From: \"Sender\" (\"sender@example.org\")\r\n"
         "Sent date: 1/1/2024 12:00:00 AM\r\n"
         "\r\n"
         "The message hasn't been deleted. You might be able to view it using either Outlook or "
         "Outlook Web App. You can also try contacting the sender to find out what the message says.\r\n";
}

core::Result<std::string> expand_raw_text(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '$' && text.substr(i, 9) == "${repeat:") {
      const auto colon = text.find(':', i + 9);
      const auto close = text.find('}', colon == std::string_view::npos ? i : colon);
      const auto count = colon == std::string_view::npos
                             ? std::nullopt
                             : parse_int<std::size_t>(text.substr(i + 9, colon - i - 9));
      if (!count || close == std::string_view::npos || *count > 64U * 1024U * 1024U) {
        return core::fail(core::Scope::fatal, "bad ${repeat:N:TEXT} (N up to 64 Mi)");
      }
      auto unit = expand_raw_text(text.substr(colon + 1, close - colon - 1));
      UIDSYNC_TRY(unit);
      out.reserve(out.size() + *count * unit->size());
      for (std::size_t k = 0; k < *count; ++k) {
        out += *unit;
      }
      i = close;
      continue;
    }
    if (c != '\\' || i + 1 >= text.size()) {
      out += c;
      continue;
    }
    const char e = text[++i];
    switch (e) {
    case 'r':
      out += '\r';
      break;
    case 'n':
      out += '\n';
      break;
    case 't':
      out += '\t';
      break;
    case '0':
      out += '\0';
      break;
    case '\\':
      out += '\\';
      break;
    case 'x': {
      const auto hex = i + 2 < text.size() ? text.substr(i + 1, 2) : std::string_view();
      unsigned value = 0;
      const auto [ptr, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), value, 16);
      if (hex.size() != 2 || ec != std::errc{} || ptr != hex.data() + 2) {
        return core::fail(core::Scope::fatal, "bad \\x escape: write two hex digits, like \\x00");
      }
      out += static_cast<char>(value);
      i += 2;
      break;
    }
    default:
      // Unknown escapes stay as written, so IMAP flags like \Seen need no doubling.
      out += '\\';
      out += e;
      break;
    }
  }
  return out;
}

} // namespace uidsync::test
