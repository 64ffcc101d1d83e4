#include "daemon/net/desk.hpp"

#include <algorithm>

#include "daemon/config/team_hours.hpp"
#include "daemon/core/time.hpp"
#include "daemon/json/writer.hpp"
#include "daemon/store/reads.hpp"

namespace askdesk::net {

namespace {

std::string answer(const config::daemon_config& config,
                   const std::vector<const config::team_options*>& teams,
                   const store::reads::desk_state& desk, core::timestamp now) {
  const std::int64_t now_ms = core::to_millis(now);
  json::writer w;
  w.start_object().field("at", core::format_iso8601(now)).key("teams").start_array();
  for (std::size_t i = 0; i < teams.size(); ++i) {
    const auto& team = *teams[i];
    const auto& queue = desk.queues[i];
    const std::int64_t alert_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(team.wait_alert).count();
    std::int64_t oldest = 0, over = 0;
    for (const auto since : queue.waiting_since) {
      if (oldest == 0 || since < oldest) oldest = since;
      if (now_ms - since > alert_ms) ++over;
    }
    w.start_object()
        .field("id", team.id)
        .field("name", team.name)
        .field("open", askdesk::config::opening_at(team, now).open)
        .field("online", queue.online)
        .field("waiting", queue.waiting);
    w.key("longest_wait_seconds");
    if (oldest == 0) {
      w.null();
    } else {
      w.integer(std::max<std::int64_t>(0, (now_ms - oldest) / 1000));
    }
    w.field("wait_alert_seconds", alert_ms / 1000)
        .field("over_alert", over)
        .field("capacity", static_cast<std::int64_t>(team.policy.capacity));
    w.key("staff").start_array();
    for (const auto& m : desk.staff) {
      if (m.disabled || std::find(m.teams.begin(), m.teams.end(), team.id) == m.teams.end()) {
        continue;
      }
      w.start_object()
          .field("name", m.name)
          .field("display_name", m.display_name.empty() ? m.name : m.display_name)
          .field("role", m.role)
          // Someone who never opened the dashboard has chosen nothing yet.
          .field("presence", m.presence.empty() ? "offline" : m.presence)
          .field("dashboards", m.dashboards)
          .field("open", m.holds)
          .field("capacity", static_cast<std::int64_t>(config.capacity_of(m.teams)))
          .end_object();
    }
    w.end_array().end_object();
  }
  w.end_array().end_object();
  return w.str();
}

}  // namespace

void add_desk_routes(http_router& router, api_parts parts) {
  router.add(
      "GET", "/api/v1/desk",
      authenticated(parts.auth, [parts](const http_request&, const route_params&,
                                        const principal& who, respond_fn respond) {
        if (!who.sees_every_team()) {
          respond(http_response::error(403, "forbidden", "the live desk is for supervisors"));
          return;
        }
        std::vector<const config::team_options*> teams;
        std::vector<std::string> ids;
        for (const auto& t : parts.config.teams) {
          teams.push_back(&t);
          ids.push_back(t.id);
        }
        const auto now = parts.clock.now();
        store::reads::desk(
            parts.redis, core::to_millis(now), std::move(ids),
            [&config = parts.config, teams, now,
             respond](core::result<store::reads::desk_state> desk) {
              if (!desk) {
                respond(http_response::error(503, "unavailable", "Redis is unreachable"));
                return;
              }
              respond(http_response::json(200, answer(config, teams, desk.value(), now)));
            });
      }));
}

}  // namespace askdesk::net
