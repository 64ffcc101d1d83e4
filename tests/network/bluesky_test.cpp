// The Bluesky connector against a real local AT Protocol network (a PDS, PLC and the bsky
// AppView from npm @atproto/dev-env, tests/support/atproto_network.hpp): a mention posted with a
// facet reaches the social desk, and the staff reply shows in the thread under it as the real
// AppView serves it, with the patron mentioned; threads are one conversation; the session is
// kept across polls and restarts; a reply whose earlier attempt landed is not posted twice;
// watched keywords; kill -9 with mentions pending loses and doubles none; and an erased
// patron leaves no trace in Redis. The network is
// heavy, so this binary shares one (ctest runs the binary as a single test).
#include <gtest/gtest.h>

#include <csignal>
#include <iostream>
#include <thread>

#include "daemon/json/document.hpp"
#include "daemon/store/keys.hpp"
#include "tests/support/askdesk_daemon.hpp"
#include "tests/support/atproto_network.hpp"
#include "tests/support/markers.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"

namespace askdesk::testing {
namespace {

using std::chrono::seconds;

std::string config_for(const atproto_network& net, const atproto_account& library,
                       const std::string& extra = "") {
  return R"({"teams": [{"id": "reference"}], "connectors": [{"id": "bluesky", "type": "bluesky",
    "service": ")" +
         net.pds() + R"(", "identifier": ")" + library.handle + R"(", "app_password": ")" +
         library.app_password + R"(", "poll_seconds": 1, "direct_messages": false)" + extra + "}]}";
}

const rapidjson::Value* member(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject()) return nullptr;
  const auto it = v.FindMember(key);
  return it == v.MemberEnd() ? nullptr : &it->value;
}

// The replies under the post of a getPostThread answer, as (author did, record) pairs.
struct seen_reply {
  std::string uri, did, text, facets;
};
std::vector<seen_reply> replies_in(const std::string& thread) {
  std::vector<seen_reply> out;
  auto doc = json::document::parse(thread);
  if (!doc) return out;
  const auto* t = member(doc->root(), "thread");
  const auto* replies = t ? member(*t, "replies") : nullptr;
  if (!replies || !replies->IsArray()) return out;
  for (const auto& r : replies->GetArray()) {
    const auto* post = member(r, "post");
    const auto* record = post ? member(*post, "record") : nullptr;
    const auto* author = post ? member(*post, "author") : nullptr;
    if (!record || !author) continue;
    std::string facets;
    if (const auto* f = member(*record, "facets"); f && f->IsArray() && !f->Empty()) {
      const auto* features = member((*f)[0], "features");
      if (features && features->IsArray() && !features->Empty()) {
        facets = std::string(json::string_member((*features)[0], "did"));
      }
    }
    out.push_back({std::string(json::string_member(*post, "uri")),
                   std::string(json::string_member(*author, "did")),
                   std::string(json::string_member(*record, "text")), facets});
  }
  return out;
}

// On a failure, what the daemon said: its /healthz and the end of its log (declared after the
// daemon, so it speaks before the daemon stops).
class on_failure_show {
 public:
  explicit on_failure_show(askdesk_daemon& daemon) : daemon_(daemon) {}
  ~on_failure_show() {
    if (!::testing::Test::HasFailure()) return;
    const std::string log = daemon_.process().log();
    std::cerr << "--- the daemon's /healthz: " << http_request("GET", daemon_.url("/healthz")).body
              << "\n--- its log (end):\n"
              << (log.size() > 6000 ? log.substr(log.size() - 6000) : log) << "\n";
  }

 private:
  askdesk_daemon& daemon_;
};

class Bluesky : public ::testing::Test {
 protected:
  Bluesky()
      : net_(shared_atproto_network()),
        library_(net_.account(unique_atproto_handle("library"), "Riverside Library")),
        ada_(net_.account(unique_atproto_handle("ada"), "Ada")) {}

  void TearDown() override {
    if (HasFailure()) {
      const std::string log = net_.log();
      std::cerr << "--- the AT Protocol network's log (end):\n"
                << (log.size() > 8000 ? log.substr(log.size() - 8000) : log) << "\n";
    }
  }

  // The replies under `uri` as the AppView shows them, once there are `n`.
  std::vector<seen_reply> replies_once(const std::string& uri, std::size_t n) {
    std::vector<seen_reply> seen;
    wait_until(
        [&] {
          try {
            seen = replies_in(net_.thread(uri));
          } catch (const std::runtime_error&) {
            return false;  // not indexed yet
          }
          return seen.size() >= n;
        },
        seconds(30));
    return seen;
  }

  atproto_network& net_;
  atproto_account library_, ada_;
};

TEST_F(Bluesky, AMentionReachesTheDeskAndTheReplyShowsInItsThreadWithThePatronMentioned) {
  redis_server redis;
  askdesk_daemon daemon(redis, config_for(net_, library_));
  const on_failure_show show_daemon(daemon);
  staff_client ann(daemon, "ann", {"reference"});
  const auto question =
      net_.post(ada_.handle, "When do you open, @" + library_.handle + "? 📚", {library_.handle});
  const std::string id =
      redis.wait_for_string({"GET", "thread:bluesky:" + question.uri}, std::chrono::seconds(30));
  ASSERT_FALSE(id.empty()) << http_request("GET", daemon.url("/healthz")).body << "\n"
                           << daemon.process().log().substr(0, 8000);
  EXPECT_EQ(redis.command({"HGET", store::keys::conversation(id), "status"}).str(), "triage");
  const auto c = ann.read(id);
  EXPECT_EQ(json_at(c, "/messages/0/text"), "When do you open, @" + library_.handle + "? 📚") << c;
  EXPECT_EQ(json_at(c, "/messages/0/facts/did"), ada_.did) << c;
  EXPECT_EQ(json_at(c, "/messages/0/facts/cid"), question.cid) << c;

  daemon.add_user("sam", "staff", {"reference"}, "sam-password-1");
  const auto sam = daemon.login("sam", "sam-password-1");
  ASSERT_EQ(daemon.call(sam, "POST", "/api/v1/social/items/" + id + "/reply", "{}").status, 200);
  ASSERT_EQ(ann.reply(id, "We open at nine.").status, 201);
  EXPECT_TRUE(ann.eventually(id, R"("status":"sent")"));
  const auto seen = replies_once(question.uri, 1);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].did, library_.did);
  EXPECT_EQ(seen[0].text, "@" + ada_.handle + " We open at nine.");
  EXPECT_EQ(seen[0].facets, ada_.did);  // the mention facet points at the patron

  // Her answer to the library's reply (a notification of reason "reply", no mention)
  // continues the conversation.
  const auto thanks = net_.post(ada_.handle, "Thank you!", {}, seen[0].uri);
  net_.process();
  EXPECT_TRUE(wait_until(
      [&] {
        const auto where = redis.command({"GET", "thread:bluesky:" + thanks.uri});
        return where.is_string() && where.str() == id;
      },
      seconds(30)))
      << net_.notifications(library_.handle);
}

TEST_F(Bluesky, ReplyingKeepsItsRecordKeySoAnAttemptThatLandedIsNotPostedAgain) {
  redis_server redis;
  askdesk_daemon daemon(redis, config_for(net_, library_, R"(, "triage": false)"));
  const on_failure_show show_daemon(daemon);
  staff_client ann(daemon, "ann", {"reference"});
  const auto question =
      net_.post(ada_.handle, "@" + library_.handle + " is there wifi?", {library_.handle});
  const std::string id =
      redis.wait_for_string({"GET", "thread:bluesky:" + question.uri}, std::chrono::seconds(30));
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(redis.command({"HGET", store::keys::conversation(id), "status"}).str(), "queued");
  // An earlier attempt of the next reply landed under its key, and its answer was lost: the
  // library's reply is already on the PDS and its key is in Redis.
  const std::string next =
      std::to_string(std::stoll(redis.command({"GET", "seq:message"}).str()) + 1);
  const std::string rkey = "3lbq2ebp6ik2a";
  atproto_post landed;
  landed.as = library_.handle;
  landed.text = "@" + ada_.handle + " Yes, the network is Library-Guest.";
  landed.mentions = {ada_.handle};
  landed.reply_to = question.uri;
  landed.rkey = rkey;
  net_.post(landed);
  redis.command({"HSET", "bluesky:bluesky:rkey:" + next, "rkey", rkey});
  ASSERT_EQ(ann.reply(id, "Yes, the network is Library-Guest.").status, 201);
  EXPECT_TRUE(ann.eventually(id, R"("status":"sent")"));
  net_.process();
  const auto seen = replies_once(question.uri, 1);
  EXPECT_EQ(seen.size(), 1u);  // not twice
}

TEST_F(Bluesky, AThreadIsOneConversationAndTheSessionIsKeptAcrossPollsAndRestarts) {
  redis_server redis;
  const int port = free_port();
  const auto first = net_.post(ada_.handle, "@" + library_.handle + " one", {library_.handle});
  std::string id;
  {
    askdesk_daemon daemon(redis, config_for(net_, library_), {}, port);
    const on_failure_show show_daemon(daemon);
    id = redis.wait_for_string({"GET", "thread:bluesky:" + first.uri}, std::chrono::seconds(30));
    ASSERT_FALSE(id.empty());
    net_.post(ada_.handle, "@" + library_.handle + " two", {library_.handle}, first.uri);
    ASSERT_TRUE(wait_until(
        [&] {
          return redis.command({"HGET", store::keys::conversation(id), "messages"}).str() == "2";
        },
        seconds(30)));
    ASSERT_TRUE(daemon.wait_for_metric(
        R"(askdesk_poll_rounds_total{connector="bluesky",outcome="ok"})", 4, seconds(30)));
    EXPECT_EQ(daemon.metric(R"(askdesk_bluesky_logins_total{connector="bluesky"})"), 1);
  }
  askdesk_daemon again(redis, config_for(net_, library_), {}, port);
  const on_failure_show show_again(again);
  net_.post(ada_.handle, "@" + library_.handle + " three", {library_.handle}, first.uri);
  ASSERT_TRUE(wait_until(
      [&] {
        return redis.command({"HGET", store::keys::conversation(id), "messages"}).str() == "3";
      },
      seconds(30)));
  EXPECT_EQ(again.metric(R"(askdesk_bluesky_logins_total{connector="bluesky"})"), 0);
}

TEST_F(Bluesky, WatchedKeywordsGoToTriageAndTheLibrarysOwnPostsNever) {
  redis_server redis;
  const std::string keyword = "Riverside" + library_.handle.substr(0, library_.handle.find('.'));
  askdesk_daemon daemon(redis,
                        config_for(net_, library_, R"(, "watch_keywords": [")" + keyword + "\"]"));
  const on_failure_show show_daemon(daemon);
  net_.post(library_.handle, "Story time at " + keyword + " today");
  const auto talk = net_.post(ada_.handle, "I love " + keyword + " so much");
  net_.process();
  const std::string id =
      redis.wait_for_string({"GET", "thread:bluesky:" + talk.uri}, std::chrono::seconds(30));
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(redis.command({"HGET", store::keys::conversation(id), "status"}).str(), "triage");
  ASSERT_TRUE(daemon.wait_for_metric(
      R"(askdesk_bluesky_posts_total{connector="bluesky",source="watch",outcome="own"})", 1,
      seconds(30)));
  EXPECT_EQ(redis.command({"GET", "seq:conversation"}).str(), "1");
}

TEST_F(Bluesky, KillNineWhileMentionsArePendingLosesAndDoublesNothing) {
  constexpr int mentions = 120;
  redis_server redis;
  const int port = free_port();
  const std::string config = config_for(net_, library_, R"(, "triage": false)");
  std::int64_t at_kill = 0;
  const auto created = [&] { return redis.messages_stored(); };
  {
    // The first start reads the newest page only: one mention sets the mark.
    net_.post(ada_.handle, "@" + library_.handle + " first", {library_.handle});
    askdesk_daemon first(redis, config, {}, port);
    const on_failure_show show_first(first);
    ASSERT_TRUE(wait_until([&] { return created() == 1; }, seconds(30)));
    first.process().signal(SIGSTOP);  // while the mentions are written
    for (int i = 0; i < mentions - 1; ++i) {
      net_.post(ada_.handle, "@" + library_.handle + " question " + std::to_string(i),
                {library_.handle});
    }
    net_.process();
    first.process().signal(SIGCONT);
    // Killed while the batch is being made durable, before its mark is saved.
    const auto deadline = std::chrono::steady_clock::now() + seconds(60);
    while (redis.entries_added("inbound") < 40 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    first.process().signal(SIGKILL);
    ASSERT_TRUE(first.process().wait(seconds(10)));
    at_kill = created();
  }
  askdesk_daemon second(redis, config, {}, port);
  const on_failure_show show_second(second);
  EXPECT_TRUE(wait_until(
      [&] {
        return created() >= mentions && redis.command({"XLEN", "inbound"}).integer() == 0;
      },
      seconds(120)));
  EXPECT_EQ(created(), mentions);  // a second copy would have counted too
  EXPECT_EQ(redis.command({"ZCARD", "conversations"}).integer(), mentions);
  std::printf("# crash: %lld of %d stored before SIGKILL, all stored once after (%g read again)\n",
              static_cast<long long>(at_kill), mentions,
              second.metric(R"(askdesk_messages_duplicate_total{channel="bluesky"})"));
}

// A Bluesky patron erased on request (their mention taken from triage, answered and closed)
// leaves no trace of their handle or words in Redis or its files. The post addresses the
// connector remembers for two minutes name accounts by DID, not handle (docs/privacy.md).
TEST_F(Bluesky, AnErasedPatronLeavesNoMarkerInRedisOrItsFiles) {
  const auto patron = net_.account(unique_atproto_handle("qxmarkb"), "Qxmarkb Reader");
  redis_server redis;
  redis.command({"CONFIG", "SET", "rdbcompression", "no"});
  askdesk_daemon daemon(redis, config_for(net_, library_));
  const on_failure_show show_daemon(daemon);
  const auto question =
      net_.post(patron.handle, "@" + library_.handle + " qxmarkb: is the makerspace open?",
                {library_.handle});
  const std::string id =
      redis.wait_for_string({"GET", "thread:bluesky:" + question.uri}, seconds(30));
  ASSERT_FALSE(id.empty());
  daemon.add_user("sue", "supervisor", {}, "sue-password-1");
  const auto sue = daemon.login("sue", "sue-password-1");
  const std::string path = "/api/v1/conversations/" + id;
  ASSERT_EQ(daemon.call(sue, "POST", "/api/v1/social/items/" + id + "/reply", "{}").status, 200);
  ASSERT_EQ(daemon.call(sue, "POST", path + "/messages", R"({"text":"Yes, until six."})").status,
            201);
  ASSERT_TRUE(wait_until(
      [&] {
        return daemon.call(sue, "GET", path).body.find(R"("status":"sent")") != std::string::npos;
      },
      seconds(30)));
  ASSERT_EQ(daemon.call(sue, "POST", path + "/close").status, 200);
  expect_erased_without_trace(daemon, sue, id, redis, "qxmarkb");
}

}  // namespace
}  // namespace askdesk::testing
