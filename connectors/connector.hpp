// The connector contract (../shared/DESIGN.md, "The connector contract"; docs/connectors.md
// for how to write one). A connector brings one channel into askdesk: it delivers normalized
// inbound messages through its context, acknowledging its source only once the context says
// the message is durable; it sends one outbound message at a time from its own outbound lane
// and says whether that worked, may be retried, or never will; it declares its channel's
// traits; and it reports its health.
//
// A connector is made by the factory registered for its config `type` (registry.hpp), like an
// Envoy extension: the factory reads the connector's config block once, then builds the
// instance with a connector_context, the narrow set of callbacks the daemon gives it (as
// Envoy hands a filter its callbacks). A connector never sees Redis, the hub or another
// connector. Everything runs on the daemon's I/O thread.
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
#include "daemon/core/channel.hpp"
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

namespace askdesk::connectors {

enum class delivery { stored, duplicate };

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

// What a channel later says about a message it accepted (a delivery report).
struct delivery_report {
  std::string provider_id;  // the channel's id of the message (send_result::provider_id)
  std::string status;       // queued, sent, delivered, undelivered, failed, read
  std::string error_code;
  std::string error;
};

// A lease for work one daemon at a time may do (polling one account). `fence` grows each
// time the lease changes hands: writes made under it are refused once another daemon took it.
struct lease_grant {
  std::string name;
  std::uint64_t fence = 0;
};

// A change the dashboards see, as the connector may follow it (docs/protocol.md's events):
// `type` ("message.created", "conversation.updated", "typing", "presence.updated"), the team,
// and `data`, the event's JSON.
struct conversation_event {
  std::string_view type;
  std::string_view team;
  std::string_view data;
};

// A small record of string fields kept for this connector across restarts and daemons.
using state_record = std::map<std::string, std::string>;

// What a connector may use: its callbacks into the daemon. Borrowed for the connector's
// whole life. Completion callbacks run on the I/O thread, never inside the call.
class connector_context {
 public:
  virtual ~connector_context() = default;

  // ---- the daemon's plumbing
  virtual boost::asio::io_context& io() = 0;  // for net::timer
  virtual const core::clock& clock() const = 0;
  virtual core::metrics& metrics() = 0;
  virtual const config::daemon_config& config() const = 0;
  virtual net::curl_client& http() = 0;  // the daemon's one asynchronous HTTP client

  // ---- routes on the daemon's HTTP server
  // A webhook: `check` vouches for the request (a signature, a secret header) or says why not
  // ("forbidden" → 403, "unauthenticated" → 401, "invalid" → 400); refused requests are
  // counted in askdesk_webhook_refused_total{connector,reason} and never reach `handler`.
  using webhook_check = std::function<core::status(const net::http_request&)>;
  virtual void add_webhook(std::string_view method, std::string_view path, webhook_check check,
                           net::http_handler handler) = 0;
  virtual void add_websocket(std::string_view path, net::websocket_route route,
                             net::websocket_limits limits) = 0;
  // A route for signed-in staff at staff_path(path) (`path` may hold {params}): the daemon
  // authenticates the caller as it does for the REST API (a session cookie or an API token;
  // 401 otherwise) before `handler` runs. For what staff fetch through the connector so that
  // the channel's credentials never reach a browser (a Telegram photo).
  virtual void add_staff_route(std::string_view method, std::string_view path,
                               net::http_handler handler) = 0;
  // "/api/v1/connectors/<connector id>/<path>": where staff_route `path` is served (with its
  // parameters filled in, the URL of an attachment).
  virtual std::string staff_path(std::string_view path) const = 0;

  // ---- inbound
  // Validates and stores `m` (its `connector` and `channel` are filled in); `done` says
  // stored or duplicate (both mean: acknowledge the source), or an error: `invalid` (drop
  // it, tell the source it was refused) or `unavailable` (do not acknowledge; try later).
  virtual void deliver(core::inbound_message m,
                       std::function<void(core::result<delivery>)> done) = 0;
  // False while messages cannot be stored (Redis unreachable): pollers pause.
  virtual bool accepting() const = 0;
  // Stores `m` as a message of another configured channel of kind `channel` ("email",
  // "sms"), whose connector answers it (the web chat's offline form). `not_found` when no
  // connector serves that channel here.
  virtual void deliver_for(std::string_view channel, core::inbound_message m,
                           std::function<void(core::result<delivery>)> done) = 0;
  virtual bool serves(std::string_view channel) const = 0;

  // ---- outbound
  virtual void report_delivery(delivery_report report, std::function<void(core::status)> done) = 0;
  // The patron is typing in the conversation of `thread` on this connector; `name` as they
  // gave it ("" when anonymous).
  virtual void report_typing(std::string_view thread, std::string_view name,
                             std::function<void(core::status)> done) = 0;

  // ---- state: records, quotas, leases (names are this connector's; the daemon prefixes them)
  // The record `name`, empty when there is none.
  virtual void load(std::string_view name,
                    std::function<void(core::result<state_record>)> done) = 0;
  // Replaces the record `name`; it expires `ttl` after this save (zero: never). An empty
  // record removes it.
  virtual void save(std::string_view name, state_record fields, std::chrono::seconds ttl,
                    std::function<void(core::status)> done) = 0;
  virtual void erase(std::string_view name, std::function<void(core::status)> done) = 0;
  // Replaces (or, empty, removes) the record `name` only while `lease` is still this daemon's:
  // `lease_lost` otherwise (a cursor a paused poller must not move after another took over).
  virtual void save_fenced(const lease_grant& lease, std::string_view name, state_record fields,
                           std::function<void(core::status)> done) = 0;
  // Counts one use of the quota `name`: true when fewer than `limit` were used in the current
  // `window` (which starts at the first use), false when the quota is spent.
  virtual void take_quota(std::string_view name, std::int64_t limit,
                          std::chrono::milliseconds window,
                          std::function<void(core::result<bool>)> done) = 0;
  // Takes or renews the lease `name` for `ttl`: the grant while this daemon (as this
  // connector) holds it, nullopt when another does. Leases are shared by every connector of the
  // same type (one Twilio account polled once, whatever the connector ids).
  virtual void lease(std::string_view name, std::chrono::milliseconds ttl,
                     std::function<void(core::result<std::optional<lease_grant>>)> done) = 0;

  // ---- the conversations it serves
  // Calls `handler` with every change of this connector's conversations, and with presence
  // changes, until unfollow(). Returns the subscription.
  virtual std::uint64_t follow(std::function<void(const conversation_event&)> handler) = 0;
  virtual void unfollow(std::uint64_t subscription) = 0;
  // The messages of the conversation of `thread` after message `after` ("" for all), as the
  // patron sees them: {"conversation": {...}|null, "messages": [...]}.
  virtual void read_transcript(std::string_view thread, std::string_view after,
                               std::function<void(core::result<std::string>)> done) = 0;
  // Whether a member of `team` is available now.
  virtual void team_available(std::string_view team,
                              std::function<void(core::result<bool>)> done) = 0;
  // Sends the patron the transcript of the conversation of `thread` on the configured
  // connector of kind `channel`, at `address` (the widget's "email me this transcript").
  struct transcript_request {
    std::string thread;
    std::string channel;  // "email"
    std::string address;
    std::string subject;
    std::string intro;  // the first line of the message
    std::int64_t per_hour = 60;
  };
  virtual void send_transcript(transcript_request request,
                               std::function<void(core::status)> done) = 0;
  // The patron's own request to be forgotten (the widget's "End and forget this chat"): ends
  // the conversation of `thread` if it is open (no satisfaction question) and erases its
  // patron now, their identifiers and everything they wrote, keeping the statistics
  // (docs/privacy.md). Done at once when the thread has no conversation.
  virtual void forget(std::string_view thread, std::function<void(core::status)> done) = 0;
};

class connector {
 public:
  virtual ~connector() = default;
  virtual const std::string& id() const = 0;
  virtual std::string_view type() const = 0;
  virtual const core::channel_traits& traits() const = 0;
  // The kind of channel its messages carry: "webchat", "sms", "email", ...
  std::string_view channel() const { return traits().channel; }
  // A closed conversation continues when its thread writes again within this window
  // (SMS and IM); zero means a new message after closing starts a new conversation.
  virtual std::chrono::milliseconds reopen_window() const { return {}; }

  // Starts polling or listening. Routes are added by the constructor, before start.
  virtual void start() {}
  // Stops taking new work; what is in flight completes or is abandoned unacknowledged.
  virtual void stop() {}

  // Whether this daemon now sends the connector's lane (one daemon at a time holds it, fenced):
  // a connector that keeps one connection to its channel (XMPP) connects only while held, so
  // the daemon that sends is the one that is connected.
  virtual void lane_held(bool held) { (void)held; }

  // Sends one message from the connector's outbound lane. `done` runs exactly once, within
  // the lane's send timeout: a send that may have reached the channel must not be reported
  // `retry` (it would be sent again).
  virtual void send(const outbound_message& m, std::function<void(send_result)> done) = 0;

  virtual connector_health health() const = 0;
};

// How a connector's outbound lane sends: config block "outbound" of any connector
// (docs/connectors.md). Defaults come from the factory.
struct lane_settings {
  int concurrency = 4;    // sends in flight at once (one per conversation at a time)
  double per_second = 0;  // sends started per second at most; 0: no limit
  std::chrono::milliseconds send_timeout{30000};  // the longest one send may take
  int max_attempts = 8;                           // then the message goes to the dead letters
};

// A connector's config block, read and checked. Each factory derives its own.
struct connector_settings {
  virtual ~connector_settings() = default;
  std::string id;
  lane_settings lane;
  // "lease_seconds": how long a poller's lease lasts unrenewed, so how soon another daemon
  // takes over from one that died; 0: the connector's own default (at least 30 s).
  std::chrono::milliseconds lease{0};

  std::chrono::milliseconds lease_or(std::chrono::milliseconds fallback) const {
    return lease.count() != 0 ? lease : fallback;
  }
};

class connector_factory {
 public:
  virtual ~connector_factory() = default;
  // The config `type` this factory builds.
  virtual std::string_view type() const = 0;
  // The records its connectors keep per patron address (state_record names: the prefix, then
  // the address), by channel: they go with the patron's identifiers (docs/privacy.md).
  struct address_record {
    std::string channel, prefix;
  };
  virtual std::vector<address_record> address_records() const { return {}; }
  // What its lanes do unless the block's "outbound" says otherwise.
  virtual lane_settings lane_defaults() const { return {}; }
  // Reads the block (its `id`, `type` and `outbound` are already read); problems go to the
  // reader's list with their JSON path. The registry calls block.finish() afterwards.
  virtual std::unique_ptr<connector_settings> parse(json::object_reader& block) const = 0;
  // REQUIRES: `settings` came from this factory's parse() without problems.
  virtual std::unique_ptr<connector> create(std::unique_ptr<connector_settings> settings,
                                            connector_context& context) const = 0;
};

}  // namespace askdesk::connectors
