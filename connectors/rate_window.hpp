// What a server's rate-limit headers say of one kind of request (Mastodon's X-RateLimit-*,
// the AT Protocol's RateLimit-*): how many are left until when. A connector takes one before
// each request and waits while none are left, so it never sends what the server would refuse.
// Plain value type; single-threaded.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "daemon/core/time.hpp"

namespace askdesk::net {
struct incoming_response;
}

namespace askdesk::connectors {

class rate_window {
 public:
  // `prefix`: the headers' names before "Remaining" and "Reset", in lower case.
  explicit rate_window(std::string prefix = "x-ratelimit-") : prefix_(std::move(prefix)) {}

  // Reads <prefix>remaining and <prefix>reset (an ISO-8601 time or epoch seconds) off an
  // answer; a 429 means none are left (until the reset it gave, else for a minute).
  void update(const net::incoming_response& r, core::timestamp now);
  // Takes one request: zero when it may go now (counted against what is left), else how long
  // until the window resets.
  std::chrono::milliseconds take(core::timestamp now);

 private:
  std::string prefix_;
  std::optional<std::int64_t> remaining_;
  core::timestamp reset_{};
};

}  // namespace askdesk::connectors
