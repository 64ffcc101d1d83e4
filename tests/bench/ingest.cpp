// Ingest: signed Twilio webhooks over keep-alive connections at full speed for a fixed time,
// each stored, applied to its conversation, routed, and seen by a staff dashboard over
// /ws/staff. Reports messages per second (and per core the daemon used) and the latency from
// the webhook's send to the staff socket's frame; the baseline is redis-benchmark running the
// Redis commands one message cost in this run (redis_limit.cpp).
#include <atomic>
#include <cstdio>
#include <set>

#include "connectors/twilio/signature.hpp"
#include "daemon/net/http.hpp"
#include "tests/bench/clients.hpp"
#include "tests/bench/redis_limit.hpp"
#include "tests/bench/scenarios.hpp"
#include "tests/support/askdesk_daemon.hpp"

namespace askdesk::bench {

namespace {

const std::string twilio_account = "AC0123456789abcdef0123456789abcdef";
const std::string twilio_token = "twilio-auth-token-for-the-benchmark";
const std::string twilio_number = "+15550100199";

}  // namespace

std::string twilio_connector_json() {
  return R"({"id": "sms", "type": "twilio", "account_sid": ")" + twilio_account +
         R"(", "auth_token": ")" + twilio_token + R"(", "number": ")" + twilio_number + R"("})";
}

namespace {

constexpr int keep_alive_connections =
    32;                        // keep-alive webhook connections, each one request at a time
constexpr int senders = 1000;  // distinct phone numbers: most texts join an open conversation
constexpr std::size_t max_messages = 2'000'000;  // a bound on the count, whatever the speed

// A webhook as Twilio sends it for an incoming SMS (the parameters of its documentation).
net::form_fields webhook(std::uint64_t seq) {
  char sid[40], from[16];
  std::snprintf(sid, sizeof sid, "SM%032llx", static_cast<unsigned long long>(seq));
  std::snprintf(from, sizeof from, "+1555%07llu",
                static_cast<unsigned long long>(2'000'000 + seq % senders));
  return {{"ToCountry", "US"},
          {"ToState", "CA"},
          {"SmsMessageSid", sid},
          {"NumMedia", "0"},
          {"ToCity", "SAN FRANCISCO"},
          {"FromZip", "94105"},
          {"SmsSid", sid},
          {"FromState", "CA"},
          {"SmsStatus", "received"},
          {"FromCity", "SAN FRANCISCO"},
          {"Body", "ingest-" + std::to_string(seq) + " Can I renew my books online?"},
          {"FromCountry", "US"},
          {"To", twilio_number},
          {"ToZip", "94105"},
          {"NumSegments", "1"},
          {"MessageSid", sid},
          {"AccountSid", twilio_account},
          {"From", from},
          {"ApiVersion", "2010-04-01"}};
}

// Replaces every `prefix` followed by `digits` characters of `allowed` in `text`.
std::string replace_ids(std::string text, std::string_view prefix, std::size_t digits,
                        std::string_view allowed, const std::string& by) {
  for (std::size_t at = text.find(prefix); at != std::string::npos; at = text.find(prefix, at)) {
    const std::size_t end = at + prefix.size() + digits;
    bool matches = end <= text.size();
    for (std::size_t i = at + prefix.size(); matches && i < end; ++i) {
      matches = allowed.find(text[i]) != std::string_view::npos;
    }
    if (!matches) {
      at += prefix.size();
      continue;
    }
    text.replace(at, end - at, by);
    at += by.size();
  }
  return text;
}

constexpr std::string_view hex = "0123456789abcdef";

// A sampled command as redis-benchmark repeats it: a new message id each time (three random
// numbers: 10^9 of them) from the sampled sender, so each continues that sender's
// conversation, as all but 1,000 of the run's messages do. (The sender cannot be random too:
// it is both the thread and the address, and redis-benchmark would draw each separately,
// making nearly every message a new conversation.)
command_line randomize(command_line c) {
  for (auto& arg : c)
    arg = replace_ids(arg, "SM", 32, hex, "SM__rand_int____rand_int____rand_int__");
  return c;
}

// How many messages a sample of commands was about: their distinct message ids.
double messages_in(const std::vector<command_line>& sample) {
  std::set<std::string> sids;
  for (const auto& c : sample) {
    for (const auto& arg : c) {
      for (std::size_t at = arg.find("SM"); at != std::string::npos; at = arg.find("SM", at + 1)) {
        const std::string id = arg.substr(at, 34);
        if (id.size() == 34 && id.find_first_not_of(hex, 2) == std::string::npos) sids.insert(id);
      }
    }
  }
  return static_cast<double>(sids.size());
}

// One measured run of the ingest scenario against a Redis with `appendfsync`.
struct ingest_run {
  double rate = 0, wall = 0, daemon_cpu = 0, own_cpu = 0, redis_cpu = 0;
  double p50 = 0, p99 = 0, p999 = 0;
  redis_limit_result limit;
  std::string redis_time;
  std::uint64_t webhooks = 0, refused = 0, missing = 0;
};

ingest_run measure_ingest(const options& o, const std::string& appendfsync) {
  testing::redis_server redis(appendfsync);
  const std::string config = R"({"teams": [{"id": "reference", "capacity": 10}],
    "connectors": [)" + twilio_connector_json() +
                             "]}";
  auto running = std::make_unique<testing::askdesk_daemon>(
      redis, config, std::vector<std::string>{"--log-level", "warn"});
  auto& daemon = *running;
  daemon.add_user("bench", "staff", {"reference"}, "bench-password-1");
  const auto session = daemon.login("bench", "bench-password-1");
  daemon.call(session, "POST", "/api/v1/me/presence", R"({"presence":"available"})");
  const std::string url = daemon.url("/webhooks/twilio/sms");
  const pid_t daemon_pid = daemon.process().pid();
  const pid_t redis_pid = redis.pid();

  // Written on the io thread only; read by this thread after the io thread stopped.
  std::vector<steady::time_point> sent(max_messages);
  std::vector<steady::time_point> seen(max_messages);
  std::atomic<std::uint64_t> next{0}, ok_in_window{0}, refused{0}, arrived{0};
  std::atomic<int> phase{0};  // 0 warm-up, 1 measured, 2 stopping
  std::atomic<int> idle{0};
  std::atomic<bool> staff_open{false};

  io_thread loop;
  auto staff = ws_connection::open(
      loop.io(), daemon.port(), "/ws/staff",
      {{"Origin", daemon.origin()}, {"Cookie", session.cookie}},
      {.opened = [&](bool ok) { staff_open = ok; },
       .frame =
           [&](std::string_view frame) {
             if (frame.find(R"("event":"message.created")") == std::string_view::npos) return;
             if (const auto seq = number_after(frame, "ingest-"); seq && *seq < max_messages) {
               if (seen[*seq] == steady::time_point{}) {
                 seen[*seq] = steady::now();
                 ++arrived;
               }
             }
           },
       .closed = [] {}});
  if (!wait_for([&] { return staff_open.load(); }, std::chrono::seconds(5))) {
    throw std::runtime_error("ingest: the staff socket did not open");
  }

  std::function<void(std::shared_ptr<http_connection>)> send_next =
      [&](std::shared_ptr<http_connection> c) {
        const std::uint64_t seq = next.load();
        if (phase == 2 || seq >= max_messages) {
          ++idle;
          return;
        }
        next = seq + 1;
        const auto form = webhook(seq);
        http_call call{.target = "/webhooks/twilio/sms",
                       .body = net::encode_form(form),
                       .headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                                   {"X-Twilio-Signature", connectors::twilio::compute_signature(
                                                              twilio_token, url, form)}}};
        sent[seq] = steady::now();
        c->call(std::move(call), [&, c](http_answer a) {
          if (a.status == 200) {
            if (phase == 1) ++ok_in_window;
          } else {
            ++refused;
          }
          send_next(c);
        });
      };
  loop.run([&] {
    for (int i = 0; i < keep_alive_connections; ++i)
      send_next(http_connection::make(loop.io(), daemon.port()));
  });

  // Warm up, and meanwhile sample the commands the daemon sends for the baseline (MONITOR
  // slows Redis down: not while measuring).
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const auto sample = monitor(redis, std::chrono::milliseconds(o.quick ? 300 : 1000));
  std::this_thread::sleep_for(std::chrono::seconds(1));
  redis.command({"CONFIG", "RESETSTAT"});
  const double daemon_cpu0 = cpu_seconds(daemon_pid), own_cpu0 = cpu_seconds(),
               redis_cpu0 = cpu_seconds(redis_pid);
  const std::uint64_t first = next;
  const auto start = steady::now();
  phase = 1;
  std::this_thread::sleep_for(std::chrono::duration<double>(o.seconds));
  phase = 2;
  const auto end = steady::now();
  const std::uint64_t last = next;
  const double daemon_cpu = cpu_seconds(daemon_pid) - daemon_cpu0;
  const double own_cpu = cpu_seconds() - own_cpu0;
  const double redis_cpu = cpu_seconds(redis_pid) - redis_cpu0;
  const std::string redis_time = command_time(redis, static_cast<double>(last - first));
  // Let what is in flight arrive, then stop the load generator.
  wait_for([&] { return idle.load() == keep_alive_connections; }, std::chrono::seconds(10));
  wait_for([&] { return arrived.load() + refused.load() >= next.load(); },
           std::chrono::seconds(10));
  loop.run([&] { staff->close(); });
  loop.stop();
  running.reset();  // the baseline has Redis to itself

  ingest_run run;
  run.wall = std::chrono::duration<double>(end - start).count();
  run.rate = static_cast<double>(ok_in_window) / run.wall;
  std::vector<double> latency;
  std::uint64_t missing = 0;
  for (std::uint64_t s = first; s < last; ++s) {
    if (seen[s] == steady::time_point{}) {
      ++missing;
      continue;
    }
    latency.push_back(std::chrono::duration<double, std::milli>(seen[s] - sent[s]).count());
  }
  const percentiles p(std::move(latency));
  run.limit = redis_limit(redis, sample, messages_in(sample), randomize);
  run.daemon_cpu = daemon_cpu;
  run.own_cpu = own_cpu;
  run.redis_cpu = redis_cpu;
  run.p50 = p.at(0.5);
  run.p99 = p.at(0.99);
  run.p999 = p.at(0.999);
  run.redis_time = redis_time;
  run.webhooks = last - first;
  run.refused = refused.load();
  run.missing = missing;
  return run;
}

}  // namespace

// Measured with appendfsync everysec (the figures the README has tracked), then with always
// (the shipped setting: nothing acknowledged is lost if Redis itself crashes).
void ingest(results& out, const options& o) {
  const ingest_run r = measure_ingest(o, "everysec");
  const double rate = r.rate, wall = r.wall, daemon_cpu = r.daemon_cpu, own_cpu = r.own_cpu,
               redis_cpu = r.redis_cpu;
  const auto& limit = r.limit;
  out.set("ingest_msgs_per_s", rate);
  out.set("ingest_msgs_per_s_per_core", rate / (daemon_cpu / wall));
  out.set("ingest_p50_ms", r.p50);
  out.set("ingest_p99_ms", r.p99);
  out.set("ingest_p999_ms", r.p999);
  out.set("ingest_daemon_cores", daemon_cpu / wall);
  out.set("ingest_load_generator_cores", own_cpu / wall);
  out.set("ingest_redis_cores", redis_cpu / wall);
  out.set("ingest_redis_xadd_pipelined_per_s", limit.xadd_pipelined_per_s);
  out.set("ingest_redis_limit_msgs_per_s", limit.messages_per_s);
  out.set("ingest_fraction_of_redis", rate / limit.messages_per_s);
  out.set("ingest_redis_commands_per_msg", limit.commands_per_message);
  out.row("ingest", "signed SMS webhooks/s (32 keep-alive connections)", fixed(rate),
          fixed(limit.messages_per_s) + " (Redis limit)", fixed(rate / limit.messages_per_s, 2));
  out.row("ingest",
          "webhooks/s per daemon core (daemon used " + fixed(daemon_cpu / wall, 2) + " cores)",
          fixed(rate / (daemon_cpu / wall)));
  out.row("ingest", "send -> staff WebSocket p50 / p99 / p99.9 ms",
          fixed(r.p50, 1) + " / " + fixed(r.p99, 1) + " / " + fixed(r.p999, 1));
  out.row("ingest", "Redis commands sent per message", fixed(limit.commands_per_message, 2));
  out.note("ingest: " + std::to_string(r.webhooks) + " webhooks in " + fixed(wall, 1) + " s, " +
           std::to_string(r.refused) + " refused, " + std::to_string(r.missing) +
           " not seen by the dashboard within 10 s; redis-server used " +
           fixed(redis_cpu / wall, 2) + " cores, the load generator " + fixed(own_cpu / wall, 2) +
           ". Redis time per message: " + r.redis_time + ". " + limit.how);

  const ingest_run always = measure_ingest(o, "always");
  out.set("ingest_fsync_always_msgs_per_s", always.rate);
  out.set("ingest_fsync_always_p99_ms", always.p99);
  out.set("ingest_fsync_always_vs_everysec", always.rate / rate);
  out.row("ingest", "the same with appendfsync always (shipped): webhooks/s, p99 ms",
          fixed(always.rate) + ", " + fixed(always.p99, 1), fixed(rate) + " (everysec)",
          fixed(always.rate / rate, 2));
}

}  // namespace askdesk::bench
