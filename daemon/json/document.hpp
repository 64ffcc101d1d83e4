// An owned, parsed JSON document. Config files may carry comments and trailing commas;
// request bodies are parsed the same way but must be strict UTF-8. Parsing is iterative,
// so deep nesting in hostile input cannot overflow the stack. Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <rapidjson/document.h>

#include "daemon/core/result.hpp"

namespace askdesk::json {

class document {
 public:
  // Errors say where: "line 3, column 14: missing a comma or '}' after an object member".
  static core::result<document> parse(std::string_view text);

  const rapidjson::Value& root() const { return *doc_; }

 private:
  explicit document(std::unique_ptr<rapidjson::Document> doc) : doc_(std::move(doc)) {}
  std::unique_ptr<rapidjson::Document> doc_;
};

// The name of a JSON value's type, for messages: "a string", "an object", ...
std::string_view describe_type(const rapidjson::Value& v);

// The string member `key` of `v`, or "" when `v` is not an object or the member is absent or
// not a string. Views into `v`.
std::string_view string_member(const rapidjson::Value& v, const char* key);
// The boolean member `key` of `v`; false when absent or not a boolean.
bool bool_member(const rapidjson::Value& v, const char* key);
// The integer member `key` of `v`, or `fallback` when absent or not an integer.
std::int64_t integer_member(const rapidjson::Value& v, const char* key, std::int64_t fallback = 0);

}  // namespace askdesk::json
