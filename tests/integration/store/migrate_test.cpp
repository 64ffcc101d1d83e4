// An upgrade: the keys an askdesk before schema 2 left in Redis (no hash tags, messages
// filed by id alone) are moved on the first start of this one, and everything reads as
// before, against a real redis-server and the daemon.
#include <gtest/gtest.h>

#include "daemon/store/keys.hpp"
#include "tests/support/askdesk_daemon.hpp"

namespace askdesk::testing {
namespace {

TEST(Migrate, TheOlderLayoutIsMovedOnTheFirstStartAndReadsAsBefore) {
  redis_server redis;
  // What the release before schema 2 wrote for one waiting SMS conversation.
  redis.command({"HSET",
                 "conversation:7",
                 "id",
                 "7",
                 "channel",
                 "sms",
                 "connector",
                 "sms",
                 "status",
                 "queued",
                 "team",
                 "reference",
                 "patron",
                 "3",
                 "address",
                 "+15550100",
                 "thread",
                 "+15550100",
                 "created_at",
                 "1765000000000",
                 "updated_at",
                 "1765000000000",
                 "waiting_since",
                 "1765000000000",
                 "messages",
                 "1",
                 "preview",
                 "Where is my hold?",
                 "last_direction",
                 "in",
                 "last_at",
                 "1765000000000"});
  redis.command({"RPUSH", "conversation:7:messages", "40"});
  redis.command({"SADD", "conversation:7:tags", "holds"});
  redis.command({"SADD", "conversation:7:declined", "bo"});
  redis.command({"HSET", "message:40", "id", "40", "conversation", "7", "direction", "in", "text",
                 "Where is my hold?", "channel", "sms", "status", "received", "sent_at",
                 "1765000000000", "received_at", "1765000000000"});
  redis.command({"HSET", "patron:3", "id", "3", "name", "Zoë"});
  redis.command({"ZADD", "conversations", "1765000000000", "7"});
  redis.command({"SET", "provider:sms:SM1", "40"});
  redis.command({"HSET", "offer:7", "to", ",ann,", "expires", "1765000000000"});

  askdesk_daemon daemon(redis, R"({"teams": [{"id": "reference", "name": "Reference"}]})");
  EXPECT_EQ(redis.wait_for_string({"GET", "askdesk:schema"}), "3");
  EXPECT_EQ(redis
                .command({"EXISTS", "conversation:7", "conversation:7:messages", "message:40",
                          "offer:7", "conversation:7:tags", "conversation:7:declined"})
                .integer(),
            0);
  EXPECT_EQ(redis.command({"HGET", store::keys::offer("7"), "to"}).str(), ",ann,");
  EXPECT_EQ(redis.command({"SISMEMBER", store::keys::conversation_declined("7"), "bo"}).integer(),
            1);
  EXPECT_EQ(redis.command({"GET", "provider:sms:SM1"}).str(), "7:40");

  daemon.add_user("sue", "supervisor", {}, "sue-password-1");
  const auto sue = daemon.login("sue", "sue-password-1");
  const auto c = daemon.call(sue, "GET", "/api/v1/conversations/7");
  ASSERT_EQ(c.status, 200) << c.body;
  EXPECT_EQ(json_at(c.body, "/messages/0/text"), "Where is my hold?") << c.body;
  EXPECT_EQ(json_at(c.body, "/tags/0"), "holds") << c.body;
  EXPECT_EQ(json_at(c.body, "/patron/name"), "Zoë") << c.body;
  const auto list = daemon.call(sue, "GET", "/api/v1/conversations");
  EXPECT_EQ(json_at(list.body, "/items/0/patron/name"), "Zoë") << list.body;

  // Its facts for the reports, from what its hash recorded.
  const auto report =
      daemon.call(sue, "GET", "/api/v1/reports/conversations?from=2025-12-06&to=2025-12-06");
  ASSERT_EQ(report.status, 200) << report.body;
  EXPECT_EQ(json_at(report.body, "/conversations/0/id"), "7") << report.body;
  EXPECT_EQ(json_at(report.body, "/conversations/0/channel"), "sms");
  EXPECT_EQ(json_at(report.body, "/conversations/0/tags/0"), "holds");
}

}  // namespace
}  // namespace askdesk::testing
