// SPDX-License-Identifier: GPL-3.0-or-later
// CurlTransport: an authenticated IMAP byte stream set up by libcurl (CONNECT_ONLY).
//
// libcurl does the TCP connect (and proxy), TLS or STARTTLS, certificate checks and SASL
// inside connect(); afterwards raw IMAP goes through curl_easy_send/curl_easy_recv, and we
// wait with poll() on CURLINFO_ACTIVESOCKET with our own timeouts. connect() proves the
// session is authenticated with one raw command (libcurl can report success without
// having logged in), so a returned transport is always in IMAP authenticated state.
//
// Secrets (password, bearer token) are handed to libcurl and never logged or kept in
// error messages. Our own raw commands use the tag prefix `u` (libcurl uses `A001`...).
#pragma once

#include <uidsync/core/error.hpp>
#include <uidsync/net/transport.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace uidsync::net {

// How the connection is protected. `starttls` is mandatory STARTTLS: a server that does
// not offer it is refused (never a silent fallback to cleartext).
enum class TlsMode { implicit, starttls, none };

// The SASL mechanism, forced with CURLOPT_LOGIN_OPTIONS (libcurl would otherwise prefer
// CRAM-MD5, NTLM or GSSAPI). `automatic` = PLAIN, or LOGIN when PLAIN is not offered.
enum class AuthMechanism { automatic, plain, login, xoauth2, oauthbearer };

struct ConnectOptions {
  std::string host;
  int port = 0; // 0: 993 for implicit TLS, 143 otherwise
  TlsMode tls = TlsMode::implicit;
  // tls = none is refused unless this is true (the config layer's allow_plaintext).
  bool allow_plaintext = false;
  std::string ca_file; // PEM bundle; empty: the system CAs
  // "sha256:<64 hex digits>" (colons allowed) of the server certificate (DER). When set,
  // the certificate is accepted if and only if it matches, during the TLS handshake and
  // before any credential is sent; CA and host-name checks are then not needed.
  std::string fingerprint;
  std::string user;
  // The password, or the bearer token for xoauth2/oauthbearer (the caller resolves it: cli::connect_account).
  std::string secret;
  AuthMechanism auth = AuthMechanism::automatic;
  // With an empty `secret`, credentials are looked up in this netrc file by libcurl.
  std::string netrc_file;
  // "socks5h://host:port" or "http://host:port"; empty: no proxy. Proxy environment
  // variables (all_proxy, imaps_proxy, ...) are always ignored.
  std::string proxy;
  // Local address to connect from (CURLOPT_INTERFACE); empty: any.
  std::string interface;
  // TCP connect (and proxy handshake) limit.
  std::chrono::milliseconds connect_timeout{30'000};
  // Limit for each server reply during connect (libcurl 7.88 counts whole seconds, so it
  // is rounded up), and for the authentication probe and logout_and_close's reply.
  std::chrono::milliseconds io_timeout{60'000};
  // Called with every server line of the connect phase (greeting, CAPABILITY, the
  // login reply), without CRLF, before connect() returns. Runs inside a libcurl
  // callback: it must not throw. May be empty.
  std::function<void(std::string_view)> on_server_line;
};

class CurlTransport final : public Transport {
public:
  // Connects, secures, logs in and proves authentication. Every failure is Scope::account
  // with a message naming host:port and a hint: cannot connect / timed out, certificate
  // not trusted / expired / wrong host name / fingerprint mismatch, server does not offer
  // STARTTLS, TLS handshake failed, login refused (with the server's own NO text).
  // Invalid options (empty host, user or secret; tls = none without allow_plaintext; a
  // malformed fingerprint) fail before any network I/O.
  static core::Result<std::unique_ptr<CurlTransport>> connect(const ConnectOptions& options);

  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  core::Result<std::size_t> read_some(std::span<char> buf) override;
  core::Result<void> write_all(std::string_view data, std::chrono::milliseconds timeout) override;
  core::Result<bool> wait(WaitFor what, std::chrono::milliseconds timeout) override;
  // Closes without LOGOUT (the IMAP session sends LOGOUT itself). Idempotent.
  void close() override;
  std::uint64_t bytes_read() const override { return m_bytes_read; }
  std::uint64_t bytes_written() const override { return m_bytes_written; }
  std::string login_capabilities() const override { return m_login_capabilities; }

  // Sends `u1 LOGOUT`, waits at most `timeout` for its tagged reply, then close().
  // For callers without an IMAP session. Never fails: the connection ends either way.
  void logout_and_close(std::chrono::milliseconds timeout);

  // The server greeting ("* OK ..."), the last capability list seen during connect
  // (post-login when the server sent one: "IMAP4rev1 IDLE ..."), and the server
  // certificate's "sha256:<hex>" (empty without TLS).
  const std::string& greeting() const { return m_greeting; }
  const std::string& capabilities() const { return m_capabilities; }
  const std::string& server_fingerprint() const { return m_server_fingerprint; }
  // "host:port" as connected to.
  const std::string& peer() const { return m_peer; }

  // The TLS protocol ("TLSv1.3") and the server certificate's subject and issuer
  // (RFC 2253 text) and expiry ("Nov 23 10:00:00 2027 GMT"); all empty without TLS.
  struct TlsInfo {
    std::string version;
    std::string subject;
    std::string issuer;
    std::string expires;
  };
  const TlsInfo& tls_info() const { return m_tls_info; }

  struct Impl; // libcurl/OpenSSL glue, in curl_transport.cpp

private:
  CurlTransport() = default;

  void* m_curl = nullptr; // CURL*
  int m_socket = -1;
  bool m_maybe_pending = false; // the last read_some stopped before CURLE_AGAIN
  std::uint64_t m_bytes_read = 0;
  std::uint64_t m_bytes_written = 0;
  std::chrono::milliseconds m_io_timeout{60'000};
  std::string m_peer;
  std::string m_greeting;
  std::string m_capabilities;
  std::string m_login_capabilities; // from the last tagged OK of the connect phase
  std::string m_untagged_capabilities; // "* CAPABILITY" since the last tagged line
  std::string m_server_fingerprint;
  TlsInfo m_tls_info;
  std::string m_expected_fingerprint; // normalised hex; empty: no pin
  bool m_fingerprint_mismatch = false;
  std::string m_last_refusal; // the server's NO/BAD text, or a decoded SASL error
  std::string m_bye;          // the text of a BYE seen before the login finished
  std::function<void(std::string_view)> m_on_server_line;
  std::string m_header_partial;
};

// Normalises "sha256:AB:cd:..." to 64 lower-case hex digits. Fails (Scope::account)
// on another prefix or a wrong length.
core::Result<std::string> parse_fingerprint(std::string_view text);

} // namespace uidsync::net
