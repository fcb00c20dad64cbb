// SPDX-License-Identifier: GPL-3.0-or-later
// Content index: Message-ID extraction and SHA-256 over chunked input.
#include "support/table.hpp"

#include <uidsync/maildir/content.hpp>

#include <gtest/gtest.h>

#include <string>

namespace uidsync::maildir {
namespace {

struct IdRow {
  std::string name;
  std::string header;
  std::string expected;
};

class MaildirMessageId : public ::testing::TestWithParam<IdRow> {};

TEST_P(MaildirMessageId, IsFoundInTheHeaderOnly) {
  const auto& row = GetParam();
  EXPECT_EQ(extract_message_id(row.header), row.expected);
}

INSTANTIATE_TEST_SUITE_P(
    Rows, MaildirMessageId,
    ::testing::Values(
        IdRow{"plain", "From: a@b\nMessage-ID: <x@y>\n\nbody", "<x@y>"},
        IdRow{"crlf", "From: a@b\r\nMessage-Id: <x@y>\r\n\r\nbody", "<x@y>"},
        IdRow{"lowercase_name", "message-id:<x@y>\n\n", "<x@y>"},
        IdRow{"folded", "Message-ID:\n <folded@host>\nSubject: s\n\n", "<folded@host>"},
        IdRow{"comment_after", "Message-ID: <x@y> (added by relay)\n\n", "<x@y>"},
        IdRow{"no_brackets", "Message-ID:   bare@id  \n\n", "bare@id"},
        IdRow{"absent", "From: a@b\nSubject: hi\n\nMessage-ID: <in@body>\n", ""},
        IdRow{"first_wins", "Message-ID: <1@a>\nMessage-ID: <2@a>\n\n", "<1@a>"},
        IdRow{"resent_not_taken", "Resent-Message-ID: <r@a>\nMessage-ID: <m@a>\n\n", "<m@a>"}),
    test::RowName{});

TEST(MaildirContentHasher, SameResultForAnyChunking) {
  std::string message = "Message-ID: <chunk@test>\r\nSubject: x\r\n\r\n";
  for (int i = 0; i < 5000; ++i) {
    message += "line " + std::to_string(i) + "\r\n";
  }
  ContentHasher whole;
  whole.update(message);
  const auto expected = whole.finish();
  EXPECT_EQ(expected.size, message.size());
  EXPECT_EQ(expected.message_id, "<chunk@test>");
  for (const std::size_t chunk : {1UL, 7UL, 4096UL}) {
    ContentHasher parts;
    for (std::size_t pos = 0; pos < message.size(); pos += chunk) {
      parts.update(std::string_view(message).substr(pos, chunk));
    }
    EXPECT_EQ(parts.finish(), expected) << "chunk " << chunk;
  }
}

TEST(MaildirContentHasher, IsSha256) {
  ContentHasher hasher;
  hasher.update("abc");
  // FIPS 180-2 appendix B.1.
  EXPECT_EQ(hasher.finish().digest,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

} // namespace
} // namespace uidsync::maildir
