// A consumer-group reader for one Redis Stream: the hub's reader of the `inbound` stream. It
// creates the group, reads this consumer's own pending entries first (what it took before a crash
// or a lost connection), then new ones with a blocking read, adopts entries other consumers left
// pending too long (XAUTOCLAIM), and acknowledges and deletes (XACK + XDEL) what the batch handler
// says is done.
//
// An entry read more than max_deliveries times (each time its consumer died or lost Redis
// before finishing it: a message that crashes the daemon, or one too slow to apply) is not
// handed to the batch handler again: it goes to the poison handler (the hub's dead letters)
// and, once that stored it, is acknowledged. Only re-read entries are checked (XPENDING's
// delivery counts), so new ones cost nothing more.
//
// The handler gets one batch at a time and reports, once, which entries are done and whether
// Redis went away meanwhile (then the rest is read again when it returns). An entry not
// reported done stays pending and comes back: handlers must be idempotent.
//
// Single-threaded: everything runs on the io_context's thread.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "daemon/net/timer.hpp"
#include "daemon/store/redis_connection.hpp"
#include "daemon/store/streams.hpp"

namespace askdesk::hub {

struct stream_consumer_options {
  std::string stream;                           // "inbound"
  std::string group;                            // "hub"
  std::string consumer = "askdesk";             // stable across restarts of this daemon
  std::size_t batch = 200;                      // entries read at once
  std::chrono::milliseconds block{1000};        // how long one read waits for new entries
  std::chrono::milliseconds claim_idle{60000};  // adopt entries others left pending this long
  std::chrono::milliseconds claim_every{30000};
  std::int64_t max_deliveries = 5;  // then the entry goes to the poison handler
};

struct batch_outcome {
  std::vector<std::string> done;  // entry ids to acknowledge and delete
  bool unavailable = false;       // Redis went away: read the rest again later
};

class stream_consumer {
 public:
  using batch_handler = std::function<void(std::vector<store::stream_entry> entries,
                                           std::function<void(batch_outcome)> finished)>;
  // Keeps an entry read too often somewhere else; `stored(true)` once it did (then it is
  // acknowledged), `stored(false)` when Redis went away (it stays pending).
  using poison_handler =
      std::function<void(const store::stream_entry& entry, std::int64_t deliveries,
                         std::function<void(bool stored)> stored)>;

  // `reader` carries only the blocking reads; acknowledgements go through `commands`.
  stream_consumer(boost::asio::io_context& io, store::redis_connection& reader,
                  store::redis_connection& commands, stream_consumer_options options,
                  batch_handler handler, poison_handler poison);

  // Starts reading whenever the reader connection is ready.
  void start();
  // Finishes the batch in flight, then stops; `done` runs after that.
  void stop(std::function<void()> done);

  const stream_consumer_options& options() const { return options_; }

 private:
  void ensure_group();
  void read();
  void on_read(store::reply r);
  void claim();
  void screen(std::vector<store::stream_entry> entries);
  void process(std::vector<store::stream_entry> entries, batch_outcome already = {});
  void finish(batch_outcome outcome);
  void after_stop();

  store::redis_connection& reader_;
  store::redis_connection& commands_;
  const stream_consumer_options options_;
  const batch_handler handler_;
  const poison_handler poison_;
  net::timer retry_timer_;
  net::timer claim_timer_;
  bool started_ = false;
  bool reading_ = false;       // a read or a batch is in flight
  bool pending_first_ = true;  // read our own pending entries ("0") before new ones (">")
  bool claim_due_ = false;
  bool stopping_ = false;
  std::function<void()> stopped_;
};

}  // namespace askdesk::hub
