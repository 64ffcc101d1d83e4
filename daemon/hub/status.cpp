#include "daemon/hub/status.hpp"

#include "daemon/json/writer.hpp"

namespace askdesk::hub {

namespace {

using steady = std::chrono::steady_clock;

double seconds_since(steady::time_point t) {
  return std::chrono::duration<double>(steady::now() - t).count();
}

}  // namespace

status::status(status_parts parts, net::http_router& router)
    : parts_(parts), ping_timer_(parts.io) {
  auto& m = parts_.metrics;
  m.declare_gauge("askdesk_redis_up", "1 when the daemon's Redis connection is ready.");
  m.declare_gauge("askdesk_redis_rtt_seconds", "Round trip of the last PING to Redis.");
  m.declare_gauge("askdesk_queue_depth", "Conversations waiting in a team's queue.");
  m.declare_gauge("askdesk_websocket_clients", "Open WebSockets, by endpoint.");
  m.declare_gauge("askdesk_uptime_seconds", "Seconds since the daemon started.");
  m.declare_gauge("askdesk_connector_last_success_timestamp_seconds",
                  "When a connector last received or sent, by connector.");
  m.declare_gauge("askdesk_connector_last_error_timestamp_seconds",
                  "When a connector last failed (0: never), by connector; /healthz says why.");
  m.declare_gauge("askdesk_connector_backlog",
                  "Messages a connector knows to wait at its source, by connector.");
  router.add("GET", "/healthz",
             [this](const net::http_request&, const net::route_params&, net::respond_fn respond) {
               health(std::move(respond));
             });
  router.add("GET", "/metrics",
             [this](const net::http_request&, const net::route_params&, net::respond_fn respond) {
               render_metrics(std::move(respond));
             });
}

void status::start() { measure(); }

void status::stop() { ping_timer_.cancel(); }

void status::measure() {
  const auto sent = steady::now();
  parts_.redis.command({"PING"}, [this, sent](store::reply r) {
    parts_.metrics.set("askdesk_redis_up", {}, r.failed() ? 0 : 1);
    if (!r.failed()) parts_.metrics.set("askdesk_redis_rtt_seconds", {}, seconds_since(sent));
    ping_timer_.after(std::chrono::seconds(5), [this] { measure(); });
  });
}

void status::health(net::respond_fn respond) {
  const auto sent = steady::now();
  parts_.redis.command({"PING"}, [this, sent, respond = std::move(respond)](store::reply r) {
    json::writer w;
    w.start_object();
    if (r.failed()) {
      w.field("status", "unavailable")
          .key("redis")
          .start_object()
          .field("ok", false)
          .field("error", r.str())
          .end_object();
      w.key("error")
          .start_object()
          .field("code", "unavailable")
          .field("message", "Redis does not answer: " + r.str())
          .end_object();
    } else if (parts_.working && !parts_.working()) {
      w.field("status", "starting").key("redis").start_object().field("ok", true).end_object();
      w.key("error")
          .start_object()
          .field("code", "starting")
          .field("message",
                 "moving the data to this release's layout, or waiting for another daemon to")
          .end_object();
    } else {
      w.field("status", "ok")
          .key("redis")
          .start_object()
          .field("ok", true)
          .field("rtt_ms", seconds_since(sent) * 1000)
          .end_object();
    }
    // Each connector's own health: a poller that keeps failing, a channel that refuses.
    w.key("connectors").start_array();
    for (const auto& c : parts_.connectors) {
      const auto h = c->health();
      const auto time = [&w](std::string_view key, core::timestamp t) {
        if (t == core::timestamp{}) {
          w.key(key).null();
        } else {
          w.field(key, core::format_iso8601(t));
        }
      };
      w.start_object().field("id", c->id()).field("type", c->type()).field("channel", c->channel());
      time("last_success", h.last_success);
      time("last_error_at", h.last_error_at);
      w.field("last_error", h.last_error).field("backlog", h.backlog).end_object();
    }
    w.end_array();
    w.field("version", ASKDESK_VERSION).field("uptime_s", seconds_since(started_));
    w.end_object();
    const bool ok = !r.failed() && (!parts_.working || parts_.working());
    respond(net::http_response::json(ok ? 200 : 503, w.str()));
  });
}

void status::render_metrics(net::respond_fn respond) {
  auto& m = parts_.metrics;
  m.set("askdesk_uptime_seconds", {}, seconds_since(started_));
  for (const char* path : {"/ws/staff", "/ws/patron"}) {
    m.set("askdesk_websocket_clients", {{"endpoint", path}},
          static_cast<double>(parts_.server.websocket_count(path)));
  }
  for (const auto& c : parts_.connectors) {
    const auto h = c->health();
    m.set("askdesk_connector_last_success_timestamp_seconds", {{"connector", c->id()}},
          static_cast<double>(core::to_millis(h.last_success)) / 1000);
    m.set("askdesk_connector_last_error_timestamp_seconds", {{"connector", c->id()}},
          static_cast<double>(core::to_millis(h.last_error_at)) / 1000);
    m.set("askdesk_connector_backlog", {{"connector", c->id()}}, static_cast<double>(h.backlog));
  }
  // Queue depths come from Redis; when it does not answer, the last known values stay.
  auto remaining = std::make_shared<std::size_t>(parts_.config.teams.size());
  auto shared_respond = std::make_shared<net::respond_fn>(std::move(respond));
  for (const auto& team : parts_.config.teams) {
    parts_.redis.command({"ZCARD", "queue:" + team.id}, [this, team = team.id, remaining,
                                                         shared_respond](store::reply r) {
      if (r.is_integer()) {
        parts_.metrics.set("askdesk_queue_depth", {{"team", team}},
                           static_cast<double>(r.integer()));
      }
      if (--*remaining == 0) {
        (*shared_respond)(net::http_response::text(200, parts_.metrics.render(),
                                                   "text/plain; version=0.0.4; charset=utf-8"));
      }
    });
  }
}

}  // namespace askdesk::hub
