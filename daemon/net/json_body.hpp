// Reading the JSON body of an API request: one object, fields checked as they are read, each
// problem an `invalid` error that names the field. Unlike the config reader, no ${VAR}
// expansion: what a librarian types is taken literally. A body that is not valid UTF-8 is refused
// as invalid JSON, so every string read from it is valid UTF-8. Plain value; not thread-safe.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/core/result.hpp"
#include "daemon/json/document.hpp"
#include "daemon/net/http.hpp"

namespace askdesk::net {

class json_body {
 public:
  // "invalid_json" when the body is not one JSON object.
  static core::result<json_body> parse(std::string_view body);

  // A string of 1..max_chars code points, not only white space.
  core::result<std::string> text(std::string_view key, std::size_t max_chars) const;
  // nullopt when absent; an error when present but not a string within max_chars.
  core::result<std::optional<std::string>> optional_text(std::string_view key,
                                                         std::size_t max_chars) const;
  // nullopt when absent or null; an error when present but not a whole number in [min, max].
  core::result<std::optional<std::int64_t>> optional_integer(std::string_view key, std::int64_t min,
                                                             std::int64_t max) const;
  bool flag(std::string_view key) const;  // true only for a JSON true
  // A list of strings; absent is empty.
  core::result<std::vector<std::string>> strings(std::string_view key) const;

 private:
  explicit json_body(std::shared_ptr<json::document> doc) : doc_(std::move(doc)) {}
  const rapidjson::Value* find(std::string_view key) const;
  std::shared_ptr<json::document> doc_;
};

}  // namespace askdesk::net
