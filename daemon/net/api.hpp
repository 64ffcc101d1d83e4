// The REST API under /api/v1 for conversations, patrons and teams (docs/api.md). Handlers
// authenticate the caller, check the request at the edge, and then call one Lua script that
// checks permissions and changes or reads the data atomically (daemon/store/scripts/). The
// scripts shape the JSON, so events and answers describe a conversation the same way.
//
// Single-threaded: use on the io_context's thread.
#pragma once

#include <vector>

#include "daemon/config/config.hpp"
#include "daemon/core/channel.hpp"
#include "daemon/core/time.hpp"
#include "daemon/net/auth.hpp"
#include "daemon/net/http.hpp"
#include "daemon/store/privacy.hpp"
#include "daemon/store/redis_connection.hpp"
#include "daemon/store/scripts.hpp"

namespace askdesk::net {

struct api_parts {
  store::redis_connection& redis;
  const store::script_set& scripts;
  auth_service& auth;
  const config::daemon_config& config;
  const core::clock& clock;
  const std::vector<core::configured_channel>& channels;  // one per configured connector
  // The retention the daemon applies (for erasure); null: the config's, without connectors'
  // records.
  const store::privacy::retention* privacy = nullptr;
};

// Adds the conversation, patron, team, channel and dead-letter routes.
void add_api_routes(http_router& router, api_parts parts);

// Whether `s` is an id the API takes (a conversation's, a patron's): 1 to 18 digits.
bool is_id(std::string_view s);

// Limits the API enforces, shared with the dashboard's checks. A reply's own limit is its
// channel's (GET /api/v1/channels); no reply is ever longer than max_reply_chars.
inline constexpr std::size_t max_note_chars = 4000;
inline constexpr std::size_t max_reply_chars = 100000;
inline constexpr std::size_t max_tag_chars = 40;

}  // namespace askdesk::net
