// The Mastodon connector and the social desk through the real daemon and redis-server, with a
// local server that speaks Mastodon's client API as documented (tests/support/fake_mastodon,
// itself checked with the npm client masto): mentions into triage and replies into their
// thread, direct messages answered directly, threads, idempotent retries, rate limits, the
// library's own posts, watched hashtags, hostile content and malformed answers.
#include <gtest/gtest.h>

#include "daemon/store/keys.hpp"
#include "tests/support/askdesk_daemon.hpp"
#include "tests/support/fake_mastodon.hpp"
#include "tests/support/wait.hpp"

namespace askdesk::testing {
namespace {

std::string config_for(const fake_mastodon& m, const std::string& extra = "") {
  return R"({"teams": [{"id": "reference"}], "connectors": [{"id": "mastodon", "type": "mastodon",
    "instance": ")" +
         m.base() + R"(", "access_token": ")" + m.token() + R"(", "poll_seconds": 1)" + extra +
         "}]}";
}

class Mastodon : public ::testing::Test {
 protected:
  explicit Mastodon(const std::string& extra = R"(, "watch_hashtags": ["ourlibrary"])")
      : daemon_(redis_, config_for(mastodon_, extra)), ann_(daemon_, "ann", {"reference"}) {
    daemon_.add_user("sam", "staff", {"reference"}, "sam-password-1");
    sam_ = daemon_.login("sam", "sam-password-1");
    ada_ = mastodon_.add_account("ada", "Ada Lovelace");
    bo_ = mastodon_.add_remote_account("bo", "other.example", "Bo");
  }

  // A status by `who` mentioning the library.
  std::string mention(const fake_mastodon::account& who, const std::string& html,
                      const std::string& visibility = "public", const std::string& parent = "") {
    fake_mastodon::status_spec s;
    s.account_id = who.id;
    s.content = "<p><span class=\"h-card\"><a href=\"" + mastodon_.base() +
                "/@library\" class=\"u-url mention\">@<span>library</span></a></span> " + html +
                "</p>";
    s.visibility = visibility;
    s.in_reply_to_id = parent;
    s.mentions = {fake_mastodon::library_id};
    return mastodon_.add_status(s);
  }

  std::string conversation_of(const std::string& thread) {
    return redis_.wait_for_string({"GET", "thread:mastodon:" + thread});
  }

  std::string status_of(const std::string& id) {
    return redis_.command({"HGET", store::keys::conversation(id), "status"}).str();
  }

  // Every request answered so far stayed within the server's rate limits.
  void expect_within_limits() {
    for (const auto& r : mastodon_.requests()) {
      EXPECT_GE(r.remaining, 0) << r.method << " " << r.path << "?" << r.query;
      EXPECT_NE(r.status, 429) << r.method << " " << r.path;
    }
  }

  fake_mastodon mastodon_;
  redis_server redis_;
  askdesk_daemon daemon_;
  staff_client ann_;
  staff_session sam_;
  fake_mastodon::account ada_, bo_;
};

TEST_F(Mastodon, AMentionWaitsInTriageAndTheReplyGoesToItsThreadPublicly) {
  const std::string status = mention(ada_, "Is the library open on Sunday?");
  const std::string id = conversation_of(status);
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(status_of(id), "triage");
  const auto items = daemon_.call(sam_, "GET", "/api/v1/social/items?state=new");
  EXPECT_EQ(json_at(items.body, "/items/0/conversation/id"), id) << items.body;
  EXPECT_EQ(json_at(items.body, "/items/0/post/text"), "@library Is the library open on Sunday?");
  EXPECT_EQ(json_at(items.body, "/items/0/post/facts/visibility"), "public");
  EXPECT_EQ(json_at(items.body, "/items/0/conversation/patron/address"),
            "@ada@" + mastodon_.domain());

  ASSERT_EQ(daemon_.call(sam_, "POST", "/api/v1/social/items/" + id + "/reply", "{}").status, 200);
  EXPECT_EQ(status_of(id), "queued");
  ASSERT_EQ(ann_.reply(id, "Yes, from noon to five.").status, 201);
  ASSERT_TRUE(mastodon_.wait_for_posted(1));
  const auto posted = mastodon_.posted()[0];
  EXPECT_EQ(posted.in_reply_to_id, status);
  EXPECT_EQ(posted.visibility, "public");
  EXPECT_EQ(posted.status, "@ada@" + mastodon_.domain() + " Yes, from noon to five.");
  EXPECT_FALSE(posted.idempotency_key.empty());
  EXPECT_TRUE(ann_.eventually(id, R"("status":"sent")"));
  expect_within_limits();
}

TEST_F(Mastodon, ADirectMessageIsQueuedAtOnceAndAnsweredOnlyDirectly) {
  const std::string status = mention(bo_, "A private question about my fines", "direct");
  const std::string id = conversation_of("direct:" + status);
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(status_of(id), "queued");  // never in the public triage list
  ASSERT_EQ(ann_.reply(id, "Your fines are waived.").status, 201);
  ASSERT_TRUE(mastodon_.wait_for_posted(1));
  const auto posted = mastodon_.posted()[0];
  EXPECT_EQ(posted.visibility, "direct");
  EXPECT_EQ(posted.in_reply_to_id, status);
  EXPECT_EQ(posted.status, "@bo@other.example Your fines are waived.");
}

TEST_F(Mastodon, AThreadIsOneConversationAndADirectReplyInItIsAnother) {
  const std::string first = mention(ada_, "Question one");
  const std::string id = conversation_of(first);
  const std::string second = mention(ada_, "And a detail", "public", first);
  const std::string third = mention(ada_, "And another", "public", second);
  ASSERT_TRUE(ann_.eventually(id, "And another"));
  EXPECT_EQ(redis_.command({"HGET", store::keys::conversation(id), "messages"}).str(), "3");
  // The library answers; the patron's answer to that answer continues the same conversation.
  ASSERT_EQ(daemon_.call(sam_, "POST", "/api/v1/social/items/" + id + "/reply", "{}").status, 200);
  ASSERT_EQ(ann_.reply(id, "Here is the answer.").status, 201);
  ASSERT_TRUE(mastodon_.wait_for_posted(1));
  EXPECT_EQ(mastodon_.posted()[0].in_reply_to_id, third);  // the patron's latest
  mention(ada_, "Thank you!", "public", mastodon_.posted()[0].id);
  ASSERT_TRUE(ann_.eventually(id, "Thank you!"));
  // A direct message in the same thread is its own, private conversation.
  const std::string secret = mention(ada_, "Privately: my card number", "direct", third);
  const std::string other = conversation_of("direct:" + secret);
  ASSERT_FALSE(other.empty());
  EXPECT_NE(other, id);
}

TEST_F(Mastodon, ARetriedPostKeepsItsIdempotencyKeySoItIsOneStatus) {
  const std::string id = conversation_of("direct:" + mention(ada_, "Hello?", "direct"));
  mastodon_.fail_next("POST /api/v1/statuses", 503, "<html>Service Unavailable</html>",
                      "text/html");
  ASSERT_EQ(ann_.reply(id, "Hello Ada").status, 201);
  ASSERT_TRUE(mastodon_.wait_for_posted(1, std::chrono::seconds(20)));
  const auto attempts = mastodon_.requests("POST /api/v1/statuses");
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts[0].idempotency_key, attempts[1].idempotency_key);
  EXPECT_EQ(mastodon_.posted().size(), 1u);
  EXPECT_TRUE(ann_.eventually(id, R"("status":"sent")"));
}

TEST_F(Mastodon, ARefusedPostIsPermanentAndShownToStaff) {
  const std::string id = conversation_of("direct:" + mention(ada_, "Hi", "direct"));
  mastodon_.fail_next("POST /api/v1/statuses", 422,
                      R"({"error":"Validation failed: Text character limit of 500 exceeded"})");
  ASSERT_EQ(ann_.reply(id, "Hello").status, 201);
  EXPECT_TRUE(ann_.eventually(id, "Text character limit of 500 exceeded"));
  EXPECT_EQ(mastodon_.requests("POST /api/v1/statuses").size(), 1u);
}

TEST_F(Mastodon, TheInstancesLengthAndMastodonsCountingLimitReplies) {
  const std::string id = conversation_of("direct:" + mention(ada_, "Hi", "direct"));
  const auto channels = daemon_.call(sam_, "GET", "/api/v1/channels");
  // The instance's 500, less room for the "@user " askdesk adds when staff leave it out.
  EXPECT_NE(channels.body.find(R"("unit":"graphemes_short_urls","max":468)"), std::string::npos)
      << channels.body;
  // A long URL counts as 23: 444 letters and a 100-character link fit.
  const std::string fits =
      std::string(444, 'a') + " https://library.example/" + std::string(76, 'p');
  EXPECT_EQ(ann_.reply(id, fits).status, 201);
  EXPECT_EQ(ann_.reply(id, std::string(469, 'a')).status, 400);
}

TEST_F(Mastodon, WatchedHashtagsGoToTriageAndTheLibrarysOwnPostsNever) {
  fake_mastodon::status_spec own;
  own.account_id = fake_mastodon::library_id;
  own.content = "<p>Story time at ten! #<span>ourlibrary</span></p>";
  own.tags = {"ourlibrary"};
  mastodon_.add_status(own);
  fake_mastodon::status_spec talk;
  talk.account_id = bo_.id;
  talk.content = "<p>Loved the talk at #<span>ourlibrary</span> <script>alert(1)</script></p>";
  talk.tags = {"ourlibrary"};
  talk.spoiler_text = "library gushing";
  const std::string watched = mastodon_.add_status(talk);
  const std::string id = conversation_of(watched);
  EXPECT_EQ(status_of(id), "triage");
  const auto c = ann_.read(id);
  EXPECT_EQ(json_at(c, "/messages/0/text"), "Loved the talk at #ourlibrary") << c;
  EXPECT_EQ(json_at(c, "/messages/0/facts/content_warning"), "library gushing") << c;
  EXPECT_EQ(json_at(c, "/messages/0/facts/watched"), "hashtag:ourlibrary") << c;
  ASSERT_TRUE(daemon_.wait_for_metric(
      R"(askdesk_mastodon_statuses_total{connector="mastodon",source="watch",outcome="own"})", 1));
  EXPECT_EQ(redis_.command({"GET", "seq:conversation"}).str(), "1");
}

TEST_F(Mastodon, AbuseSendsTheSendersLaterMentionsStraightToTheAbuseList) {
  const std::string id = conversation_of(mention(bo_, "Something nasty"));
  ASSERT_EQ(daemon_.call(sam_, "POST", "/api/v1/social/items/" + id + "/abuse", "{}").status, 200);
  const std::string later = conversation_of(mention(bo_, "More of it"));
  EXPECT_EQ(status_of(later), "abuse");
  const std::string other = conversation_of(mention(ada_, "A real question"));
  ASSERT_EQ(daemon_.call(sam_, "POST", "/api/v1/social/items/" + other + "/dismiss", "{}").status,
            200);
  const auto dismissed = daemon_.call(sam_, "GET", "/api/v1/social/items?state=dismissed");
  EXPECT_EQ(json_at(dismissed.body, "/items/0/conversation/id"), other);
}

TEST_F(Mastodon, AMalformedAnswerIsAConnectorErrorAndTheCursorStays) {
  mastodon_.fail_next("GET /api/v1/notifications", 200, "<html>not json</html>", "text/html");
  ASSERT_TRUE(daemon_.wait_for_metric(
      R"(askdesk_poll_rounds_total{connector="mastodon",outcome="failed"})", 1));
  const auto health = http_request("GET", daemon_.url("/healthz"));
  EXPECT_NE(health.body.find("not JSON"), std::string::npos) << health.body;
  EXPECT_FALSE(conversation_of(mention(ada_, "Still there?")).empty());
}

class MastodonLimits : public Mastodon {
 protected:
  MastodonLimits() : Mastodon("") {}
};

TEST_F(MastodonLimits, NoRequestPastWhatTheRateLimitHeadersAllow) {
  mastodon_.set_rate_limit("default", 6, std::chrono::seconds(3));
  const std::string first = mention(ada_, "One");
  EXPECT_FALSE(conversation_of(first).empty());
  ASSERT_TRUE(
      mastodon_.wait_for_requests("GET /api/v1/notifications", 8, std::chrono::seconds(30)));
  EXPECT_FALSE(conversation_of(mention(ada_, "Two")).empty());
  expect_within_limits();
}

}  // namespace
}  // namespace askdesk::testing

namespace askdesk::testing {
namespace {

class MastodonKeywords : public Mastodon {
 protected:
  MastodonKeywords() : Mastodon(R"(, "watch_keywords": ["Riverside Library"])") {}
};

// A token without read:search: the keyword watch is reported and skipped, mentions still come.
TEST_F(MastodonKeywords, ARefusedWatchNeverHoldsUpMentions) {
  mastodon_.fail_next("GET /api/v2/search", 403,
                      R"({"error":"This action is outside the authorized scopes"})");
  EXPECT_FALSE(conversation_of(mention(ada_, "Are you there?")).empty());
  ASSERT_TRUE(mastodon_.wait_for_requests("GET /api/v2/search", 1));
  const auto health = http_request("GET", daemon_.url("/healthz"));
  EXPECT_NE(health.body.find("outside the authorized scopes"), std::string::npos) << health.body;
}

TEST(MastodonInstance, TheInstancesLimitBecomesTheChannelsLength) {
  fake_mastodon mastodon;
  mastodon.set_max_characters(1000);
  redis_server redis;
  askdesk_daemon daemon(redis, config_for(mastodon));
  daemon.add_user("sam", "staff", {"reference"}, "sam-password-1");
  const auto sam = daemon.login("sam", "sam-password-1");
  EXPECT_TRUE(wait_until([&] {
    return daemon.call(sam, "GET", "/api/v1/channels").body.find(R"("max":968)") !=
           std::string::npos;
  }));
}

}  // namespace
}  // namespace askdesk::testing
