// A Redis reply as an owned value tree, copied out of hiredis before any handler runs, so
// handlers may keep it, move it or post it elsewhere. A command that never reached Redis
// (not connected, connection lost, timed out) gets a reply of kind `unavailable` that says
// why: callers answer 503 or retry, never report success. Plain value type.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace askdesk::store {

class reply {
 public:
  enum class kind { nil, status, error, integer, string, array, unavailable };

  reply() = default;
  static reply make_nil() { return reply(kind::nil); }
  static reply make_status(std::string s) { return reply(kind::status, std::move(s)); }
  static reply make_error(std::string s) { return reply(kind::error, std::move(s)); }
  static reply make_unavailable(std::string why) {
    return reply(kind::unavailable, std::move(why));
  }
  static reply make_string(std::string s) { return reply(kind::string, std::move(s)); }
  static reply make_integer(std::int64_t n) {
    reply r(kind::integer);
    r.integer_ = n;
    return r;
  }
  static reply make_array(std::vector<reply> elements) {
    reply r(kind::array);
    r.elements_ = std::move(elements);
    return r;
  }

  kind type() const { return kind_; }
  bool is_nil() const { return kind_ == kind::nil; }
  bool is_error() const { return kind_ == kind::error; }
  bool is_unavailable() const { return kind_ == kind::unavailable; }
  // An error from the server or no answer at all.
  bool failed() const { return is_error() || is_unavailable(); }
  bool is_string() const { return kind_ == kind::string || kind_ == kind::status; }
  bool is_integer() const { return kind_ == kind::integer; }
  bool is_array() const { return kind_ == kind::array; }

  // The text of a string, status, error or unavailable reply; "" otherwise.
  const std::string& str() const { return str_; }
  std::string&& take_str() { return std::move(str_); }
  std::int64_t integer() const { return integer_; }
  const std::vector<reply>& elements() const { return elements_; }
  std::vector<reply>& elements() { return elements_; }
  std::size_t size() const { return elements_.size(); }
  const reply& operator[](std::size_t i) const { return elements_[i]; }

  // An integer reply, or a string reply holding a decimal integer.
  std::optional<std::int64_t> as_integer() const;
  // For logs: the reply in redis-cli's notation, shortened.
  std::string describe() const;

 private:
  explicit reply(kind k, std::string s = {}) : kind_(k), str_(std::move(s)) {}

  kind kind_ = kind::nil;
  std::string str_;
  std::int64_t integer_ = 0;
  std::vector<reply> elements_;
};

// A string reply's text; "" for nil or anything else.
std::string text_of(const reply& r);

// A decimal field's value ("" or junk: 0).
std::int64_t number(std::string_view text);

// The first failed reply of a pipeline's, if any.
const reply* first_failure(const std::vector<reply>& replies);

}  // namespace askdesk::store
