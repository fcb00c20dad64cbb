// SPDX-License-Identifier: GPL-3.0-or-later
// uidsync check-config: validate the config and show what it resolves to.
#include <uidsync/cli/commands.hpp>
#include <uidsync/core/exit_code.hpp>
#include <uidsync/util/redact.hpp>

#include <array>
#include <cstdio>
#include <ostream>
#include <sstream>

namespace uidsync::cli {

namespace {

// Where the secret comes from, without the secret: "password_cmd", "netrc
// (/home/u/.netrc)", "oauth2_token_cmd" ... The command itself is not shown: users
// do write secrets into commands ("echo hunter2").
std::string password_kind(const core::Account& account) {
  using Kind = core::PasswordSource::Kind;
  if (account.password.kind == Kind::netrc) {
    return account.password.netrc.empty() ? "netrc (~/.netrc)"
                                          : "netrc (" + account.password.netrc.string() + ")";
  }
  if (account.password.kind == Kind::none && !account.oauth2_token_cmd.empty()) {
    return "oauth2_token_cmd";
  }
  return std::string(core::to_string(account.password.kind));
}

std::string folder_list(const core::Account& account, std::string_view sep, bool json) {
  std::string out;
  for (const auto& folder : account.folders) {
    out += (out.empty() ? "" : std::string(sep)) + (json ? json_string(folder) : folder);
  }
  return out;
}

void print_text(std::ostream& out, const core::Config& config) {
  out << "config " << config.source.string() << ": OK, " << config.accounts.size()
      << (config.accounts.size() == 1 ? " account" : " accounts") << '\n';
  for (const auto& a : config.accounts) {
    out << "\naccount " << a.name << '\n'
        << "  host             " << a.host << '\n'
        << "  port             " << a.port << '\n'
        << "  tls              " << core::to_string(a.tls) << '\n'
        << "  user             " << a.user << '\n'
        << "  auth             " << core::to_string(a.auth) << '\n'
        << "  password         " << password_kind(a) << ' ' << util::k_mask << '\n'
        << "  maildir          " << a.maildir.string() << '\n'
        << "  layout           " << core::to_string(a.layout) << '\n'
        << "  folders          " << folder_list(a, " ", false) << '\n'
        << "  direction        " << core::to_string(a.direction) << '\n'
        << "  max_connections  " << a.max_connections << '\n';
  }
  out << "\nSecrets are not resolved: check-config never runs password_cmd or "
         "oauth2_token_cmd.\n";
}

void print_json(std::ostream& out, const core::Config& config) {
  out << json_document_start() << "\"config\": " << json_string(config.source.string())
      << ", \"accounts\": [";
  bool first = true;
  for (const auto& a : config.accounts) {
    out << (first ? "" : ", ") << "{\"name\": " << json_string(a.name)
        << ", \"host\": " << json_string(a.host) << ", \"port\": " << a.port
        << ", \"tls\": " << json_string(core::to_string(a.tls))
        << ", \"user\": " << json_string(a.user)
        << ", \"auth\": " << json_string(core::to_string(a.auth))
        << ", \"password\": {\"source\": " << json_string(password_kind(a))
        << ", \"secret\": " << json_string(util::k_mask) << "}"
        << ", \"maildir\": " << json_string(a.maildir.string())
        << ", \"layout\": " << json_string(core::to_string(a.layout)) << ", \"folders\": ["
        << folder_list(a, ", ", true) << "]"
        << ", \"direction\": " << json_string(core::to_string(a.direction))
        << ", \"max_connections\": " << a.max_connections << "}";
    first = false;
  }
  out << "]}\n";
}

} // namespace

int cmd_check_config(const Context& ctx, const CheckConfigOptions& /*options*/) {
  auto config = ctx.load_config();
  if (!config) {
    ctx.report(config.error());
    return core::to_int(core::ExitCode::usage);
  }
  if (ctx.options.json) {
    print_json(ctx.out, *config);
  } else {
    print_text(ctx.out, *config);
  }
  return core::to_int(core::ExitCode::ok);
}

} // namespace uidsync::cli
