// SPDX-License-Identifier: GPL-3.0-or-later
// CurlTransport: libcurl CONNECT_ONLY session setup, raw I/O, error mapping, certificate pinning.
#include <uidsync/net/curl_transport.hpp>

#include <uidsync/util/log.hpp>

#include <curl/curl.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>

namespace uidsync::net {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view k_auth_probe_tag = "u0";
constexpr std::string_view k_logout_tag = "u1";

CURL* handle(void* curl) { return static_cast<CURL*>(curl); }

void global_init() {
  static const CURLcode k_init = curl_global_init(CURL_GLOBAL_DEFAULT);
  (void)k_init;
}

std::string to_hex(const unsigned char* data, std::size_t size) {
  static constexpr char k_digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out += k_digits[data[i] >> 4];
    out += k_digits[data[i] & 0xf];
  }
  return out;
}

bool starts_with_ci(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), text.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) ==
                  std::tolower(static_cast<unsigned char>(b));
         });
}

std::string seconds_text(std::chrono::milliseconds ms) {
  const auto tenths = (ms.count() + 50) / 100;
  return std::to_string(tenths / 10) + (tenths % 10 != 0 ? "." + std::to_string(tenths % 10) : "") +
         " s";
}

// A failure of the connection itself (closed, reset, stalled past the timeout), marked
// core::Error::transient: connecting again may work (sync::Runner retries a few times).
util::Unexpected<core::Error> lost(std::string message, std::string hint = {}) {
  auto e = core::fail(core::Scope::account, std::move(message), std::move(hint));
  e.error.transient = true;
  return e;
}

// Decodes base64 (a SASL error challenge such as XOAUTH2's {"status":"401",...}).
std::string decode_base64(std::string_view text) {
  std::string out((text.size() / 4 + 1) * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) {
    return {};
  }
  out.resize(static_cast<std::size_t>(n));
  while (!out.empty() && out.back() == '\0') {
    out.pop_back();
  }
  return out;
}

// Index of our CurlTransport pointer in the SSL_CTX ex_data.
int ssl_ctx_index() {
  static const int k_index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return k_index;
}

// What `print` writes to a memory BIO, as a string.
template <class Print> std::string bio_text(Print print) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr) {
    return {};
  }
  print(bio);
  char* data = nullptr;
  const long size = BIO_ctrl(bio, BIO_CTRL_INFO, 0, &data); // BIO_get_mem_data, without its C cast
  std::string out = data == nullptr || size <= 0
                        ? std::string()
                        : std::string(data, static_cast<std::size_t>(size));
  BIO_free(bio);
  return out;
}

// A certificate name as RFC 2253 text ("CN=imap.example.org,O=Example").
std::string name_text(const X509_NAME* name) {
  return bio_text([name](BIO* bio) { X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253); });
}

// "Nov 23 10:00:00 2027 GMT".
std::string time_text(const ASN1_TIME* time) {
  return bio_text([time](BIO* bio) { ASN1_TIME_print(bio, time); });
}

} // namespace

// Static glue functions that need access to CurlTransport's members.
struct CurlTransport::Impl {
  // OpenSSL verify callback: records the server certificate's fingerprint and, with a
  // pin, decides alone (accepting a matching self-signed certificate, refusing any other
  // certificate during the handshake, before credentials are sent).
  static int verify(int preverify_ok, X509_STORE_CTX* store) {
    auto* ssl = static_cast<SSL*>(
        X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
    auto* self = ssl == nullptr ? nullptr
                                : static_cast<CurlTransport*>(
                                      SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ssl_ctx_index()));
    X509* leaf = X509_STORE_CTX_get0_cert(store);
    if (self == nullptr || leaf == nullptr) {
      return preverify_ok;
    }
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int md_len = 0;
    if (X509_digest(leaf, EVP_sha256(), md.data(), &md_len) != 1) {
      return 0;
    }
    const std::string hex = to_hex(md.data(), md_len);
    self->m_server_fingerprint = "sha256:" + hex;
    self->m_tls_info.version = SSL_get_version(ssl); // negotiated before the certificate
    self->m_tls_info.subject = name_text(X509_get_subject_name(leaf));
    self->m_tls_info.issuer = name_text(X509_get_issuer_name(leaf));
    self->m_tls_info.expires = time_text(X509_get0_notAfter(leaf));
    if (self->m_expected_fingerprint.empty()) {
      return preverify_ok;
    }
    if (hex == self->m_expected_fingerprint) {
      X509_STORE_CTX_set_error(store, X509_V_OK);
      return 1;
    }
    self->m_fingerprint_mismatch = true;
    X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
    return 0;
  }

  static CURLcode ssl_ctx(CURL* /*curl*/, void* ssl_ctx_ptr, void* user) {
    auto* ctx = static_cast<SSL_CTX*>(ssl_ctx_ptr);
    SSL_CTX_set_ex_data(ctx, ssl_ctx_index(), user);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, &Impl::verify);
    return CURLE_OK;
  }

  // Receives every server line of the connect phase (libcurl's pingpong layer).
  static size_t header(char* data, size_t size, size_t count, void* user) {
    auto* self = static_cast<CurlTransport*>(user);
    self->m_header_partial.append(data, size * count);
    for (auto eol = self->m_header_partial.find('\n'); eol != std::string::npos;
         eol = self->m_header_partial.find('\n')) {
      std::string line = self->m_header_partial.substr(0, eol);
      self->m_header_partial.erase(0, eol + 1);
      if (!line.empty() && line.back() == '\r') {
        line.pop_back();
      }
      server_line(*self, line);
    }
    return size * count;
  }

  static void server_line(CurlTransport& self, const std::string& line) {
    if (self.m_greeting.empty()) {
      self.m_greeting = line;
    }
    std::string_view rest(line);
    if (starts_with_ci(rest, "* BYE")) {
      self.m_bye = rest.size() > 6 ? std::string(rest.substr(6)) : std::string("(no text)");
    }
    const auto cap = rest.find("CAPABILITY ");
    if (starts_with_ci(rest, "* CAPABILITY ")) {
      self.m_capabilities = std::string(rest.substr(13));
      self.m_untagged_capabilities = self.m_capabilities;
    } else if (cap != std::string_view::npos && rest.find("[CAPABILITY ") != std::string_view::npos) {
      const auto end = rest.find(']', cap);
      self.m_capabilities = std::string(rest.substr(cap + 11, end == std::string_view::npos
                                                                  ? std::string_view::npos
                                                                  : end - cap - 11));
    }
    // A tagged NO/BAD from libcurl's commands ("A004 NO [AUTHENTICATIONFAILED] ...").
    const auto space = rest.find(' ');
    if (space != std::string_view::npos && rest[0] != '*' && rest[0] != '+') {
      const auto status = rest.substr(space + 1);
      // libcurl's last command of the connect phase is the login: the capabilities
      // in its tagged OK, or in an untagged CAPABILITY just before it (Dovecot sends
      // that), are the post-login ones.
      self.m_login_capabilities.clear();
      if (starts_with_ci(status, "OK [CAPABILITY ")) {
        const auto end = status.find(']');
        if (end != std::string_view::npos) {
          self.m_login_capabilities = std::string(status.substr(15, end - 15));
        }
      } else if (starts_with_ci(status, "OK")) {
        self.m_login_capabilities = self.m_untagged_capabilities;
      }
      self.m_untagged_capabilities.clear();
      if (starts_with_ci(status, "NO ") || starts_with_ci(status, "BAD ")) {
        self.m_last_refusal = std::string(status.substr(status.find(' ') + 1));
      }
    } else if (rest.size() > 2 && rest[0] == '+' && self.m_last_refusal.empty()) {
      // A SASL challenge; a JSON one is an OAuth2 error ({"status":"401",...}).
      const std::string decoded = decode_base64(rest.substr(2));
      if (!decoded.empty() && decoded.front() == '{') {
        self.m_last_refusal = decoded;
      }
    }
    if (self.m_on_server_line) {
      self.m_on_server_line(line);
    }
  }

  // A deliberately tiny reader for our own two commands (the auth probe and LOGOUT):
  // reads one byte at a time, so nothing after the tagged reply is consumed, skips
  // untagged lines and their literals, and returns the tagged reply after "<tag> "
  // (e.g. "OK Namespace completed."). The IMAP session has the real parser.
  static core::Result<std::string> read_tagged(CurlTransport& self, std::string_view tag,
                                               Clock::time_point deadline) {
    constexpr std::size_t k_max_line = 64 * 1024;
    std::string line;
    bool continuation = false; // the line continues a response after a literal
    for (;;) {
      char c = 0;
      auto n = self.read_some(std::span<char>(&c, 1));
      UIDSYNC_TRY(n);
      if (*n == 0) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        auto ready = self.wait(WaitFor::read, std::max(left, std::chrono::milliseconds(0)));
        UIDSYNC_TRY(ready);
        if (!*ready) {
          return lost("server " + self.m_peer + " did not answer within " +
                                seconds_text(self.m_io_timeout),
                            "the server or the network is stalled; try again later");
        }
        continue;
      }
      if (c != '\n') {
        line += c;
        if (line.size() > k_max_line) {
          return core::fail(core::Scope::account,
                            "server " + self.m_peer + " sent a line longer than 64 KiB");
        }
        continue;
      }
      if (!line.empty() && line.back() == '\r') {
        line.pop_back();
      }
      if (!continuation && line.size() > tag.size() && line.compare(0, tag.size(), tag) == 0 &&
          line[tag.size()] == ' ') {
        return line.substr(tag.size() + 1);
      }
      // "... {123}" or "{123+}": skip the literal's bytes.
      continuation = false;
      const auto open = line.rfind('{');
      if (!line.empty() && line.back() == '}' && open != std::string::npos) {
        const std::string digits = line.substr(open + 1, line.size() - open - 2);
        std::size_t skip = 0;
        for (const char d : digits) {
          if (std::isdigit(static_cast<unsigned char>(d)) != 0) {
            skip = skip * 10 + static_cast<std::size_t>(d - '0');
          }
        }
        for (; skip > 0;) {
          std::array<char, 512> sink{};
          auto got = self.read_some(std::span<char>(sink.data(), std::min(skip, sink.size())));
          UIDSYNC_TRY(got);
          if (*got == 0) {
            auto ready = self.wait(WaitFor::read, std::chrono::duration_cast<std::chrono::milliseconds>(
                                                      deadline - Clock::now()));
            UIDSYNC_TRY(ready);
            if (!*ready) {
              return lost("server " + self.m_peer + " stalled in the middle of a literal");
            }
          }
          skip -= *got;
        }
        continuation = true;
      }
      line.clear();
    }
  }
};

core::Result<std::string> parse_fingerprint(std::string_view text) {
  if (!starts_with_ci(text, "sha256:")) {
    return core::fail(core::Scope::account,
                      "fingerprint \"" + std::string(text) + "\" does not start with \"sha256:\"",
                      "write it as fingerprint = \"sha256:<64 hex digits>\"");
  }
  std::string hex;
  for (const char c : text.substr(7)) {
    if (c == ':') {
      continue;
    }
    if (std::isxdigit(static_cast<unsigned char>(c)) == 0) {
      hex.clear();
      break;
    }
    hex += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (hex.size() != 64) {
    return core::fail(core::Scope::account,
                      "fingerprint \"" + std::string(text) + "\" is not a SHA-256 digest",
                      "expected 64 hex digits (colons allowed) after \"sha256:\"");
  }
  return hex;
}

namespace {

const char* login_options(AuthMechanism auth) {
  switch (auth) {
  case AuthMechanism::automatic:
    // Never CRAM-MD5/NTLM/GSSAPI by accident: only these two, PLAIN preferred.
    return "AUTH=PLAIN;AUTH=LOGIN";
  case AuthMechanism::plain:
    return "AUTH=PLAIN";
  case AuthMechanism::login:
    return "AUTH=LOGIN";
  case AuthMechanism::xoauth2:
    return "AUTH=XOAUTH2";
  case AuthMechanism::oauthbearer:
    return "AUTH=OAUTHBEARER";
  }
  return "AUTH=PLAIN";
}

// "socks5h://user:secret@host:1080" -> "socks5h://host:1080" (for messages).
std::string without_userinfo(const std::string& url) {
  const auto scheme_end = url.find("://");
  const auto start = scheme_end == std::string::npos ? 0 : scheme_end + 3;
  const auto at = url.find('@', start);
  return at == std::string::npos ? url : url.substr(0, start) + url.substr(at + 1);
}

bool is_oauth(AuthMechanism auth) {
  return auth == AuthMechanism::xoauth2 || auth == AuthMechanism::oauthbearer;
}

core::Result<void> check_options(const ConnectOptions& o) {
  if (o.host.empty()) {
    return core::fail(core::Scope::account, "no IMAP host given", "set host in the account");
  }
  if (o.port < 0 || o.port > 65535) {
    return core::fail(core::Scope::account,
                      "port " + std::to_string(o.port) + " of " + o.host + " is out of range");
  }
  if (o.secret.empty() && o.netrc_file.empty()) {
    return core::fail(core::Scope::account,
                      "no " + std::string(is_oauth(o.auth) ? "OAuth2 token" : "password") +
                          " for " + o.user + "@" + o.host,
                      is_oauth(o.auth) ? "check that oauth2_token_cmd prints the access token"
                                       : "set password_cmd (or password) in the account");
  }
  if (o.user.empty() && o.netrc_file.empty()) {
    return core::fail(core::Scope::account, "no user name for " + o.host,
                      "set user in the account");
  }
  if (o.tls == TlsMode::none && !o.allow_plaintext) {
    return core::fail(core::Scope::account,
                      "refusing to send the password for " + o.host + " without TLS",
                      "use tls = \"implicit\" or \"starttls\"; set allow_plaintext = true only "
                      "for a trusted local server");
  }
  if (o.tls == TlsMode::none && !o.fingerprint.empty()) {
    return core::fail(core::Scope::account,
                      "a certificate fingerprint is set for " + o.host + " but tls = \"none\"",
                      "use tls = \"implicit\" or \"starttls\", or remove the fingerprint");
  }
  return {};
}

} // namespace

core::Result<std::unique_ptr<CurlTransport>> CurlTransport::connect(const ConnectOptions& o) {
  UIDSYNC_TRY(check_options(o));
  std::unique_ptr<CurlTransport> self(new CurlTransport());
  if (!o.fingerprint.empty()) {
    auto hex = parse_fingerprint(o.fingerprint);
    UIDSYNC_TRY(hex);
    self->m_expected_fingerprint = *hex;
  }
  const int port = o.port != 0 ? o.port : (o.tls == TlsMode::implicit ? 993 : 143);
  const bool ipv6 = o.host.find(':') != std::string::npos;
  self->m_peer = (ipv6 ? "[" + o.host + "]" : o.host) + ":" + std::to_string(port);
  self->m_io_timeout = o.io_timeout;
  self->m_on_server_line = o.on_server_line;

  global_init();
  CURL* h = curl_easy_init();
  if (h == nullptr) {
    return core::fail(core::Scope::fatal, "cannot initialise libcurl");
  }
  self->m_curl = h;
  const std::string url =
      std::string(o.tls == TlsMode::implicit ? "imaps://" : "imap://") + self->m_peer + "/";
  std::array<char, CURL_ERROR_SIZE> errbuf{};
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf.data());
  curl_easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "imap,imaps");
  if (!o.user.empty()) {
    curl_easy_setopt(h, CURLOPT_USERNAME, o.user.c_str());
  }
  if (o.secret.empty()) {
    curl_easy_setopt(h, CURLOPT_NETRC, static_cast<long>(CURL_NETRC_REQUIRED));
    curl_easy_setopt(h, CURLOPT_NETRC_FILE, o.netrc_file.c_str());
  } else if (is_oauth(o.auth)) {
    curl_easy_setopt(h, CURLOPT_XOAUTH2_BEARER, o.secret.c_str());
  } else {
    curl_easy_setopt(h, CURLOPT_PASSWORD, o.secret.c_str());
  }
  curl_easy_setopt(h, CURLOPT_LOGIN_OPTIONS, login_options(o.auth));
  // RFC 4959: the initial response goes with AUTHENTICATE when the server offers
  // SASL-IR, which saves the round trip of an empty "+" challenge.
  curl_easy_setopt(h, CURLOPT_SASL_IR, 1L);
  if (o.tls == TlsMode::starttls) {
    curl_easy_setopt(h, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
  }
  if (!o.ca_file.empty()) {
    curl_easy_setopt(h, CURLOPT_CAINFO, o.ca_file.c_str());
  }
  if (!self->m_expected_fingerprint.empty()) {
    // The pin is the server's identity; the verify callback alone decides.
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, &Impl::ssl_ctx);
  curl_easy_setopt(h, CURLOPT_SSL_CTX_DATA, self.get());
  // Always set: an empty string makes libcurl ignore all_proxy/imaps_proxy & co.
  curl_easy_setopt(h, CURLOPT_PROXY, o.proxy.c_str());
  if (!o.interface.empty()) {
    curl_easy_setopt(h, CURLOPT_INTERFACE, o.interface.c_str());
  }
  const auto io_seconds = std::max<long>(1, static_cast<long>((o.io_timeout.count() + 999) / 1000));
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(o.connect_timeout.count()));
  curl_easy_setopt(h, CURLOPT_SERVER_RESPONSE_TIMEOUT, io_seconds);
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 60L);
  curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 30L);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &Impl::header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, self.get());

  const auto started = Clock::now();
  const CURLcode rc = curl_easy_perform(h);
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  if (rc != CURLE_OK) {
    long verify_result = 0;
    curl_easy_getinfo(h, CURLINFO_SSL_VERIFYRESULT, &verify_result);
    const std::string detail = errbuf[0] != '\0' ? errbuf.data() : curl_easy_strerror(rc);
    const std::string& peer = self->m_peer;
    const std::string pin_hint =
        self->m_server_fingerprint.empty()
            ? std::string()
            : ", or pin it with fingerprint = \"" + self->m_server_fingerprint + "\"";
    util::logger("net")->debug("connect to {} failed after {} ms: curl error {} ({})", peer,
                               elapsed.count(), static_cast<int>(rc), detail);
    const std::string via = o.proxy.empty() ? "" : " through proxy " + without_userinfo(o.proxy);
    if (!self->m_bye.empty() && rc != CURLE_OPERATION_TIMEDOUT) {
      // libcurl reports a BYE in the greeting or the login as "unexpected response"
      // (curl error 8) or a read failure (56); the server's own words say more.
      return core::fail(core::Scope::account,
                        "server " + peer + via + " ended the session before the login finished: BYE " +
                            self->m_bye,
                        "the server refuses sessions now (maintenance, overload, too many "
                        "connections); retry later, or ask its operator");
    }
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_PROXY:
      return core::fail(core::Scope::account, "cannot connect to " + peer + via + ": " + detail,
                        "check the proxy setting");
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
      return core::fail(core::Scope::account, "cannot connect to " + peer + via + ": " + detail,
                        o.proxy.empty() ? "check host and port, and that the server is reachable"
                                        : "check the proxy setting, host and port");
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
      // The connection was closed or reset during the greeting, TLS or the login.
      return lost("connection to " + peer + via + " lost before the login finished: " + detail,
                  "check the network; it is tried again a few times");
    case CURLE_OPERATION_TIMEDOUT:
      if (!self->m_greeting.empty()) {
        // It greeted, then went silent: a stall, not a wrong port (which never greets).
        return lost("server " + peer + via + " stopped answering during the login after " +
                        seconds_text(elapsed) + " (" + detail + ")",
                    "check the network or the server's load; raise the account's timeout");
      }
      return core::fail(core::Scope::account,
                        "cannot connect to " + peer + via + ": no answer within " +
                            seconds_text(elapsed) + " (" + detail + ")",
                        o.tls == TlsMode::implicit
                            ? "check host and port, and that the server is reachable"
                            : "check host and port; if this port expects TLS at once (993), "
                              "use tls = \"implicit\"");
    case CURLE_PEER_FAILED_VERIFICATION:
      if (self->m_fingerprint_mismatch) {
        return core::fail(core::Scope::account,
                          "certificate of " + peer + " has fingerprint " +
                              self->m_server_fingerprint + ", not the pinned " +
                              o.fingerprint + "; refused before sending credentials",
                          "if the server's certificate was renewed, verify and update the "
                          "fingerprint; otherwise someone may be intercepting the connection");
      }
      if (verify_result == X509_V_ERR_CERT_HAS_EXPIRED) {
        return core::fail(core::Scope::account, "certificate of " + peer + " has expired",
                          "ask the server's operator to renew it" + pin_hint);
      }
      if (verify_result == X509_V_ERR_CERT_NOT_YET_VALID) {
        return core::fail(core::Scope::account, "certificate of " + peer + " is not valid yet",
                          "check this computer's clock");
      }
      // libcurl checks the host name itself after the handshake; a mismatch shows only
      // in its error text (the OpenSSL verify result stays X509_V_OK).
      if (detail.find("subject name") != std::string::npos ||
          detail.find("host name") != std::string::npos) {
        return core::fail(core::Scope::account,
                          "certificate of " + peer + " is not issued for host \"" + o.host +
                              "\" (" + detail + ")",
                          "use the host name the certificate names" + pin_hint);
      }
      return core::fail(core::Scope::account,
                        "certificate of " + peer + " is not trusted (" + detail + ")",
                        "set ca_file to the CA that signed it" + pin_hint);
    case CURLE_USE_SSL_FAILED:
      return core::fail(core::Scope::account,
                        "server " + peer +
                            " does not offer STARTTLS (possible downgrade attack); refusing "
                            "to send the password in cleartext",
                        "use tls = \"implicit\" with the server's TLS port (usually 993)");
    case CURLE_SSL_CONNECT_ERROR:
      if (detail.find("SSL_ERROR_SYSCALL") != std::string::npos ||
          detail.find("unexpected eof") != std::string::npos ||
          detail.find("reset by peer") != std::string::npos) {
        // Closed or reset in the middle of the handshake; a real TLS mismatch (wrong
        // version number, handshake failure alert) is not tried again.
        return lost("connection to " + peer + via + " lost during the TLS handshake: " + detail,
                    "check the network; it is tried again a few times");
      }
      return core::fail(core::Scope::account,
                        "TLS handshake with " + peer + " failed: " + detail,
                        o.tls == TlsMode::implicit
                            ? "is this an implicit-TLS port? For port 143 use tls = \"starttls\""
                            : "check the server's TLS configuration");
    case CURLE_LOGIN_DENIED: {
      const std::string reason =
          self->m_last_refusal.empty()
              ? "no reason given (the server may not offer AUTH=" +
                    std::string(login_options(o.auth) + 5) + ")"
              : self->m_last_refusal;
      return core::fail(core::Scope::account,
                        "login as " + o.user + " refused by " + peer + ": " + reason,
                        is_oauth(o.auth) ? "the token may have expired; check oauth2_token_cmd"
                                         : "check user and password, and the auth mechanism");
    }
    default:
      return core::fail(core::Scope::account,
                        "cannot connect to " + peer + via + ": " + detail + " (curl error " +
                            std::to_string(static_cast<int>(rc)) + ")",
                        o.proxy.empty() ? "" : "check the proxy setting");
    }
  }
  // `errbuf` dies with this frame, and curl_easy_send/recv write into the error
  // buffer when the peer has closed the connection.
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, static_cast<char*>(nullptr));
  curl_socket_t sock = CURL_SOCKET_BAD;
  if (curl_easy_getinfo(h, CURLINFO_ACTIVESOCKET, &sock) != CURLE_OK || sock == CURL_SOCKET_BAD) {
    return core::fail(core::Scope::account, "connected to " + self->m_peer + " but lost the socket");
  }
  self->m_socket = sock;
  // Stop feeding connect-phase lines; raw I/O from here on.
  self->m_on_server_line = nullptr;

  // libcurl returns OK without logging in when it has no credentials (a netrc file
  // without an entry for the host): then prove we are in authenticated state with a
  // command that is only valid there. With a user name and a secret given, libcurl
  // either logs in or fails the connect (CURLE_LOGIN_DENIED), so the proof would
  // only cost a round trip on every connection.
  if (o.user.empty() || o.secret.empty()) {
    UIDSYNC_TRY(self->write_all(std::string(k_auth_probe_tag) + " NAMESPACE\r\n", o.io_timeout));
    auto reply = Impl::read_tagged(*self, k_auth_probe_tag, Clock::now() + o.io_timeout);
    UIDSYNC_TRY(reply);
    if (!starts_with_ci(*reply, "OK")) {
      return core::fail(core::Scope::account,
                        "server " + self->m_peer + " did not log in " +
                            (o.user.empty() ? std::string("(no user name)") : o.user) +
                            " (it answered \"" + *reply + "\" after the login)",
                        o.secret.empty() ? "check that " + o.netrc_file + " has an entry for " + o.host
                                         : "check user and auth mechanism");
    }
  }
  util::logger("net")->debug("logged in to {} as {} in {} ms", self->m_peer, o.user,
                             elapsed.count());
  return self;
}

CurlTransport::~CurlTransport() { close(); }

void CurlTransport::close() {
  if (m_curl != nullptr) {
    curl_easy_cleanup(handle(m_curl));
    m_curl = nullptr;
  }
  m_socket = -1;
}

core::Result<std::size_t> CurlTransport::read_some(std::span<char> buf) {
  if (m_curl == nullptr) {
    return core::fail(core::Scope::account, "connection to " + m_peer + " is closed");
  }
  std::size_t total = 0;
  m_maybe_pending = false;
  while (total < buf.size()) {
    size_t n = 0;
    const CURLcode rc = curl_easy_recv(handle(m_curl), buf.data() + total, buf.size() - total, &n);
    if (rc == CURLE_AGAIN) {
      break;
    }
    if (rc != CURLE_OK) {
      return lost("connection to " + m_peer + " failed while reading: " + curl_easy_strerror(rc));
    }
    if (n == 0) {
      if (total > 0) {
        m_maybe_pending = true; // report the close on the next call
        break;
      }
      return lost("connection closed by the server " + m_peer);
    }
    total += n;
    m_bytes_read += n;
  }
  if (total == buf.size()) {
    m_maybe_pending = true; // TLS may hold more bytes than poll() can see
  }
  return total;
}

core::Result<void> CurlTransport::write_all(std::string_view data,
                                            std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!data.empty()) {
    if (m_curl == nullptr) {
      return core::fail(core::Scope::account, "connection to " + m_peer + " is closed");
    }
    size_t n = 0;
    const CURLcode rc = curl_easy_send(handle(m_curl), data.data(), data.size(), &n);
    if (rc == CURLE_AGAIN) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      auto ready = wait(WaitFor::write, std::max(left, std::chrono::milliseconds(0)));
      UIDSYNC_TRY(ready);
      if (!*ready) {
        return lost("timed out after " + seconds_text(timeout) + " writing to " + m_peer,
                    "the server or the network is stalled; try again later");
      }
      continue;
    }
    if (rc != CURLE_OK) {
      return lost("connection to " + m_peer + " failed while writing: " + curl_easy_strerror(rc));
    }
    data.remove_prefix(n);
    m_bytes_written += n;
  }
  return {};
}

core::Result<bool> CurlTransport::wait(WaitFor what, std::chrono::milliseconds timeout) {
  if (m_curl == nullptr || m_socket < 0) {
    return core::fail(core::Scope::account, "connection to " + m_peer + " is closed");
  }
  const bool want_read = (static_cast<unsigned>(what) & static_cast<unsigned>(WaitFor::read)) != 0;
  if (want_read && m_maybe_pending) {
    return true;
  }
  pollfd pfd{};
  pfd.fd = m_socket;
  pfd.events = static_cast<short>((want_read ? POLLIN : 0) |
                                  ((static_cast<unsigned>(what) &
                                    static_cast<unsigned>(WaitFor::write)) != 0
                                       ? POLLOUT
                                       : 0));
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    const int rc = ::poll(&pfd, 1, static_cast<int>(std::clamp<long long>(left, 0, 1 << 30)));
    if (rc > 0) {
      return true;
    }
    if (rc == 0) {
      return false;
    }
    if (errno != EINTR) {
      return core::fail(core::Scope::account,
                        "cannot wait for " + m_peer + ": " + std::strerror(errno));
    }
  }
}

void CurlTransport::logout_and_close(std::chrono::milliseconds timeout) {
  if (m_curl != nullptr &&
      write_all(std::string(k_logout_tag) + " LOGOUT\r\n", timeout).has_value()) {
    (void)Impl::read_tagged(*this, k_logout_tag, Clock::now() + timeout);
  }
  close();
}

} // namespace uidsync::net
