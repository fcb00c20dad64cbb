// SPDX-License-Identifier: GPL-3.0-or-later
// What a test's Dovecot holds, asked through doveadm (no IMAP client involved).
#pragma once

#include "support/dovecot.hpp"

#include <string>
#include <vector>

namespace uidsync::test {

// The UIDs in `folder` of `dovecot`'s user that match the doveadm search `query`
// ({"all"}, {"subject", "x"}, {"header", "Message-ID", "<id>"}), in the order doveadm
// prints them. Throws std::runtime_error (from Dovecot::doveadm) when doveadm fails.
std::vector<std::string> search_uids(Dovecot& dovecot, const std::string& folder,
                                     const std::vector<std::string>& query);

} // namespace uidsync::test
