// Crash safety of the SMS webhook: the daemon is killed with SIGKILL while 2,000 signed
// webhooks arrive from several senders at once. Twilio retries what was not acknowledged;
// after a restart every text is stored exactly once: none acknowledged with 200 is lost, none
// retried or redelivered is doubled.
#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <mutex>
#include <set>
#include <thread>

#include "tests/support/askdesk_daemon.hpp"
#include "tests/support/signed_text.hpp"

namespace askdesk::testing {
namespace {

const std::string config =
    R"({"teams": [{"id": "reference"}], "connectors": [)" + signed_text::connector_config() + "]}";
constexpr int texts = 2000;

http_result deliver(askdesk_daemon& daemon, int i) {
  return signed_text::send(daemon.url("/webhooks/twilio/sms"), i);
}

TEST(TwilioCrash, KillNineWhileTextsArriveLosesAndDoublesNothing) {
  redis_server redis;
  std::set<int> acknowledged;
  int port = 0;
  {
    askdesk_daemon first(redis, config);
    port = first.port();
    std::mutex mutex;
    std::atomic<int> next{0};
    std::atomic<bool> killed{false};
    std::vector<std::thread> senders;
    for (int t = 0; t < 8; ++t) {
      senders.emplace_back([&] {
        for (int i = next++; i < texts; i = next++) {
          const auto r = deliver(first, i);
          std::lock_guard lock(mutex);
          if (r.status == 200) acknowledged.insert(i);
          if (!killed && acknowledged.size() >= 600) {
            killed = true;
            first.process().signal(SIGKILL);
          }
        }
      });
    }
    for (auto& s : senders) s.join();
    ASSERT_TRUE(killed.load());
  }
  const std::size_t before_crash = acknowledged.size();
  EXPECT_GE(before_crash, 600u);
  EXPECT_LT(before_crash, static_cast<std::size_t>(texts)) << "the kill came too late to matter";

  // Restarted where it ran (so it first finishes its own pending entries), Twilio retries
  // what got no 200 and may redeliver some that did.
  askdesk_daemon second(redis, config, {}, port);
  for (int i = 0; i < texts; ++i) {
    if (acknowledged.contains(i) && i % 10 != 0) continue;
    const auto r = deliver(second, i);
    ASSERT_EQ(r.status, 200) << i << ": " << r.body;
  }
  for (int wait = 0; wait < 1500; ++wait) {
    if (redis.messages_stored() == texts && redis.command({"XLEN", "inbound"}).integer() == 0) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(redis.messages_stored(), texts);
  EXPECT_EQ(redis.command({"XLEN", "inbound"}).integer(), 0);
  EXPECT_EQ(redis.command({"XLEN", "inbound:dead"}).integer(), 0);
  EXPECT_EQ(signed_text::stored(redis), texts);  // every text once: none lost, none twice
  std::printf("# crash: %zu of %d acknowledged before SIGKILL, all %d stored once after\n",
              before_crash, texts, texts);
}

}  // namespace
}  // namespace askdesk::testing
