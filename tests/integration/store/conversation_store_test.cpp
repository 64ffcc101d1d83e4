// The hub's two durable steps against a real redis-server: ingest (dedup by connector and
// external id) and apply_inbound (idempotent, so a hub that crashed before acknowledging the
// stream entry can redo it without a second message, conversation or event).
#include "daemon/store/conversation_store.hpp"
#include "daemon/store/keys.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <thread>

#include "daemon/store/inbound_store.hpp"
#include "tests/support/io.hpp"
#include "tests/support/redis_monitor.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/wait.hpp"

namespace askdesk::store {
namespace {

using askdesk::testing::run_until;

class ConversationStore : public ::testing::Test {
 protected:
  ConversationStore() : scripts_(options_.redis) {
    redis_connection_options o;
    o.endpoint = config::parse_redis_url(redis_.url()).value();
    o.name = "test";
    o.library = scripts_.library();
    connection_ = redis_connection::create(io_, o);
    connection_->start();
    EXPECT_TRUE(run_until(io_, [&] { return connection_->ready(); }));
    store_.emplace(*connection_, scripts_, clock_);
  }

  static core::inbound_message message(std::string external_id, std::string text) {
    core::inbound_message m;
    m.connector = "sms";
    m.channel = "sms";
    m.external_id = std::move(external_id);
    m.thread = "+15550111";
    m.sender_address = "+15550111";
    m.sender_name = "Ada";
    m.text = std::move(text);
    m.sent_at = m.received_at = core::timestamp(std::chrono::milliseconds(1'790'000'000'000));
    return m;
  }

  core::result<ingest_outcome> ingest(const core::inbound_message& m) {
    std::optional<core::result<ingest_outcome>> got;
    inbound_store(*connection_, scripts_).append(m, [&](auto r) { got = std::move(r); });
    EXPECT_TRUE(run_until(io_, [&] { return got.has_value(); }));
    return std::move(*got);
  }

  core::result<applied_message> apply(const core::inbound_message& m,
                                      std::chrono::milliseconds reopen_window = {}) {
    std::optional<core::result<applied_message>> got;
    store_->apply_inbound(m, {.team = "reference", .reopen_window = reopen_window},
                          [&](auto r) { got = std::move(r); });
    EXPECT_TRUE(run_until(io_, [&] { return got.has_value(); }));
    return std::move(*got);
  }

  long long count(const std::string& pattern) {
    return redis_.command({"EVAL", "return #redis.call('KEYS', ARGV[1])", "0", pattern}).integer();
  }

  testing::redis_server redis_;
  config::daemon_config options_;
  script_set scripts_;
  core::fake_clock clock_{core::timestamp(std::chrono::milliseconds(1'790'000'000'000))};
  boost::asio::io_context io_;
  std::shared_ptr<redis_connection> connection_;
  std::optional<conversation_store> store_;  // one, as in the daemon: it remembers threads
};

TEST_F(ConversationStore, IngestStoresAMessageOncePerConnectorAndExternalId) {
  auto first = ingest(message("SM1", "hello"));
  ASSERT_TRUE(first);
  EXPECT_EQ(first.value(), ingest_outcome::stored);
  auto again = ingest(message("SM1", "hello, redelivered"));
  ASSERT_TRUE(again);
  EXPECT_EQ(again.value(), ingest_outcome::duplicate);
  EXPECT_EQ(redis_.command({"XLEN", "inbound"}).integer(), 1);

  // The same id from another connector is another message.
  auto other = message("SM1", "hello");
  other.connector = "sms-branch";
  EXPECT_EQ(ingest(other).value(), ingest_outcome::stored);
  EXPECT_EQ(redis_.command({"XLEN", "inbound"}).integer(), 2);
}

TEST_F(ConversationStore, ApplyingTheSameEntryTwiceChangesNothingTheSecondTime) {
  auto first = apply(message("SM1", "Can I renew my books online?"));
  ASSERT_TRUE(first);
  EXPECT_EQ(first.value().what, applied_message::outcome::created);
  const auto events = redis_.command({"XLEN", "events"}).integer();

  auto redo = apply(message("SM1", "Can I renew my books online?"));
  ASSERT_TRUE(redo);
  EXPECT_EQ(redo.value().what, applied_message::outcome::duplicate);
  EXPECT_EQ(redo.value().conversation, first.value().conversation);
  EXPECT_EQ(redo.value().message, first.value().message);
  EXPECT_EQ(redo.value().patron, first.value().patron);
  EXPECT_EQ(count("message:*"), 1);
  EXPECT_EQ(count("conversation:*}"), 1);
  EXPECT_EQ(redis_.command({"XLEN", "events"}).integer(), events);
}

TEST_F(ConversationStore, TheNextMessageOfTheThreadContinuesItsConversation) {
  auto first = apply(message("SM1", "Can I renew my books online?"));
  auto second = apply(message("SM2", "And DVDs?"));
  ASSERT_TRUE(first && second);
  EXPECT_EQ(second.value().what, applied_message::outcome::continued);
  EXPECT_EQ(second.value().conversation, first.value().conversation);
  EXPECT_NE(second.value().message, first.value().message);
}

TEST_F(ConversationStore, AMessageOnTheThreadsLastConversationGoesStraightToTheFunction) {
  ASSERT_TRUE(apply(message("SM1", "Can I renew my books online?")));
  std::vector<testing::monitored_command> seen;
  std::thread recording([&] {
    seen = testing::monitor(redis_, std::chrono::seconds(30), testing::stopped_by("done"));
  });
  ASSERT_TRUE(testing::wait_until([&] {
    return redis_.command({"CLIENT", "LIST"}).str().find("flags=O") != std::string::npos;
  }));
  auto second = apply(message("SM2", "And DVDs?"));
  redis_.command({"ECHO", "done"});
  recording.join();
  ASSERT_TRUE(second);
  EXPECT_EQ(second.value().what, applied_message::outcome::continued);
  std::vector<std::string> sent;  // by the daemon, not by a function
  for (const auto& c : seen) {
    if (!c.in_function && c.args[0] != "CLIENT") sent.push_back(c.args[0]);
  }
  EXPECT_EQ(sent, (std::vector<std::string>{"INCR", "FCALL", "ECHO"}));
}

TEST_F(ConversationStore, AGuessThatNoLongerHoldsIsReadAgain) {
  // The thread's conversation closed long ago: the next message starts another.
  auto first = apply(message("SM1", "Can I renew my books online?"));
  ASSERT_TRUE(first);
  redis_.command({"HSET", keys::conversation(first.value().conversation), "status", "closed",
                  "closed_at", "1"});
  auto second = apply(message("SM2", "Another question"), std::chrono::minutes(10));
  ASSERT_TRUE(second);
  EXPECT_EQ(second.value().what, applied_message::outcome::created);
  EXPECT_NE(second.value().conversation, first.value().conversation);

  // A dismissed social item transferred to another team hears more: it comes back to that
  // team's triage, not to the team this store last saw it in.
  auto m = message("SM3", "@library more on this");
  m.facts["triage"] = "1";
  m.thread = m.sender_address = "+15550222";
  auto item = apply(m);
  ASSERT_TRUE(item);
  const std::string id = item.value().conversation;
  redis_.command({"HSET", keys::conversation(id), "status", "dismissed", "team", "ill"});
  redis_.command({"ZREM", keys::social("new", "reference"), id});
  redis_.command({"ZADD", keys::social("dismissed", "ill"), "1", id});
  m.external_id = "SM4";
  auto again = apply(m);
  ASSERT_TRUE(again);
  EXPECT_EQ(again.value().what, applied_message::outcome::continued);
  EXPECT_EQ(again.value().team, "ill");
  EXPECT_EQ(redis_.command({"ZSCORE", keys::social("new", "ill"), id}).is_string(), true);
  EXPECT_EQ(redis_.command({"ZCARD", keys::social("new", "reference")}).integer(), 0);
  EXPECT_EQ(redis_.command({"ZCARD", keys::social("dismissed", "ill")}).integer(), 0);
}

TEST_F(ConversationStore, WhileRedisIsDownBothStepsSayUnavailable) {
  redis_.kill();
  auto stored = ingest(message("SM1", "hello"));
  ASSERT_FALSE(stored);
  EXPECT_EQ(stored.err().code, "unavailable");
  auto applied = apply(message("SM1", "hello"));
  ASSERT_FALSE(applied);
  EXPECT_EQ(applied.err().code, "unavailable");
}

}  // namespace
}  // namespace askdesk::store
