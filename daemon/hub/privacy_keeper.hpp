// The scheduled purge (docs/privacy.md): every privacy.purge_minutes, the one daemon holding
// the privacy lease redacts what is past the configured retention (store/privacy.hpp) and
// logs what it removed by key family. `askdesk privacy purge` runs the same on demand.
//
// Single-threaded: use on the io_context's thread.
#pragma once

#include <chrono>
#include <string>

#include "daemon/config/config.hpp"
#include "daemon/core/time.hpp"
#include "daemon/net/timer.hpp"
#include "daemon/store/privacy.hpp"
#include "daemon/store/redis_connection.hpp"
#include "daemon/store/scripts.hpp"

namespace askdesk::hub {

class privacy_keeper {
 public:
  privacy_keeper(boost::asio::io_context& io, const config::daemon_config& config,
                 store::privacy::retention policy, store::redis_connection& redis,
                 const store::script_set& scripts, const core::clock& clock, std::string name);
  void start();  // the first purge ten seconds after the start, then every purge_minutes
  void stop();

 private:
  void run();
  void schedule(std::chrono::milliseconds delay);

  const config::daemon_config& config_;
  const store::privacy::retention policy_;
  store::redis_connection& redis_;
  const store::script_set& scripts_;
  const core::clock& clock_;
  std::string name_;  // this daemon in the privacy lease
  net::timer timer_;
  bool stopped_ = true;
};

}  // namespace askdesk::hub
