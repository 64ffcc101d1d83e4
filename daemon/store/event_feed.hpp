// The daemon's view of the `events` stream: one blocking reader tails it and hands every new
// event, parsed once and shared, to the subscribers in this process (staff dashboards, the
// web chat connector). A reconnect continues from the last id it saw, so subscribers miss
// nothing while Redis restarts; they only wait.
//
// read_after() serves a reconnecting dashboard: the events after its last id up to what the
// tail has already delivered, so that "catch up, then live" has no gap and no overlap.
//
// Single-threaded: everything runs on the io_context's thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "daemon/core/result.hpp"
#include "daemon/store/redis_connection.hpp"

namespace askdesk::store {

struct event {
  std::string id;            // the stream id, "1763845500120-0"
  std::string type;          // "message.created", ...
  std::string conversation;  // "" for team-wide events
  std::string team;
  std::string connector;  // the conversation's connector, when the event carries it (records)
  std::string data;       // JSON object
  // The frame sent to every dashboard, serialized once by the first that needs it.
  mutable std::shared_ptr<const std::string> staff_frame;
};
using shared_event = std::shared_ptr<const event>;

struct catch_up {
  std::vector<shared_event> events;
  bool gap = false;  // events after `after` were trimmed away: the caller must reload
};

class event_feed {
 public:
  using listener = std::function<void(const shared_event&)>;

  // `reader` carries only the blocking tail; `commands` the range reads.
  event_feed(redis_connection& reader, redis_connection& commands);

  void start();
  void stop();

  // Listeners run for every event the tail reads, in id order.
  std::uint64_t subscribe(listener l);
  void unsubscribe(std::uint64_t id);

  // The newest event id delivered to listeners ("0-0" before any).
  const std::string& last_id() const { return last_id_; }

  // The events after `after` up to last_id() as of this call, at most `limit` (more counts
  // as a gap). "unavailable" while Redis is down.
  void read_after(const std::string& after, std::size_t limit,
                  std::function<void(core::result<catch_up>)> done);

 private:
  void find_start();
  void tail();

  redis_connection& reader_;
  redis_connection& commands_;
  std::map<std::uint64_t, listener> listeners_;
  std::uint64_t next_listener_ = 1;
  std::string last_id_ = "0-0";
  bool positioned_ = false;  // last_id_ is where the stream stood at start
  bool reading_ = false;
  bool stopped_ = false;
};

// A stream entry of `events` as an event.
shared_event to_event(const struct stream_entry& entry);

}  // namespace askdesk::store
