// The Bluesky connector's direct messages through the real daemon and redis-server, with a
// local PDS that speaks the chat lexicons (chat.bsky.convo.getLog, getConvo, sendMessage)
// behind the atproto-proxy header (tests/support/fake_bluesky_pds): a patron's message becomes
// a queued, direct conversation and staff answer in the same conversation, never in a post;
// the log's other entries and the library's own messages are not imported; the session is
// made once, refreshed when the access token expires, made again when the refresh token is
// refused; an app password without access to direct messages is reported and posts still come.
#include <gtest/gtest.h>

#include "daemon/store/keys.hpp"
#include "tests/support/askdesk_daemon.hpp"
#include "tests/support/fake_bluesky_pds.hpp"
#include "tests/support/wait.hpp"

namespace askdesk::testing {
namespace {

constexpr const char* get_log = "chat.bsky.convo.getLog";
constexpr const char* stored_directly =
    R"(askdesk_bluesky_posts_total{connector="bluesky",source="direct",outcome="stored"})";

std::string config_for(const fake_bluesky_pds& pds) {
  return R"({"teams": [{"id": "reference"}], "connectors": [{"id": "bluesky", "type": "bluesky",
    "service": ")" +
         pds.base() + R"(", "identifier": "library.test", "app_password": ")" + pds.app_password() +
         R"(", "poll_seconds": 1}]})";
}

// How many getLog calls asked from `rev` on or later (the cursor is a TID: later sorts after).
std::size_t logs_read_from(const fake_bluesky_pds& pds, const std::string& rev) {
  std::size_t n = 0;
  for (const auto& r : pds.requests(get_log)) {
    const auto at = r.query.find("cursor=");
    if (r.status == 200 && at != std::string::npos && r.query.substr(at + 7) >= rev) ++n;
  }
  return n;
}

class BlueskyDirect : public ::testing::Test {
 protected:
  explicit BlueskyDirect(bool direct_messages = true)
      : daemon_(redis_, prepared_config(direct_messages)), ann_(daemon_, "ann", {"reference"}) {
    daemon_.add_user("sam", "staff", {"reference"}, "sam-password-1");
    sam_ = daemon_.login("sam", "sam-password-1");
  }

  std::string prepared_config(bool direct_messages) {
    pds_.allow_direct_messages(direct_messages);
    pds_.add_patron({ada_did, "ada.test", "Ada Lovelace"});
    convo_ = pds_.add_convo(ada_did);
    return config_for(pds_);
  }

  std::string conversation_of(const std::string& convo) {
    return redis_.wait_for_string({"GET", "thread:bluesky:dm:" + convo});
  }

  std::string status_of(const std::string& id) {
    return redis_.command({"HGET", store::keys::conversation(id), "status"}).str();
  }

  // Waits until a round has read the log past `rev` and saved that: the next round asks from
  // there.
  bool read_past(const std::string& rev) {
    return wait_until([&] { return logs_read_from(pds_, rev) >= 1; }, std::chrono::seconds(15));
  }

  static constexpr const char* ada_did = "did:plc:adalovelacepatron2345abc";

  fake_bluesky_pds pds_;
  redis_server redis_;
  std::string convo_;
  askdesk_daemon daemon_;
  staff_client ann_;
  staff_session sam_;
};

TEST_F(BlueskyDirect, AMessageIsAQueuedDirectConversationAnsweredInItsConvoOnly) {
  // Bluesky's apps shorten a link in the text and keep it whole in a facet (UTF-8 offsets).
  const std::string text = "Can I renew my books by message? As on example.org/renew…";
  const std::string shown = "example.org/renew…";
  const auto at = text.find(shown);
  pds_.patron_sends(convo_, text,
                    R"([{"index":{"byteStart":)" + std::to_string(at) + R"(,"byteEnd":)" +
                        std::to_string(at + shown.size()) +
                        R"(},"features":[{"$type":"app.bsky.richtext.facet#link",)"
                        R"("uri":"https://example.org/renew/online?from=bsky"}]}])");
  const std::string id = conversation_of(convo_);
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(status_of(id), "queued");
  const std::string c = ann_.read(id);
  EXPECT_EQ(json_at(c, "/messages/0/text"),
            "Can I renew my books by message? As on https://example.org/renew/online?from=bsky")
      << c;
  EXPECT_EQ(json_at(c, "/messages/0/sender"), "@ada.test") << c;
  EXPECT_EQ(json_at(c, "/messages/0/sender_name"), "Ada Lovelace") << c;
  EXPECT_EQ(json_at(c, "/messages/0/facts/visibility"), "direct") << c;
  EXPECT_EQ(json_at(c, "/messages/0/facts/did"), ada_did) << c;
  const auto items = daemon_.call(sam_, "GET", "/api/v1/social/items?state=new");
  ASSERT_EQ(items.status, 200) << items.body;
  EXPECT_EQ(json_at(items.body, "/items/0/conversation/id"), "") << items.body;

  ASSERT_EQ(ann_.reply(id, "Yes: send us your card number.").status, 201);
  ASSERT_TRUE(pds_.wait_for_sent(1, std::chrono::seconds(15)));
  const auto sent = pds_.sent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].convo_id, convo_);
  EXPECT_EQ(sent[0].text, "Yes: send us your card number.");
  EXPECT_TRUE(ann_.eventually(id, R"("status":"sent")"));
  EXPECT_TRUE(pds_.requests("com.atproto.repo.createRecord").empty());
  for (const auto& r : pds_.requests()) {
    if (r.nsid.starts_with("chat.bsky.")) {
      EXPECT_EQ(r.proxy, fake_bluesky_pds::chat_proxy) << r.nsid;
      EXPECT_EQ(r.status, 200) << r.nsid << " " << r.body;
    }
  }
}

TEST_F(BlueskyDirect, OnlyThePatronsMessagesAreReadAndEachOnce) {
  pds_.patron_sends(convo_, "Do you have large-print books?");
  const std::string id = conversation_of(convo_);
  ASSERT_FALSE(id.empty());
  // Entries of other kinds, one of them about the patron's message; then the library's own
  // message, which is in the log like any other.
  pds_.add_log(convo_, "logReadMessage");
  ASSERT_EQ(ann_.reply(id, "We do, on the first floor.").status, 201);
  ASSERT_TRUE(pds_.wait_for_sent(1, std::chrono::seconds(15)));
  pds_.add_log(convo_, "logMuteConvo");
  pds_.add_log(convo_, "logUnmuteConvo");
  ASSERT_TRUE(read_past(pds_.latest_rev()));
  pds_.patron_sends(convo_, "Thank you! And audiobooks?");
  EXPECT_TRUE(ann_.eventually(id, "And audiobooks?"));
  ASSERT_TRUE(read_past(pds_.latest_rev()));

  EXPECT_EQ(daemon_.metric(stored_directly), 2) << "the patron's two messages, once each";
  const std::string c = ann_.read(id);
  EXPECT_EQ(json_at(c, "/messages/0/text"), "Do you have large-print books?") << c;
  EXPECT_EQ(json_at(c, "/messages/1/text"), "We do, on the first floor.") << c;
  EXPECT_EQ(json_at(c, "/messages/2/text"), "Thank you! And audiobooks?") << c;
  EXPECT_EQ(json_at(c, "/messages/3/text"), "") << c;
  EXPECT_EQ(redis_.command({"GET", "seq:conversation"}).str(), "1");
  // Each round asked from where the last one ended.
  const auto reads = pds_.requests(get_log);
  for (std::size_t i = 1; i < reads.size(); ++i) {
    EXPECT_GE(reads[i].query, reads[i - 1].query) << "the cursor went back";
  }
}

TEST_F(BlueskyDirect, OneSessionIsRefreshedWhenItExpiresAndMadeAgainWhenRefused) {
  ASSERT_TRUE(pds_.wait_for_requests(get_log, 5, std::chrono::seconds(20)));
  EXPECT_EQ(pds_.logins(), 1u);
  EXPECT_EQ(pds_.requests("com.atproto.server.createSession").size(), 1u);

  pds_.expire_access_tokens();
  ASSERT_TRUE(pds_.wait_for_requests("com.atproto.server.refreshSession", 1));
  pds_.patron_sends(convo_, "Still there after the token expired?");
  EXPECT_FALSE(conversation_of(convo_).empty());
  EXPECT_EQ(pds_.refreshes(), 1u);
  EXPECT_EQ(pds_.logins(), 1u);

  pds_.revoke_refresh_tokens();
  pds_.expire_access_tokens();
  ASSERT_TRUE(wait_until([&] { return pds_.logins() == 2; }, std::chrono::seconds(15)));
  const auto refreshed = pds_.requests("com.atproto.server.refreshSession");
  ASSERT_EQ(refreshed.size(), 2u);
  EXPECT_EQ(refreshed[1].status, 400);
  pds_.patron_sends(convo_, "And after the session was refused?");
  EXPECT_TRUE(ann_.eventually(conversation_of(convo_), "after the session was refused"));
  EXPECT_EQ(pds_.logins(), 2u);
}

class BlueskyDirectRefused : public BlueskyDirect {
 protected:
  BlueskyDirectRefused() : BlueskyDirect(false) {}
};

TEST_F(BlueskyDirectRefused, AnAppPasswordWithoutDirectMessagesIsReportedAndPostsStillCome) {
  ASSERT_TRUE(wait_until(
      [&] {
        return http_request("GET", daemon_.url("/healthz"))
                   .body.find("direct messages are not read") != std::string::npos;
      },
      std::chrono::seconds(15)));
  const auto health = http_request("GET", daemon_.url("/healthz"));
  EXPECT_NE(health.body.find("Bad token method"), std::string::npos) << health.body;
  const std::size_t asked = pds_.requests(get_log).size();
  const std::size_t polled = pds_.requests("app.bsky.notification.listNotifications").size();
  ASSERT_TRUE(pds_.wait_for_requests("app.bsky.notification.listNotifications", polled + 3,
                                     std::chrono::seconds(15)));
  EXPECT_EQ(pds_.requests(get_log).size(), asked) << "the chat service is not asked again";
  EXPECT_EQ(pds_.logins(), 1u);
}

// A message deleted before the library read it is not a message to answer: the log gives a
// chat.bsky.convo.defs#deletedMessageView (no text), which the connector skips.
TEST(BlueskyDirectLog, ADeletedMessageIsNotImported) {
  fake_bluesky_pds pds;
  pds.add_patron({"did:plc:bopatronofthelibrary2345", "bo.test", ""});
  const std::string convo = pds.add_convo("did:plc:bopatronofthelibrary2345");
  pds.delete_message(convo, pds.patron_sends(convo, "My card number is 1234"));
  pds.patron_sends(convo, "Sorry, wrong chat. When do you open?");
  redis_server redis;
  askdesk_daemon daemon(redis, config_for(pds));
  staff_client ann(daemon, "ann", {"reference"});
  const std::string id = redis.wait_for_string({"GET", "thread:bluesky:dm:" + convo});
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(ann.eventually(id, "When do you open?"));
  const std::string c = ann.read(id);
  EXPECT_EQ(json_at(c, "/messages/0/text"), "Sorry, wrong chat. When do you open?") << c;
  EXPECT_EQ(json_at(c, "/messages/1/text"), "") << c;
  EXPECT_EQ(daemon.metric(stored_directly), 1);
}

// A chat error that says nothing about the app password (here a 400 InvalidRequest) skips
// direct messages for one round; they are read again in the next.
TEST_F(BlueskyDirect, AChatErrorNotAboutTheAppPasswordStopsOneRoundOnly) {
  ASSERT_TRUE(pds_.wait_for_requests(get_log, 1));
  pds_.fail_next(get_log, 400, R"({"error":"InvalidRequest","message":"Invalid cursor"})");
  ASSERT_TRUE(pds_.wait_for_requests(get_log, 2));
  pds_.patron_sends(convo_, "Hello, anyone reading?");
  EXPECT_FALSE(conversation_of(convo_).empty());
}

}  // namespace
}  // namespace askdesk::testing
