// Mastodon's entities as the connector reads them (docs.joinmastodon.org/entities): a Status
// turned into what askdesk keeps of it, an account's address, the mention a reply needs.
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

}  // namespace askdesk::connectors::mastodon
