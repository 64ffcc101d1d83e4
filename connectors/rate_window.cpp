#include "connectors/rate_window.hpp"

#include <charconv>

#include "daemon/net/curl_client.hpp"

namespace askdesk::connectors {

namespace {

std::optional<std::int64_t> integer(std::string_view text) {
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return v;
}

}  // namespace

void rate_window::update(const net::incoming_response& r, core::timestamp now) {
  const auto reset = r.header(prefix_ + "reset");
  if (const auto epoch = integer(reset)) {
    reset_ = core::timestamp{std::chrono::seconds(*epoch)};
  } else if (const auto when = core::parse_iso8601(reset)) {
    reset_ = *when;
  }
  if (const auto left = integer(r.header(prefix_ + "remaining"))) remaining_ = *left;
  if (r.status == 429) {
    remaining_ = 0;
    if (reset_ <= now) reset_ = now + std::chrono::seconds(60);  // it said nothing: a minute
  }
}

std::chrono::milliseconds rate_window::take(core::timestamp now) {
  if (!remaining_) return {};
  if (now >= reset_) {  // a new window: unknown until the next answer says
    remaining_.reset();
    return {};
  }
  if (*remaining_ <= 0) return std::chrono::duration_cast<std::chrono::milliseconds>(reset_ - now);
  --*remaining_;
  return {};
}

}  // namespace askdesk::connectors
