// Start and recovery: the time from starting askdesk to its first /healthz 200, and the time
// a restarted daemon takes to drain 100,000 inbound messages that arrived while it was down
// (written straight into the inbound stream in the entries' own layout; connectors would also
// have written a dedup key for each).
#include <hiredis/hiredis.h>

#include <csignal>

#include "daemon/store/inbound_codec.hpp"
#include "tests/bench/scenarios.hpp"
#include "tests/support/askdesk_daemon.hpp"

namespace askdesk::bench {

namespace {

// Seconds from starting `askdesk serve` to its first /healthz 200 (polled every 5 ms, finer
// than testing::askdesk_daemon's start-up wait).
double time_to_healthy(testing::redis_server& redis, const std::string& config_file) {
  testing::temp_dir dir;
  const int port = testing::free_port();
  const std::string health = "http://127.0.0.1:" + std::to_string(port) + "/healthz";
  const auto start = steady::now();
  testing::child_process daemon({ASKDESK_BINARY, "serve", "--config", config_file, "--listen",
                                 "127.0.0.1:" + std::to_string(port), "--log-level", "warn"},
                                dir.file("askdesk.log"), {{"ASKDESK_REDIS_URL", redis.url()}});
  if (!wait_for([&] { return testing::http_request("GET", health).status == 200; },
                std::chrono::seconds(10))) {
    throw std::runtime_error("askdesk did not become healthy: " + daemon.log());
  }
  const double s = std::chrono::duration<double>(steady::now() - start).count();
  daemon.signal(SIGTERM);
  daemon.wait(std::chrono::seconds(5));
  return s;
}

// Appends `count` SMS messages from 5,000 senders to the inbound stream, pipelined.
void fill_backlog(testing::redis_server& redis, int count) {
  redisContext* c = redisConnect("127.0.0.1", redis.port());
  if (!c || c->err) throw std::runtime_error("backlog: cannot connect to redis-server");
  constexpr int batch = 1000;
  for (int done = 0; done < count; done += batch) {
    for (int i = done; i < std::min(count, done + batch); ++i) {
      core::inbound_message m;
      m.connector = "sms";
      m.channel = "sms";
      m.external_id = "SMbacklog" + std::to_string(i);
      m.thread = m.sender_address = "+1555300" + std::to_string(1000 + i % 5000);
      m.text = "backlog-" + std::to_string(i) + " Is the library open on Sunday?";
      m.sent_at = m.received_at = core::timestamp(std::chrono::milliseconds(1'763'845'500'000 + i));
      std::vector<std::string> args = {"XADD", "inbound", "*"};
      for (auto& [k, v] : store::encode_inbound(m)) {
        args.push_back(k);
        args.push_back(v);
      }
      std::vector<const char*> argv;
      std::vector<std::size_t> lengths;
      for (const auto& a : args) {
        argv.push_back(a.data());
        lengths.push_back(a.size());
      }
      redisAppendCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lengths.data());
    }
    for (int i = done; i < std::min(count, done + batch); ++i) {
      void* reply = nullptr;
      if (redisGetReply(c, &reply) != REDIS_OK) {
        redisFree(c);
        throw std::runtime_error("backlog: XADD failed");
      }
      freeReplyObject(reply);
    }
  }
  redisFree(c);
}

}  // namespace

void recovery(results& out, const options& o) {
  const int backlog = o.quick ? 10'000 : 100'000;
  testing::redis_server redis("everysec");
  const std::string config =
      R"({"teams": [{"id": "reference"}], "connectors": [)" + twilio_connector_json() + "]}";
  testing::temp_dir dir;
  const std::string config_file = dir.write("askdesk.json", config);

  std::vector<double> starts;
  for (int i = 0; i < 5; ++i) starts.push_back(time_to_healthy(redis, config_file));
  const percentiles start(starts);

  // A first run made the consumer group; now messages arrive while no daemon runs.
  fill_backlog(redis, backlog);
  const auto begin = steady::now();
  testing::askdesk_daemon daemon(redis, config, {"--log-level", "warn"});
  const bool drained = wait_for(
      [&] {
        // The hub deletes an entry once it is applied (counting the messages themselves
        // here would make Redis walk every key, slowing what is measured).
        return redis.command({"XLEN", "inbound"}).integer() == 0;
      },
      std::chrono::seconds(300));
  const double drain_s = std::chrono::duration<double>(steady::now() - begin).count();
  if (drained && redis.messages_stored() != backlog) {
    throw std::runtime_error("recovery: " + std::to_string(redis.messages_stored()) + " of " +
                             std::to_string(backlog) + " messages stored");
  }
  if (!drained) {
    throw std::runtime_error("recovery: the backlog was not drained within 300 s (" +
                             std::to_string(redis.messages_stored()) +
                             " applied); the daemon said:\n" + daemon.process().log());
  }
  out.set("start_to_healthy_ms", start.at(0.5) * 1000);
  out.set("backlog_drain_s", drain_s);
  out.set("backlog_msgs_per_s", backlog / drain_s);
  out.row("recovery", "start to /healthz 200 (median of 5)", fixed(start.at(0.5) * 1000) + " ms");
  out.row("recovery", "drain " + std::to_string(backlog) + " inbound messages after a restart",
          fixed(drain_s, 1) + " s (" + fixed(backlog / drain_s) + "/s)");
}

}  // namespace askdesk::bench
