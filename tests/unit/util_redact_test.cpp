// SPDX-License-Identifier: GPL-3.0-or-later
// Redaction keeps tags, commands and user names, and masks every secret.
#include "support/table.hpp"

#include <uidsync/util/redact.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace uidsync::util {
namespace {

struct LineRow {
  std::string name;
  std::string line;
  std::string expected;
};

void PrintTo(const LineRow& row, std::ostream* os) {
  *os << row.name;
}

class UtilRedactLine : public ::testing::TestWithParam<LineRow> {};

TEST_P(UtilRedactLine, MasksSecretsOnly) {
  const auto& row = GetParam();
  EXPECT_EQ(redact_line(row.line), row.expected);
}

const LineRow k_line_rows[] = {
    {"login_atoms", "A001 LOGIN alice s3cret", "A001 LOGIN alice ********"},
    {"login_lowercase", "a001 login alice s3cret", "a001 login alice ********"},
    {"login_mixed_case_odd_tag", "x5.1 LoGiN alice s3cret", "x5.1 LoGiN alice ********"},
    {"login_quoted", "t7 LOGIN \"alice@example.org\" \"pa ss\\\"word\"",
     "t7 LOGIN \"alice@example.org\" ********"},
    {"login_quoted_user_with_space", "t7 LOGIN \"Alice Smith\" hunter2",
     "t7 LOGIN \"Alice Smith\" ********"},
    {"login_password_literal", "x5 LOGIN \"u\" {5+}", "x5 LOGIN \"u\" ********"},
    {"login_user_literal", "x5 LOGIN {5}", "x5 LOGIN ********"},
    {"login_without_password", "A1 LOGIN alice", "A1 LOGIN alice"},
    {"authenticate_plain_initial_response",
     "A002 AUTHENTICATE PLAIN AGFsaWNlAHMzY3JldA==", "A002 AUTHENTICATE PLAIN ********"},
    {"authenticate_lowercase", "z authenticate xoauth2 dXNlcj1hbGljZQFhdXRoPUJlYXJlciB5YTI5AQE=",
     "z authenticate xoauth2 ********"},
    {"authenticate_without_initial_response", "A3 AUTHENTICATE LOGIN", "A3 AUTHENTICATE LOGIN"},
    {"bearer_header", "Authorization: Bearer ya29.a0AfH6SMB", "Authorization: Bearer ********"},
    {"bearer_lowercase", "authorization: bearer abc.def", "authorization: bearer ********"},
    {"xoauth2_decoded",
     "user=alice@example.org\x01"
     "auth=Bearer ya29.tok\x01\x01",
     "user=alice@example.org\x01"
     "auth=Bearer ********\x01\x01"},
    {"json_access_token", "{\"access_token\": \"ya29.x\", \"expires_in\": 3599}",
     "{\"access_token\": \"********\", \"expires_in\": 3599}"},
    {"form_refresh_token", "grant_type=refresh_token&refresh_token=1//0gabc&client_id=x",
     "grant_type=refresh_token&refresh_token=********&client_id=x"},
    {"select_unchanged", "A4 SELECT INBOX (CONDSTORE)", "A4 SELECT INBOX (CONDSTORE)"},
    {"fetch_unchanged", "u12 UID FETCH 1:* (UID FLAGS)", "u12 UID FETCH 1:* (UID FLAGS)"},
    {"server_reply_unchanged", "A001 OK LOGIN completed", "A001 OK LOGIN completed"},
    {"empty", "", ""},
};

INSTANTIATE_TEST_SUITE_P(Rows, UtilRedactLine, ::testing::ValuesIn(k_line_rows), test::RowName{});

// One exchange: each step is a line from the client ('C') or the server ('S')
// and what the transcript must show for it.
struct Step {
  char from;
  std::string line;
  std::string shown;
};

struct ExchangeRow {
  std::string name;
  std::vector<Step> steps;
};

void PrintTo(const ExchangeRow& row, std::ostream* os) {
  *os << row.name;
}

class UtilRedactor : public ::testing::TestWithParam<ExchangeRow> {};

TEST_P(UtilRedactor, MasksWhatOnlyTheConversationShows) {
  Redactor redactor;
  for (const auto& step : GetParam().steps) {
    const std::string shown =
        step.from == 'C' ? redactor.client(step.line) : redactor.server(step.line);
    EXPECT_EQ(shown, step.shown) << step.from << ": " << step.line;
  }
}

const ExchangeRow k_exchange_rows[] = {
    {"authenticate_login_continuations",
     {{'C', "A1 AUTHENTICATE LOGIN", "A1 AUTHENTICATE LOGIN"},
      {'S', "+ VXNlcm5hbWU6", "+ VXNlcm5hbWU6"},
      {'C', "YWxpY2U=", "********"},
      {'S', "+ UGFzc3dvcmQ6", "+ UGFzc3dvcmQ6"},
      {'C', "czNjcmV0", "********"},
      {'S', "A1 OK authenticated", "A1 OK authenticated"},
      {'C', "A2 SELECT INBOX", "A2 SELECT INBOX"}}},
    {"authenticate_untagged_reply_does_not_end_it",
     {{'C', "b7 authenticate plain", "b7 authenticate plain"},
      {'S', "* CAPABILITY IMAP4rev1", "* CAPABILITY IMAP4rev1"},
      {'S', "+ ", "+ "},
      {'C', "AGFsaWNlAHMzY3JldA==", "********"},
      {'S', "b7 NO [AUTHENTICATIONFAILED] bad", "b7 NO [AUTHENTICATIONFAILED] bad"},
      {'C', "b8 LOGOUT", "b8 LOGOUT"}}},
    {"authenticate_other_tag_does_not_end_it",
     {{'C', "A1 AUTHENTICATE XOAUTH2", "A1 AUTHENTICATE XOAUTH2"},
      {'S', "A10 OK not ours", "A10 OK not ours"},
      {'C', "dXNlcj1h", "********"}}},
    {"authenticate_cancel_is_shown",
     {{'C', "A1 AUTHENTICATE PLAIN", "A1 AUTHENTICATE PLAIN"},
      {'S', "+ ", "+ "},
      {'C', "*", "*"},
      {'S', "A1 BAD canceled", "A1 BAD canceled"},
      {'C', "A2 NOOP", "A2 NOOP"}}},
    {"login_literal_password",
     {{'C', "x5 LOGIN \"u\" {5}", "x5 LOGIN \"u\" ********"},
      {'S', "+ Ready", "+ Ready"},
      {'C', "pa55w", "********"},
      {'S', "x5 OK done", "x5 OK done"},
      {'C', "x6 LIST \"\" *", "x6 LIST \"\" *"}}},
    {"login_literal_user_then_literal_password",
     {{'C', "x5 LOGIN {5+}", "x5 LOGIN ********"},
      {'C', "alice {5+}", "********"},
      {'C', "pa55w", "********"},
      {'C', "x6 NOOP", "x6 NOOP"}}},
};

INSTANTIATE_TEST_SUITE_P(Rows, UtilRedactor, ::testing::ValuesIn(k_exchange_rows), test::RowName{});

} // namespace
} // namespace uidsync::util
