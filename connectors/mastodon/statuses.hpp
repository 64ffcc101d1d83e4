// Mastodon's entities as the connector reads them (docs.joinmastodon.org/entities): a Status
// turned into what askdesk keeps of it, and the rate-limit headers every answer carries.
// Pure functions over RapidJSON values and headers; no I/O.
#pragma once

#include <rapidjson/document.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/core/message.hpp"
#include "daemon/core/time.hpp"

namespace askdesk::net {
struct incoming_response;
}

namespace askdesk::connectors::mastodon {

// A status as askdesk needs it.
struct status {
  std::string id;  // opaque
  std::string url;
  std::string visibility;  // public, unlisted, private, direct
  std::string in_reply_to_id;
  std::string account_id;
  std::string acct;  // as the server gives it: "ada" (local) or "ada@other.example"
  std::string account_url;
  std::string display_name;
  std::string text;  // the content as safe plain text
  std::vector<std::string> links;
  std::string spoiler_text;  // a content warning; "" when none
  bool sensitive = false;
  std::string language;
  std::vector<core::attachment> media;
  core::timestamp created_at{};
};

// Reads a Status; why not when it lacks what askdesk needs (an id, an account).
std::optional<status> read_status(const rapidjson::Value& v, std::string* why = nullptr);

// "@ada@library.social": the account's full address, with the instance's host for a local one.
std::string full_acct(std::string_view acct, std::string_view instance_host);

// The host of an http(s) URL ("https://mastodon.social/" -> "mastodon.social").
std::string host_of(std::string_view url);

// `text` starting with "@acct " unless it mentions `acct` already (full or local part).
std::string with_mention(std::string_view text, std::string_view full_acct);

// What the server's rate-limit headers say of one kind of request (docs.joinmastodon.org,
// "Rate limits"): how many are left until when. A request is made only while some are left or
// the window has passed.
class rate_window {
 public:
  // Reads X-RateLimit-Remaining and X-RateLimit-Reset (ISO-8601) off an answer (a 429 means
  // none are left).
  void update(const net::incoming_response& r, core::timestamp now);
  // Takes one request: zero when it may go now (counted against what is left), else how long
  // until the window resets.
  std::chrono::milliseconds take(core::timestamp now);

 private:
  std::optional<std::int64_t> remaining_;
  core::timestamp reset_{};
};

}  // namespace askdesk::connectors::mastodon
