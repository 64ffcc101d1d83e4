// The daemon's parts around connectors, in the test's own process: a real redis-server, the
// command connection behind a faulty_redis (so a test can fail one command), the event feed,
// the hub's first step (a message is durable once it is in the inbound stream), and a
// connector_host per connector built from its config block by the real registry. For tests
// that must act at a precise moment (fault injection, lanes) rather than through a daemon
// process. Single-threaded: run the io_context with run_until().
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "connectors/registry.hpp"
#include "daemon/hub/connector_host.hpp"
#include "daemon/net/curl_client.hpp"
#include "daemon/store/event_feed.hpp"
#include "daemon/store/privacy.hpp"
#include "tests/support/faulty_redis.hpp"
#include "tests/support/redis_server.hpp"

namespace askdesk::testing {

class connector_harness {
 public:
  // What staff routes (connector_context::add_staff_route) accept as signed-in staff:
  // `Authorization: Bearer <staff_token>`.
  static constexpr const char* staff_token = "harness-staff";

  connector_harness();
  ~connector_harness();

  // A connector of `type` with id `id` from its config block (`block` is the JSON object
  // without id and type); fails the test on a config problem. Not started.
  connectors::connector& add(const std::string& type, const std::string& id,
                             const std::string& block);
  // The lane settings the registry read for connector `id`.
  const connectors::lane_settings& lane(const std::string& id) const { return lanes_.at(id); }

  // A new connection to the harness's Redis with the scripts loaded (not started).
  std::unique_ptr<store::redis_connection> connect(std::string name);

  boost::asio::io_context& io() { return io_; }
  redis_server& redis() { return redis_; }
  // The routes connectors added (webhooks, staff routes): call dispatch() as the server would.
  net::http_router& routes() { return routes_; }
  faulty_redis& commands() { return *faulty_; }
  core::metrics& metrics() { return metrics_; }
  const core::clock& clock() const { return clock_; }
  const store::script_set& scripts() const { return scripts_; }
  std::string fcall(store::script s) const { return scripts_.function(s); }

 private:
  class stream_sink;

  redis_server redis_;
  boost::asio::io_context io_;
  config::daemon_config config_;
  store::script_set scripts_;
  core::offset_clock clock_{std::chrono::milliseconds(0)};
  core::metrics metrics_;
  net::curl_client http_{io_};
  net::http_router routes_;
  std::unique_ptr<store::redis_connection> commands_, events_reader_;
  std::unique_ptr<faulty_redis> faulty_;
  std::unique_ptr<store::event_feed> events_;
  std::unique_ptr<stream_sink> sink_;
  store::privacy::retention privacy_;  // the config's defaults
  std::vector<std::unique_ptr<connectors::connector>> connectors_;
  std::unique_ptr<hub::host_parts> parts_;
  std::vector<std::unique_ptr<hub::connector_host>> hosts_;
  std::map<std::string, connectors::lane_settings> lanes_;
};

}  // namespace askdesk::testing
