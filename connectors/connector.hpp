// The connector contract (../shared/DESIGN.md, "The connector contract"). A connector brings
// one channel into askdesk: it delivers normalized inbound messages to an inbound_sink,
// acknowledging its source only once the sink says the message is durable; it sends one
// outbound message at a time and says whether that worked, may be retried, or never will;
// it may publish webhook routes; and it reports its health.
//
// A connector is made by the factory registered for its config `type` (registry.hpp), like
// an Envoy extension: the factory reads the connector's config block once, then builds the
// instance with the daemon's services. Everything runs on the daemon's I/O thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/config/config.hpp"
#include "daemon/core/message.hpp"
#include "daemon/core/metrics.hpp"
#include "daemon/core/result.hpp"
#include "daemon/core/time.hpp"
#include "daemon/json/reader.hpp"
#include "daemon/net/http.hpp"

namespace boost::asio {
class io_context;
}

namespace askdesk::net {
class curl_client;
}

namespace askdesk::store {
class redis_connection;
class script_set;
class event_feed;
}  // namespace askdesk::store

namespace askdesk::connectors {

enum class delivery { stored, duplicate };

// Where inbound messages go. Implemented by the hub.
class inbound_sink {
 public:
  virtual ~inbound_sink() = default;
  // Validates and stores `m`; `done` says stored or duplicate (both mean: acknowledge the
  // source), or an error: `invalid` (drop it, tell the source it was refused) or
  // `unavailable` (do not acknowledge; the source or the poller tries again later).
  virtual void deliver(core::inbound_message m,
                       std::function<void(core::result<delivery>)> done) = 0;
  // False while messages cannot be stored (Redis unreachable): pollers pause.
  virtual bool accepting() const = 0;
};

// A reply or an automatic message to send on the patron's channel.
struct outbound_message {
  std::string conversation;  // conversation id
  std::string message;       // message id; channels that support it use it as idempotency key
  std::string to;            // the patron's address on this channel
  std::string patron_name;
  std::string thread;  // the conversation's thread key on this channel
  std::string text;
  bool automatic = false;                    // an automatic acknowledgement, not a person's reply
  std::map<std::string, std::string> facts;  // channel details (email: subject, references)
};

struct send_result {
  enum class outcome { sent, retry, permanent };
  outcome what = outcome::sent;
  std::string provider_id;  // the channel's id of the sent message, for delivery statuses
  std::string error_code;   // the channel's code ("21610"), for staff
  std::string error;        // what went wrong, for staff
  std::chrono::milliseconds retry_after{0};  // when the channel said how long to wait

  static send_result sent(std::string provider_id = {}) {
    return {outcome::sent, std::move(provider_id), {}, {}, {}};
  }
  static send_result retry(std::string error, std::string code = {}) {
    return {outcome::retry, {}, std::move(code), std::move(error), {}};
  }
  static send_result permanent(std::string error, std::string code = {}) {
    return {outcome::permanent, {}, std::move(code), std::move(error), {}};
  }
};

struct connector_health {
  core::timestamp last_success{};  // last message received or sent
  core::timestamp last_error_at{};
  std::string last_error;
  std::int64_t backlog = 0;  // messages known to wait at the source
};

class connector {
 public:
  virtual ~connector() = default;
  virtual const std::string& id() const = 0;
  virtual std::string_view type() const = 0;
  // The kind of channel its messages carry: "webchat", "sms", "email", ...
  virtual std::string_view channel() const = 0;
  // A closed conversation continues when its thread writes again within this window
  // (SMS and IM); zero means a new message after closing starts a new conversation.
  virtual std::chrono::milliseconds reopen_window() const { return {}; }

  // Starts polling or listening. Webhook routes are added by the factory, before start.
  virtual void start() {}
  // Stops taking new work; what is in flight completes or is abandoned unacknowledged.
  virtual void stop() {}

  // Sends one message. `done` runs exactly once.
  virtual void send(const outbound_message& m, std::function<void(send_result)> done) = 0;

  virtual connector_health health() const = 0;
};

// What a connector may use. Borrowed: valid for the connector's whole life.
struct connector_services {
  boost::asio::io_context& io;
  net::http_router& routes;
  inbound_sink& sink;
  const config::daemon_config& config;
  store::redis_connection& redis;
  const store::script_set& scripts;
  store::event_feed& events;  // every change, live (connectors that push to patrons)
  core::metrics& metrics;
  const core::clock& clock;
  net::curl_client& http;  // the daemon's one asynchronous HTTP client
  // Every connector of the daemon, this one included; complete once start() runs (the web
  // chat's offline form hands a question to the channel the patron chose).
  const std::vector<std::unique_ptr<connector>>& peers;
  // This daemon's name (host:port), the same after a restart: what it holds leases as, so a
  // daemon that was killed takes its polling back at once instead of waiting for the lease.
  std::string daemon_name;
};

// A connector's config block, read and checked. Each factory derives its own.
struct connector_settings {
  virtual ~connector_settings() = default;
  std::string id;
};

class connector_factory {
 public:
  virtual ~connector_factory() = default;
  // The config `type` this factory builds.
  virtual std::string_view type() const = 0;
  // Reads the block (its `id` and `type` are already known); problems go to the reader's
  // list with their JSON path. The registry calls block.finish() afterwards.
  virtual std::unique_ptr<connector_settings> parse(json::object_reader& block) const = 0;
  // REQUIRES: `settings` came from this factory's parse() without problems.
  virtual std::unique_ptr<connector> create(std::unique_ptr<connector_settings> settings,
                                            const connector_services& services) const = 0;
};

}  // namespace askdesk::connectors
