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


} // namespace
} // namespace uidsync::test
