#include "daemon/hub/privacy_keeper.hpp"

#include <spdlog/spdlog.h>

#include "daemon/store/calls.hpp"
#include "daemon/store/keys.hpp"

namespace askdesk::hub {

privacy_keeper::privacy_keeper(boost::asio::io_context& io, const config::daemon_config& config,
                               store::privacy::retention policy, store::redis_connection& redis,
                               const store::script_set& scripts, const core::clock& clock,
                               std::string name)
    : config_(config),
      policy_(std::move(policy)),
      redis_(redis),
      scripts_(scripts),
      clock_(clock),
      name_(std::move(name)),
      timer_(io) {}

void privacy_keeper::start() {
  stopped_ = false;
  schedule(std::chrono::seconds(10));  // after the start's own work
}

void privacy_keeper::stop() {
  stopped_ = true;
  timer_.cancel();
}

void privacy_keeper::schedule(std::chrono::milliseconds delay) {
  timer_.after(delay, [this] { run(); });
}

void privacy_keeper::run() {
  if (stopped_) return;
  const auto every = std::chrono::minutes(config_.privacy.purge_minutes);
  // Held for the whole interval: one purge per interval, whichever daemon takes it.
  store::run(
      redis_, scripts_,
      store::calls::make(
          store::calls::lease{.key = std::string(store::keys::privacy_lease),
                              .holder = name_,
                              .ms = std::to_string(std::chrono::milliseconds(every).count())}),
      [this, every](store::reply held) {
        if (stopped_) return;
        if (!held.is_integer() || held.integer() <= 0) return schedule(every);
        store::privacy::purge(redis_, scripts_, core::to_millis(clock_.now()), policy_, false,
                              [this, every](core::result<store::privacy::report> r) {
                                if (!r) {
                                  spdlog::error("privacy: the purge failed: {}", r.err().message);
                                } else if (r.value().conversations + r.value().patrons > 0) {
                                  spdlog::info("privacy: {}", r.value().text());
                                }
                                if (!stopped_) schedule(every);
                              });
      });
}

}  // namespace askdesk::hub
