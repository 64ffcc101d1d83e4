// Builds a JSON text in one pass. A thin, readable face over RapidJSON's Writer: callers
// say key(...) then a value, or use the field(...) shorthands. Not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace askdesk::json {

class writer {
 public:
  writer() : writer_(buffer_) {}

  writer& start_object() {
    writer_.StartObject();
    return *this;
  }
  writer& end_object() {
    writer_.EndObject();
    return *this;
  }
  writer& start_array() {
    writer_.StartArray();
    return *this;
  }
  writer& end_array() {
    writer_.EndArray();
    return *this;
  }

  writer& key(std::string_view k) {
    writer_.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
    return *this;
  }
  writer& string(std::string_view v) {
    writer_.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
    return *this;
  }
  writer& integer(std::int64_t v) {
    writer_.Int64(v);
    return *this;
  }
  writer& number(double v) {
    writer_.Double(v);
    return *this;
  }
  writer& boolean(bool v) {
    writer_.Bool(v);
    return *this;
  }
  writer& null() {
    writer_.Null();
    return *this;
  }
  // Inserts `json`, which must be one valid JSON value, as it is.
  writer& raw(std::string_view json) {
    writer_.RawValue(json.data(), json.size(), rapidjson::kObjectType);
    return *this;
  }

  writer& field(std::string_view k, std::string_view v) { return key(k).string(v); }
  writer& field(std::string_view k, const char* v) { return key(k).string(v); }
  writer& field(std::string_view k, const std::string& v) { return key(k).string(v); }
  writer& field(std::string_view k, std::int64_t v) { return key(k).integer(v); }
  writer& field(std::string_view k, int v) { return key(k).integer(v); }
  writer& field(std::string_view k, bool v) { return key(k).boolean(v); }
  writer& field(std::string_view k, double v) { return key(k).number(v); }

  // REQUIRES: every object and array was closed.
  std::string str() const { return {buffer_.GetString(), buffer_.GetSize()}; }

 private:
  rapidjson::StringBuffer buffer_;
  rapidjson::Writer<rapidjson::StringBuffer> writer_;
};

}  // namespace askdesk::json
