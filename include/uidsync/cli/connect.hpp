// SPDX-License-Identifier: GPL-3.0-or-later
// Opening an account's IMAP connection from its config: secrets are resolved here
// (password source or OAuth2 token command), and the config is mapped onto the
// transport's options.
#pragma once

#include <uidsync/core/config.hpp>
#include <uidsync/core/error.hpp>
#include <uidsync/imap/session.hpp>
#include <uidsync/net/curl_transport.hpp>
#include <uidsync/sync/account.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <vector>

namespace uidsync::cli {

// The transport options for `account`, without the secret.
net::ConnectOptions connect_options(const core::Account& account);

// Resolves the account's secret and connects. The result is authenticated.
// Fails (Scope::account) with the transport's or the secret source's message.
core::Result<std::unique_ptr<net::CurlTransport>> connect_account(const core::Account& account);

// Resolves the account's secret once (running password_cmd or oauth2_token_cmd
// once) and returns a thread-safe connector for the account runner, which may
// connect several times. Fails (Scope::account) like connect_account().
core::Result<sync::Connector> account_connector(const core::Account& account);

// The selectable folders (LIST "" "*" without \Noselect/\NonExistent entries).
// Fails with the session's error.
core::Result<std::vector<imap::MailboxList>> list_folders(imap::Session& session,
                                                          std::chrono::milliseconds timeout);

// --trace FILE: the file and the redacting trace writer on it.
struct TraceOutput {
  explicit TraceOutput(const std::filesystem::path& path) : file(path, std::ios::trunc) {}
  std::ofstream file;
  imap::Trace trace{file};
};

// Opens `path` for --trace; an empty path gives nullptr (no trace). Fails (fatal)
// when the file cannot be written.
core::Result<std::unique_ptr<TraceOutput>> open_trace(const std::filesystem::path& path);

} // namespace uidsync::cli
