// The poller's state lives in a shared `state` that rounds hold: a round whose poller was
// destroyed finds `alive` false and does nothing. One round at a time: `busy` is set from the
// lease request to the round's end, and the timer is armed only when no round is in flight.
#include "connectors/poller.hpp"

#include <date/date.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <random>
#include <sstream>

#include "daemon/core/backoff.hpp"
#include "daemon/core/text.hpp"
#include "daemon/net/curl_client.hpp"
#include "daemon/net/timer.hpp"

namespace askdesk::connectors {

namespace {

std::optional<std::int64_t> integer_of(std::string_view text) {
  text = core::trim(text);
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return v;
}

// "Wed, 21 Oct 2026 07:28:00 GMT" (RFC 9110's IMF-fixdate).
std::optional<core::timestamp> http_date(std::string_view text) {
  std::istringstream in{std::string(core::trim(text))};
  date::sys_time<std::chrono::seconds> t;
  in >> date::parse("%a, %d %b %Y %H:%M:%S GMT", t);
  if (in.fail()) return std::nullopt;
  return std::chrono::time_point_cast<std::chrono::milliseconds>(t);
}

// A reset given as epoch seconds (Twitter, GitHub, Telegram's bots), seconds from now (a
// small number, as some APIs do) or an ISO-8601 time (Mastodon).
std::optional<core::timestamp> reset_time(std::string_view text, core::timestamp now) {
  if (auto n = integer_of(text)) {
    if (*n > 1'000'000'000) return core::timestamp{std::chrono::seconds(*n)};
    if (*n >= 0) return now + std::chrono::seconds(*n);
    return std::nullopt;
  }
  return core::parse_iso8601(core::trim(text));
}

}  // namespace

std::optional<std::chrono::milliseconds> rate_limit_wait(const net::incoming_response& r,
                                                         core::timestamp now,
                                                         std::chrono::milliseconds cap) {
  std::optional<core::timestamp> until;
  if (const auto after = r.header("retry-after"); !after.empty()) {
    if (auto seconds = integer_of(after); seconds && *seconds >= 0) {
      until = now + std::chrono::seconds(*seconds);
    } else {
      until = http_date(after);
    }
  }
  const auto remaining = integer_of(r.header("x-ratelimit-remaining"));
  if (!until && (r.status == 429 || (remaining && *remaining <= 0))) {
    until = reset_time(r.header("x-ratelimit-reset"), now);
  }
  if (!until) return std::nullopt;
  const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(*until - now);
  return std::clamp(wait, std::chrono::milliseconds(0), cap);
}

struct poller::state : std::enable_shared_from_this<state> {
  state(connector_context& c, poller_options o, round_fn f)
      : context(c), options(std::move(o)), fn(std::move(f)), timer(c.io()) {
    if (options.lease_ttl.count() == 0) {
      options.lease_ttl =
          std::max<std::chrono::milliseconds>(options.every * 3, std::chrono::seconds(30));
    }
    context.metrics().declare_counter(
        "askdesk_poll_rounds_total",
        "Poll rounds, by connector and outcome (ok, failed, elsewhere: another daemon holds "
        "the lease, paused: Redis is away).");
    context.metrics().declare_gauge("askdesk_poll_backoff_seconds",
                                    "How long a poller waits after failures, by connector.");
  }

  connector_context& context;
  poller_options options;
  const round_fn fn;
  net::timer timer;
  connector_health health;
  bool alive = true;
  bool started = false;
  bool busy = false;   // a round is in flight
  bool poked = false;  // a round was asked for while one was in flight
  int failures = 0;    // rounds failed in a row
  std::minstd_rand random{std::random_device{}()};

  void later(std::chrono::milliseconds delay) {
    if (!alive || !started) return;
    timer.after(delay, [weak = weak_from_this()] {
      if (auto self = weak.lock()) self->begin();
    });
  }

  void count(std::string_view outcome) {
    context.metrics().add("askdesk_poll_rounds_total",
                          {{"connector", options.connector}, {"outcome", std::string(outcome)}});
  }

  void note_error(std::string message) {
    spdlog::warn("{}: {}", options.connector, message);
    health.last_error = std::move(message);
    health.last_error_at = context.clock().now();
  }

  std::chrono::milliseconds backoff() {
    return core::backoff(options.first_backoff, options.max_backoff, failures, random);
  }

  void begin();
  void end(std::optional<std::string> error, std::chrono::milliseconds wait, bool more);
};

void poller::state::begin() {
  if (!alive || !started || busy) return;
  if (!context.accepting()) {  // Redis is away: nothing could be stored
    count("paused");
    later(options.every);
    return;
  }
  busy = true;
  poked = false;
  context.lease(
      options.lease, options.lease_ttl,
      [self = shared_from_this()](core::result<std::optional<lease_grant>> held) {
        if (!self->alive) return;
        if (!held || !*held) {
          self->busy = false;
          if (!held)
            self->note_error("taking the lease " + self->options.lease + ": " + held.err().message);
          self->count(held ? "elsewhere" : "failed");
          self->later(self->options.every);
          return;
        }
        self->context.load(
            self->options.cursor, [self, grant = **held](core::result<state_record> cursor) {
              if (!self->alive) return;
              if (!cursor) {
                self->busy = false;
                self->note_error("reading the cursor: " + cursor.err().message);
                self->count("failed");
                self->later(self->options.every);
                return;
              }
              self->fn(std::shared_ptr<round>(new round(self, grant, std::move(*cursor))));
            });
      });
}

void poller::state::end(std::optional<std::string> error, std::chrono::milliseconds wait,
                        bool more) {
  busy = false;
  if (!alive) return;
  std::chrono::milliseconds next = options.every;
  if (error) {
    ++failures;
    note_error(*error);
    next = wait.count() > 0 ? wait : backoff();
    count("failed");
  } else {
    failures = 0;
    health.last_success = context.clock().now();
    count("ok");
    if (more || poked) next = std::chrono::milliseconds(0);
  }
  context.metrics().set("askdesk_poll_backoff_seconds", {{"connector", options.connector}},
                        error ? static_cast<double>(next.count()) / 1000 : 0);
  later(next);
}

poller::poller(connector_context& context, poller_options options, round_fn fn)
    : state_(std::make_shared<state>(context, std::move(options), std::move(fn))) {}

poller::~poller() {
  state_->alive = false;
  state_->timer.cancel();
}

void poller::start() {
  state_->started = true;
  state_->later(std::chrono::milliseconds(0));
}

void poller::stop() {
  state_->started = false;
  state_->timer.cancel();
}

void poller::poke() {
  if (state_->busy) {
    state_->poked = true;
    return;
  }
  state_->later(std::chrono::milliseconds(0));
}

connector_health poller::health() const { return state_->health; }

connector_health poller::health(const connector_health& own) const {
  auto h = state_->health;
  if (own.last_success > h.last_success) h.last_success = own.last_success;
  if (own.last_error_at > h.last_error_at) {
    h.last_error_at = own.last_error_at;
    h.last_error = own.last_error;
  }
  return h;
}

bool poller::round::stopped() const { return !state_->alive || !state_->started; }

void poller::round::set_backlog(std::int64_t backlog) { state_->health.backlog = backlog; }

void poller::round::deliver(std::vector<core::inbound_message> batch,
                            std::function<void(bool stored)> then) {
  if (batch.empty()) {
    then(true);
    return;
  }
  struct progress {
    std::size_t remaining;
    bool failed = false;
    std::function<void(bool)> then;
  };
  auto p = std::make_shared<progress>(progress{batch.size(), false, std::move(then)});
  for (auto& m : batch) {
    state_->context.deliver(
        std::move(m), [self = shared_from_this(), p](core::result<delivery> stored) {
          if (!stored && stored.err().code == "invalid") {
            // Refused for good: never stored, never read again; the cursor may pass it.
            self->state_->note_error("a message was refused: " + stored.err().message);
          } else if (!stored) {
            p->failed = true;
            self->state_->note_error("storing a message: " + stored.err().message);
          }
          if (--p->remaining == 0 && self->state_->alive) p->then(!p->failed);
        });
  }
}

void poller::round::save_cursor(state_record cursor, std::function<void()> then) {
  state_->context.save_fenced(
      lease_, state_->options.cursor, cursor,
      [self = shared_from_this(), cursor, then = std::move(then)](core::status saved) mutable {
        if (!self->state_->alive) return;
        if (!saved) {
          self->failed("saving the cursor: " + saved.err().message);
          return;
        }
        self->cursor_ = std::move(cursor);
        then();
      });
}

void poller::round::renew(std::function<void()> then) {
  state_->context.lease(
      state_->options.lease, state_->options.lease_ttl,
      [self = shared_from_this(),
       then = std::move(then)](core::result<std::optional<lease_grant>> held) {
        if (!self->state_->alive) return;
        if (!held) {
          self->failed("renewing the lease: " + held.err().message);
        } else if (!*held || (*held)->fence != self->lease_.fence) {
          self->failed("the lease " + self->state_->options.lease + " went to another daemon");
        } else {
          then();
        }
      });
}

void poller::round::done(bool more) { end(std::nullopt, {}, more); }

void poller::round::failed(std::string error, std::chrono::milliseconds wait) {
  end(std::move(error), wait, false);
}

void poller::round::rate_limited(std::string error, const net::incoming_response& r) {
  const auto wait = rate_limit_wait(r, state_->context.clock().now(), state_->options.max_backoff);
  end(std::move(error), wait.value_or(std::chrono::milliseconds(0)), false);
}

void poller::round::end(std::optional<std::string> error, std::chrono::milliseconds wait,
                        bool more) {
  if (ended_) return;
  ended_ = true;
  state_->end(std::move(error), wait, more);
}

}  // namespace askdesk::connectors
