// A Redis connection that fails chosen commands, for deterministic crash-safety tests: the
// Nth command whose first words match (a command name, or "FCALL" with a function's name)
// either never reaches Redis (`before`: as if the connection dropped before it was written)
// or runs and loses its answer (`after`: as if the connection dropped before the reply
// came back). Either way the caller sees `unavailable`. Or an action runs just before the
// Nth such command goes out (another daemon acting at the worst moment). Single-threaded,
// like the connection.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "daemon/net/timer.hpp"
#include "daemon/store/redis_connection.hpp"

namespace askdesk::testing {

class faulty_redis final : public store::redis_connection_wrapper {
 public:
  enum class when { before, after };

  faulty_redis(boost::asio::io_context& io, store::redis_connection& target)
      : store::redis_connection_wrapper(target), io_(io) {}

  // Fails the `nth` (1-based) command from now on whose arguments start with `prefix`.
  void fail(std::vector<std::string> prefix, int nth, when w) {
    rules_.push_back({std::move(prefix), nth, w});
  }
  // Runs `action` just before the `nth` command from now on that starts with `prefix`.
  void before(std::vector<std::string> prefix, int nth, std::function<void()> action) {
    actions_.push_back({std::move(prefix), nth, std::move(action)});
  }
  // How many commands were failed so far.
  int failed() const { return failed_; }

  void command(std::span<const std::string_view> args, reply_handler handler,
               std::chrono::milliseconds blocking = {}) override {
    for (auto& a : actions_) {
      if (a.nth > 0 && matches(a.prefix, args) && --a.nth == 0) a.action();
    }
    for (auto& rule : rules_) {
      if (rule.nth <= 0 || !matches(rule.prefix, args) || --rule.nth > 0) continue;
      ++failed_;
      if (rule.w == when::before) {
        // Later, as a real failure comes: never inside the call.
        net::post(io_, [handler = std::move(handler)] {
          handler(store::reply::make_unavailable("injected: the command was never written"));
        });
        return;
      }
      target().command(
          args,
          [handler = std::move(handler)](store::reply) {
            handler(store::reply::make_unavailable("injected: the answer was lost"));
          },
          blocking);
      return;
    }
    target().command(args, std::move(handler), blocking);
  }
  using store::redis_connection_wrapper::command;

 private:
  struct rule {
    std::vector<std::string> prefix;
    int nth;
    when w;
  };
  static bool matches(const std::vector<std::string>& prefix,
                      std::span<const std::string_view> args) {
    if (args.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
      if (args[i] != prefix[i]) return false;
    }
    return true;
  }

  struct hook {
    std::vector<std::string> prefix;
    int nth;
    std::function<void()> action;
  };

  boost::asio::io_context& io_;
  std::vector<rule> rules_;
  std::vector<hook> actions_;
  int failed_ = 0;
};

}  // namespace askdesk::testing
