// SPDX-License-Identifier: GPL-3.0-or-later
#include <uidsync/core/error.hpp>

namespace uidsync::core {

std::string_view to_string(Scope scope) {
  switch (scope) {
  case Scope::message:
    return "message";
  case Scope::folder:
    return "folder";
  case Scope::account:
    return "account";
  case Scope::fatal:
    return "fatal";
  }
  return "fatal";
}

std::string Error::what() const {
  if (hint.empty()) {
    return message;
  }
  return message + " (" + hint + ")";
}

} // namespace uidsync::core
