// A daemon that dies with inbound entries it read but had not applied leaves them pending in
// the hub's consumer group; another daemon adopts (XAUTOCLAIM) and applies them within 15 s of
// its death, so a patron's message never sits unseen for long. One read again and again
// without being applied (it kills or stalls whichever daemon takes it) goes to the dead letters.
#include <gtest/gtest.h>

#include <chrono>

#include "daemon/core/time.hpp"
#include "daemon/store/inbound_codec.hpp"
#include "tests/support/askdesk_daemon.hpp"
#include "tests/support/wait.hpp"

namespace askdesk::testing {
namespace {

// A message as a connector stores it, read `reads` times by a daemon ("gone:8080") that
// died each time before applying it, and left pending.
void leave_pending(redis_server& redis, int reads) {
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
  for (int i = 0; i < reads; ++i) {
    ASSERT_EQ(redis
                  .command({"XREADGROUP", "GROUP", "hub", "gone:8080", "COUNT", "10", "STREAMS",
                            "inbound", i == 0 ? ">" : "0"})[0][1]
                  .size(),
              1u);
  }
}

const std::string replay_config = R"({"connectors": [
    {"id": "texts", "type": "replay", "token": "text-token-0123456789", "channel": "sms"}]})";

TEST(InboundClaim, ADeadDaemonsPendingMessageIsAppliedByAnotherWithin15Seconds) {
  redis_server redis;
  leave_pending(redis, 1);
  const auto died = std::chrono::steady_clock::now();

  askdesk_daemon other(redis, replay_config);
  ASSERT_TRUE(wait_until(
      [&] {
        return !redis.command({"GET", "thread:texts:+15550109999"}).str().empty();
      },
      std::chrono::seconds(30)));
  EXPECT_LT(std::chrono::steady_clock::now() - died, std::chrono::seconds(15));
  EXPECT_EQ(redis.command({"XPENDING", "inbound", "hub"})[0].integer(), 0);
}

TEST(InboundClaim, AnEntryReadMoreThanFiveTimesGoesToTheDeadLettersNotToAConversation) {
  redis_server redis;
  leave_pending(redis, 6);  // a message that killed its daemon six times
  askdesk_daemon other(redis, replay_config);
  ASSERT_TRUE(
      other.wait_for_metric("askdesk_inbound_dead_letters_total", 1, std::chrono::seconds(30)));
  const auto dead = redis.command({"XRANGE", "inbound:dead", "-", "+"});
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_NE(dead[0][1].describe().find("read 7 times and never applied"), std::string::npos)
      << dead[0][1].describe();
  EXPECT_TRUE(wait_until([&] {
    return redis.command({"XPENDING", "inbound", "hub"})[0].integer() == 0;
  }));
  EXPECT_TRUE(redis.command({"GET", "thread:texts:+15550109999"}).is_nil());
  EXPECT_EQ(redis.messages_stored(), 0);
}

}  // namespace
}  // namespace askdesk::testing
