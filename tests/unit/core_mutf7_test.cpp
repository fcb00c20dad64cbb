// SPDX-License-Identifier: GPL-3.0-or-later
// Modified UTF-7 tables: round trips, and every kind of malformed input rejected.
#include <uidsync/core/mutf7.hpp>

#include "support/table.hpp"

#include <gtest/gtest.h>

#include <string>

namespace uidsync::core {
namespace {

struct RoundTripRow {
  std::string name;
  std::string utf8;
  std::string mutf7;
};

class CoreMutf7RoundTrip : public ::testing::TestWithParam<RoundTripRow> {};

TEST_P(CoreMutf7RoundTrip, Encodes) {
  auto encoded = mutf7_encode(GetParam().utf8);
  ASSERT_TRUE(encoded) << encoded.error().what();
  EXPECT_EQ(*encoded, GetParam().mutf7);
}

TEST_P(CoreMutf7RoundTrip, Decodes) {
  auto decoded = mutf7_decode(GetParam().mutf7);
  ASSERT_TRUE(decoded) << decoded.error().what();
  EXPECT_EQ(*decoded, GetParam().utf8);
}

INSTANTIATE_TEST_SUITE_P(
    Rows, CoreMutf7RoundTrip,
    ::testing::Values(RoundTripRow{"empty", "", ""}, RoundTripRow{"ascii", "INBOX", "INBOX"},
                      RoundTripRow{"ampersand", "Tom & Jerry", "Tom &- Jerry"},
                      RoundTripRow{"only_ampersands", "&&", "&-&-"},
                      RoundTripRow{"umlaut", "Entwürfe", "Entw&APw-rfe"},
                      // RFC 3501 §5.1.3 example.
                      RoundTripRow{"rfc_example", "~peter/mail/台北/日本語",
                                   "~peter/mail/&U,BTFw-/&ZeVnLIqe-"},
                      RoundTripRow{"russian", "Отправленные",
                                   "&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-"},
                      RoundTripRow{"emoji_surrogate_pair", "📧", "&2D3c5w-"},
                      RoundTripRow{"mixed_runs", "a€b€", "a&IKw-b&IKw-"},
                      RoundTripRow{"tilde_and_slash", "~/x", "~/x"},
                      RoundTripRow{"control_char_encoded", "a\tb", "a&AAk-b"},
                      RoundTripRow{"delete_char_encoded", "a\x7f", "a&AH8-"}),
    test::RowName{});

struct BadRow {
  std::string name;
  std::string input;
  std::string reason;
};

class CoreMutf7Decode : public ::testing::TestWithParam<BadRow> {};

TEST_P(CoreMutf7Decode, RejectsMalformed) {
  auto decoded = mutf7_decode(GetParam().input);
  ASSERT_FALSE(decoded) << "decoded to " << *decoded;
  EXPECT_EQ(decoded.error().scope, Scope::folder);
  EXPECT_NE(decoded.error().message.find(GetParam().reason), std::string::npos)
      << decoded.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Rows, CoreMutf7Decode,
    ::testing::Values(
        BadRow{"raw_utf8", "Entw\xc3\xbcrfe", "outside printable"},
        BadRow{"raw_control", "a\tb", "outside printable"},
        BadRow{"unterminated", "&APw", "unterminated"},
        BadRow{"bad_base64_char", "&AP*-", "invalid modified base64"},
        BadRow{"standard_base64_slash", "&U/BTFw-", "invalid modified base64"},
        BadRow{"hidden_ascii", "&AGE-", "printable US-ASCII hidden"},
        BadRow{"hidden_nul", "&AAA-", "NUL"},
        BadRow{"lone_high_surrogate", "&2D0-", "incomplete"},
        BadRow{"lone_low_surrogate", "&3OcAYQ-", "low surrogate"},
        BadRow{"high_then_non_low", "&2D0AYQ-", "high surrogate"},
        BadRow{"partial_unit", "&AP-", "incomplete"},
        BadRow{"nonzero_padding_bits", "&APx-", "incomplete"},
        BadRow{"adjacent_runs", "&APw-&APw-", "not in canonical form"},
        BadRow{"excess_base64_chars", "&APwAAA-", "NUL"}),
    test::RowName{});

struct BadUtf8Row {
  std::string name;
  std::string input;
};

class CoreMutf7Encode : public ::testing::TestWithParam<BadUtf8Row> {};

TEST_P(CoreMutf7Encode, RejectsInvalidUtf8) {
  auto encoded = mutf7_encode(GetParam().input);
  ASSERT_FALSE(encoded) << "encoded to " << *encoded;
  EXPECT_NE(encoded.error().message.find("not valid UTF-8"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Rows, CoreMutf7Encode,
                         ::testing::Values(BadUtf8Row{"lone_continuation", "a\x80"},
                                           BadUtf8Row{"truncated", "\xc3"},
                                           BadUtf8Row{"overlong_slash", "\xc0\xaf"},
                                           BadUtf8Row{"surrogate", "\xed\xa0\x80"},
                                           BadUtf8Row{"beyond_unicode", "\xf4\x90\x80\x80"},
                                           BadUtf8Row{"nul", std::string("a\0b", 3)}),
                         test::RowName{});

} // namespace
} // namespace uidsync::core
