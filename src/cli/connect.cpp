// SPDX-License-Identifier: GPL-3.0-or-later
// Account config -> authenticated transport.
#include <uidsync/cli/connect.hpp>
#include <uidsync/cli/secrets.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace uidsync::cli {

namespace {

net::TlsMode tls_mode(core::Tls tls) {
  switch (tls) {
  case core::Tls::implicit:
    return net::TlsMode::implicit;
  case core::Tls::starttls:
    return net::TlsMode::starttls;
  case core::Tls::none:
    return net::TlsMode::none;
  }
  return net::TlsMode::implicit;
}

net::AuthMechanism mechanism(core::Auth auth) {
  switch (auth) {
  case core::Auth::automatic:
    return net::AuthMechanism::automatic;
  case core::Auth::plain:
    return net::AuthMechanism::plain;
  case core::Auth::login:
    return net::AuthMechanism::login;
  case core::Auth::xoauth2:
    return net::AuthMechanism::xoauth2;
  case core::Auth::oauthbearer:
    return net::AuthMechanism::oauthbearer;
  }
  return net::AuthMechanism::automatic;
}

bool uses_token(core::Auth auth) {
  return auth == core::Auth::xoauth2 || auth == core::Auth::oauthbearer;
}

} // namespace

net::ConnectOptions connect_options(const core::Account& account) {
  net::ConnectOptions o;
  o.host = account.host;
  o.port = account.port;
  o.tls = tls_mode(account.tls);
  o.allow_plaintext = account.allow_plaintext;
  o.ca_file = account.ca_file.string();
  o.fingerprint = account.fingerprint.empty() ? "" : "sha256:" + account.fingerprint;
  o.user = account.user;
  o.auth = mechanism(account.auth);
  o.proxy = account.proxy;
  o.interface = account.bind_address.empty() ? "" : "host!" + account.bind_address;
  o.connect_timeout = account.timeout;
  o.io_timeout = account.timeout;
  return o;
}

namespace {

core::Result<net::ConnectOptions> options_with_secret(const core::Account& account) {
  net::ConnectOptions o = connect_options(account);
  auto secret = uses_token(account.auth)
                    ? run_secret_command(account.oauth2_token_cmd,
                                         "accounts." + account.name + ".oauth2_token_cmd",
                                         std::chrono::seconds(30))
                    : resolve_password(account);
  UIDSYNC_TRY(secret);
  o.secret = std::move(*secret);
  return o;
}

} // namespace

core::Result<std::unique_ptr<net::CurlTransport>> connect_account(const core::Account& account) {
  auto o = options_with_secret(account);
  UIDSYNC_TRY(o);
  return net::CurlTransport::connect(*o);
}

core::Result<sync::Connector> account_connector(const core::Account& account) {
  auto o = options_with_secret(account);
  UIDSYNC_TRY(o);
  return sync::Connector(
      [options = std::move(*o)]() -> core::Result<std::unique_ptr<net::Transport>> {
        auto t = net::CurlTransport::connect(options);
        UIDSYNC_TRY(t);
        return std::unique_ptr<net::Transport>(std::move(*t));
      });
}

core::Result<std::vector<imap::MailboxList>> list_folders(imap::Session& session,
                                                          std::chrono::milliseconds timeout) {
  return sync::list_server_folders(session, timeout);
}

core::Result<std::unique_ptr<TraceOutput>> open_trace(const std::filesystem::path& path) {
  if (path.empty()) {
    return std::unique_ptr<TraceOutput>();
  }
  // The transcript holds headers and server data: private (0600) whatever the umask,
  // also when an older, readable file is overwritten. Devices and pipes are left alone.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd >= 0) {
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
      (void)::fchmod(fd, 0600);
    }
    ::close(fd);
  }
  auto out = std::make_unique<TraceOutput>(path);
  if (!out->file) {
    return core::fail(core::Scope::fatal, "cannot write the trace file " + path.string(),
                      "check that its directory exists and is writable");
  }
  return out;
}

} // namespace uidsync::cli
