// The daemon's topic classifier (core/topics.hpp) kept in step with every other daemon: it
// starts from the config's rules and examples file, then learns each staff correction in the
// `topic:examples` stream, reading the new ones whenever a `topic.learned` event says there
// are some and whenever Redis comes back. It remembers the last example id it learned, so
// each correction is learned once, whichever way it heard of it.
//
// Single-threaded: everything runs on the io_context's thread.
#pragma once

#include <cstdint>
#include <string>

#include "daemon/config/config.hpp"
#include "daemon/core/message.hpp"
#include "daemon/core/topics.hpp"
#include "daemon/store/event_feed.hpp"
#include "daemon/store/redis_connection.hpp"

namespace askdesk::hub {

class topic_model {
 public:
  // Learns the examples the config loader read from routing.examples.
  topic_model(const config::daemon_config& c, store::redis_connection& commands,
              store::event_feed& events);
  ~topic_model();
  topic_model(const topic_model&) = delete;
  topic_model& operator=(const topic_model&) = delete;

  void start();
  void stop();

  core::topic_decision classify(const core::inbound_message& m) const;
  // Corrections learned from Redis since start.
  std::uint64_t corrections() const { return corrections_; }

 private:
  void sync();

  core::topic_classifier classifier_;
  store::redis_connection& commands_;
  store::event_feed& events_;
  std::uint64_t subscription_ = 0;
  std::string last_example_ = "0-0";
  std::uint64_t corrections_ = 0;
  bool syncing_ = false;
  bool again_ = false;
  bool stopped_ = false;
};

// The classifier's settings from the config's topics and routing.
core::topic_settings topic_settings_of(const config::daemon_config& c);

}  // namespace askdesk::hub
