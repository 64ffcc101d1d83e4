#include "daemon/hub/stream_consumer.hpp"

#include <unordered_map>

#include <spdlog/spdlog.h>

namespace askdesk::hub {

stream_consumer::stream_consumer(boost::asio::io_context& io, store::redis_connection& reader,
                                 store::redis_connection& commands, stream_consumer_options options,
                                 batch_handler handler, poison_handler poison)
    : reader_(reader),
      commands_(commands),
      options_(std::move(options)),
      handler_(std::move(handler)),
      poison_(std::move(poison)),
      retry_timer_(io),
      claim_timer_(io) {}

void stream_consumer::start() {
  if (started_) return;
  started_ = true;
  reader_.on_ready([this] {
    pending_first_ = true;  // whatever was in flight when it dropped is pending again
    if (!reading_) {
      retry_timer_.cancel();
      ensure_group();
    }
  });
  if (reader_.ready()) ensure_group();
  claim_timer_.after(options_.claim_every, [this] { claim_due_ = true; });
}

void stream_consumer::stop(std::function<void()> done) {
  stopping_ = true;
  stopped_ = std::move(done);
  retry_timer_.cancel();
  claim_timer_.cancel();
  if (!reading_) {
    after_stop();
    return;
  }
  // A blocking read is cut short by closing its connection; entries it had already taken
  // stay pending for this consumer and are read first on the next start.
  reader_.stop();
}

void stream_consumer::after_stop() {
  if (stopped_) {
    auto done = std::move(stopped_);
    stopped_ = nullptr;
    done();
  }
}

void stream_consumer::ensure_group() {
  if (stopping_) return;
  reading_ = true;
  reader_.command({"XGROUP", "CREATE", options_.stream, options_.group, "0", "MKSTREAM"},
                  [this](store::reply r) {
                    reading_ = false;
                    if (stopping_) {
                      after_stop();
                      return;
                    }
                    if (r.is_unavailable()) return;  // on_ready calls again
                    if (r.is_error() && !r.str().starts_with("BUSYGROUP")) {
                      spdlog::error("{}: cannot create consumer group {}: {}", options_.stream,
                                    options_.group, r.str());
                      retry_timer_.after(std::chrono::seconds(1), [this] { ensure_group(); });
                      return;
                    }
                    pending_first_ = true;
                    read();
                  });
}

void stream_consumer::read() {
  if (stopping_) {
    after_stop();
    return;
  }
  if (reading_ || !reader_.ready()) return;  // on_ready resumes
  if (claim_due_ && !pending_first_) {
    claim();
    return;
  }
  reading_ = true;
  const std::string count = std::to_string(options_.batch);
  if (pending_first_) {
    reader_.command({"XREADGROUP", "GROUP", options_.group, options_.consumer, "COUNT", count,
                     "STREAMS", options_.stream, "0"},
                    [this](store::reply r) { on_read(std::move(r)); });
    return;
  }
  const std::string block = std::to_string(options_.block.count());
  const std::string_view args[] = {
      "XREADGROUP", "GROUP", options_.group, options_.consumer, "COUNT", count,
      "BLOCK",      block,   "STREAMS",      options_.stream,   ">"};
  reader_.command(
      args, [this](store::reply r) { on_read(std::move(r)); }, options_.block);
}

void stream_consumer::on_read(store::reply r) {
  if (r.failed()) {
    reading_ = false;
    if (stopping_) {
      after_stop();
      return;
    }
    if (r.is_unavailable()) return;  // on_ready resumes
    if (r.str().starts_with("NOGROUP")) {
      ensure_group();
      return;
    }
    spdlog::error("{}: reading: {}", options_.stream, r.str());
    retry_timer_.after(std::chrono::seconds(1), [this] { read(); });
    return;
  }
  auto entries = store::parse_entries(r);
  if (entries.empty()) {
    reading_ = false;
    pending_first_ = false;
    read();
    return;
  }
  if (pending_first_) {
    screen(std::move(entries));  // read before: maybe many times
  } else {
    process(std::move(entries));
  }
}

void stream_consumer::claim() {
  claim_due_ = false;
  reading_ = true;
  const std::string idle = std::to_string(options_.claim_idle.count());
  const std::string count = std::to_string(options_.batch);
  commands_.command({"XAUTOCLAIM", options_.stream, options_.group, options_.consumer, idle, "0-0",
                     "COUNT", count},
                    [this](store::reply r) {
                      claim_timer_.after(options_.claim_every, [this] { claim_due_ = true; });
                      std::vector<store::stream_entry> entries;
                      if (r.is_array() && r.size() >= 2) {
                        entries = store::parse_entries(r.elements()[1]);
                      }
                      if (!entries.empty()) {
                        spdlog::info("{}: adopted {} entries another consumer left pending",
                                     options_.stream, entries.size());
                        screen(std::move(entries));
                        return;
                      }
                      reading_ = false;
                      read();
                    });
}

// Entries read more than max_deliveries times go to the poison handler instead of the batch.
void stream_consumer::screen(std::vector<store::stream_entry> entries) {
  const std::string count = std::to_string(entries.size());
  const std::string first = entries.front().id;
  const std::string last = entries.back().id;
  commands_.command(
      {"XPENDING", options_.stream, options_.group, first, last, count},
      [this, entries = std::move(entries)](store::reply r) mutable {
        std::unordered_map<std::string, std::int64_t> deliveries;
        for (const auto& p : r.is_array() ? r.elements() : std::vector<store::reply>{}) {
          if (p.is_array() && p.size() == 4 && p[3].is_integer()) {
            deliveries[p[0].str()] = p[3].integer();
          }
        }
        std::vector<store::stream_entry> poisoned;
        std::erase_if(entries, [&](store::stream_entry& e) {
          const auto it = deliveries.find(e.id);
          if (it == deliveries.end() || it->second <= options_.max_deliveries || e.fields.empty()) {
            return false;
          }
          poisoned.push_back(std::move(e));
          return true;
        });
        if (poisoned.empty()) {
          process(std::move(entries));
          return;
        }
        struct pending {
          std::size_t remaining;
          batch_outcome outcome;
          std::vector<store::stream_entry> rest;
        };
        auto p = std::make_shared<pending>(pending{poisoned.size(), {}, std::move(entries)});
        for (const auto& e : poisoned) {
          poison_(e, deliveries[e.id], [this, p, id = e.id](bool stored) {
            if (stored) {
              p->outcome.done.push_back(id);
            } else {
              p->outcome.unavailable = true;
            }
            if (--p->remaining > 0) return;
            if (p->outcome.unavailable) {
              finish(std::move(p->outcome));  // the rest is read again later
            } else {
              process(std::move(p->rest), std::move(p->outcome));
            }
          });
        }
      });
}

void stream_consumer::process(std::vector<store::stream_entry> entries, batch_outcome already) {
  // Entries deleted while pending were acknowledged before: finish them without the handler.
  batch_outcome deleted = std::move(already);
  std::erase_if(entries, [&](const store::stream_entry& e) {
    if (!e.fields.empty()) return false;
    deleted.done.push_back(e.id);
    return true;
  });
  if (entries.empty()) {
    finish(std::move(deleted));
    return;
  }
  handler_(std::move(entries), [this, deleted = std::move(deleted)](batch_outcome outcome) mutable {
    outcome.done.insert(outcome.done.end(), deleted.done.begin(), deleted.done.end());
    finish(std::move(outcome));
  });
}

void stream_consumer::finish(batch_outcome outcome) {
  const bool unavailable = outcome.unavailable;
  const auto next = [this](bool lost) {
    reading_ = false;
    if (lost) {
      // What was not done is still pending: read it again once Redis answers.
      pending_first_ = true;
      if (stopping_) {
        after_stop();
        return;
      }
      retry_timer_.after(std::chrono::milliseconds(500), [this] { read(); });
      return;
    }
    read();
  };
  if (outcome.done.empty()) {
    next(unavailable);
    return;
  }
  std::vector<std::string_view> ack = {"XACK", options_.stream, options_.group};
  std::vector<std::string_view> del = {"XDEL", options_.stream};
  for (const auto& id : outcome.done) {
    ack.push_back(id);
    del.push_back(id);
  }
  commands_.command(ack, [](store::reply) {});
  commands_.command(del, [next, unavailable](store::reply r) {
    // Not acknowledged: they stay pending, and doing them again is a no-op.
    next(unavailable || r.is_unavailable());
  });
}

}  // namespace askdesk::hub
