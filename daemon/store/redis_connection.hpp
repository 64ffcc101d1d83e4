// One connection to Redis, driven by the daemon's io_context: hiredis's asynchronous API
// with Asio watching its socket, so no Redis call ever blocks the I/O thread.
//
// The connection keeps itself up: it resolves the host asynchronously, connects, runs a
// handshake (AUTH, SELECT, FUNCTION LOAD of the daemon's function library, PING) and only then
// reports ready(). When Redis goes away it fails every pending command with an
// `unavailable` reply, then reconnects with exponential backoff and jitter. A command sent
// while it is not ready fails at once the same way: callers answer 503 or pause, they never
// wait on a dead socket. A reply that takes longer than reply_timeout (plus the command's
// own BLOCK time) drops the connection, so a stuck server cannot stall the daemon.
//
// Replies arrive in the order commands were sent (hiredis pipelines them). Blocking
// commands (XREAD BLOCK ...) hold the connection: give them a connection of their own.
//
// Not thread-safe: call it only from the io_context's thread. Handlers run on that thread,
// exactly once each, and must not throw.
#pragma once

#include <chrono>
#include <functional>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/config/config.hpp"
#include "daemon/store/reply.hpp"

namespace boost::asio {
class io_context;
}

namespace askdesk::store {

struct redis_connection_options {
  config::redis_endpoint endpoint;
  // With Sentinel: every (re)connect first asks the sentinels, in turn, for the master's
  // address, then connects there (endpoint's password and db) and checks ROLE says master.
  config::redis_sentinel sentinel;
  std::string name = "redis";  // which of the daemon's connections, for logs
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds reply_timeout{5000};
  std::chrono::milliseconds reconnect_min{100};
  std::chrono::milliseconds reconnect_max{5000};
  std::string library;  // a Redis Functions library loaded on every connection before ready()
};

class redis_connection {
 public:
  using reply_handler = std::function<void(reply)>;

  static std::unique_ptr<redis_connection> create(boost::asio::io_context& io,
                                                  redis_connection_options options);
  virtual ~redis_connection() = default;

  // Starts connecting; from then on it reconnects by itself until stop().
  virtual void start() = 0;
  // Fails pending commands with `unavailable` and closes. No reconnect after it.
  virtual void stop() = 0;
  virtual bool ready() const = 0;
  // Why the connection is not ready ("connection refused", "no reply within 5 s"); "" if it is.
  virtual std::string last_error() const = 0;

  // Sends a command. `blocking` is how long Redis may hold the reply on purpose (the BLOCK
  // argument of XREAD), added to the reply timeout.
  virtual void command(std::span<const std::string_view> args, reply_handler handler,
                       std::chrono::milliseconds blocking = {}) = 0;
  void command(std::initializer_list<std::string_view> args, reply_handler handler) {
    command(std::span(args.begin(), args.size()), std::move(handler));
  }

  // Sentinel announced a new master (+switch-master): a connection to another address drops
  // (its pending commands fail `unavailable`) and, like one waiting to retry, reconnects now.
  virtual void master_switched(const std::string& host, std::uint16_t port) = 0;

  // Called each time the connection becomes ready, after the handshake.
  virtual void on_ready(std::function<void()> listener) = 0;
  // Called each time a ready connection is lost, with the reason.
  virtual void on_lost(std::function<void(const std::string&)> listener) = 0;
};

// Follows one sentinel's `+switch-master` announcements for `sentinel.master_name` (trying
// the sentinels in turn when one goes away) and calls `switched` with the new master's
// address. The daemon tells each of its connections (master_switched), so none waits for its
// backoff or keeps writing to a demoted server.
class sentinel_watch {
 public:
  using switched_handler = std::function<void(const std::string& host, std::uint16_t port)>;
  static std::unique_ptr<sentinel_watch> create(boost::asio::io_context& io,
                                                config::redis_sentinel sentinel,
                                                switched_handler switched);
  virtual ~sentinel_watch() = default;
  virtual void start() = 0;
  virtual void stop() = 0;
  // Subscribed to a sentinel now.
  virtual bool watching() const = 0;
};

// The options of a connection to the configured Redis (URL or Sentinel), named `name` in
// logs, loading `library` on every connect.
redis_connection_options connection_options(const config::redis_options& redis, std::string name,
                                            std::string library = {});

}  // namespace askdesk::store

namespace askdesk::store {

// Forwards every call to another connection (LevelDB's EnvWrapper): a test derives from it
// and overrides command() to fail one call (tests/support/faulty_redis.hpp), so "the cursor
// moves only after the message is durable" is proven without racing a kill -9.
class redis_connection_wrapper : public redis_connection {
 public:
  explicit redis_connection_wrapper(redis_connection& target) : target_(target) {}

  void start() override { target_.start(); }
  void stop() override { target_.stop(); }
  bool ready() const override { return target_.ready(); }
  std::string last_error() const override { return target_.last_error(); }
  void command(std::span<const std::string_view> args, reply_handler handler,
               std::chrono::milliseconds blocking = {}) override {
    target_.command(args, std::move(handler), blocking);
  }
  using redis_connection::command;
  void master_switched(const std::string& host, std::uint16_t port) override {
    target_.master_switched(host, port);
  }
  void on_ready(std::function<void()> listener) override { target_.on_ready(std::move(listener)); }
  void on_lost(std::function<void(const std::string&)> listener) override {
    target_.on_lost(std::move(listener));
  }

  redis_connection& target() { return target_; }

 private:
  redis_connection& target_;
};

}  // namespace askdesk::store
