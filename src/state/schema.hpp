// SPDX-License-Identifier: GPL-3.0-or-later
// The state DB's schema ladder (internal to src/state).
#pragma once

#include <span>
#include <string_view>

namespace uidsync::state::detail {

// k_migrations[i] upgrades a DB at schema version i to version i + 1; version 0
// is an empty file. Append only: a released step is never edited, since DBs made
// by it exist on users' disks.
std::span<const std::string_view> migrations();

} // namespace uidsync::state::detail
