// Topics through the real daemon and redis-server: rules and the classifier place each new
// conversation (and so its team), staff corrections move it and are learned at once by every
// daemon on the same Redis.
#include <gtest/gtest.h>

#include <thread>

#include "tests/support/askdesk_daemon.hpp"
#include "tests/support/ws_client.hpp"

namespace askdesk::testing {
namespace {

class Topics : public ::testing::Test {
 protected:
  Topics() {
    const std::string examples = dir_.write("examples.jsonl", R"(
{"text": "When is story time for toddlers?", "topic": "events"}
{"text": "Is the book club meeting this month?", "topic": "events"}
{"text": "Can I sign up for the knitting circle?", "topic": "events"}
{"text": "Where can I find articles for my essay?", "topic": "research"}
{"text": "I need sources on climate policy", "topic": "research"}
)");
    config_ = R"({
      "teams": [{"id": "reference"}, {"id": "circulation"}, {"id": "programs"}],
      "topics": [
        {"id": "circulation", "team": "circulation", "keywords": ["renew", "due date"]},
        {"id": "events", "team": "programs"},
        {"id": "research", "team": "reference", "patterns": ["\\bcit(e|ation)\\b"]},
        {"id": "general", "team": "reference"}
      ],
      "routing": {"default_topic": "general", "examples": ")" +
              examples + R"(", "min_confidence": 0.6}
    })";
    first_ = std::make_unique<askdesk_daemon>(redis_, config_);
    first_->add_user("sue", "supervisor", {}, "sue-password-1");
    sue_ = first_->login("sue", "sue-password-1");
  }

  // A patron asks through `daemon`'s widget socket; returns the new conversation's JSON.
  std::string patron_asks(askdesk_daemon& daemon, const std::string& text) {
    ws_client patron(daemon.port(), "/ws/patron", daemon.origin());
    patron.send(R"({"type":"hello","team":"reference","name":"Ada"})");
    EXPECT_TRUE(patron.read_until("welcome"));
    patron.send(R"({"type":"message","text":")" + text + R"(","client_id":"q"})");
    EXPECT_TRUE(patron.read_until("\"ack\""));
    for (int i = 0; i < 100; ++i) {
      const auto list = first_->call(sue_, "GET", "/api/v1/conversations?limit=1");
      if (list.body.find(text) != std::string::npos) return list.body;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << "no conversation for " << text;
    return "";
  }

  redis_server redis_;
  temp_dir dir_;
  std::string config_;
  std::unique_ptr<askdesk_daemon> first_;
  staff_session sue_;
};

TEST_F(Topics, ARuleSetsTheTopicAndItsTeamAndSaysWhy) {
  const auto c = patron_asks(*first_, "Can I RENEW my books online?");
  EXPECT_NE(c.find(R"("topic":"circulation")"), std::string::npos) << c;
  EXPECT_NE(c.find(R"("team":"circulation")"), std::string::npos) << c;
  EXPECT_NE(c.find(R"("source":"rule")"), std::string::npos) << c;
  EXPECT_NE(c.find(R"("why":"keyword 'renew'")"), std::string::npos) << c;
}

TEST_F(Topics, TheClassifierDecidesWhenNoRuleMatchesAndTheDefaultOtherwise) {
  const auto events = patron_asks(*first_, "Is there a story time for toddlers on Friday?");
  EXPECT_NE(events.find(R"("topic":"events")"), std::string::npos) << events;
  EXPECT_NE(events.find(R"("team":"programs")"), std::string::npos) << events;
  EXPECT_NE(events.find(R"("source":"classifier")"), std::string::npos) << events;
  const auto unknown = patron_asks(*first_, "Zebra quokka");
  EXPECT_NE(unknown.find(R"("topic":"general")"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find(R"("source":"default")"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find(R"("team":"reference")"), std::string::npos) << unknown;
}

TEST_F(Topics, AStaffCorrectionMovesTheConversationAndEveryDaemonLearnsItAtOnce) {
  askdesk_daemon second(redis_, config_);
  const auto asked = patron_asks(*first_, "Is the makerspace open on Sunday?");
  ASSERT_NE(asked.find(R"("topic":"general")"), std::string::npos) << asked;
  const std::string id = json_at(asked, "/items/0/id");

  const auto bad = first_->call(sue_, "POST", "/api/v1/conversations/" + id + "/topic",
                                R"({"topic":"astrology"})");
  EXPECT_EQ(bad.status, 400) << bad.body;
  const auto set =
      first_->call(sue_, "POST", "/api/v1/conversations/" + id + "/topic", R"({"topic":"events"})");
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_NE(set.body.find(R"("team":"programs")"), std::string::npos) << set.body;
  EXPECT_NE(set.body.find(R"("why":"set by sue")"), std::string::npos) << set.body;
  const auto queue = first_->call(sue_, "GET", "/api/v1/conversations?status=queued&team=programs");
  EXPECT_NE(queue.body.find("makerspace"), std::string::npos) << queue.body;

  // The other daemon heard of the correction and classifies alike.
  std::string again;
  for (int i = 0; i < 50; ++i) {
    again = patron_asks(second, "Can kids use the makerspace after school?");
    if (again.find(R"("topic":"events")") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_NE(again.find(R"("topic":"events")"), std::string::npos) << again;
  EXPECT_NE(again.find("makerspace"), std::string::npos) << again;
}

TEST_F(Topics, TheTopicsListNamesEachTeamAndAPatternMatchIsExplained) {
  const auto list = first_->call(sue_, "GET", "/api/v1/topics");
  EXPECT_EQ(list.status, 200);
  EXPECT_NE(list.body.find(R"({"id":"events","team":"programs"})"), std::string::npos) << list.body;
  const auto asked = patron_asks(*first_, "How do I cite a website?");
  EXPECT_NE(asked.find(R"("topic":"research")"), std::string::npos) << asked;
  EXPECT_NE(asked.find(R"("why":"pattern '\\bcit(e|ation)\\b'")"), std::string::npos) << asked;
}

}  // namespace
}  // namespace askdesk::testing
