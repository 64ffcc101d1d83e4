// Routing through the real daemon and redis-server: two librarians with the dashboard open,
// conversations arriving through the replay webhook, offers over /ws/staff, accept, decline,
// timeouts, presence and returning patrons.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <thread>

#include "tests/support/askdesk_daemon.hpp"
#include "tests/support/wait.hpp"
#include "tests/support/ws_client.hpp"

namespace askdesk::testing {
namespace {

const char* config = R"({
  "teams": [{"id": "reference", "mode": "least-busy", "capacity": 2, "offer_timeout_seconds": 5},
            {"id": "circulation"}],
  "connectors": [{"id": "import", "type": "replay", "token": "routing-token-0123456789"}]
})";

class Routing : public ::testing::Test {
 protected:
  explicit Routing(const char* with = config) : daemon_(redis_, with) {
    for (const char* name : {"ann", "bo"}) {
      daemon_.add_user(name, "staff", {"reference"}, std::string(name) + "-password-12");
      sessions_[name] = daemon_.login(name, std::string(name) + "-password-12");
    }
  }

  // The librarian opens the dashboard: its socket makes them available.
  ws_client& dashboard(const std::string& name) {
    auto& feed = feeds_[name];
    feed = std::make_unique<ws_client>(daemon_.port(), "/ws/staff", daemon_.origin(),
                                       sessions_[name].cookie);
    EXPECT_TRUE(feed->read_until(R"("type":"hello")"));
    return *feed;
  }

  void patron_writes(const std::string& from, const std::string& id, const std::string& text) {
    const auto r =
        http_request("POST", daemon_.url("/webhooks/replay/import"),
                     R"({"id":")" + id + R"(","from":")" + from + R"(","text":")" + text + R"("})",
                     {"Authorization: Bearer routing-token-0123456789"});
    ASSERT_EQ(r.status, 200) << r.body;
  }

  // The id of the next conversation offered to `name`, or "" within `wait`.
  std::string next_offer(const std::string& name,
                         std::chrono::milliseconds wait = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < deadline) {
      const auto frame = feeds_[name]->read(std::chrono::milliseconds(200));
      if (!frame || frame->find(R"("event":"offer.created")") == std::string::npos) continue;
      if (frame->find("\"" + name + "\"") == std::string::npos) continue;  // not to them
      return json_string(*frame, "conversation");
    }
    return "";
  }

  // Waits until a routing pass that read its snapshot after this call has carried out what it
  // decided. Passes run one at a time and count after reading: once the counter is three past
  // its value now, the second of those passes began after now, and the third only after the
  // second had applied its offers.
  bool routing_caught_up() {
    const std::string passes = "askdesk_routing_passes_total";
    return daemon_.wait_for_metric(passes, daemon_.metric(passes) + 3);
  }

  http_result act(const std::string& name, const std::string& id, const std::string& verb) {
    return daemon_.call(sessions_[name], "POST", "/api/v1/conversations/" + id + "/" + verb);
  }

  redis_server redis_;
  askdesk_daemon daemon_;
  std::map<std::string, staff_session> sessions_;
  std::map<std::string, std::unique_ptr<ws_client>> feeds_;
};

TEST_F(Routing, FiftyConversationsAreSharedByLoadAndNobodyExceedsCapacity) {
  dashboard("ann");
  dashboard("bo");
  for (int i = 0; i < 50; ++i) {
    patron_writes("p" + std::to_string(i) + "@example.org", "m" + std::to_string(i), "question");
  }
  std::map<std::string, int> handled;
  std::map<std::string, std::vector<std::string>> holding;
  std::int64_t most_held = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  while (handled["ann"] + handled["bo"] < 50 && std::chrono::steady_clock::now() < deadline) {
    for (const std::string name : {"ann", "bo"}) {
      const std::string id = next_offer(name, std::chrono::milliseconds(300));
      if (id.empty()) continue;
      ASSERT_EQ(act(name, id, "accept").status, 200);
      most_held = std::max(most_held, redis_.command({"SCARD", "assigned:" + name}).integer());
      ++handled[name];
      // Each keeps two chats going, closing the older one once a second arrives.
      holding[name].push_back(id);
      if (holding[name].size() == 2) {
        ASSERT_EQ(act(name, holding[name].front(), "close").status, 200);
        holding[name].erase(holding[name].begin());
      }
    }
  }
  EXPECT_EQ(handled["ann"] + handled["bo"], 50);
  EXPECT_EQ(most_held, 2);  // up to the capacity, never past it
  EXPECT_GE(handled["ann"], 15) << "least-busy shares the work";
  EXPECT_GE(handled["bo"], 15) << "least-busy shares the work";
  std::printf("# routing: ann %d, bo %d, most held at once %lld\n", handled["ann"], handled["bo"],
              static_cast<long long>(most_held));
}

TEST_F(Routing, AStormOfNewConversationsIsRoutedInBatchesNotOnePassEach) {
  dashboard("ann");
  const double passes_before = daemon_.metric("askdesk_routing_passes_total");
  const auto start = std::chrono::steady_clock::now();
  constexpr int storm = 300;
  for (int i = 0; i < storm; ++i) {
    patron_writes("storm" + std::to_string(i) + "@example.org", "s" + std::to_string(i), "help");
  }
  for (int wait = 0; wait < 500; ++wait) {
    if (redis_.command({"GET", "seq:conversation"}).str() == std::to_string(storm)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(redis_.command({"GET", "seq:conversation"}).str(), std::to_string(storm));
  EXPECT_FALSE(next_offer("ann").empty()) << "the storm is still routed";
  const auto elapsed = std::chrono::steady_clock::now() - start;
  const double passes = daemon_.metric("askdesk_routing_passes_total") - passes_before;
  // Passes start at least 100 ms apart however many conversations arrive.
  EXPECT_LE(passes, elapsed / std::chrono::milliseconds(100) + 3);
  std::printf("# routing: %d conversations in %lld ms, %g passes\n", storm,
              static_cast<long long>(elapsed / std::chrono::milliseconds(1)), passes);
}

TEST_F(Routing, ADeclinedOrIgnoredOfferMovesOnToTheNextPerson) {
  dashboard("ann");
  dashboard("bo");
  patron_writes("ada@example.org", "m1", "Can I book a room?");
  std::string first = next_offer("ann", std::chrono::seconds(3));
  std::string who = "ann", other = "bo";
  if (first.empty()) {
    first = next_offer("bo", std::chrono::seconds(3));
    std::swap(who, other);
  }
  ASSERT_FALSE(first.empty());
  ASSERT_EQ(act(who, first, "decline").status, 200);
  EXPECT_EQ(next_offer(other, std::chrono::seconds(3)), first);
  // The second ignores it: after the offer timeout nobody is left, and it waits.
  EXPECT_EQ(act(who, first, "accept").status, 409);  // who declined cannot take the offer
  EXPECT_TRUE(feeds_[other]->read_until(R"("reason":"timeout")", std::chrono::seconds(8)));
  const auto c = daemon_.call(sessions_[who], "GET", "/api/v1/conversations/" + first);
  EXPECT_NE(c.body.find(R"("status":"queued")"), std::string::npos) << c.body;
}

TEST_F(Routing, OnlyAvailableStaffGetOffers) {
  dashboard("ann");
  auto away =
      daemon_.call(sessions_["ann"], "POST", "/api/v1/me/presence", R"({"presence":"away"})");
  ASSERT_EQ(away.status, 200) << away.body;
  EXPECT_NE(away.body.find(R"("presence":"away")"), std::string::npos);
  patron_writes("ada@example.org", "m1", "Hello?");
  // The conversation waits in the queue, and a whole routing pass has decided since: an offer
  // to ann would now be in Redis and on her socket.
  ASSERT_FALSE(redis_.wait_for_string({"GET", "thread:import:ada@example.org"}).empty());
  ASSERT_TRUE(routing_caught_up());
  EXPECT_EQ(redis_.command({"SCARD", "offers:ann"}).integer(), 0);
  EXPECT_EQ(next_offer("ann", std::chrono::milliseconds(200)), "");
  ASSERT_EQ(
      daemon_.call(sessions_["ann"], "POST", "/api/v1/me/presence", R"({"presence":"available"})")
          .status,
      200);
  const std::string id = next_offer("ann");
  ASSERT_FALSE(id.empty());
  const auto state = daemon_.call(sessions_["ann"], "GET", "/api/v1/me/routing");
  EXPECT_NE(state.body.find(R"("capacity":2)"), std::string::npos) << state.body;
  EXPECT_NE(state.body.find(R"("offers":[{)"), std::string::npos) << state.body;
  EXPECT_NE(state.body.find(R"("id":")" + id + "\""), std::string::npos) << state.body;
  EXPECT_EQ(
      daemon_.call(sessions_["ann"], "POST", "/api/v1/me/presence", R"({"presence":"asleep"})")
          .status,
      400);
}

TEST_F(Routing, AReturningPatronIsOfferedToTheirLastHelper) {
  dashboard("ann");
  dashboard("bo");
  patron_writes("ada@example.org", "m1", "First question");
  std::string id = next_offer("ann", std::chrono::seconds(3));
  std::string helper = "ann";
  if (id.empty()) {
    id = next_offer("bo", std::chrono::seconds(3));
    helper = "bo";
  }
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(act(helper, id, "accept").status, 200);
  ASSERT_EQ(act(helper, id, "close").status, 200);
  // The helper now was assigned last, so least-busy alone would pick the other.
  patron_writes("ada@example.org", "m2", "A follow-up");
  const std::string again = next_offer(helper);
  ASSERT_FALSE(again.empty());
  EXPECT_NE(again, id);  // a new conversation, offered to the same person
}

TEST_F(Routing, ATransferGoesToAPersonWithANoteOrToAnotherTeamsQueue) {
  patron_writes("ada@example.org", "m1", "About my interlibrary loan");
  std::string id;
  for (int i = 0; i < 100 && id.empty(); ++i) {
    const auto list = daemon_.call(sessions_["ann"], "GET", "/api/v1/conversations");
    id = json_at(list.body, "/items/0/id");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(act("ann", id, "claim").status, 200);
  const auto to_bo =
      daemon_.call(sessions_["ann"], "POST", "/api/v1/conversations/" + id + "/transfer",
                   R"({"user":"bo","note":"Bo knows ILL"})");
  ASSERT_EQ(to_bo.status, 200) << to_bo.body;
  EXPECT_NE(to_bo.body.find(R"("assignee":"bo")"), std::string::npos) << to_bo.body;
  EXPECT_EQ(redis_.command({"SISMEMBER", "assigned:ann", id}).integer(), 0);
  // Ann no longer holds it: only bo or a supervisor may move it now.
  EXPECT_EQ(daemon_
                .call(sessions_["ann"], "POST", "/api/v1/conversations/" + id + "/transfer",
                      R"({"user":"ann"})")
                .status,
            409);
  const auto read = daemon_.call(sessions_["bo"], "GET", "/api/v1/conversations/" + id);
  EXPECT_NE(read.body.find("Bo knows ILL"), std::string::npos) << read.body;
  EXPECT_NE(read.body.find(R"("direction":"note")"), std::string::npos) << read.body;

  for (const char* bad : {R"({})", R"({"team":"nowhere"})", R"({"user":"nobody"})"}) {
    const auto refused =
        daemon_.call(sessions_["bo"], "POST", "/api/v1/conversations/" + id + "/transfer", bad);
    EXPECT_EQ(refused.status, 400) << bad << " " << refused.body;
  }
  const auto to_team =
      daemon_.call(sessions_["bo"], "POST", "/api/v1/conversations/" + id + "/transfer",
                   R"({"team":"circulation"})");
  ASSERT_EQ(to_team.status, 200) << to_team.body;
  EXPECT_NE(to_team.body.find(R"("status":"queued")"), std::string::npos) << to_team.body;
  EXPECT_NE(to_team.body.find(R"("team":"circulation")"), std::string::npos) << to_team.body;
  EXPECT_EQ(redis_.command({"ZSCORE", "queue:circulation", id}).is_nil(), false);
}

class RoutingRules : public Routing {
 protected:
  RoutingRules()
      : Routing(R"({
          "teams": [{"id": "reference", "mode": "least-busy"}],
          "routing": {"away_after_seconds": 0, "priorities": [{"tag": "urgent", "priority": 100}]},
          "connectors": [{"id": "import", "type": "replay", "token": "routing-token-0123456789"}]
        })") {}
};

TEST_F(RoutingRules, ClosingTheDashboardMeansAwayAndGoingOfflineHandsConversationsBack) {
  dashboard("ann");
  patron_writes("ada@example.org", "m1", "Still there?");
  const std::string id = next_offer("ann");
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(act("ann", id, "accept").status, 200);
  feeds_["ann"].reset();  // ann closes her only dashboard: away, she keeps it
  dashboard("bo");
  // Ann's leaving and bo's dashboard are recorded, and a whole routing pass has decided since:
  // had it taken ann's conversation back, it would be queued or offered to bo by now.
  ASSERT_FALSE(redis_.wait_for_string({"HGET", "staff:ann", "left_at"}).empty());
  ASSERT_TRUE(wait_until([&] { return redis_.command({"ZCARD", "sockets:bo"}).integer() > 0; }));
  ASSERT_TRUE(routing_caught_up());
  EXPECT_EQ(redis_.command({"SISMEMBER", "assigned:ann", id}).integer(), 1);
  EXPECT_EQ(redis_.command({"SCARD", "offers:bo"}).integer(), 0);
  EXPECT_EQ(next_offer("bo", std::chrono::milliseconds(200)), "");
  patron_writes("cy@example.org", "m2", "Anyone?");
  const std::string other = next_offer("bo");  // new ones go to who is there
  EXPECT_FALSE(other.empty());
  EXPECT_NE(other, id);
  ASSERT_EQ(
      daemon_.call(sessions_["ann"], "POST", "/api/v1/me/presence", R"({"presence":"offline"})")
          .status,
      200);
  EXPECT_EQ(next_offer("bo"), id);
  const auto c = daemon_.call(sessions_["bo"], "GET", "/api/v1/conversations/" + id);
  EXPECT_NE(c.body.find(R"("status":"queued")"), std::string::npos) << c.body;
}

TEST_F(RoutingRules, APriorityRuleMovesATaggedConversationUp) {
  patron_writes("ada@example.org", "m1", "My card was stolen");
  std::string id;
  for (int i = 0; i < 100 && id.empty(); ++i) {
    id =
        json_at(daemon_.call(sessions_["ann"], "GET", "/api/v1/conversations").body, "/items/0/id");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(daemon_
                .call(sessions_["ann"], "POST", "/api/v1/conversations/" + id + "/tags",
                      R"({"add":["urgent"]})")
                .status,
            200);
  std::string body;
  for (int i = 0; i < 100; ++i) {
    body = daemon_.call(sessions_["ann"], "GET", "/api/v1/conversations/" + id).body;
    if (body.find(R"("priority":100)") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_NE(body.find(R"("priority":100)"), std::string::npos) << body;
}

}  // namespace
}  // namespace askdesk::testing
