// SPDX-License-Identifier: GPL-3.0-or-later
// Names and defaults of the configuration model.
#include <uidsync/core/config.hpp>

#include <arpa/inet.h>

namespace uidsync::core {

bool wants_compression(const Account& account) {
  if (account.compress) {
    return *account.compress;
  }
  std::string host = account.host;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host == "localhost" || host == "localhost.") {
    return false;
  }
  in_addr v4{};
  if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) != 127;
  }
  in6_addr v6{};
  if (::inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    return !IN6_IS_ADDR_LOOPBACK(&v6);
  }
  return true;
}

std::string_view to_string(Tls tls) {
  switch (tls) {
  case Tls::implicit:
    return "implicit";
  case Tls::starttls:
    return "starttls";
  case Tls::none:
    return "none";
  }
  return "implicit";
}

std::string_view to_string(Auth auth) {
  switch (auth) {
  case Auth::automatic:
    return "auto";
  case Auth::plain:
    return "plain";
  case Auth::login:
    return "login";
  case Auth::xoauth2:
    return "xoauth2";
  case Auth::oauthbearer:
    return "oauthbearer";
  }
  return "auto";
}

std::string_view to_string(Layout layout) {
  switch (layout) {
  case Layout::fs:
    return "fs";
  case Layout::maildir_plus_plus:
    return "maildir++";
  }
  return "fs";
}

std::string_view to_string(Direction direction) {
  switch (direction) {
  case Direction::two_way:
    return "two-way";
  case Direction::pull:
    return "pull";
  }
  return "two-way";
}

std::string_view to_string(PasswordSource::Kind kind) {
  switch (kind) {
  case PasswordSource::Kind::none:
    return "none";
  case PasswordSource::Kind::command:
    return "password_cmd";
  case PasswordSource::Kind::inline_password:
    return "password";
  case PasswordSource::Kind::netrc:
    return "netrc";
  }
  return "none";
}

std::uint16_t default_port(Tls tls) {
  return tls == Tls::implicit ? 993 : 143;
}

const Account* Config::find(std::string_view name) const {
  for (const auto& account : accounts) {
    if (account.name == name) {
      return &account;
    }
  }
  return nullptr;
}

} // namespace uidsync::core
