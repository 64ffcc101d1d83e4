// Redis Sentinel failover under load, with real servers on loopback: a master, two replicas
// and three sentinels (tests/support/sentinel_cluster.hpp), two daemons configured with the
// sentinels, and 1,000 signed SMS webhooks from eight senders that retry whatever got no 200.
// One replica is paused for a moment (behind, as under real load), then the master gets
// SIGKILL. The daemons must find the new master within 5 s, and every text a sender was told
// is stored must be there, once.
#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <mutex>
#include <set>
#include <thread>

#include "tests/support/askdesk_daemon.hpp"
#include "tests/support/sentinel_cluster.hpp"
#include "tests/support/signed_text.hpp"
#include "tests/support/wait.hpp"

namespace askdesk::testing {
namespace {

using steady = std::chrono::steady_clock;
constexpr int texts = 1000;

TEST(Sentinel, KillNineTheMasterWhileTextsArriveLosesAndDoublesNothing) {
  sentinel_cluster cluster;
  const std::string config = R"({"teams": [{"id": "reference"}], "redis": )" +
                             cluster.askdesk_redis_config() + R"(, "connectors": [)" +
                             signed_text::connector_config() + "]}";
  askdesk_daemon first(cluster.server(0), config);
  askdesk_daemon second(cluster.server(0), config);
  askdesk_daemon* daemons[] = {&first, &second};
  redis_server& old_master = cluster.server(0);
  redis_server& lagging = cluster.server(2);

  std::mutex mutex;
  std::set<int> acknowledged;
  std::atomic<int> next{0};
  bool paused = false;
  std::optional<steady::time_point> killed;
  // Each daemon's first 200 to a text sent after the kill.
  std::optional<steady::time_point> back[2];
  std::vector<std::thread> senders;
  for (int t = 0; t < 8; ++t) {
    senders.emplace_back([&] {
      for (int i = next++; i < texts; i = next++) {
        const int d = i % 2;
        for (;;) {
          const auto sent = steady::now();
          const auto r = signed_text::send(daemons[d]->url("/webhooks/twilio/sms"), i);
          std::lock_guard lock(mutex);
          if (r.status == 200) {
            acknowledged.insert(i);
            if (killed && sent > *killed && !back[d]) back[d] = steady::now();
            if (!paused && acknowledged.size() >= 200) {
              paused = true;
              ::kill(lagging.pid(), SIGSTOP);  // this replica falls behind
            } else if (!killed && acknowledged.size() >= 350) {
              old_master.kill();
              killed = steady::now();
              ::kill(lagging.pid(), SIGCONT);
            }
            break;
          }
          if (r.status != 503 && r.status != 0) {
            ADD_FAILURE() << "text " << i << ": " << r.status << " " << r.body;
            return;
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the sender's backoff
        }
      }
    });
  }
  for (auto& s : senders) s.join();
  ASSERT_TRUE(killed.has_value());
  ASSERT_EQ(acknowledged.size(), static_cast<std::size_t>(texts));
  for (int d = 0; d < 2; ++d) {
    ASSERT_TRUE(back[d].has_value());
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*back[d] - *killed);
    std::printf("# sentinel: daemon %d stored texts again %lld ms after the master died\n", d + 1,
                static_cast<long long>(ms.count()));
    EXPECT_LT(ms, std::chrono::seconds(5)) << "daemon " << d + 1;
  }

  redis_server* master = cluster.wait_for_new_master(old_master, std::chrono::seconds(10));
  ASSERT_NE(master, nullptr);
  EXPECT_TRUE(wait_until(
      [&] {
        return master->messages_stored() == texts &&
               master->command({"XLEN", "inbound"}).integer() == 0;
      },
      std::chrono::seconds(30)));
  EXPECT_EQ(master->messages_stored(), texts);
  EXPECT_EQ(master->command({"XLEN", "inbound:dead"}).integer(), 0);
  EXPECT_EQ(signed_text::stored(*master), texts);  // every text once: none lost, none twice
}

}  // namespace
}  // namespace askdesk::testing
