// SPDX-License-Identifier: GPL-3.0-or-later
// How `uidsync sync` shows progress on stderr: a pure decision from the facts of
// the terminal, and a renderer that turns progress snapshots into bytes to write.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace uidsync::cli {

// --color: auto (the default), always, never.
enum class ColourChoice { automatic, always, never };

// "auto", "always" or "never"; nullopt for anything else.
std::optional<ColourChoice> parse_colour_choice(std::string_view text);

// What the process knows about where stderr goes.
struct Terminal {
  bool is_tty = false;  // isatty(stderr)
  std::string term;     // $TERM; "" when unset
  int columns = 0;      // TIOCGWINSZ, else $COLUMNS, else 0 (unknown)
  std::string no_color; // $NO_COLOR; "" when unset
};

// Reads isatty(stderr), $TERM, the width (TIOCGWINSZ on stderr, then $COLUMNS)
// and $NO_COLOR.
Terminal stderr_terminal();

enum class ProgressMode {
  none,   // nothing
  redraw, // one line redrawn in place with "\r" + "\x1b[K", erased at the end
  lines,  // a plain line each time folders finish; no "\r", no escape sequences
};

struct Display {
  ProgressMode mode = ProgressMode::none;
  int width = 0;       // the longest line, in characters; 0: no limit
  bool colour = false; // log lines and the progress line may carry SGR colour
};

// The decision, without side effects:
// - colour: never/always as chosen; auto: a terminal whose TERM is set and not
//   "dumb", and NO_COLOR empty or unset (https://no-color.org). --color=always
//   wins over NO_COLOR, as an explicit option should.
// - progress: none with -q (`verbosity` < 0). On a terminal with TERM set and not
//   "dumb" and a width of at least 40 (unknown counts as 80): redraw, at most
//   width - 1 characters so the cursor never reaches the last column. On any
//   other terminal (dumb, no TERM, narrower than 40): lines of at most `width`
//   characters. Not a terminal (cron, a pipe): lines without a width limit with
//   -v, none otherwise.
Display decide_display(const Terminal& terminal, ColourChoice colour, int verbosity);

// One reading of the live counters of an account.
struct ProgressSnapshot {
  std::string account;
  std::uint64_t folders_done = 0;
  std::uint64_t folders_total = 0; // 0: still listing
  std::uint64_t messages = 0;
  std::uint64_t bytes = 0;
  double seconds = 0; // since the account started
};

// Turns snapshots into the bytes to write on stderr, following a Display.
// Not thread-safe; one renderer per account.
class ProgressRenderer {
public:
  explicit ProgressRenderer(Display display) : m_display(display) {}

  // The bytes for a new snapshot (often empty). redraw: "\r\x1b[K" and the
  // progress line (account name bold with colour) when the text changed. lines:
  // the progress line and "\n" when folders_done grew (or the listing ended).
  std::string update(const ProgressSnapshot& snapshot);

  // The bytes that end the display: redraw erases the line if one was drawn;
  // lines writes nothing.
  std::string finish();

private:
  Display m_display;
  std::string m_last;                     // the text last drawn (redraw)
  std::optional<std::uint64_t> m_folders; // folders_done last printed (lines)
};

// `text` cut to at most `width` characters (UTF-8 code points; 0: no limit).
std::string truncate_to_width(const std::string& text, int width);

} // namespace uidsync::cli
