// The documented high-availability layout on loopback: a Redis master, two replicas and three
// sentinels watching it as "askdesk" (quorum 2, down after one second), each a real
// redis-server on a free port. Ready when the replicas are in sync and every sentinel knows
// both replicas and the other two sentinels, so a failover can happen.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tests/support/process.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/temp_dir.hpp"

namespace askdesk::testing {

class sentinel_cluster {
 public:
  sentinel_cluster();
  ~sentinel_cluster();

  // The three servers: [0] starts as the master.
  redis_server& server(int i) { return *servers_[static_cast<std::size_t>(i)]; }
  int sentinel_port(int i) const { return sentinel_ports_[static_cast<std::size_t>(i)]; }
  // "redis": {...} for an askdesk config, without the surrounding braces' key.
  std::string askdesk_redis_config() const;

  // SENTINEL FAILOVER askdesk: a replica is promoted and the master becomes a replica,
  // without anything failing. False when the sentinel refused.
  bool failover();
  // The server the sentinels name as master now (asked of the first that answers); nullptr
  // while none answers.
  redis_server* master();
  // Waits until the sentinels name a master other than `old` and it answers ROLE master;
  // nullptr after `wait`.
  redis_server* wait_for_new_master(const redis_server& old, std::chrono::milliseconds wait);

 private:
  void wait_until_ready();
  temp_dir dir_;
  std::vector<std::unique_ptr<redis_server>> servers_;
  std::vector<int> sentinel_ports_;
  std::vector<std::unique_ptr<child_process>> sentinels_;
};

}  // namespace askdesk::testing
