// The dashboard feed (/ws/staff, docs/protocol.md): authentication, team filtering, and
// resuming from the last event id with nothing missed and nothing twice.
#include <gtest/gtest.h>

#include "tests/support/askdesk_daemon.hpp"
#include "tests/support/ws_client.hpp"

namespace askdesk::testing {
namespace {

const char* config = R"({
  "teams": [{"id": "reference"}, {"id": "circulation"}],
  "connectors": [{"id": "webchat", "type": "webchat"}]
})";

class StaffSocket : public ::testing::Test {
 protected:
  void SetUp() override {
    daemon_ = std::make_unique<askdesk_daemon>(redis_, config);
    daemon_->add_user("ann", "staff", {"reference"}, "ann-password-1");
    ann_ = daemon_->login("ann", "ann-password-1");
  }

  std::unique_ptr<ws_client> staff(const std::string& after = "") {
    return std::make_unique<ws_client>(daemon_->port(),
                                       after.empty() ? "/ws/staff" : "/ws/staff?after=" + after,
                                       daemon_->origin(), ann_.cookie);
  }

  void patron_says(ws_client& patron, const std::string& text, const std::string& id) {
    patron.send(R"({"type":"message","text":")" + text + R"(","client_id":")" + id + R"("})");
    ASSERT_TRUE(patron.read_until("\"" + text + "\""));
  }

  std::unique_ptr<ws_client> patron(const std::string& team) {
    auto p = std::make_unique<ws_client>(daemon_->port(), "/ws/patron", daemon_->origin());
    p->send(R"({"type":"hello","team":")" + team + R"("})");
    EXPECT_TRUE(p->read_until("welcome"));
    return p;
  }

  redis_server redis_;
  std::unique_ptr<askdesk_daemon> daemon_;
  staff_session ann_;
};

TEST_F(StaffSocket, NeedsASessionAndAnAllowedOrigin) {
  EXPECT_EQ(upgrade_status(daemon_->port(), "/ws/staff", daemon_->origin()), 401);
  EXPECT_EQ(upgrade_status(daemon_->port(), "/ws/staff", "https://elsewhere.example", ann_.cookie),
            403);
  EXPECT_EQ(upgrade_status(daemon_->port(), "/ws/staff", daemon_->origin(), ann_.cookie), 101);
}

TEST_F(StaffSocket, NewConversationsArriveLiveOnlyForTheUsersTeams) {
  auto feed = staff();
  const auto hello = feed->read_until(R"("type":"hello")");
  ASSERT_TRUE(hello);
  auto other = patron("circulation");
  patron_says(*other, "circulation question", "c1");
  auto mine = patron("reference");
  patron_says(*mine, "reference question", "r1");
  const auto event = feed->read_until("conversation.created");
  ASSERT_TRUE(event);
  EXPECT_NE(event->find(R"("team":"reference")"), std::string::npos);
  EXPECT_EQ(event->find("circulation question"), std::string::npos);
  // The patron's typing shows too.
  mine->send(R"({"type":"typing"})");
  const auto typing = feed->read_until(R"("event":"typing")");
  ASSERT_TRUE(typing);
  EXPECT_NE(typing->find(R"("who":"patron")"), std::string::npos);
}

TEST_F(StaffSocket, AReconnectResumesFromTheLastEventIdWithoutGapsOrRepeats) {
  auto p = patron("reference");
  auto feed = staff();
  ASSERT_TRUE(feed->read_until("hello"));
  patron_says(*p, "one", "1");
  // Its conversation.created comes first; the message's own event is the one to resume after.
  const auto seen = feed->read_until(R"("event":"message.created")");
  ASSERT_TRUE(seen);
  const std::string last = json_string(*seen, "id");
  feed.reset();  // the dashboard drops

  patron_says(*p, "two", "2");
  patron_says(*p, "three", "3");
  auto resumed = staff(last);
  ASSERT_TRUE(resumed->read_until("hello"));
  // Once "three" has come, the patron says "four": its event is newer than anything the
  // feed could still repeat, so the frames up to it are all there is to check (no waiting
  // for a quiet moment).
  std::vector<std::string> texts;
  bool asked = false, live = false;
  while (auto frame = resumed->read()) {
    if (frame->find("message.created") == std::string::npos) continue;
    if (frame->find(R"("text":"four")") != std::string::npos) {
      live = true;
      break;
    }
    for (const char* t : {"one", "two", "three"}) {
      if (frame->find(std::string(R"("text":")") + t + "\"") != std::string::npos)
        texts.push_back(t);
    }
    if (!asked && !texts.empty() && texts.back() == "three") {
      asked = true;
      patron_says(*p, "four", "4");
    }
  }
  EXPECT_EQ(texts, (std::vector<std::string>{"two", "three"}));
  // And live events keep coming after the catch-up.
  EXPECT_TRUE(live);
}

TEST_F(StaffSocket, AnAfterIdThatWasTrimmedAwayAsksForAReload) {
  auto p = patron("reference");
  patron_says(*p, "old", "1");
  redis_.command({"XTRIM", "events", "MAXLEN", "0"});
  patron_says(*p, "new", "2");
  auto feed = staff("1-0");
  ASSERT_TRUE(feed->read_until("hello"));
  EXPECT_TRUE(feed->read_until(R"({"type":"reset"})"));
}

}  // namespace
}  // namespace askdesk::testing
