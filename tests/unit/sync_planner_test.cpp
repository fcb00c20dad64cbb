// SPDX-License-Identifier: GPL-3.0-or-later
// Planner tables, isync style. Every row runs four ways: once; re-run (nothing
// left to do); interrupted after every step and resumed; and with the state
// deleted after the first run (everything adopted, nothing downloaded again).
//
// Row grammar (see SyncWorld::parse): remote "1:S 2:F" is UID:flags with content
// "r<UID>"; local "a=1:S b=-:F c=1!:" is key=UID ('-' none, '!' other content,
// '~1' no ,U= but UID 1's content); state "1=a:S" is UID=key:flags. Options:
// "pull", "allow" (--allow-mass-delete), "nolocal" (local folder missing),
// "guard=COUNT/PERCENT". Expectations: the first plan's summary, and the final
// "content:flags" of each side ("=" for the local side: same as remote).
#include "support/sync_world.hpp"
#include "support/table.hpp"

#include <uidsync/sync/planner.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

namespace uidsync::sync {
namespace {

using test::SyncWorld;

struct Row {
  std::string name;
  std::string remote;
  std::string local;
  std::string state;
  std::string options;
  std::string plan;
  std::string final_remote;
  std::string final_local;
};

void PrintTo(const Row& row, std::ostream* os) { *os << row.name; }

// "#:S" for 1..3 → "1:S 2:S 3:S"
std::string seq(const std::string& pattern, int from, int to) {
  std::string out;
  for (int i = from; i <= to; ++i) {
    std::string item = pattern;
    for (auto pos = item.find('#'); pos != std::string::npos; pos = item.find('#')) {
      item.replace(pos, 1, std::to_string(i));
    }
    out += (out.empty() ? "" : " ") + item;
  }
  return out;
}

PlanOptions parse_options(const std::string& text) {
  PlanOptions o;
  std::istringstream in(text);
  for (std::string w; in >> w;) {
    if (w == "pull") {
      o.direction = Direction::pull;
    } else if (w == "allow") {
      o.allow_mass_delete = true;
    } else if (w == "nolocal") {
      o.local_folder_exists = false;
    } else if (w.rfind("guard=", 0) == 0) {
      const auto slash = w.find('/');
      o.guard_count = static_cast<unsigned>(std::stoul(w.substr(6, slash - 6)));
      o.guard_percent = static_cast<unsigned>(std::stoul(w.substr(slash + 1)));
    } else {
      throw std::invalid_argument("unknown option " + w);
    }
  }
  return o;
}

Plan plan_for(const SyncWorld& w, const PlanOptions& o) {
  PlanOptions opts = o;
  opts.local_folder_exists = o.local_folder_exists && w.local_exists;
  return plan_folder(w.remote_snapshot(), w.local_snapshot(), w.state_rows(), opts);
}

// Recovers, plans and applies fully. Returns the plan it applied.
Plan run_once(SyncWorld& w, const PlanOptions& o) {
  w.recover();
  Plan p = plan_for(w, o);
  int steps = 0;
  EXPECT_TRUE(w.execute(p, -1, steps));
  return p;
}

// The words of `text`, sorted like SyncWorld's text forms.
std::string sorted_words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> items;
  for (std::string w; in >> w;) {
    items.push_back(w);
  }
  std::sort(items.begin(), items.end());
  std::string out;
  for (const auto& i : items) {
    out += (out.empty() ? "" : " ") + i;
  }
  return out;
}

void expect_final(const Row& row, const SyncWorld& w, const std::string& when) {
  EXPECT_EQ(w.remote_text(), sorted_words(row.final_remote)) << when;
  EXPECT_EQ(w.local_text(),
            sorted_words(row.final_local == "=" ? row.final_remote : row.final_local))
      << when;
}

// The world after a full run agrees with its state: every state row names a UID
// on the server (or a held/pull deletion) and, when its file exists, that file
// carries the UID.
void expect_state_consistent(const SyncWorld& w, const std::string& when) {
  for (const auto& [uid, s] : w.state) {
    auto l = w.local.find(s.key);
    if (l != w.local.end()) {
      EXPECT_EQ(l->second.uid, uid) << when << ": file " << s.key;
      auto r = w.remote.find(uid);
      if (r != w.remote.end()) {
        EXPECT_EQ(r->second.content, l->second.content) << when << ": UID " << uid;
      }
    }
  }
  EXPECT_TRUE(w.pending_appends.empty()) << when;
}

const Row k_rows[] = {
    // name, remote, local, state, options, first plan, final remote, final local
    {"empty", "", "", "", "", "-", "", "="},
    {"new_remote_one", "1:", "", "", "", "fetch=1", "r1:", "="},
    {"new_remote_many", "1:S 2:F 3:", "", "", "", "fetch=3", "r1:S r2:F r3:", "="},
    {"new_remote_all_flags", "1:DFPRST", "", "", "", "fetch=1", "r1:DFPRST", "="},
    {"new_remote_uid_gap", "5: 9:S", "", "", "", "fetch=2", "r5: r9:S", "="},
    {"new_remote_fifty", seq("#:S", 1, 50), "", "", "", "fetch=50", seq("r#:S", 1, 50), "="},
    {"new_local_one", "", "a=-:S", "", "", "append=1", "la:S", "="},
    {"new_local_many", "", "a=-: b=-:F c=-:DS", "", "", "append=3", "la: lb:F lc:DS", "="},
    {"new_local_draft", "", "a=-:D", "", "", "append=1", "la:D", "="},
    {"new_both_sides", "1:S", "a=-:", "", "", "fetch=1 append=1", "la: r1:S", "="},
    {"new_both_sides_many", "1: 2:F", "a=-:S b=-:", "", "", "fetch=2 append=2",
     "la:S lb: r1: r2:F", "="},
    {"in_sync_one", "1:S", "a=1:S", "1=a:S", "", "-", "r1:S", "="},
    {"in_sync_many", "1:S 2:F 3:", "a=1:S b=2:F c=3:", "1=a:S 2=b:F 3=c:", "", "-",
     "r1:S r2:F r3:", "="},
    {"in_sync_fifty", seq("#:S", 1, 50), seq("k#=#:S", 1, 50), seq("#=k#:S", 1, 50), "", "-",
     seq("r#:S", 1, 50), "="},
    {"remote_adds_flag", "1:FS", "a=1:S", "1=a:S", "", "lflags=1 sflags=1", "r1:FS", "="},
    {"remote_removes_flag", "1:", "a=1:S", "1=a:S", "", "lflags=1 sflags=1", "r1:", "="},
    {"remote_sets_deleted", "1:T", "a=1:", "1=a:", "", "lflags=1 sflags=1", "r1:T", "="},
    {"remote_marks_many_seen", seq("#:S", 1, 10), seq("k#=#:", 1, 10), seq("#=k#:", 1, 10), "",
     "lflags=10 sflags=10", seq("r#:S", 1, 10), "="},
    {"local_adds_flag", "1:S", "a=1:FS", "1=a:S", "", "rflags=1 sflags=1", "r1:FS", "="},
    {"local_removes_flag", "1:S", "a=1:", "1=a:S", "", "rflags=1 sflags=1", "r1:", "="},
    {"local_sets_trashed", "1:", "a=1:T", "1=a:", "", "rflags=1 sflags=1", "r1:T", "="},
    {"local_sets_passed", "1:", "a=1:P", "1=a:", "", "rflags=1 sflags=1", "r1:P", "="},
    {"local_marks_many_read", seq("#:", 1, 10), seq("k#=#:S", 1, 10), seq("#=k#:", 1, 10), "",
     "rflags=10 sflags=10", seq("r#:S", 1, 10), "="},
    {"both_add_same_flag", "1:FS", "a=1:FS", "1=a:S", "", "sflags=1", "r1:FS", "="},
    {"both_remove_same_flag", "1:S", "a=1:S", "1=a:FS", "", "sflags=1", "r1:S", "="},
    {"both_add_different_flags", "1:FS", "a=1:RS", "1=a:S", "", "rflags=1 lflags=1 sflags=1",
     "r1:FRS", "="},
    {"remote_removes_local_adds", "1:", "a=1:FS", "1=a:S", "", "rflags=1 lflags=1 sflags=1",
     "r1:F", "="},
    {"flags_change_on_some", "1:S 2:F 3:", "a=1:S b=2: c=3:R", "1=a:S 2=b: 3=c:", "",
     "rflags=1 lflags=1 sflags=2", "r1:S r2:F r3:R", "="},
    {"state_behind_both_agree", "1:S", "a=1:S", "1=a:", "", "sflags=1", "r1:S", "="},
    {"local_name_lacks_uid", "1:S", "a=~1:S", "1=a:S", "", "lflags=1", "r1:S", "="},
    {"remote_expunged", "", "a=1:S", "1=a:S", "", "ldel=1", "", "="},
    {"remote_expunged_some", "2: 3:", "a=1: b=2: c=3:", "1=a: 2=b: 3=c:", "", "ldel=1",
     "r2: r3:", "="},
    {"remote_expunged_local_flag_changed", "2:", "a=1:FS b=2:", "1=a:S 2=b:", "", "ldel=1", "r2:",
     "="},
    {"local_deleted", "1:S 2:", "b=2:", "1=a:S 2=b:", "", "rdel=1", "r2:", "="},
    {"local_deleted_remote_flag_changed", "1:FS 2:", "b=2:", "1=a:S 2=b:", "", "rdel=1", "r2:",
     "="},
    {"both_deleted", "", "", "1=a:S", "", "forget=1", "", "="},
    {"both_deleted_some", "2:", "b=2:", "1=a: 2=b:", "", "forget=1", "r2:", "="},
    {"new_remote_and_expunge", "2:", "a=1:", "1=a:", "", "fetch=1 ldel=1", "r2:", "="},
    {"mixed_everything", "1:S 2:F 4:", "a=1:FS c=3: d=-:", "1=a:S 2=b:F 3=c:", "",
     "fetch=1 rflags=1 ldel=1 rdel=1 append=1 sflags=1", "ld: r1:FS r4:", "="},
    // The mass-deletion guard.
    {"local_folder_empty_holds", "1:S 2:", "", "1=a:S 2=b:", "", "held_rdel=2", "r1:S r2:", ""},
    {"local_folder_missing_holds", "1:S 2:", "", "1=a:S 2=b:", "nolocal", "held_rdel=2",
     "r1:S r2:", ""},
    {"local_folder_missing_even_when_allowed", "1:S 2:", "", "1=a:S 2=b:", "nolocal allow",
     "held_rdel=2", "r1:S r2:", ""},
    {"remote_mass_expunge_held", "", seq("k#=#:", 1, 12), seq("#=k#:", 1, 12), "", "held_ldel=12",
     "", seq("r#:", 1, 12)},
    {"remote_mass_expunge_allowed", "", seq("k#=#:", 1, 12), seq("#=k#:", 1, 12), "allow",
     "ldel=12", "", "="},
    {"local_mass_delete_held", seq("#:", 1, 12), "k12=12:", seq("#=k#:", 1, 12), "",
     "held_rdel=11", seq("r#:", 1, 12), "r12:"},
    {"local_mass_delete_allowed", seq("#:", 1, 12), "k12=12:", seq("#=k#:", 1, 12), "allow",
     "rdel=11", "r12:", "="},
    {"guard_count_not_exceeded", "11: 12:", seq("k#=#:", 1, 12), seq("#=k#:", 1, 12), "",
     "ldel=10", "r11: r12:", "="},
    {"guard_percent_not_exceeded", seq("#:", 12, 100), seq("k#=#:", 1, 100),
     seq("#=k#:", 1, 100), "", "ldel=11", seq("r#:", 12, 100), "="},
    {"guard_custom_threshold", "4: 5:", seq("k#=#:", 1, 5), seq("#=k#:", 1, 5), "guard=2/10",
     "held_ldel=3", "r4: r5:", seq("r#:", 1, 5)},
    // Adoption: a Maildir whose state was lost, or written by mbsync/OfflineIMAP.
    {"adopt_all", "1:S 2:F", "a=1:S b=2:F", "", "", "adopt=2", "r1:S r2:F", "="},
    {"adopt_flags_union", "1:S", "a=1:F", "", "", "adopt=1 rflags=1 lflags=1 sflags=1", "r1:FS",
     "="},
    {"adopt_some_fetch_rest", "1: 2: 3:", "a=1: b=2:", "", "", "fetch=1 adopt=2", "r1: r2: r3:",
     "="},
    {"adopt_size_mismatch_fetches", "1:S", "a=1!:S", "", "", "fetch=1 stray=1", "r1:S",
     "r1:S xa-other:S"},
    {"adopt_duplicate_file_left_alone", "1:", "a=1: b=1:", "", "", "adopt=1 stray=1", "r1:",
     "r1: r1:"},
    {"adopt_renamed_file", "1:S", "z=1:S", "1=a:S", "", "adopt=1", "r1:S", "="},
    {"adopt_renamed_file_flag_changed", "1:S", "z=1:FS", "1=a:S", "", "adopt=1 rflags=1 sflags=1",
     "r1:FS", "="},
    {"stray_uid_already_paired", "1:", "a=1: b=1:", "1=a:", "", "stray=1", "r1:", "r1: r1:"},
    {"orphan_uid_expunged_on_server", "2:", "a=1:S b=2:", "", "", "adopt=1 ldel=1", "r2:", "="},
    {"orphans_count_toward_guard", "", seq("k#=#:", 1, 12), "", "", "held_ldel=12", "",
     seq("r#:", 1, 12)},
    // direction = pull: a mirror that never writes to the server.
    {"pull_new_remote", "1:S", "", "", "pull", "fetch=1", "r1:S", "="},
    {"pull_new_local_not_pushed", "", "a=-:S", "", "pull", "-", "", "la:S"},
    {"pull_local_flag_reverted", "1:S", "a=1:FS", "1=a:S", "pull", "lflags=1", "r1:S", "="},
    {"pull_remote_flag", "1:FS", "a=1:S", "1=a:S", "pull", "lflags=1 sflags=1", "r1:FS", "="},
    {"pull_local_delete_not_pushed", "1:S 2:", "b=2:", "1=a:S 2=b:", "pull", "-", "r1:S r2:",
     "r2:"},
    {"pull_remote_expunged", "", "a=1:", "1=a:", "pull", "ldel=1", "", "="},
    {"pull_adopt_takes_remote_flags", "1:S", "a=1:F", "", "pull", "adopt=1 lflags=1 sflags=1",
     "r1:S", "="},
    {"pull_mass_expunge_held", "", seq("k#=#:", 1, 12), seq("#=k#:", 1, 12), "pull",
     "held_ldel=12", "", seq("r#:", 1, 12)},
};

class SyncPlanner : public ::testing::TestWithParam<Row> {};

TEST_P(SyncPlanner, Once) {
  const Row& row = GetParam();
  const PlanOptions o = parse_options(row.options);
  SyncWorld w = SyncWorld::parse(row.remote, row.local, row.state);
  const Plan p = run_once(w, o);
  EXPECT_EQ(test::plan_summary(p), row.plan);
  expect_final(row, w, "after one run");
  expect_state_consistent(w, "after one run");
}

TEST_P(SyncPlanner, RerunHasNothingToDo) {
  const Row& row = GetParam();
  const PlanOptions o = parse_options(row.options);
  SyncWorld w = SyncWorld::parse(row.remote, row.local, row.state);
  run_once(w, o);
  const Plan again = plan_for(w, o);
  EXPECT_TRUE(again.empty()) << ::testing::PrintToString(again);
  run_once(w, o);
  expect_final(row, w, "after a re-run");
}

TEST_P(SyncPlanner, InterruptedAtEveryStepThenResumed) {
  const Row& row = GetParam();
  const PlanOptions o = parse_options(row.options);
  const SyncWorld initial = SyncWorld::parse(row.remote, row.local, row.state);
  SyncWorld counting = initial;
  int total = 0;
  ASSERT_TRUE(counting.execute(plan_for(counting, o), -1, total));
  for (int k = 0; k < total; ++k) {
    const std::string when = "crash after step " + std::to_string(k) + " of " +
                             std::to_string(total);
    SyncWorld w = initial;
    int steps = 0;
    ASSERT_FALSE(w.execute(plan_for(w, o), k, steps)) << when;
    run_once(w, o);
    expect_final(row, w, when);
    expect_state_consistent(w, when);
    w.recover();
    const Plan again = plan_for(w, o);
    EXPECT_TRUE(again.empty()) << when << ": " << ::testing::PrintToString(again);
  }
}

TEST_P(SyncPlanner, StateDeletedAdoptsWithoutDownloading) {
  const Row& row = GetParam();
  const PlanOptions o = parse_options(row.options);
  SyncWorld w = SyncWorld::parse(row.remote, row.local, row.state);
  run_once(w, o);
  // The state is the only memory of a local deletion that was not carried out
  // (held by the guard, or direction = pull), so only those messages come back.
  std::size_t remembered = 0;
  for (const auto& [uid, s] : w.state) {
    remembered += w.local.count(s.key) == 0 && w.remote.count(uid) != 0 ? 1 : 0;
  }
  w.state.clear();
  const Plan rebuilt = run_once(w, o);
  EXPECT_EQ(rebuilt.fetch.size(), remembered) << ::testing::PrintToString(rebuilt);
  EXPECT_TRUE(rebuilt.appends.empty()) << ::testing::PrintToString(rebuilt);
  if (remembered == 0) {
    expect_final(row, w, "after rebuilding the state");
  }
  EXPECT_TRUE(plan_for(w, o).empty());
}

INSTANTIATE_TEST_SUITE_P(Rows, SyncPlanner, ::testing::ValuesIn(k_rows), test::RowName{});

} // namespace
} // namespace uidsync::sync
