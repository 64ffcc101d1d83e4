// A one-shot timer and a deferred call on the daemon's io_context, for code outside
// daemon/net that must wait without including Asio (the hub, connectors' schedules).
// Single-threaded: use on the io_context's thread. Destroying a timer cancels it.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

namespace boost::asio {
class io_context;
}

namespace askdesk::net {

class timer {
 public:
  explicit timer(boost::asio::io_context& io);
  ~timer();
  timer(const timer&) = delete;
  timer& operator=(const timer&) = delete;

  // Runs `fn` once after `delay`, unless cancel() or another after() comes first.
  void after(std::chrono::milliseconds delay, std::function<void()> fn);
  void cancel();
  bool pending() const;

 private:
  struct impl;
  std::shared_ptr<impl> impl_;  // shared with the pending wait, which holds it weakly
};

// Runs `fn` on the io_context's thread soon, never inside the caller.
void post(boost::asio::io_context& io, std::function<void()> fn);

}  // namespace askdesk::net
