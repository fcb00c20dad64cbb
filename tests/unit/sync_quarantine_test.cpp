// SPDX-License-Identifier: GPL-3.0-or-later
// The quarantine's pure pieces: recognising the Exchange stub in a message head,
// the backoff ladder, reason names, and the evidence paths.
#include "support/table.hpp"

#include <uidsync/sync/quarantine.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>

namespace uidsync::sync {
namespace {

using namespace std::chrono_literals;

const std::string k_from = "From: Microsoft Exchange Server 2010\r\n";
const std::string k_subject =
    "Subject: Retrieval using the IMAP4 protocol failed for the following message: 15541\r\n";

struct StubRow {
  std::string name;
  std::string head;
  std::optional<core::Uid> uid; // nullopt: not the stub
};

const StubRow k_stub_rows[] = {
    {"plain_crlf", k_from + "To: user@example.org\r\n" + k_subject + "\r\nbody\r\n", 15541},
    {"lf_only",
     "From: Microsoft Exchange Server 2010\nSubject: Retrieval using the IMAP4 protocol failed for "
     "the following message: 15541\n\n",
     15541},
    {"subject_before_from", k_subject + k_from + "\r\n", 15541},
    {"folded_subject",
     k_from + "Subject: Retrieval using the IMAP4 protocol failed for the following\r\n message: "
              "15541\r\n\r\n",
     15541},
    {"folded_twice_with_tab",
     k_from + "Subject: Retrieval using the IMAP4\r\n\tprotocol failed for the following\r\n "
              "message:\r\n 15541\r\n\r\n",
     15541},
    {"encoded_q",
     k_from + "Subject: =?utf-8?Q?Retrieval_using_the_IMAP4_protocol_failed_for_the_following_"
              "message:_15541?=\r\n\r\n",
     15541},
    {"encoded_b",
     // base64 of "Retrieval using the IMAP4 protocol failed for the following message: 15541"
     k_from + "Subject: =?UTF-8?B?UmV0cmlldmFsIHVzaW5nIHRoZSBJTUFQNCBwcm90b2NvbCBmYWlsZWQgZm9y"
              "IHRoZSBmb2xsb3dpbmcgbWVzc2FnZTogMTU1NDE=?=\r\n\r\n",
     15541},
    {"encoded_words_split_and_folded",
     k_from + "Subject: =?utf-8?Q?Retrieval_using_the_IMAP4_protocol_?=\r\n "
              "=?utf-8?Q?failed_for_the_following_message:_15541?=\r\n\r\n",
     15541},
    {"header_names_any_case",
     "FROM: \"Microsoft Exchange\" <postmaster@example.org>\r\nsubject: RETRIEVAL USING THE IMAP4 "
     "PROTOCOL FAILED FOR THE FOLLOWING MESSAGE: 7\r\n\r\n",
     7},
    {"other_uid",
     k_from + "Subject: Retrieval using the IMAP4 protocol failed for the following "
              "message: 15546\r\n\r\n",
     15546},
    {"no_uid_in_subject",
     k_from +
         "Subject: Retrieval using the IMAP4 protocol failed for the following message:\r\n\r\n",
     0},
    {"ordinary_message",
     "From: Sender 1 <sender@example.org>\r\nSubject: Message 1\r\n\r\nhello\r\n", std::nullopt},
    {"subject_quoted_by_a_person", "From: Alice <alice@example.org>\r\n" + k_subject + "\r\n",
     std::nullopt},
    {"exchange_sender_other_subject", k_from + "Subject: Undeliverable: lunch\r\n\r\n",
     std::nullopt},
    {"stub_text_only_in_body",
     "From: Microsoft Exchange Server 2010\r\nSubject: hello\r\n\r\n" + k_subject, std::nullopt},
    {"empty", "", std::nullopt},
};

class SyncQuarantineStub : public ::testing::TestWithParam<StubRow> {};

TEST_P(SyncQuarantineStub, RecognisesTheExchangeStub) {
  EXPECT_EQ(exchange_stub_uid(GetParam().head), GetParam().uid);
}

INSTANTIATE_TEST_SUITE_P(Rows, SyncQuarantineStub, ::testing::ValuesIn(k_stub_rows),
                         test::RowName{});

struct BackoffRow {
  std::string name;
  std::vector<std::chrono::seconds> ladder;
  int tries;
  std::chrono::seconds wait;
};

const std::vector<std::chrono::seconds> k_default = core::QuarantinePolicy{}.backoff;

const BackoffRow k_backoff_rows[] = {
    {"first_failure_waits_an_hour", k_default, 1, 1h},
    {"second_four_hours", k_default, 2, 4h},
    {"third_a_day", k_default, 3, 24h},
    {"fourth_a_week", k_default, 4, 168h},
    {"capped_at_a_week", k_default, 40, 168h},
    {"zero_tries_counts_as_one", k_default, 0, 1h},
    {"configured_ladder", {10min, 30min}, 2, 30min},
    {"configured_ladder_repeats_last", {10min, 30min}, 9, 30min},
    {"empty_ladder_waits_an_hour", {}, 3, 1h},
};

class SyncQuarantineBackoff : public ::testing::TestWithParam<BackoffRow> {};

TEST_P(SyncQuarantineBackoff, WaitsByTheLadder) {
  core::QuarantinePolicy policy;
  policy.backoff = GetParam().ladder;
  EXPECT_EQ(backoff_after(policy, GetParam().tries), GetParam().wait);
}

INSTANTIATE_TEST_SUITE_P(Rows, SyncQuarantineBackoff, ::testing::ValuesIn(k_backoff_rows),
                         test::RowName{});

struct ReasonRow {
  std::string name;
  Reason reason;
  std::string text;
};

const ReasonRow k_reason_rows[] = {
    {"no_data", Reason::no_data, "no-data"},
    {"exchange_stub", Reason::exchange_stub, "exchange-stub"},
    {"refused", Reason::refused, "refused"},
    {"rejected", Reason::rejected, "rejected"},
    {"nil_body", Reason::nil_body, "nil-body"},
    {"size_mismatch", Reason::size_mismatch, "size-mismatch"},
    {"connection_dropped", Reason::connection_dropped, "connection-dropped"},
    {"timeout", Reason::timeout, "timeout"},
};

class SyncQuarantineReason : public ::testing::TestWithParam<ReasonRow> {};

TEST_P(SyncQuarantineReason, NamesRoundTripAndCarryAdvice) {
  EXPECT_EQ(to_string(GetParam().reason), GetParam().text);
  EXPECT_EQ(parse_reason(GetParam().text), GetParam().reason);
  EXPECT_FALSE(advice(GetParam().reason).empty());
}

INSTANTIATE_TEST_SUITE_P(Rows, SyncQuarantineReason, ::testing::ValuesIn(k_reason_rows),
                         test::RowName{});

TEST(SyncQuarantine, UnknownReasonTextIsNotParsed) {
  EXPECT_EQ(parse_reason("bogus"), std::nullopt);
}

struct PathRow {
  std::string name;
  std::string account;
  std::string folder;
  std::string path; // relative to the state dir
};

const PathRow k_path_rows[] = {
    {"plain", "work", "INBOX", "evidence/work/INBOX/14-15541.txt"},
    {"hierarchy_is_one_component", "work", "Archive/2023",
     "evidence/work/Archive%2F2023/14-15541.txt"},
    {"dot_dot_cannot_escape", "work", "..", "evidence/work/%2E./14-15541.txt"},
    {"spaces_and_utf8", "a.b", "Reisepläne 1", "evidence/a.b/Reisepl%C3%A4ne%201/14-15541.txt"},
};

class SyncQuarantinePath : public ::testing::TestWithParam<PathRow> {};

TEST_P(SyncQuarantinePath, EvidenceStaysUnderTheStateDir) {
  const auto dir = evidence_dir("/state", GetParam().account);
  EXPECT_EQ(evidence_file(dir, GetParam().folder, 14, 15541),
            std::filesystem::path("/state") / GetParam().path);
}

INSTANTIATE_TEST_SUITE_P(Rows, SyncQuarantinePath, ::testing::ValuesIn(k_path_rows),
                         test::RowName{});

} // namespace
} // namespace uidsync::sync
