// What the API and the connectors read, read by the daemon itself: plain Redis reads,
// pipelined, with the JSON written here (records.hpp shapes). Nothing here changes state, so
// no function is needed: each read names its keys through keys.hpp and asks in as few round
// trips as the data allows (a conversation: itself, then its messages and patron, then the
// patron's opt-outs). Single-threaded, like the connection.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "daemon/core/report.hpp"
#include "daemon/core/result.hpp"
#include "daemon/store/redis_connection.hpp"

namespace askdesk::store::reads {

using json_handler = std::function<void(core::result<std::string>)>;

// GET /api/v1/conversations/{id}: the conversation with its messages and its patron;
// "not_found", or "forbidden" outside `scope` ("*" or ",team,").
void conversation(redis_connection& redis, std::string id, std::string scope, json_handler done);

struct conversation_filter {
  std::string scope, status, team, channel, assignee;
  std::size_t limit = 50;
  std::size_t cursor = 0;
  std::vector<std::string> teams;  // the teams the caller sees
};
// GET /api/v1/conversations: a page ({"items":[…],"next_cursor":…}). Waiting ones come in
// queue order, a staff member's held ones newest first, the rest most recently updated
// first; a page scans at most 5,000 conversations, so a rare filter may give a short page
// with a next cursor.
void conversations(redis_connection& redis, conversation_filter filter, json_handler done);

// GET /api/v1/patrons/{id}: the patron, their addresses and their last 200 conversations.
void patron(redis_connection& redis, std::string id, json_handler done);

// GET /api/v1/me/routing: presence, open dashboards, load and waiting offers.
void staff(redis_connection& redis, std::int64_t now_ms, std::string user, int capacity,
           json_handler done);

// GET /api/v1/social/items: the items in `state` (new, dismissed, abuse) of `team` (or of
// every team in `teams`), newest first, each its conversation and first message.
void social_items(redis_connection& redis, std::string scope, std::string state, std::string team,
                  std::size_t limit, std::vector<std::string> teams, json_handler done);

// A patron's widget: their open conversation on this thread and its messages after `after`
// (0: all), notes left out.
void patron_transcript(redis_connection& redis, std::string connector, std::string thread,
                       std::int64_t after, json_handler done);

// Every lane's dead letters: {"dead_letters":[…]}.
void dead_letters(redis_connection& redis, std::vector<std::string> connectors, json_handler done);

// The reports: the facts of the conversations that arrived from `from_ms` to `to_ms`
// (inclusive), in order of arrival, read in pipelined batches.
void conversation_facts(
    redis_connection& redis, std::int64_t from_ms, std::int64_t to_ms,
    std::function<void(core::result<std::vector<core::conversation_facts>>)> done);

// The supervisor's live view (GET /api/v1/desk): every user's state and load, and each of
// `teams`' queue and staff online, as the store holds them now.
struct desk_member {
  std::string name, display_name, role, presence;  // presence "" when never chosen
  std::vector<std::string> teams;
  std::int64_t dashboards = 0;  // open now
  std::int64_t holds = 0;       // conversations assigned to them
  bool disabled = false;
};
struct desk_queue {
  std::int64_t waiting = 0;                 // conversations in the queue
  std::int64_t online = 0;                  // the team's staff with a dashboard open
  std::vector<std::int64_t> waiting_since;  // ms, of the first desk_queue_most in the queue
};
inline constexpr std::size_t desk_queue_most = 5000;
struct desk_state {
  std::vector<desk_member> staff;  // by name
  std::vector<desk_queue> queues;  // as `teams`
};
void desk(redis_connection& redis, std::int64_t now_ms, std::vector<std::string> teams,
          std::function<void(core::result<desk_state>)> done);

}  // namespace askdesk::store::reads

namespace askdesk::store::reads {

// What the router decides from (hub/router.cpp): every staff member's state and load, and
// the first `most` waiting conversations of each of `teams`, as JSON
// {"staff":[…],"queues":{team:[…]}}; `with_held` lists each one's held conversations (the
// costly part: the router asks every few seconds). Read without a function: route_apply.lua
// checks each decision against the state it finds.
void route_snapshot(redis_connection& redis, std::int64_t now_ms, std::vector<std::string> teams,
                    std::size_t most, bool with_held, json_handler done);

}  // namespace askdesk::store::reads
