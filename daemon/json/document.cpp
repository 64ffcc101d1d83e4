#include "daemon/json/document.hpp"

#include <rapidjson/error/en.h>

namespace askdesk::json {

core::result<document> document::parse(std::string_view text) {
  constexpr unsigned flags = rapidjson::kParseCommentsFlag | rapidjson::kParseTrailingCommasFlag |
                             rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag;
  auto doc = std::make_unique<rapidjson::Document>();
  doc->Parse<flags>(text.data(), text.size());
  if (doc->HasParseError()) {
    const std::size_t offset = std::min(doc->GetErrorOffset(), text.size());
    std::size_t line = 1, column = 1;
    for (std::size_t i = 0; i < offset; ++i) {
      if (text[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    return core::error{"invalid_json", "line " + std::to_string(line) + ", column " +
                                           std::to_string(column) + ": " +
                                           rapidjson::GetParseError_En(doc->GetParseError())};
  }
  return document(std::move(doc));
}

std::string_view describe_type(const rapidjson::Value& v) {
  switch (v.GetType()) {
    case rapidjson::kNullType:
      return "null";
    case rapidjson::kFalseType:
    case rapidjson::kTrueType:
      return "a boolean";
    case rapidjson::kObjectType:
      return "an object";
    case rapidjson::kArrayType:
      return "an array";
    case rapidjson::kStringType:
      return "a string";
    case rapidjson::kNumberType:
      return "a number";
  }
  return "a value";
}

std::string_view string_member(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject()) return {};
  const auto it = v.FindMember(key);
  if (it == v.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

bool bool_member(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject()) return false;
  const auto it = v.FindMember(key);
  return it != v.MemberEnd() && it->value.IsBool() && it->value.GetBool();
}

std::int64_t integer_member(const rapidjson::Value& v, const char* key, std::int64_t fallback) {
  if (!v.IsObject()) return fallback;
  const auto it = v.FindMember(key);
  return it != v.MemberEnd() && it->value.IsInt64() ? it->value.GetInt64() : fallback;
}

}  // namespace askdesk::json
