// SPDX-License-Identifier: GPL-3.0-or-later
// Reading and checking config.toml into a core::Config.
#pragma once

#include <uidsync/core/config.hpp>
#include <uidsync/core/error.hpp>

#include <cstddef>
#include <filesystem>
#include <string_view>

namespace uidsync::cli {

// Reads the TOML file at `path` and checks it completely. On success every
// account has its defaults filled in, ports resolved and "~" expanded. Inline
// passwords in a file that group or others can read add a warning to
// Config::warnings, which is also logged (logger "cli", warn).
// Fails (Scope::fatal, exit code 2) when the file cannot be read, or with every
// problem found, one per line, each as "FILE:LINE:COL: KEY: what is wrong; what
// to write instead" (unknown keys, wrong types and missing required keys get a
// "did you mean"). Never runs a command and never prints a secret.
core::Result<core::Config> load_config(const std::filesystem::path& path);

// The same checks on `text` already in memory; `source_name` stands for the file
// name in messages and in Config::source. No permission check.
core::Result<core::Config> parse_config(std::string_view text, std::string_view source_name);

// Optimal string alignment distance (Damerau-Levenshtein where a substring is
// edited once): insertions, deletions, substitutions and adjacent swaps, ASCII
// case-insensitive. Used for "did you mean".
std::size_t edit_distance(std::string_view a, std::string_view b);

} // namespace uidsync::cli
