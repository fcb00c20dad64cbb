// SPDX-License-Identifier: GPL-3.0-or-later
// The private Dovecot fixture: logins over plain, STARTTLS and implicit TLS, filling, clean stop.
#include "support/dovecot.hpp"
#include "support/table.hpp"

#include <curl/curl.h>
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <string>

namespace uidsync::test {
namespace {

enum class Listener { plain, starttls, implicit_tls };

// Logs in with libcurl's own IMAP client (URL mode, LIST of the root), independent of
// uidsync's transport. Returns the CURLcode and the listing.
std::pair<CURLcode, std::string> curl_login(const Dovecot& dovecot, Listener listener,
                                            const std::string& password) {
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> h(curl_easy_init(), &curl_easy_cleanup);
  std::string body;
  const bool implicit = listener == Listener::implicit_tls;
  const std::string url = std::string(implicit ? "imaps://" : "imap://") + dovecot.host() + ":" +
                          std::to_string(implicit ? dovecot.imaps_port() : dovecot.port()) + "/";
  curl_easy_setopt(h.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(h.get(), CURLOPT_USERNAME, dovecot.user().c_str());
  curl_easy_setopt(h.get(), CURLOPT_PASSWORD, password.c_str());
  curl_easy_setopt(h.get(), CURLOPT_LOGIN_OPTIONS, "AUTH=PLAIN");
  curl_easy_setopt(h.get(), CURLOPT_PROXY, "");
  curl_easy_setopt(h.get(), CURLOPT_TIMEOUT, 10L);
  if (listener == Listener::starttls) {
    curl_easy_setopt(h.get(), CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
  }
  curl_easy_setopt(h.get(), CURLOPT_CAINFO, dovecot.ca_file().c_str());
  curl_easy_setopt(h.get(), CURLOPT_WRITEFUNCTION,
                   +[](char* data, size_t size, size_t n, void* user) -> size_t {
                     static_cast<std::string*>(user)->append(data, size * n);
                     return size * n;
                   });
  curl_easy_setopt(h.get(), CURLOPT_WRITEDATA, &body);
  const CURLcode rc = curl_easy_perform(h.get());
  return {rc, body};
}

using DovecotFixture = DovecotSuite;

struct LoginRow {
  std::string name;
  Listener listener;
  bool right_password;
  CURLcode expected;
};

void PrintTo(const LoginRow& row, std::ostream* os) { *os << row.name; }

class DovecotFixtureLogin : public DovecotFixture,
                            public ::testing::WithParamInterface<LoginRow> {};

TEST_P(DovecotFixtureLogin, AnswersLogin) {
  const auto& row = GetParam();
  const std::string password = row.right_password ? s_dovecot->password() : "wrong-password";
  const auto [rc, listing] = curl_login(*s_dovecot, row.listener, password);
  EXPECT_EQ(rc, row.expected) << curl_easy_strerror(rc) << "\n" << s_dovecot->log_tail();
  if (row.expected == CURLE_OK) {
    EXPECT_NE(listing.find("INBOX"), std::string::npos) << listing;
  }
}

const LoginRow k_login_rows[] = {
    {"Plain", Listener::plain, true, CURLE_OK},
    {"Starttls", Listener::starttls, true, CURLE_OK},
    {"ImplicitTls", Listener::implicit_tls, true, CURLE_OK},
    {"PlainWrongPassword", Listener::plain, false, CURLE_LOGIN_DENIED},
    {"ImplicitTlsWrongPassword", Listener::implicit_tls, false, CURLE_LOGIN_DENIED},
};
INSTANTIATE_TEST_SUITE_P(Listeners, DovecotFixtureLogin, ::testing::ValuesIn(k_login_rows),
                         RowName{});

struct FillRow {
  std::string name;
  std::string folder;
  int count;
};

void PrintTo(const FillRow& row, std::ostream* os) { *os << row.name; }

class DovecotFixtureFill : public DovecotFixture, public ::testing::WithParamInterface<FillRow> {};

TEST_P(DovecotFixtureFill, DeliversMessages) {
  const auto& row = GetParam();
  std::vector<std::string> messages;
  for (int i = 0; i < row.count; ++i) {
    messages.push_back("From: a@example.org\nSubject: m" + std::to_string(i) + "\n\nbody\n");
  }
  s_dovecot->fill(row.folder, messages);
  const auto status = s_dovecot->doveadm(
      {"-f", "tab", "mailbox", "status", "-u", s_dovecot->user(), "messages", row.folder});
  EXPECT_EQ(status, "mailbox\tmessages\n" + row.folder + "\t" + std::to_string(row.count) + "\n");
}

const FillRow k_fill_rows[] = {
    {"Inbox", "INBOX", 3},
    {"NestedFolder", "Work/Projects", 2},
    {"FolderWithSpace", "Old Mail", 1},
};
INSTANTIATE_TEST_SUITE_P(Folders, DovecotFixtureFill, ::testing::ValuesIn(k_fill_rows), RowName{});

// True if some live process mentions `needle` in its command line.
bool any_process_mentions(const std::string& needle) {
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::ifstream in(entry.path() / "cmdline", std::ios::binary);
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ifstream stat(entry.path() / "stat");
    std::string stat_line;
    std::getline(stat, stat_line);
    const bool zombie = stat_line.find(") Z ") != std::string::npos;
    if (!zombie && cmdline.find(needle) != std::string::npos) {
      return true;
    }
  }
  return false;
}

TEST(DovecotFixtureLifecycle, StopLeavesNoProcess) {
  TempDir dir;
  Dovecot dovecot(dir.path() / "dovecot");
  const auto master = dovecot.master_pid();
  ASSERT_TRUE(master.has_value());
  const auto before = dovecot.processes();
  // master, log, config, anvil, auth, stats at least.
  EXPECT_GE(before.size(), 4U);
  EXPECT_TRUE(any_process_mentions(dir.path().string()));

  dovecot.stop();
  EXPECT_FALSE(dovecot.master_pid().has_value());
  EXPECT_TRUE(process_tree(*master).empty());
  for (const pid_t pid : before) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(stat, line);
    EXPECT_TRUE(line.empty() || line.find(") Z ") != std::string::npos)
        << "pid " << pid << " still running: " << line;
  }
  EXPECT_FALSE(any_process_mentions(dir.path().string()));
}

TEST(DovecotFixtureLifecycle, StopIsIdempotent) {
  TempDir dir;
  Dovecot dovecot(dir.path() / "dovecot");
  dovecot.stop();
  EXPECT_NO_THROW(dovecot.stop());
  const auto again = run_command({dovecot_fixture_script().string(), "stop", dovecot.dir().string()});
  EXPECT_EQ(again.status, 0) << again.output;
  const auto status =
      run_command({dovecot_fixture_script().string(), "status", dovecot.dir().string()});
  EXPECT_NE(status.status, 0);
}

// CI without Dovecot must fail, not skip.
TEST(DovecotFixtureLifecycle, MissingDovecotIsAFailure) {
  TempDir dir;
  const auto result = run_command({"/usr/bin/env", "PATH=" + (dir.path() / "empty").string(),
                                   "/bin/bash", dovecot_fixture_script().string(), "start",
                                   (dir.path() / "dovecot").string()});
  EXPECT_EQ(result.status, 1) << result.output;
  EXPECT_NE(result.output.find("dovecot is not installed"), std::string::npos) << result.output;
}

} // namespace
} // namespace uidsync::test
