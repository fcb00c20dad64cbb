// SPDX-License-Identifier: GPL-3.0-or-later
// XDG locations of the config and state, and the private state directory.
#include "support/table.hpp"
#include "support/temp_dir.hpp"

#include <uidsync/core/config.hpp>
#include <uidsync/core/paths.hpp>

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cstdlib>
#include <optional>
#include <string>

namespace uidsync::core {
namespace {

// Sets (or unsets, with nullopt) an environment variable for one test.
class ScopedEnv {
public:
  ScopedEnv(const char* name, const std::optional<std::string>& value) : m_name(name) {
    if (const char* old = std::getenv(name)) {
      m_old = old;
    }
    if (value) {
      ::setenv(name, value->c_str(), 1);
    } else {
      ::unsetenv(name);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;
  ~ScopedEnv() {
    if (m_old) {
      ::setenv(m_name, m_old->c_str(), 1);
    } else {
      ::unsetenv(m_name);
    }
  }

private:
  const char* m_name;
  std::optional<std::string> m_old;
};

struct XdgRow {
  std::string name;
  std::optional<std::string> xdg_config_home;
  std::optional<std::string> xdg_state_home;
  std::string state_dir_setting;
  std::string config_file; // expected; "~" stands for HOME=/home/tester
  std::string state_dir;
};

void PrintTo(const XdgRow& row, std::ostream* os) {
  *os << row.name;
}

class ConfigPathsXdg : public ::testing::TestWithParam<XdgRow> {};

TEST_P(ConfigPathsXdg, FollowTheBaseDirectorySpec) {
  const auto& row = GetParam();
  const ScopedEnv home("HOME", std::string("/home/tester"));
  const ScopedEnv config_home("XDG_CONFIG_HOME", row.xdg_config_home);
  const ScopedEnv state_home("XDG_STATE_HOME", row.xdg_state_home);
  Config config;
  config.general.state_dir = row.state_dir_setting;
  const auto config_file = default_config_file();
  const auto state = state_dir(config);
  ASSERT_TRUE(config_file.has_value());
  ASSERT_TRUE(state.has_value());
  EXPECT_EQ(config_file->string(), row.config_file);
  EXPECT_EQ(state->string(), row.state_dir);
}

INSTANTIATE_TEST_SUITE_P(
    Rows, ConfigPathsXdg,
    ::testing::Values(
        XdgRow{"defaults", std::nullopt, std::nullopt, "",
               "/home/tester/.config/uidsync/config.toml", "/home/tester/.local/state/uidsync"},
        XdgRow{"xdg_set", "/cfg", "/st", "", "/cfg/uidsync/config.toml", "/st/uidsync"},
        XdgRow{"xdg_empty_is_unset", "", "", "", "/home/tester/.config/uidsync/config.toml",
               "/home/tester/.local/state/uidsync"},
        XdgRow{"xdg_relative_is_ignored", "rel/cfg", "rel/st", "",
               "/home/tester/.config/uidsync/config.toml", "/home/tester/.local/state/uidsync"},
        XdgRow{"state_dir_setting_wins", std::nullopt, "/st", "/var/lib/me/uidsync",
               "/home/tester/.config/uidsync/config.toml", "/var/lib/me/uidsync"}),
    test::RowName{});

struct ExpandRow {
  std::string name;
  std::string path;
  std::string expected;
};

void PrintTo(const ExpandRow& row, std::ostream* os) {
  *os << row.name;
}

class ConfigPathsExpand : public ::testing::TestWithParam<ExpandRow> {};

TEST_P(ConfigPathsExpand, ReplacesOnlyALeadingTilde) {
  const ScopedEnv home("HOME", std::string("/home/tester"));
  const auto path = expand_home(GetParam().path);
  ASSERT_TRUE(path.has_value());
  EXPECT_EQ(path->string(), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(Rows, ConfigPathsExpand,
                         ::testing::Values(ExpandRow{"tilde", "~", "/home/tester"},
                                           ExpandRow{"tilde_slash", "~/Mail", "/home/tester/Mail"},
                                           ExpandRow{"other_user_untouched", "~bob/Mail",
                                                     "~bob/Mail"},
                                           ExpandRow{"absolute", "/srv/mail", "/srv/mail"},
                                           ExpandRow{"inner_tilde", "/a/~/b", "/a/~/b"}),
                         test::RowName{});

mode_t mode_of(const std::filesystem::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

TEST(ConfigPathsPrivateDir, CreatesParentsAndMode0700) {
  test::TempDir tmp;
  const auto dir = tmp / "a/b/uidsync";
  const auto made = ensure_private_dir(dir);
  ASSERT_TRUE(made.has_value()) << made.error().what();
  EXPECT_EQ(mode_of(dir), 0700U);
  EXPECT_EQ(lock_file(dir, "work"), dir / "work.lock");
}

TEST(ConfigPathsPrivateDir, TightensAnOpenExistingDir) {
  test::TempDir tmp;
  const auto dir = tmp / "open";
  std::filesystem::create_directory(dir);
  ::chmod(dir.c_str(), 0755);
  ASSERT_TRUE(ensure_private_dir(dir).has_value());
  EXPECT_EQ(mode_of(dir), 0700U);
}

TEST(ConfigPathsPrivateDir, FailsOnAFileNamingIt) {
  test::TempDir tmp;
  test::write_file(tmp / "file", "x");
  const auto made = ensure_private_dir(tmp / "file");
  ASSERT_FALSE(made.has_value());
  EXPECT_NE(made.error().message.find((tmp / "file").string() + " exists but is not a directory"),
            std::string::npos)
      << made.error().message;
}

} // namespace
} // namespace uidsync::core
