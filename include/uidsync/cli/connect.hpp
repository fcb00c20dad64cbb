// SPDX-License-Identifier: GPL-3.0-or-later
// Opening an account's IMAP connection from its config: secrets are resolved here
// (password source or OAuth2 token command), and the config is mapped onto the
// transport's options.
#pragma once

#include <uidsync/core/config.hpp>
#include <uidsync/core/error.hpp>
#include <uidsync/net/curl_transport.hpp>

#include <memory>

namespace uidsync::cli {

// The transport options for `account`, without the secret.
net::ConnectOptions connect_options(const core::Account& account);

// Resolves the account's secret and connects. The result is authenticated.
// Fails (Scope::account) with the transport's or the secret source's message.
core::Result<std::unique_ptr<net::CurlTransport>> connect_account(const core::Account& account);

} // namespace uidsync::cli
