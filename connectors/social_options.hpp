// What every social connector (Mastodon, Bluesky) reads alike from its config block:
// "poll_seconds" (1-3600, default 30), "triage" (public posts wait on the social desk,
// default true), "watch_keywords" (1-200 characters each) and "reopen_minutes" (default a
// week, at most 90 days).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "daemon/json/reader.hpp"

namespace askdesk::connectors {

struct social_options {
  std::chrono::seconds poll_every{30};
  bool triage = true;
  std::vector<std::string> watch_keywords;
  std::chrono::milliseconds reopen_window = std::chrono::hours(24 * 7);
};

// Reads those keys of `block`; problems go to its list with their paths.
social_options read_social_options(json::object_reader& block);

}  // namespace askdesk::connectors
