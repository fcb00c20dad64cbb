// SPDX-License-Identifier: GPL-3.0-or-later
// Vocabulary types shared by both sides of a sync.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

namespace uidsync::core {

// RFC 3501 §2.3.1.1: a UID is a non-zero 32-bit number, strictly ascending within
// one UIDVALIDITY. 0 is used here as "none"; a server sending UID 0 is an anomaly.
using Uid = std::uint32_t;
using UidValidity = std::uint32_t;
// RFC 7162: a mod-sequence is a positive 63-bit number.
using ModSeq = std::uint64_t;

// The six system flags that have a Maildir letter (Maildir spec "info" semantics).
// Keywords are kept elsewhere (state DB), never in a file name.
class Flags {
public:
  enum Bit : std::uint8_t {
    draft = 1 << 0,    // D  \Draft
    flagged = 1 << 1,  // F  \Flagged
    passed = 1 << 2,   // P  $Forwarded (no IMAP system flag)
    replied = 1 << 3,  // R  \Answered
    seen = 1 << 4,     // S  \Seen
    trashed = 1 << 5,  // T  \Deleted
  };

  constexpr Flags() = default;
  constexpr explicit Flags(std::uint8_t bits) : m_bits(bits) {}

  constexpr bool has(Bit b) const { return (m_bits & b) != 0; }
  constexpr void set(Bit b, bool on = true) {
    m_bits = on ? static_cast<std::uint8_t>(m_bits | b) : static_cast<std::uint8_t>(m_bits & ~b);
  }
  constexpr std::uint8_t bits() const { return m_bits; }
  constexpr bool empty() const { return m_bits == 0; }
  constexpr auto operator<=>(const Flags&) const = default;

  // Maildir letters in ASCII order ("DFPRST" subset), e.g. "FS".
  std::string to_maildir() const;
  // Parses Maildir letters; unknown letters are ignored (they are other tools' keywords).
  static Flags from_maildir(std::string_view letters);

private:
  std::uint8_t m_bits = 0;
};

} // namespace uidsync::core
