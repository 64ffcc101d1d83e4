// Crash safety of the IMAP poller: the daemon is killed with SIGKILL in the middle of a
// large poll (320 messages waiting, some without a Message-ID). After a restart every message
// is stored exactly once, and every one is marked \Seen.
#include <gtest/gtest.h>

#include <csignal>
#include <thread>

#include "tests/support/askdesk_daemon.hpp"
#include "tests/support/mail_servers.hpp"
#include "tests/support/wait.hpp"

namespace askdesk::testing {
namespace {

constexpr int with_id = 300;
constexpr int without_id = 20;

std::uint64_t stored(redis_server& redis) {
  return static_cast<std::uint64_t>(redis.messages_stored());
}

TEST(EmailCrash, KillNineDuringALargePollStoresEachMessageOnce) {
  dovecot_server imap;
  smtp_sink smtp;
  redis_server redis;
  for (int i = 0; i < with_id + without_id; ++i) {
    const std::string id = i < with_id ? "<m" + std::to_string(i) + "@example.org>" : "";
    imap.append("From: patron" + std::to_string(i % 30) + "@example.org\r\nSubject: question " +
                std::to_string(i) + "\r\n" + (id.empty() ? "" : "Message-ID: " + id + "\r\n") +
                "\r\nQuestion number " + std::to_string(i) + "\r\n");
  }
  const std::string config = R"({"teams": [{"id": "reference"}], "connectors": [{"id": "mail",
    "type": "email", "imap_url": ")" +
                             imap.url() + R"(", "smtp_url": ")" + smtp.url() +
                             R"(", "username": "ask", "password": "secret",
    "address": "ask@library.example.org", "poll_seconds": 1}]})";
  int port = 0;
  {
    askdesk_daemon first(redis, config);
    port = first.port();
    for (int i = 0; i < 2000 && stored(redis) < 100; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    first.process().signal(SIGKILL);
    first.process().wait(std::chrono::seconds(5));
  }
  const auto before = stored(redis);
  EXPECT_GE(before, 100u);
  EXPECT_LT(before, static_cast<std::uint64_t>(with_id + without_id)) << "killed too late";

  askdesk_daemon second(redis, config, {}, port);
  const auto all = static_cast<std::uint64_t>(with_id + without_id);
  for (int i = 0; i < 1200 && (stored(redis) < all || !imap.search("UNSEEN").empty()); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(stored(redis), all);
  EXPECT_TRUE(imap.search("UNSEEN").empty());
  EXPECT_EQ(redis.command({"XLEN", "inbound:dead"}).integer(), 0);
  for (int i = 0; i < with_id; ++i) {
    ASSERT_EQ(
        redis.command({"EXISTS", "dedup:mail:m" + std::to_string(i) + "@example.org"}).integer(), 1)
        << i;
  }
  // Nothing more arrives afterwards: no message was stored twice. Wait until that had its
  // chances: the poller ended two more rounds (so at least one whole round began after all
  // was stored; a round ends once what it delivered is in the inbound stream), and the hub
  // applied every inbound entry.
  const std::string rounds = R"(askdesk_poll_rounds_total{connector="mail",outcome="ok"})";
  ASSERT_TRUE(second.wait_for_metric(rounds, second.metric(rounds) + 2));
  ASSERT_TRUE(wait_until([&] { return redis.command({"XLEN", "inbound"}).integer() == 0; }));
  EXPECT_EQ(stored(redis), all);
}

}  // namespace
}  // namespace askdesk::testing
