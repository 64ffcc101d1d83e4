#include "tests/bench/redis_limit.hpp"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <map>
#include <sstream>
#include <stdexcept>

#include "daemon/store/scripts.hpp"
#include "tests/bench/suite.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace askdesk::bench {

namespace {

// One line of MONITOR: `1763845500.123456 [0 127.0.0.1:5000] "EVALSHA" "ab\"c" ...`, each
// argument quoted with C-like escapes. Commands that scripts ran (`[0 lua]`) are not sent by
// anyone: nullopt.
std::optional<command_line> parse_monitor_line(const std::string& line) {
  const auto bracket = line.find("] ");
  if (bracket == std::string::npos || line.compare(bracket - 3, 3, "lua") == 0) {
    return std::nullopt;
  }
  command_line args;
  std::size_t i = bracket + 2;
  while (i < line.size()) {
    if (line[i] != '"') {
      ++i;
      continue;
    }
    std::string arg;
    for (++i; i < line.size() && line[i] != '"'; ++i) {
      if (line[i] != '\\' || i + 1 >= line.size()) {
        arg += line[i];
        continue;
      }
      const char c = line[++i];
      switch (c) {
        case 'n':
          arg += '\n';
          break;
        case 'r':
          arg += '\r';
          break;
        case 't':
          arg += '\t';
          break;
        case 'a':
          arg += '\a';
          break;
        case 'b':
          arg += '\b';
          break;
        case 'x':
          arg += static_cast<char>(std::stoi(line.substr(i + 1, 2), nullptr, 16));
          i += 2;
          break;
        default:
          arg += c;
      }
    }
    ++i;
    args.push_back(std::move(arg));
  }
  if (args.empty()) return std::nullopt;
  std::transform(args[0].begin(), args[0].end(), args[0].begin(), ::toupper);
  return args;
}

// redis-benchmark repeating `command` pipelined; the requests per second it reports.
double run_benchmark(int port, const command_line& command, int pipeline, int requests) {
  testing::temp_dir dir;
  command_line argv = {"redis-benchmark",
                       "-h",
                       "127.0.0.1",
                       "-p",
                       std::to_string(port),
                       "-c",
                       "50",
                       "-r",
                       "1000",
                       "--csv",
                       "-P",
                       std::to_string(pipeline),
                       "-n",
                       std::to_string(requests)};
  argv.insert(argv.end(), command.begin(), command.end());
  testing::child_process run(argv, dir.file("out.txt"));
  const auto status = run.wait(std::chrono::seconds(120));
  if (status != 0) {
    std::string line;
    for (const auto& a : argv) line += " " + a.substr(0, 80);
    throw std::runtime_error("redis-benchmark failed (" +
                             (status ? std::to_string(*status) : "timeout") + "):" + line + "\n" +
                             run.log());
  }
  // CSV: a header line, then "test","rps",...
  std::istringstream lines(run.log());
  for (std::string l; std::getline(lines, l);) {
    const auto second = l.find("\",\"");
    if (l.starts_with("\"test\"") || second == std::string::npos) continue;
    return std::stod(l.substr(second + 3));
  }
  throw std::runtime_error("redis-benchmark said nothing usable: " + run.log());
}

// The same for about a second: a short run first tells how many requests that is (a script
// that answers a whole queue is thousands of times slower than PING).
double benchmark(int port, const command_line& command, int pipeline) {
  constexpr int probe = 2000;
  const double rate = run_benchmark(port, command, pipeline, probe);
  const int requests = static_cast<int>(std::min(rate, 300'000.0));
  return requests <= 2 * probe ? rate : run_benchmark(port, command, pipeline, requests);
}

// The name a command is grouped by: scripts by their SHA1.
std::string kind_of(const command_line& c) {
  if ((c[0] == "EVALSHA" || c[0] == "EVALSHA_RO") && c.size() > 1) {
    return c[0] + " " + c[1].substr(0, 8);
  }
  return c[0];
}

bool costed_as_ping(const std::string& name) { return name == "XREADGROUP" || name == "XREAD"; }

}  // namespace

std::vector<command_line> monitor(testing::redis_server& redis,
                                  std::chrono::milliseconds how_long) {
  redisContext* c = redisConnect("127.0.0.1", redis.port());
  if (!c || c->err) throw std::runtime_error("MONITOR: cannot connect to redis-server");
  const timeval tick{0, 100'000};
  redisSetTimeout(c, tick);
  std::vector<command_line> seen;
  if (auto* r = static_cast<redisReply*>(redisCommand(c, "MONITOR"))) freeReplyObject(r);
  const auto deadline = steady::now() + how_long;
  while (steady::now() < deadline) {
    void* raw = nullptr;
    if (redisGetReply(c, &raw) != REDIS_OK) {
      if (c->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        c->err = 0;  // nothing within the tick: the daemon is idle
        continue;
      }
      break;
    }
    auto* r = static_cast<redisReply*>(raw);
    if (r->type == REDIS_REPLY_STATUS) {
      if (auto args = parse_monitor_line(std::string(r->str, r->len))) {
        seen.push_back(std::move(*args));
      }
    }
    freeReplyObject(r);
  }
  redisFree(c);
  return seen;
}

redis_limit_result redis_limit(testing::redis_server& redis,
                               const std::vector<command_line>& sample, double messages,
                               const std::function<command_line(command_line)>& randomize) {
  if (sample.empty() || messages <= 0) {
    throw std::runtime_error("the Redis limit needs a sample of the run's commands");
  }
  redis_limit_result r;
  const double ping = benchmark(redis.port(), {"PING"}, 16);
  std::map<std::string, std::pair<int, const command_line*>> kinds;  // count, last example
  for (const auto& c : sample) {
    auto& k = kinds[kind_of(c)];
    ++k.first;
    k.second = &c;
  }
  double seconds_per_message = 0;
  std::string how =
      "Redis limit: redis-benchmark -P 16 repeating the commands the daemon sent "
      "(calls per message @ requests/s):";
  for (const auto& [kind, count_example] : kinds) {
    const double per_message = count_example.first / messages;
    const auto& example = *count_example.second;
    const double rate =
        costed_as_ping(example[0]) ? ping : benchmark(redis.port(), randomize(example), 16);
    r.commands_per_message += per_message;
    seconds_per_message += per_message / rate;
    how += " " + kind + (costed_as_ping(example[0]) ? " (as PING)" : "") + " " +
           fixed(per_message, 3) + "@" + fixed(rate / 1000, 1) + "k";
  }
  r.messages_per_s = 1 / seconds_per_message;
  const command_line xadd = {"XADD", "bench:stream", "*", "field", "value"};
  r.xadd_pipelined_per_s = benchmark(redis.port(), xadd, 16);
  r.xadd_unpipelined_per_s = benchmark(redis.port(), xadd, 1);
  how += ". For reference, a small XADD: " + fixed(r.xadd_pipelined_per_s) + "/s pipelined, " +
         fixed(r.xadd_unpipelined_per_s) + "/s one at a time.";
  r.how = how;
  return r;
}

void start_script_timing(testing::redis_server& redis, int kept) {
  redis.command({"SLOWLOG", "RESET"});
  redis.command({"CONFIG", "SET", "slowlog-max-len", std::to_string(kept)});
  redis.command({"CONFIG", "SET", "slowlog-log-slower-than", "0"});
}

std::string script_time(testing::redis_server& redis, std::string_view per_message) {
  redis.command({"CONFIG", "SET", "slowlog-log-slower-than", "10000"});
  const auto log = redis.command({"SLOWLOG", "GET", "-1"});
  redis.command({"SLOWLOG", "RESET"});
  // The scripts' SHA-1s, as the daemon loads them (default Redis options, as the bench's).
  const store::script_set scripts{config::redis_options{}};
  std::map<std::string, std::string> names;
  for (int s = 0; s < static_cast<int>(store::script::count_); ++s) {
    names[scripts.sha1(static_cast<store::script>(s))] =
        std::string(store::script_set::name(static_cast<store::script>(s)));
  }
  struct total {
    double usec = 0;
    double calls = 0;
  };
  std::map<std::string, total> by_name;
  for (std::size_t i = 0; i < log.size(); ++i) {
    const auto& entry = log[i];
    if (entry.size() < 4 || entry[3].size() < 2) continue;
    std::string command = entry[3][0].str();
    for (auto& ch : command) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (command == "evalsha") {
      const auto it = names.find(entry[3][1].str());
      command = it == names.end() ? "script " + entry[3][1].str().substr(0, 8) : it->second;
    } else {
      continue;  // the scripts are the question; the rest is in command_time
    }
    by_name[command].usec += static_cast<double>(entry[2].integer());
    by_name[command].calls += 1;
  }
  const double messages =
      by_name.count(std::string(per_message)) ? by_name[std::string(per_message)].calls : 0;
  std::vector<std::pair<double, std::string>> rows;
  for (const auto& [name, t] : by_name) {
    const double per = messages > 0 ? t.usec / messages : 0;
    rows.emplace_back(per, name + " " + fixed(t.usec / t.calls, 1) + " us x " +
                               fixed(messages > 0 ? t.calls / messages : 0, 2) + " = " +
                               fixed(per, 1) + " us");
  }
  std::sort(rows.rbegin(), rows.rend());
  std::string out;
  for (std::size_t i = 0; i < rows.size() && i < 10; ++i) out += (i ? ", " : "") + rows[i].second;
  return out + " (per patron message, from the last " + std::to_string(log.size()) +
         " commands Redis ran)";
}

std::string command_time(testing::redis_server& redis, double messages) {
  std::vector<std::pair<double, std::string>> usec;
  std::istringstream lines(redis.command({"INFO", "commandstats"}).str());
  for (std::string l; std::getline(lines, l);) {
    // cmdstat_xadd:calls=12,usec=80,usec_per_call=6.67,...
    const auto colon = l.find(':');
    const auto at = l.find("usec=");
    if (!l.starts_with("cmdstat_") || colon == std::string::npos || at == std::string::npos) {
      continue;
    }
    usec.emplace_back(std::stod(l.substr(at + 5)) / messages, l.substr(8, colon - 8));
  }
  std::sort(usec.rbegin(), usec.rend());
  std::string out;
  for (std::size_t i = 0; i < usec.size() && i < 8; ++i) {
    out += (i ? ", " : "") + usec[i].second + " " + fixed(usec[i].first, 1) + " us";
  }
  return out + " (evalsha includes the commands its scripts ran)";
}

}  // namespace askdesk::bench
