// SPDX-License-Identifier: GPL-3.0-or-later
// `uidsync sync` with several connections per account against a real Dovecot:
// every message arrives exactly once whatever the pool size, the logins are the
// pool's size (Dovecot's own log says so), --json parses and its counts match,
// `status` reads the state DB, post_sync_cmd runs after a good sync and its
// failure exits 1, local-only folders are created on the server (never in pull
// mode), and a folder the server deleted is kept locally and reported.
#include "support/dovecot.hpp"
#include "support/sync_cli.hpp"
#include "support/table.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace uidsync::test {
namespace {

namespace fs = std::filesystem;

// How many IMAP logins Dovecot's log records so far.
int dovecot_logins(const Dovecot& dovecot) {
  std::ifstream in(dovecot.dir() / "log" / "dovecot.log");
  int n = 0;
  std::string line;
  while (std::getline(in, line)) {
    // "… imap-login: Info: Login: user=<…>, method=PLAIN, …"
    if (line.find("imap-login: ") != std::string::npos &&
        line.find(" Login: user=<") != std::string::npos) {
      ++n;
    }
  }
  return n;
}

// Runs a Python expression on the JSON document `json` (bound to `d`) and
// returns what it prints: the document is read by a real JSON parser.
std::string query_json(const fs::path& dir, const std::string& json, const std::string& expr) {
  write_file(dir / "doc.json", json);
  const auto r = run_command(
      {"python3", "-c", "import json,sys\nd=json.load(open(sys.argv[1]))\nprint(" + expr + ")",
       (dir / "doc.json").string()});
  EXPECT_EQ(r.status, 0) << r.output << "\n" << json;
  return r.output;
}

// The distinct connection numbers ("[n] ") of a --trace transcript.
std::set<std::string> trace_connections(const fs::path& trace) {
  std::set<std::string> out;
  std::istringstream lines(read_file(trace));
  std::string line;
  while (std::getline(lines, line)) {
    EXPECT_EQ(line.front(), '[') << line;
    out.insert(line.substr(0, line.find(']') + 1));
  }
  return out;
}

class SyncPoolBase : public DovecotSuite {
protected:
  void SetUp() override {
    DovecotSuite::SetUp();
    write_sync_config(m_dir, *s_dovecot, m_extra_config);
  }

  // Writes the config again with `extra` lines in the account.
  void reconfigure(const std::string& extra) { write_sync_config(m_dir, *s_dovecot, extra); }

  std::string doveadm_list() {
    return s_dovecot->doveadm({"mailbox", "list", "-u", s_dovecot->user()});
  }

  TempDir m_temp;
  fs::path m_dir = m_temp.path();
  std::string m_extra_config;
};

struct PoolRow {
  std::string name;
  std::string prefix;            // the row's own folders: <prefix>/a … <prefix>/f
  std::string config;            // extra account lines
  std::vector<std::string> args; // extra sync arguments
  int logins;                    // connections the run must make
};

void PrintTo(const PoolRow& row, std::ostream* os) {
  *os << row.name;
}

const std::vector<PoolRow> k_pool_rows{
    {"max_connections_4", "PoolFour", "max_connections = 4\n", {}, 4},
    {"jobs_1_overrides_the_config", "PoolOne", "max_connections = 4\n", {"-j", "1"}, 1},
    {"jobs_3", "PoolThree", "max_connections = 1\n", {"-j", "3"}, 3},
};

class SyncPool : public SyncPoolBase, public ::testing::WithParamInterface<PoolRow> {};

TEST_P(SyncPool, SixFoldersEachMessageExactlyOnce) {
  const auto& row = GetParam();
  reconfigure(row.config);
  std::map<std::string, std::map<std::string, std::string>> sent; // folder -> id -> text
  for (const char* leaf : {"a", "b", "c", "d", "e", "f"}) {
    const std::string folder = row.prefix + "/" + leaf;
    std::vector<std::string> msgs;
    for (int i = 0; i < 5; ++i) {
      const std::string id = row.prefix + leaf + std::to_string(i);
      // One big message per folder: above the parser's inline limit, it streams.
      sent[folder][id] = message(id, i == 0 ? 150 * 1024 : 0);
      msgs.push_back(sent[folder][id]);
    }
    s_dovecot->fill(folder, msgs);
  }
  const int logins_before = dovecot_logins(*s_dovecot);
  std::vector<std::string> args{"--json",          "sync",    "-f",
                                row.prefix + "/*", "--trace", (m_dir / "trace").string()};
  args.insert(args.end(), row.args.begin(), row.args.end());
  const auto r = run_uidsync(m_dir, args);
  ASSERT_EQ(r.exit_status, 0) << r.out << r.err;
  EXPECT_EQ(r.err, "") << "a good run under cron prints nothing on stderr";

  for (const auto& [folder, ids] : sent) {
    const auto files = local_files(m_dir / "Mail" / fs::path(folder));
    EXPECT_EQ(files.size(), ids.size()) << folder;
    for (const auto& [id, text] : ids) {
      const auto name = file_with(files, id);
      ASSERT_FALSE(name.empty()) << id << " missing in " << folder;
      EXPECT_EQ(files.at(name), crlf(text)) << name;
    }
  }
  EXPECT_EQ(dovecot_logins(*s_dovecot) - logins_before, row.logins) << s_dovecot->log_tail();
  EXPECT_EQ(trace_connections(m_dir / "trace").size(), static_cast<std::size_t>(row.logins));

  // --json: one document; its counts are what arrived.
  EXPECT_EQ(query_json(m_dir, r.out,
                       "d['exit_code'], len(d['accounts']), d['accounts'][0]['ok'], "
                       "d['accounts'][0]['connections'], d['accounts'][0]['totals']['fetched'], "
                       "[(f['name'], f['fetched'], f['error']) for f in "
                       "d['accounts'][0]['folders']]"),
            "0 1 True " + std::to_string(row.logins) + " 30 [('" + row.prefix +
                "/a', 5, None), ('" + row.prefix + "/b', 5, None), ('" + row.prefix +
                "/c', 5, None), ('" + row.prefix + "/d', 5, None), ('" + row.prefix +
                "/e', 5, None), ('" + row.prefix + "/f', 5, None)]\n");
  EXPECT_EQ(query_json(m_dir, r.out, "d['accounts'][0]['totals']['bytes'] > 150 * 1024"), "True\n");

  // A second run fetches nothing.
  const auto again = run_uidsync(m_dir, {"--json", "sync", "-f", row.prefix + "/*"});
  ASSERT_EQ(again.exit_status, 0) << again.out << again.err;
  EXPECT_EQ(query_json(m_dir, again.out, "d['accounts'][0]['totals']['fetched']"), "0\n");
}

INSTANTIATE_TEST_SUITE_P(Rows, SyncPool, ::testing::ValuesIn(k_pool_rows), RowName{});

class SyncPoolCli : public SyncPoolBase {};

TEST_F(SyncPoolCli, StatusReadsTheStateDbOnly) {
  const auto never = run_uidsync(m_dir, {"status"});
  EXPECT_EQ(never.exit_status, 0) << never.err;
  EXPECT_EQ(never.out, "account demo: never synced\n");
  EXPECT_FALSE(fs::exists(m_dir / "state" / "demo.db")) << "status must not create the DB";

  s_dovecot->fill("Stat/one", {message("st1"), message("st2")});
  s_dovecot->fill("Stat/two", {message("st3")});
  ASSERT_EQ(run_uidsync(m_dir, {"sync", "-f", "Stat/*"}).exit_status, 0);

  const auto text = run_uidsync(m_dir, {"status"});
  EXPECT_EQ(text.exit_status, 0) << text.err;
  EXPECT_NE(text.out.find("account demo: 2 folders, 3 messages, last sync 20"), std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find(", 0 quarantined, 0 anomalies\n"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("  Stat/one: 2 messages, last sync 20"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("    -> " + (m_dir / "Mail" / "Stat" / "one").string() + "\n"),
            std::string::npos)
      << text.out;
  EXPECT_EQ(text.out.find("never"), std::string::npos) << text.out;

  const auto json = run_uidsync(m_dir, {"status", "--json"});
  EXPECT_EQ(json.exit_status, 0) << json.err;
  EXPECT_EQ(query_json(m_dir, json.out,
                       "d['accounts'][0]['synced'], d['accounts'][0]['totals']['messages'], "
                       "[(f['name'], f['messages'], f['last_sync'] > 0, f['quarantined'], "
                       "f['anomalies']) for f in d['accounts'][0]['folders']]"),
            "True 3 [('Stat/one', 2, True, 0, 0), ('Stat/two', 1, True, 0, 0)]\n");
}

struct HookRow {
  std::string name;
  std::string script;            // post_sync_cmd = ["sh", "-c", script]; {dir} = the test dir
  std::vector<std::string> args; // extra sync arguments
  int exit_code;
  std::string file_content; // of {dir}/hook.out; "" = must not exist
  std::string err;          // substring of stderr ("" = stderr empty)
};

void PrintTo(const HookRow& row, std::ostream* os) {
  *os << row.name;
}

const std::vector<HookRow> k_hook_rows{
    {"runs_after_success_with_account_env",
     "echo $UIDSYNC_ACCOUNT > {dir}/hook.out",
     {},
     0,
     "demo\n",
     ""},
    {"failure_exits_1_naming_command_and_status",
     "echo ran > {dir}/hook.out; echo 'index is locked' >&2; echo more >&2; exit 4",
     {},
     1,
     "ran\n",
     "exited with status 4: index is locked\n"},
    {"not_run_for_dry_run", "echo ran > {dir}/hook.out", {"--dry-run"}, 0, "", ""},
};

class SyncPoolHook : public SyncPoolBase, public ::testing::WithParamInterface<HookRow> {};

TEST_P(SyncPoolHook, PostSyncCmd) {
  const auto& row = GetParam();
  std::string script = row.script;
  for (auto pos = script.find("{dir}"); pos != std::string::npos; pos = script.find("{dir}")) {
    script.replace(pos, 5, m_dir.string());
  }
  reconfigure("post_sync_cmd = [\"sh\", \"-c\", \"" + script + "\"]\n");
  s_dovecot->fill("Hook/" + row.name, {message("hook-" + row.name)});
  std::vector<std::string> args{"sync", "-f", "Hook/" + row.name};
  args.insert(args.end(), row.args.begin(), row.args.end());
  const auto run = run_uidsync(m_dir, args);
  EXPECT_EQ(run.exit_status, row.exit_code) << run.out << run.err;
  if (row.file_content.empty()) {
    EXPECT_FALSE(fs::exists(m_dir / "hook.out"));
  } else {
    EXPECT_EQ(read_file(m_dir / "hook.out"), row.file_content);
  }
  if (row.err.empty()) {
    EXPECT_EQ(run.err, "");
  } else {
    EXPECT_NE(run.err.find("uidsync: account demo: post_sync_cmd `sh -c"), std::string::npos)
        << run.err;
    EXPECT_NE(run.err.find(row.err), std::string::npos) << run.err;
  }
}

INSTANTIATE_TEST_SUITE_P(Rows, SyncPoolHook, ::testing::ValuesIn(k_hook_rows), RowName{});

struct CreateRow {
  std::string name;
  std::string config; // extra account lines
  bool created;
};

void PrintTo(const CreateRow& row, std::ostream* os) {
  *os << row.name;
}

const std::vector<CreateRow> k_create_rows{
    {"two_way_creates", "", true},
    {"pull_never_creates", "direction = \"pull\"\n", false},
};

class SyncPoolCreate : public SyncPoolBase, public ::testing::WithParamInterface<CreateRow> {};

TEST_P(SyncPoolCreate, LocalOnlyFolderOnTheServer) {
  const auto& row = GetParam();
  reconfigure(row.config);
  const std::string folder = "Made/" + row.name + "/Entwürfe";
  for (const char* sub : {"cur", "new", "tmp"}) {
    fs::create_directories(m_dir / "Mail" / fs::path(folder) / sub);
  }
  const auto r = run_uidsync(m_dir, {"--json", "sync", "-f", "Made/" + row.name + "/*"});
  ASSERT_EQ(r.exit_status, 0) << r.out << r.err;
  const auto listed = doveadm_list();
  EXPECT_EQ(listed.find(folder + "\n") != std::string::npos, row.created) << listed;
  EXPECT_EQ(query_json(m_dir, r.out,
                       "[(f['name'], f['created_on_server'], f['error']) for f in "
                       "d['accounts'][0]['folders']]"),
            row.created ? "[('" + folder + "', True, None)]\n" : "[]\n");
  if (row.created) {
    // Now known on both sides: the next run neither creates nor warns.
    const auto again = run_uidsync(m_dir, {"--json", "sync", "-f", "Made/" + row.name + "/*"});
    ASSERT_EQ(again.exit_status, 0) << again.out << again.err;
    EXPECT_EQ(query_json(m_dir, again.out,
                         "[(f['name'], f['created_on_server']) for f in "
                         "d['accounts'][0]['folders']], d['accounts'][0]['warnings']"),
              "[('" + folder + "', False)] []\n");
  }
}

INSTANTIATE_TEST_SUITE_P(Rows, SyncPoolCreate, ::testing::ValuesIn(k_create_rows), RowName{});

TEST_F(SyncPoolCli, FolderDeletedOnTheServerIsKeptAndReported) {
  s_dovecot->fill("Gone/box", {message("gone1"), message("gone2")});
  ASSERT_EQ(run_uidsync(m_dir, {"sync", "-f", "Gone/*"}).exit_status, 0);
  const auto dir = m_dir / "Mail" / "Gone" / "box";
  const auto before = local_files(dir);
  ASSERT_EQ(before.size(), 2u);
  s_dovecot->doveadm({"mailbox", "delete", "-u", s_dovecot->user(), "Gone/box"});

  const auto r = run_uidsync(m_dir, {"sync", "-f", "Gone/*"});
  EXPECT_EQ(r.exit_status, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("uidsync: account demo: folder Gone/box was deleted on the server; its "
                       "local copy is kept at " +
                       dir.string()),
            std::string::npos)
      << r.err;
  EXPECT_EQ(local_files(dir), before) << "no local mail may be deleted";
  EXPECT_EQ(doveadm_list().find("Gone/box\n"), std::string::npos) << "and it is not recreated";
}

} // namespace
} // namespace uidsync::test
