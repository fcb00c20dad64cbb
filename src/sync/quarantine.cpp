// SPDX-License-Identifier: GPL-3.0-or-later
// The poison-message quarantine: reasons, backoff, evidence files, the Exchange stub.
#include <uidsync/core/paths.hpp>
#include <uidsync/sync/executor.hpp>
#include <uidsync/sync/quarantine.hpp>
#include <uidsync/util/log.hpp>
#include <uidsync/util/redact.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <ctime>
#include <fstream>
#include <utility>

namespace uidsync::sync {

namespace {

struct ReasonText {
  Reason reason;
  std::string_view text;
  std::string_view advice;
};

constexpr std::array<ReasonText, 8> k_reasons{{
    {Reason::no_data, "no-data",
     "the server lists it but sends no content; ask the server's admins to repair the mailbox, "
     "or delete the message with 'uidsync quarantine expunge'"},
    {Reason::exchange_stub, "exchange-stub",
     "Exchange cannot read this message (its store is damaged); open it in Outlook or OWA, or "
     "ask the admins to repair the mailbox"},
    {Reason::refused, "refused",
     "the server refuses this message (NO); ask its admins, or retry with 'uidsync quarantine "
     "retry'"},
    {Reason::rejected, "rejected",
     "the server rejects the fetch of this message (BAD); ask its admins, or retry with "
     "'uidsync quarantine retry'"},
    {Reason::nil_body, "nil-body",
     "the server sends NIL as the content; ask its admins to repair the mailbox"},
    {Reason::size_mismatch, "size-mismatch",
     "the server sends a different number of bytes than it announced, so the copy cannot be "
     "trusted; ask its admins, or retry later"},
    {Reason::connection_dropped, "connection-dropped",
     "the server closed the connection while sending this message; it is retried later"},
    {Reason::timeout, "timeout",
     "the server never answered the fetch of this message; it is retried later"},
}};

const ReasonText& text_of(Reason reason) {
  return *std::find_if(k_reasons.begin(), k_reasons.end(),
                       [&](const ReasonText& r) { return r.reason == reason; });
}

char lower(char c) {
  return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

bool istarts_with(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), text.begin(),
                    [](char a, char b) { return lower(a) == lower(b); });
}

bool icontains(std::string_view text, std::string_view needle) {
  const auto it = std::search(text.begin(), text.end(), needle.begin(), needle.end(),
                              [](char a, char b) { return lower(a) == lower(b); });
  return it != text.end();
}

bool is_wsp(char c) {
  return c == ' ' || c == '\t';
}

// The header fields of `head`, unfolded (RFC 5322 §2.2.3): name -> value, first
// occurrence wins, names lower-cased. Stops at the empty line or the end of `head`.
std::map<std::string, std::string> header_fields(std::string_view head) {
  std::vector<std::string> lines;
  while (!head.empty()) {
    const auto nl = head.find('\n');
    auto line = head.substr(0, nl);
    head.remove_prefix(nl == std::string_view::npos ? head.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (line.empty()) {
      break;
    }
    if (is_wsp(line.front()) && !lines.empty()) {
      lines.back() += std::string(line);
    } else {
      lines.emplace_back(line);
    }
  }
  std::map<std::string, std::string> out;
  for (const auto& l : lines) {
    const auto colon = l.find(':');
    if (colon == std::string::npos) {
      continue;
    }
    std::string name;
    for (const char c : l.substr(0, colon)) {
      name += lower(c);
    }
    out.emplace(std::move(name), l.substr(colon + 1));
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  c = lower(c);
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

std::optional<std::string> decode_b(std::string_view text) {
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (const char c : text) {
    int v = -1;
    if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      v = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      v = c - '0' + 52;
    } else if (c == '+') {
      v = 62;
    } else if (c == '/') {
      v = 63;
    } else if (c == '=') {
      break;
    } else {
      return std::nullopt;
    }
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xffU);
    }
  }
  return out;
}

std::optional<std::string> decode_q(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '_') {
      out += ' ';
    } else if (text[i] == '=' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
               hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else if (text[i] == '=') {
      return std::nullopt;
    } else {
      out += text[i];
    }
  }
  return out;
}

// One RFC 2047 encoded word at the start of `text` ("=?cs?Q?..?="): its decoded
// text and length, or nullopt. The charset is not converted: the stub is ASCII.
std::optional<std::pair<std::string, std::size_t>> encoded_word(std::string_view text) {
  if (!text.starts_with("=?")) {
    return std::nullopt;
  }
  const auto q1 = text.find('?', 2);
  if (q1 == std::string_view::npos || q1 + 2 >= text.size() || text[q1 + 2] != '?') {
    return std::nullopt;
  }
  const auto end = text.find("?=", q1 + 3);
  if (end == std::string_view::npos) {
    return std::nullopt;
  }
  const auto payload = text.substr(q1 + 3, end - q1 - 3);
  const char encoding = lower(text[q1 + 1]);
  auto decoded =
      encoding == 'b' ? decode_b(payload) : (encoding == 'q' ? decode_q(payload) : std::nullopt);
  if (!decoded) {
    return std::nullopt;
  }
  return std::pair{std::move(*decoded), end + 2};
}

// Decodes the encoded words of an unstructured field (whitespace between two
// encoded words is dropped, RFC 2047 §6.2) and collapses whitespace runs.
std::string decode_unstructured(std::string_view value) {
  std::string decoded;
  std::string pending_space;
  bool last_encoded = false;
  while (!value.empty()) {
    if (is_wsp(value.front())) {
      pending_space += value.front();
      value.remove_prefix(1);
      continue;
    }
    if (auto word = encoded_word(value)) {
      if (!last_encoded) {
        decoded += pending_space;
      }
      decoded += word->first;
      value.remove_prefix(word->second);
      last_encoded = true;
    } else {
      decoded += pending_space;
      decoded += value.front();
      value.remove_prefix(1);
      last_encoded = false;
    }
    pending_space.clear();
  }
  std::string out;
  for (const char c : decoded) {
    if (is_wsp(c) || c == '\r' || c == '\n') {
      if (!out.empty() && out.back() != ' ') {
        out += ' ';
      }
    } else {
      out += c;
    }
  }
  while (!out.empty() && out.back() == ' ') {
    out.pop_back();
  }
  return out;
}

std::string escape_component(std::string_view name) {
  std::string out;
  for (const char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) != 0 || c == '.' || c == '_' || c == '-') {
      out += c;
    } else {
      out += fmt::format("%{:02X}", u);
    }
  }
  // "", "." and ".." must not be path components.
  if (out.empty() || out.front() == '.') {
    out = "%2E" + (out.empty() ? out : out.substr(1));
  }
  return out;
}

} // namespace

std::string_view to_string(Reason reason) {
  return text_of(reason).text;
}

std::string utc_time(std::int64_t seconds) {
  if (seconds == 0) {
    return "-";
  }
  const auto t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  std::array<char, 32> buf{};
  std::strftime(buf.data(), buf.size(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf.data();
}

std::string_view advice(Reason reason) {
  return text_of(reason).advice;
}

std::optional<Reason> parse_reason(std::string_view text) {
  for (const auto& r : k_reasons) {
    if (r.text == text) {
      return r.reason;
    }
  }
  return std::nullopt;
}

std::chrono::seconds backoff_after(const core::QuarantinePolicy& policy, int tries) {
  if (policy.backoff.empty()) {
    return std::chrono::hours(1);
  }
  const auto index = static_cast<std::size_t>(std::max(tries, 1) - 1);
  return policy.backoff[std::min(index, policy.backoff.size() - 1)];
}

std::optional<core::Uid> exchange_stub_uid(std::string_view head) {
  // Exchange 2010/2013 answer BODY[] of a message their store cannot convert with
  // no data, and BODY[HEADER] (or, on some builds, BODY[] too) with this stub. It
  // breaks RFC 3501 §6.4.5: FETCH must return the message, not a substitute.
  static constexpr std::string_view k_subject =
      "Retrieval using the IMAP4 protocol failed for the following message:";
  const auto fields = header_fields(head);
  const auto from = fields.find("from");
  const auto subject = fields.find("subject");
  if (from == fields.end() || subject == fields.end() ||
      !icontains(from->second, "Microsoft Exchange")) {
    return std::nullopt;
  }
  const auto text = decode_unstructured(subject->second);
  if (!istarts_with(text, k_subject)) {
    return std::nullopt;
  }
  std::string_view rest = std::string_view(text).substr(k_subject.size());
  while (!rest.empty() && rest.front() == ' ') {
    rest.remove_prefix(1);
  }
  std::uint64_t uid = 0;
  std::size_t digits = 0;
  while (digits < rest.size() && digits < 10 &&
         std::isdigit(static_cast<unsigned char>(rest[digits])) != 0) {
    uid = uid * 10 + static_cast<std::uint64_t>(rest[digits] - '0');
    ++digits;
  }
  if (digits == 0 || uid > 0xffffffffULL) {
    return core::Uid{0};
  }
  return static_cast<core::Uid>(uid);
}

std::filesystem::path evidence_dir(const std::filesystem::path& state_dir,
                                   std::string_view account) {
  return state_dir / "evidence" / escape_component(account);
}

std::filesystem::path evidence_file(const std::filesystem::path& dir, std::string_view folder,
                                    core::UidValidity uidvalidity, core::Uid uid) {
  return dir / escape_component(folder) / fmt::format("{}-{}.txt", uidvalidity, uid);
}

core::Result<Quarantine> Quarantine::load(state::Db& db, const state::FolderRow& folder,
                                          Options options, Stats& stats) {
  if (options.now == 0) {
    options.now = static_cast<std::int64_t>(std::time(nullptr));
  }
  Quarantine q(db, folder, std::move(options), stats);
  auto rows = db.quarantine(folder.id);
  UIDSYNC_TRY(rows);
  for (auto& r : *rows) {
    if (r.uidvalidity == folder.uidvalidity) {
      q.m_rows[r.uid] = std::move(r);
    }
  }
  return q;
}

bool Quarantine::waiting(core::Uid uid) const {
  const auto it = m_rows.find(uid);
  if (it == m_rows.end()) {
    return false;
  }
  return it->second.state == state::QuarantineState::forgotten ||
         (it->second.state == state::QuarantineState::active &&
          it->second.next_try > m_options.now);
}

bool Quarantine::due(core::Uid uid) const {
  const auto it = m_rows.find(uid);
  return it != m_rows.end() && it->second.state == state::QuarantineState::active &&
         it->second.next_try <= m_options.now;
}

std::string Quarantine::where(core::Uid uid) const {
  return fmt::format("account {}, folder {}, UID {}", m_options.account, m_folder->name, uid);
}

std::string Quarantine::write_evidence(core::Uid uid, const std::string& title,
                                       const std::vector<std::string>& lines) const {
  if (m_options.evidence_dir.empty()) {
    return {};
  }
  const auto path =
      evidence_file(m_options.evidence_dir, m_folder->name, m_folder->uidvalidity, uid);
  auto dir = core::ensure_private_dir(path.parent_path());
  if (!dir) {
    util::logger("sync")->warn("{}: no evidence file: {}", where(uid), dir.error().what());
    return {};
  }
  const bool fresh = !std::filesystem::exists(path);
  std::ofstream out(path, std::ios::app);
  if (fresh) {
    std::filesystem::permissions(path, std::filesystem::perms::owner_read |
                                           std::filesystem::perms::owner_write);
    out << "# uidsync quarantine evidence: " << where(uid) << ", UIDVALIDITY "
        << m_folder->uidvalidity << "\n# Protocol lines as uidsync saw them, secrets masked; "
        << "message bodies are left out.\n";
  }
  out << "\n# " << utc_time(m_options.now) << ' ' << title << '\n';
  for (const auto& line : lines) {
    out << util::redact_line(line) << '\n';
  }
  out.flush();
  if (!out) {
    util::logger("sync")->warn("{}: cannot write the evidence file {}", where(uid), path.string());
    return {};
  }
  return path.string();
}

core::Result<void> Quarantine::record(core::Uid uid, Reason reason, const std::string& detail,
                                      const std::vector<std::string>& evidence, bool announce) {
  state::QuarantineRow row;
  const auto it = m_rows.find(uid);
  const bool known = it != m_rows.end() && it->second.state == state::QuarantineState::active &&
                     it->second.tries > 0;
  if (it != m_rows.end()) {
    row = it->second;
  } else {
    row.folder_id = m_folder->id;
    row.uidvalidity = m_folder->uidvalidity;
    row.uid = uid;
  }
  if (!known) {
    // New, a suspect, or released earlier and failing again: a fresh history.
    row.first_seen = m_options.now;
    row.tries = 0;
  }
  row.state = state::QuarantineState::active;
  row.reason = std::string(to_string(reason));
  row.detail = detail;
  row.tries += 1;
  row.last_try = m_options.now;
  row.next_try = m_options.now + backoff_after(m_options.policy, row.tries).count();
  if (auto path =
          write_evidence(uid, fmt::format("try {}: {}", row.tries, to_string(reason)), evidence);
      !path.empty()) {
    row.evidence = std::move(path);
  }
  UIDSYNC_TRY(m_db->put_quarantine(row));
  const auto tries = row.tries;
  const auto next_try = row.next_try;
  m_rows[uid] = std::move(row);
  if (!known) {
    ++m_stats->quarantined;
    m_unannounced.insert(uid);
    if (announce) {
      this->announce(uid);
    }
  } else {
    util::logger("sync")->info("{}: still quarantined after try {} ({}); next try at {}",
                               where(uid), tries, to_string(reason), utc_time(next_try));
  }
  return {};
}

core::Result<void> Quarantine::amend(core::Uid uid, Reason reason, const std::string& detail,
                                     const std::vector<std::string>& evidence) {
  const auto it = m_rows.find(uid);
  if (it == m_rows.end()) {
    return {};
  }
  auto row = it->second;
  row.reason = std::string(to_string(reason));
  row.detail = detail;
  if (auto path = write_evidence(uid, fmt::format("try {}, continued: {}", row.tries, row.reason),
                                 evidence);
      !path.empty()) {
    row.evidence = std::move(path);
  }
  UIDSYNC_TRY(m_db->put_quarantine(row));
  it->second = std::move(row);
  return {};
}

void Quarantine::announce(core::Uid uid) {
  if (m_unannounced.erase(uid) == 0) {
    return;
  }
  const auto& row = m_rows.at(uid);
  const auto reason = parse_reason(row.reason).value_or(Reason::no_data);
  util::logger("sync")->warn("{}: quarantined ({}: {}); the rest of the folder goes on. {}",
                             where(uid), row.reason, row.detail, advice(reason));
}

core::Result<void> Quarantine::suspect(core::Uid uid, const std::string& detail) {
  if (const auto it = m_rows.find(uid);
      it != m_rows.end() && it->second.state == state::QuarantineState::active) {
    return {};
  }
  state::QuarantineRow row;
  row.folder_id = m_folder->id;
  row.uidvalidity = m_folder->uidvalidity;
  row.uid = uid;
  row.reason = std::string(to_string(Reason::timeout));
  row.detail = detail;
  row.first_seen = m_options.now;
  row.last_try = m_options.now;
  row.tries = 0;
  row.next_try = 0;
  UIDSYNC_TRY(m_db->put_quarantine(row));
  m_rows[uid] = std::move(row);
  return {};
}

core::Result<void> Quarantine::release(core::Uid uid, bool gone) {
  const auto it = m_rows.find(uid);
  if (it == m_rows.end() || it->second.state == state::QuarantineState::released) {
    return {};
  }
  if (it->second.tries == 0) {
    UIDSYNC_TRY(m_db->delete_quarantine(m_folder->id, m_folder->uidvalidity, uid));
    m_rows.erase(it);
    return {};
  }
  auto row = it->second;
  row.state = state::QuarantineState::released;
  row.last_try = m_options.now;
  row.next_try = 0;
  row.detail = gone ? "released: the server no longer lists it"
                    : "released: delivered after " + std::to_string(row.tries) + " failed tries";
  UIDSYNC_TRY(m_db->put_quarantine(row));
  ++m_stats->released;
  util::logger("sync")->info("{}: {}", where(uid), row.detail);
  it->second = std::move(row);
  return {};
}

} // namespace uidsync::sync
