// A poller's lease across two real daemons: the holder is paused (SIGSTOP) in the middle of a
// round, with Twilio's answer on its way; its lease runs out and the other daemon takes over
// and moves the cursor on. When the first resumes, it finishes its round with what it read
// before the pause, and its cursor save (which would move the cursor back) is refused: the
// lease's fence changed hands.
#include <gtest/gtest.h>

#include <csignal>

#include "tests/support/askdesk_daemon.hpp"
#include "tests/support/fake_twilio.hpp"
#include "tests/support/signed_text.hpp"
#include "tests/support/wait.hpp"

namespace askdesk::testing {
namespace {

const std::string library = "+15550100199";
const std::string lease = "lease:twilio:" + signed_text::account + ":" + library;
const std::string cursor = "twilio:sms:cursor";

TEST(Lease, APausedHoldersStaleCursorIsRefusedAfterAnotherTookOver) {
  redis_server redis;
  fake_twilio twilio;
  const std::string config = R"({"teams": [{"id": "reference"}], "connectors": [
    {"id": "sms", "type": "twilio", "account_sid": ")" +
                             signed_text::account + R"(", "auth_token": ")" + signed_text::token +
                             R"(", "number": ")" + library + R"(", "api_base": ")" + twilio.base() +
                             R"(", "mode": "poll", "poll_seconds": 1, "lease_seconds": 3}]})";
  twilio.add_inbound("SM001", "+15550100141", library, "First");
  askdesk_daemon first(redis, config);
  ASSERT_EQ(redis.wait_for_string({"HGET", cursor, "sid"}), "SM001");
  const std::string holder = redis.command({"GET", lease}).str();
  ASSERT_NE(holder.find(":" + std::to_string(first.port())), std::string::npos) << holder;
  askdesk_daemon second(redis, config);
  ASSERT_TRUE(second.wait_for_metric(
      R"(askdesk_poll_rounds_total{connector="sms",outcome="elsewhere"})", 1));

  const double failed_before =
      first.metric(R"(askdesk_poll_rounds_total{connector="sms",outcome="failed"})");
  // The holder asks for the list (with a new text) and is paused before the answer comes.
  twilio.hold_lists(true);
  twilio.add_inbound("SM002", "+15550100142", library, "Second");
  ASSERT_TRUE(wait_until([&] { return twilio.lists_held() >= 1; }));
  ::kill(first.process().pid(), SIGSTOP);
  twilio.hold_lists(false);
  twilio.release_lists();  // waits in the paused daemon's socket

  // The other daemon takes the lease once it runs out, reads both new texts and moves on.
  twilio.add_inbound("SM003", "+15550100143", library, "Third");
  EXPECT_TRUE(wait_until(
      [&] {
        return redis.command({"HGET", cursor, "sid"}).str() == "SM003";
      },
      std::chrono::seconds(12)));
  ::kill(first.process().pid(), SIGCONT);

  // The first daemon's round ends: its texts were already stored (stored once), and its
  // cursor save (SM002, behind) is refused.
  EXPECT_TRUE(first.wait_for_metric(
      R"(askdesk_poll_rounds_total{connector="sms",outcome="failed"})", failed_before + 1));
  EXPECT_EQ(redis.command({"HGET", cursor, "sid"}).str(), "SM003");
  EXPECT_NE(
      first.process().log().find("saving the cursor: the lease " + lease + " is no longer held"),
      std::string::npos);
  EXPECT_EQ(redis.command({"GET", lease}).str().find(":" + std::to_string(first.port())),
            std::string::npos);
  EXPECT_TRUE(wait_until([&] { return redis.messages_stored() == 3; }));
  EXPECT_EQ(redis.command({"XLEN", "inbound:dead"}).integer(), 0);
}

}  // namespace
}  // namespace askdesk::testing
