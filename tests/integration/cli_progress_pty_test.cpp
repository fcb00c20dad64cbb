// SPDX-License-Identifier: GPL-3.0-or-later
// `uidsync sync` on a real pseudo-terminal against a real Dovecot: a dumb or
// narrow terminal gets plain lines that fit, a capable one the redrawn line
// that never reaches the last column (bold unless NO_COLOR or --color=never),
// and -q nothing.
#include "support/dovecot.hpp"
#include "support/pty.hpp"
#include "support/sync_cli.hpp"
#include "support/table.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace uidsync::test {
namespace {

struct PtyRow {
  std::string name;
  std::vector<std::string> env;
  unsigned short columns;           // the terminal's size; 0: none
  std::size_t width;                // no line may be longer
  bool escapes;                     // "\r" and "\x1b[K" expected (else none at all)
  bool bold;                        // the account name in bold (SGR 1)
  std::vector<std::string> options; // before "sync"; "-q": no output at all
};

void PrintTo(const PtyRow& row, std::ostream* os) {
  *os << row.name;
}

const std::vector<PtyRow> k_pty_rows{
    {"dumb_terminal", {"TERM=dumb", "COLUMNS", "NO_COLOR"}, 80, 80, false, false, {}},
    {"narrow_by_columns", {"TERM=xterm", "COLUMNS=30", "NO_COLOR"}, 0, 30, false, false, {}},
    {"narrow_by_size", {"TERM=xterm", "COLUMNS=200", "NO_COLOR"}, 35, 35, false, false, {}},
    {"capable_terminal", {"TERM=xterm", "COLUMNS", "NO_COLOR"}, 60, 59, true, true, {}},
    {"capable_no_color", {"TERM=xterm", "COLUMNS", "NO_COLOR=1"}, 60, 59, true, false, {}},
    {"capable_color_never",
     {"TERM=xterm", "COLUMNS", "NO_COLOR"},
     60,
     59,
     true,
     false,
     {"--color=never"}},
    {"quiet", {"TERM=xterm", "COLUMNS", "NO_COLOR"}, 100, 0, false, false, {"-q"}},
};

// The lines of `output`, split at "\n" and at "\r" (each redraw starts a line).
std::vector<std::string> screen_lines(const std::string& output) {
  std::vector<std::string> out(1);
  for (const char c : output) {
    if (c == '\n' || c == '\r') {
      out.emplace_back();
    } else {
      out.back().push_back(c);
    }
  }
  return out;
}

// Characters on screen: UTF-8 code points, "\x1b[K" and SGR sequences not counted.
std::size_t visible_width(const std::string& line) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '\x1b') {
      const auto end = line.find_first_of("Km", i);
      i = end == std::string::npos ? line.size() : end;
      continue;
    }
    if ((static_cast<unsigned char>(line[i]) & 0xC0U) != 0x80U) {
      ++n;
    }
  }
  return n;
}

class CliProgressPty : public DovecotSuite, public ::testing::WithParamInterface<PtyRow> {
protected:
  void SetUp() override {
    DovecotSuite::SetUp();
    static bool filled = false;
    if (!filled) {
      for (const std::string folder : {"Pty/Ein", "Pty/Zwei", "Pty/Drei-mit-langem-Namen"}) {
        s_dovecot->fill(folder, {message(folder + "-1", 4096), message(folder + "-2")});
      }
      filled = true;
    }
    write_sync_config(m_temp.path(), *s_dovecot);
  }

  PtyResult sync(const std::vector<std::string>& env, unsigned short columns,
                 const std::vector<std::string>& options) {
    std::vector<std::string> argv{UIDSYNC_BINARY, "-c", (m_temp / "config.toml").string()};
    argv.insert(argv.end(), options.begin(), options.end());
    argv.insert(argv.end(), {"sync", "-f", "Pty/*"});
    return run_in_pty(argv, env, columns);
  }

  TempDir m_temp;
};

TEST_P(CliProgressPty, OutputFitsTheTerminal) {
  const auto& row = GetParam();
  const auto r = sync(row.env, row.columns, row.options);
  ASSERT_EQ(r.exit_status, 0) << r.output;
  if (row.options == std::vector<std::string>{"-q"}) {
    EXPECT_EQ(r.output, "");
    return;
  }
  ASSERT_FALSE(r.output.empty()) << "no progress at all";
  EXPECT_NE(r.output.find("3/3 folders"), std::string::npos) << r.output;
  if (row.escapes) {
    EXPECT_NE(r.output.find("\r\x1b[K"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.substr(r.output.size() - 4), "\r\x1b[K") << "the line is erased at the end";
    EXPECT_EQ(r.output.find('\n'), std::string::npos) << r.output;
  } else {
    EXPECT_EQ(r.output.find('\x1b'), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find('\r'), std::string::npos) << r.output;
    EXPECT_EQ(r.output.back(), '\n') << r.output;
  }
  EXPECT_EQ(r.output.find("\x1b[1m") != std::string::npos, row.bold) << r.output;
  for (const auto& line : screen_lines(r.output)) {
    EXPECT_LE(visible_width(line), row.width) << "line: " << line;
  }
}

INSTANTIATE_TEST_SUITE_P(Rows, CliProgressPty, ::testing::ValuesIn(k_pty_rows), RowName{});

} // namespace
} // namespace uidsync::test
