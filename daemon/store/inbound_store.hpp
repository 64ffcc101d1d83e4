// The durable first step of every inbound message: one atomic script stores it in the
// `inbound` stream unless its (connector, external id) was stored before. A connector
// acknowledges its source (HTTP 200, cursor advance) only after `done` reported success;
// while Redis is unreachable `done` reports `unavailable` and nothing is acknowledged.
//
// With replicas required (redis.min_replicas_acked), a stored message is reported only once
// that many replicas hold it (WAIT), so a failover cannot lose what a source was told is
// stored; short of them within the timeout, `done` reports `unavailable` and the source sends
// it again (stored once: dedup). One WAIT covers every append whose reply came before it
// (WAIT counts this connection's writes), so under load one wait serves a whole group. WAIT
// holds the connection: give the store a connection of its own.
//
// Single-threaded, like the connection it uses.
#pragma once

#include <chrono>
#include <functional>
#include <vector>

#include "daemon/core/message.hpp"
#include "daemon/core/result.hpp"
#include "daemon/store/redis_connection.hpp"
#include "daemon/store/scripts.hpp"

namespace askdesk::store {

enum class ingest_outcome { stored, duplicate };

struct replica_wait {
  int replicas = 0;  // 0: report as soon as the master stored it
  std::chrono::milliseconds timeout{1000};
  // Told how many messages a WAIT that came back short left unacknowledged (for metrics).
  std::function<void(std::size_t messages)> fell_short = [](std::size_t) {};
};

class inbound_store {
 public:
  using done_handler = std::function<void(core::result<ingest_outcome>)>;

  inbound_store(redis_connection& redis, const script_set& scripts, replica_wait wait = {})
      : redis_(redis), scripts_(scripts), wait_(wait) {}

  // REQUIRES: core::check_inbound(m) found nothing.
  void append(const core::inbound_message& m, done_handler done);

 private:
  using waiter = std::function<void(core::status)>;
  void wait_for_replicas(waiter w);
  void send_wait();

  redis_connection& redis_;
  const script_set& scripts_;
  const replica_wait wait_;
  std::vector<waiter> waiting_;  // for the next WAIT
  bool wait_in_flight_ = false;
};

// The error for a reply that failed: `unavailable` when Redis did not answer, `redis` when
// it refused; the message names what was being done.
core::error redis_error(const reply& r, std::string_view doing);

}  // namespace askdesk::store
