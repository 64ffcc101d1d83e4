// The hub: the one place where inbound messages become conversations. Connectors hand it
// messages (through their connector_host; it is the hosts' inbound_sink) and it stores them durably
// in the `inbound` stream; its consumer loop then reads that stream through the `hub` consumer
// group and, for each entry, places the message (team, topic), applies it to its conversation with
// one atomic script (which also emits the dashboard events) and finally acknowledges and deletes
// the entry. A crash anywhere in between leaves the entry pending; on restart the daemon reads its
// own pending entries first, and applying is idempotent, so nothing is lost or doubled. Entries
// another daemon left pending for longer than claim_idle are adopted (XAUTOCLAIM).
//
// While Redis is unreachable, deliver() fails with `unavailable` (webhooks answer 503) and
// the loop waits for the connection to come back, then resumes by itself.
//
// Single-threaded: everything runs on the io_context's thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "connectors/connector.hpp"
#include "daemon/config/config.hpp"
#include "daemon/core/metrics.hpp"
#include "daemon/hub/connector_host.hpp"
#include "daemon/hub/stream_consumer.hpp"
#include "daemon/hub/topic_model.hpp"
#include "daemon/store/conversation_store.hpp"
#include "daemon/store/inbound_store.hpp"
#include "daemon/store/redis_connection.hpp"
#include "daemon/store/scripts.hpp"
#include "daemon/store/streams.hpp"

namespace askdesk::hub {

struct hub_options {
  std::string consumer =
      "askdesk";            // this daemon's name in the consumer group; stable across restarts
  std::size_t batch = 200;  // entries read at once
  std::chrono::milliseconds block{1000};  // how long one read waits for new entries
  // Entries another daemon left pending this long are adopted, looked for this often: a dead
  // daemon's are applied within 15 s. Applying an entry takes milliseconds, so one that waits
  // 10 s has lost its daemon (and applying it twice stores it once: dedup).
  std::chrono::milliseconds claim_idle{10000};
  std::chrono::milliseconds claim_every{5000};
  // An entry read this many times without being applied goes to the dead letters.
  std::int64_t max_deliveries = 5;
  // Replicas that must hold a message before its source hears it is stored (WAIT).
  store::replica_wait replicas;
};

// Everything the hub borrows; all must outlive it.
struct hub_parts {
  boost::asio::io_context& io;
  const config::daemon_config& config;
  store::redis_connection& commands;  // short commands
  store::redis_connection& ingest;    // appends to `inbound` and the WAIT for replicas after them
  store::redis_connection& reader;    // the blocking XREADGROUP loop, nothing else
  const store::script_set& scripts;
  core::metrics& metrics;
  const core::clock& clock;
  const topic_model& topics;  // decides each new conversation's topic and so its team
};

class hub final : public inbound_sink {
 public:
  hub(hub_parts parts, hub_options options);
  ~hub() override;

  // The connectors whose messages it applies (for their threading rules).
  void add_connector(connectors::connector& c);

  // Starts the consumer loop; it runs whenever the reader connection is ready.
  void start();
  // Finishes the batch in flight, then stops reading; `done` runs after that.
  void stop(std::function<void()> done);

  void deliver(core::inbound_message m,
               std::function<void(core::result<connectors::delivery>)> done) override;
  bool accepting() const override;

  // Counts applied since start, for tests and metrics.
  std::uint64_t applied() const { return applied_; }

 private:
  void process(std::vector<store::stream_entry> entries,
               std::function<void(batch_outcome)> finished);
  // Copies the entry to inbound:dead with `why`; `stored(false)` when Redis went away.
  void dead_letter(const store::stream_entry& entry, const std::string& why,
                   std::function<void(bool stored)> stored);
  store::placement place(const core::inbound_message& m) const;
  // Sends the after-hours (or busy) acknowledgement `m` calls for, if any; `done(true)` when
  // Redis was unavailable and the entry must be applied again later.
  void acknowledge(const core::inbound_message& m, const store::applied_message& a, bool fresh,
                   std::function<void(bool unavailable)> done);

  hub_parts parts_;
  store::inbound_store inbound_;
  store::conversation_store conversations_;
  stream_consumer consumer_;
  std::unordered_map<std::string, connectors::connector*> connectors_;
  std::uint64_t applied_ = 0;
};

}  // namespace askdesk::hub
