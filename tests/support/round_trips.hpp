// SPDX-License-Identifier: GPL-3.0-or-later
// Round trips of a sync, counted from its --trace transcript.
#pragma once

#include <cstddef>
#include <map>
#include <string_view>

namespace uidsync::test {

// A round trip is one wait of a connection's client for the server before it
// can go on. In a transcript (lines "C: …"/"S: …", with "[n] " per connection
// when several share it) the client writes everything it can before it waits,
// so every maximal run of a connection's C: lines is one flight and costs one
// round trip: the number of flights is that connection's count.
//
// Connections run side by side, so what latency multiplies is the longest chain:
// a connection that first appears after connection 1 wrote k flights started
// from there (the pool opens after the folder listing), so its chain is k plus
// its own flights. `critical_path` is the longest of these chains (an upper
// bound: connection 1 may have gone on while the other one was connecting).
//
// Not in the transcript: the connect phase done by libcurl before the session
// starts (TCP and greeting, CAPABILITY, AUTHENTICATE, the login check), a fixed
// cost per connection that the network proxy's `exchanges` count includes.
struct RoundTrips {
  std::map<int, std::size_t> per_connection; // connection number (0: no prefix) -> flights
  std::size_t critical_path = 0;
};

// Counts the round trips of `trace` (the text of a --trace file).
RoundTrips count_round_trips(std::string_view trace);

} // namespace uidsync::test
