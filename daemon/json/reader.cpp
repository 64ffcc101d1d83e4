#include "daemon/json/reader.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "daemon/json/document.hpp"

namespace askdesk::json {

environment process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    if (const char* v = std::getenv(name.c_str())) return std::string(v);
    return std::nullopt;
  };
}

environment no_environment() { return nullptr; }

std::optional<std::string> expand_environment(std::string_view text, const environment& env,
                                              std::string* missing) {
  if (!env || text.find('$') == std::string_view::npos) return std::string(text);
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '$' || i + 1 >= text.size()) {
      out += text[i];
      continue;
    }
    if (text[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    const std::size_t close = text[i + 1] == '{' ? text.find('}', i + 2) : std::string_view::npos;
    if (close == std::string_view::npos) {
      out += text[i];
      continue;
    }
    const std::string name(text.substr(i + 2, close - i - 2));
    auto value = env(name);
    if (!value) {
      if (missing) *missing = name;
      return std::nullopt;
    }
    out += *value;
    i = close;
  }
  return out;
}

std::string index_path(std::string_view array_path, std::size_t index) {
  return std::string(array_path) + "[" + std::to_string(index) + "]";
}

std::optional<std::string> read_string(const rapidjson::Value& v, const std::string& path,
                                       problems& out, const environment& env) {
  if (!v.IsString()) {
    out.add(path, "must be a string, not " + std::string(describe_type(v)));
    return std::nullopt;
  }
  std::string missing;
  auto expanded = expand_environment({v.GetString(), v.GetStringLength()}, env, &missing);
  if (!expanded) {
    out.add(path, "environment variable " + missing + " is not set");
    return std::nullopt;
  }
  return expanded;
}

std::optional<object_reader> object_reader::open(const rapidjson::Value& value, std::string path,
                                                 problems& out, const environment& env) {
  if (!value.IsObject()) {
    out.add(path, "must be an object, not " + std::string(describe_type(value)));
    return std::nullopt;
  }
  return object_reader(value, std::move(path), out, env);
}

std::string object_reader::child_path(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

bool object_reader::has(std::string_view key) { return find(key) != nullptr; }

const rapidjson::Value* object_reader::find(std::string_view key) {
  if (std::find(known_.begin(), known_.end(), key) == known_.end()) known_.emplace_back(key);
  const auto it = value_->FindMember(rapidjson::Value(
      rapidjson::StringRef(key.data(), static_cast<rapidjson::SizeType>(key.size()))));
  return it == value_->MemberEnd() ? nullptr : &it->value;
}

std::optional<std::string> object_reader::optional_string(std::string_view key) {
  const auto* v = find(key);
  if (!v) return std::nullopt;
  return read_string(*v, child_path(key), *out_, *env_);
}

std::string object_reader::string(std::string_view key, std::string fallback) {
  auto v = optional_string(key);
  return v ? std::move(*v) : std::move(fallback);
}

std::optional<std::string> object_reader::required_string(std::string_view key) {
  if (!find(key)) {
    out_->add(child_path(key), "required");
    return std::nullopt;
  }
  auto v = optional_string(key);
  if (v && v->empty()) {
    out_->add(child_path(key), "required (it is empty)");
    return std::nullopt;
  }
  return v;
}

std::optional<std::int64_t> object_reader::optional_integer(std::string_view key, std::int64_t min,
                                                            std::int64_t max) {
  const auto* v = find(key);
  if (!v) return std::nullopt;
  if (!v->IsInt64()) {
    out_->add(child_path(key), "must be an integer, not " + std::string(describe_type(*v)));
    return std::nullopt;
  }
  const std::int64_t n = v->GetInt64();
  if (n < min || n > max) {
    out_->add(child_path(key), "must be between " + std::to_string(min) + " and " +
                                   std::to_string(max) + ", not " + std::to_string(n));
    return std::nullopt;
  }
  return n;
}

std::int64_t object_reader::integer(std::string_view key, std::int64_t fallback, std::int64_t min,
                                    std::int64_t max) {
  return optional_integer(key, min, max).value_or(fallback);
}

std::optional<double> object_reader::optional_number(std::string_view key, double min, double max) {
  const auto* v = find(key);
  if (!v) return std::nullopt;
  if (!v->IsNumber()) {
    out_->add(child_path(key), "must be a number, not " + std::string(describe_type(*v)));
    return std::nullopt;
  }
  const double n = v->GetDouble();
  if (!(n >= min && n <= max)) {
    char range[64];
    std::snprintf(range, sizeof range, "must be between %g and %g", min, max);
    out_->add(child_path(key), range);
    return std::nullopt;
  }
  return n;
}

bool object_reader::boolean(std::string_view key, bool fallback) {
  const auto* v = find(key);
  if (!v) return fallback;
  if (!v->IsBool()) {
    out_->add(child_path(key), "must be true or false, not " + std::string(describe_type(*v)));
    return fallback;
  }
  return v->GetBool();
}

std::vector<std::string> object_reader::string_list(std::string_view key) {
  std::vector<std::string> list;
  const auto* v = array(key);
  if (!v) return list;
  const std::string path = child_path(key);
  for (rapidjson::SizeType i = 0; i < v->Size(); ++i) {
    if (auto s = read_string((*v)[i], index_path(path, i), *out_, *env_)) {
      list.push_back(std::move(*s));
    }
  }
  return list;
}

std::optional<object_reader> object_reader::object(std::string_view key) {
  const auto* v = find(key);
  if (!v) return std::nullopt;
  return open(*v, child_path(key), *out_, *env_);
}

const rapidjson::Value* object_reader::array(std::string_view key) {
  const auto* v = find(key);
  if (!v) return nullptr;
  if (!v->IsArray()) {
    out_->add(child_path(key), "must be an array, not " + std::string(describe_type(*v)));
    return nullptr;
  }
  return v;
}

const rapidjson::Value* object_reader::raw(std::string_view key) { return find(key); }

namespace {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

void object_reader::finish() {
  for (auto it = value_->MemberBegin(); it != value_->MemberEnd(); ++it) {
    const std::string_view key(it->name.GetString(), it->name.GetStringLength());
    if (std::find(known_.begin(), known_.end(), key) != known_.end()) continue;
    std::string message = "unknown key";
    const std::string* best = nullptr;
    std::size_t best_distance = 3;
    for (const auto& candidate : known_) {
      const std::size_t d = edit_distance(key, candidate);
      if (d < best_distance) {
        best_distance = d;
        best = &candidate;
      }
    }
    if (best) message += " (did you mean '" + *best + "'?)";
    out_->add(child_path(key), message);
  }
}

}  // namespace askdesk::json
