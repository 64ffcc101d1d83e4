#include "daemon/store/reply.hpp"

#include <charconv>

namespace askdesk::store {

std::optional<std::int64_t> reply::as_integer() const {
  if (kind_ == kind::integer) return integer_;
  if (kind_ != kind::string) return std::nullopt;
  std::int64_t n = 0;
  const auto [end, ec] = std::from_chars(str_.data(), str_.data() + str_.size(), n);
  if (ec != std::errc{} || end != str_.data() + str_.size()) return std::nullopt;
  return n;
}

std::string reply::describe() const {
  constexpr std::size_t max = 200;
  const auto shorten = [](const std::string& s) {
    return s.size() > max ? s.substr(0, max) + "..." : s;
  };
  switch (kind_) {
    case kind::nil:
      return "(nil)";
    case kind::status:
      return shorten(str_);
    case kind::error:
      return "(error) " + shorten(str_);
    case kind::unavailable:
      return "(unavailable) " + shorten(str_);
    case kind::integer:
      return "(integer) " + std::to_string(integer_);
    case kind::string:
      return "\"" + shorten(str_) + "\"";
    case kind::array: {
      std::string out = "[";
      for (std::size_t i = 0; i < elements_.size() && out.size() < max; ++i) {
        if (i) out += ", ";
        out += elements_[i].describe();
      }
      return out + "]";
    }
  }
  return {};
}

std::string text_of(const reply& r) { return r.is_string() ? r.str() : std::string(); }

std::int64_t number(std::string_view text) {
  std::int64_t n = 0;
  std::from_chars(text.data(), text.data() + text.size(), n);
  return n;
}

const reply* first_failure(const std::vector<reply>& replies) {
  for (const auto& r : replies) {
    if (r.failed()) return &r;
  }
  return nullptr;
}

}  // namespace askdesk::store
