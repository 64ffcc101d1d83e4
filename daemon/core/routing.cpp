#include "daemon/core/routing.hpp"

#include <algorithm>

namespace askdesk::core {

namespace {

bool contains(std::span<const std::string> list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// Available, with room, and not among those who passed on it.
bool can_take(const staff_state& s, const team_policy& policy, const waiting_conversation& c) {
  return s.status == presence::available && s.open < policy.capacity &&
         !contains(c.declined, s.name);
}

std::string load_of(const staff_state& s, const team_policy& policy) {
  return s.name + " has " + std::to_string(s.open) + " of " + std::to_string(policy.capacity);
}

}  // namespace

std::optional<team_mode> parse_team_mode(std::string_view text) {
  if (text == "broadcast") return team_mode::broadcast;
  if (text == "least-busy") return team_mode::least_busy;
  if (text == "round-robin") return team_mode::round_robin;
  return std::nullopt;
}

std::string_view to_string(team_mode mode) {
  switch (mode) {
    case team_mode::broadcast:
      return "broadcast";
    case team_mode::least_busy:
      return "least-busy";
    case team_mode::round_robin:
      return "round-robin";
  }
  return "broadcast";
}

int priority_of(std::span<const priority_rule> rules, std::string_view channel,
                std::span<const std::string> tags) {
  int best = 0;
  for (const auto& r : rules) {
    if (!r.channel.empty() && r.channel != channel) continue;
    if (!r.tag.empty() && !contains(tags, r.tag)) continue;
    best = std::max(best, r.priority);
  }
  return best;
}

routing_decision route(const waiting_conversation& c, const team_policy& policy,
                       std::span<const staff_state> staff, timestamp now) {
  routing_decision d;
  const timestamp arrived = c.in_team_since == timestamp{} ? c.waiting_since : c.in_team_since;
  if (!policy.overflow_team.empty() && policy.overflow_team != c.team &&
      now - arrived >= policy.overflow_after) {
    d.what = routing_decision::kind::overflow;
    d.team = policy.overflow_team;
    d.why = "waited longer than " + std::to_string(policy.overflow_after.count()) +
            " s: overflow to " + policy.overflow_team;
    return d;
  }
  d.team = c.team;
  d.offer_expires = now + policy.offer_timeout;

  // A returning patron goes back to whoever helped them last, when that person can take it.
  if (!c.last_helper.empty()) {
    for (const auto& s : staff) {
      if (s.name == c.last_helper && contains(s.teams, c.team) && can_take(s, policy, c)) {
        d.what = routing_decision::kind::offer;
        d.to = {s.name};
        d.why = "returning patron: " + s.name + " helped them last";
        return d;
      }
    }
  }

  const staff_state* chosen = nullptr;
  for (const auto& s : staff) {
    if (!contains(s.teams, c.team) || !can_take(s, policy, c)) continue;
    switch (policy.mode) {
      case team_mode::broadcast:
        d.to.push_back(s.name);
        break;
      case team_mode::least_busy:
        if (!chosen || s.open < chosen->open ||
            (s.open == chosen->open &&
             (s.last_assigned < chosen->last_assigned ||
              (s.last_assigned == chosen->last_assigned && s.name < chosen->name)))) {
          chosen = &s;
        }
        break;
      case team_mode::round_robin:
        if (!chosen || s.last_assigned < chosen->last_assigned ||
            (s.last_assigned == chosen->last_assigned && s.name < chosen->name)) {
          chosen = &s;
        }
        break;
    }
  }
  if (chosen) d.to = {chosen->name};
  if (d.to.empty()) {
    d.what = routing_decision::kind::wait;
    d.why = "nobody in " + c.team + " is available with room";
    return d;
  }
  std::sort(d.to.begin(), d.to.end());
  d.what = routing_decision::kind::offer;
  if (policy.mode == team_mode::broadcast) {
    d.why = "broadcast to " + std::to_string(d.to.size()) + " available";
  } else {
    d.why = std::string(to_string(policy.mode)) + ": " + load_of(*chosen, policy);
  }
  return d;
}

void order_queue(std::vector<waiting_conversation>& queue) {
  std::sort(queue.begin(), queue.end(), [](const auto& a, const auto& b) {
    if (a.after_hours != b.after_hours) return a.after_hours;
    if (a.after_hours && a.waiting_since != b.waiting_since)
      return a.waiting_since < b.waiting_since;
    if (a.priority != b.priority) return a.priority > b.priority;
    if (a.waiting_since != b.waiting_since) return a.waiting_since < b.waiting_since;
    return a.id < b.id;
  });
}

}  // namespace askdesk::core
