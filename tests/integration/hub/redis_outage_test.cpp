// The spine's promise: a message acknowledged to its sender is stored exactly once, even when
// redis-server dies while messages arrive. A sender posts through the replay webhook and, like
// every webhook source, resends whatever was not answered 200; redis-server is killed in the
// middle and restarted. Every message must end in one conversation message, none twice.
#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <map>
#include <thread>

#include "tests/support/askdesk_daemon.hpp"
#include "tests/support/wait.hpp"

namespace askdesk::testing {
namespace {

constexpr const char* token = "replay-token-0123456789";

TEST(RedisOutage, EveryAcknowledgedMessageIsStoredExactlyOnce) {
  redis_server redis;
  askdesk_daemon daemon(redis, R"({
    "connectors": [{"id": "chat", "type": "webchat"},
                   {"id": "feed", "type": "replay", "token": ")" +
                                   std::string(token) + R"("}]
  })");
  constexpr int messages = 120;
  std::atomic<int> acknowledged = 0;
  std::atomic<int> refused = 0;  // 503 while Redis was down: not acknowledged, resent
  std::thread sender([&] {
    for (int i = 0; i < messages; ++i) {
      const std::string body = R"({"id":"m)" + std::to_string(i) + R"(","from":"patron-)" +
                               std::to_string(i % 7) + R"(","text":"question )" +
                               std::to_string(i) + R"("})";
      const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
      while (std::chrono::steady_clock::now() < give_up) {
        const auto r = http_request(
            "POST", daemon.url("/webhooks/replay/feed"), body,
            {"Content-Type: application/json", std::string("Authorization: Bearer ") + token});
        if (r.status == 200) {
          ++acknowledged;
          break;
        }
        if (r.status == 503) ++refused;
        ASSERT_TRUE(r.status == 503 || r.status == 0) << r.status << " " << r.body;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  while (acknowledged < messages / 3) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  redis.kill();
  // Redis comes back once the daemon has refused a message for its absence (a 503 the
  // sender counts and resends), not after a guessed time.
  const int refused_before = refused;
  wait_until([&] { return refused > refused_before; });
  redis.restart();
  sender.join();
  ASSERT_EQ(acknowledged, messages);
  EXPECT_GT(refused, 0) << "the outage came too late to test anything";

  // The hub applies the backlog by itself; then each external id has exactly one message.
  const std::string count_script = R"(
    local seen = {}
    for _, key in ipairs(redis.call('KEYS', 'message:*')) do
      local id = redis.call('HGET', key, 'external_id')
      if id then seen[id] = (seen[id] or 0) + 1 end
    end
    local out = {}
    for id, n in pairs(seen) do table.insert(out, id .. '=' .. n) end
    return out)";
  std::map<std::string, std::string> counts;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    counts.clear();
    const auto r = redis.command({"EVAL", count_script, "0"});
    for (std::size_t i = 0; i < r.size(); ++i) {
      const std::string entry = r[i].str();
      counts[entry.substr(0, entry.find('='))] = entry.substr(entry.find('=') + 1);
    }
    if (counts.size() == messages) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(counts.size(), static_cast<std::size_t>(messages));
  for (const auto& [id, n] : counts) EXPECT_EQ(n, "1") << id;
}

}  // namespace
}  // namespace askdesk::testing
