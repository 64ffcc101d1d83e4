// How a lane moves: the lease renewal says whether this daemon sends it; on taking it the
// lane recovers (its own pending entries, then the other consumers' once they are idle past
// the send timeout) and only then reads new entries. Entries wait in memory in one queue per
// conversation; pump() starts the heads of those queues while the lane has room, keeping
// the rate limit. A settled entry leaves memory only once Redis recorded it: until then it
// stays pending, and settling is tried again.
#include "daemon/hub/lanes.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <deque>
#include <map>
#include <random>
#include <unordered_set>

#include "daemon/core/backoff.hpp"
#include "daemon/json/writer.hpp"
#include "daemon/net/timer.hpp"
#include "daemon/store/calls.hpp"
#include "daemon/store/inbound_codec.hpp"
#include "daemon/store/keys.hpp"
#include "daemon/store/streams.hpp"

namespace askdesk::hub {

namespace {

constexpr std::string_view group = "dispatch";
// Where a daemon that stops cleanly leaves the entries it held but had not sent: nothing of
// them is in flight, so the next holder takes them at once instead of after the send timeout.
constexpr std::string_view released = "released";
constexpr std::size_t recover_batch = 200;

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

class outbound_lanes::lane {
 public:
  lane(lanes_parts& parts, const lanes_options& options, connectors::connector& c,
       connectors::lane_settings settings, std::function<void()> wake_reader)
      : parts_(parts),
        options_(options),
        connector_(c),
        settings_(settings),
        stream_(store::keys::outbound(c.id())),
        lease_key_(store::keys::lane_lease(c.id())),
        wake_reader_(std::move(wake_reader)),
        renew_timer_(parts.io),
        pump_timer_(parts.io),
        recover_timer_(parts.io),
        settle_timer_(parts.io) {}

  const std::string& stream() const { return stream_; }
  const std::string& id() const { return connector_.id(); }
  // Reads new entries only while it holds the lease, has recovered and has room.
  bool wants_entries() const {
    return held_ && !recovering_ && !stopping_ && held_ids_.size() < options_.max_held;
  }

  void start() { renew(); }
  // Renews at once (the connection is back): the lane starts without waiting a period.
  void renew_now() {
    if (!stopping_) renew();
  }

  // The group, created when missing (a first start, or Redis emptied); BUSYGROUP when it
  // exists is fine.
  void ensure_group(std::function<void()> then) {
    parts_.commands.command({"XGROUP", "CREATE", stream_, group, "0", "MKSTREAM"},
                            [then = std::move(then)](store::reply) { then(); });
  }

  void stop(std::function<void()> done) {
    stopping_ = true;
    renew_timer_.cancel();
    pump_timer_.cancel();
    recover_timer_.cancel();
    stopped_ = [this, done = std::move(done)] { hand_over(done); };
    maybe_stopped();
  }

  // New entries the reader got for this lane.
  void take(std::vector<store::stream_entry> entries) {
    if (!held_) return;  // read just before the lease went: they stay pending for the holder
    for (auto& e : entries) hold(std::move(e));
    pump();
  }

 private:
  struct held_entry {
    store::stream_entry entry;
    int attempt = 0;
    bool busy = false;  // sending or settling
    core::timestamp ready_at{};
  };

  // ---- the lease
  void renew() {
    if (stopping_) return;
    const auto asked = std::chrono::steady_clock::now();
    store::run(
        parts_.commands, parts_.scripts,
        store::calls::make(store::calls::lease{.key = lease_key_,
                                               .holder = options_.consumer,
                                               .ms = std::to_string(options_.lease_ttl.count())}),
        [this, asked](store::reply r) {
          if (stopping_) return;
          renew_timer_.after(options_.renew_every, [this] { renew(); });
          if (!r.is_integer()) {
            // Redis away: the lease may lapse meanwhile, and another daemon take the lane.
            if (held_ && !lease_fresh()) lose();
            return;
          }
          const auto fence = static_cast<std::uint64_t>(std::max<std::int64_t>(0, r.integer()));
          if (fence == 0) {
            if (held_) lose();
            return;
          }
          renewed_at_ = asked;
          if (!held_ || fence != fence_) {
            take_over(fence);
          } else {
            pump();  // what waited for a fresh lease may go
          }
          count_dead();
        });
  }

  // The dead-letter count as the lane's holder sees it (a supervisor's retry or discard, on
  // any daemon, shows within a renewal); other daemons report none, so a sum is right.
  void count_dead() {
    parts_.commands.command({"LLEN", stream_ + ":dead"}, [this](store::reply r) {
      if (r.is_integer()) {
        parts_.metrics.set("askdesk_outbound_dead_letters", {{"connector", id()}},
                           held_ ? static_cast<double>(r.integer()) : 0);
      }
    });
  }

  void take_over(std::uint64_t fence) {
    spdlog::info("outbound {}: this daemon sends the lane now", id());
    forget_idle();  // what this daemon held before may have been sent by another meanwhile
    held_ = true;
    fence_ = fence;
    recovering_ = true;
    parts_.metrics.set("askdesk_outbound_lane_held", {{"connector", id()}}, 1);
    connector_.lane_held(true);
    ensure_group([this] { read_own_pending("0"); });
  }

  // Another daemon took the lane (this one paused past its lease): sends in flight settle,
  // the rest stays pending for the new holder, which adopts it after the send timeout.
  void lose() {
    spdlog::warn("outbound {}: the lane's lease went to another daemon", id());
    held_ = false;
    parts_.metrics.set("askdesk_outbound_lane_held", {{"connector", id()}}, 0);
    parts_.metrics.set("askdesk_outbound_dead_letters", {{"connector", id()}}, 0);
    connector_.lane_held(false);
    forget_idle();
  }

  // Drops from memory every entry not being sent: they stay pending in Redis, for whoever
  // holds the lane to read again.
  void forget_idle() {
    for (auto it = queues_.begin(); it != queues_.end();) {
      auto& q = it->second;
      for (auto e = q.begin(); e != q.end();) {
        if (e->busy) {
          ++e;
        } else {
          held_ids_.erase(e->entry.id);
          e = q.erase(e);
        }
      }
      it = q.empty() ? queues_.erase(it) : std::next(it);
    }
    set_gauge();
  }

  // Nothing of this lane is in flight any more: its pending entries go to `released` and the
  // lease is given up, so another daemon sends them now. `done` runs either way.
  void hand_over(std::function<void()> done) {
    if (!held_) {
      done();
      return;
    }
    parts_.commands.command(
        {"XPENDING", stream_, group, "-", "+", "1000", options_.consumer},
        [this, done = std::move(done)](store::reply r) {
          std::vector<std::string_view> args = {"XCLAIM", stream_, group, released, "0"};
          if (r.is_array()) {
            for (const auto& p : r.elements()) {
              if (p.is_array() && p.size() >= 1) args.push_back(p[0].str());
            }
          }
          const std::size_t claimed = args.size() - 5;
          args.push_back("JUSTID");
          const auto give_up = [this, done] {
            store::run(parts_.commands, parts_.scripts,
                       store::calls::make(store::calls::lease{
                           .key = lease_key_, .holder = options_.consumer, .ms = "0"}),
                       [done](store::reply) { done(); });
          };
          if (claimed == 0) {
            give_up();
            return;
          }
          parts_.commands.command(args, [give_up](store::reply) { give_up(); });
        });
  }

  // ---- recovery: this daemon's own pending entries, those a daemon released when it
  // stopped, then the other consumers' once idle past the send timeout
  void read_own_pending(std::string after) {
    const std::string count = std::to_string(recover_batch);
    parts_.commands.command({"XREADGROUP", "GROUP", group, options_.consumer, "COUNT", count,
                             "STREAMS", stream_, after},
                            [this](store::reply r) {
                              if (!held_ || stopping_) return;
                              if (r.failed()) {
                                recover_timer_.after(options_.claim_every,
                                                     [this] { read_own_pending("0"); });
                                return;
                              }
                              auto entries = store::parse_entries(r);
                              const std::string last = entries.empty() ? "" : entries.back().id;
                              for (auto& e : entries) hold(std::move(e));
                              if (entries.size() == recover_batch) {
                                read_own_pending(last);
                              } else {
                                take_released();
                              }
                            });
  }

  void take_released() {
    parts_.commands.command(
        {"XPENDING", stream_, group, "-", "+", "1000", released}, [this](store::reply r) {
          if (!held_ || stopping_) return;
          std::vector<std::string_view> args = {"XCLAIM", stream_, group, options_.consumer, "0"};
          if (r.is_array()) {
            for (const auto& p : r.elements()) {
              if (p.is_array() && p.size() >= 1) args.push_back(p[0].str());
            }
          }
          if (args.size() == 5) {
            adopt();
            return;
          }
          parts_.commands.command(args, [this](store::reply claimed) {
            if (!held_ || stopping_) return;
            for (auto& e : store::parse_entries(claimed)) hold(std::move(e));
            adopt();
          });
        });
  }

  void adopt() {
    const auto idle = settings_.send_timeout + options_.claim_margin;
    const std::string ms = std::to_string(idle.count()), count = std::to_string(recover_batch);
    parts_.commands.command(
        {"XAUTOCLAIM", stream_, group, options_.consumer, ms, "0-0", "COUNT", count},
        [this](store::reply r) {
          if (!held_ || stopping_) return;
          if (r.is_array() && r.size() >= 2) {
            for (auto& e : store::parse_entries(r.elements()[1])) {
              if (held_ids_.count(e.id) == 0) {
                spdlog::info("outbound {}: adopted entry {} (message {}) from a daemon gone", id(),
                             e.id, e.field("message"));
              }
              hold(std::move(e));
            }
          }
          check_others();
        });
  }

  // Recovery ends when no other consumer has entries pending on the lane.
  void check_others() {
    parts_.commands.command({"XPENDING", stream_, group}, [this](store::reply r) {
      if (!held_ || stopping_) return;
      bool others = r.failed();
      if (r.is_array() && r.size() >= 4 && r[3].is_array()) {
        for (const auto& consumer : r[3].elements()) {
          if (consumer.is_array() && consumer.size() == 2 &&
              consumer[0].str() != options_.consumer) {
            others = true;
          }
        }
      }
      if (others) {
        recover_timer_.after(options_.claim_every, [this] { take_released(); });
        return;
      }
      recovering_ = false;
      pump();
      wake_reader_();
    });
  }

  // ---- sending
  void hold(store::stream_entry e) {
    if (e.fields.empty()) {  // deleted while pending: nothing to send
      parts_.commands.command({"XACK", stream_, group, e.id}, [](store::reply) {});
      return;
    }
    if (!held_ids_.insert(e.id).second) return;
    auto& q = queues_[e.field("conversation")];
    held_entry h{std::move(e)};
    // Ids grow with time: an adopted older entry goes before newer ones of its conversation.
    auto at = std::find_if(q.begin(), q.end(), [&](const held_entry& x) {
      return !x.busy && store::compare_stream_ids(h.entry.id, x.entry.id) < 0;
    });
    q.insert(at, std::move(h));
    set_gauge();
  }

  // Whether the lease is surely still ours: renewed within its time, less a renewal's. A daemon
  // that was paused past it starts nothing until a renewal says the lane is still its own.
  bool lease_fresh() const {
    return std::chrono::steady_clock::now() - renewed_at_ <
           options_.lease_ttl - options_.renew_every;
  }

  void pump() {
    pump_timer_.cancel();
    if (!held_ || recovering_ || stopping_) return;
    if (!lease_fresh()) {
      renew();
      return;
    }
    const auto now = parts_.clock.now();
    core::timestamp earliest{};
    // The conversations whose next message may go, oldest message first: a busy lane serves
    // them in the order they were written, none starved.
    std::vector<std::pair<const std::string*, held_entry*>> ready;
    for (auto& [conversation, q] : queues_) {
      if (q.empty() || q.front().busy) continue;
      auto& head = q.front();
      if (head.ready_at > now) {
        if (earliest == core::timestamp{} || head.ready_at < earliest) earliest = head.ready_at;
        continue;
      }
      ready.emplace_back(&conversation, &head);
    }
    std::sort(ready.begin(), ready.end(), [](const auto& a, const auto& b) {
      return store::compare_stream_ids(a.second->entry.id, b.second->entry.id) < 0;
    });
    for (auto& [conversation, head] : ready) {
      if (active_ >= settings_.concurrency) break;
      if (settings_.per_second > 0 && next_start_ > now) {
        earliest = next_start_;
        break;
      }
      if (settings_.per_second > 0) {
        next_start_ = now + std::chrono::milliseconds(
                                static_cast<std::int64_t>(1000.0 / settings_.per_second));
      }
      send(*conversation, *head);
    }
    if (earliest != core::timestamp{}) {
      const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(earliest - now);
      pump_timer_.after(std::max(wait, std::chrono::milliseconds(1)), [this] { pump(); });
    }
  }

  // One send, watched: a connector that has not answered within the send timeout (and a
  // margin) breaks its contract; the message is then failed as "may have been sent" rather
  // than sent again or left holding the conversation, and a late answer is ignored.
  // Each attempt first makes sure the entry is still this daemon's and restarts its idle
  // time (own_entry): a daemon that adopts entries idle past the send timeout can then never
  // take one whose send just began, however long it waited in this daemon's memory.
  void send(const std::string& conversation, held_entry& h) {
    h.busy = true;
    ++active_;
    set_gauge();
    const std::string entry_id = h.entry.id;
    store::run(parts_.commands, parts_.scripts,
               store::calls::make(store::calls::own_entry{.connector = id(),
                                                          .group = std::string(group),
                                                          .consumer = options_.consumer,
                                                          .entry = entry_id}),
               [this, conversation, entry_id](store::reply owned) {
                 if (owned.is_integer() && owned.integer() == 1 && held_ && !stopping_) {
                   attempt(conversation, entry_id);
                   return;
                 }
                 --active_;
                 if (owned.is_integer() && owned.integer() == 0) {
                   spdlog::warn("outbound {}: entry {} is no longer this daemon's; not sent", id(),
                                entry_id);
                 }
                 // Not ours any more, or not sure: it stays pending for whoever holds the lane.
                 drop(conversation, entry_id);
                 pump();
                 maybe_stopped();
               });
  }

  void attempt(const std::string& conversation, const std::string& entry_id) {
    auto* h = find(conversation, entry_id);
    if (!h) return;
    auto answered = std::make_shared<bool>(false);
    auto watchdog = std::make_shared<net::timer>(parts_.io);
    watchdog->after(settings_.send_timeout + options_.claim_margin,
                    [this, conversation, entry_id, answered] {
                      if (*answered) return;
                      *answered = true;
                      spdlog::error(
                          "outbound {}: the connector did not answer within its send "
                          "timeout for entry {}",
                          id(), entry_id);
                      finish_send(conversation, entry_id,
                                  connectors::send_result::permanent(
                                      "the channel did not answer within the send timeout; the "
                                      "message may or may not have been delivered, so it is not "
                                      "sent again"));
                    });
    connector_.send(to_outbound(h->entry),
                    [this, conversation, entry_id, answered, watchdog](connectors::send_result r) {
                      watchdog->cancel();
                      if (*answered) return;  // too late: already failed by the watchdog
                      *answered = true;
                      finish_send(conversation, entry_id, std::move(r));
                    });
  }

  void finish_send(const std::string& conversation, const std::string& entry_id,
                   connectors::send_result r) {
    --active_;
    auto* h = find(conversation, entry_id);
    if (!h) return;  // cannot happen: a busy entry is never dropped
    using outcome = connectors::send_result::outcome;
    ++h->attempt;
    if (r.what == outcome::retry && !held_) {
      // The lane went to another daemon meanwhile: the entry is its to send now.
      drop(conversation, entry_id);
      maybe_stopped();
      return;
    }
    if (r.what == outcome::retry && h->attempt < settings_.max_attempts) {
      const auto delay = std::max(backoff(h->attempt), r.retry_after);
      spdlog::warn("outbound {}: message {}: {} (attempt {}, again in {} ms)", id(),
                   h->entry.field("message"), r.error, h->attempt, delay.count());
      parts_.metrics.add("askdesk_messages_retried_total", {{"connector", id()}});
      h->busy = false;
      h->ready_at = parts_.clock.now() + delay;
      pump();
      maybe_stopped();
      return;
    }
    settle(conversation, entry_id, std::move(r));
    pump();
  }

  void settle(const std::string& conversation, const std::string& entry_id,
              connectors::send_result r) {
    auto* h = find(conversation, entry_id);
    if (!h) return;
    using outcome = connectors::send_result::outcome;
    const bool sent = r.what == outcome::sent;
    std::string letter;
    if (!sent) {
      json::writer w;
      w.start_object()
          .field("id", entry_id)
          .field("connector", id())
          .field("failed_at", core::format_iso8601(parts_.clock.now()))
          .field("attempts", static_cast<std::int64_t>(h->attempt))
          .field("error_code", r.error_code)
          .field("error", r.error)
          .key("entry")
          .start_object();
      for (const auto& [k, v] : h->entry.fields) w.field(k, v);
      w.end_object().end_object();
      letter = w.str();
    }
    store::calls::settle_outbound in{.now = std::to_string(core::to_millis(parts_.clock.now())),
                                     .connector = id(),
                                     .group = std::string(group),
                                     .entry = entry_id,
                                     .conversation = h->entry.field("conversation"),
                                     .message = h->entry.field("message"),
                                     .status = sent ? "sent" : "failed",
                                     .provider_id = r.provider_id,
                                     .code = r.error_code,
                                     .why = r.error,
                                     .letter = letter,
                                     .most = std::to_string(options_.max_dead)};
    store::run(parts_.commands, parts_.scripts, store::calls::make(in),
               // `r` is copied: `args` views its strings until the command is written.
               [this, conversation, entry_id, r](store::reply done) mutable {
                 if (!done.is_integer()) {  // Redis away: the entry stays, settle again
                   spdlog::error("outbound {}: recording entry {}: {}", id(), entry_id, done.str());
                   unsettled_.push_back({conversation, entry_id, std::move(r)});
                   if (!settle_timer_.pending()) {
                     settle_timer_.after(std::chrono::seconds(1), [this] { settle_again(); });
                   }
                   return;
                 }
                 if (r.what == connectors::send_result::outcome::sent) {
                   parts_.metrics.add("askdesk_messages_sent_total", {{"connector", id()}});
                 } else {
                   parts_.metrics.add("askdesk_messages_failed_total", {{"connector", id()}});
                   spdlog::warn("outbound {}: entry {} failed for good: {} {}", id(), entry_id,
                                r.error_code, r.error);
                 }
                 parts_.metrics.set("askdesk_outbound_dead_letters", {{"connector", id()}},
                                    static_cast<double>(done.integer()));
                 drop(conversation, entry_id);
                 pump();
                 maybe_stopped();
               });
  }

  void settle_again() {
    auto waiting = std::move(unsettled_);
    unsettled_.clear();
    for (auto& [conversation, entry_id, r] : waiting) settle(conversation, entry_id, std::move(r));
  }

  held_entry* find(const std::string& conversation, const std::string& entry_id) {
    const auto it = queues_.find(conversation);
    if (it == queues_.end()) return nullptr;
    for (auto& h : it->second) {
      if (h.entry.id == entry_id) return &h;
    }
    return nullptr;
  }

  void drop(const std::string& conversation, const std::string& entry_id) {
    const auto it = queues_.find(conversation);
    if (it == queues_.end()) return;
    std::erase_if(it->second, [&](const held_entry& h) { return h.entry.id == entry_id; });
    if (it->second.empty()) queues_.erase(it);
    held_ids_.erase(entry_id);
    set_gauge();
    wake_reader_();
  }

  std::chrono::milliseconds backoff(int attempt) {
    return core::backoff(options_.first_retry, options_.max_retry, attempt, random_);
  }

  void set_gauge() {
    parts_.metrics.set("askdesk_outbound_in_flight", {{"connector", id()}}, active_);
    parts_.metrics.set("askdesk_outbound_waiting", {{"connector", id()}},
                       static_cast<double>(held_ids_.size()));
  }

  void maybe_stopped() {
    if (!stopping_ || !stopped_) return;
    for (const auto& [c, q] : queues_) {
      for (const auto& h : q) {
        if (h.busy) return;
      }
    }
    auto done = std::move(stopped_);
    stopped_ = nullptr;
    done();
  }

  lanes_parts& parts_;
  const lanes_options& options_;
  connectors::connector& connector_;
  const connectors::lane_settings settings_;
  const std::string stream_;
  const std::string lease_key_;
  const std::function<void()> wake_reader_;
  net::timer renew_timer_, pump_timer_, recover_timer_, settle_timer_;
  std::map<std::string, std::deque<held_entry>> queues_;  // by conversation
  std::unordered_set<std::string> held_ids_;
  struct unsettled {
    std::string conversation, entry_id;
    connectors::send_result result;
  };
  std::vector<unsettled> unsettled_;  // outcomes Redis did not record yet
  int active_ = 0;
  bool held_ = false;
  bool recovering_ = false;
  bool stopping_ = false;
  std::uint64_t fence_ = 0;
  std::chrono::steady_clock::time_point renewed_at_{};  // when the last renewal was asked
  core::timestamp next_start_{};
  std::minstd_rand random_{std::random_device{}()};
  std::function<void()> stopped_;
};

// The reader: one blocking XREADGROUP over the lanes that want entries.
struct outbound_lanes::loop {
  explicit loop(boost::asio::io_context& io) : idle(io) {}
  net::timer idle;
  bool reading = false;
  bool stopping = false;
  std::function<void()> after_read;  // stopping: what waits for the read in flight
};

outbound_lanes::outbound_lanes(lanes_parts parts, lanes_options options)
    : parts_(parts), options_(std::move(options)), loop_(std::make_unique<loop>(parts.io)) {
  auto& m = parts_.metrics;
  m.declare_counter("askdesk_messages_sent_total",
                    "Outgoing messages a channel accepted, by connector.");
  m.declare_counter("askdesk_messages_failed_total",
                    "Outgoing messages that failed for good, by connector.");
  m.declare_counter("askdesk_messages_retried_total",
                    "Outgoing sends deferred to try again, by connector.");
  m.declare_gauge("askdesk_outbound_dead_letters",
                  "Sends that failed for good and wait for a supervisor, by connector.");
  m.declare_gauge("askdesk_outbound_in_flight", "Sends in flight on this daemon, by connector.");
  m.declare_gauge("askdesk_outbound_waiting",
                  "Outgoing messages this daemon holds to send, by connector.");
  m.declare_gauge("askdesk_outbound_lane_held",
                  "1 when this daemon sends the connector's lane, else 0.");
}

outbound_lanes::~outbound_lanes() = default;

void outbound_lanes::add(connectors::connector& c, const connectors::lane_settings& settings) {
  lanes_.push_back(std::make_unique<lane>(parts_, options_, c, settings, [this] {
    if (!loop_->reading) read();
  }));
}

void outbound_lanes::start() {
  for (auto& l : lanes_) l->start();
  const auto on_ready = [this] {
    migrate();
    for (auto& l : lanes_) l->renew_now();
  };
  parts_.commands.on_ready(on_ready);
  if (parts_.commands.ready()) on_ready();  // started once the data was migrated
  parts_.reader.on_ready([this] {
    if (!loop_->reading) read();
  });
  read();
}

// What an older release left on its single outbound stream goes to the lanes (once it is
// empty, this is one EXISTS-like check per connection).
void outbound_lanes::migrate() {
  store::calls::migrate_outbound in;
  for (const auto& l : lanes_) in.connectors.push_back(std::string(l->id()));
  store::run(parts_.commands, parts_.scripts, store::calls::make(in), [](store::reply r) {
    if (r.is_integer() && r.integer() > 0) {
      spdlog::info(
          "outbound: {} queued message(s) moved from the old outbound stream "
          "to their connectors' lanes",
          r.integer());
    }
  });
}

void outbound_lanes::stop(std::function<void()> done) {
  loop_->stopping = true;
  loop_->idle.cancel();
  if (loop_->reading) {
    // Entries a read in flight brings are pending on this daemon: hand them over too.
    loop_->after_read = [this, done = std::move(done)]() mutable { stop_lanes(std::move(done)); };
    return;
  }
  stop_lanes(std::move(done));
}

void outbound_lanes::stop_lanes(std::function<void()> done) {
  auto remaining = std::make_shared<std::size_t>(lanes_.size() + 1);
  auto one = [remaining, done = std::move(done)] {
    if (--*remaining == 0) done();
  };
  for (auto& l : lanes_) l->stop(one);
  one();
}

void outbound_lanes::read() {
  if (loop_->stopping || loop_->reading) return;
  std::vector<std::string_view> streams;
  for (const auto& l : lanes_) {
    if (l->wants_entries()) streams.push_back(l->stream());
  }
  if (streams.empty() || !parts_.reader.ready()) {
    loop_->idle.after(std::chrono::milliseconds(200), [this] { read(); });
    return;
  }
  loop_->idle.cancel();
  loop_->reading = true;
  const std::string block = std::to_string(options_.block.count());
  std::vector<std::string_view> args = {"XREADGROUP", "GROUP", group, options_.consumer, "COUNT",
                                        "100",        "BLOCK", block, "STREAMS"};
  args.insert(args.end(), streams.begin(), streams.end());
  for (std::size_t i = 0; i < streams.size(); ++i) args.push_back(">");
  parts_.reader.command(
      args, [this](store::reply r) { on_read(std::move(r)); }, options_.block);
}

void outbound_lanes::on_read(store::reply r) {
  loop_->reading = false;
  if (loop_->stopping) {
    if (auto then = std::move(loop_->after_read)) then();
    return;
  }
  if (r.failed()) {
    if (r.is_error() && r.str().starts_with("NOGROUP")) {
      for (auto& l : lanes_) l->ensure_group([] {});
    }
    loop_->idle.after(std::chrono::milliseconds(500), [this] { read(); });
    return;
  }
  std::map<std::string, std::vector<store::stream_entry>> by_lane;
  for (auto& e : store::parse_entries(r)) by_lane[e.field("connector")].push_back(std::move(e));
  for (auto& [connector, entries] : by_lane) {
    const auto it = std::find_if(lanes_.begin(), lanes_.end(),
                                 [&](const auto& l) { return l->id() == connector; });
    if (it != lanes_.end()) (*it)->take(std::move(entries));
  }
  read();
}

}  // namespace askdesk::hub
