// The router: once a second (and soon when a conversation is created or freed) the daemon
// holding the routing lease in Redis reads a snapshot of every team's queue and every staff
// member's presence and load, decides with core::route() who is offered what, which offers
// have timed out, what overflows and what goes back to the queue, and carries it out with
// one script that re-checks each conversation's state. Offers are only offers: taking a
// conversation is always the atomic claim or accept in Redis, so however many daemons run,
// a conversation never has two owners. If the lease holder dies, another daemon takes over
// when the lease expires. A snapshot blocks Redis while it reads, so passes that events call
// for come at most every `min_gap`, however many events arrive (a storm of messages is
// routed in batches), and the state of every held conversation, which only the slow rules
// need (offline, unanswered_minutes), is read every `held_every`.
//
// Single-threaded: everything runs on the io_context's thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "daemon/config/config.hpp"
#include "daemon/core/metrics.hpp"
#include "daemon/core/time.hpp"
#include "daemon/net/timer.hpp"
#include "daemon/store/event_feed.hpp"
#include "daemon/store/redis_connection.hpp"
#include "daemon/store/scripts.hpp"

namespace boost::asio {
class io_context;
}

namespace askdesk::hub {

struct router_parts {
  boost::asio::io_context& io;
  const config::daemon_config& config;
  store::redis_connection& commands;
  const store::script_set& scripts;
  store::event_feed& events;
  const core::clock& clock;
  core::metrics& metrics;
};

struct router_options {
  std::string name = "askdesk";  // this daemon in the routing lease
  std::chrono::milliseconds every{1000};
  std::chrono::milliseconds min_gap{100};  // between the starts of two passes
  std::chrono::milliseconds held_every{2000};
  std::chrono::milliseconds lease{5000};
  std::size_t per_team = 200;  // conversations of each queue considered in one pass
};

class router {
 public:
  router(router_parts parts, router_options options);
  ~router();
  router(const router&) = delete;
  router& operator=(const router&) = delete;

  void start();
  void stop();

 private:
  void schedule(std::chrono::milliseconds delay);
  // The delay before the next pass an event asks for: what is left of min_gap.
  std::chrono::milliseconds until_gap() const;
  void pass();
  // After a pass: the next one when it is due.
  void finish();
  // The actions (JSON, route_apply.lua) and the keys they touch, in order.
  std::pair<std::string, std::vector<std::string>> decide(const std::string& snapshot) const;

  router_parts parts_;
  router_options options_;
  net::timer timer_;
  std::uint64_t subscription_ = 0;
  std::chrono::steady_clock::time_point last_pass_{}, last_held_{};
  bool running_ = false;  // a pass is in flight
  bool again_ = false;    // something changed during it: pass again right after
  bool soon_ = false;     // a pass an event asked for is set (min_gap from the last)
  bool stopped_ = true;
};

}  // namespace askdesk::hub
