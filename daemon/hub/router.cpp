#include "daemon/hub/router.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>

#include <rapidjson/document.h>

#include "daemon/config/team_hours.hpp"
#include "daemon/core/routing.hpp"
#include "daemon/json/document.hpp"
#include "daemon/json/writer.hpp"
#include "daemon/store/calls.hpp"
#include "daemon/store/keys.hpp"
#include "daemon/store/reads.hpp"
#include "daemon/store/user_store.hpp"

namespace askdesk::hub {

namespace {

using std::chrono::milliseconds;

core::timestamp at(std::int64_t ms) { return core::timestamp(milliseconds(ms)); }

std::vector<std::string> strings_of(const rapidjson::Value& v, const char* key) {
  std::vector<std::string> out;
  const auto it = v.FindMember(key);
  if (it == v.MemberEnd() || !it->value.IsArray()) return out;
  for (const auto& s : it->value.GetArray()) {
    if (s.IsString()) out.emplace_back(s.GetString(), s.GetStringLength());
  }
  return out;
}

}  // namespace

router::router(router_parts parts, router_options options)
    : parts_(parts), options_(std::move(options)), timer_(parts.io) {
  parts_.metrics.declare_counter("askdesk_routing_passes_total",
                                 "Routing passes that read a snapshot and decided.");
}

router::~router() { stop(); }

void router::start() {
  stopped_ = false;
  // New conversations and freed capacity are routed soon, not at the next tick.
  subscription_ = parts_.events.subscribe([this](const store::shared_event& e) {
    if (e->type == "conversation.created" || e->type == "conversation.updated" ||
        e->type == "offer.ended") {
      if (running_) {
        again_ = true;
      } else if (!soon_) {  // a storm re-arms nothing: the pass already set comes first
        soon_ = true;
        schedule(until_gap());
      }
    }
  });
  schedule(milliseconds(0));
}

void router::stop() {
  stopped_ = true;
  running_ = soon_ = false;
  timer_.cancel();
  if (subscription_ != 0) parts_.events.unsubscribe(subscription_);
  subscription_ = 0;
}

void router::schedule(milliseconds delay) {
  if (stopped_) return;
  timer_.after(delay, [this] { pass(); });
}

milliseconds router::until_gap() const {
  const auto since = std::chrono::steady_clock::now() - last_pass_;
  if (since >= options_.min_gap) return milliseconds(0);
  return std::chrono::ceil<milliseconds>(options_.min_gap - since);
}

void router::finish() {
  running_ = false;
  if (again_) {
    soon_ = true;
    schedule(until_gap());
    return;
  }
  // The next tick, or sooner when the held conversations are due to be read.
  const auto held_due = last_held_ + options_.held_every - std::chrono::steady_clock::now();
  schedule(std::clamp(std::chrono::ceil<milliseconds>(held_due), milliseconds(0), options_.every));
}

void router::pass() {
  if (stopped_ || running_) return;
  running_ = true;
  soon_ = again_ = false;
  last_pass_ = std::chrono::steady_clock::now();
  const bool with_held = last_pass_ - last_held_ >= options_.held_every;
  // Only the daemon holding the routing lease routes (taken or renewed here).
  store::run(
      parts_.commands, parts_.scripts,
      store::calls::make(store::calls::lease{.key = std::string(store::keys::routing_lease),
                                             .holder = options_.name,
                                             .ms = std::to_string(options_.lease.count())}),
      [this, with_held, started = last_pass_](store::reply held) {
        if (stopped_) return;
        if (!held.is_integer() || held.integer() <= 0) {  // another daemon routes, or Redis is away
          running_ = false;
          if (held.is_error()) spdlog::error("routing: lease failed: {}", held.str());
          schedule(options_.every);
          return;
        }
        std::vector<std::string> teams;
        for (const auto& t : parts_.config.teams) teams.push_back(t.id);
        store::reads::route_snapshot(
            parts_.commands, core::to_millis(parts_.clock.now()), std::move(teams),
            static_cast<std::size_t>(options_.per_team), with_held,
            [this, with_held, started](core::result<std::string> snapshot) {
              if (stopped_) return;
              if (!snapshot) {
                running_ = false;
                spdlog::error("routing: snapshot failed: {}", snapshot.err().message);
                schedule(options_.every);
                return;
              }
              if (with_held) last_held_ = started;
              parts_.metrics.add("askdesk_routing_passes_total", {});
              auto [actions, keys] = decide(snapshot.value());
              if (actions == "[]") {
                finish();
                return;
              }
              store::run(parts_.commands, parts_.scripts,
                         store::calls::make(store::calls::route_apply{
                             .now = std::to_string(core::to_millis(parts_.clock.now())),
                             .actions = std::move(actions),
                             .keys = std::move(keys)}),
                         [this](store::reply done) {
                           if (done.is_error()) {
                             spdlog::error("routing: applying failed: {}", done.str());
                           }
                           finish();
                         });
            });
      });
}

std::pair<std::string, std::vector<std::string>> router::decide(
    const std::string& snapshot_text) const {
  rapidjson::Document snapshot;
  snapshot.Parse(snapshot_text.c_str(), snapshot_text.size());
  json::writer actions;
  actions.start_array();
  // Each action's keys, in the order route_apply.lua reads them: the conversation's own,
  // its team's queue, the queue it moves to, the holder's set, its facts, then the offer sets
  // of the names the action lists ("to" of an offer, else "offered").
  std::vector<std::string> keys;
  const auto declare = [&keys](const std::string& id, const std::string& team,
                               const std::string& to_team, const std::string& user,
                               const std::vector<std::string>& names) {
    keys.push_back(store::keys::conversation(id));
    keys.push_back(store::keys::conversation_tags(id));
    keys.push_back(store::keys::offer(id));
    keys.push_back(store::keys::conversation_declined(id));
    keys.push_back(store::keys::queue(team));
    keys.push_back(store::keys::queue(to_team.empty() ? team : to_team));
    keys.push_back(store::keys::assigned(user));
    keys.push_back(store::keys::facts(id));
    for (const auto& name : names) keys.push_back(store::keys::offers(name));
  };
  const auto list = [&actions](std::string_view key, const std::vector<std::string>& names) {
    actions.key(key).start_array();
    for (const auto& name : names) actions.string(name);
    actions.end_array();
  };
  if (snapshot.HasParseError() || !snapshot.IsObject()) {
    spdlog::error("routing: unreadable snapshot");
    actions.end_array();
    return {actions.str(), {}};
  }
  const auto& routing = parts_.config.routing;
  const auto now = parts_.clock.now();
  const auto away_after = std::chrono::seconds(routing.away_after_seconds);

  // Staff as the core sees them; pending offers count as load so one pass cannot offer
  // someone more than they have room for.
  std::vector<core::staff_state> staff;
  std::map<std::string, std::size_t, std::less<>> index;
  for (const auto& s : snapshot["staff"].GetArray()) {
    core::staff_state st;
    st.name = json::string_member(s, "name");
    st.teams = store::split_team_list(json::string_member(s, "teams"));
    // Available: chose so, with a dashboard open (or closed for less than the grace period).
    // Offline: chose so; what they hold goes back to the queue. Away otherwise, including
    // after closing the last dashboard (they keep their conversations; unanswered_minutes
    // takes back the ones left waiting) and for users who never opened one (integrations).
    const std::string_view chosen = json::string_member(s, "presence");
    const auto left_at = json::integer_member(s, "left_at");
    const bool connected =
        json::integer_member(s, "sockets") > 0 || (left_at > 0 && now - at(left_at) < away_after);
    if (chosen == "offline") {
      st.status = core::presence::offline;
    } else if (chosen == "available" && connected) {
      st.status = core::presence::available;
    } else {
      st.status = core::presence::away;
    }
    st.last_assigned = at(json::integer_member(s, "last_assigned"));
    const auto& held = s["held"];
    st.open =
        static_cast<int>(json::integer_member(s, "holds") + json::integer_member(s, "offers"));
    // Conversations come back to the queue from someone who went offline, or who left the
    // patron unanswered too long.
    for (const auto& c : held.GetArray()) {
      if (json::string_member(c, "status") != "assigned") continue;
      std::string why;
      if (st.status == core::presence::offline) {
        why = st.name + " went offline";
      } else if (routing.unanswered_minutes > 0 &&
                 json::string_member(c, "last_direction") == "in" &&
                 now - at(std::max(json::integer_member(c, "last_at"),
                                   json::integer_member(c, "assigned_at"))) >=
                     std::chrono::minutes(routing.unanswered_minutes)) {
        why = "no answer from " + st.name + " in " + std::to_string(routing.unanswered_minutes) +
              " min";
      }
      if (why.empty()) continue;
      const std::string id(json::string_member(c, "id")), team(json::string_member(c, "team"));
      actions.start_object()
          .field("kind", "requeue")
          .field("id", id)
          .field("team", team)
          .field("user", st.name)
          .field("why", why)
          .end_object();
      declare(id, team, "", st.name, {});
    }
    index[st.name] = staff.size();
    staff.push_back(std::move(st));
  }

  const auto& queues = snapshot["queues"];
  for (const auto& team : parts_.config.teams) {
    const auto q = queues.FindMember(team.id.c_str());
    if (q == queues.MemberEnd() || !q->value.IsArray()) continue;
    // A closed team's queue waits for the morning (staff may still claim from it; offers
    // made before closing still expire); once it opens, waiting counts towards overflow from
    // the opening, not from the night before.
    const auto opening = config::opening_at(team, now);
    const core::timestamp opened = opening.since.value_or(core::timestamp{});
    std::vector<core::waiting_conversation> waiting;
    std::vector<std::vector<std::string>> offered;  // parallel to `waiting`: an offer's people
    std::map<std::string, std::size_t> position;
    for (const auto& c : q->value.GetArray()) {
      core::waiting_conversation w;
      w.id = json::string_member(c, "id");
      w.team = team.id;
      w.waiting_since = at(json::integer_member(c, "waiting_since"));
      w.in_team_since = std::max(at(json::integer_member(c, "team_since")), opened);
      w.after_hours = json::bool_member(c, "after_hours");
      const auto tags = strings_of(c, "tags");
      w.priority = core::priority_of(routing.priorities, json::string_member(c, "channel"), tags);
      if (w.priority !=
          json::integer_member(c, "priority")) {  // a tag or the rules changed: show it
        actions.start_object()
            .field("kind", "priority")
            .field("id", w.id)
            .field("priority", std::int64_t{w.priority})
            .end_object();
        declare(w.id, team.id, "", "", {});
      }
      if (routing.sticky_days > 0 && now - at(json::integer_member(c, "last_helped_at")) <
                                         std::chrono::days(routing.sticky_days)) {
        w.last_helper = json::string_member(c, "last_helper");
      }
      w.declined = strings_of(c, "declined");
      const std::string_view offer_to = json::string_member(c, "offer_to");
      offered.push_back(store::split_team_list(offer_to));
      if (!offer_to.empty()) {
        if (now < at(json::integer_member(c, "offer_expires"))) {
          offered.pop_back();
          continue;  // a live offer: leave it be
        }
        actions.start_object().field("kind", "expire").field("id", w.id);
        list("offered", offered.back());
        actions.end_object();
        declare(w.id, team.id, "", "", offered.back());
        for (auto& name : store::split_team_list(offer_to)) {
          if (const auto it = index.find(name); it != index.end()) --staff[it->second].open;
          w.declined.push_back(std::move(name));
        }
      }
      waiting.push_back(std::move(w));
    }
    if (!opening.open) continue;
    // Nothing overflows into a team that is closed now: it stays here, offered to this team.
    core::team_policy policy = team.policy;
    if (const auto* target = parts_.config.find_team(policy.overflow_team);
        target && !config::opening_at(*target, now).open) {
      policy.overflow_team.clear();
    }
    // Each waiting conversation's offered names, by id (ordering moves them).
    std::map<std::string, std::vector<std::string>> offered_of;
    for (std::size_t i = 0; i < waiting.size(); ++i) offered_of[waiting[i].id] = offered[i];
    core::order_queue(waiting);
    for (auto& w : waiting) {
      auto d = core::route(w, policy, staff, now);
      if (d.what == core::routing_decision::kind::wait && !w.declined.empty()) {
        // Everyone who could take it has passed on it: start over with them.
        w.declined.clear();
        d = core::route(w, policy, staff, now);
        if (d.what == core::routing_decision::kind::offer) {
          actions.start_object()
              .field("kind", "forget_declined")
              .field("id", w.id)
              .field("team", team.id)
              .end_object();
          declare(w.id, team.id, "", "", {});
        }
      }
      if (d.what == core::routing_decision::kind::overflow) {
        actions.start_object()
            .field("kind", "overflow")
            .field("id", w.id)
            .field("team", team.id)
            .field("to_team", d.team);
        list("offered", offered_of[w.id]);
        actions.end_object();
        declare(w.id, team.id, d.team, "", offered_of[w.id]);
      } else if (d.what == core::routing_decision::kind::offer) {
        actions.start_object()
            .field("kind", "offer")
            .field("id", w.id)
            .field("team", team.id)
            .key("to")
            .start_array();
        for (const auto& name : d.to) {
          actions.string(name);
          if (const auto it = index.find(name); it != index.end()) ++staff[it->second].open;
        }
        actions.end_array()
            .field("expires", std::to_string(core::to_millis(d.offer_expires)))
            .end_object();
        declare(w.id, team.id, "", "", d.to);
      }
    }
  }
  actions.end_array();
  return {actions.str(), std::move(keys)};
}

}  // namespace askdesk::hub
