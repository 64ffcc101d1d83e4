// Crash safety proven by injecting one Redis failure at a chosen command (faulty_redis),
// in-process with the real connector host, Twilio connector, poller and outbound lanes over
// a real redis-server: a poller's cursor moves only after its messages are durable, and a
// reply whose outcome could not be recorded is recorded again, never sent again.
#include <gtest/gtest.h>

#include "connectors/registry.hpp"
#include "daemon/hub/connector_host.hpp"
#include "daemon/hub/lanes.hpp"
#include "daemon/json/document.hpp"
#include "daemon/net/curl_client.hpp"
#include "daemon/store/event_feed.hpp"
#include "daemon/store/inbound_store.hpp"
#include "tests/support/fake_twilio.hpp"
#include "tests/support/faulty_redis.hpp"
#include "tests/support/io.hpp"
#include "tests/support/redis_server.hpp"

namespace askdesk::testing {
namespace {

const std::string account = "AC0123456789abcdef0123456789abcdef";
const std::string library = "+15550100199";

// The hub's first step: a message is durable once it is in the inbound stream.
class stream_sink final : public hub::inbound_sink {
 public:
  stream_sink(store::redis_connection& redis, const store::script_set& scripts)
      : inbound_(redis, scripts), redis_(redis) {}
  void deliver(core::inbound_message m,
               std::function<void(core::result<connectors::delivery>)> done) override {
    if (auto problem = core::check_inbound(m)) {
      done(core::error{"invalid", *problem});
      return;
    }
    inbound_.append(m, [done = std::move(done)](core::result<store::ingest_outcome> r) {
      if (!r) {
        done(r.err());
        return;
      }
      done(r.value() == store::ingest_outcome::stored ? connectors::delivery::stored
                                                      : connectors::delivery::duplicate);
    });
  }
  bool accepting() const override { return redis_.ready(); }

 private:
  store::inbound_store inbound_;
  store::redis_connection& redis_;
};

// The daemon's parts around one Twilio connector, with a faulty command connection.
class FaultInjection : public ::testing::Test {
 protected:
  FaultInjection() {
    config_.redis.endpoint = config::parse_redis_url(redis_.url()).value();
    commands_ = connect("commands");
    events_reader_ = connect("events");
    faulty_ = std::make_unique<faulty_redis>(io_, *commands_);
    events_ = std::make_unique<store::event_feed>(*events_reader_, *faulty_);
    sink_ = std::make_unique<stream_sink>(*faulty_, scripts_);
    parts_ = std::make_unique<hub::host_parts>(
        hub::host_parts{io_, config_, clock_, metrics_, http_, routes_, *sink_, *faulty_, scripts_,
                        *events_, "test:1", connectors_});
    host_ = std::make_unique<hub::connector_host>(*parts_, "sms", "twilio");
    commands_->start();
    events_reader_->start();
    EXPECT_TRUE(run_until(io_, [&] { return commands_->ready(); }));
  }

  ~FaultInjection() override {
    for (auto& c : connectors_) c->stop();
    commands_->stop();
    events_reader_->stop();
  }

  std::unique_ptr<store::redis_connection> connect(std::string name) {
    store::redis_connection_options o;
    o.endpoint = config_.redis.endpoint;
    o.name = std::move(name);
    o.scripts = scripts_.sources();
    return store::redis_connection::create(io_, std::move(o));
  }

  // The Twilio connector from its config block.
  connectors::connector& add_twilio(const std::string& extra) {
    connectors::registry registry;
    EXPECT_TRUE(connectors::register_builtin_connectors(registry));
    const std::string block = R"({"account_sid": ")" + account +
                              R"(", "auth_token": "token", "number": ")" + library +
                              R"(", "api_base": ")" + twilio_.base() + "\"" + extra + "}";
    auto doc = json::document::parse(block);
    json::problems problems;
    const auto env = json::no_environment();
    auto reader = json::object_reader::open(doc->root(), "connectors[0]", problems, env);
    auto settings = registry.find("twilio")->parse(*reader);
    EXPECT_TRUE(problems.empty()) << problems.to_string();
    settings->id = "sms";
    lane_ = settings->lane;
    connectors_.push_back(registry.find("twilio")->create(std::move(settings), *host_));
    return *connectors_.back();
  }

  double rounds(const std::string& outcome) {
    return metrics_.value("askdesk_poll_rounds_total",
                          {{"connector", "sms"}, {"outcome", outcome}});
  }

  std::string evalsha(store::script s) const { return scripts_.sha1(s); }

  redis_server redis_;
  fake_twilio twilio_;
  boost::asio::io_context io_;
  config::daemon_config config_ = config::builtin(config::defaults{});
  store::script_set scripts_{config_.redis};
  core::offset_clock clock_{std::chrono::milliseconds(0)};
  core::metrics metrics_;
  net::curl_client http_{io_};
  net::http_router routes_;
  std::unique_ptr<store::redis_connection> commands_, events_reader_;
  std::unique_ptr<faulty_redis> faulty_;
  std::unique_ptr<store::event_feed> events_;
  std::unique_ptr<stream_sink> sink_;
  std::vector<std::unique_ptr<connectors::connector>> connectors_;
  std::unique_ptr<hub::host_parts> parts_;
  std::unique_ptr<hub::connector_host> host_;
  connectors::lane_settings lane_;
};

TEST_F(FaultInjection, APollersCursorMovesOnlyOnceEveryMessageOfTheRoundIsDurable) {
  twilio_.add_inbound("SM001", "+15550100141", library, "First");
  twilio_.add_inbound("SM002", "+15550100142", library, "Second");
  twilio_.add_inbound("SM003", "+15550100143", library, "Third");
  // The second message's append never reaches Redis.
  faulty_->fail({"EVALSHA", evalsha(store::script::ingest)}, 2, faulty_redis::when::before);
  auto& sms = add_twilio(R"(, "mode": "poll", "poll_seconds": 1)");
  sms.start();

  ASSERT_TRUE(run_until(io_, [&] { return rounds("failed") >= 1; }));
  EXPECT_EQ(faulty_->failed(), 1);
  // The round stored what it could, and left the cursor where it was.
  EXPECT_EQ(redis_.command({"XLEN", "inbound"}).integer(), 2);
  EXPECT_TRUE(redis_.command({"HGET", "twilio:sms:cursor", "sid"}).is_nil());

  // The next round reads the page again: the missing one is stored, none twice, and only
  // then does the cursor move.
  ASSERT_TRUE(run_until(io_, [&] { return rounds("ok") >= 1; }));
  EXPECT_EQ(redis_.command({"XLEN", "inbound"}).integer(), 3);
  EXPECT_EQ(redis_.command({"HGET", "twilio:sms:cursor", "sid"}).str(), "SM003");
}

TEST_F(FaultInjection, APollerThatLostItsLeaseCannotMoveTheCursor) {
  twilio_.add_inbound("SM001", "+15550100141", library, "First");
  auto& sms = add_twilio(R"(, "mode": "poll", "poll_seconds": 1)");
  // This daemon paused past its lease and another took it over, just before the cursor save.
  const std::string lease = "lease:twilio:" + account + ":" + library;
  faulty_->before({"EVALSHA", evalsha(store::script::save_record)}, 1, [&] {
    redis_.command({"SET", lease, "other:1", "PX", "60000"});
    redis_.command({"INCR", lease + ":fence"});
  });
  sms.start();
  // The message is stored, but the cursor save is refused, and from then on the other
  // daemon polls.
  ASSERT_TRUE(run_until(io_, [&] { return rounds("elsewhere") >= 1; }));
  EXPECT_EQ(rounds("failed"), 1);
  EXPECT_EQ(redis_.command({"XLEN", "inbound"}).integer(), 1);
  EXPECT_TRUE(redis_.command({"HGET", "twilio:sms:cursor", "sid"}).is_nil());
}

// An outbound entry as post_message queues it, for message 1 of conversation 1.
void queue_reply(redis_server& redis) {
  redis.command({"HSET", "conversation:1", "id", "1", "team", "reference", "status", "assigned",
                 "connector", "sms", "channel", "sms", "patron", "1"});
  redis.command({"HSET", "message:1", "id", "1", "conversation", "1", "connector", "sms",
                 "direction", "out", "status", "pending", "text", "Hello"});
  redis.command({"XADD",
                 "outbound:sms",
                 "*",
                 "message",
                 "1",
                 "conversation",
                 "1",
                 "connector",
                 "sms",
                 "to",
                 "+15550100141",
                 "thread",
                 "+15550100141",
                 "patron_name",
                 "",
                 "text",
                 "Hello",
                 "automatic",
                 "0",
                 "facts",
                 "{}"});
}

class FaultInjectionLanes : public FaultInjection,
                            public ::testing::WithParamInterface<faulty_redis::when> {};

TEST_P(FaultInjectionLanes, AReplyWhoseOutcomeWasNotRecordedIsRecordedAgainNeverSentAgain) {
  auto reader = connect("outbound");
  reader->start();
  auto& sms = add_twilio("");
  hub::outbound_lanes lanes({io_, *faulty_, *reader, scripts_, metrics_, clock_},
                            {.consumer = "test:1", .renew_every = std::chrono::milliseconds(200)});
  lanes.add(sms, lane_);
  queue_reply(redis_);
  // Twilio takes the message; recording that fails once (never written, or its answer lost).
  faulty_->fail({"EVALSHA", evalsha(store::script::settle_outbound)}, 1, GetParam());
  lanes.start();

  // The lane is done once it counted the send: only after Redis recorded it.
  ASSERT_TRUE(run_until(io_, [&] {
    return metrics_.value("askdesk_messages_sent_total", {{"connector", "sms"}}) >= 1;
  }));
  EXPECT_EQ(redis_.command({"HGET", "message:1", "status"}).str(), "sent");
  EXPECT_EQ(redis_.command({"XLEN", "outbound:sms"}).integer(), 0);
  EXPECT_EQ(metrics_.value("askdesk_outbound_waiting", {{"connector", "sms"}}), 0);
  EXPECT_EQ(faulty_->failed(), 1);
  EXPECT_EQ(twilio_.requests().size(), 1u);
  EXPECT_EQ(metrics_.value("askdesk_messages_sent_total", {{"connector", "sms"}}), 1);
  EXPECT_EQ(redis_.command({"LLEN", "outbound:sms:dead"}).integer(), 0);

  bool stopped = false;
  lanes.stop([&] { stopped = true; });
  ASSERT_TRUE(run_until(io_, [&] { return stopped; }));
  reader->stop();
}

INSTANTIATE_TEST_SUITE_P(RedisRanIt, FaultInjectionLanes,
                         ::testing::Values(faulty_redis::when::before, faulty_redis::when::after),
                         [](const auto& info) {
                           return info.param == faulty_redis::when::before ? "Never"
                                                                           : "ButLostTheAnswer";
                         });

}  // namespace
}  // namespace askdesk::testing
