// SPDX-License-Identifier: GPL-3.0-or-later
// Errors say how much is broken: a message, a folder, an account, or the whole run.
#pragma once

#include <uidsync/util/expected.hpp>

#include <stdexcept>
#include <string>
#include <string_view>

namespace uidsync::core {

// How much of the work a failure invalidates. The engine aborts exactly that much:
// a `message` failure quarantines one UID, a `folder` failure skips the folder,
// an `account` failure ends the account's sync, `fatal` ends the run.
// Persisted in the state DB: never renumber.
enum class Scope : int { message = 0, folder = 1, account = 2, fatal = 3 };

std::string_view to_string(Scope scope);

struct Error {
  Scope scope = Scope::fatal;
  std::string message; // what is wrong, naming the file:line, folder or UID
  std::string hint;    // what the user can do about it; may be empty
  // The connection broke (closed, reset, or silent past the timeout) rather than being
  // refused: the same step may succeed when tried again. Set by the transport; a login
  // refusal, a certificate problem or a config error is never transient.
  bool transient = false;

  // "message" or "message (hint)" for one-line output.
  std::string what() const;
};

template <class T>
using Result = util::Expected<T, Error>;

inline util::Unexpected<Error> fail(Scope scope, std::string message, std::string hint = {}) {
  return util::unexpected(Error{scope, std::move(message), std::move(hint)});
}

// Exception form of Error, for code paths where unwinding is the clearer choice
// (deep inside a parser callback, say). Catch it at the scope it names.
class Failure : public std::runtime_error {
public:
  explicit Failure(Error e) : std::runtime_error(e.what()), m_error(std::move(e)) {}
  const Error& error() const noexcept { return m_error; }

private:
  Error m_error;
};

} // namespace uidsync::core
