#include "daemon/hub/hub.hpp"

#include <spdlog/spdlog.h>

#include "daemon/store/inbound_codec.hpp"

namespace askdesk::hub {

namespace {

constexpr std::string_view stream = "inbound";
constexpr std::string_view group = "hub";
constexpr std::string_view dead_stream = "inbound:dead";

}  // namespace

struct hub::batch {
  std::size_t remaining = 0;
  std::vector<std::string> done;  // entry ids to acknowledge
  bool unavailable = false;       // Redis went away: leave the rest pending
};

hub::hub(hub_parts parts, hub_options options)
    : parts_(parts),
      options_(std::move(options)),
      inbound_(parts.commands, parts.scripts),
      conversations_(parts.commands, parts.scripts, parts.clock),
      retry_timer_(parts.io),
      claim_timer_(parts.io) {
  auto& m = parts_.metrics;
  m.declare_counter("askdesk_messages_received_total", "Inbound messages stored, by channel.");
  m.declare_counter("askdesk_messages_duplicate_total",
                    "Inbound messages dropped as already stored, by channel.");
  m.declare_counter("askdesk_messages_rejected_total", "Inbound messages refused as invalid.");
  m.declare_counter("askdesk_messages_routed_total",
                    "Inbound messages applied to their conversation, by channel.");
  m.declare_counter("askdesk_conversations_created_total", "Conversations started, by channel.");
  m.declare_counter("askdesk_inbound_dead_letters_total",
                    "Inbound entries that could not be applied (see the inbound:dead stream).");
}

hub::~hub() = default;

void hub::add_connector(connectors::connector& c) { connectors_[c.id()] = &c; }

void hub::start() {
  if (started_) return;
  started_ = true;
  parts_.reader.on_ready([this] {
    pending_first_ = true;  // whatever was in flight when it dropped is pending again
    if (!reading_) {
      retry_timer_.cancel();
      ensure_group();
    }
  });
  if (parts_.reader.ready()) ensure_group();
  claim_timer_.after(options_.claim_every, [this] { claim_due_ = true; });
}

void hub::stop(std::function<void()> done) {
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
  parts_.reader.stop();
}

void hub::after_stop() {
  if (stopped_) {
    auto done = std::move(stopped_);
    stopped_ = nullptr;
    done();
  }
}

bool hub::accepting() const { return parts_.commands.ready(); }

void hub::deliver(core::inbound_message m,
                  std::function<void(core::result<connectors::delivery>)> done) {
  if (m.received_at == core::timestamp{}) m.received_at = parts_.clock.now();
  if (auto problem = core::check_inbound(m)) {
    parts_.metrics.add("askdesk_messages_rejected_total", {{"channel", m.channel}});
    done(core::error{"invalid", "message from connector " + m.connector + ": " + *problem});
    return;
  }
  inbound_.append(m, [this, channel = m.channel, done = std::move(done)](
                         core::result<store::ingest_outcome> r) {
    if (!r) {
      done(r.err());
      return;
    }
    if (r.value() == store::ingest_outcome::stored) {
      parts_.metrics.add("askdesk_messages_received_total", {{"channel", channel}});
      done(connectors::delivery::stored);
    } else {
      parts_.metrics.add("askdesk_messages_duplicate_total", {{"channel", channel}});
      done(connectors::delivery::duplicate);
    }
  });
}

void hub::ensure_group() {
  if (stopping_) return;
  reading_ = true;
  parts_.reader.command({"XGROUP", "CREATE", stream, group, "0", "MKSTREAM"}, [this](store::reply r) {
    reading_ = false;
    if (stopping_) {
      after_stop();
      return;
    }
    if (r.is_unavailable()) return;  // on_ready calls again
    if (r.is_error() && !r.str().starts_with("BUSYGROUP")) {
      spdlog::error("hub: cannot create consumer group: {}", r.str());
      retry_timer_.after(std::chrono::seconds(1), [this] { ensure_group(); });
      return;
    }
    pending_first_ = true;
    read();
  });
}

void hub::read() {
  if (stopping_) {
    after_stop();
    return;
  }
  if (reading_ || !parts_.reader.ready()) return;  // on_ready resumes
  if (claim_due_ && !pending_first_) {
    claim();
    return;
  }
  reading_ = true;
  const std::string count = std::to_string(options_.batch);
  if (pending_first_) {
    parts_.reader.command({"XREADGROUP", "GROUP", group, options_.consumer, "COUNT", count,
                           "STREAMS", stream, "0"},
                          [this](store::reply r) { on_read(std::move(r)); });
    return;
  }
  const std::string block = std::to_string(options_.block.count());
  const std::string_view args[] = {"XREADGROUP", "GROUP", group,  options_.consumer, "COUNT",
                                   count,        "BLOCK", block,  "STREAMS",         stream,
                                   ">"};
  parts_.reader.command(args, [this](store::reply r) { on_read(std::move(r)); }, options_.block);
}

void hub::on_read(store::reply r) {
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
    spdlog::error("hub: reading {}: {}", stream, r.str());
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
  process(std::move(entries));
}

void hub::claim() {
  claim_due_ = false;
  reading_ = true;
  const std::string idle = std::to_string(options_.claim_idle.count());
  const std::string count = std::to_string(options_.batch);
  parts_.commands.command(
      {"XAUTOCLAIM", stream, group, options_.consumer, idle, "0-0", "COUNT", count},
      [this](store::reply r) {
        claim_timer_.after(options_.claim_every, [this] { claim_due_ = true; });
        std::vector<store::stream_entry> entries;
        if (r.is_array() && r.size() >= 2) entries = store::parse_entries(r.elements()[1]);
        if (!entries.empty()) {
          spdlog::info("hub: adopted {} entries another consumer left pending", entries.size());
          process(std::move(entries));
          return;
        }
        reading_ = false;
        read();
      });
}

store::placement hub::place(const core::inbound_message& m) const {
  store::placement p;
  const auto& config = parts_.config;
  p.team = config.find_team(m.team) ? m.team : config.teams.front().id;
  if (const auto it = connectors_.find(m.connector); it != connectors_.end()) {
    p.reopen_window = it->second->reopen_window();
  }
  return p;
}

void hub::process(std::vector<store::stream_entry> entries) {
  auto b = std::make_shared<batch>();
  b->remaining = entries.size();
  for (const auto& entry : entries) {
    if (entry.fields.empty()) {  // deleted but still pending: acknowledged before, finish it
      b->done.push_back(entry.id);
      if (--b->remaining == 0) finish(b);
      continue;
    }
    auto m = store::decode_inbound(entry);
    if (!m) {
      dead_letter(entry, m.err().message);
      b->done.push_back(entry.id);
      if (--b->remaining == 0) finish(b);
      continue;
    }
    conversations_.apply_inbound(
        m.value(), place(m.value()),
        [this, b, entry, channel = m->channel](core::result<store::applied_message> a) {
          if (a) {
            b->done.push_back(entry.id);
            if (a->what != store::applied_message::outcome::duplicate) {
              ++applied_;
              parts_.metrics.add("askdesk_messages_routed_total", {{"channel", channel}});
              if (a->what == store::applied_message::outcome::created) {
                parts_.metrics.add("askdesk_conversations_created_total", {{"channel", channel}});
              }
            }
          } else if (a.err().code == "unavailable") {
            b->unavailable = true;
          } else {
            dead_letter(entry, a.err().message);
            b->done.push_back(entry.id);
          }
          if (--b->remaining == 0) finish(b);
        });
  }
}

void hub::finish(const std::shared_ptr<batch>& b) {
  const auto next = [this, b] {
    reading_ = false;
    if (b->unavailable) {
      // What was not applied is still pending: read it again once Redis answers.
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
  if (b->done.empty()) {
    next();
    return;
  }
  std::vector<std::string_view> ack = {"XACK", stream, group};
  std::vector<std::string_view> del = {"XDEL", stream};
  for (const auto& id : b->done) {
    ack.push_back(id);
    del.push_back(id);
  }
  parts_.commands.command(ack, [](store::reply) {});
  parts_.commands.command(del, [this, next, b](store::reply r) {
    if (r.is_unavailable()) b->unavailable = true;  // they stay pending; applying again is a no-op
    next();
  });
}

void hub::dead_letter(const store::stream_entry& entry, const std::string& why) {
  spdlog::error("hub: inbound entry {} cannot be applied: {}", entry.id, why);
  parts_.metrics.add("askdesk_inbound_dead_letters_total", {});
  std::vector<std::string_view> args = {"XADD", dead_stream, "MAXLEN", "~", "10000", "*",
                                        "entry", entry.id, "error", why};
  for (const auto& [key, value] : entry.fields) {
    args.push_back(key);
    args.push_back(value);
  }
  parts_.commands.command(args, [](store::reply) {});
}

}  // namespace askdesk::hub
