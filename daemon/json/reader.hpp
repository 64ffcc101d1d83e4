// Reads one JSON object field by field, recording problems with their JSON path instead of
// stopping at the first. Every key the code asks about becomes a known key; finish() then
// reports the others, so a typo in a config file ("alowed_origins") is an error that
// suggests the right name. String values expand ${VAR} from the environment.
//
// Used by the config loader, by each connector factory for its own block, and by the HTTP
// API for request bodies. Not thread-safe; borrows the value, the problems and the
// environment, which must outlive it.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "daemon/json/problems.hpp"

namespace askdesk::json {

// Looks up ${NAME} for string values. nullopt means "not set".
using environment = std::function<std::optional<std::string>(const std::string& name)>;

// The process environment (getenv).
environment process_environment();
// No variables at all: ${...} is left as written. For request bodies.
environment no_environment();

// Expands ${NAME} in `text`; "$$" is a literal "$". On a variable that is not set, returns
// nullopt and names it in `missing`.
std::optional<std::string> expand_environment(std::string_view text, const environment& env,
                                              std::string* missing);

class object_reader {
 public:
  // Adds "must be an object" to `out` and returns nullopt when `value` is not an object.
  static std::optional<object_reader> open(const rapidjson::Value& value, std::string path,
                                           problems& out, const environment& env);

  const std::string& path() const { return path_; }
  std::string child_path(std::string_view key) const;
  problems& out() const { return *out_; }
  const environment& env() const { return *env_; }
  bool has(std::string_view key);

  // Absent: nullopt. Present but not a string, or naming an unset variable: a problem and
  // nullopt.
  std::optional<std::string> optional_string(std::string_view key);
  std::string string(std::string_view key, std::string fallback);
  // Absent or empty: the problem "required".
  std::optional<std::string> required_string(std::string_view key);

  std::optional<std::int64_t> optional_integer(
      std::string_view key, std::int64_t min = std::numeric_limits<std::int64_t>::min(),
      std::int64_t max = std::numeric_limits<std::int64_t>::max());
  std::int64_t integer(std::string_view key, std::int64_t fallback,
                       std::int64_t min = std::numeric_limits<std::int64_t>::min(),
                       std::int64_t max = std::numeric_limits<std::int64_t>::max());
  std::optional<double> optional_number(std::string_view key, double min, double max);
  bool boolean(std::string_view key, bool fallback);
  std::vector<std::string> string_list(std::string_view key);

  // Absent: nullopt, silently. Not an object: a problem and nullopt.
  std::optional<object_reader> object(std::string_view key);
  // Absent: nullptr, silently. Not an array: a problem and nullptr.
  const rapidjson::Value* array(std::string_view key);
  // Present with any type: for values a caller reads itself.
  const rapidjson::Value* raw(std::string_view key);

  // Reports every key nobody asked about. Call once, after reading all fields.
  void finish();

 private:
  object_reader(const rapidjson::Value& value, std::string path, problems& out,
                const environment& env)
      : value_(&value), path_(std::move(path)), out_(&out), env_(&env) {}
  const rapidjson::Value* find(std::string_view key);
  std::optional<std::string> expand(const rapidjson::Value& v, std::string_view key);

  const rapidjson::Value* value_;
  std::string path_;
  problems* out_;
  const environment* env_;
  std::vector<std::string> known_;
};

// "connectors[2]"
std::string index_path(std::string_view array_path, std::size_t index);

// Reads a string; adds "must be a string" and returns nullopt otherwise. ${VAR} expanded.
std::optional<std::string> read_string(const rapidjson::Value& v, const std::string& path,
                                       problems& out, const environment& env);

}  // namespace askdesk::json
