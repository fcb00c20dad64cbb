// SPDX-License-Identifier: GPL-3.0-or-later
// net: fingerprint parsing and the OAuth2 token command.
#include "support/table.hpp"

#include <uidsync/net/curl_transport.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace uidsync::test {
namespace {

using namespace std::chrono_literals;

const std::string k_hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

struct FingerprintRow {
  std::string name;
  std::string input;
  std::string expected; // empty: must fail
  std::string error{};  // substring of the error message
};
void PrintTo(const FingerprintRow& row, std::ostream* os) { *os << row.name; }

class NetFingerprint : public ::testing::TestWithParam<FingerprintRow> {};

TEST_P(NetFingerprint, Normalises) {
  const auto& row = GetParam();
  auto hex = net::parse_fingerprint(row.input);
  if (row.expected.empty()) {
    ASSERT_FALSE(hex.has_value()) << *hex;
    EXPECT_EQ(hex.error().scope, core::Scope::account);
    EXPECT_NE(hex.error().message.find(row.error), std::string::npos) << hex.error().what();
    return;
  }
  ASSERT_TRUE(hex.has_value()) << hex.error().what();
  EXPECT_EQ(*hex, row.expected);
}

std::string with_colons(const std::string& hex) {
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    out += (i == 0 ? "" : ":") + hex.substr(i, 2);
  }
  return out;
}

std::string upper(std::string s) {
  for (auto& c : s) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return s;
}

const FingerprintRow k_fingerprint_rows[] = {
    {"LowerHex", "sha256:" + k_hex, k_hex},
    {"UpperHexWithColons", "SHA256:" + upper(with_colons(k_hex)), k_hex},
    {"MissingPrefix", k_hex, "", "does not start with \"sha256:\""},
    {"Md5Prefix", "md5:" + k_hex.substr(0, 32), "", "does not start with"},
    {"TooShort", "sha256:" + k_hex.substr(2), "", "is not a SHA-256 digest"},
    {"TooLong", "sha256:" + k_hex + "00", "", "is not a SHA-256 digest"},
    {"NotHex", "sha256:" + k_hex.substr(1) + "g", "", "is not a SHA-256 digest"},
};
INSTANTIATE_TEST_SUITE_P(Rows, NetFingerprint, ::testing::ValuesIn(k_fingerprint_rows), RowName{});

struct TokenRow {
  std::string name;
  std::string command;
  std::chrono::milliseconds timeout;
  std::string token;   // empty: must fail
  std::string error{}; // substring of the error message
};
void PrintTo(const TokenRow& row, std::ostream* os) { *os << row.name; }

class NetTokenCommand : public ::testing::TestWithParam<TokenRow> {};

TEST_P(NetTokenCommand, ReadsFirstLine) {
  const auto& row = GetParam();
  const auto started = std::chrono::steady_clock::now();
  auto token = net::read_token_command(row.command, row.timeout);
  const auto elapsed = std::chrono::steady_clock::now() - started;
  EXPECT_LT(elapsed, row.timeout + 2s);
  if (row.token.empty()) {
    ASSERT_FALSE(token.has_value()) << *token;
    EXPECT_NE(token.error().message.find(row.error), std::string::npos) << token.error().what();
    return;
  }
  ASSERT_TRUE(token.has_value()) << token.error().what();
  EXPECT_EQ(*token, row.token);
}

const TokenRow k_token_rows[] = {
    {"Echo", "echo ya29.token-value", 5s, "ya29.token-value"},
    {"FirstLineOnly", "printf 'tok1\\r\\nsecond\\n'", 5s, "tok1"},
    {"NoTrailingNewline", "printf abc", 5s, "abc"},
    {"NonZeroExit", "echo tok; exit 3", 5s, "", "exit status 3"},
    {"NoOutput", "true", 5s, "", "printed no token"},
    {"EmptyFirstLine", "printf '\\ntok\\n'", 5s, "", "printed no token"},
    {"NotFound", "/nonexistent/token-helper", 5s, "", "exit status 127"},
    {"Hangs", "sleep 30", 300ms, "", "did not finish within 0.3 s"},
};
INSTANTIATE_TEST_SUITE_P(Rows, NetTokenCommand, ::testing::ValuesIn(k_token_rows), RowName{});

} // namespace
} // namespace uidsync::test
