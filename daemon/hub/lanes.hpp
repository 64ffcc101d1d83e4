// The outbound lanes: each connector sends from its own Redis stream, `outbound:<connector>`
// (filled by the post_message, acknowledge and email_transcript scripts), so a mail server
// that hangs never holds up SMS, and each lane has its own concurrency and rate limit
// (connectors::lane_settings, the connector block's "outbound").
//
// One daemon at a time sends a lane: the one holding the lease `lease:lane:<connector>`
// (renewed every few seconds, fenced). That keeps the order of one conversation's messages
// (a conversation has at most one send in flight, and the next waits for it and its
// retries) and means no other daemon can take a send that is merely slow. When the holder
// dies, another daemon takes the lease and, before reading anything new, adopts the dead
// holder's pending entries (XAUTOCLAIM) once they have been idle longer than the lane's send
// timeout: a send still in flight has finished or failed by then, so a reply is never sent
// twice by two daemons.
//
// A send that may work later (429, 5xx, a timeout before the channel took it) is retried in
// place with exponential backoff and jitter (honouring Retry-After) while its entry stays
// pending; after the lane's max_attempts, or at once for a permanent failure, the message is
// marked failed (its reason shown to staff) and the entry goes to the lane's dead-letter list
// `outbound:<connector>:dead`, which supervisors see on the dashboard and in /metrics and
// retry or discard through the API (docs/api.md). Recording an outcome and acknowledging the
// entry are one script (settle_outbound); when Redis does not answer it, the lane records it
// again later and never sends again. A connector that has not answered within the send
// timeout (and a margin) breaks its contract: the message is failed as "may have been
// delivered" and goes to the dead letters rather than being sent twice.
//
// Single-threaded: everything runs on the io_context's thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "connectors/connector.hpp"
#include "daemon/core/metrics.hpp"
#include "daemon/store/redis_connection.hpp"
#include "daemon/store/scripts.hpp"

namespace askdesk::hub {

struct lanes_options {
  std::string consumer = "askdesk";  // this daemon's name in the groups and on the leases
  std::chrono::milliseconds lease_ttl{10000};
  std::chrono::milliseconds renew_every{3000};
  std::chrono::milliseconds block{1000};         // how long one read waits for new entries
  std::chrono::milliseconds claim_every{1000};   // while adopting a dead holder's entries
  std::chrono::milliseconds claim_margin{2000};  // idle beyond the send timeout before adopting
  std::chrono::milliseconds first_retry{2000};   // doubled each attempt, with jitter
  std::chrono::milliseconds max_retry{300000};
  std::size_t max_held = 256;   // entries one lane keeps in memory at once
  std::size_t max_dead = 1000;  // dead letters kept per lane
};

struct lanes_parts {
  boost::asio::io_context& io;
  store::redis_connection& commands;
  store::redis_connection& reader;  // the blocking XREADGROUP loop, nothing else
  const store::script_set& scripts;
  core::metrics& metrics;
  const core::clock& clock;
};

class outbound_lanes {
 public:
  outbound_lanes(lanes_parts parts, lanes_options options);
  ~outbound_lanes();

  // REQUIRES: before start(). `c` outlives the lanes.
  void add(connectors::connector& c, const connectors::lane_settings& settings);
  void start();
  // Starts nothing new; `done` runs once the sends in flight are settled.
  void stop(std::function<void()> done);

  class lane;

 private:
  void read();
  void on_read(store::reply r);
  void stop_lanes(std::function<void()> done);
  void migrate();

  lanes_parts parts_;
  const lanes_options options_;
  std::vector<std::unique_ptr<lane>> lanes_;
  struct loop;
  std::unique_ptr<loop> loop_;
};

}  // namespace askdesk::hub
