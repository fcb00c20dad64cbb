// SPDX-License-Identifier: GPL-3.0-or-later
// CurlTransport against the real private Dovecot: TLS modes, mechanisms, and every connect error.
#include "support/dovecot.hpp"
#include "support/table.hpp"

#include <uidsync/net/curl_transport.hpp>

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace uidsync::test {
namespace {

using net::AuthMechanism;
using net::ConnectOptions;
using net::CurlTransport;
using net::TlsMode;
using namespace std::chrono_literals;

// "sha256:<hex>" of a PEM certificate's DER encoding.
std::string pem_fingerprint(const std::filesystem::path& pem) {
  std::unique_ptr<FILE, decltype(&std::fclose)> f(std::fopen(pem.c_str(), "r"), &std::fclose);
  if (!f) {
    return {};
  }
  std::unique_ptr<X509, decltype(&X509_free)> cert(PEM_read_X509(f.get(), nullptr, nullptr, nullptr),
                                                   &X509_free);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!cert || X509_digest(cert.get(), EVP_sha256(), md, &len) != 1) {
    return {};
  }
  std::string out = "sha256:";
  char hex[3];
  for (unsigned int i = 0; i < len; ++i) {
    std::snprintf(hex, sizeof hex, "%02x", md[i]);
    out += hex;
  }
  return out;
}

// A TCP socket on 127.0.0.1 with a kernel-chosen port; listening or just bound.
class LocalSocket {
public:
  explicit LocalSocket(bool listening) : m_fd(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    auto* sa = reinterpret_cast<sockaddr*>(&addr);
    if (::bind(m_fd, sa, len) != 0 || ::getsockname(m_fd, sa, &len) != 0 ||
        (listening && ::listen(m_fd, 4) != 0)) {
      throw std::runtime_error("cannot bind a local socket");
    }
    m_port = ntohs(addr.sin_port);
  }
  ~LocalSocket() { ::close(m_fd); }
  LocalSocket(const LocalSocket&) = delete;
  LocalSocket& operator=(const LocalSocket&) = delete;
  int port() const { return m_port; }
  // True if a client connected (a pending connection can be accepted right now).
  bool was_contacted() const {
    pollfd pfd{m_fd, POLLIN, 0};
    return ::poll(&pfd, 1, 0) > 0;
  }

private:
  int m_fd;
  int m_port = 0;
};

class NetCurlTransport : public DovecotSuite {
protected:
  static ConnectOptions options(TlsMode tls) {
    ConnectOptions o;
    o.host = s_dovecot->host();
    o.tls = tls;
    o.port = tls == TlsMode::implicit ? s_dovecot->imaps_port() : s_dovecot->port();
    o.allow_plaintext = tls == TlsMode::none;
    o.ca_file = s_dovecot->ca_file().string();
    o.user = s_dovecot->user();
    o.secret = s_dovecot->password();
    o.auth = AuthMechanism::plain;
    o.connect_timeout = 10s;
    o.io_timeout = 10s;
    return o;
  }
};

enum class Ca { fixture, other, system };
enum class Pin { none, right, wrong, malformed };

struct ConnectRow {
  std::string name;
  TlsMode tls;
  AuthMechanism auth;
  Ca ca = Ca::fixture;
  Pin pin = Pin::none;
  std::string host{};       // empty: the fixture's 127.0.0.1
  std::string interface{};  // local address to connect from
  bool wrong_secret = false;
  bool other_port = false;  // connect to the other listener than `tls` expects
  bool allow_plaintext = true;
  std::string error{};      // empty: must succeed; else a substring of the message
  std::string hint{};       // a substring of the hint
};
void PrintTo(const ConnectRow& row, std::ostream* os) { *os << row.name; }

class NetCurlTransportConnect : public NetCurlTransport,
                                public ::testing::WithParamInterface<ConnectRow> {};

TEST_P(NetCurlTransportConnect, ConnectsOrExplains) {
  const auto& row = GetParam();
  auto o = options(row.tls);
  o.auth = row.auth;
  o.allow_plaintext = row.allow_plaintext;
  if (row.ca == Ca::other) {
    o.ca_file = s_dovecot->other_ca_file().string();
  } else if (row.ca == Ca::system) {
    o.ca_file.clear();
  }
  const std::string right_pin = pem_fingerprint(s_dovecot->server_cert());
  ASSERT_EQ(right_pin.size(), 7U + 64U);
  if (row.pin == Pin::right) {
    o.fingerprint = right_pin;
  } else if (row.pin == Pin::wrong) {
    o.fingerprint = "sha256:" + std::string(64, 'a');
  } else if (row.pin == Pin::malformed) {
    o.fingerprint = "md5:0011";
  }
  if (!row.host.empty()) {
    o.host = row.host;
  }
  o.interface = row.interface;
  if (row.wrong_secret) {
    o.secret = "not-the-password";
  }
  if (row.other_port) {
    o.port = row.tls == TlsMode::implicit ? s_dovecot->port() : s_dovecot->imaps_port();
    o.io_timeout = 2s;
  }
  auto t = CurlTransport::connect(o);
  if (row.error.empty()) {
    ASSERT_TRUE(t.has_value()) << t.error().what() << "\n" << s_dovecot->log_tail(5);
    EXPECT_EQ((*t)->greeting().rfind("* OK", 0), 0U) << (*t)->greeting();
    EXPECT_NE((*t)->capabilities().find("IMAP4rev1"), std::string::npos);
    EXPECT_EQ((*t)->server_fingerprint(), row.tls == TlsMode::none ? "" : right_pin);
    (*t)->logout_and_close(2s);
    return;
  }
  ASSERT_FALSE(t.has_value()) << "connected, but expected: " << row.error;
  EXPECT_EQ(t.error().scope, core::Scope::account);
  EXPECT_NE(t.error().message.find(row.error), std::string::npos) << t.error().what();
  EXPECT_NE(t.error().hint.find(row.hint), std::string::npos) << t.error().what();
  // Never echo a secret.
  EXPECT_EQ(t.error().what().find(o.secret), std::string::npos) << t.error().what();
}

const ConnectRow k_connect_rows[] = {
    {.name = "PlainTextPlain", .tls = TlsMode::none, .auth = AuthMechanism::plain},
    {.name = "PlainTextLogin", .tls = TlsMode::none, .auth = AuthMechanism::login},
    {.name = "StarttlsPlain", .tls = TlsMode::starttls, .auth = AuthMechanism::plain},
    {.name = "StarttlsLogin", .tls = TlsMode::starttls, .auth = AuthMechanism::login},
    {.name = "StarttlsAuto", .tls = TlsMode::starttls, .auth = AuthMechanism::automatic},
    {.name = "ImplicitPlain", .tls = TlsMode::implicit, .auth = AuthMechanism::plain},
    {.name = "ImplicitLogin", .tls = TlsMode::implicit, .auth = AuthMechanism::login},
    {.name = "ImplicitAuto", .tls = TlsMode::implicit, .auth = AuthMechanism::automatic},
    {.name = "ImplicitXoauth2", .tls = TlsMode::implicit, .auth = AuthMechanism::xoauth2},
    {.name = "ImplicitOauthbearer", .tls = TlsMode::implicit, .auth = AuthMechanism::oauthbearer},
    {.name = "StarttlsXoauth2", .tls = TlsMode::starttls, .auth = AuthMechanism::xoauth2},
    {.name = "PinWithoutCa", .tls = TlsMode::implicit, .auth = AuthMechanism::plain,
     .ca = Ca::system, .pin = Pin::right},
    {.name = "PinOverridesHostName", .tls = TlsMode::starttls, .auth = AuthMechanism::plain,
     .ca = Ca::system, .pin = Pin::right, .host = "localhost"},
    {.name = "WrongPasswordPlain", .tls = TlsMode::implicit, .auth = AuthMechanism::plain,
     .wrong_secret = true, .error = "Authentication failed", .hint = "password"},
    {.name = "WrongPasswordLogin", .tls = TlsMode::starttls, .auth = AuthMechanism::login,
     .wrong_secret = true, .error = "Authentication failed", .hint = "password"},
    {.name = "WrongPasswordPlainText", .tls = TlsMode::none, .auth = AuthMechanism::plain,
     .wrong_secret = true, .error = "refused by 127.0.0.1:", .hint = "password"},
    {.name = "WrongTokenXoauth2", .tls = TlsMode::implicit, .auth = AuthMechanism::xoauth2,
     .wrong_secret = true, .error = "\"status\":\"401\"", .hint = "token"},
    {.name = "WrongTokenOauthbearer", .tls = TlsMode::implicit, .auth = AuthMechanism::oauthbearer,
     .wrong_secret = true, .error = "Authentication failed", .hint = "token"},
    {.name = "UnknownCa", .tls = TlsMode::implicit, .auth = AuthMechanism::plain, .ca = Ca::other,
     .error = "is not trusted", .hint = "ca_file"},
    {.name = "UnknownCaStarttls", .tls = TlsMode::starttls, .auth = AuthMechanism::plain,
     .ca = Ca::other, .error = "is not trusted", .hint = "fingerprint = \"sha256:"},
    {.name = "SystemCasDoNotKnowTheServer", .tls = TlsMode::implicit,
     .auth = AuthMechanism::plain, .ca = Ca::system, .error = "is not trusted", .hint = "ca_file"},
    {.name = "HostNameMismatch", .tls = TlsMode::implicit, .auth = AuthMechanism::plain,
     .host = "localhost", .error = "is not issued for host \"localhost\"", .hint = "host name"},
    {.name = "ExpiredCertificate", .tls = TlsMode::implicit, .auth = AuthMechanism::plain,
     .interface = Dovecot::k_expired_cert_client_addr, .error = "has expired", .hint = "renew"},
    {.name = "WrongPinRefusedBeforeLogin", .tls = TlsMode::starttls, .auth = AuthMechanism::plain,
     .pin = Pin::wrong, .wrong_secret = true, .error = "refused before sending credentials",
     .hint = "intercepting"},
    {.name = "MalformedPin", .tls = TlsMode::implicit, .auth = AuthMechanism::plain,
     .pin = Pin::malformed, .error = "does not start with \"sha256:\"", .hint = "64 hex"},
    {.name = "NoStarttlsOffered", .tls = TlsMode::starttls, .auth = AuthMechanism::plain,
     .interface = Dovecot::k_no_starttls_client_addr, .error = "does not offer STARTTLS",
     .hint = "implicit"},
    {.name = "ImplicitTlsOnPlainPort", .tls = TlsMode::implicit, .auth = AuthMechanism::plain,
     .other_port = true, .error = "TLS handshake with 127.0.0.1:", .hint = "starttls"},
    {.name = "StarttlsOnImplicitPort", .tls = TlsMode::starttls, .auth = AuthMechanism::plain,
     .other_port = true, .error = "no answer within", .hint = "implicit"},
    {.name = "PinWithoutTls", .tls = TlsMode::none, .auth = AuthMechanism::plain, .pin = Pin::right,
     .error = "tls = \"none\"", .hint = "remove the fingerprint"},
    {.name = "PlainTextNotAllowed", .tls = TlsMode::none, .auth = AuthMechanism::plain,
     .allow_plaintext = false, .error = "without TLS", .hint = "allow_plaintext"},
};
INSTANTIATE_TEST_SUITE_P(Rows, NetCurlTransportConnect, ::testing::ValuesIn(k_connect_rows),
                         RowName{});

struct BadOptionsRow {
  std::string name;
  std::string user;
  std::string secret;
  std::string host;
  AuthMechanism auth;
  std::string error;
};
void PrintTo(const BadOptionsRow& row, std::ostream* os) { *os << row.name; }

class NetCurlTransportBadOptions : public ::testing::TestWithParam<BadOptionsRow> {};

// Refused before any I/O: libcurl would "succeed" without logging in.
TEST_P(NetCurlTransportBadOptions, RefusesBeforeConnecting) {
  const auto& row = GetParam();
  LocalSocket listening(true); // must never be contacted
  ConnectOptions o;
  o.port = listening.port();
  o.user = row.user;
  o.secret = row.secret;
  o.host = row.host;
  o.auth = row.auth;
  auto t = CurlTransport::connect(o);
  ASSERT_FALSE(t.has_value());
  EXPECT_NE(t.error().message.find(row.error), std::string::npos) << t.error().what();
  EXPECT_FALSE(listening.was_contacted());
}

const BadOptionsRow k_bad_options_rows[] = {
    {"EmptyUser", "", "pw", "127.0.0.1", AuthMechanism::plain, "no user name for 127.0.0.1"},
    {"EmptyPassword", "test", "", "127.0.0.1", AuthMechanism::plain, "no password for test@"},
    {"EmptyToken", "test", "", "127.0.0.1", AuthMechanism::xoauth2, "no OAuth2 token"},
    {"EmptyHost", "test", "pw", "", AuthMechanism::plain, "no IMAP host"},
};
INSTANTIATE_TEST_SUITE_P(Rows, NetCurlTransportBadOptions, ::testing::ValuesIn(k_bad_options_rows),
                         RowName{});

// Reads (in chunks of `chunk` bytes) until a line starting with `tag ` has arrived;
// returns everything read. Waits when nothing is available or, with `wait_always`,
// after every read (wait() must then report bytes TLS has buffered). Fails the test
// if the server goes quiet.
std::string read_until_tagged(net::Transport& t, const std::string& tag, std::size_t chunk = 4096,
                              bool wait_always = false) {
  std::string got;
  std::vector<char> buf(chunk);
  std::size_t scanned = 0;
  for (;;) {
    auto n = t.read_some(buf);
    if (!n) {
      ADD_FAILURE() << n.error().what();
      return got;
    }
    got.append(buf.data(), *n);
    for (auto eol = got.find("\r\n", scanned); eol != std::string::npos;
         eol = got.find("\r\n", scanned)) {
      if (got.compare(scanned, tag.size() + 1, tag + " ") == 0) {
        return got;
      }
      scanned = eol + 2;
    }
    if (*n == 0 || wait_always) {
      auto ready = t.wait(net::WaitFor::read, 5s);
      if (!ready || !*ready) {
        ADD_FAILURE() << "no reply to " << tag << " after " << got.size() << " bytes";
        return got;
      }
    }
  }
}

TEST_F(NetCurlTransport, RawRoundTripCountsBytes) {
  std::vector<std::string> lines;
  auto o = options(TlsMode::implicit);
  o.on_server_line = [&lines](std::string_view line) { lines.emplace_back(line); };
  auto t = CurlTransport::connect(o);
  ASSERT_TRUE(t.has_value()) << t.error().what();
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.front(), (*t)->greeting());
  // The post-login capability list (Dovecot adds IDLE, CONDSTORE... after login).
  EXPECT_NE((*t)->capabilities().find("QRESYNC"), std::string::npos) << (*t)->capabilities();
  // The same list, taken from the login's reply (Dovecot: an untagged CAPABILITY
  // just before the tagged OK), so the session need not ask again; the pre-login
  // list (with AUTH= and STARTTLS) must not be taken for it.
  const auto login_caps = (*t)->login_capabilities();
  EXPECT_NE(login_caps.find("QRESYNC"), std::string::npos) << login_caps;
  EXPECT_EQ(login_caps.find("AUTH="), std::string::npos) << login_caps;

  // With a user name and a password given, libcurl logged in or failed: no probe
  // command was sent, nothing was read after the login.
  EXPECT_EQ((*t)->bytes_written(), 0U);
  EXPECT_EQ((*t)->bytes_read(), 0U);
  ASSERT_TRUE((*t)->write_all("t1 NOOP\r\n", 5s).has_value());
  const std::string reply = read_until_tagged(**t, "t1");
  EXPECT_EQ(reply.rfind("t1 OK", 0), 0U) << reply;
  EXPECT_EQ((*t)->bytes_written(), std::string("t1 NOOP\r\n").size());
  EXPECT_EQ((*t)->bytes_read(), reply.size());

  // Nothing more to read: wait times out.
  auto ready = (*t)->wait(net::WaitFor::read, 100ms);
  ASSERT_TRUE(ready.has_value());
  EXPECT_FALSE(*ready);
  (*t)->close();
  (*t)->close();
  EXPECT_FALSE((*t)->write_all("t2 NOOP\r\n", 1s).has_value());
}

struct BulkRow {
  std::string name;
  TlsMode tls;
  std::size_t chunk; // read_some buffer size
  bool wait_always;  // wait() after every read_some
};
void PrintTo(const BulkRow& row, std::ostream* os) { *os << row.name; }

class NetCurlTransportBulk : public NetCurlTransport,
                             public ::testing::WithParamInterface<BulkRow> {};

// A 1 MiB literal read in small chunks: TLS keeps decrypted bytes that poll() cannot
// see, so a transport that waits before draining would stall here.
TEST_P(NetCurlTransportBulk, LargeMessageArrivesCompletely) {
  const auto& row = GetParam();
  const std::string folder = "Bulk" + row.name;
  std::string body;
  for (int i = 0; body.size() < 1024 * 1024; ++i) {
    body += "line " + std::to_string(i) + " of a large message, padded with text to be long\r\n";
  }
  s_dovecot->fill(folder, {"From: a@example.org\r\nSubject: big\r\n\r\n" + body});
  auto t = CurlTransport::connect(options(row.tls));
  ASSERT_TRUE(t.has_value()) << t.error().what();
  ASSERT_TRUE((*t)->write_all("t1 EXAMINE " + folder + "\r\nt2 FETCH 1 (BODY.PEEK[])\r\n", 5s)
                  .has_value());
  const auto before = (*t)->bytes_read();
  const std::string reply = read_until_tagged(**t, "t2", row.chunk, row.wait_always);
  EXPECT_NE(reply.find("t1 OK"), std::string::npos);
  EXPECT_NE(reply.find("t2 OK"), std::string::npos) << reply.substr(reply.size() - 200);
  EXPECT_GT(reply.size(), body.size());
  EXPECT_NE(reply.find(body.substr(body.size() - 200)), std::string::npos);
  EXPECT_EQ((*t)->bytes_read() - before, reply.size());
  (*t)->logout_and_close(2s);
}

const BulkRow k_bulk_rows[] = {
    {"ImplicitSmallChunks", TlsMode::implicit, 1000, false},
    {"ImplicitWaitAfterEveryRead", TlsMode::implicit, 1000, true},
    {"StarttlsLargeChunks", TlsMode::starttls, 65536, true},
    {"PlainText", TlsMode::none, 1000, true},
};
INSTANTIATE_TEST_SUITE_P(Rows, NetCurlTransportBulk, ::testing::ValuesIn(k_bulk_rows), RowName{});

TEST_F(NetCurlTransport, ServerLogoutIsReportedAsClosed) {
  auto t = CurlTransport::connect(options(TlsMode::starttls));
  ASSERT_TRUE(t.has_value()) << t.error().what();
  ASSERT_TRUE((*t)->write_all("t1 LOGOUT\r\n", 5s).has_value());
  const std::string reply = read_until_tagged(**t, "t1");
  EXPECT_NE(reply.find("* BYE"), std::string::npos) << reply;
  std::vector<char> buf(64);
  for (int i = 0; i < 100; ++i) {
    auto n = (*t)->read_some(buf);
    if (!n) {
      EXPECT_NE(n.error().message.find("closed by the server"), std::string::npos)
          << n.error().what();
      return;
    }
    ASSERT_TRUE((*t)->wait(net::WaitFor::read, 5s).has_value());
  }
  ADD_FAILURE() << "the server's close was never reported";
}

struct CloseRow {
  std::string name;
  bool logout;
  std::string dovecot_logs; // what Dovecot logs for the session's end
};
void PrintTo(const CloseRow& row, std::ostream* os) { *os << row.name; }

class NetCurlTransportClose : public NetCurlTransport,
                              public ::testing::WithParamInterface<CloseRow> {};

// Lines of the user's IMAP sessions (not the login processes) that contain `needle`.
std::size_t count_session_lines(const std::string& log, const std::string& needle) {
  std::istringstream in(log);
  std::size_t n = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.find("imap(test)") != std::string::npos && line.find(needle) != std::string::npos) {
      ++n;
    }
  }
  return n;
}

// close() leaves LOGOUT to the IMAP session; logout_and_close() sends it.
TEST_P(NetCurlTransportClose, EndsSessionAsDocumented) {
  const auto& row = GetParam();
  const auto log = s_dovecot->dir() / "log" / "dovecot.log";
  const auto before = count_session_lines(read_file(log), row.dovecot_logs);
  auto t = CurlTransport::connect(options(TlsMode::implicit));
  ASSERT_TRUE(t.has_value()) << t.error().what();
  if (row.logout) {
    (*t)->logout_and_close(5s);
  } else {
    (*t)->close();
  }
  std::size_t after = before;
  for (int i = 0; i < 100 && after == before; ++i) {
    std::this_thread::sleep_for(20ms);
    after = count_session_lines(read_file(log), row.dovecot_logs);
  }
  EXPECT_EQ(after, before + 1) << s_dovecot->log_tail(5);
}

const CloseRow k_close_rows[] = {
    {"LogoutAndClose", true, ": Logged out"},
    {"CloseOnly", false, "Disconnected: Connection closed"},
};
INSTANTIATE_TEST_SUITE_P(Rows, NetCurlTransportClose, ::testing::ValuesIn(k_close_rows), RowName{});

TEST_F(NetCurlTransport, LogoutAndCloseEndsTheSession) {
  auto t = CurlTransport::connect(options(TlsMode::implicit));
  ASSERT_TRUE(t.has_value()) << t.error().what();
  const auto written = (*t)->bytes_written();
  (*t)->logout_and_close(5s);
  EXPECT_EQ((*t)->bytes_written(), written + std::string("u1 LOGOUT\r\n").size());
  EXPECT_FALSE((*t)->wait(net::WaitFor::read, 10ms).has_value());
}

struct NetrcRow {
  std::string name;
  std::string netrc; // %PORT% etc. are not needed: netrc matches on the host only
  std::string error;
};
void PrintTo(const NetrcRow& row, std::ostream* os) { *os << row.name; }

class NetCurlTransportNetrc : public NetCurlTransport,
                              public ::testing::WithParamInterface<NetrcRow> {};

TEST_P(NetCurlTransportNetrc, LogsInOrProvesNotAuthenticated) {
  const auto& row = GetParam();
  TempDir dir;
  std::string netrc = row.netrc;
  for (auto pos = netrc.find("PASSWORD"); pos != std::string::npos; pos = netrc.find("PASSWORD")) {
    netrc.replace(pos, 8, s_dovecot->password());
  }
  write_file(dir / "netrc", netrc);
  auto o = options(TlsMode::implicit);
  o.user.clear();
  o.secret.clear();
  o.netrc_file = (dir / "netrc").string();
  auto t = CurlTransport::connect(o);
  if (row.error.empty()) {
    EXPECT_TRUE(t.has_value()) << t.error().what();
    return;
  }
  ASSERT_FALSE(t.has_value());
  EXPECT_NE(t.error().message.find(row.error), std::string::npos) << t.error().what();
}

const NetrcRow k_netrc_rows[] = {
    {"HostEntry", "machine 127.0.0.1 login test password PASSWORD\n", ""},
    // libcurl then reports success without logging in; the NAMESPACE probe catches it.
    {"NoEntryForHost", "machine imap.example.org login test password PASSWORD\n",
     "did not log in"},
};
INSTANTIATE_TEST_SUITE_P(Rows, NetCurlTransportNetrc, ::testing::ValuesIn(k_netrc_rows), RowName{});

TEST_F(NetCurlTransport, IgnoresProxyEnvironment) {
  LocalSocket closed(false);
  const std::string bogus = "socks5h://127.0.0.1:" + std::to_string(closed.port());
  ::setenv("all_proxy", bogus.c_str(), 1);
  ::setenv("imaps_proxy", bogus.c_str(), 1);
  auto t = CurlTransport::connect(options(TlsMode::implicit));
  ::unsetenv("all_proxy");
  ::unsetenv("imaps_proxy");
  EXPECT_TRUE(t.has_value()) << t.error().what();
}

TEST_F(NetCurlTransport, UsesConfiguredProxy) {
  LocalSocket closed(false);
  auto o = options(TlsMode::implicit);
  o.proxy = "socks5h://127.0.0.1:" + std::to_string(closed.port());
  auto t = CurlTransport::connect(o);
  ASSERT_FALSE(t.has_value());
  EXPECT_NE(t.error().what().find("proxy"), std::string::npos) << t.error().what();
}

TEST(NetCurlTransportNetwork, UnreachablePortIsANetworkError) {
  LocalSocket closed(false); // bound, not listening: connections are refused
  ConnectOptions o;
  o.host = "127.0.0.1";
  o.port = closed.port();
  o.user = "u";
  o.secret = "p";
  auto t = CurlTransport::connect(o);
  ASSERT_FALSE(t.has_value());
  EXPECT_NE(t.error().message.find("cannot connect to 127.0.0.1:" + std::to_string(o.port)),
            std::string::npos)
      << t.error().what();
  EXPECT_NE(t.error().hint.find("reachable"), std::string::npos);
}

TEST(NetCurlTransportNetwork, SilentServerTimesOut) {
  LocalSocket silent(true); // the kernel accepts; nobody ever greets
  ConnectOptions o;
  o.host = "127.0.0.1";
  o.port = silent.port();
  o.tls = TlsMode::none;
  o.allow_plaintext = true;
  o.user = "u";
  o.secret = "p";
  o.connect_timeout = 1s;
  o.io_timeout = 1s;
  const auto started = std::chrono::steady_clock::now();
  auto t = CurlTransport::connect(o);
  const auto elapsed = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(t.has_value());
  EXPECT_NE(t.error().message.find("no answer within"), std::string::npos) << t.error().what();
  EXPECT_GE(elapsed, 900ms);
  EXPECT_LT(elapsed, 5s);
  EXPECT_TRUE(silent.was_contacted()); // the check the option tests rely on works
}

} // namespace
} // namespace uidsync::test
