#include "daemon/hub/hub.hpp"

#include <spdlog/spdlog.h>

#include "daemon/config/team_hours.hpp"
#include "daemon/core/auto_reply.hpp"
#include "daemon/hub/after_hours.hpp"
#include "daemon/net/timer.hpp"
#include "daemon/store/inbound_codec.hpp"

namespace askdesk::hub {

namespace {

constexpr std::string_view stream = "inbound";
constexpr std::string_view group = "hub";
constexpr std::string_view dead_stream = "inbound:dead";

// The wait for replicas, counting on /metrics the messages it left unacknowledged.
store::replica_wait with_metric(store::replica_wait wait, core::metrics& metrics) {
  wait.fell_short = [&metrics](std::size_t messages) {
    metrics.add("askdesk_replica_waits_short_total", {}, static_cast<double>(messages));
  };
  return wait;
}

}  // namespace

hub::hub(hub_parts parts, hub_options options)
    : parts_(parts),
      inbound_(parts.ingest, parts.scripts, with_metric(options.replicas, parts.metrics)),
      conversations_(parts.commands, parts.scripts, parts.clock),
      consumer_(
          parts.io, parts.reader, parts.commands,
          {.stream = std::string(stream),
           .group = std::string(group),
           .consumer = options.consumer,
           .batch = options.batch,
           .block = options.block,
           .claim_idle = options.claim_idle,
           .claim_every = options.claim_every,
           .max_deliveries = options.max_deliveries},
          [this](std::vector<store::stream_entry> entries,
                 std::function<void(batch_outcome)> finished) {
            process(std::move(entries), std::move(finished));
          },
          [this](const store::stream_entry& entry, std::int64_t deliveries,
                 std::function<void(bool)> stored) {
            dead_letter(entry,
                        "read " + std::to_string(deliveries) +
                            " times and never applied: each time, its daemon stopped or "
                            "lost Redis while applying it",
                        std::move(stored));
          }) {
  auto& m = parts_.metrics;
  m.declare_counter("askdesk_messages_received_total", "Inbound messages stored, by channel.");
  m.declare_counter("askdesk_messages_duplicate_total",
                    "Inbound messages dropped as already stored, by channel.");
  m.declare_counter("askdesk_messages_rejected_total", "Inbound messages refused as invalid.");
  m.declare_counter("askdesk_replica_waits_short_total",
                    "Inbound messages stored but not acknowledged to their source because fewer "
                    "than redis.min_replicas_acked replicas confirmed them in time (the source "
                    "sends them again).");
  m.declare_counter("askdesk_messages_routed_total",
                    "Inbound messages applied to their conversation, by channel.");
  m.declare_counter("askdesk_conversations_created_total", "Conversations started, by channel.");
  m.declare_counter("askdesk_inbound_dead_letters_total",
                    "Inbound entries that could not be applied (see the inbound:dead stream).");
  m.declare_counter("askdesk_after_hours_messages_total",
                    "Inbound messages that arrived while their team was closed, by channel.");
  m.declare_counter("askdesk_auto_acks_sent_total",
                    "Automatic acknowledgements queued to send, by channel.");
  m.declare_counter("askdesk_auto_acks_skipped_total",
                    "Automatic acknowledgements not sent, by reason (automated, <channel>_keyword, "
                    "no_template, taken, opted_out, available, already).");
}

hub::~hub() = default;

void hub::add_connector(connectors::connector& c) { connectors_[c.id()] = &c; }

void hub::start() { consumer_.start(); }

void hub::stop(std::function<void()> done) { consumer_.stop(std::move(done)); }

bool hub::accepting() const { return parts_.ingest.ready(); }

void hub::deliver(core::inbound_message m,
                  std::function<void(core::result<connectors::delivery>)> done) {
  if (m.received_at == core::timestamp{}) m.received_at = parts_.clock.now();
  if (auto problem = core::check_inbound(m)) {
    parts_.metrics.add("askdesk_messages_rejected_total", {{"channel", m.channel}});
    // Later, never inside the call (the connector contract).
    net::post(parts_.io, [done = std::move(done),
                          why = "message from connector " + m.connector + ": " + *problem] {
      done(core::error{"invalid", why});
    });
    return;
  }
  inbound_.append(m, [this, channel = m.channel,
                      done = std::move(done)](core::result<store::ingest_outcome> r) {
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

store::placement hub::place(const core::inbound_message& m) const {
  store::placement p;
  const auto& config = parts_.config;
  auto topic = parts_.topics.classify(m);
  // A topic the patron chose (a deep link) decides over rules and the classifier.
  if (!m.topic.empty() && config.find_topic(m.topic)) {
    topic = {.topic = m.topic,
             .confidence = 1,
             .source = "requested",
             .why = "the patron came by a link for this topic"};
  }
  p.topic = topic.topic;
  p.topic_source = topic.source;
  p.topic_confidence = topic.confidence;
  p.topic_why = topic.why;
  // A topic that rules or the classifier recognised goes to its team; otherwise the team the
  // source asked for (a widget's data-team), else the default topic's team, else the first.
  const auto* t = config.find_topic(topic.topic);
  if (t && topic.source != "default") {
    p.team = t->team;
  } else if (config.find_team(m.team)) {
    p.team = m.team;
  } else {
    p.team = t ? t->team : config.teams.front().id;
  }
  if (const auto it = connectors_.find(m.connector); it != connectors_.end()) {
    p.reopen_window = it->second->reopen_window();
  }
  if (const auto* team = config.find_team(p.team)) {
    p.after_hours = !config::opening_at(*team, m.received_at).open;
  }
  p.consent = consent_of(m);
  p.automated = core::automated_sender(m).has_value();
  return p;
}

void hub::process(std::vector<store::stream_entry> entries,
                  std::function<void(batch_outcome)> finished) {
  struct batch {
    std::size_t remaining;
    batch_outcome outcome;
    std::function<void(batch_outcome)> finished;
  };
  auto b = std::make_shared<batch>(batch{entries.size(), {}, std::move(finished)});
  const auto one_done = [b] {
    if (--b->remaining == 0) b->finished(std::move(b->outcome));
  };
  for (const auto& entry : entries) {
    // A dead-lettered entry is done once inbound:dead has it.
    const auto dead = [this, b, one_done, entry](const std::string& why) {
      dead_letter(entry, why, [b, one_done, id = entry.id](bool stored) {
        if (stored) {
          b->outcome.done.push_back(id);
        } else {
          b->outcome.unavailable = true;
        }
        one_done();
      });
    };
    auto m = store::decode_inbound(entry);
    if (!m) {
      dead(m.err().message);
      continue;
    }
    const auto where = place(m.value());
    auto message = std::make_shared<const core::inbound_message>(std::move(m.value()));
    conversations_.apply_inbound(
        *message, where,
        [this, b, one_done, dead, id = entry.id, message,
         after_hours = where.after_hours](core::result<store::applied_message> a) {
          const auto& m = *message;
          if (!a) {
            if (a.err().code == "unavailable") {
              b->outcome.unavailable = true;
              one_done();
            } else {
              dead(a.err().message);
            }
            return;
          }
          const bool fresh = a->what != store::applied_message::outcome::duplicate;
          if (fresh) {
            ++applied_;
            parts_.metrics.add("askdesk_messages_routed_total", {{"channel", m.channel}});
            if (a->what == store::applied_message::outcome::created) {
              parts_.metrics.add("askdesk_conversations_created_total", {{"channel", m.channel}});
            }
            if (after_hours) {
              parts_.metrics.add("askdesk_after_hours_messages_total", {{"channel", m.channel}});
            }
          }
          // The entry is done once the acknowledgement, if any, is stored too; a redelivery
          // (duplicate) asks again, and the script answers at most once per period.
          acknowledge(m, a.value(), fresh, [b, one_done, id](bool unavailable) {
            if (unavailable) {
              b->outcome.unavailable = true;
            } else {
              b->outcome.done.push_back(id);
            }
            one_done();
          });
        });
  }
}

void hub::acknowledge(const core::inbound_message& m, const store::applied_message& a, bool fresh,
                      std::function<void(bool unavailable)> done) {
  const auto* team = parts_.config.find_team(a.team);
  // A satisfaction score for a closed conversation is no question to acknowledge.
  if (!team || a.what == store::applied_message::outcome::rated) {
    done(false);
    return;
  }
  const auto plan = plan_acknowledgement(*team, m, a.conversation, m.received_at);
  if (!plan.ack) {
    if (fresh && plan.skipped != "open") {
      parts_.metrics.add("askdesk_auto_acks_skipped_total", {{"reason", plan.skipped}});
      spdlog::info("hub: no acknowledgement for conversation {}: {}", a.conversation, plan.why);
    }
    done(false);
    return;
  }
  conversations_.acknowledge(
      a.conversation, plan.ack->period, plan.ack->text,
      [this, done = std::move(done), channel = m.channel, fresh,
       id = a.conversation](core::result<store::acknowledged> r) {
        if (!r) {
          spdlog::warn("hub: {}", r.err().message);
          done(r.err().code == "unavailable");
          return;
        }
        if (r->sent) {
          parts_.metrics.add("askdesk_auto_acks_sent_total", {{"channel", channel}});
          spdlog::info("hub: acknowledged conversation {} automatically (message {})", id,
                       r->message);
        } else if (fresh) {
          parts_.metrics.add("askdesk_auto_acks_skipped_total", {{"reason", r->skipped}});
          spdlog::debug("hub: no acknowledgement for conversation {}: {}", id, r->why);
        }
        done(false);
      });
}

void hub::dead_letter(const store::stream_entry& entry, const std::string& why,
                      std::function<void(bool stored)> stored) {
  spdlog::error("hub: inbound entry {} cannot be applied: {}", entry.id, why);
  std::vector<std::string_view> args = {"XADD", dead_stream, "MAXLEN", "~",     "10000",
                                        "*",    "entry",     entry.id, "error", why};
  for (const auto& [key, value] : entry.fields) {
    args.push_back(key);
    args.push_back(value);
  }
  parts_.commands.command(args, [this, stored = std::move(stored), id = entry.id](store::reply r) {
    if (r.failed()) {
      spdlog::warn("hub: inbound entry {} stays pending: {}", id, r.str());
      stored(false);
      return;
    }
    parts_.metrics.add("askdesk_inbound_dead_letters_total", {});
    stored(true);
  });
}

}  // namespace askdesk::hub
