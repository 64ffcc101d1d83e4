#include "daemon/hub/topic_model.hpp"

#include <spdlog/spdlog.h>

#include "daemon/store/streams.hpp"

namespace askdesk::hub {

namespace {
constexpr std::size_t sync_page = 500;
}

core::topic_settings topic_settings_of(const config::daemon_config& c) {
  core::topic_settings s;
  for (const auto& t : c.topics) {
    // A topic without keywords, patterns or conditions is only a destination: no rule.
    if (t.keywords.empty() && t.patterns.empty() && t.channels.empty() && t.senders.empty()) {
      continue;
    }
    s.rules.push_back({.topic = t.id,
                       .keywords = t.keywords,
                       .patterns = t.patterns,
                       .channels = t.channels,
                       .senders = t.senders,
                       .weight = t.weight});
  }
  s.default_topic = c.routing.default_topic;
  s.threshold = c.routing.min_confidence;
  return s;
}

topic_model::topic_model(const config::daemon_config& c, store::redis_connection& commands,
                         store::event_feed& events)
    : classifier_(topic_settings_of(c)), commands_(commands), events_(events) {
  for (const auto& e : c.routing.example_set) classifier_.learn(e.topic, e.text);
  if (!c.routing.examples.empty()) {
    spdlog::info("topics: learned {} examples from {}", c.routing.example_set.size(),
                 c.routing.examples);
  }
}

topic_model::~topic_model() { stop(); }

void topic_model::start() {
  subscription_ = events_.subscribe([this](const store::shared_event& e) {
    if (e->type == "topic.learned") sync();
  });
  commands_.on_ready([this] { sync(); });
  if (commands_.ready()) sync();
}

void topic_model::stop() {
  stopped_ = true;
  if (subscription_ != 0) events_.unsubscribe(subscription_);
  subscription_ = 0;
}

core::topic_decision topic_model::classify(const core::inbound_message& m) const {
  return classifier_.classify({.text = m.text, .channel = m.channel, .sender = m.sender_address});
}

void topic_model::sync() {
  if (stopped_) return;
  if (syncing_) {
    again_ = true;  // a correction arrived while reading: read once more afterwards
    return;
  }
  syncing_ = true;
  again_ = false;
  const std::string count = std::to_string(sync_page);
  commands_.command({"XRANGE", "topic:examples", "(" + last_example_, "+", "COUNT", count},
                    [this](store::reply r) {
                      syncing_ = false;
                      if (stopped_) return;
                      if (r.failed()) return;  // Redis is away; on_ready syncs again
                      const auto entries = store::parse_entries(r);
                      for (const auto& entry : entries) {
                        classifier_.learn(entry.field("topic"), entry.field("text"));
                        last_example_ = entry.id;
                        ++corrections_;
                      }
                      if (entries.size() == sync_page || again_) sync();
                    });
}

}  // namespace askdesk::hub
