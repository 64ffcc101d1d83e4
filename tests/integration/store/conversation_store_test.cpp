// The hub's two durable steps against a real redis-server: ingest (dedup by connector and
// external id) and apply_inbound (idempotent, so a hub that crashed before acknowledging the
// stream entry can redo it without a second message, conversation or event).
#include "daemon/store/conversation_store.hpp"
#include "daemon/store/keys.hpp"

#include <gtest/gtest.h>

#include "daemon/store/inbound_store.hpp"
#include "tests/support/io.hpp"
#include "tests/support/redis_server.hpp"

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

  core::result<applied_message> apply(const core::inbound_message& m) {
    std::optional<core::result<applied_message>> got;
    conversation_store(*connection_, scripts_, clock_)
        .apply_inbound(m, {.team = "reference"}, [&](auto r) { got = std::move(r); });
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
