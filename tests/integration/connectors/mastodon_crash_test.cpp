// Crash safety of the Mastodon connector: 500 mentions from 25 accounts wait on the (fake)
// server, the daemon is killed with SIGKILL once 150 are durable, wherever it is in a page,
// and restarted where it ran. The cursor moved only past pages that were durable, so the
// restarted daemon reads the rest (and a page again when the kill came between storing it and
// saving the cursor, which dedup drops): every mention is stored exactly once.
#include <gtest/gtest.h>

#include <csignal>
#include <thread>

#include "tests/support/askdesk_daemon.hpp"
#include "tests/support/fake_mastodon.hpp"
#include "tests/support/wait.hpp"

namespace askdesk::testing {
namespace {

constexpr int mentions = 500;
constexpr int authors = 25;

std::int64_t messages_created(redis_server& redis) { return redis.messages_stored(); }

TEST(MastodonCrash, KillNineWhileMentionsArePendingLosesAndDoublesNothing) {
  fake_mastodon mastodon;
  std::vector<fake_mastodon::account> people;
  for (int a = 0; a < authors; ++a) {
    people.push_back(
        mastodon.add_account("patron" + std::to_string(a), "Patron " + std::to_string(a)));
  }
  const auto mention = [&](int i) {
    fake_mastodon::status_spec s;
    s.account_id = people[i % authors].id;
    s.content = "<p>@library question number " + std::to_string(i) + "</p>";
    s.visibility = "direct";  // each its own conversation, queued
    s.mentions = {fake_mastodon::library_id};
    return mastodon.add_status(s);
  };
  const std::string config = R"({"teams": [{"id": "reference"}], "connectors": [{"id": "mastodon",
    "type": "mastodon", "instance": ")" +
                             mastodon.base() + R"(", "access_token": ")" + mastodon.token() +
                             R"(", "poll_seconds": 1}]})";
  redis_server redis;
  const int port = free_port();
  std::int64_t at_kill = 0;
  {
    // The first start reads the newest page: one mention, and the cursor is set after it.
    mention(0);
    askdesk_daemon first(redis, config, {}, port);
    ASSERT_TRUE(wait_until([&] { return messages_created(redis) == 1; }));
    for (int i = 1; i < mentions; ++i) mention(i);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (;;) {
      if (redis.entries_added("inbound") > 150 || std::chrono::steady_clock::now() > deadline)
        break;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    first.process().signal(SIGKILL);
    ASSERT_TRUE(first.process().wait(std::chrono::seconds(10)));
    at_kill = messages_created(redis);
  }
  EXPECT_LT(at_kill, mentions) << "the kill came too late to matter";

  askdesk_daemon second(redis, config, {}, port);
  EXPECT_TRUE(wait_until(
      [&] {
        return messages_created(redis) >= mentions &&
               redis.command({"XLEN", "inbound"}).integer() == 0;
      },
      std::chrono::seconds(120)));
  EXPECT_EQ(messages_created(redis), mentions);  // a second copy would have counted too
  EXPECT_EQ(redis.command({"ZCARD", "conversations"}).integer(), mentions);
  EXPECT_EQ(redis.command({"XLEN", "inbound:dead"}).integer(), 0);
  const double again = second.metric(R"(askdesk_messages_duplicate_total{channel="mastodon"})");
  std::printf(
      "# crash: %lld of %d stored before SIGKILL, all %d stored once after (%g read "
      "again and dropped as duplicates)\n",
      static_cast<long long>(at_kill), mentions, mentions, again);
  for (const auto& r : mastodon.requests()) EXPECT_GE(r.remaining, 0) << r.path;
}

}  // namespace
}  // namespace askdesk::testing
