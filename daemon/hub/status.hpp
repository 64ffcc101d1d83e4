// /healthz and /metrics: what a load balancer, a supervisor's monitoring and an admin ask
// of a running daemon. Health answers 200 only when Redis answered a PING just now; metrics
// adds live gauges (queue depth per team, WebSocket clients, Redis round trip measured
// every 5 s) to the counters the other parts keep. Single-threaded.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "connectors/connector.hpp"
#include "daemon/config/config.hpp"
#include "daemon/core/metrics.hpp"
#include "daemon/net/http.hpp"
#include "daemon/net/http_server.hpp"
#include "daemon/net/timer.hpp"
#include "daemon/store/redis_connection.hpp"

namespace askdesk::hub {

struct status_parts {
  boost::asio::io_context& io;
  const config::daemon_config& config;
  store::redis_connection& redis;
  core::metrics& metrics;
  const net::http_server& server;
  const std::vector<std::unique_ptr<connectors::connector>>& connectors;
  // False until the daemon does its work (after moving an older data layout): /healthz
  // answers 503 "starting" meanwhile.
  std::function<bool()> working;
};

class status {
 public:
  // Adds GET /healthz and GET /metrics to `router`.
  status(status_parts parts, net::http_router& router);
  void start();  // begins the periodic Redis round-trip measurement
  void stop();

 private:
  void health(net::respond_fn respond);
  void render_metrics(net::respond_fn respond);
  void measure();

  status_parts parts_;
  net::timer ping_timer_;
  const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

}  // namespace askdesk::hub
