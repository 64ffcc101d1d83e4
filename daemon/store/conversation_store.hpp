// Conversations, patrons and messages in Redis, changed only through the atomic scripts
// (scripts/*.lua) that also emit the matching events. The hub calls it; the REST API reads
// through it. Single-threaded, like the connection it uses.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <unordered_map>

#include "daemon/core/message.hpp"
#include "daemon/core/result.hpp"
#include "daemon/store/redis_connection.hpp"
#include "daemon/store/scripts.hpp"

namespace askdesk::store {

// Where a new conversation goes, decided by the hub before the message is applied.
struct placement {
  std::string team;
  std::string topic;  // may be empty
  // Why: "rule", "classifier", "default" or "requested" (the source asked for it); the confidence
  // (0..1); the reason for staff.
  std::string topic_source;
  double topic_confidence = 0;
  std::string topic_why;
  // A closed conversation continues when its thread writes again within this time; 0: never.
  std::chrono::milliseconds reopen_window{0};
  // The team is closed: a new or reopened conversation is marked after-hours.
  bool after_hours = false;
  // The patron's consent on this channel that the message changes: "out" (SMS STOP), "in"
  // (START) or "".
  std::string consent;
  // The sender is automated (an auto-reply, a list): its conversation is never asked for a
  // satisfaction score.
  bool automated = false;
};

// How many staff topic corrections `topic:examples` keeps (the oldest go first).
inline constexpr std::int64_t topic_examples_kept = 50000;

struct applied_message {
  // rated: the patron answered the satisfaction question of their closed conversation.
  enum class outcome { created, continued, reopened, rated, duplicate };
  outcome what = outcome::created;
  std::string conversation;
  std::string message;
  std::string patron;
  std::string team;  // the conversation's team now
};

// What came of an automatic acknowledgement.
struct acknowledged {
  bool sent = false;
  std::string message;  // sent: the automatic message's id
  std::string skipped;  // not sent: "taken", "opted_out", "available", "already" or "gone"
  std::string why;      // not sent: for the log
};

class conversation_store {
 public:
  template <class T>
  using handler = std::function<void(core::result<T>)>;

  conversation_store(redis_connection& redis, const script_set& scripts, const core::clock& clock)
      : redis_(redis), scripts_(scripts), clock_(clock) {}

  // Adds an inbound message to its conversation, creating patron and conversation as needed.
  // Idempotent by (connector, external id). A message on the thread whose conversation this
  // daemon saw last costs a new id and the function; any other reads first what decides the
  // function's keys (one more round trip).
  void apply_inbound(const core::inbound_message& m, const placement& where,
                     handler<applied_message> done);

  // Adds the automatic acknowledgement `text` to conversation `id` and queues it to send,
  // unless the patron got one for this team in the same `period` ("closed:<next opening
  // ms>" or "busy:<id>"), the conversation is with someone, the patron opted out on its
  // channel, or (busy) a member of the team is available.
  void acknowledge(const std::string& id, const std::string& period, const std::string& text,
                   handler<acknowledged> done);

  // Where a thread's last message went: this daemon's guess, which apply_inbound.lua checks.
  struct thread_guess {
    std::string patron, conversation, team;
  };
  using thread_guesses = std::unordered_map<std::string, thread_guess>;
  // How many threads are remembered; past it the memory starts again (a miss costs one round
  // trip of reads, not a wrong answer).
  static constexpr std::size_t thread_guesses_kept = 100'000;

 private:
  redis_connection& redis_;
  const script_set& scripts_;
  const core::clock& clock_;
  thread_guesses guesses_;
};

}  // namespace askdesk::store
