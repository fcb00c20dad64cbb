// SPDX-License-Identifier: GPL-3.0-or-later
// Helpers for table tests (TEST_P + INSTANTIATE_TEST_SUITE_P over row structs).
#pragma once

#include <gtest/gtest.h>

#include <string>

namespace uidsync::test {

// Names each instantiated row after its `name` field:
//   INSTANTIATE_TEST_SUITE_P(Rows, Suite, ValuesIn(k_rows), RowName{});
struct RowName {
  template <class Row>
  std::string operator()(const ::testing::TestParamInfo<Row>& param_info) const {
    return param_info.param.name;
  }
};

} // namespace uidsync::test
