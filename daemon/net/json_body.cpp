#include "daemon/net/json_body.hpp"

#include "daemon/core/text.hpp"

namespace askdesk::net {

namespace {

bool blank(std::string_view s) { return s.find_first_not_of(" \t\r\n") == std::string_view::npos; }

core::error invalid(std::string_view key, std::string_view what) {
  return {"invalid", std::string(key) + ": " + std::string(what)};
}

}  // namespace

core::result<json_body> json_body::parse(std::string_view body) {
  auto doc = json::document::parse(body);
  if (!doc) return core::error{"invalid_json", "the body is not valid JSON: " + doc.err().message};
  if (!doc->root().IsObject()) return core::error{"invalid_json", "the body must be a JSON object"};
  return json_body(std::make_shared<json::document>(std::move(doc.value())));
}

const rapidjson::Value* json_body::find(std::string_view key) const {
  const auto& root = doc_->root();
  const auto it =
      root.FindMember(rapidjson::Value(key.data(), static_cast<rapidjson::SizeType>(key.size())));
  return it == root.MemberEnd() ? nullptr : &it->value;
}

core::result<std::optional<std::string>> json_body::optional_text(std::string_view key,
                                                                  std::size_t max_chars) const {
  const auto* v = find(key);
  if (!v || v->IsNull()) return std::optional<std::string>();
  if (!v->IsString()) return invalid(key, "must be a string");
  std::string s(v->GetString(), v->GetStringLength());
  if (core::count_code_points(s) > max_chars) {
    return invalid(key, "must be at most " + std::to_string(max_chars) + " characters");
  }
  return std::optional<std::string>(std::move(s));
}

core::result<std::string> json_body::text(std::string_view key, std::size_t max_chars) const {
  auto s = optional_text(key, max_chars);
  if (!s) return s.err();
  if (!s.value() || blank(**s)) return invalid(key, "required");
  return std::move(**s);
}

core::result<std::optional<std::int64_t>> json_body::optional_integer(std::string_view key,
                                                                      std::int64_t min,
                                                                      std::int64_t max) const {
  const auto* v = find(key);
  if (!v || v->IsNull()) return std::optional<std::int64_t>();
  if (!v->IsInt64() || v->GetInt64() < min || v->GetInt64() > max) {
    return invalid(
        key, "must be a whole number from " + std::to_string(min) + " to " + std::to_string(max));
  }
  return std::optional<std::int64_t>(v->GetInt64());
}

bool json_body::flag(std::string_view key) const {
  const auto* v = find(key);
  return v && v->IsBool() && v->GetBool();
}

core::result<std::vector<std::string>> json_body::strings(std::string_view key) const {
  std::vector<std::string> out;
  const auto* v = find(key);
  if (!v || v->IsNull()) return out;
  if (!v->IsArray()) return invalid(key, "must be a list of strings");
  for (const auto& item : v->GetArray()) {
    if (!item.IsString()) return invalid(key, "must be a list of strings");
    out.emplace_back(item.GetString(), item.GetStringLength());
  }
  return out;
}

}  // namespace askdesk::net
