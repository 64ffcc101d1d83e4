// Errors travel as values across module boundaries: a short machine-readable code and a
// message that names the thing that failed ("redis 127.0.0.1:6379: connection refused").
// result<T> holds either a T or an error; status is result<void>. Plain values, no threads.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace askdesk::core {

struct error {
  std::string code;     // stable, for programs: "unavailable", "not_found", "invalid", ...
  std::string message;  // for people: says what failed and where
};

template <class T>
class [[nodiscard]] result {
 public:
  result(T value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  result(error e) : value_(std::move(e)) {}      // NOLINT(google-explicit-constructor)

  bool ok() const { return value_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // REQUIRES: ok()
  T& value() & { return std::get<0>(value_); }
  const T& value() const& { return std::get<0>(value_); }
  T&& value() && { return std::get<0>(std::move(value_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // REQUIRES: !ok()
  const error& err() const { return std::get<1>(value_); }

 private:
  std::variant<T, error> value_;
};

class [[nodiscard]] status {
 public:
  status() = default;
  status(error e) : error_(std::move(e)), failed_(true) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  // REQUIRES: !ok()
  const error& err() const { return error_; }

 private:
  error error_;
  bool failed_ = false;
};

}  // namespace askdesk::core
