// SPDX-License-Identifier: GPL-3.0-or-later
// Round trips of a sync, counted from its --trace transcript.
#include "support/round_trips.hpp"

#include <algorithm>
#include <charconv>
#include <string>

namespace uidsync::test {

namespace {

struct Line {
  int connection = 0;
  char side = '\0'; // 'C' or 'S'; '\0': not a transcript line
};

// "[3] C: u1 LIST …" -> {3, 'C'}; "S: * OK" -> {0, 'S'}.
Line parse(std::string_view text) {
  Line line;
  if (text.starts_with('[')) {
    const auto close = text.find("] ");
    if (close == std::string_view::npos ||
        std::from_chars(text.data() + 1, text.data() + close, line.connection).ec != std::errc{}) {
      return {};
    }
    text.remove_prefix(close + 2);
  }
  if (text.size() >= 2 && (text[0] == 'C' || text[0] == 'S') && text[1] == ':') {
    line.side = text[0];
  }
  return line;
}

} // namespace

RoundTrips count_round_trips(std::string_view trace) {
  RoundTrips out;
  std::map<int, char> last_side;    // connection -> side of its previous line
  std::map<int, std::size_t> start; // connection -> flights of the first one when it appeared
  int first = -1;
  while (!trace.empty()) {
    const auto eol = trace.find('\n');
    const auto text = trace.substr(0, eol);
    trace.remove_prefix(eol == std::string_view::npos ? trace.size() : eol + 1);
    const Line line = parse(text);
    if (line.side == '\0') {
      continue;
    }
    if (first < 0) {
      first = line.connection;
    }
    if (!start.contains(line.connection)) {
      start[line.connection] = line.connection == first ? 0 : out.per_connection[first];
      out.per_connection[line.connection];
    }
    char& previous = last_side[line.connection];
    if (line.side == 'C' && previous != 'C') {
      ++out.per_connection[line.connection];
    }
    previous = line.side;
  }
  for (const auto& [connection, flights] : out.per_connection) {
    out.critical_path = std::max(out.critical_path, start[connection] + flights);
  }
  return out;
}

} // namespace uidsync::test
