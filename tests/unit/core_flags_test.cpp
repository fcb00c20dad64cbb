// SPDX-License-Identifier: GPL-3.0-or-later
#include <uidsync/core/types.hpp>

#include "support/table.hpp"

#include <gtest/gtest.h>

#include <string>

namespace uidsync::core {
namespace {

struct FlagsRow {
  std::string name;
  std::string letters;
  std::string canonical;
};

class CoreFlags : public ::testing::TestWithParam<FlagsRow> {};

TEST_P(CoreFlags, RoundTripsToCanonicalOrder) {
  const auto& row = GetParam();
  EXPECT_EQ(Flags::from_maildir(row.letters).to_maildir(), row.canonical);
}

INSTANTIATE_TEST_SUITE_P(Rows, CoreFlags,
                         ::testing::Values(FlagsRow{"empty", "", ""},
                                           FlagsRow{"sorted", "DFPRST", "DFPRST"},
                                           FlagsRow{"reversed", "TSRPFD", "DFPRST"},
                                           FlagsRow{"duplicates", "SSF", "FS"},
                                           FlagsRow{"keyword_letters_ignored", "aSbF", "FS"}),
                         test::RowName{});

TEST(CoreFlagsBits, SetAndClear) {
  Flags f;
  f.set(Flags::seen);
  f.set(Flags::flagged);
  f.set(Flags::seen, false);
  EXPECT_EQ(f.to_maildir(), "F");
}

} // namespace
} // namespace uidsync::core
