// SPDX-License-Identifier: GPL-3.0-or-later
// A minimal libcurl CONNECT_ONLY IMAP client for tests: log in through libcurl, then raw bytes.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace uidsync::test {

// Connects with libcurl exactly as the product does (imap://, CURLOPT_CONNECT_ONLY,
// forced SASL mechanism), then lets a test send and read raw IMAP bytes.
// The connection is closed (without LOGOUT) by the destructor.
class CurlImapClient {
public:
  struct Options {
    std::string url;                          // "imap://127.0.0.1:<port>/"
    std::string user;                         // empty: connect without logging in
    std::string password;
    std::string login_options = "AUTH=PLAIN"; // CURLOPT_LOGIN_OPTIONS
    bool sasl_ir = true;                      // CURLOPT_SASL_IR
  };

  // Runs curl_easy_perform (greeting, CAPABILITY, AUTHENTICATE); see result().
  explicit CurlImapClient(const Options& options);
  ~CurlImapClient();
  CurlImapClient(const CurlImapClient&) = delete;
  CurlImapClient& operator=(const CurlImapClient&) = delete;

  // The CURLcode of the connect phase (0 = CURLE_OK, 67 = CURLE_LOGIN_DENIED).
  int result() const { return m_result; }
  // Server lines libcurl saw in the connect phase (header callback), CRLF stripped.
  const std::vector<std::string>& connect_lines() const { return m_connect_lines; }

  // Sends all of `bytes`. Returns false if the connection is gone.
  bool send(std::string_view bytes);
  // Reads until a complete line starting with "`tag` " arrived, the peer closed, or
  // `timeout` passed. Returns everything read (including earlier buffered bytes).
  std::string read_until_tagged(const std::string& tag,
                                std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Reads until the peer closes or `timeout` passes; returns the bytes.
  std::string read_all(std::chrono::milliseconds timeout);
  // Sends "`tag` `command`\r\n" and reads up to its tagged line.
  std::string command(const std::string& tag, const std::string& command);
  // True once the server closed the connection.
  bool closed() const { return m_closed; }

private:
  bool receive(std::chrono::milliseconds timeout);

  void* m_curl = nullptr;
  int m_result = -1;
  bool m_closed = false;
  std::string m_buffer;
  std::vector<std::string> m_connect_lines;
};

// Connects to `url` with AUTH=PLAIN (SASL-IR) as `user`/`password`.
std::unique_ptr<CurlImapClient> connect_plain(const std::string& url, const std::string& user,
                                              const std::string& password);

} // namespace uidsync::test
