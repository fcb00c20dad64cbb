// SPDX-License-Identifier: GPL-3.0-or-later
// uidsync doctor ACCOUNT [FOLDER…]: a read-only check of a server (EXAMINE only),
// ending in a summary a user can paste into a ticket for their mail admins.
#include <uidsync/cli/commands.hpp>
#include <uidsync/cli/connect.hpp>
#include <uidsync/core/exit_code.hpp>
#include <uidsync/core/paths.hpp>
#include <uidsync/imap/command.hpp>
#include <uidsync/imap/session.hpp>
#include <uidsync/state/db.hpp>
#include <uidsync/sync/anomaly.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <ctime>
#include <limits>
#include <map>
#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <vector>

namespace uidsync::cli {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Large BODY[] literals of the sample are counted, not kept.
class DiscardSink : public imap::BodySink {
public:
  void begin(std::uint32_t /*seq*/, std::string_view /*section*/, std::uint64_t /*size*/) override {
  }
  void chunk(std::string_view /*bytes*/) override {}
  void finish(const imap::Fetch& /*fetch*/) override {}
  void abort(std::string_view /*reason*/) override {}
};

// One sampled message: what its header and body fetches gave.
struct Sample {
  core::Uid uid = 0;
  bool quarantined = false;
  bool body_done = false;
  bool header_done = false;
  imap::Status status = imap::Status::ok; // of the body fetch
  std::string refusal;                    // the tagged NO/BAD text
  bool got_body = false;
  bool nil_body = false;
  std::uint64_t body_size = 0;
  std::uint64_t announced = 0; // RFC822.SIZE
  bool stub = false;
  std::string problem; // plain language; empty: fine
};

struct FolderReport {
  std::string name;
  std::string error; // EXAMINE or listing failed
  std::uint32_t exists = 0;
  std::size_t search_count = 0;
  core::Uid uidnext = 0;
  core::Uid highest = 0;
  std::vector<Sample> samples;
};

struct Report {
  std::string account;
  std::string peer;
  std::string greeting;
  std::string id;
  net::CurlTransport::TlsInfo tls;
  std::vector<std::string> auth;
  std::vector<std::string> capabilities;
  double round_trip_ms = 0;
  std::vector<FolderReport> folders;
  std::vector<std::string> on_record; // anomalies and quarantines, one line each
  std::vector<std::string> summary;
  fs::path transcript;
};

std::string upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return text;
}

// AUTH=… tokens of the greeting's and the session's capability lists.
std::vector<std::string> auth_mechanisms(const std::string& greeting,
                                         const std::set<std::string>& capabilities) {
  std::set<std::string> out;
  std::string word;
  const auto take = [&](const std::string& w) {
    auto u = upper(w);
    while (!u.empty() && (u.back() == ']' || u.back() == ')')) {
      u.pop_back();
    }
    if (u.rfind("AUTH=", 0) == 0) {
      out.insert(u.substr(5));
    }
  };
  for (const char c : greeting + " ") {
    if (c == ' ') {
      take(word);
      word.clear();
    } else {
      word += c;
    }
  }
  for (const auto& c : capabilities) {
    take(c);
  }
  return {out.begin(), out.end()};
}

std::string describe_problem(const Sample& s) {
  if (s.status == imap::Status::bye) {
    return "the connection ended while it was fetched";
  }
  if (s.status != imap::Status::ok) {
    return fmt::format("the server refuses to send it ({} {})", imap::to_string(s.status),
                       s.refusal);
  }
  if (s.nil_body) {
    return "the server sends NIL instead of its content";
  }
  if (!s.got_body) {
    return s.stub ? "the server returns no data for it, and its header is Microsoft Exchange's "
                    "stub \"Retrieval using the IMAP4 protocol failed for the following "
                    "message\" instead of the message"
                  : "the server returns no data for it";
  }
  if (s.stub) {
    return "the server sends Microsoft Exchange's stub \"Retrieval using the IMAP4 protocol "
           "failed for the following message\" in place of the message";
  }
  if (s.body_size != s.announced) {
    return fmt::format("the server sends {} bytes but announces {} (RFC822.SIZE)", s.body_size,
                       s.announced);
  }
  return {};
}

class Doctor {
public:
  Doctor(const core::Account& account, const fs::path& state_dir, std::size_t sample_size)
      : m_account(account), m_state_dir(state_dir), m_sample_size(sample_size),
        m_timeout(std::chrono::duration_cast<std::chrono::milliseconds>(account.timeout)) {}

  core::Result<Report> run(const std::vector<std::string>& folder_names) {
    Report report;
    report.account = m_account.name;
    std::map<std::string, std::set<core::Uid>> quarantined;
    UIDSYNC_TRY(read_record(report, quarantined));

    char stamp[32] = {};
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    ::gmtime_r(&now, &tm);
    std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    report.transcript = m_state_dir / fmt::format("doctor-{}-{}.log", m_account.name, stamp);
    auto trace = open_trace(report.transcript);
    UIDSYNC_TRY(trace);

    auto transport = connect_account(m_account);
    UIDSYNC_TRY(transport);
    report.peer = (*transport)->peer();
    report.greeting = (*transport)->greeting();
    report.tls = (*transport)->tls_info();
    DiscardSink sink;
    imap::SessionOptions so;
    so.trace = &(*trace)->trace;
    so.body_sink = &sink;
    imap::Session session(**transport, so);
    UIDSYNC_TRY(session.refresh_capabilities(m_timeout));
    report.capabilities.assign(session.capabilities().begin(), session.capabilities().end());
    report.auth = auth_mechanisms(report.greeting, session.capabilities());
    if (session.has_capability("ID")) {
      auto id = imap::CommandBuilder("ID").raw("NIL").build();
      UIDSYNC_TRY(id);
      // "* ID (…)" is no data the session routes to a command.
      const auto capture = [&report](const imap::Response& r) {
        if (const auto* u = std::get_if<imap::Unknown>(&r.value); u != nullptr && u->name == "ID") {
          report.id = u->rest;
        }
      };
      session.on_unsolicited(capture);
      UIDSYNC_TRY(session.execute(*id, m_timeout, capture));
      session.on_unsolicited({});
    }
    auto noop = imap::CommandBuilder("NOOP").build();
    UIDSYNC_TRY(noop);
    const auto started = Clock::now();
    UIDSYNC_TRY(session.execute(*noop, m_timeout));
    report.round_trip_ms =
        std::chrono::duration<double, std::milli>(Clock::now() - started).count();

    for (const auto& name : folder_names) {
      FolderReport f;
      f.name = name;
      auto checked = check_folder(session, f, quarantined[name]);
      if (!checked) {
        if (checked.error().scope >= core::Scope::account) {
          f.error = checked.error().message;
          report.folders.push_back(std::move(f));
          break;
        }
        f.error = checked.error().message;
      }
      report.folders.push_back(std::move(f));
    }
    if (!session.closed()) {
      (void)session.logout(m_timeout);
    }
    summarise(report);
    return report;
  }

private:
  // The anomalies and active quarantines in the state DB, if there is one (never created).
  core::Result<void> read_record(Report& report,
                                 std::map<std::string, std::set<core::Uid>>& quarantined) {
    const auto path = m_state_dir / (m_account.name + ".db");
    if (!fs::exists(path)) {
      return {};
    }
    auto db = state::Db::open(path);
    UIDSYNC_TRY(db);
    auto folders = db->folders();
    UIDSYNC_TRY(folders);
    static constexpr std::array<std::string_view, 5> k_kinds{
        "EXISTS mismatch", "UID reappeared", "UID reused", "bad UID", "UIDVALIDITY changed"};
    for (const auto& folder : *folders) {
      auto anomalies = db->anomalies(folder.id);
      UIDSYNC_TRY(anomalies);
      for (const auto& a : *anomalies) {
        report.on_record.push_back(
            fmt::format("anomaly in {}{}: {}: {}{}", folder.name,
                        a.uid == 0 ? std::string() : " UID " + std::to_string(a.uid),
                        k_kinds.at(static_cast<std::size_t>(a.kind)), a.detail,
                        a.resolved_at == 0 ? " (unresolved)" : " (resolved)"));
      }
      auto rows = db->quarantine(folder.id);
      UIDSYNC_TRY(rows);
      for (const auto& q : *rows) {
        if (q.state != state::QuarantineState::active) {
          continue;
        }
        report.on_record.push_back(fmt::format("quarantined in {}: UID {} ({}; {} tries)",
                                               folder.name, q.uid, q.reason, q.tries));
        if (q.uidvalidity == folder.uidvalidity) {
          quarantined[folder.name].insert(q.uid);
        }
      }
    }
    return {};
  }

  core::Result<void> check_folder(imap::Session& session, FolderReport& f,
                                  const std::set<core::Uid>& quarantined) {
    session.reset_mailbox();
    auto examine = imap::select_command(f.name, true, std::nullopt, false, session.literal_mode());
    UIDSYNC_TRY(examine);
    UIDSYNC_TRY(session.execute(*examine, m_timeout));
    f.exists = session.mailbox().exists;
    f.uidnext = static_cast<core::Uid>(std::min<std::uint64_t>(
        session.mailbox().uidnext.value_or(0), std::numeric_limits<core::Uid>::max()));
    std::vector<core::Uid> uids;
    auto search = imap::CommandBuilder("UID SEARCH").raw("ALL").build();
    UIDSYNC_TRY(search);
    UIDSYNC_TRY(session.execute(*search, m_timeout, [&](const imap::Response& r) {
      if (const auto* s = std::get_if<imap::Search>(&r.value)) {
        uids.insert(uids.end(), s->numbers.begin(), s->numbers.end());
      }
    }));
    std::sort(uids.begin(), uids.end());
    f.search_count = uids.size();
    f.highest = uids.empty() ? 0 : uids.back();

    std::set<core::Uid> sample(quarantined.begin(), quarantined.end());
    for (auto it = uids.rbegin();
         it != uids.rend() && sample.size() < m_sample_size + quarantined.size(); ++it) {
      sample.insert(*it);
    }
    for (const core::Uid uid : sample) {
      f.samples.push_back({});
      f.samples.back().uid = uid;
      f.samples.back().quarantined = quarantined.count(uid) != 0;
    }
    // One header and one body fetch per UID, so that one refused UID (Exchange's
    // tagged NO for the whole command) does not hide the others. Pipelined FETCH
    // data cannot be told apart by command: it goes to its sample by UID.
    std::map<core::Uid, Sample*> by_uid;
    for (auto& s : f.samples) {
      by_uid[s.uid] = &s;
    }
    const auto item = [&by_uid](const imap::Response& r) {
      const auto* fetch = std::get_if<imap::Fetch>(&r.value);
      const auto it = fetch == nullptr || !fetch->uid ? by_uid.end() : by_uid.find(*fetch->uid);
      if (it == by_uid.end()) {
        return;
      }
      Sample& s = *it->second;
      if (fetch->rfc822_size) {
        s.announced = *fetch->rfc822_size;
      }
      for (const auto& b : fetch->bodies) {
        if (b.section == "BODY[HEADER]") {
          s.stub = s.stub || (b.data && sync::is_exchange_stub(*b.data));
        } else if (b.section == "BODY[]") {
          s.nil_body = !b.data && !b.streamed;
          s.got_body = !s.nil_body;
          s.body_size = b.size;
          s.stub = s.stub || (b.data && sync::is_exchange_stub(b.data->substr(0, 4096)));
        }
      }
    };
    for (auto& s : f.samples) {
      auto header = imap::CommandBuilder("UID FETCH")
                        .number(s.uid)
                        .raw("(UID RFC822.SIZE BODY.PEEK[HEADER])")
                        .build();
      auto body = imap::CommandBuilder("UID FETCH").number(s.uid).raw("(UID BODY.PEEK[])").build();
      UIDSYNC_TRY(header);
      UIDSYNC_TRY(body);
      session.submit(
          std::move(*header), [&s](const imap::Tagged&) { s.header_done = true; }, item);
      session.submit(
          std::move(*body),
          [&s](const imap::Tagged& t) {
            s.body_done = true;
            s.status = t.status;
            s.refusal = t.text;
          },
          item);
    }
    auto done = session.run_until(
        [&] {
          return std::all_of(f.samples.begin(), f.samples.end(),
                             [](const Sample& s) { return s.header_done && s.body_done; });
        },
        m_timeout);
    for (auto& s : f.samples) {
      if (!s.body_done) {
        s.status = imap::Status::bye;
      }
      s.problem = describe_problem(s);
    }
    UIDSYNC_TRY(done);
    if (!*done) {
      return core::fail(core::Scope::account,
                        fmt::format("folder {}: the sample fetch got no answer within {} s", f.name,
                                    m_timeout.count() / 1000),
                        "the server hangs on one of the sampled messages; see the transcript");
    }
    return {};
  }

  static void summarise(Report& report) {
    for (const auto& f : report.folders) {
      if (!f.error.empty()) {
        report.summary.push_back(fmt::format("Checking {} failed: {}.", f.name, f.error));
      }
      if (f.error.empty() && f.exists != f.search_count) {
        report.summary.push_back(fmt::format(
            "The server says {} holds {} messages (EXISTS) but UID SEARCH ALL finds {}.", f.name,
            f.exists, f.search_count));
      }
      if (f.error.empty() && f.uidnext != 0 && f.highest >= f.uidnext) {
        report.summary.push_back(fmt::format(
            "In {}, the next UID the server announces (UIDNEXT {}) is not above its highest "
            "UID {}; RFC 3501 requires it to be.",
            f.name, f.uidnext, f.highest));
      }
      for (const auto& s : f.samples) {
        if (!s.problem.empty()) {
          report.summary.push_back(
              fmt::format("The server lists message UID {} in {} but {}.", s.uid, f.name,
                          s.problem.substr(s.problem.find("the server") == 0 ? 11 : 0)));
        }
      }
    }
    if (report.summary.empty()) {
      report.summary.push_back("No problem found: the server answered every check as the IMAP "
                               "standard (RFC 3501) requires.");
    }
  }

  const core::Account& m_account;
  fs::path m_state_dir;
  std::size_t m_sample_size; // the newest messages fetched per folder
  std::chrono::milliseconds m_timeout;
};

void print_text(std::ostream& out, const Report& r) {
  const auto join = [](const std::vector<std::string>& items) {
    std::string s;
    for (const auto& i : items) {
      s += (s.empty() ? "" : " ") + i;
    }
    return s.empty() ? std::string("(none)") : s;
  };
  out << "Account " << r.account << ": " << r.peer << '\n';
  out << "Greeting: " << r.greeting << '\n';
  out << "ID: " << (r.id.empty() ? "(not sent)" : r.id) << '\n';
  if (r.tls.version.empty()) {
    out << "TLS: none (plain IMAP)\n";
  } else {
    out << "TLS: " << r.tls.version << ", certificate " << r.tls.subject << ", issued by "
        << r.tls.issuer << ", expires " << r.tls.expires << '\n';
  }
  out << "Authentication mechanisms: " << join(r.auth) << '\n';
  out << "Capabilities: " << join(r.capabilities) << '\n';
  out << fmt::format("Round trip: {:.1f} ms (NOOP)\n", r.round_trip_ms);
  for (const auto& f : r.folders) {
    out << "Folder " << f.name << ":\n";
    if (!f.error.empty()) {
      out << "  check failed: " << f.error << '\n';
      continue;
    }
    out << "  EXISTS " << f.exists << ", UID SEARCH ALL " << f.search_count << ": "
        << (f.exists == f.search_count ? "consistent" : "MISMATCH") << '\n';
    out << "  UIDNEXT " << f.uidnext << ", highest UID " << f.highest << ": "
        << (f.uidnext == 0 || f.highest < f.uidnext ? "consistent" : "UIDNEXT TOO LOW") << '\n';
    const auto bad = std::count_if(f.samples.begin(), f.samples.end(),
                                   [](const Sample& s) { return !s.problem.empty(); });
    out << "  Sample fetch: " << f.samples.size() << " message(s), " << bad << " problem(s)\n";
    for (const auto& s : f.samples) {
      if (!s.problem.empty() || s.quarantined) {
        out << "  UID " << s.uid << (s.quarantined ? " (quarantined)" : "") << ": "
            << (s.problem.empty() ? "fetched fine now" : s.problem) << '\n';
      }
    }
  }
  out << "On record: " << r.on_record.size() << " entr" << (r.on_record.size() == 1 ? "y" : "ies")
      << '\n';
  for (const auto& line : r.on_record) {
    out << "  " << line << '\n';
  }
  out << "Summary for the mail server's administrators:\n";
  for (const auto& line : r.summary) {
    out << "  " << line << '\n';
  }
  out << "Transcript (passwords removed): " << r.transcript.string() << '\n';
}

void print_json(std::ostream& out, const Report& r) {
  const auto list = [](const std::vector<std::string>& items) {
    std::string s;
    for (const auto& i : items) {
      s += (s.empty() ? "" : ", ") + json_string(i);
    }
    return "[" + s + "]";
  };
  out << json_document_start() << "\"account\": " << json_string(r.account)
      << ", \"server\": " << json_string(r.peer) << ", \"greeting\": " << json_string(r.greeting)
      << ", \"id\": " << json_string(r.id)
      << ", \"tls\": {\"version\": " << json_string(r.tls.version)
      << ", \"subject\": " << json_string(r.tls.subject)
      << ", \"issuer\": " << json_string(r.tls.issuer)
      << ", \"expires\": " << json_string(r.tls.expires) << "}, \"auth\": " << list(r.auth)
      << ", \"capabilities\": " << list(r.capabilities)
      << fmt::format(", \"round_trip_ms\": {:.3f}", r.round_trip_ms) << ", \"folders\": [";
  bool first = true;
  for (const auto& f : r.folders) {
    out << (first ? "" : ", ") << "{\"name\": " << json_string(f.name)
        << ", \"error\": " << json_string(f.error) << ", \"exists\": " << f.exists
        << ", \"search_count\": " << f.search_count << ", \"uidnext\": " << f.uidnext
        << ", \"highest_uid\": " << f.highest << ", \"sample\": [";
    first = false;
    bool first_sample = true;
    for (const auto& s : f.samples) {
      out << (first_sample ? "" : ", ") << "{\"uid\": " << s.uid
          << ", \"quarantined\": " << (s.quarantined ? "true" : "false")
          << ", \"exchange_stub\": " << (s.stub ? "true" : "false")
          << ", \"problem\": " << json_string(s.problem) << "}";
      first_sample = false;
    }
    out << "]}";
  }
  out << "], \"on_record\": " << list(r.on_record) << ", \"summary\": " << list(r.summary)
      << ", \"transcript\": " << json_string(r.transcript.string()) << "}\n";
}

} // namespace

int cmd_doctor(const Context& ctx, const DoctorOptions& options) {
  auto loaded = ctx.load_accounts({options.account});
  if (!loaded) {
    return loaded.error();
  }
  auto state = ctx.private_state_dir(loaded->config);
  if (!state) {
    return state.error();
  }
  const auto& account = *loaded->accounts.front();
  const std::vector<std::string> folders =
      options.folders.empty() ? std::vector<std::string>{"INBOX"} : options.folders;
  Doctor doctor(account, *state, static_cast<std::size_t>(options.sample));
  auto report = doctor.run(folders);
  if (!report) {
    ctx.report({report.error().scope, "account " + account.name + ": " + report.error().message,
                report.error().hint});
    return core::to_int(core::ExitCode::failed);
  }
  if (ctx.options.json) {
    print_json(ctx.out, *report);
  } else {
    print_text(ctx.out, *report);
  }
  const bool clean =
      report->summary.size() == 1 && report->summary.front().rfind("No problem", 0) == 0;
  return core::to_int(clean ? core::ExitCode::ok : core::ExitCode::attention);
}

} // namespace uidsync::cli
