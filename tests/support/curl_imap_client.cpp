// SPDX-License-Identifier: GPL-3.0-or-later
// A minimal libcurl CONNECT_ONLY IMAP client for tests.
#include "support/curl_imap_client.hpp"

#include <curl/curl.h>
#include <poll.h>

#include <cstdlib>
#include <utility>

namespace uidsync::test {

namespace {

CURL* handle(void* curl) {
  return static_cast<CURL*>(curl);
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* lines = static_cast<std::vector<std::string>*>(user);
  std::string line(data, size * count);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
    line.pop_back();
  }
  lines->push_back(std::move(line));
  return size * count;
}

} // namespace

CurlImapClient::CurlImapClient(const Options& options) {
  m_curl = curl_easy_init();
  CURL* curl = handle(m_curl);
  curl_easy_setopt(curl, CURLOPT_URL, options.url.c_str());
  if (!options.user.empty()) {
    // Without a user name libcurl connects but does not authenticate.
    curl_easy_setopt(curl, CURLOPT_USERNAME, options.user.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, options.password.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_LOGIN_OPTIONS, options.login_options.c_str());
  curl_easy_setopt(curl, CURLOPT_SASL_IR, options.sasl_ir ? 1L : 0L);
  curl_easy_setopt(curl, CURLOPT_PROXY, "");
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(curl, CURLOPT_SERVER_RESPONSE_TIMEOUT, 10L);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &m_connect_lines);
  curl_easy_setopt(curl, CURLOPT_CONNECT_ONLY, 1L);
  m_result = static_cast<int>(curl_easy_perform(curl));
  m_closed = m_result != CURLE_OK;
}

CurlImapClient::~CurlImapClient() {
  curl_easy_cleanup(handle(m_curl));
}

bool CurlImapClient::send(std::string_view bytes) {
  std::size_t done = 0;
  while (done < bytes.size() && !m_closed) {
    std::size_t sent = 0;
    const CURLcode rc = curl_easy_send(handle(m_curl), bytes.data() + done, bytes.size() - done, &sent);
    if (rc == CURLE_AGAIN) {
      curl_socket_t socket = CURL_SOCKET_BAD;
      curl_easy_getinfo(handle(m_curl), CURLINFO_ACTIVESOCKET, &socket);
      pollfd fd{socket, POLLOUT, 0};
      ::poll(&fd, 1, 1000);
      continue;
    }
    if (rc != CURLE_OK) {
      m_closed = true;
      return false;
    }
    done += sent;
  }
  return !m_closed;
}

// Waits up to `timeout` for bytes and drains them into m_buffer. False on timeout or close.
bool CurlImapClient::receive(std::chrono::milliseconds timeout) {
  if (m_closed) {
    return false;
  }
  curl_socket_t socket = CURL_SOCKET_BAD;
  curl_easy_getinfo(handle(m_curl), CURLINFO_ACTIVESOCKET, &socket);
  pollfd fd{socket, POLLIN, 0};
  if (::poll(&fd, 1, static_cast<int>(timeout.count())) <= 0) {
    return false;
  }
  bool got = false;
  while (true) {
    char chunk[65536];
    std::size_t n = 0;
    const CURLcode rc = curl_easy_recv(handle(m_curl), chunk, sizeof chunk, &n);
    if (rc == CURLE_AGAIN) {
      return got;
    }
    if (rc != CURLE_OK || n == 0) {
      m_closed = true;
      return got;
    }
    m_buffer.append(chunk, n);
    got = true;
  }
}

std::string CurlImapClient::read_until_tagged(const std::string& tag, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const std::string prefix = tag + " ";
  std::size_t pos = 0; // start of the next unscanned line; literals are skipped whole
  while (true) {
    const auto end = m_buffer.find("\r\n", pos);
    if (end != std::string::npos) {
      if (m_buffer.compare(pos, prefix.size(), prefix) == 0) {
        std::string out = m_buffer.substr(0, end + 2);
        m_buffer.erase(0, end + 2);
        return out;
      }
      std::size_t literal = 0;
      const auto open = m_buffer.rfind('{', end);
      if (end > pos && m_buffer[end - 1] == '}' && open != std::string::npos && open >= pos) {
        literal = std::strtoull(m_buffer.c_str() + open + 1, nullptr, 10);
      }
      if (end + 2 + literal <= m_buffer.size()) {
        pos = end + 2 + literal;
        continue;
      }
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || m_closed) {
      return std::exchange(m_buffer, std::string());
    }
    receive(left);
  }
}

std::string CurlImapClient::read_all(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!m_closed) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      break;
    }
    receive(left);
  }
  return std::exchange(m_buffer, std::string());
}

std::string CurlImapClient::command(const std::string& tag, const std::string& text) {
  send(tag + " " + text + "\r\n");
  return read_until_tagged(tag);
}

std::unique_ptr<CurlImapClient> connect_plain(const std::string& url, const std::string& user,
                                              const std::string& password) {
  CurlImapClient::Options options;
  options.url = url;
  options.user = user;
  options.password = password;
  return std::make_unique<CurlImapClient>(options);
}

} // namespace uidsync::test
