// Reports: the time the dashboard's Reports page waits for its data (the summary and the
// weekday x hour table, asked together as the page does) over a year of 100,000
// conversations, written into Redis as the scripts write their facts (a Lua loop inside
// Redis, one call). The baseline is Redis alone handing the same facts to a client: every
// facts hash read with pipelined HGETALLs over one connection.
#include <hiredis/hiredis.h>

#include <cstring>
#include <future>
#include <thread>

#include "daemon/core/report.hpp"
#include "tests/bench/scenarios.hpp"
#include "tests/support/askdesk_daemon.hpp"

namespace askdesk::bench {

namespace {

// Writes `count` conversations' facts spread over the year before `end_ms`: three teams (one
// with opening hours), three channels, most answered within minutes, one in ten missed, a
// READ level on most.
void write_facts(testing::redis_server& redis, int count, std::int64_t end_ms) {
  const char* script = R"(
    local count, last = tonumber(ARGV[1]), tonumber(ARGV[2])
    local teams, channels = {'reference', 'ill', 'archives'}, {'webchat', 'sms', 'email'}
    local year = 365 * 86400000
    for i = 1, count do
      local created = last - math.floor(year * (count - i) / count)
      local team, channel = teams[i % 3 + 1], channels[(i * 7) % 3 + 1]
      local key = 'facts:{c:' .. i .. '}'
      redis.call('HSET', key, 'id', i, 'channel', channel, 'connector', channel, 'team', team,
        'topic', '', 'created_at', created, 'status', 'closed',
        'closed_at', created + 600000 + (i % 13) * 60000, 'waits', 1,
        'wait.1.start', created, 'wait.1.team', team, 'wait.1.after_hours', '',
        'staff', 'staff' .. (i % 50), 'tags', (i % 4 == 0) and 'holds' or '',
        'read_level', (i % 5 == 0) and '' or tostring(i % 6 + 1))
      if i % 10 ~= 0 then
        redis.call('HSET', key, 'wait.1.assigned', created + (i % 17) * 7000,
          'wait.1.replied', created + 30000 + (i % 29) * 11000)
      end
      redis.call('ZADD', 'facts:created', created, i)
    end
    return count)";
  redis.command({"EVAL", script, "0", std::to_string(count), std::to_string(end_ms)});
}

// Seconds to read the reports' fields of every facts hash with HMGET, pipelined in batches.
double read_all_facts(testing::redis_server& redis, int count) {
  std::vector<const char*> argv = {"HMGET", nullptr};
  for (const auto& f : core::report_fields) argv.push_back(f.data());
  std::vector<std::size_t> lengths(argv.size());
  for (std::size_t i = 2; i < argv.size(); ++i) lengths[i] = std::strlen(argv[i]);
  lengths[0] = 5;
  redisContext* c = redisConnect("127.0.0.1", redis.port());
  if (!c || c->err) throw std::runtime_error("reports: cannot connect to redis-server");
  const auto start = steady::now();
  constexpr int batch = 2000;
  for (int from = 1; from <= count; from += batch) {
    const int to = std::min(count, from + batch - 1);
    for (int i = from; i <= to; ++i) {
      const std::string key = "facts:{c:" + std::to_string(i) + "}";
      argv[1] = key.c_str();
      lengths[1] = key.size();
      redisAppendCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lengths.data());
    }
    for (int i = from; i <= to; ++i) {
      void* reply = nullptr;
      if (redisGetReply(c, &reply) != REDIS_OK) {
        redisFree(c);
        throw std::runtime_error("reports: reading the facts failed");
      }
      freeReplyObject(reply);
    }
  }
  const double s = std::chrono::duration<double>(steady::now() - start).count();
  redisFree(c);
  return s;
}

}  // namespace

void reports(results& out, const options& o) {
  const int count = o.quick ? 10'000 : 100'000;
  const int runs = o.quick ? 3 : 5;
  testing::redis_server redis("everysec");
  testing::askdesk_daemon daemon(redis, R"({"teams": [
      {"id": "reference", "timezone": "America/Toronto",
       "hours": {"mon": [["09:00", "17:00"]], "tue": [["09:00", "17:00"]],
                 "wed": [["09:00", "17:00"]], "thu": [["09:00", "17:00"]],
                 "fri": [["09:00", "17:00"]], "sat": [["10:00", "14:00"]]}},
      {"id": "ill"}, {"id": "archives"}]})",
                                 {"--log-level", "warn", "--clock-start", "2026-12-01T12:00:00Z"});
  daemon.add_user("sue", "supervisor", {}, "sue-password-1");
  const auto sue = daemon.login("sue", "sue-password-1");
  write_facts(redis, count, 1'796'126'400'000);  // 2026-12-01T12:00:00Z
  const std::string range = "?from=2025-12-01&to=2026-12-01";

  // The page's two requests at once, as the browser sends them.
  const auto page = [&] {
    const auto start = steady::now();
    auto summary = std::async(std::launch::async, [&] {
      return daemon.call(sue, "GET", "/api/v1/reports/summary" + range);
    });
    auto heatmap = std::async(std::launch::async, [&] {
      return daemon.call(sue, "GET", "/api/v1/reports/heatmap" + range);
    });
    const auto s = summary.get(), h = heatmap.get();
    const double ms = std::chrono::duration<double, std::milli>(steady::now() - start).count();
    if (s.status != 200 || h.status != 200 ||
        s.body.find("\"conversations\":" + std::to_string(count)) == std::string::npos) {
      throw std::runtime_error("reports: the page's data is wrong: " + s.body.substr(0, 300) +
                               " / " + h.body.substr(0, 200));
    }
    return ms;
  };
  std::vector<double> pages, csvs, baselines;
  for (int i = 0; i < runs; ++i) {
    pages.push_back(page());
    const auto start = steady::now();
    const auto csv =
        daemon.call(sue, "GET", "/api/v1/reports/conversations" + range + "&format=csv");
    csvs.push_back(std::chrono::duration<double, std::milli>(steady::now() - start).count());
    if (csv.status != 200) throw std::runtime_error("reports: the CSV failed: " + csv.body);
    baselines.push_back(read_all_facts(redis, count) * 1000);
  }
  const double page_ms = percentiles(pages).at(0.5), csv_ms = percentiles(csvs).at(0.5),
               baseline_ms = percentiles(baselines).at(0.5);
  out.set("reports_page_ms_100k", page_ms);
  out.set("reports_csv_ms_100k", csv_ms);
  out.set("reports_redis_read_ms_100k", baseline_ms);
  out.row("reports",
          "Reports page data (summary + heatmap), " + std::to_string(count) +
              " conversations, median of " + std::to_string(runs) + " ms",
          fixed(page_ms), fixed(baseline_ms) + " (Redis hands over the facts)",
          fixed(page_ms / baseline_ms, 2));
  out.row("reports", "the same year as CSV ms", fixed(csv_ms));
}

}  // namespace askdesk::bench
