// SPDX-License-Identifier: GPL-3.0-or-later
// Every --json document of the real binary, against a real Dovecot, has exactly
// the fields docs/json.md lists for it, with the documented types, and
// "schema": 1. (quarantine list is checked where entries exist:
// cli_quarantine_test.cpp.)
#include "support/dovecot.hpp"
#include "support/json_shape.hpp"
#include "support/sync_cli.hpp"
#include "support/table.hpp"
#include "support/temp_dir.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

namespace uidsync::test {
namespace {

namespace fs = std::filesystem;

struct JsonRow {
  std::string name;
  std::string heading; // in docs/json.md
  std::vector<std::string> args;
};

void PrintTo(const JsonRow& row, std::ostream* os) {
  *os << row.name;
}

const std::vector<JsonRow> k_json_rows{
    {"sync", "`uidsync sync --json`", {"--json", "sync", "-f", "Shape/*"}},
    {"status", "`uidsync status --json`", {"status", "--json"}},
    {"folders", "`uidsync folders --json`", {"--json", "folders"}},
    {"doctor", "`uidsync doctor --json`", {"doctor", "--json", "demo", "Shape/Flags"}},
    {"check_config", "`uidsync check-config --json`", {"check-config", "--json"}},
};

class CliJsonSchema : public DovecotSuite, public ::testing::WithParamInterface<JsonRow> {
protected:
  void SetUp() override {
    DovecotSuite::SetUp();
    static bool filled = false;
    if (!filled) {
      s_dovecot->fill("Shape/Flags", {message("shape-1"), message("shape-2"), message("shape-3")});
      s_dovecot->fill("Shape/Other", {message("shape-4")});
      doveadm_as_user(*s_dovecot, {"flags", "add", "\\Seen", "mailbox", "Shape/Flags", "uid", "1"});
      filled = true;
    }
    write_sync_config(m_temp.path(), *s_dovecot);
  }

  TempDir m_temp;
};

TEST_P(CliJsonSchema, OutputHasExactlyTheDocumentedFields) {
  const auto& row = GetParam();
  // status needs a synced account to show folders; sync itself syncs anyway.
  const auto first = run_uidsync(m_temp.path(), {"sync", "-f", "Shape/*"});
  ASSERT_EQ(first.exit_status, 0) << first.err;
  const auto r = run_uidsync(m_temp.path(), row.args);
  ASSERT_EQ(r.exit_status, 0) << r.err;
  ASSERT_EQ(r.out.rfind("{\"schema\": 1, ", 0), 0u) << r.out;
  ASSERT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << "one document, one line: " << r.out;
  JsonShape shape;
  ASSERT_NO_THROW(shape = json_shape(r.out)) << r.out;
  const auto documented =
      documented_fields(fs::path(UIDSYNC_SOURCE_DIR) / "docs" / "json.md", row.heading);
  const auto differences = shape_differences(documented, shape);
  EXPECT_TRUE(differences.empty()) << fmt::format("{}", fmt::join(differences, "\n")) << "\n"
                                   << r.out;
  // The rows are rich enough to check something: the documents reach into arrays.
  EXPECT_GT(shape.size(), 8u) << r.out;
}

INSTANTIATE_TEST_SUITE_P(Rows, CliJsonSchema, ::testing::ValuesIn(k_json_rows), RowName{});

} // namespace
} // namespace uidsync::test
