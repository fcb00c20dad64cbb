// SPDX-License-Identifier: GPL-3.0-or-later
#include <uidsync/core/types.hpp>

#include <array>
#include <utility>

namespace uidsync::core {

namespace {
constexpr std::array<std::pair<char, Flags::Bit>, 6> k_letters{{
    {'D', Flags::draft},
    {'F', Flags::flagged},
    {'P', Flags::passed},
    {'R', Flags::replied},
    {'S', Flags::seen},
    {'T', Flags::trashed},
}};
} // namespace

std::string Flags::to_maildir() const {
  std::string out;
  for (const auto& [letter, bit] : k_letters) {
    if (has(bit)) {
      out.push_back(letter);
    }
  }
  return out;
}

Flags Flags::from_maildir(std::string_view letters) {
  Flags f;
  for (char c : letters) {
    for (const auto& [letter, bit] : k_letters) {
      if (c == letter) {
        f.set(bit);
      }
    }
  }
  return f;
}

} // namespace uidsync::core
