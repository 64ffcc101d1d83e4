#include "tests/bench/redis_limit.hpp"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <map>
#include <sstream>
#include <stdexcept>

#include "tests/bench/suite.hpp"
#include "tests/support/process.hpp"
#include "tests/support/redis_monitor.hpp"
#include "tests/support/temp_dir.hpp"

namespace askdesk::bench {

namespace {

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

// A function's name without its library's ("askdesk_<hash>_apply_inbound" -> "apply_inbound").
std::string function_name(const std::string& full) {
  const auto second = full.find('_', full.find('_') + 1);
  return second == std::string::npos ? full : full.substr(second + 1);
}

// The name a command is grouped by: functions by their name.
std::string kind_of(const command_line& c) {
  if ((c[0] == "FCALL" || c[0] == "FCALL_RO") && c.size() > 1) {
    return c[0] + " " + function_name(c[1]);
  }
  return c[0];
}

bool costed_as_ping(const std::string& name) { return name == "XREADGROUP" || name == "XREAD"; }

}  // namespace

std::vector<command_line> monitor(testing::redis_server& redis,
                                  std::chrono::milliseconds how_long) {
  std::vector<command_line> sent;
  for (auto& c : testing::monitor(redis, how_long)) {
    if (!c.in_function) sent.push_back(std::move(c.args));
  }
  return sent;
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
    if (command == "fcall") {
      command = function_name(entry[3][1].str());
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
  return out + " (fcall includes the commands its functions ran)";
}

}  // namespace askdesk::bench
