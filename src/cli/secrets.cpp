// SPDX-License-Identifier: GPL-3.0-or-later
// Password sources.
#include <uidsync/cli/secrets.hpp>
#include <uidsync/core/paths.hpp>
#include <uidsync/util/process.hpp>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <vector>

namespace uidsync::cli {

namespace {

std::string first_line(std::string_view text) {
  const auto end = text.find('\n');
  std::string_view line = text.substr(0, end);
  while (!line.empty() && line.back() == '\r') {
    line.remove_suffix(1);
  }
  return std::string(line);
}

struct NetrcToken {
  std::string text;
  int line = 0;
};

// Splits a netrc file into tokens; "..." quotes (with \" and \\), and a macdef
// body (up to the next empty line) is skipped.
std::vector<NetrcToken> netrc_tokens(const std::string& content) {
  std::vector<NetrcToken> tokens;
  int line = 1;
  std::size_t i = 0;
  while (i < content.size()) {
    const char c = content[i];
    if (c == '\n') {
      ++line;
      ++i;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r') {
      ++i;
      continue;
    }
    if (c == '#') { // a comment to the end of the line, as GNU inetutils and curl read it
      while (i < content.size() && content[i] != '\n') {
        ++i;
      }
      continue;
    }
    NetrcToken token{{}, line};
    if (c == '"') {
      for (++i; i < content.size() && content[i] != '"'; ++i) {
        if (content[i] == '\\' && i + 1 < content.size()) {
          ++i;
        }
        token.text.push_back(content[i]);
      }
      ++i;
    } else {
      while (i < content.size() && content[i] != ' ' && content[i] != '\t' && content[i] != '\n' &&
             content[i] != '\r') {
        token.text.push_back(content[i++]);
      }
    }
    if (token.text == "macdef") {
      const auto body_end = content.find("\n\n", i);
      for (std::size_t k = i; k < std::min(body_end, content.size()); ++k) {
        line += content[k] == '\n' ? 1 : 0;
      }
      i = body_end == std::string::npos ? content.size() : body_end;
      continue;
    }
    tokens.push_back(std::move(token));
  }
  return tokens;
}

struct NetrcEntry {
  std::string machine; // empty for "default"
  bool is_default = false;
  std::optional<std::string> login;
  std::optional<std::string> password;
  int line = 0;
};

std::vector<NetrcEntry> netrc_entries(const std::vector<NetrcToken>& tokens) {
  std::vector<NetrcEntry> entries;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const auto& word = tokens[i].text;
    const bool has_value = i + 1 < tokens.size();
    if (word == "default") {
      entries.push_back(NetrcEntry{{}, true, std::nullopt, std::nullopt, tokens[i].line});
    } else if (word == "machine" && has_value) {
      entries.push_back(
          NetrcEntry{tokens[++i].text, false, std::nullopt, std::nullopt, tokens[i].line});
    } else if ((word == "login" || word == "password" || word == "account") && has_value) {
      ++i;
      if (entries.empty()) {
        continue; // a value before any machine: ignored, as ftp(1) does
      }
      if (word == "login") {
        entries.back().login = tokens[i].text;
      } else if (word == "password") {
        entries.back().password = tokens[i].text;
      }
    }
  }
  return entries;
}

} // namespace

core::Result<std::string> run_secret_command(const core::Command& command, std::string_view what,
                                             std::chrono::milliseconds timeout) {
  const std::string name(what);
  if (command.empty()) {
    return core::fail(core::Scope::account, name + ": no command given");
  }
  const std::string& program = command.argv.front();
  auto result = util::run_process(command.argv, util::ProcessOptions{timeout, 64 * 1024});
  if (!result) {
    return core::fail(core::Scope::account, name + ": " + result.error(),
                      "check that the command works when run by hand");
  }
  if (result->exit_status != 0) {
    const std::string err = first_line(result->err);
    const std::string how =
        result->signaled ? "was killed by signal " + std::to_string(result->exit_status - 128)
                         : "exited with status " + std::to_string(result->exit_status);
    return core::fail(core::Scope::account,
                      name + ": '" + program + "' " + how + (err.empty() ? "" : ": " + err),
                      "check that the command works when run by hand");
  }
  std::string secret = first_line(result->out);
  if (secret.empty()) {
    return core::fail(core::Scope::account,
                      name + ": '" + program + "' printed nothing on its first line",
                      "it must print the secret on the first line of its output");
  }
  return secret;
}

core::Result<std::string> netrc_password(const std::filesystem::path& path,
                                         std::string_view machine, std::string_view login) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return core::fail(core::Scope::account,
                      "cannot read netrc file " + path.string() + ": " + std::strerror(errno),
                      "create it with a line 'machine " + std::string(machine) + " login " +
                          std::string(login) + " password ...' and chmod 600 it");
  }
  std::ostringstream content;
  content << in.rdbuf();
  const auto entries = netrc_entries(netrc_tokens(content.str()));
  const NetrcEntry* fallback = nullptr;
  for (const auto& entry : entries) {
    if (entry.is_default) {
      fallback = fallback != nullptr ? fallback : &entry;
      continue;
    }
    if (entry.machine != machine || (entry.login && *entry.login != login)) {
      continue;
    }
    if (!entry.password) {
      return core::fail(core::Scope::account,
                        path.string() + ":" + std::to_string(entry.line) + ": the entry for " +
                            std::string(machine) + " has no password",
                        "add 'password ...' to it");
    }
    return *entry.password;
  }
  if (fallback != nullptr && fallback->password &&
      (!fallback->login || *fallback->login == login)) {
    return *fallback->password;
  }
  return core::fail(core::Scope::account,
                    path.string() + ": no entry for machine " + std::string(machine) + " login " +
                        std::string(login),
                    "add a line 'machine " + std::string(machine) + " login " + std::string(login) +
                        " password ...'");
}

core::Result<std::string> resolve_password(const core::Account& account,
                                           std::chrono::milliseconds timeout) {
  using Kind = core::PasswordSource::Kind;
  const auto& source = account.password;
  switch (source.kind) {
  case Kind::command:
    return run_secret_command(source.command, "accounts." + account.name + ".password_cmd",
                              timeout);
  case Kind::inline_password:
    return source.secret;
  case Kind::netrc: {
    std::filesystem::path path = source.netrc;
    if (path.empty()) {
      auto home = core::home_dir();
      UIDSYNC_TRY(home);
      path = *home / ".netrc";
    }
    return netrc_password(path, account.host, account.user);
  }
  case Kind::none:
    break;
  }
  return core::fail(core::Scope::account, "account '" + account.name + "' has no password source",
                    "add password_cmd, netrc = true or password to [accounts." + account.name +
                        "]");
}

} // namespace uidsync::cli
