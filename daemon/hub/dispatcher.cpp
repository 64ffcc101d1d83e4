#include "daemon/hub/dispatcher.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "daemon/store/inbound_codec.hpp"
#include "daemon/store/inbound_store.hpp"

namespace askdesk::hub {

namespace {

connectors::outbound_message to_outbound(const store::stream_entry& e) {
  connectors::outbound_message m;
  m.conversation = e.field("conversation");
  m.message = e.field("message");
  m.to = e.field("to");
  m.patron_name = e.field("patron_name");
  m.thread = e.field("thread");
  m.text = e.field("text");
  m.automatic = e.field("automatic") == "1";
  if (auto facts = store::facts_from_json(e.field("facts"))) m.facts = std::move(*facts);
  return m;
}

}  // namespace

dispatcher::dispatcher(dispatcher_parts parts, dispatcher_options options)
    : parts_(parts),
      options_(std::move(options)),
      consumer_(parts.io, parts.reader, parts.commands,
                {.stream = "outbound", .group = "dispatch", .consumer = options_.consumer},
                [this](std::vector<store::stream_entry> entries,
                       std::function<void(batch_outcome)> finished) {
                  process(std::move(entries), std::move(finished));
                }),
      release_timer_(parts.io) {
  auto& m = parts_.metrics;
  m.declare_counter("askdesk_messages_sent_total",
                    "Outgoing messages a channel accepted, by channel.");
  m.declare_counter("askdesk_messages_failed_total",
                    "Outgoing messages that failed for good, by channel.");
  m.declare_counter("askdesk_messages_retried_total",
                    "Outgoing sends deferred to try again, by channel.");
}

void dispatcher::add_connector(connectors::connector& c) { connectors_[c.id()] = &c; }

void dispatcher::start() {
  consumer_.start();
  release_timer_.after(options_.release_every, [this] { release(); });
}

void dispatcher::stop(std::function<void()> done) {
  stopping_ = true;
  release_timer_.cancel();
  consumer_.stop(std::move(done));
}

void dispatcher::release() {
  if (stopping_) return;
  const std::string now = std::to_string(core::to_millis(parts_.clock.now()));
  const std::string_view args[] = {now, "500"};
  store::run(parts_.commands, parts_.scripts, store::script::release_outbound, args,
             [this](store::reply r) {
               if (r.is_error()) spdlog::error("outbound: releasing retries: {}", r.str());
               release_timer_.after(options_.release_every, [this] { release(); });
             });
}

std::chrono::milliseconds dispatcher::backoff(int attempt) {
  auto delay = options_.first_retry * (1LL << std::min(attempt - 1, 20));
  delay = std::min<std::chrono::milliseconds>(delay, options_.max_retry);
  std::uniform_int_distribution<long long> jitter(delay.count() / 2, delay.count());
  return std::chrono::milliseconds(jitter(random_));
}

void dispatcher::process(std::vector<store::stream_entry> entries,
                         std::function<void(batch_outcome)> finished) {
  struct batch {
    std::size_t remaining;
    batch_outcome outcome;
    std::function<void(batch_outcome)> finished;
  };
  auto b = std::make_shared<batch>(batch{entries.size(), {}, std::move(finished)});
  for (auto& entry : entries) {
    const auto settled = [b, id = entry.id](bool acknowledge, bool unavailable) {
      if (acknowledge) b->outcome.done.push_back(id);
      if (unavailable) b->outcome.unavailable = true;
      if (--b->remaining == 0) b->finished(std::move(b->outcome));
    };
    const auto it = connectors_.find(entry.field("connector"));
    if (it == connectors_.end()) {
      const auto result = connectors::send_result::permanent(
          "connector '" + entry.field("connector") + "' is not configured on this daemon");
      settle(entry, result, [settled](bool unavailable) { settled(!unavailable, unavailable); });
      continue;
    }
    it->second->send(to_outbound(entry), [this, entry, settled](connectors::send_result r) {
      settle(entry, r, [settled, r](bool unavailable) {
        // A deferred entry is acknowledged by the defer script itself.
        settled(!unavailable && r.what != connectors::send_result::outcome::retry, unavailable);
      });
    });
  }
}

void dispatcher::settle(const store::stream_entry& entry, const connectors::send_result& result,
                        std::function<void(bool unavailable)> done) {
  using outcome = connectors::send_result::outcome;
  const std::string channel = entry.field("connector");
  const int attempt = std::atoi(entry.field("attempt").c_str()) + 1;
  const std::string now = std::to_string(core::to_millis(parts_.clock.now()));
  const std::string what = "recording the send of message " + entry.field("message");

  if (result.what == outcome::retry && attempt < options_.max_attempts) {
    auto delay = std::max(backoff(attempt), result.retry_after);
    spdlog::warn("outbound: message {} on {}: {} (attempt {}, again in {} ms)",
                 entry.field("message"), channel, result.error, attempt, delay.count());
    parts_.metrics.add("askdesk_messages_retried_total", {{"connector", channel}});
    const std::string due = std::to_string(core::to_millis(parts_.clock.now()) + delay.count());
    const std::string attempts = std::to_string(attempt);
    std::vector<std::string_view> args = {due, entry.id, "dispatch"};
    for (const auto& [key, value] : entry.fields) {
      if (key == "attempt") continue;
      args.push_back(key);
      args.push_back(value);
    }
    args.push_back("attempt");
    args.push_back(attempts);
    store::run(parts_.commands, parts_.scripts, store::script::defer_outbound, args,
               [done = std::move(done)](store::reply r) { done(r.failed()); });
    return;
  }

  const bool sent = result.what == outcome::sent;
  if (sent) {
    parts_.metrics.add("askdesk_messages_sent_total", {{"connector", channel}});
  } else {
    parts_.metrics.add("askdesk_messages_failed_total", {{"connector", channel}});
    spdlog::warn("outbound: message {} on {} failed: {} {}", entry.field("message"), channel,
                 result.error_code, result.error);
  }
  const std::string_view args[] = {now,
                                   entry.field("message"),
                                   sent ? "sent" : "failed",
                                   result.provider_id,
                                   result.error_code,
                                   result.error};
  store::run_json(parts_.commands, parts_.scripts, store::script::set_message_status, args,
                  [done = std::move(done), what](core::result<std::string> r) {
                    if (!r && r.err().code != "unavailable") {
                      spdlog::error("outbound: {}: {}", what, r.err().message);
                    }
                    done(!r && r.err().code == "unavailable");
                  });
}

}  // namespace askdesk::hub
