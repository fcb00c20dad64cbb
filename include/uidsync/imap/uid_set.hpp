// SPDX-License-Identifier: GPL-3.0-or-later
// UidSet: a set of UIDs (or sequence numbers) as sorted, merged ranges, in the
// compact IMAP form "1:5,7,9:12" (RFC 3501 §9 sequence-set, RFC 4315 uid-set).
#pragma once

#include <uidsync/core/types.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace uidsync::imap {

struct UidRange {
  std::uint32_t first = 0;
  std::uint32_t last = 0; // inclusive; first <= last
  bool operator==(const UidRange&) const = default;
};

class UidSet {
public:
  UidSet() = default;
  // Builds from any UIDs (unsorted, duplicates allowed).
  static UidSet of(const std::vector<std::uint32_t>& uids);

  void add(std::uint32_t uid) { add_range(uid, uid); }
  // Adds [first, last] (swapped if given backwards, as RFC 3501 allows "5:1").
  void add_range(std::uint32_t first, std::uint32_t last);

  bool empty() const { return m_ranges.empty(); }
  bool contains(std::uint32_t uid) const;
  // Number of UIDs in the set.
  std::uint64_t count() const;
  const std::vector<UidRange>& ranges() const { return m_ranges; }

  // The compact form: "1:5,7". Empty set gives "".
  std::string to_string() const;

  // Parses "1:5,7,9:12". Returns nullopt for anything but numbers, ':' and ','
  // ('*' means "largest in the mailbox", which only the caller knows). 0 is accepted:
  // servers do send UID 0, and callers flag it as an anomaly.
  static std::optional<UidSet> parse(std::string_view text);

  // Cuts the set into pieces whose compact form is at most `max_chars` characters
  // each, in ascending order, never splitting a range that fits. `max_chars` must be
  // at least 21 ("4294967295:4294967295"). Used to keep command lines under 8 KB
  // (Exchange answers "BAD Command Error. 10" to longer ones, nextcloud/mail#6038).
  std::vector<UidSet> split(std::size_t max_chars) const;

  bool operator==(const UidSet&) const = default;

private:
  std::vector<UidRange> m_ranges;
};

void PrintTo(const UidSet& set, std::ostream* os);

} // namespace uidsync::imap
