// SPDX-License-Identifier: GPL-3.0-or-later
// Expected<T, E>: a value or an error, for failures the caller is meant to handle.
#pragma once

#include <cassert>
#include <type_traits>
#include <utility>
#include <variant>

namespace uidsync::util {

template <class E>
struct Unexpected {
  E error;
};

template <class E>
Unexpected<std::decay_t<E>> unexpected(E&& e) {
  return Unexpected<std::decay_t<E>>{std::forward<E>(e)};
}

// Holds either a `T` or an `E`. Accessing the wrong alternative is a programming
// error (asserted in debug builds, std::bad_variant_access otherwise).
template <class T, class E>
class Expected {
public:
  using value_type = T;
  using error_type = E;

  Expected(const T& v) : m_v(std::in_place_index<0>, v) {}
  Expected(T&& v) : m_v(std::in_place_index<0>, std::move(v)) {}
  template <class G>
  Expected(Unexpected<G> u) : m_v(std::in_place_index<1>, std::move(u.error)) {}

  bool has_value() const { return m_v.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { return std::get<0>(m_v); }
  const T& value() const& { return std::get<0>(m_v); }
  T&& value() && { return std::get<0>(std::move(m_v)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  E& error() & { return std::get<1>(m_v); }
  const E& error() const& { return std::get<1>(m_v); }
  E&& error() && { return std::get<1>(std::move(m_v)); }

  template <class U>
  T value_or(U&& fallback) const& {
    return has_value() ? value() : static_cast<T>(std::forward<U>(fallback));
  }

private:
  std::variant<T, E> m_v;
};

template <class E>
class Expected<void, E> {
public:
  Expected() = default;
  template <class G>
  Expected(Unexpected<G> u) : m_error(std::move(u.error)), m_ok(false) {}

  bool has_value() const { return m_ok; }
  explicit operator bool() const { return m_ok; }
  void value() const { assert(m_ok); }
  E& error() & { return m_error; }
  const E& error() const& { return m_error; }

private:
  E m_error{};
  bool m_ok = true;
};

} // namespace uidsync::util

// UIDSYNC_TRY(expr): evaluate an Expected; on error, return its error from the
// enclosing function (which must return an Expected with the same error type).
#define UIDSYNC_TRY(expr)                                                                          \
  do {                                                                                             \
    auto&& uidsync_try_result_ = (expr);                                                           \
    if (!uidsync_try_result_) {                                                                    \
      return ::uidsync::util::unexpected(std::move(uidsync_try_result_).error());                  \
    }                                                                                              \
  } while (false)
