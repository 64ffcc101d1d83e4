#include "tests/support/connector_harness.hpp"

#include <gtest/gtest.h>

#include "daemon/json/document.hpp"
#include "daemon/store/inbound_store.hpp"
#include "tests/support/io.hpp"

namespace askdesk::testing {

namespace {

config::daemon_config config_for(const redis_server& redis) {
  auto c = config::builtin(config::defaults{});
  c.redis.endpoint = config::parse_redis_url(redis.url()).value();
  return c;
}

// Staff are whoever sends `Authorization: Bearer <staff_token>`.
auto staff_check() {
  return [](const net::http_request& r, std::function<void(core::status)> done) {
    if (r.header("authorization") == std::string("Bearer ") + connector_harness::staff_token) {
      done({});
    } else {
      done(core::error{"unauthenticated", "sign in first"});
    }
  };
}

}  // namespace

// The hub's first step: a message is durable once it is in the inbound stream.
class connector_harness::stream_sink final : public hub::inbound_sink {
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

connector_harness::connector_harness() : config_(config_for(redis_)), scripts_(config_.redis) {
  commands_ = connect("commands");
  events_reader_ = connect("events");
  faulty_ = std::make_unique<faulty_redis>(io_, *commands_);
  events_ = std::make_unique<store::event_feed>(*events_reader_, *faulty_);
  sink_ = std::make_unique<stream_sink>(*faulty_, scripts_);
  parts_ = std::make_unique<hub::host_parts>(
      hub::host_parts{io_, config_, clock_, metrics_, http_, routes_, *sink_, *faulty_, scripts_,
                      *events_, "test:1", privacy_, connectors_, staff_check()});
  commands_->start();
  events_reader_->start();
  EXPECT_TRUE(run_until(io_, [&] { return commands_->ready(); }));
}

connector_harness::~connector_harness() {
  for (auto& c : connectors_) c->stop();
  commands_->stop();
  events_reader_->stop();
}

std::unique_ptr<store::redis_connection> connector_harness::connect(std::string name) {
  store::redis_connection_options o;
  o.endpoint = config_.redis.endpoint;
  o.name = std::move(name);
  o.library = scripts_.library();
  return store::redis_connection::create(io_, std::move(o));
}

connectors::connector& connector_harness::add(const std::string& type, const std::string& id,
                                              const std::string& block) {
  connectors::registry registry;
  EXPECT_TRUE(connectors::register_builtin_connectors(registry));
  const auto* factory = registry.find(type);
  EXPECT_NE(factory, nullptr) << type;
  auto doc = json::document::parse(block);
  EXPECT_TRUE(doc) << block;
  json::problems problems;
  const auto env = json::no_environment();
  auto reader = json::object_reader::open(doc->root(), "connectors[0]", problems, env);
  auto settings = connectors::parse_block(*factory, *reader);
  reader->finish();
  EXPECT_TRUE(problems.empty()) << problems.to_string();
  settings->id = id;
  lanes_[id] = settings->lane;
  hosts_.push_back(std::make_unique<hub::connector_host>(*parts_, id, type));
  connectors_.push_back(factory->create(std::move(settings), *hosts_.back()));
  return *connectors_.back();
}

}  // namespace askdesk::testing
