// The REST API against the real daemon and a real redis-server: logins, CSRF, tokens, team
// permissions, the atomic claim, replies, notes, tags and closing.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "tests/support/askdesk_daemon.hpp"
#include "tests/support/wait.hpp"
#include "tests/support/ws_client.hpp"

namespace askdesk::testing {
namespace {

const char* config = R"({
  "teams": [{"id": "reference", "name": "Reference desk"}, {"id": "circulation"}],
  "auth": {"login_attempts": 3},
  "connectors": [{"id": "webchat", "type": "webchat"}]
})";

class Api : public ::testing::Test {
 protected:
  void SetUp() override {
    daemon_ = std::make_unique<askdesk_daemon>(redis_, config);
    daemon_->add_user("ann", "staff", {"reference"}, "ann-password-1");
    daemon_->add_user("carl", "staff", {"circulation"}, "carl-password-1");
    daemon_->add_user("sue", "supervisor", {}, "sue-password-1");
  }

  // A patron writes through the widget protocol; returns the conversation id.
  std::string patron_writes(const std::string& text, const std::string& team = "reference") {
    patron_ = std::make_unique<ws_client>(daemon_->port(), "/ws/patron", daemon_->origin());
    patron_->send(R"({"type":"hello","team":")" + team + R"(","name":"Ada"})");
    EXPECT_TRUE(patron_->read_until("welcome"));
    patron_->send(R"({"type":"message","text":")" + text + R"(","client_id":"m1"})");
    EXPECT_TRUE(patron_->read_until("\"ack\""));
    EXPECT_TRUE(patron_->read_until("\"direction\":\"in\""));
    // The conversation is there once the hub applied the message.
    for (int i = 0; i < 100; ++i) {
      auto list = daemon_->call(sue(), "GET", "/api/v1/conversations?team=" + team);
      const std::string id = json_at(list.body, "/items/0/id");
      if (!id.empty()) return id;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return "";
  }

  const staff_session& sue() {
    if (sue_.cookie.empty()) sue_ = daemon_->login("sue", "sue-password-1");
    return sue_;
  }

  redis_server redis_;
  std::unique_ptr<askdesk_daemon> daemon_;
  std::unique_ptr<ws_client> patron_;
  staff_session sue_;
};

TEST_F(Api, LoginSetsAStrictHttpOnlyCookieAndMeAnswersWithTheUser) {
  const auto r = http_request("POST", daemon_->url("/api/v1/login"),
                              R"({"username":"ann","password":"ann-password-1"})");
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string cookie = r.header("set-cookie");
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos);
  EXPECT_EQ(cookie.find("Secure"), std::string::npos);  // plain HTTP, no trusted proxy
  const auto s = daemon_->login("ann", "ann-password-1");
  const auto me = daemon_->call(s, "GET", "/api/v1/me");
  EXPECT_EQ(me.status, 200);
  EXPECT_NE(me.body.find(R"("teams":["reference"])"), std::string::npos);
}

TEST_F(Api, AWrongPasswordAndAnUnknownUserGetTheSame401) {
  const auto wrong = http_request("POST", daemon_->url("/api/v1/login"),
                                  R"({"username":"ann","password":"not-it-at-all"})");
  const auto unknown = http_request("POST", daemon_->url("/api/v1/login"),
                                    R"({"username":"nobody","password":"not-it-at-all"})");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(wrong.body, unknown.body);
  EXPECT_NE(wrong.body.find(R"("code":"invalid_login")"), std::string::npos);
}

TEST_F(Api, RepeatedFailedLoginsSlowDownWith429AndRetryAfter) {
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(http_request("POST", daemon_->url("/api/v1/login"),
                           R"({"username":"ann","password":"guess-number-x"})")
                  .status,
              401);
  }
  const auto r = http_request("POST", daemon_->url("/api/v1/login"),
                              R"({"username":"ann","password":"ann-password-1"})");
  EXPECT_EQ(r.status, 429);
  EXPECT_FALSE(r.header("retry-after").empty());
}

TEST_F(Api, RequestsWithoutASessionAre401AndPostsWithoutCsrfAre403) {
  EXPECT_EQ(http_request("GET", daemon_->url("/api/v1/conversations")).status, 401);
  const std::string id = patron_writes("Hello");
  const auto s = daemon_->login("ann", "ann-password-1");
  const auto no_csrf = http_request("POST", daemon_->url("/api/v1/conversations/" + id + "/claim"),
                                    "", {"Cookie: " + s.cookie});
  EXPECT_EQ(no_csrf.status, 403);
  EXPECT_NE(no_csrf.body.find(R"("code":"csrf")"), std::string::npos);
  EXPECT_EQ(daemon_->call(s, "POST", "/api/v1/conversations/" + id + "/claim").status, 200);
}

TEST_F(Api, LogoutEndsTheSession) {
  const auto s = daemon_->login("ann", "ann-password-1");
  EXPECT_EQ(daemon_->call(s, "POST", "/api/v1/logout").status, 204);
  EXPECT_EQ(daemon_->call(s, "GET", "/api/v1/me").status, 401);
}

TEST_F(Api, AnApiTokenActsAsItsUserUntilTheUserIsDisabled) {
  const auto [code, output] = daemon_->run_cli({"token", "create", "--user", "ann"});
  ASSERT_EQ(code, 0) << output;
  const std::string token = output.substr(0, output.find('\n'));
  EXPECT_EQ(token.size(), 43u);
  const auto me =
      http_request("GET", daemon_->url("/api/v1/me"), "", {"Authorization: Bearer " + token});
  EXPECT_EQ(me.status, 200);
  EXPECT_NE(me.body.find(R"("name":"ann")"), std::string::npos);
  ASSERT_EQ(daemon_->run_cli({"user", "disable", "ann"}).first, 0);
  EXPECT_EQ(http_request("GET", daemon_->url("/api/v1/me"), "", {"Authorization: Bearer " + token})
                .status,
            401);
}

TEST_F(Api, StaffActOnlyOnTheirTeamsSupervisorsOnAll) {
  const std::string id = patron_writes("Where is my hold?", "reference");
  const auto carl = daemon_->login("carl", "carl-password-1");
  EXPECT_EQ(daemon_->call(carl, "GET", "/api/v1/conversations/" + id).status, 403);
  EXPECT_EQ(daemon_->call(carl, "POST", "/api/v1/conversations/" + id + "/claim").status, 403);
  EXPECT_EQ(daemon_->call(carl, "GET", "/api/v1/conversations").body.find("\"id\""),
            std::string::npos);
  EXPECT_EQ(daemon_->call(sue(), "GET", "/api/v1/conversations/" + id).status, 200);
}

TEST_F(Api, TwoClaimsAtOnceGiveOneOwner) {
  daemon_->add_user("bob", "staff", {"reference"}, "bob-password-1");
  const std::string id = patron_writes("Help with a database");
  const auto ann = daemon_->login("ann", "ann-password-1");
  const auto bob = daemon_->login("bob", "bob-password-1");
  std::atomic<int> won{0}, lost{0};
  std::vector<std::thread> clicks;
  for (int i = 0; i < 8; ++i) {
    clicks.emplace_back([&, i] {
      const auto r =
          daemon_->call(i % 2 ? ann : bob, "POST", "/api/v1/conversations/" + id + "/claim");
      (r.status == 200 ? won : lost)++;
    });
  }
  for (auto& t : clicks) t.join();
  // The winner may claim again (already theirs), so count owners rather than answers.
  const auto c = daemon_->call(sue(), "GET", "/api/v1/conversations/" + id);
  const std::string owner = json_at(c.body, "/assignee");
  EXPECT_TRUE(owner == "ann" || owner == "bob");
  EXPECT_EQ(won + lost, 8);
  EXPECT_EQ(lost, 4);  // every click of the other person got 409
}

TEST_F(Api, AReplyGoesOutOnThePatronsChannelAndNotesNeverDo) {
  const std::string id = patron_writes("Can I renew my books online?");
  const auto ann = daemon_->login("ann", "ann-password-1");
  const auto note = daemon_->call(ann, "POST", "/api/v1/conversations/" + id + "/notes",
                                  R"({"text":"secret internal note"})");
  EXPECT_EQ(note.status, 201) << note.body;
  const auto reply = daemon_->call(ann, "POST", "/api/v1/conversations/" + id + "/messages",
                                   R"({"text":"Yes, from your account page."})");
  ASSERT_EQ(reply.status, 201) << reply.body;
  const auto frame = patron_->read_until("from your account page");
  ASSERT_TRUE(frame);
  EXPECT_NE(frame->find(R"("direction":"out")"), std::string::npos);
  EXPECT_NE(frame->find(R"("author":"ann")"),
            std::string::npos);  // display name defaults to the login
  // The reply claimed the waiting conversation, and its status becomes sent.
  std::string body;
  for (int i = 0; i < 100; ++i) {
    body = daemon_->call(ann, "GET", "/api/v1/conversations/" + id).body;
    if (body.find(R"("status":"sent")") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_NE(body.find(R"("status":"sent")"), std::string::npos) << body;
  EXPECT_NE(body.find(R"("assignee":"ann")"), std::string::npos);
  EXPECT_NE(body.find(R"("direction":"note")"), std::string::npos);
  // A reconnecting widget gets the transcript without the note.
  ws_client again(daemon_->port(), "/ws/patron", daemon_->origin());
  again.send(R"({"type":"hello","team":"reference"})");
  const auto welcome = again.read_until("welcome");
  ASSERT_TRUE(welcome);
  EXPECT_EQ(welcome->find("secret internal note"), std::string::npos);
}

TEST_F(Api, ClosingEndsTheChatInTheWidgetAndTheNextMessageStartsANewConversation) {
  const std::string id = patron_writes("One question");
  const auto ann = daemon_->login("ann", "ann-password-1");
  ASSERT_EQ(daemon_->call(ann, "POST", "/api/v1/conversations/" + id + "/close").status, 200);
  const auto closed = patron_->read_until(R"("type":"conversation")");
  ASSERT_TRUE(closed);
  EXPECT_NE(closed->find(R"("status":"closed")"), std::string::npos);
  EXPECT_EQ(
      daemon_
          ->call(ann, "POST", "/api/v1/conversations/" + id + "/messages", R"({"text":"too late"})")
          .status,
      409);
  patron_->send(R"({"type":"message","text":"Another question","client_id":"m2"})");
  ASSERT_TRUE(patron_->read_until("Another question"));
  const auto queued = daemon_->call(ann, "GET", "/api/v1/conversations?status=queued");
  const std::string next = json_at(queued.body, "/items/0/id");
  EXPECT_FALSE(next.empty());
  EXPECT_NE(next, id);
}

TEST_F(Api, TagsAreCheckedAddedAndRemoved) {
  const std::string id = patron_writes("Tag me");
  const auto ann = daemon_->login("ann", "ann-password-1");
  const std::string path = "/api/v1/conversations/" + id + "/tags";
  EXPECT_EQ(daemon_->call(ann, "POST", path, R"({"add":["no spaces allowed"]})").status, 400);
  auto r = daemon_->call(ann, "POST", path, R"({"add":["renewals","urgent"]})");
  EXPECT_NE(r.body.find(R"("tags":["renewals","urgent"])"), std::string::npos) << r.body;
  r = daemon_->call(ann, "POST", path, R"({"remove":["urgent"]})");
  EXPECT_NE(r.body.find(R"("tags":["renewals"])"), std::string::npos) << r.body;
}

TEST_F(Api, BadInputGetsAClearJsonError) {
  const auto ann = daemon_->login("ann", "ann-password-1");
  auto r = daemon_->call(ann, "POST", "/api/v1/conversations/1/messages", "{not json");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find(R"({"error":{"code":"invalid_json")"), std::string::npos) << r.body;
  r = daemon_->call(ann, "GET", "/api/v1/conversations/999");
  EXPECT_EQ(r.status, 404);
  r = daemon_->call(ann, "GET", "/api/v1/conversations/abc");
  EXPECT_EQ(r.status, 404);
  r = daemon_->call(ann, "GET", "/api/v1/conversations?limit=1000");
  EXPECT_EQ(r.status, 400);
}

TEST_F(Api, ThePatronRecordShowsConversationsOnEveryChannel) {
  const std::string id = patron_writes("First");
  const auto c = daemon_->call(sue(), "GET", "/api/v1/conversations/" + id);
  const std::string patron = json_at(c.body, "/patron/id");
  const auto p = daemon_->call(sue(), "GET", "/api/v1/patrons/" + patron);
  EXPECT_EQ(p.status, 200);
  EXPECT_NE(p.body.find(R"("channel":"webchat")"), std::string::npos);
  EXPECT_NE(p.body.find(R"("name":"Ada")"), std::string::npos);
}

TEST_F(Api, ClosingAsksTheWidgetPatronForARatingWhichTheirAnswerGives) {
  const std::string id = patron_writes("Can I renew online?");
  ASSERT_FALSE(id.empty());
  const std::string path = "/api/v1/conversations/" + id;
  ASSERT_EQ(daemon_->call(sue(), "POST", path + "/messages", R"({"text":"Yes."})").status, 201);
  const auto closed = daemon_->call(sue(), "POST", path + "/close");
  ASSERT_EQ(closed.status, 200) << closed.body;
  const auto asked = patron_->read_until("asks_rating");
  ASSERT_TRUE(asked) << daemon_->call(sue(), "GET", path).body;
  EXPECT_NE(asked->find("How satisfied"), std::string::npos) << *asked;
  patron_->send(R"({"type":"message","text":"5 - thank you","client_id":"m2"})");
  ASSERT_TRUE(wait_until([&] {
    return daemon_->call(sue(), "GET", path).body.find(R"("csat":{"score":5)") != std::string::npos;
  })) << daemon_->call(sue(), "GET", path).body;
}

}  // namespace
}  // namespace askdesk::testing

namespace askdesk::testing {
namespace {

// The supervisor's live view: each team's queue against its wait alert, its staff with their
// presence and load; staff.updated on the staff socket when someone's state changes.
TEST_F(Api, TheLiveDeskShowsEachTeamsQueueAndStaffToSupervisorsOnly) {
  const std::string id = patron_writes("Where is my hold?", "reference");
  auto desk = daemon_->call(sue(), "GET", "/api/v1/desk");
  ASSERT_EQ(desk.status, 200) << desk.body;
  EXPECT_EQ(json_value_at(desk.body, "/teams/0/id"), "reference");
  EXPECT_EQ(json_value_at(desk.body, "/teams/0/waiting"), "1");
  EXPECT_EQ(json_value_at(desk.body, "/teams/0/wait_alert_seconds"), "300");
  EXPECT_EQ(json_value_at(desk.body, "/teams/0/over_alert"), "0");
  EXPECT_NE(json_value_at(desk.body, "/teams/0/longest_wait_seconds"), "null");
  EXPECT_EQ(json_value_at(desk.body, "/teams/1/longest_wait_seconds"), "null");
  // Ann in reference, Carl in circulation, Sue (no team) in neither.
  EXPECT_EQ(json_value_at(desk.body, "/teams/0/staff/0/name"), "ann");
  EXPECT_EQ(json_value_at(desk.body, "/teams/0/staff/0/presence"), "offline");
  EXPECT_EQ(json_value_at(desk.body, "/teams/0/staff/1/name"), "");
  EXPECT_EQ(json_value_at(desk.body, "/teams/1/staff/0/name"), "carl");

  const auto ann = daemon_->login("ann", "ann-password-1");
  EXPECT_EQ(daemon_->call(ann, "GET", "/api/v1/desk").status, 403);
  ws_client watcher(daemon_->port(), "/ws/staff", daemon_->origin(), sue().cookie);
  ASSERT_TRUE(watcher.read_until("hello"));
  {
    ws_client dashboard(daemon_->port(), "/ws/staff", daemon_->origin(), ann.cookie);
    ASSERT_TRUE(dashboard.read_until("hello"));
    EXPECT_TRUE(watcher.read_until(R"("event":"staff.updated")"));
    ASSERT_EQ(daemon_->call(ann, "POST", "/api/v1/conversations/" + id + "/claim").status, 200);
    ASSERT_EQ(daemon_->call(ann, "POST", "/api/v1/me/presence", R"({"presence":"away"})").status,
              200);
    EXPECT_TRUE(watcher.read_until(R"("presence":"away")"));
    desk = daemon_->call(sue(), "GET", "/api/v1/desk");
    EXPECT_EQ(json_value_at(desk.body, "/teams/0/waiting"), "0");
    EXPECT_EQ(json_value_at(desk.body, "/teams/0/staff/0/presence"), "away");
    EXPECT_EQ(json_value_at(desk.body, "/teams/0/staff/0/dashboards"), "1");
    EXPECT_EQ(json_value_at(desk.body, "/teams/0/staff/0/open"), "1");
    EXPECT_EQ(json_value_at(desk.body, "/teams/0/staff/0/capacity"), "3");
  }
  // Her last dashboard closed: the supervisors hear of it.
  EXPECT_TRUE(watcher.read_until(R"("dashboards":0)"));
}

}  // namespace
}  // namespace askdesk::testing
