// Who should be offered a waiting conversation, as pure logic over a snapshot: the team's
// policy (mode, capacity, offer timeout, overflow), the staff with their presence and load,
// and the conversation (its team, how long it waited, who helped this patron last, who
// already declined). The hub takes the snapshot from Redis and carries the decision out; the
// claim itself stays one atomic step in Redis, so a decision can never assign twice.
//
// Modes: `broadcast` offers to every eligible member at once (the first to accept gets it);
// `least-busy` to the eligible member with the fewest open conversations; `round-robin` to
// the eligible member assigned longest ago. Eligible: a member of the team, available, under
// capacity, and not someone who declined it or let an offer of it time out. A returning
// patron's last helper is offered it first, alone, when they are an eligible member.
//
// Pure and deterministic (ties break by name); thread-compatible.
#pragma once

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/core/time.hpp"

namespace askdesk::core {

enum class presence { available, away, offline };
enum class team_mode { broadcast, least_busy, round_robin };

std::optional<team_mode> parse_team_mode(std::string_view text);  // "broadcast", "least-busy", ...
std::string_view to_string(team_mode mode);

struct team_policy {
  std::string id;
  team_mode mode = team_mode::broadcast;
  int capacity = 3;  // open conversations per member
  std::chrono::seconds offer_timeout{30};
  std::string overflow_team;  // "" for none
  std::chrono::seconds overflow_after{300};
};

struct staff_state {
  std::string name;
  presence status = presence::offline;
  std::vector<std::string> teams;
  int open = 0;               // conversations they hold now
  timestamp last_assigned{};  // round-robin order; the epoch for never
};

struct waiting_conversation {
  std::string id;
  std::string team;
  timestamp waiting_since{};
  timestamp in_team_since{};          // arrived in `team` (overflow counts from it); the epoch:
                                      // since waiting_since
  int priority = 0;                   // higher first (see priority_rule)
  bool after_hours = false;           // arrived while the team was closed: first in the morning
  std::string last_helper;            // who helped this patron last, within the sticky window
  std::vector<std::string> declined;  // declined it, or let an offer of it time out
};

struct routing_decision {
  enum class kind {
    offer,     // offer to `to` (one person, or everyone eligible in broadcast mode)
    overflow,  // it waited too long: move it to `team` and route again there
    wait,      // nobody can take it now; route again when someone frees up
  };
  kind what = kind::wait;
  std::vector<std::string> to;
  std::string team;
  std::string why;  // for logs and the dashboard: "least-busy: ann has 0 of 3"
  timestamp offer_expires{};
};

// A rule that raises a conversation's place in the queue.
struct priority_rule {
  std::string channel;  // "" matches any
  std::string tag;      // "" matches any
  int priority = 0;
};

// The highest priority among the rules that match (every non-empty field equal), else 0.
int priority_of(std::span<const priority_rule> rules, std::string_view channel,
                std::span<const std::string> tags);

// The next step for `c`: overflow once it waited `overflow_after` (when the team has an
// overflow team), else an offer to whoever is eligible, else wait. `staff` is everyone who
// might take it (any team); `policy` is c.team's.
routing_decision route(const waiting_conversation& c, const team_policy& policy,
                       std::span<const staff_state> staff, timestamp now);

// Sorts a queue: what arrived after hours first (in arrival order), then higher priority,
// then longest waiting, then by id.
void order_queue(std::vector<waiting_conversation>& queue);

}  // namespace askdesk::core
