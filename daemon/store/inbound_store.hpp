// The durable first step of every inbound message: one atomic script stores it in the
// `inbound` stream unless its (connector, external id) was stored before. A connector
// acknowledges its source (HTTP 200, cursor advance) only after `done` reported success;
// while Redis is unreachable `done` reports `unavailable` and nothing is acknowledged.
// Single-threaded, like the connection it uses.
#pragma once

#include <functional>

#include "daemon/core/message.hpp"
#include "daemon/core/result.hpp"
#include "daemon/store/redis_connection.hpp"
#include "daemon/store/scripts.hpp"

namespace askdesk::store {

enum class ingest_outcome { stored, duplicate };

class inbound_store {
 public:
  using done_handler = std::function<void(core::result<ingest_outcome>)>;

  inbound_store(redis_connection& redis, const script_set& scripts)
      : redis_(redis), scripts_(scripts) {}

  // REQUIRES: core::check_inbound(m) found nothing.
  void append(const core::inbound_message& m, done_handler done);

 private:
  redis_connection& redis_;
  const script_set& scripts_;
};

// The error for a reply that failed: `unavailable` when Redis did not answer, `redis` when
// it refused; the message names what was being done.
core::error redis_error(const reply& r, std::string_view doing);

}  // namespace askdesk::store
