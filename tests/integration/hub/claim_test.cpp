// A daemon that dies with inbound entries it read but had not applied leaves them pending in
// the hub's consumer group; another daemon adopts (XAUTOCLAIM) and applies them within 15 s of
// its death, so a patron's message never sits unseen for long.
#include <gtest/gtest.h>

#include <chrono>

#include "daemon/core/time.hpp"
#include "daemon/store/inbound_codec.hpp"
#include "tests/support/askdesk_daemon.hpp"
#include "tests/support/wait.hpp"

namespace askdesk::testing {
namespace {

TEST(InboundClaim, ADeadDaemonsPendingMessageIsAppliedByAnotherWithin15Seconds) {
  redis_server redis;
  // The message as a connector stores it, read by a daemon ("gone:8080") that then died.
  core::inbound_message m;
  m.connector = "texts";
  m.channel = "sms";
  m.external_id = "left-pending";
  m.thread = m.sender_address = "+15550109999";
  m.text = "Is my hold ready?";
  m.sent_at = m.received_at = core::wall_clock().now();
  std::vector<std::string> add = {"XADD", "inbound", "*"};
  for (auto& [k, v] : store::encode_inbound(m)) {
    add.push_back(k);
    add.push_back(v);
  }
  redis.command({"XGROUP", "CREATE", "inbound", "hub", "0", "MKSTREAM"});
  redis.command(add);
  ASSERT_EQ(redis
                .command({"XREADGROUP", "GROUP", "hub", "gone:8080", "COUNT", "10", "STREAMS",
                          "inbound", ">"})
                .size(),
            1u);
  const auto died = std::chrono::steady_clock::now();

  askdesk_daemon other(redis, R"({"connectors": [
    {"id": "texts", "type": "replay", "token": "text-token-0123456789", "channel": "sms"}]})");
  ASSERT_TRUE(wait_until(
      [&] {
        return !redis.command({"GET", "thread:texts:+15550109999"}).str().empty();
      },
      std::chrono::seconds(30)));
  EXPECT_LT(std::chrono::steady_clock::now() - died, std::chrono::seconds(15));
  EXPECT_EQ(redis.command({"XPENDING", "inbound", "hub"})[0].integer(), 0);
}

}  // namespace
}  // namespace askdesk::testing
