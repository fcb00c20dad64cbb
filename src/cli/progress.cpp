// SPDX-License-Identifier: GPL-3.0-or-later
// The progress display of `uidsync sync`: what the terminal allows, and the bytes.
#include <uidsync/cli/progress.hpp>
#include <uidsync/cli/sync_report.hpp>

#include <sys/ioctl.h>
#include <unistd.h>

#include <charconv>
#include <system_error>
#include <cstdlib>

namespace uidsync::cli {

namespace {

constexpr int k_min_redraw_width = 40;
constexpr int k_default_width = 80;

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

bool capable(const Terminal& t) {
  return t.is_tty && !t.term.empty() && t.term != "dumb";
}

} // namespace

std::optional<ColourChoice> parse_colour_choice(std::string_view text) {
  if (text == "auto") {
    return ColourChoice::automatic;
  }
  if (text == "always") {
    return ColourChoice::always;
  }
  if (text == "never") {
    return ColourChoice::never;
  }
  return std::nullopt;
}

Terminal stderr_terminal() {
  Terminal t;
  t.is_tty = ::isatty(STDERR_FILENO) == 1;
  t.term = env("TERM");
  t.no_color = env("NO_COLOR");
  winsize size{};
  if (t.is_tty && ::ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) {
    t.columns = size.ws_col;
  } else {
    const std::string columns = env("COLUMNS");
    int value = 0;
    const auto [end, ec] = std::from_chars(columns.data(), columns.data() + columns.size(), value);
    if (ec == std::errc() && end == columns.data() + columns.size() && value > 0) {
      t.columns = value;
    }
  }
  return t;
}

Display decide_display(const Terminal& terminal, ColourChoice colour, int verbosity) {
  Display d;
  switch (colour) {
  case ColourChoice::always:
    d.colour = true;
    break;
  case ColourChoice::never:
    d.colour = false;
    break;
  case ColourChoice::automatic:
    d.colour = capable(terminal) && terminal.no_color.empty();
    break;
  }
  if (verbosity < 0) {
    return d;
  }
  if (!terminal.is_tty) {
    d.mode = verbosity > 0 ? ProgressMode::lines : ProgressMode::none;
    return d;
  }
  const int width = terminal.columns > 0 ? terminal.columns : k_default_width;
  if (capable(terminal) && width >= k_min_redraw_width) {
    d.mode = ProgressMode::redraw;
    d.width = width - 1;
  } else {
    d.mode = ProgressMode::lines;
    d.width = width;
  }
  return d;
}

std::string truncate_to_width(const std::string& text, int width) {
  if (width <= 0) {
    return text;
  }
  int chars = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if ((byte & 0xC0U) != 0x80U) { // the first byte of a code point
      if (chars == width) {
        return text.substr(0, i);
      }
      ++chars;
    }
  }
  return text;
}

std::string ProgressRenderer::update(const ProgressSnapshot& s) {
  const std::string line =
      progress_line(s.account, s.folders_done, s.folders_total, s.messages, s.bytes, s.seconds);
  if (m_display.mode == ProgressMode::lines) {
    if (s.folders_total == 0 || s.folders_done == 0 || m_folders == s.folders_done) {
      return {};
    }
    m_folders = s.folders_done;
    return truncate_to_width(line, m_display.width) + "\n";
  }
  if (m_display.mode != ProgressMode::redraw) {
    return {};
  }
  std::string text = truncate_to_width(line, m_display.width);
  if (text == m_last) {
    return {};
  }
  m_last = text;
  if (m_display.colour && text.size() > s.account.size() &&
      text.compare(0, s.account.size(), s.account) == 0) {
    text = "\x1b[1m" + s.account + "\x1b[0m" + text.substr(s.account.size());
  }
  return "\r\x1b[K" + text;
}

std::string ProgressRenderer::finish() {
  if (m_display.mode != ProgressMode::redraw || m_last.empty()) {
    return {};
  }
  m_last.clear();
  return "\r\x1b[K";
}

} // namespace uidsync::cli
