// One outbound lane in the test's process (daemon/hub/lanes.hpp) with the real Twilio
// connector and a local Twilio: a conversation's replies go in the order they were written,
// a retry holds back only its own conversation, and the lane's rate limit spaces its sends.
#include <gtest/gtest.h>

#include "daemon/hub/lanes.hpp"
#include "daemon/store/keys.hpp"
#include "tests/support/connector_harness.hpp"
#include "tests/support/fake_twilio.hpp"
#include "tests/support/io.hpp"

namespace askdesk::testing {
namespace {

class Lane : public ::testing::Test {
 protected:
  // The Twilio connector with `outbound` as its lane's block, and the lanes around it.
  void start(const std::string& outbound) {
    auto& sms = h_.add("twilio", "sms",
                       R"({"account_sid": "AC0123456789abcdef0123456789abcdef",
                           "auth_token": "token", "number": "+15550100199", "api_base": ")" +
                           twilio_.base() + R"(", "outbound": )" + outbound + "}");
    reader_ = h_.connect("outbound");
    reader_->start();
    lanes_ = std::make_unique<hub::outbound_lanes>(
        hub::lanes_parts{h_.io(), h_.commands(), *reader_, h_.scripts(), h_.metrics(), h_.clock()},
        hub::lanes_options{.consumer = "test:1",
                           .renew_every = std::chrono::milliseconds(200),
                           .first_retry = std::chrono::milliseconds(300)});
    lanes_->add(sms, h_.lane("sms"));
    lanes_->start();
  }

  ~Lane() override {
    if (!lanes_) return;
    bool stopped = false;
    lanes_->stop([&] { stopped = true; });
    run_until(h_.io(), [&] { return stopped; });
    reader_->stop();
  }

  // Message `message` of conversation `conversation`, queued as post_message queues a reply.
  void queue(const std::string& conversation, const std::string& message, const std::string& text) {
    auto& redis = h_.redis();
    const std::string to = "+1555010" + std::string(4 - conversation.size(), '0') + conversation;
    redis.command({"HSET", store::keys::conversation(conversation), "id", conversation, "team",
                   "reference", "status", "assigned", "connector", "sms", "channel", "sms"});
    redis.command({"HSET", store::keys::message(conversation, message), "id", message,
                   "conversation", conversation, "connector", "sms", "direction", "out", "status",
                   "pending", "text", text});
    redis.command({"XADD",       "outbound:sms", "*",   "message", message, "conversation",
                   conversation, "connector",    "sms", "to",      to,      "thread",
                   to,           "patron_name",  "",    "text",    text,    "automatic",
                   "0",          "facts",        "{}"});
  }

  std::vector<std::string> bodies() const {
    std::vector<std::string> out;
    for (const auto& r : twilio_.requests()) out.push_back(r.field("Body"));
    return out;
  }

  fake_twilio twilio_;
  connector_harness h_;
  std::unique_ptr<store::redis_connection> reader_;
  std::unique_ptr<hub::outbound_lanes> lanes_;
};

TEST_F(Lane, AConversationsRepliesGoInOrderAndARetryHoldsBackOnlyItsOwnConversation) {
  twilio_.fail_next(500, 20500, "Internal Server Error");  // the first send: try again
  queue("1", "1", "one");
  queue("1", "2", "two");
  queue("1", "3", "three");
  queue("2", "4", "four");
  start(R"({"concurrency": 4})");
  ASSERT_TRUE(run_until(h_.io(), [&] { return twilio_.requests().size() >= 5; }));
  const auto sent = bodies();
  // Conversation 1's messages in order, the failed first one again before the second.
  std::vector<std::string> first;
  for (const auto& b : sent) {
    if (b != "four") first.push_back(b);
  }
  EXPECT_EQ(first, (std::vector<std::string>{"one", "one", "two", "three"}));
  // Conversation 2 did not wait for conversation 1's retry.
  const auto four = std::find(sent.begin(), sent.end(), "four") - sent.begin();
  const auto again = std::find(sent.begin() + 1, sent.end(), "one") - sent.begin();
  EXPECT_LT(four, again);
  EXPECT_EQ(h_.metrics().value("askdesk_messages_retried_total", {{"connector", "sms"}}), 1);
}

TEST_F(Lane, ItsRateLimitSpacesItsSends) {
  for (int i = 1; i <= 6; ++i)
    queue(std::to_string(i), std::to_string(i), "text " + std::to_string(i));
  const auto began = std::chrono::steady_clock::now();
  start(R"({"concurrency": 8, "per_second": 5})");
  ASSERT_TRUE(run_until(h_.io(), [&] { return twilio_.requests().size() >= 6; }));
  // Six sends at five a second: the last starts at least a second after the first.
  EXPECT_GE(std::chrono::steady_clock::now() - began, std::chrono::seconds(1));
}

}  // namespace
}  // namespace askdesk::testing
