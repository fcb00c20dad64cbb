// SPDX-License-Identifier: GPL-3.0-or-later
// The JSON shape reader and the docs/json.md check used by the --json tests:
// paths and types, malformed input, and each kind of difference.
#include "support/json_shape.hpp"
#include "support/table.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace uidsync::test {
namespace {

struct ShapeRow {
  std::string name;
  std::string json;
  JsonShape expected;
};

void PrintTo(const ShapeRow& row, std::ostream* os) {
  *os << row.name;
}

const std::vector<ShapeRow> k_shape_rows{
    {"scalars",
     R"({"s": "a\"b\u00e9", "n": -1.5e3, "t": true, "f": false, "z": null})",
     {{"s", {"string"}},
      {"n", {"number"}},
      {"t", {"boolean"}},
      {"f", {"boolean"}},
      {"z", {"null"}}}},
    {"nested_arrays",
     R"({"a": [{"b": 1}, {"b": null, "c": []}], "d": ["x"], "e": {}})",
     {{"a", {"array"}},
      {"a[]", {"object"}},
      {"a[].b", {"number", "null"}},
      {"a[].c", {"array"}},
      {"d", {"array"}},
      {"d[]", {"string"}},
      {"e", {"object"}}}},
    {"whitespace_around", " \n{\"k\" : [ 1 , 2 ] }\n", {{"k", {"array"}}, {"k[]", {"number"}}}},
};

class TestJsonShape : public ::testing::TestWithParam<ShapeRow> {};

TEST_P(TestJsonShape, RecordsEveryPathAndType) {
  const auto& row = GetParam();
  EXPECT_EQ(json_shape(row.json), row.expected);
}

INSTANTIATE_TEST_SUITE_P(Rows, TestJsonShape, ::testing::ValuesIn(k_shape_rows), RowName{});

struct MalformedRow {
  std::string name;
  std::string json;
};

void PrintTo(const MalformedRow& row, std::ostream* os) {
  *os << row.name;
}

const std::vector<MalformedRow> k_malformed_rows{
    {"empty", ""},
    {"unterminated_object", "{\"a\": 1"},
    {"trailing_text", "{} {}"},
    {"bad_literal", "{\"a\": nul}"},
    {"missing_colon", "{\"a\" 1}"},
    {"raw_newline_in_string", "{\"a\": \"x\ny\"}"},
    {"bare_minus", "{\"a\": -}"},
};

class TestJsonShapeMalformed : public ::testing::TestWithParam<MalformedRow> {};

TEST_P(TestJsonShapeMalformed, Throws) {
  EXPECT_THROW(json_shape(GetParam().json), std::runtime_error);
}

INSTANTIATE_TEST_SUITE_P(Rows, TestJsonShapeMalformed, ::testing::ValuesIn(k_malformed_rows),
                         RowName{});

struct DifferenceRow {
  std::string name;
  std::string json;
  std::vector<std::string> expected;
};

void PrintTo(const DifferenceRow& row, std::ostream* os) {
  *os << row.name;
}

const std::vector<DifferenceRow> k_difference_rows{
    {"as_documented", R"({"schema": 1, "items": [{"id": "a", "err": null}]})", {}},
    {"empty_array_needs_no_element_fields", R"({"schema": 1, "items": []})", {}},
    {"undocumented", R"({"schema": 1, "items": [], "extra": 2})", {"undocumented field `extra`"}},
    {"wrong_type", R"({"schema": "1", "items": []})", {"`schema` is string, documented as number"}},
    {"missing",
     R"({"schema": 1, "items": [{"id": "a"}]})",
     {"documented field `items[].err` (string or null) is missing"}},
};

class TestJsonShapeDocs : public ::testing::TestWithParam<DifferenceRow> {};

TEST_P(TestJsonShapeDocs, NamesEachDifference) {
  const auto& row = GetParam();
  TempDir dir;
  write_file(dir / "json.md", "# Doc\n\n## `other`\n\n| `other` | number | x |\n\n"
                              "## `tool list --json`\n\n| Field | Type | Meaning |\n|---|---|---|\n"
                              "| `schema` | number | 1 |\n| `items` | array | all |\n"
                              "| `items[]` | object | one |\n| `items[].id` | string | its id |\n"
                              "| `items[].err` | string or null | why |\n\n## `next`\n\n"
                              "| `next` | number | x |\n");
  const auto documented = documented_fields(dir / "json.md", "`tool list --json`");
  EXPECT_EQ(documented.size(), 5u);
  EXPECT_EQ(shape_differences(documented, json_shape(row.json)), row.expected);
}

INSTANTIATE_TEST_SUITE_P(Rows, TestJsonShapeDocs, ::testing::ValuesIn(k_difference_rows),
                         RowName{});

} // namespace
} // namespace uidsync::test
