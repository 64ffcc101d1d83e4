// The building block of every connector that pulls from its source (Twilio's message list,
// an IMAP mailbox, a social account's notifications): one round at a time, on one daemon at
// a time, with a cursor that moves only once what the round found is durable.
//
// Each round: the poller takes or renews its lease (another daemon holding it means: look
// again later), loads the cursor, and calls the connector's round function with a `round`.
// The connector reads its source, hands the messages to round::deliver, saves the new cursor
// with round::save_cursor (refused once the lease is lost) and ends the round with done(),
// failed() or rate_limited(). Failures back off exponentially with jitter, up to max_backoff;
// a source's rate-limit headers (Retry-After, X-RateLimit-Remaining/-Reset as epoch seconds
// or ISO-8601) set the wait instead. While Redis is away no round starts.
//
// Health: the poller's last success and error feed the connector's health() (/healthz), and
// askdesk_poll_rounds_total{connector,outcome} and askdesk_poll_backoff_seconds{connector}
// are on /metrics: tests wait on the counter rather than on the clock.
//
// Single-threaded: everything runs on the I/O thread. Destroying the poller abandons a round
// in flight (its callbacks do nothing).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "connectors/connector.hpp"

namespace askdesk::net {
struct incoming_response;
}

namespace askdesk::connectors {

// How long `r` says to wait before asking again, if it says: Retry-After (seconds or an HTTP
// date) on any answer, else X-RateLimit-Reset (epoch seconds, seconds from now, or ISO-8601)
// on a 429 or once X-RateLimit-Remaining is 0; nullopt when it says nothing. Waits are capped
// at `cap`.
std::optional<std::chrono::milliseconds> rate_limit_wait(const net::incoming_response& r,
                                                         core::timestamp now,
                                                         std::chrono::milliseconds cap);

struct poller_options {
  std::string connector;  // the connector's id, for metrics and logs
  std::string lease;      // the lease's name: one poller per source, whatever the connector id
  std::string cursor = "cursor";  // the cursor's record name
  std::chrono::milliseconds every{20000};
  std::chrono::milliseconds lease_ttl{0};  // 0: three rounds' time, at least 30 s
  std::chrono::milliseconds first_backoff{1000};
  std::chrono::milliseconds max_backoff{300000};
};

class poller {
 public:
  class round;
  using round_fn = std::function<void(std::shared_ptr<round>)>;

  poller(connector_context& context, poller_options options, round_fn fn);
  ~poller();
  poller(const poller&) = delete;
  poller& operator=(const poller&) = delete;

  void start();
  void stop();
  // Starts a round now unless one is in flight (a webhook said there is news).
  void poke();

  // The last success and error of its rounds; backlog as the last round reported it.
  connector_health health() const;
  // The same merged with the connector's own (its sends, its webhooks): the later success and
  // the later error of the two.
  connector_health health(const connector_health& own) const;

 private:
  struct state;
  std::shared_ptr<state> state_;
};

// One round. Hold the shared_ptr in every callback until the round ends; exactly one of
// done(), failed() or rate_limited() ends it.
class poller::round : public std::enable_shared_from_this<round> {
 public:
  // The cursor as last saved; empty on a first start.
  const state_record& cursor() const { return cursor_; }
  const lease_grant& lease() const { return lease_; }
  // True once the poller stopped: end the round without doing more.
  bool stopped() const;

  // Stores `batch`; `then(true)` once every message is durable (stored or a duplicate) or
  // refused for good (invalid: noted in the health, never read again), `then(false)` when
  // one could not be stored now: the round should then fail without moving its cursor (the
  // next round reads them again; duplicates are dropped).
  void deliver(std::vector<core::inbound_message> batch, std::function<void(bool stored)> then);
  // Saves the cursor under the lease, then `then()`. A lost lease or Redis failing ends the
  // round instead (failed()).
  void save_cursor(state_record cursor, std::function<void()> then);
  // Renews the lease in a long round, then `then()`; a lost lease ends the round.
  void renew(std::function<void()> then);
  // Reports how many messages are known to wait at the source.
  void set_backlog(std::int64_t backlog);

  // Success: the next round after `every`, or at once when `more` is waiting.
  void done(bool more = false);
  // Failure: the next round after a backoff with jitter, or after `wait` when the source
  // said how long.
  void failed(std::string error, std::chrono::milliseconds wait = {});
  // Ends the round for a refused request: waits as `r`'s rate-limit headers say, else backs
  // off as failed() does.
  void rate_limited(std::string error, const net::incoming_response& r);

 private:
  friend struct poller::state;
  round(std::shared_ptr<state> state, lease_grant lease, state_record cursor)
      : state_(std::move(state)), lease_(std::move(lease)), cursor_(std::move(cursor)) {}
  void end(std::optional<std::string> error, std::chrono::milliseconds wait, bool more);

  std::shared_ptr<state> state_;
  lease_grant lease_;
  state_record cursor_;
  bool ended_ = false;
};

}  // namespace askdesk::connectors
