// SPDX-License-Identifier: GPL-3.0-or-later
// UidSet: merged ranges, compact text form, splitting for command-length limits.
#include <uidsync/imap/uid_set.hpp>

#include <algorithm>
#include <charconv>

namespace uidsync::imap {

UidSet UidSet::of(const std::vector<std::uint32_t>& uids) {
  std::vector<std::uint32_t> sorted = uids;
  std::sort(sorted.begin(), sorted.end());
  UidSet set;
  for (auto uid : sorted) {
    if (!set.m_ranges.empty() && set.m_ranges.back().last >= uid) {
      continue;
    }
    if (!set.m_ranges.empty() && set.m_ranges.back().last + 1ull == uid) {
      set.m_ranges.back().last = uid;
    } else {
      set.m_ranges.push_back({uid, uid});
    }
  }
  return set;
}

void UidSet::add_range(std::uint32_t first, std::uint32_t last) {
  if (first > last) {
    std::swap(first, last);
  }
  auto it = std::lower_bound(m_ranges.begin(), m_ranges.end(), first,
                             [](const UidRange& r, std::uint32_t v) { return r.first < v; });
  it = m_ranges.insert(it, UidRange{first, last});
  // Merge with the neighbours that overlap or touch.
  if (it != m_ranges.begin()) {
    auto prev = std::prev(it);
    if (prev->last + 1ull >= it->first) {
      prev->last = std::max(prev->last, it->last);
      it = std::prev(m_ranges.erase(it));
    }
  }
  auto next = std::next(it);
  while (next != m_ranges.end() && it->last + 1ull >= next->first) {
    it->last = std::max(it->last, next->last);
    next = m_ranges.erase(next);
  }
}

bool UidSet::contains(std::uint32_t uid) const {
  auto it = std::upper_bound(m_ranges.begin(), m_ranges.end(), uid,
                             [](std::uint32_t v, const UidRange& r) { return v < r.first; });
  return it != m_ranges.begin() && std::prev(it)->last >= uid;
}

std::uint64_t UidSet::count() const {
  std::uint64_t n = 0;
  for (const auto& r : m_ranges) {
    n += static_cast<std::uint64_t>(r.last) - r.first + 1;
  }
  return n;
}

namespace {
std::string range_text(const UidRange& r) {
  if (r.first == r.last) {
    return std::to_string(r.first);
  }
  return std::to_string(r.first) + ":" + std::to_string(r.last);
}

std::optional<std::uint32_t> parse_number(std::string_view s) {
  std::uint32_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || ptr != s.data() + s.size()) {
    return std::nullopt;
  }
  return v;
}
} // namespace

std::string UidSet::to_string() const {
  std::string out;
  for (const auto& r : m_ranges) {
    if (!out.empty()) {
      out += ',';
    }
    out += range_text(r);
  }
  return out;
}

std::optional<UidSet> UidSet::parse(std::string_view text) {
  UidSet set;
  if (text.empty()) {
    return std::nullopt;
  }
  while (true) {
    auto comma = text.find(',');
    auto item = text.substr(0, comma);
    auto colon = item.find(':');
    auto first = parse_number(item.substr(0, colon));
    if (!first) {
      return std::nullopt;
    }
    auto last = first;
    if (colon != std::string_view::npos) {
      last = parse_number(item.substr(colon + 1));
      if (!last) {
        return std::nullopt;
      }
    }
    set.add_range(*first, *last);
    if (comma == std::string_view::npos) {
      return set;
    }
    text.remove_prefix(comma + 1);
  }
}

std::vector<UidSet> UidSet::split(std::size_t max_chars) const {
  std::vector<UidSet> out;
  UidSet current;
  std::size_t length = 0;
  for (const auto& r : m_ranges) {
    auto piece = range_text(r).size();
    auto needed = length == 0 ? piece : length + 1 + piece;
    if (length != 0 && needed > max_chars) {
      out.push_back(std::move(current));
      current = UidSet{};
      needed = piece;
    }
    current.m_ranges.push_back(r);
    length = needed;
  }
  if (!current.empty()) {
    out.push_back(std::move(current));
  }
  return out;
}

void PrintTo(const UidSet& set, std::ostream* os) { *os << '{' << set.to_string() << '}'; }

} // namespace uidsync::imap
