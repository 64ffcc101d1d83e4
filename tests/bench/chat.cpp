// Chat: 2,000 patron widget sockets send at a steady rate (open loop: each message leaves at
// its scheduled time, whatever the answers do); 50 staff dashboards, five per team, answer
// each patron message over the REST API as soon as its event arrives. The round trip is
// patron -> staff dashboard -> patron, from the scheduled send to the reply's frame. The rate
// steps up until p99 passes 50 ms. Baseline: the same patrons against askdesk_ws_echo.
#include <atomic>
#include <deque>
#include <functional>

#include <boost/asio/steady_timer.hpp>

#include "tests/bench/clients.hpp"
#include "tests/bench/redis_limit.hpp"
#include "tests/bench/scenarios.hpp"
#include "tests/support/askdesk_daemon.hpp"
#include "tests/support/temp_dir.hpp"

namespace askdesk::bench {

namespace {

constexpr int patron_count = 2000, team_count = 10, staff_per_team = 5;
constexpr double p99_bar_ms = 50;
constexpr auto tick = std::chrono::milliseconds(2);
constexpr auto reply_wait = std::chrono::seconds(2);  // then a missing reply counts as this

// Patrons on one server, and the schedule of what they send and get back. Lives on the io
// thread once started.
class patron_load {
 public:
  struct target {
    int port;
    header_list headers;
    std::function<std::string(int patron)> hello;  // "" sends none
    std::string ready_marker;                      // a frame with it: the patron is ready
    std::string reply_marker;                      // "<marker><seq>" in a frame: answered
  };

  patron_load(io_thread& loop, target t) : loop_(loop), t_(std::move(t)), timer_(loop.io()) {}

  void connect() {
    loop_.run([this] {
      for (int i = 0; i < patron_count; ++i) {
        ws_connection::handlers h;
        h.opened = [this, i](bool ok) {
          if (!ok) return void(++failed_);
          const auto hello = t_.hello(i);
          if (hello.empty()) {
            ++ready_;
          } else {
            patrons_[i]->send(hello);
          }
        };
        h.frame = [this](std::string_view frame) {
          if (!t_.ready_marker.empty() && frame.find(t_.ready_marker) != std::string_view::npos) {
            ++ready_;
          }
          if (const auto seq = number_after(frame, t_.reply_marker); seq && *seq < sent_.size()) {
            if (answered_[*seq] == steady::time_point{}) answered_[*seq] = steady::now();
          }
        };
        h.closed = [] {};
        patrons_.push_back(ws_connection::open(loop_.io(), t_.port, "/ws/patron", t_.headers, h));
      }
    });
    if (!wait_for([&] { return ready_ + failed_ == patron_count; }, std::chrono::seconds(60)) ||
        failed_ > 0) {
      throw std::runtime_error("chat: " + std::to_string(ready_.load()) + " of " +
                               std::to_string(patron_count) + " patrons connected, " +
                               std::to_string(failed_.load()) + " failed");
    }
  }

  // Sends at `rate` per second for `seconds`; the round trips' latencies in ms, a missing
  // reply counted as reply_wait.
  std::vector<double> step(double rate, double seconds) {
    const auto count = static_cast<std::uint64_t>(rate * seconds);
    std::uint64_t first = 0;
    const auto start = steady::now();
    loop_.run([&] {  // late replies of the last step may be arriving: resize on their thread
      first = sent_.size();
      sent_.resize(first + count);
      answered_.resize(first + count);
      next_ = first;
      schedule(start, first, count, rate);
    });
    if (!wait_for([&] { return done_.load(); },
                  std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::duration<double>(seconds + 5)))) {
      throw std::runtime_error("chat: the load generator fell behind its schedule at " +
                               fixed(rate) + "/s");
    }
    std::this_thread::sleep_for(reply_wait);
    std::vector<double> ms;
    loop_.run([&] {
      for (std::uint64_t s = first; s < first + count; ++s) {
        ms.push_back(
            answered_[s] == steady::time_point{}
                ? std::chrono::duration<double, std::milli>(reply_wait).count()
                : std::chrono::duration<double, std::milli>(answered_[s] - sent_[s]).count());
      }
    });
    return ms;
  }

  void close() {
    loop_.run([&] {
      for (auto& p : patrons_) p->close();
    });
  }

  std::function<std::string(std::uint64_t seq)> message;

 private:
  void schedule(steady::time_point start, std::uint64_t first, std::uint64_t count, double rate) {
    done_ = false;
    timer_.expires_after(tick);
    timer_.async_wait([=, this](boost::system::error_code ec) {
      if (ec) return;
      const double elapsed = std::chrono::duration<double>(steady::now() - start).count();
      const auto due = std::min(count, static_cast<std::uint64_t>(elapsed * rate));
      for (std::uint64_t i = next_ - first; i < due; ++i, ++next_) {
        // Its scheduled time, not when the timer came round to it.
        sent_[next_] = start + std::chrono::duration_cast<steady::duration>(
                                   std::chrono::duration<double>(i / rate));
        patrons_[next_ % patrons_.size()]->send(message(next_));
      }
      if (next_ - first < count) {
        schedule(start, first, count, rate);
      } else {
        done_ = true;
      }
    });
  }

  io_thread& loop_;
  target t_;
  boost::asio::steady_timer timer_;
  std::vector<std::shared_ptr<ws_connection>> patrons_;
  std::atomic<int> ready_{0}, failed_{0};
  std::atomic<bool> done_{false};
  std::uint64_t next_ = 0;
  std::vector<steady::time_point> sent_, answered_;
};

// A staff member: their dashboard socket, and one keep-alive connection for their replies.
struct staff_member {
  std::shared_ptr<ws_connection> socket;
  std::shared_ptr<http_connection> http;
  testing::staff_session session;
  std::deque<http_call> queue;
  bool busy = false;
  std::uint64_t failed = 0;

  void reply(http_call c) {
    queue.push_back(std::move(c));
    if (!busy) next();
  }

  void next() {
    if (queue.empty()) {
      busy = false;
      return;
    }
    busy = true;
    http->call(std::move(queue.front()), [this](http_answer a) {
      if (a.status != 201) ++failed;
      next();
    });
    queue.pop_front();
  }
};

struct step_result {
  double rate, p50, p99, p999;
};

// Steps through `rates` while p99 stays under the bar (always up to 2,000/s, for the keys).
// `around(rate, before)` runs just before and just after each step.
std::vector<step_result> climb(patron_load& load, const std::vector<double>& rates, double seconds,
                               const std::function<void(double, bool)>& around = {}) {
  std::vector<step_result> steps;
  for (const double rate : rates) {
    if (around) around(rate, true);
    const percentiles p(load.step(rate, seconds));
    if (around) around(rate, false);
    steps.push_back({rate, p.at(0.5), p.at(0.99), p.at(0.999)});
    if (p.at(0.99) >= p99_bar_ms && rate >= 2000) break;
  }
  return steps;
}

double highest_under_bar(const std::vector<step_result>& steps) {
  double best = 0;
  for (const auto& s : steps) {
    if (s.p99 < p99_bar_ms) best = std::max(best, s.rate);
  }
  return best;
}

const step_result* at_rate(const std::vector<step_result>& steps, double rate) {
  for (const auto& s : steps) {
    if (s.rate == rate) return &s;
  }
  return nullptr;
}

}  // namespace

void chat(results& out, const options& o) {
  const std::vector<double> rates =
      o.quick ? std::vector<double>{250, 1000}
              : std::vector<double>{250, 500, 1000, 1500, 2000, 3000, 4000};
  const double seconds = std::max(2.0, o.seconds / 2);

  // Baseline first: the echo server, with the same patrons and schedule.
  std::vector<step_result> echo_steps;
  {
    testing::temp_dir dir;
    const int port = testing::free_port();
    testing::child_process echo({ASKDESK_WS_ECHO, std::to_string(port)}, dir.file("echo.log"));
    if (!wait_for([&] { return testing::port_accepts(port); }, std::chrono::seconds(5))) {
      throw std::runtime_error("chat: askdesk_ws_echo did not start: " + echo.log());
    }
    io_thread loop;
    patron_load load(loop, {.port = port,
                            .headers = {},
                            .hello = [](int) { return std::string(); },
                            .ready_marker = "",
                            .reply_marker = "chat-"});
    const stop_at_exit stop(loop);  // before `load`, which the handlers use, goes
    load.message = [](std::uint64_t seq) {
      return R"({"type":"message","text":"chat-)" + std::to_string(seq) +
             R"( Where is the local history room?","client_id":"c)" + std::to_string(seq) + "\"}";
    };
    load.connect();
    echo_steps = climb(load, rates, seconds);
    load.close();
  }

  testing::redis_server redis("everysec");
  std::string teams;
  for (int t = 0; t < team_count; ++t) {
    teams +=
        std::string(t ? "," : "") + R"({"id": "t)" + std::to_string(t) + R"(", "capacity": 50})";
  }
  const std::string config = R"({"teams": [)" + teams + R"(],
    "connectors": [{"id": "webchat", "type": "webchat", "messages_per_minute": 600}]})";
  testing::askdesk_daemon daemon(redis, config, {"--log-level", "warn"});
  const pid_t daemon_pid = daemon.process().pid();
  const pid_t redis_pid = redis.pid();

  // The load generator's loop outlives every socket on it (declared first, destroyed last).
  io_thread loop;
  std::vector<std::unique_ptr<staff_member>> staff;
  for (int i = 0; i < team_count * staff_per_team; ++i) {
    const std::string name = "staff" + std::to_string(i);
    daemon.add_user(name, "staff", {"t" + std::to_string(i % team_count)}, "bench-password-1");
    auto s = std::make_unique<staff_member>();
    s->session = daemon.login(name, "bench-password-1");
    daemon.call(s->session, "POST", "/api/v1/me/presence", R"({"presence":"available"})");
    staff.push_back(std::move(s));
  }

  std::atomic<int> staff_open{0};
  const stop_at_exit stop_staff(loop);  // before `staff` and `staff_open` go
  loop.run([&] {
    for (int i = 0; i < static_cast<int>(staff.size()); ++i) {
      auto* member = staff[i].get();
      const int slot = i / team_count;  // which of the team's five answers
      member->http = http_connection::make(loop.io(), daemon.port());
      ws_connection::handlers h;
      h.opened = [&](bool ok) { staff_open += ok ? 1 : 0; };
      h.frame = [member, slot](std::string_view frame) {
        if (frame.find(R"("event":"message.created")") == std::string_view::npos) return;
        const auto seq = number_after(frame, "chat-");
        const std::string conversation = testing::json_string(std::string(frame), "conversation");
        if (!seq || conversation.empty() ||
            std::hash<std::string>{}(conversation) % staff_per_team !=
                static_cast<unsigned>(slot)) {
          return;
        }
        member->reply({.target = "/api/v1/conversations/" + conversation + "/messages",
                       .body = R"({"text":"reply-)" + std::to_string(*seq) +
                               R"( It is on the second floor, open until 5."})",
                       .headers = {{"Content-Type", "application/json"},
                                   {"Cookie", member->session.cookie},
                                   {"X-CSRF-Token", member->session.csrf}}});
      };
      h.closed = [] {};
      member->socket =
          ws_connection::open(loop.io(), daemon.port(), "/ws/staff",
                              {{"Origin", daemon.origin()}, {"Cookie", member->session.cookie}}, h);
    }
  });
  if (!wait_for([&] { return staff_open == static_cast<int>(staff.size()); },
                std::chrono::seconds(10))) {
    throw std::runtime_error("chat: the staff sockets did not open");
  }

  patron_load load(loop, {.port = daemon.port(),
                          .headers = {{"Origin", daemon.origin()}},
                          .hello =
                              [](int i) {
                                return R"({"type":"hello","team":"t)" +
                                       std::to_string(i % team_count) + R"(","name":"Patron )" +
                                       std::to_string(i) + "\"}";
                              },
                          .ready_marker = R"("type":"welcome")",
                          .reply_marker = "reply-"});
  const stop_at_exit stop(loop);  // before `load` goes
  load.message = [](std::uint64_t seq) {
    return R"({"type":"message","text":"chat-)" + std::to_string(seq) +
           R"( Where is the local history room?","client_id":"c)" + std::to_string(seq) + "\"}";
  };
  load.connect();
  const double cpu0 = cpu_seconds(daemon_pid), redis_cpu0 = cpu_seconds(redis_pid),
               own_cpu0 = cpu_seconds();
  redis.command({"CONFIG", "RESETSTAT"});
  // Each function's time is taken during the 1,000 msg/s step (SLOWLOG keeps its commands).
  std::string scripts_time = "not measured";
  const auto time_functions = [&](double rate, bool before) {
    if (rate != 1000) return;
    if (before) {
      start_script_timing(redis, 200000);
    } else {
      scripts_time = script_time(redis, "apply_inbound");
    }
  };
  const auto start = steady::now();
  const auto steps = climb(load, rates, seconds, time_functions);
  const double wall = std::chrono::duration<double>(steady::now() - start).count();
  const double daemon_cores = (cpu_seconds(daemon_pid) - cpu0) / wall;
  const double redis_cores = (cpu_seconds(redis_pid) - redis_cpu0) / wall;
  const double own_cores = (cpu_seconds() - own_cpu0) / wall;
  double messages = 0;
  for (const auto& s : steps) messages += s.rate * seconds;
  const std::string redis_time = command_time(redis, messages);
  std::uint64_t refused = 0;
  loop.run([&] {
    for (auto& s : staff) refused += s->failed;
  });
  load.close();
  loop.run([&] {
    for (auto& s : staff) s->socket->close();
  });

  for (const auto& s : steps) {
    const auto* e = at_rate(echo_steps, s.rate);
    out.row("chat", "patron -> staff -> patron p50 / p99 / p99.9 ms at " + fixed(s.rate) + "/s",
            fixed(s.p50, 1) + " / " + fixed(s.p99, 1) + " / " + fixed(s.p999, 1),
            e ? fixed(e->p50, 1) + " / " + fixed(e->p99, 1) + " / " + fixed(e->p999, 1) + " (echo)"
              : "",
            e ? fixed(s.p99 / e->p99, 1) : "");
  }
  const double best = highest_under_bar(steps), echo_best = highest_under_bar(echo_steps);
  // When the echo server stayed under the bar at every step, its limit is not known: no ratio.
  const bool echo_limited = echo_best < rates.back();
  out.row("chat", "highest steady rate with p99 < 50 ms (of the steps)", fixed(best),
          (echo_limited ? "" : ">= ") + fixed(echo_best) + " (echo)",
          echo_limited && echo_best > 0 ? fixed(best / echo_best, 2) : "");
  if (const auto* s = at_rate(steps, 1000)) out.set("chat_p99_ms_at_1000", s->p99);
  if (const auto* e = at_rate(echo_steps, 1000)) out.set("chat_echo_p99_ms_at_1000", e->p99);
  if (const auto* s = at_rate(steps, 2000)) out.set("chat_p99_ms_at_2000", s->p99);
  if (const auto* e = at_rate(echo_steps, 2000)) out.set("chat_echo_p99_ms_at_2000", e->p99);
  out.set("chat_max_rate_p99_under_50ms", best);
  out.set("chat_echo_max_rate_p99_under_50ms", echo_best);
  out.note("chat: " + std::to_string(patron_count) + " patrons over " + std::to_string(team_count) +
           " teams, " + std::to_string(team_count * staff_per_team) +
           " staff (each reply a REST call); " + fixed(seconds) +
           " s per step; averaged over the climb, its 2 s pauses included, the daemon used " +
           fixed(daemon_cores, 2) + " cores, redis-server " + fixed(redis_cores, 2) +
           ", the load generator " + fixed(own_cores, 2) + "; " + std::to_string(refused) +
           " replies refused. Redis time per patron message: " + redis_time +
           ". By function, at 1,000 msg/s: " + scripts_time +
           ". The echo "
           "baseline is one hop, askdesk's round trip two (patron -> staff, staff -> patron) "
           "through Redis.");
}

}  // namespace askdesk::bench
