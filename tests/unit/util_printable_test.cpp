// SPDX-License-Identifier: GPL-3.0-or-later
// printable(): server text reaches the terminal without control bytes or invalid
// UTF-8, and well-formed text is left alone.
#include "support/table.hpp"

#include <uidsync/util/printable.hpp>

#include <gtest/gtest.h>

#include <string>

namespace uidsync::util {
namespace {

struct PrintableRow {
  std::string name;
  std::string text;
  std::string expected;
};

class UtilPrintable : public ::testing::TestWithParam<PrintableRow> {};

TEST_P(UtilPrintable, EscapesWhatATerminalWouldObey) {
  EXPECT_EQ(printable(GetParam().text), GetParam().expected);
}

const PrintableRow k_rows[] = {
    {"ascii_unchanged", "folder INBOX: 3 new", "folder INBOX: 3 new"},
    {"tab_kept", "a\tb", "a\tb"},
    {"utf8_unchanged", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa7", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa7"},
    {"escape_sequence", "\x1b]0;owned\x07title", "\\x1B]0;owned\\x07title"},
    {"nul_cr_lf_del", std::string("a\0b\r\n\x7f", 6), "a\\x00b\\x0D\\x0A\\x7F"},
    {"lone_latin1", "caf\xe9!", "caf\\xE9!"},
    {"bom_bytes_invalid", "\xff\xfe", "\\xFF\\xFE"},
    {"truncated_sequence_at_end", "ab\xc3", "ab\\xC3"},
    {"truncated_sequence_mid", "\xe2\x82x", "\\xE2\\x82x"},
    {"overlong_slash", "\xc0\xaf", "\\xC0\\xAF"},
    {"overlong_three_bytes", "\xe0\x80\xaf", "\\xE0\\x80\\xAF"},
    {"surrogate", "\xed\xa0\x80", "\\xED\\xA0\\x80"},
    {"above_max_code_point", "\xf4\x90\x80\x80", "\\xF4\\x90\\x80\\x80"},
    {"c1_control_csi", "\xc2\x9b" "31m", "\\xC2\\x9B31m"},
    {"c1_boundary_kept", "\xc2\xa0", "\xc2\xa0"},
    {"literal_backslash_x_disambiguated", "a\\x41", "a\\\\x41"},
    {"other_backslash_kept", "\\Seen \\n", "\\Seen \\n"},
};

INSTANTIATE_TEST_SUITE_P(Rows, UtilPrintable, ::testing::ValuesIn(k_rows), test::RowName{});

} // namespace
} // namespace uidsync::util
