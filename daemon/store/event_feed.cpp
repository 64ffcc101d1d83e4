#include "daemon/store/event_feed.hpp"

#include <spdlog/spdlog.h>

#include "daemon/store/inbound_store.hpp"
#include "daemon/store/records.hpp"
#include "daemon/store/streams.hpp"

namespace askdesk::store {

namespace {

constexpr std::string_view stream = "events";
constexpr std::chrono::milliseconds block{5000};
constexpr std::string_view page = "1000";

}  // namespace

shared_event to_event(const stream_entry& entry) {
  auto e = std::make_shared<event>();
  e->id = entry.id;
  std::vector<field_pair> record;
  record.reserve(entry.fields.size());
  for (const auto& [k, v] : entry.fields) {
    if (k == "type") {
      e->type = v;
    } else if (k == "conversation") {
      e->conversation = v;
    } else if (k == "team") {
      e->team = v;
    } else if (k == "data") {
      e->data = v;  // a small event's JSON, written by its script
    } else {
      if (k == "c.connector") e->connector = v;
      record.emplace_back(k, v);
    }
  }
  if (e->data.empty()) e->data = record_json(record);
  return e;
}

event_feed::event_feed(redis_connection& reader, redis_connection& commands)
    : reader_(reader), commands_(commands) {}

void event_feed::start() {
  reader_.on_ready([this] {
    if (!reading_) positioned_ ? tail() : find_start();
  });
  if (reader_.ready()) find_start();
}

void event_feed::stop() {
  stopped_ = true;
  listeners_.clear();
}

std::uint64_t event_feed::subscribe(listener l) {
  listeners_.emplace(next_listener_, std::move(l));
  return next_listener_++;
}

void event_feed::unsubscribe(std::uint64_t id) { listeners_.erase(id); }

// Live events start from where the stream stands when the daemon starts.
void event_feed::find_start() {
  if (stopped_) return;
  reading_ = true;
  reader_.command({"XREVRANGE", stream, "+", "-", "COUNT", "1"}, [this](reply r) {
    reading_ = false;
    if (r.failed()) {
      if (!r.is_unavailable()) spdlog::error("events: cannot read the stream's end: {}", r.str());
      return;  // on_ready tries again
    }
    const auto entries = parse_entries(r);
    if (!entries.empty()) last_id_ = entries.front().id;
    positioned_ = true;
    tail();
  });
}

void event_feed::tail() {
  if (stopped_ || reading_ || !reader_.ready()) return;
  reading_ = true;
  const std::string block_ms = std::to_string(block.count());
  const std::string_view args[] = {"XREAD",  "COUNT",   page,   "BLOCK",
                                   block_ms, "STREAMS", stream, last_id_};
  reader_.command(
      args,
      [this](reply r) {
        reading_ = false;
        if (stopped_) return;
        if (r.failed()) {
          if (!r.is_unavailable()) spdlog::error("events: reading: {}", r.str());
          return;  // on_ready resumes from last_id_
        }
        for (const auto& entry : parse_entries(r)) {
          last_id_ = entry.id;
          const auto e = to_event(entry);
          // A listener may unsubscribe itself or others while we iterate.
          for (auto it = listeners_.begin(); it != listeners_.end();) {
            const auto id = it->first;
            auto l = it->second;
            l(e);
            it = listeners_.upper_bound(id);
          }
        }
        tail();
      },
      block);
}

void event_feed::read_after(const std::string& after, std::size_t limit,
                            std::function<void(core::result<catch_up>)> done) {
  if (!is_stream_id(after)) {
    done(core::error{"invalid", "'" + after + "' is not an event id"});
    return;
  }
  if (compare_stream_ids(after, last_id_) >= 0) {
    done(catch_up{});
    return;
  }
  const std::string until = last_id_;
  const std::string count = std::to_string(limit + 1);
  commands_.command(
      {"XRANGE", stream, "(" + after, until, "COUNT", count},
      [this, after, limit, done = std::move(done)](reply r) mutable {
        if (r.failed()) {
          done(redis_error(r, "reading events after " + after));
          return;
        }
        catch_up result;
        for (const auto& entry : parse_entries(r)) result.events.push_back(to_event(entry));
        if (result.events.size() > limit) {
          result.events.clear();
          result.gap = true;
          done(std::move(result));
          return;
        }
        // When the oldest entry kept is newer than `after`, what lay between may be trimmed.
        commands_.command(
            {"XRANGE", stream, "-", "+", "COUNT", "1"},
            [after, result = std::move(result), done = std::move(done)](reply first) mutable {
              if (first.failed()) {
                done(redis_error(first, "reading the oldest event"));
                return;
              }
              const auto oldest = parse_entries(first);
              if (!oldest.empty() && compare_stream_ids(oldest.front().id, after) > 0 &&
                  (result.events.empty() || oldest.front().id == result.events.front()->id)) {
                result.gap = true;
                result.events.clear();
              }
              done(std::move(result));
            });
      });
}

}  // namespace askdesk::store
