// The patron side of web chat (/ws/patron, docs/protocol.md) against the real daemon.
#include <gtest/gtest.h>

#include "tests/support/askdesk_daemon.hpp"
#include "tests/support/wait.hpp"
#include "tests/support/ws_client.hpp"

namespace askdesk::testing {
namespace {

const char* config = R"({
  "http": {"allowed_origins": ["https://library.example.org"]},
  "teams": [{"id": "reference", "name": "Reference desk"}],
  "connectors": [{"id": "webchat", "type": "webchat", "max_message_chars": 50, "messages_per_minute": 3}]
})";

class Webchat : public ::testing::Test {
 protected:
  void SetUp() override { daemon_ = std::make_unique<askdesk_daemon>(redis_, config); }

  std::unique_ptr<ws_client> connect(const std::string& hello, std::string* welcome = nullptr) {
    auto c =
        std::make_unique<ws_client>(daemon_->port(), "/ws/patron", "https://library.example.org");
    c->send(hello);
    auto w = c->read_until("welcome");
    EXPECT_TRUE(w);
    if (welcome && w) *welcome = *w;
    return c;
  }

  redis_server redis_;
  std::unique_ptr<askdesk_daemon> daemon_;
};

TEST_F(Webchat, OnlyAllowedOriginsMayConnect) {
  EXPECT_EQ(upgrade_status(daemon_->port(), "/ws/patron", "https://evil.example.com"), 403);
  EXPECT_EQ(upgrade_status(daemon_->port(), "/ws/patron", ""), 403);
  EXPECT_EQ(upgrade_status(daemon_->port(), "/ws/patron", "https://library.example.org"), 101);
  EXPECT_EQ(upgrade_status(daemon_->port(), "/ws/patron", daemon_->origin()),
            101);  // our own pages
}

TEST_F(Webchat, AReloadWithTheTokenKeepsTheTranscriptAndResumesAfterTheLastMessage) {
  std::string welcome;
  auto first = connect(R"({"type":"hello","team":"reference","name":"Ada"})", &welcome);
  const std::string token = json_string(welcome, "token");
  ASSERT_EQ(token.size(), 43u);
  EXPECT_NE(welcome.find(R"("conversation":null)"), std::string::npos);
  first->send(R"({"type":"message","text":"first","client_id":"a1"})");
  const auto echo = first->read_until("\"first\"");
  ASSERT_TRUE(echo);
  const std::string first_id = json_string(*echo, "id");
  first->send(R"({"type":"message","text":"second","client_id":"a2"})");
  ASSERT_TRUE(first->read_until("\"second\""));
  first.reset();

  auto whole =
      connect(R"({"type":"hello","team":"reference","token":")" + token + R"("})", &welcome);
  EXPECT_NE(welcome.find("\"first\""), std::string::npos);
  EXPECT_NE(welcome.find("\"second\""), std::string::npos);
  EXPECT_NE(welcome.find(R"("client_id":"a1")"), std::string::npos);
  auto resumed = connect(R"({"type":"hello","team":"reference","token":")" + token +
                             R"(","after":")" + first_id + R"("})",
                         &welcome);
  EXPECT_EQ(welcome.find("\"first\""), std::string::npos);
  EXPECT_NE(welcome.find("\"second\""), std::string::npos);
}

TEST_F(Webchat, AForgedTokenGetsAFreshSessionNeverSomeoneElses) {
  std::string welcome;
  auto ada = connect(R"({"type":"hello","team":"reference","name":"Ada"})", &welcome);
  const std::string token = json_string(welcome, "token");
  ada->send(R"({"type":"message","text":"private question","client_id":"p1"})");
  ASSERT_TRUE(ada->read_until("private question"));
  std::string forged = token;
  forged[0] = forged[0] == 'A' ? 'B' : 'A';
  auto mallory =
      connect(R"({"type":"hello","team":"reference","token":")" + forged + R"("})", &welcome);
  EXPECT_EQ(welcome.find("private question"), std::string::npos);
  EXPECT_NE(json_string(welcome, "token"), token);
  EXPECT_NE(welcome.find(R"("conversation":null)"), std::string::npos);
}

TEST_F(Webchat, AResentMessageWithTheSameClientIdIsStoredOnce) {
  std::string welcome;
  auto c = connect(R"({"type":"hello","team":"reference"})", &welcome);
  c->send(R"({"type":"message","text":"once","client_id":"same"})");
  ASSERT_TRUE(c->read_until("\"ack\""));
  ASSERT_TRUE(c->read_until("\"once\""));
  c->send(R"({"type":"message","text":"once","client_id":"same"})");
  ASSERT_TRUE(c->read_until("\"ack\""));
  // The resend was decided (stored or duplicate) before its ack, and the hub applied whatever
  // was stored: a second copy's event would already be on its way to the widget.
  const std::string received = R"(askdesk_messages_received_total{channel="webchat"})";
  const std::string duplicate = R"(askdesk_messages_duplicate_total{channel="webchat"})";
  ASSERT_TRUE(
      wait_until([&] { return daemon_->metric(received) + daemon_->metric(duplicate) >= 2; }));
  EXPECT_EQ(daemon_->metric(duplicate), 1);
  ASSERT_TRUE(wait_until([&] { return redis_.command({"XLEN", "inbound"}).integer() == 0; }));
  EXPECT_FALSE(c->read_until("\"once\"", std::chrono::milliseconds(200)));  // no second echo
  const auto count = redis_.command({"EVAL", "return #redis.call('KEYS', 'message:*')", "0"});
  EXPECT_EQ(count.integer(), 1);
}

TEST_F(Webchat, OversizedFastAndEmptyMessagesAreRefusedClearly) {
  auto c = connect(R"({"type":"hello","team":"reference"})");
  c->send(R"({"type":"message","text":")" + std::string(51, 'x') + R"(","client_id":"big"})");
  auto r = c->read_until("error");
  ASSERT_TRUE(r);
  EXPECT_NE(r->find(R"("code":"too_long")"), std::string::npos);
  c->send(R"({"type":"message","text":"   ","client_id":"blank"})");
  r = c->read_until("error");
  ASSERT_TRUE(r);
  EXPECT_NE(r->find(R"("code":"empty")"), std::string::npos);
  for (int i = 0; i < 3; ++i) {
    c->send(R"({"type":"message","text":"quick","client_id":"q)" + std::to_string(i) + R"("})");
  }
  c->send(R"({"type":"message","text":"one too many","client_id":"q9"})");
  r = c->read_until(R"("code":"rate_limited")");
  ASSERT_TRUE(r);
  EXPECT_NE(r->find("try again in"), std::string::npos);
}

TEST_F(Webchat, MessagesBeforeHelloAndGarbageAreAnsweredWithErrors) {
  ws_client c(daemon_->port(), "/ws/patron", "https://library.example.org");
  c.send("not json");
  auto r = c.read_until("error");
  ASSERT_TRUE(r);
  c.send(R"({"type":"message","text":"hi","client_id":"x"})");
  r = c.read_until("error");
  ASSERT_TRUE(r);
  EXPECT_NE(r->find("hello"), std::string::npos);
}

TEST_F(Webchat, WhileRedisIsDownTheWidgetIsToldAndNothingIsAcknowledged) {
  auto c = connect(R"({"type":"hello","team":"reference"})");
  redis_.kill();
  c->send(R"({"type":"message","text":"during the outage","client_id":"o1"})");
  const auto r = c->read_until("error");
  ASSERT_TRUE(r);
  EXPECT_NE(r->find(R"("code":"unavailable")"), std::string::npos);
  EXPECT_EQ(r->find("\"ack\""), std::string::npos);
  redis_.restart();
}

}  // namespace
}  // namespace askdesk::testing
