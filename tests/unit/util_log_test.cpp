// SPDX-License-Identifier: GPL-3.0-or-later
// Layer loggers: verbosity levels and when colour is used.
#include "support/table.hpp"

#include <uidsync/util/log.hpp>

#include <gtest/gtest.h>

#include <string>

namespace uidsync::util {
namespace {

struct ColourRow {
  std::string name;
  bool tty;
  const char* no_color;
  bool colour;
};

void PrintTo(const ColourRow& row, std::ostream* os) {
  *os << row.name;
}

class UtilLogColour : public ::testing::TestWithParam<ColourRow> {};

TEST_P(UtilLogColour, OnlyOnATerminalWithoutNoColor) {
  EXPECT_EQ(use_colour(GetParam().tty, GetParam().no_color), GetParam().colour);
}

INSTANTIATE_TEST_SUITE_P(Rows, UtilLogColour,
                         ::testing::Values(ColourRow{"tty", true, nullptr, true},
                                           ColourRow{"pipe", false, nullptr, false},
                                           ColourRow{"tty_no_color", true, "1", false},
                                           ColourRow{"tty_no_color_empty", true, "", true},
                                           ColourRow{"pipe_no_color", false, "1", false}),
                         test::RowName{});

struct LevelRow {
  std::string name;
  int verbosity;
  spdlog::level::level_enum level;
};

void PrintTo(const LevelRow& row, std::ostream* os) {
  *os << row.name;
}

class UtilLogVerbosity : public ::testing::TestWithParam<LevelRow> {};

TEST_P(UtilLogVerbosity, SetsEveryLayerExistingAndNew) {
  const auto existing = logger("test-existing");
  set_verbosity(GetParam().verbosity);
  const auto created = logger("test-created-" + GetParam().name);
  EXPECT_EQ(existing->level(), GetParam().level);
  EXPECT_EQ(created->level(), GetParam().level);
  set_verbosity(0);
}

INSTANTIATE_TEST_SUITE_P(Rows, UtilLogVerbosity,
                         ::testing::Values(LevelRow{"quiet", -1, spdlog::level::err},
                                           LevelRow{"default", 0, spdlog::level::warn},
                                           LevelRow{"v", 1, spdlog::level::info},
                                           LevelRow{"vv", 2, spdlog::level::debug},
                                           LevelRow{"vvv", 3, spdlog::level::trace},
                                           LevelRow{"vvvv", 4, spdlog::level::trace}),
                         test::RowName{});

} // namespace
} // namespace uidsync::util
