// The daemon's side of the connector contract: one connector_host per configured connector
// implements the narrow connector_context (connectors/connector.hpp) over the daemon's
// parts, so a connector never touches Redis, the hub or another connector. Its records live
// under "<type>:<id>:<name>", its quotas under "<type>:<id>:quota:<name>" and its leases
// under "lease:<type>:<name>" (shared by connectors of one type: one poller per account),
// held as "<daemon>/<connector id>".
//
// Single-threaded: everything runs on the io_context's thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "connectors/connector.hpp"
#include "daemon/store/privacy.hpp"
#include "daemon/store/redis_connection.hpp"
#include "daemon/store/scripts.hpp"

namespace askdesk::store {
class event_feed;
}

namespace askdesk::hub {

// Where inbound messages go: the hub (hub.hpp), or a test's stand-in.
class inbound_sink {
 public:
  virtual ~inbound_sink() = default;
  virtual void deliver(core::inbound_message m,
                       std::function<void(core::result<connectors::delivery>)> done) = 0;
  // False while messages cannot be stored (Redis unreachable).
  virtual bool accepting() const = 0;
};

// What every host borrows from the daemon; all must outlive the hosts.
struct host_parts {
  boost::asio::io_context& io;
  const config::daemon_config& config;
  const core::clock& clock;
  core::metrics& metrics;
  net::curl_client& http;
  net::http_router& routes;
  inbound_sink& sink;
  store::redis_connection& redis;
  const store::script_set& scripts;
  store::event_feed& events;
  std::string daemon_name;  // what leases are held as: host:port, the same after a restart
  const store::privacy::retention& privacy;  // what a patron's erasure removes
  // Every connector of the daemon; complete once they start (hand-offs look here).
  const std::vector<std::unique_ptr<connectors::connector>>& connectors;
  // Whether a request comes from signed-in staff (the REST API's check; an error for 401/403).
  std::function<void(const net::http_request&, std::function<void(core::status)>)>
      authenticate_staff;
};

class connector_host final : public connectors::connector_context {
 public:
  connector_host(host_parts& parts, std::string id, std::string type);
  ~connector_host() override;

  boost::asio::io_context& io() override { return parts_.io; }
  const core::clock& clock() const override { return parts_.clock; }
  core::metrics& metrics() override { return parts_.metrics; }
  const config::daemon_config& config() const override { return parts_.config; }
  net::curl_client& http() override { return parts_.http; }

  void add_webhook(std::string_view method, std::string_view path, webhook_check check,
                   net::http_handler handler) override;
  void add_websocket(std::string_view path, net::websocket_route route,
                     net::websocket_limits limits) override;
  void add_staff_route(std::string_view method, std::string_view path,
                       net::http_handler handler) override;
  std::string staff_path(std::string_view path) const override;

  void deliver(core::inbound_message m,
               std::function<void(core::result<connectors::delivery>)> done) override;
  bool accepting() const override;
  void deliver_for(std::string_view channel, core::inbound_message m,
                   std::function<void(core::result<connectors::delivery>)> done) override;
  bool serves(std::string_view channel) const override;

  void report_delivery(connectors::delivery_report report,
                       std::function<void(core::status)> done) override;
  void report_typing(std::string_view thread, std::string_view name,
                     std::function<void(core::status)> done) override;

  void load(std::string_view name,
            std::function<void(core::result<connectors::state_record>)> done) override;
  void save(std::string_view name, connectors::state_record fields, std::chrono::seconds ttl,
            std::function<void(core::status)> done) override;
  void erase(std::string_view name, std::function<void(core::status)> done) override;
  void save_fenced(const connectors::lease_grant& lease, std::string_view name,
                   connectors::state_record fields,
                   std::function<void(core::status)> done) override;
  void take_quota(std::string_view name, std::int64_t limit, std::chrono::milliseconds window,
                  std::function<void(core::result<bool>)> done) override;
  void lease(
      std::string_view name, std::chrono::milliseconds ttl,
      std::function<void(core::result<std::optional<connectors::lease_grant>>)> done) override;

  std::uint64_t follow(std::function<void(const connectors::conversation_event&)> handler) override;
  void unfollow(std::uint64_t subscription) override;
  void read_transcript(std::string_view thread, std::string_view after,
                       std::function<void(core::result<std::string>)> done) override;
  void team_available(std::string_view team, std::function<void(core::result<bool>)> done) override;
  void send_transcript(transcript_request request, std::function<void(core::status)> done) override;
  void forget(std::string_view thread, std::function<void(core::status)> done) override;

  const std::string& id() const { return id_; }

 private:
  void erase_patron(std::string patron, std::function<void(core::status)> done, int tries);
  void report_delivery_once(connectors::delivery_report report,
                            std::function<void(core::status)> done, int tries);
  std::string record_key(std::string_view name) const;
  std::string lease_key(std::string_view name) const;
  const connectors::connector* connector_for(std::string_view channel) const;
  const connectors::connector* connector_for_id(std::string_view id) const;
  void save_record(std::string_view lease_key, std::string_view fence, std::string_view name,
                   const connectors::state_record& fields, std::chrono::seconds ttl,
                   std::function<void(core::status)> done);

  host_parts& parts_;
  const std::string id_;
  const std::string type_;
  // What its leases are held as: the daemon and the connector, so two connectors that poll
  // one source by mistake do not both poll it.
  const std::string holder_;
  std::vector<std::uint64_t> subscriptions_;
};

}  // namespace askdesk::hub
