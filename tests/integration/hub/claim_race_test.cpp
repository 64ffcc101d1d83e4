// Two askdesk processes on one Redis and two librarians clicking "claim" on the same
// conversation at the same moment, 1,000 times: every conversation ends with exactly one
// owner, the other click is told 409, and nobody's list holds a conversation twice.
#include <gtest/gtest.h>

#include <barrier>
#include <thread>

#include "tests/support/askdesk_daemon.hpp"

namespace askdesk::testing {
namespace {

constexpr int tries = 1000;

TEST(ClaimRace, TwoDaemonsAndTwoClicksGiveOneOwnerEveryTime) {
  redis_server redis;
  const std::string config = R"({
    "connectors": [{"id": "import", "type": "replay", "token": "race-token-0123456789"}]
  })";
  askdesk_daemon a(redis, config), b(redis, config);
  a.add_user("ann", "staff", {"reference"}, "ann-password-1");
  a.add_user("bo", "staff", {"reference"}, "bo-password-12");
  a.add_user("sue", "supervisor", {}, "sue-password-1");
  const auto ann = a.login("ann", "ann-password-1");
  const auto bo = b.login("bo", "bo-password-12");
  const auto sue = a.login("sue", "sue-password-1");

  for (int i = 0; i < tries; ++i) {
    const auto r =
        http_request("POST", (i % 2 ? a : b).url("/webhooks/replay/import"),
                     R"({"id":"m)" + std::to_string(i) + R"(","from":"patron)" + std::to_string(i) +
                         R"(@example.org","text":"Question )" + std::to_string(i) + R"("})",
                     {"Authorization: Bearer race-token-0123456789"});
    ASSERT_EQ(r.status, 200) << r.body;
  }
  // Conversation ids are 1..tries once the hubs of both daemons applied every message.
  for (int i = 0; i < 500; ++i) {
    const auto c = a.call(sue, "GET", "/api/v1/conversations/" + std::to_string(tries));
    if (c.status == 200) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }

  int double_owners = 0, no_owner = 0, wrong_answers = 0;
  for (int i = 1; i <= tries; ++i) {
    const std::string path = "/api/v1/conversations/" + std::to_string(i) + "/claim";
    std::barrier together(2);
    long ann_status = 0, bo_status = 0;
    std::thread left([&] {
      together.arrive_and_wait();
      ann_status = a.call(ann, "POST", path).status;
    });
    std::thread right([&] {
      together.arrive_and_wait();
      bo_status = b.call(bo, "POST", path).status;
    });
    left.join();
    right.join();
    const int winners = (ann_status == 200) + (bo_status == 200);
    if (winners > 1) ++double_owners;
    if (winners == 0) ++no_owner;
    if (ann_status + bo_status != 200 + 409) ++wrong_answers;
  }
  EXPECT_EQ(double_owners, 0);
  EXPECT_EQ(no_owner, 0);
  EXPECT_EQ(wrong_answers, 0);
  // Redis agrees: the two lists split the conversations between them, none in both.
  const auto anns = redis.command({"SCARD", "assigned:ann"}).integer();
  const auto bos = redis.command({"SCARD", "assigned:bo"}).integer();
  EXPECT_EQ(anns + bos, tries);
  EXPECT_EQ(redis.command({"SINTER", "assigned:ann", "assigned:bo"}).size(), 0u);
  std::printf("# claim race: %d conversations, ann won %lld, bo won %lld, double owners %d\n",
              tries, static_cast<long long>(anns), static_cast<long long>(bos), double_owners);
}

}  // namespace
}  // namespace askdesk::testing
