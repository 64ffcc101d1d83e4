// The social desk through the API (docs/api.md, "Social items"), fed by a replay connector
// relaying social posts: a post marked for triage waits in its team's triage list instead of
// the queue; staff reply (it joins the queue), dismiss it (a later post in its thread brings
// it back) or mark it as abuse (its sender's later posts go straight to the abuse list).
#include <gtest/gtest.h>

#include "daemon/store/event_feed.hpp"
#include "daemon/store/keys.hpp"
#include "daemon/store/streams.hpp"
#include "tests/support/askdesk_daemon.hpp"
#include "tests/support/wait.hpp"

namespace askdesk::testing {
namespace {

const std::string token = "replay-token-for-the-social-desk";

class SocialDesk : public ::testing::Test {
 protected:
  SocialDesk()
      : daemon_(redis_, R"({"teams": [{"id": "reference"}, {"id": "archives"}],
          "connectors": [{"id": "social", "type": "replay", "token": ")" +
                            token + R"(", "channel": "social", "name": "Social"}]})") {
    daemon_.add_user("ann", "staff", {"reference"}, "ann-password-1");
    daemon_.add_user("abe", "staff", {"archives"}, "abe-password-1");
    ann_ = daemon_.login("ann", "ann-password-1");
    abe_ = daemon_.login("abe", "abe-password-1");
  }

  // A post relayed for triage (or not); the id of its conversation.
  std::string post(const std::string& id, const std::string& from, const std::string& thread,
                   const std::string& text, bool triage = true) {
    const auto r = http_request(
        "POST", daemon_.url("/webhooks/replay/social"),
        R"({"id": ")" + id + R"(", "from": ")" + from + R"(", "thread": ")" + thread +
            R"(", "text": ")" + text + R"(", "triage": )" + (triage ? "true" : "false") + "}",
        {"Content-Type: application/json", "Authorization: Bearer " + token});
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_TRUE(wait_until([&] {
      return redis_.command({"EXISTS", "dedup:social:" + id}).integer() &&
             redis_.command({"XLEN", "inbound"}).integer() == 0;
    }));
    return redis_.wait_for_string({"GET", "thread:social:" + thread});
  }

  std::string items(const std::string& state, const staff_session& who) {
    const auto r = daemon_.call(who, "GET", "/api/v1/social/items?state=" + state);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.body;
  }

  http_result act(const std::string& id, const std::string& action,
                  const staff_session* who = nullptr) {
    return daemon_.call(who ? *who : ann_, "POST", "/api/v1/social/items/" + id + "/" + action,
                        "{}");
  }

  std::string status_of(const std::string& id) {
    return redis_.command({"HGET", store::keys::conversation(id), "status"}).str();
  }

  redis_server redis_;
  askdesk_daemon daemon_;
  staff_session ann_, abe_;
};

TEST_F(SocialDesk, ATriagedPostWaitsOutsideTheQueueUntilStaffReply) {
  const std::string id = post("p1", "@ada@social.example", "t1", "Is the library open today?");
  EXPECT_EQ(status_of(id), "triage");
  EXPECT_FALSE(redis_.command({"ZSCORE", "queue:reference", id}).is_string());
  const auto listed = items("new", ann_);
  EXPECT_EQ(json_at(listed, "/items/0/conversation/id"), id) << listed;
  EXPECT_EQ(json_at(listed, "/items/0/post/text"), "Is the library open today?") << listed;
  EXPECT_EQ(json_at(items("new", abe_), "/items/0/conversation/id"), "");  // another team's

  EXPECT_EQ(act(id, "reply", &abe_).status, 403);
  // Not a conversation yet: staff decide on the social desk first.
  EXPECT_EQ(daemon_.call(ann_, "POST", "/api/v1/conversations/" + id + "/claim", "{}").status, 409);
  EXPECT_EQ(
      daemon_.call(ann_, "POST", "/api/v1/conversations/" + id + "/messages", R"({"text": "Yes"})")
          .status,
      409);
  const auto replied = act(id, "reply");
  ASSERT_EQ(replied.status, 200) << replied.body;
  EXPECT_EQ(status_of(id), "queued");
  EXPECT_TRUE(redis_.command({"ZSCORE", "queue:reference", id}).is_string());
  EXPECT_EQ(json_at(items("new", ann_), "/items/0/conversation/id"), "");
  EXPECT_EQ(act(id, "dismiss").status, 409);  // a conversation now, not an item in triage

  // A post not marked for triage (a direct message) is queued at once.
  const std::string direct = post("p2", "@bo@social.example", "t2", "A private question", false);
  EXPECT_EQ(status_of(direct), "queued");
}

TEST_F(SocialDesk, ADismissedItemComesBackWhenItsThreadSaysMore) {
  const std::string id = post("p3", "@cy@social.example", "t3", "Nice building!");
  ASSERT_EQ(act(id, "dismiss").status, 200);
  EXPECT_EQ(status_of(id), "dismissed");
  EXPECT_EQ(json_at(items("dismissed", ann_), "/items/0/conversation/id"), id);
  EXPECT_EQ(json_at(items("new", ann_), "/items/0/conversation/id"), "");
  EXPECT_EQ(post("p4", "@cy@social.example", "t3", "Also: can I book a room?"), id);
  EXPECT_EQ(status_of(id), "triage");
  // Dashboards hear it is news again: an update saying so, after the dismissal's.
  const auto events = redis_.command({"XREVRANGE", "events", "+", "-", "COUNT", "2"});
  bool updated = false;
  for (std::size_t i = 0; i < events.size(); ++i) {
    store::stream_entry entry{events[i][0].str(), {}};
    for (std::size_t f = 0; f + 1 < events[i][1].size(); f += 2) {
      entry.fields.emplace_back(events[i][1][f].str(), events[i][1][f + 1].str());
    }
    const auto e = store::to_event(entry);
    if (e->type == "conversation.updated" &&
        e->data.find(R"("status":"triage")") != std::string::npos) {
      updated = true;
    }
  }
  EXPECT_TRUE(updated);
  EXPECT_EQ(json_at(items("new", ann_), "/items/0/conversation/id"), id);
  EXPECT_EQ(json_at(items("dismissed", ann_), "/items/0/conversation/id"), "");
}

TEST_F(SocialDesk, AbuseMutesTheSenderWhoseNextPostsGoStraightToTheAbuseList) {
  const std::string id = post("p5", "@troll@social.example", "t5", "Something hateful");
  ASSERT_EQ(act(id, "abuse").status, 200);
  EXPECT_EQ(status_of(id), "abuse");
  const std::string later = post("p6", "@troll@social.example", "t6", "More of it");
  EXPECT_EQ(status_of(later), "abuse");
  const auto abuse = items("abuse", ann_);
  EXPECT_EQ(json_at(abuse, "/items/0/conversation/id"), later) << abuse;  // newest first
  EXPECT_EQ(json_at(abuse, "/items/1/conversation/id"), id) << abuse;
  EXPECT_EQ(json_at(items("new", ann_), "/items/0/conversation/id"), "");
  // Even untriaged (a direct message) a muted sender's post is not queued.
  EXPECT_EQ(status_of(post("p7", "@troll@social.example", "t7", "Direct", false)), "abuse");
  EXPECT_EQ(daemon_.call(ann_, "GET", "/api/v1/social/items?state=old").status, 400);
  // A mistake undone: replying takes it out of the abuse list and unmutes the sender.
  ASSERT_EQ(act(later, "reply").status, 200);
  EXPECT_EQ(status_of(later), "queued");
  EXPECT_EQ(status_of(post("p8", "@troll@social.example", "t8", "A real question")), "triage");
}

}  // namespace
}  // namespace askdesk::testing
