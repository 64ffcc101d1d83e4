// redis.min_replicas_acked without Sentinel: a master and one replica, real redis-servers on
// loopback. While the replica cannot confirm (paused), a text is stored on the master but its
// webhook gets 503, so Twilio sends it again; once the replica is back the retry gets 200 and
// the text is stored once.
#include <gtest/gtest.h>

#include <csignal>

#include "tests/support/askdesk_daemon.hpp"
#include "tests/support/signed_text.hpp"
#include "tests/support/wait.hpp"

namespace askdesk::testing {
namespace {

TEST(Replicas, ATextNoReplicaConfirmedIsRefusedUntilOneDoes) {
  redis_server master;
  redis_server replica("always", {"--replicaof", "127.0.0.1", std::to_string(master.port())});
  ASSERT_TRUE(wait_until([&] {
    return master.command({"INFO", "replication"}).str().find("state=online") != std::string::npos;
  }));
  askdesk_daemon daemon(master, R"({"teams": [{"id": "reference"}],
    "redis": {"min_replicas_acked": 1, "replicas_timeout_ms": 300},
    "connectors": [)" + signed_text::connector_config() +
                                    "]}");
  const std::string url = daemon.url("/webhooks/twilio/sms");
  ASSERT_EQ(signed_text::send(url, 0).status, 200);

  ::kill(replica.pid(), SIGSTOP);
  const auto refused = signed_text::send(url, 1);
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_GE(daemon.metric("askdesk_replica_waits_short_total"), 1);
  ::kill(replica.pid(), SIGCONT);

  ASSERT_TRUE(wait_until([&] { return signed_text::send(url, 1).status == 200; }));
  EXPECT_TRUE(wait_until([&] { return master.messages_stored() == 2; }));
  EXPECT_TRUE(master.command({"GET", "thread:sms:" + signed_text::patron(1)}).is_string());
  EXPECT_EQ(master.messages_stored(), 2);  // the text stored while refused, once
}

}  // namespace
}  // namespace askdesk::testing
