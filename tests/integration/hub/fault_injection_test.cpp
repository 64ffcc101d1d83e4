// Crash safety proven by injecting one Redis failure at a chosen command (faulty_redis),
// in-process with the real connector host, Twilio connector, poller and outbound lanes over
// a real redis-server: a poller's cursor moves only after its messages are durable, and a
// reply whose outcome could not be recorded is recorded again, never sent again.
#include <gtest/gtest.h>

#include "daemon/hub/lanes.hpp"
#include "daemon/store/keys.hpp"
#include "tests/support/connector_harness.hpp"
#include "tests/support/fake_twilio.hpp"
#include "tests/support/io.hpp"

namespace askdesk::testing {
namespace {

const std::string account = "AC0123456789abcdef0123456789abcdef";
const std::string library = "+15550100199";

// One Twilio connector in the harness, with a faulty command connection.
class FaultInjection : public ::testing::Test {
 protected:
  connectors::connector& add_twilio(const std::string& extra) {
    return h_.add("twilio", "sms",
                  R"({"account_sid": ")" + account + R"(", "auth_token": "token", "number": ")" +
                      library + R"(", "api_base": ")" + twilio_.base() + "\"" + extra + "}");
  }

  double rounds(const std::string& outcome) {
    return h_.metrics().value("askdesk_poll_rounds_total",
                              {{"connector", "sms"}, {"outcome", outcome}});
  }

  fake_twilio twilio_;
  connector_harness h_;
  redis_server& redis_ = h_.redis();
  faulty_redis* faulty_ = &h_.commands();
  boost::asio::io_context& io_ = h_.io();
};

TEST_F(FaultInjection, APollersCursorMovesOnlyOnceEveryMessageOfTheRoundIsDurable) {
  twilio_.add_inbound("SM001", "+15550100141", library, "First");
  twilio_.add_inbound("SM002", "+15550100142", library, "Second");
  twilio_.add_inbound("SM003", "+15550100143", library, "Third");
  // The second message's append never reaches Redis.
  faulty_->fail({"FCALL", h_.fcall(store::script::ingest)}, 2, faulty_redis::when::before);
  auto& sms = add_twilio(R"(, "mode": "poll", "poll_seconds": 1)");
  sms.start();

  ASSERT_TRUE(run_until(io_, [&] { return rounds("failed") >= 1; }));
  EXPECT_EQ(faulty_->failed(), 1);
  // The round stored what it could, and left the cursor where it was.
  EXPECT_EQ(redis_.command({"XLEN", "inbound"}).integer(), 2);
  EXPECT_TRUE(redis_.command({"HGET", "twilio:sms:cursor", "sid"}).is_nil());

  // The next round reads the page again: the missing one is stored, none twice, and only
  // then does the cursor move.
  ASSERT_TRUE(run_until(io_, [&] { return rounds("ok") >= 1; }));
  EXPECT_EQ(redis_.command({"XLEN", "inbound"}).integer(), 3);
  EXPECT_EQ(redis_.command({"HGET", "twilio:sms:cursor", "sid"}).str(), "SM003");
}

TEST_F(FaultInjection, APollerThatLostItsLeaseCannotMoveTheCursor) {
  twilio_.add_inbound("SM001", "+15550100141", library, "First");
  auto& sms = add_twilio(R"(, "mode": "poll", "poll_seconds": 1)");
  // This daemon paused past its lease and another took it over, just before the cursor save.
  const std::string lease = "lease:twilio:" + account + ":" + library;
  faulty_->before({"FCALL", h_.fcall(store::script::save_record)}, 1, [&] {
    redis_.command({"SET", lease, "other:1", "PX", "60000"});
    redis_.command({"INCR", lease + ":fence"});
  });
  sms.start();
  // The message is stored, but the cursor save is refused, and from then on the other
  // daemon polls.
  ASSERT_TRUE(run_until(io_, [&] { return rounds("elsewhere") >= 1; }));
  EXPECT_EQ(rounds("failed"), 1);
  EXPECT_EQ(redis_.command({"XLEN", "inbound"}).integer(), 1);
  EXPECT_TRUE(redis_.command({"HGET", "twilio:sms:cursor", "sid"}).is_nil());
}

// An outbound entry as post_message queues it, for message 1 of conversation 1.
void queue_reply(redis_server& redis) {
  redis.command({"HSET", store::keys::conversation("1"), "id", "1", "team", "reference", "status",
                 "assigned", "connector", "sms", "channel", "sms", "patron", "1"});
  redis.command({"HSET", store::keys::message("1", "1"), "id", "1", "conversation", "1",
                 "connector", "sms", "direction", "out", "status", "pending", "text", "Hello"});
  redis.command({"XADD",
                 "outbound:sms",
                 "*",
                 "message",
                 "1",
                 "conversation",
                 "1",
                 "connector",
                 "sms",
                 "to",
                 "+15550100141",
                 "thread",
                 "+15550100141",
                 "patron_name",
                 "",
                 "text",
                 "Hello",
                 "automatic",
                 "0",
                 "facts",
                 "{}"});
}

class FaultInjectionLanes : public FaultInjection,
                            public ::testing::WithParamInterface<faulty_redis::when> {};

TEST_P(FaultInjectionLanes, AReplyWhoseOutcomeWasNotRecordedIsRecordedAgainNeverSentAgain) {
  auto reader = h_.connect("outbound");
  reader->start();
  auto& sms = add_twilio("");
  hub::outbound_lanes lanes({io_, *faulty_, *reader, h_.scripts(), h_.metrics(), h_.clock()},
                            {.consumer = "test:1", .renew_every = std::chrono::milliseconds(200)});
  lanes.add(sms, h_.lane("sms"));
  queue_reply(redis_);
  // Twilio takes the message; recording that fails once (never written, or its answer lost).
  faulty_->fail({"FCALL", h_.fcall(store::script::settle_outbound)}, 1, GetParam());
  lanes.start();

  // The lane is done once it counted the send: only after Redis recorded it.
  ASSERT_TRUE(run_until(io_, [&] {
    return h_.metrics().value("askdesk_messages_sent_total", {{"connector", "sms"}}) >= 1;
  }));
  EXPECT_EQ(redis_.command({"HGET", store::keys::message("1", "1"), "status"}).str(), "sent");
  EXPECT_EQ(redis_.command({"XLEN", "outbound:sms"}).integer(), 0);
  EXPECT_EQ(h_.metrics().value("askdesk_outbound_waiting", {{"connector", "sms"}}), 0);
  EXPECT_EQ(faulty_->failed(), 1);
  EXPECT_EQ(twilio_.requests().size(), 1u);
  EXPECT_EQ(h_.metrics().value("askdesk_messages_sent_total", {{"connector", "sms"}}), 1);
  EXPECT_EQ(redis_.command({"LLEN", "outbound:sms:dead"}).integer(), 0);

  bool stopped = false;
  lanes.stop([&] { stopped = true; });
  ASSERT_TRUE(run_until(io_, [&] { return stopped; }));
  reader->stop();
}

INSTANTIATE_TEST_SUITE_P(RedisRanIt, FaultInjectionLanes,
                         ::testing::Values(faulty_redis::when::before, faulty_redis::when::after),
                         [](const auto& info) {
                           return info.param == faulty_redis::when::before ? "Never"
                                                                           : "ButLostTheAnswer";
                         });

}  // namespace
}  // namespace askdesk::testing
