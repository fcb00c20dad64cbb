// SPDX-License-Identifier: GPL-3.0-or-later
// Exit codes, --json and the progress line of `uidsync sync`.
#include <uidsync/cli/commands.hpp>
#include <uidsync/cli/sync_report.hpp>
#include <uidsync/core/exit_code.hpp>

#include <fmt/format.h>

#include <array>
#include <utility>

namespace uidsync::cli {

namespace {

std::string json_error(const std::optional<core::Error>& error) {
  return error ? json_string(error->what()) : "null";
}

std::string json_strings(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    out += (i == 0 ? "" : ", ") + json_string(items[i]);
  }
  return out + "]";
}

// The <stats> members, without braces.
std::string stats_members(const sync::Stats& s) {
  const std::array<std::pair<const char*, std::uint64_t>, 14> fields{{
      {"fetched", s.fetched},
      {"adopted", s.adopted},
      {"appended", s.appended},
      {"flags_local", s.local_flags},
      {"flags_remote", s.remote_flags},
      {"deleted_local", s.local_deletes},
      {"deleted_remote", s.remote_deletes},
      {"held", s.held},
      {"failed", s.failed},
      {"quarantined", s.quarantined},
      {"quarantine_waiting", s.quarantine_waiting},
      {"released", s.released},
      {"anomalies", s.anomalies},
      {"bytes", s.bytes},
  }};
  std::string out;
  for (const auto& [key, value] : fields) {
    out += fmt::format("{}\"{}\": {}", out.empty() ? "" : ", ", key, value);
  }
  return out;
}

std::string folder_json(const sync::FolderResult& f) {
  return fmt::format("{{\"name\": {}, \"special_use\": {}, \"created_on_server\": {}, "
                     "\"reconnects\": {}, {}, \"error\": {}}}",
                     json_string(f.name), json_strings(f.special_use), f.created_on_server,
                     f.reconnects, stats_members(f.stats), json_error(f.error));
}

std::string account_json(const AccountReport& a) {
  std::string folders;
  for (const auto& f : a.result.folders) {
    folders += (folders.empty() ? "" : ", ") + folder_json(f);
  }
  const auto& r = a.result;
  return fmt::format("{{\"name\": {}, \"ok\": {}, \"error\": {}, \"warnings\": {}, "
                     "\"connections\": {}, \"compressed_connections\": {}, \"bytes_in\": {}, "
                     "\"bytes_out\": {}, \"imap_bytes_in\": {}, \"imap_bytes_out\": {}, "
                     "\"folders\": [{}], \"totals\": {{{}}}, "
                     "\"post_sync_cmd_error\": {}, \"exit_code\": {}}}",
                     json_string(a.name), r.ok() && a.hook_error.empty(), json_error(r.error),
                     json_strings(r.warnings), r.connections, r.compressed_connections,
                     r.bytes_in, r.bytes_out, r.imap_bytes_in, r.imap_bytes_out, folders,
                     stats_members(r.totals),
                     a.hook_error.empty() ? "null" : json_string(a.hook_error), exit_code(a));
}

} // namespace

int exit_code(const AccountReport& report) {
  if (!report.result.ok() || !report.hook_error.empty()) {
    return core::to_int(core::ExitCode::failed);
  }
  const auto& t = report.result.totals;
  if (t.held != 0 || t.quarantined != 0 || t.anomalies != 0) {
    return core::to_int(core::ExitCode::attention);
  }
  return core::to_int(core::ExitCode::ok);
}

int worst_exit_code(int a, int b) {
  const auto rank = [](int code) {
    if (code == core::to_int(core::ExitCode::ok)) {
      return 0;
    }
    return code == core::to_int(core::ExitCode::attention) ? 1 : 2;
  };
  return rank(b) > rank(a) ? b : a;
}

std::string sync_json(const std::vector<AccountReport>& accounts, int exit_code) {
  std::string items;
  for (const auto& a : accounts) {
    items += (items.empty() ? "" : ", ") + account_json(a);
  }
  return fmt::format("{}\"accounts\": [{}], \"exit_code\": {}}}", json_document_start(), items,
                     exit_code);
}

std::string human_bytes(std::uint64_t bytes) {
  constexpr std::array<const char*, 4> k_units{"KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024) {
    return fmt::format("{} B", bytes);
  }
  auto value = static_cast<double>(bytes) / 1024.0;
  std::size_t unit = 0;
  while (value >= 1024.0 && unit + 1 < k_units.size()) {
    value /= 1024.0;
    ++unit;
  }
  return fmt::format("{:.1f} {}", value, k_units[unit]);
}

std::string progress_line(const std::string& account, std::uint64_t folders_done,
                          std::uint64_t folders_total, std::uint64_t messages, std::uint64_t bytes,
                          double seconds) {
  if (folders_total == 0) {
    return account + ": listing folders";
  }
  std::string line = fmt::format("{}: {}/{} folders, {} messages, {}", account, folders_done,
                                 folders_total, messages, human_bytes(bytes));
  if (seconds > 0) {
    line +=
        ", " + human_bytes(static_cast<std::uint64_t>(static_cast<double>(bytes) / seconds)) + "/s";
  }
  return line;
}

} // namespace uidsync::cli
