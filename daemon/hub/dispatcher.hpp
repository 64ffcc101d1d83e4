// The outbound dispatcher: sends what staff wrote (and automatic messages) on the patron's
// channel. It consumes the `outbound` stream (filled by the post_message script) through the
// `dispatch` consumer group, hands each entry to its connector, records the outcome on the
// message (sent, or failed with the channel's reason, shown to staff) and acknowledges the
// entry. A send that may work later (429, 5xx, a timeout) moves atomically to the
// `outbound:retry` schedule with exponential backoff and jitter, and comes back when due;
// after max_attempts it is failed. A reply is never reported sent before its channel took it.
//
// Single-threaded: everything runs on the io_context's thread.
#pragma once

#include <chrono>
#include <functional>
#include <random>
#include <string>
#include <unordered_map>

#include "connectors/connector.hpp"
#include "daemon/core/metrics.hpp"
#include "daemon/hub/stream_consumer.hpp"
#include "daemon/net/timer.hpp"
#include "daemon/store/scripts.hpp"

namespace askdesk::hub {

struct dispatcher_options {
  std::string consumer = "askdesk";
  int max_attempts = 8;
  std::chrono::milliseconds first_retry{2000};  // doubled each attempt, with jitter
  std::chrono::milliseconds max_retry{300000};
  std::chrono::milliseconds release_every{1000};  // how often due retries are moved back
};

struct dispatcher_parts {
  boost::asio::io_context& io;
  store::redis_connection& commands;
  store::redis_connection& reader;  // the blocking XREADGROUP loop, nothing else
  const store::script_set& scripts;
  core::metrics& metrics;
  const core::clock& clock;
};

class dispatcher {
 public:
  dispatcher(dispatcher_parts parts, dispatcher_options options);

  void add_connector(connectors::connector& c);
  void start();
  void stop(std::function<void()> done);

 private:
  void process(std::vector<store::stream_entry> entries,
               std::function<void(batch_outcome)> finished);
  // Records the outcome of one entry; `done(acknowledged)`.
  void settle(const store::stream_entry& entry, const connectors::send_result& result,
              std::function<void(bool unavailable)> done);
  void release();
  std::chrono::milliseconds backoff(int attempt);

  dispatcher_parts parts_;
  const dispatcher_options options_;
  stream_consumer consumer_;
  net::timer release_timer_;
  std::unordered_map<std::string, connectors::connector*> connectors_;
  std::minstd_rand random_{std::random_device{}()};
  bool stopping_ = false;
};

}  // namespace askdesk::hub
