#include "daemon/net/reports.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>

#include "daemon/core/report.hpp"
#include "daemon/json/writer.hpp"
#include "daemon/store/reads.hpp"

namespace askdesk::net {

namespace {

// What a report asks for, checked at the edge.
struct report_query {
  std::string from, to;  // YYYY-MM-DD, inclusive, in each conversation's team's time zone
  std::string team, channel;
  std::string format = "json";
};

core::result<report_query> parse_query(const http_request& r, const config::daemon_config& config,
                                       const std::vector<core::configured_channel>& channels,
                                       core::timestamp now) {
  const auto invalid = [](std::string message) { return core::error{"invalid", message}; };
  report_query q;
  const auto today = std::chrono::year_month_day{std::chrono::floor<std::chrono::days>(now)};
  // By default the last 30 days, today included.
  std::chrono::year_month_day to = today;
  if (const auto given = r.query_param("to")) {
    const auto d = core::parse_date(*given);
    if (!d) return invalid("to: must be a date YYYY-MM-DD, not '" + std::string(*given) + "'");
    to = *d;
  }
  std::chrono::year_month_day from{std::chrono::sys_days(to) - std::chrono::days(29)};
  if (const auto given = r.query_param("from")) {
    const auto d = core::parse_date(*given);
    if (!d) return invalid("from: must be a date YYYY-MM-DD, not '" + std::string(*given) + "'");
    from = *d;
  }
  const auto days = (std::chrono::sys_days(to) - std::chrono::sys_days(from)).count() + 1;
  if (days < 1) return invalid("from: must not be after to");
  if (days > max_report_days) {
    return invalid("a report covers at most " + std::to_string(max_report_days) + " days");
  }
  q.from = core::format_date(from);
  q.to = core::format_date(to);
  q.team = r.query_param("team").value_or("");
  if (!q.team.empty() && !config.find_team(q.team)) {
    return invalid("team: no team '" + q.team + "' in the configuration");
  }
  q.channel = r.query_param("channel").value_or("");
  if (!q.channel.empty()) {
    const bool known =
        std::any_of(channels.begin(), channels.end(), [&](const core::configured_channel& c) {
          return c.traits && c.traits->channel == q.channel;
        });
    if (!known) return invalid("channel: no connector of channel '" + q.channel + "'");
  }
  q.format = r.query_param("format").value_or("json");
  if (q.format != "json" && q.format != "csv") {
    return invalid("format: must be json or csv, not '" + q.format + "'");
  }
  return q;
}

// The arrivals that may fall on the range's dates in some time zone (UTC-12 to UTC+14).
std::pair<std::int64_t, std::int64_t> arrival_window(const report_query& q) {
  const auto from = std::chrono::sys_days(*core::parse_date(q.from)) - std::chrono::hours(14);
  const auto to = std::chrono::sys_days(*core::parse_date(q.to)) + std::chrono::hours(24 + 12);
  return {core::to_millis(std::chrono::time_point_cast<std::chrono::milliseconds>(from)),
          core::to_millis(std::chrono::time_point_cast<std::chrono::milliseconds>(to)) - 1};
}

using rows_handler = std::function<void(std::vector<core::report_row>)>;
using shared_facts = std::shared_ptr<const core::result<std::vector<core::conversation_facts>>>;

// What the report routes share: the API's parts, and the reads of facts under way, so that a
// page's summary and heatmap, asked together for the same dates, wait on one read.
struct report_state {
  api_parts parts;
  std::map<std::pair<std::int64_t, std::int64_t>, std::vector<std::function<void(shared_facts)>>>
      reading;
};

void read_facts(report_state& state, std::pair<std::int64_t, std::int64_t> window,
                std::function<void(shared_facts)> done) {
  auto& waiting = state.reading[window];
  waiting.push_back(std::move(done));
  if (waiting.size() > 1) return;  // joins the read under way
  store::reads::conversation_facts(
      state.parts.redis, window.first, window.second,
      [&state, window](core::result<std::vector<core::conversation_facts>> facts) {
        auto shared = std::make_shared<const core::result<std::vector<core::conversation_facts>>>(
            std::move(facts));
        auto waiters = std::move(state.reading[window]);
        state.reading.erase(window);
        for (auto& w : waiters) w(shared);
      });
}

// The rows of the range that the caller may see and the filters keep, in order of arrival.
void load_rows(report_state& state, const principal& who, const report_query& q, respond_fn respond,
               rows_handler done) {
  read_facts(
      state, arrival_window(q),
      [&config = state.parts.config, who, q, respond, done = std::move(done)](shared_facts facts) {
        if (!*facts) {
          respond(http_response::from(facts->err()));
          return;
        }
        const core::calendar_lookup calendar = [&config](std::string_view team) {
          const auto* t = config.find_team(team);
          return t && t->hours ? &*t->hours : nullptr;
        };
        std::vector<core::report_row> rows;
        for (const auto& f : facts->value()) {
          if (!q.team.empty() && f.team != q.team) continue;
          if (!q.channel.empty() && f.channel != q.channel) continue;
          if (!who.sees_every_team() &&
              std::find(f.staff.begin(), f.staff.end(), who.user.name) == f.staff.end()) {
            continue;
          }
          auto row = core::row_of(f, calendar);
          if (row.local_date < q.from || row.local_date > q.to) continue;
          rows.push_back(std::move(row));
        }
        done(std::move(rows));
      });
}

void write_range(json::writer& w, const report_query& q) {
  w.field("from", q.from).field("to", q.to);
  w.key("team");
  q.team.empty() ? w.null() : w.string(q.team);
  w.key("channel");
  q.channel.empty() ? w.null() : w.string(q.channel);
}

void write_optional(json::writer& w, std::string_view key, std::optional<double> v) {
  w.key(key);
  v ? w.number(*v) : w.null();
}

void write_optional(json::writer& w, std::string_view key, std::optional<std::int64_t> v) {
  w.key(key);
  v ? w.integer(*v) : w.null();
}

void write_spread(json::writer& w, std::string_view key, const core::spread& s) {
  w.key(key).start_object();
  write_optional(w, "median", s.median);
  write_optional(w, "p90", s.p90);
  w.end_object();
}

std::string summary_json(const report_query& q, std::span<const core::report_row> rows) {
  const auto s = core::summarize(rows);
  json::writer w;
  w.start_object();
  write_range(w, q);
  w.field("conversations", s.conversations).field("answered", s.answered).field("missed", s.missed);
  write_spread(w, "first_response_seconds", s.first_response);
  write_spread(w, "wait_seconds", s.wait);
  write_spread(w, "duration_seconds", s.duration);
  w.key("csat").start_object();
  write_optional(w, "average", s.csat_average);
  w.field("count", s.csat_count).key("distribution").start_object();
  for (std::size_t i = 0; i < s.csat_distribution.size(); ++i) {
    w.field(std::to_string(i + 1), s.csat_distribution[i]);
  }
  w.end_object().end_object();
  w.key("read").start_object();
  for (std::size_t i = 0; i < s.read.size(); ++i) w.field(std::to_string(i + 1), s.read[i]);
  w.end_object();
  w.key("by_day").start_array();
  for (const auto& d : core::volume_by_day(rows)) {
    w.start_object()
        .field("date", d.date)
        .field("conversations", d.conversations)
        .field("missed", d.missed)
        .key("channels")
        .start_object();
    for (const auto& [channel, n] : d.channels) w.field(channel, n);
    w.end_object().end_object();
  }
  w.end_array();
  w.key("by_staff").start_array();
  for (const auto& share : core::by_staff(rows)) {
    w.start_object()
        .field("staff", share.staff)
        .field("conversations", share.conversations)
        .field("answered", share.answered);
    write_spread(w, "first_response_seconds", share.first_response);
    w.end_object();
  }
  w.end_array().end_object();
  return w.str();
}

std::string joined(const std::vector<std::string>& parts, char by) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += by;
    out += p;
  }
  return out;
}

std::string rows_json(const report_query& q, std::span<const core::report_row> rows) {
  json::writer w;
  w.start_object();
  write_range(w, q);
  w.key("conversations").start_array();
  for (const auto& r : rows) {
    w.start_object().field("id", r.id).field("channel", r.channel).field("team", r.team);
    w.key("topic");
    r.topic.empty() ? w.null() : w.string(r.topic);
    w.field("created_at", core::format_iso8601(r.created_at)).field("date", r.local_date);
    write_optional(w, "first_response_seconds", r.first_response_seconds);
    write_optional(w, "wait_seconds", r.wait_seconds);
    write_optional(w, "duration_seconds", r.duration_seconds);
    w.key("staff").start_array();
    for (const auto& s : r.staff) w.string(s);
    w.end_array();
    w.key("read_level");
    r.read_level ? w.integer(*r.read_level) : w.null();
    w.key("csat");
    r.csat ? w.integer(*r.csat) : w.null();
    w.key("tags").start_array();
    for (const auto& t : r.tags) w.string(t);
    w.end_array();
    w.field("after_hours", r.after_hours)
        .field("reopened", r.reopened)
        .field("answered", r.answered)
        .field("missed", r.missed)
        .end_object();
  }
  w.end_array().end_object();
  return w.str();
}

// One CSV field (RFC 4180), and never a formula: a spreadsheet runs text that starts with
// = + - @ (a tag or topic a staff member typed), so such text gets a leading apostrophe.
void csv_field(std::string& out, std::string_view v) {
  const bool formula =
      !v.empty() && std::string_view("=+-@\t\r").find(v.front()) != std::string_view::npos;
  const bool quoted = formula || v.find_first_of(",\"\r\n") != std::string_view::npos;
  if (!quoted) {
    out += v;
    return;
  }
  out += '"';
  if (formula) out += '\'';
  for (const char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

std::string rows_csv(std::span<const core::report_row> rows) {
  const auto number = [](const std::optional<std::int64_t>& v) {
    return v ? std::to_string(*v) : std::string();
  };
  std::string out =
      "id,channel,team,topic,created_at,first_response_seconds,wait_seconds,duration_seconds,"
      "staff,read_level,csat,tags,after_hours,reopened,answered,missed,date\r\n";
  for (const auto& r : rows) {
    const std::string fields[] = {r.id,
                                  r.channel,
                                  r.team,
                                  r.topic,
                                  core::format_iso8601(r.created_at),
                                  number(r.first_response_seconds),
                                  number(r.wait_seconds),
                                  number(r.duration_seconds),
                                  joined(r.staff, ';'),
                                  r.read_level ? std::to_string(*r.read_level) : "",
                                  r.csat ? std::to_string(*r.csat) : "",
                                  joined(r.tags, ';'),
                                  r.after_hours ? "true" : "false",
                                  std::to_string(r.reopened),
                                  r.answered ? "true" : "false",
                                  r.missed ? "true" : "false",
                                  r.local_date};
    for (std::size_t i = 0; i < std::size(fields); ++i) {
      if (i) out += ',';
      csv_field(out, fields[i]);
    }
    out += "\r\n";
  }
  return out;
}

std::string heatmap_json(const report_query& q, std::span<const core::report_row> rows) {
  const auto h = core::heatmap_of(rows);
  json::writer w;
  w.start_object();
  write_range(w, q);
  w.key("weekdays").start_array();
  for (const char* d : {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}) w.string(d);
  w.end_array();
  const auto table = [&w](std::string_view key, const auto& cells) {
    w.key(key).start_array();
    for (const auto& day : cells) {
      w.start_array();
      for (const auto n : day) w.integer(n);
      w.end_array();
    }
    w.end_array();
  };
  table("volume", h.volume);
  table("missed", h.missed);
  w.end_object();
  return w.str();
}

enum class report_kind { summary, conversations, heatmap };

http_response answer(report_kind kind, const report_query& q,
                     std::span<const core::report_row> rows) {
  switch (kind) {
    case report_kind::summary:
      return http_response::json(200, summary_json(q, rows));
    case report_kind::heatmap:
      return http_response::json(200, heatmap_json(q, rows));
    case report_kind::conversations:
      break;
  }
  if (q.format == "json") return http_response::json(200, rows_json(q, rows));
  auto csv = http_response::text(200, rows_csv(rows), "text/csv; charset=utf-8");
  csv.header("Content-Disposition",
             "attachment; filename=\"askdesk-" + q.from + "-to-" + q.to + ".csv\"");
  return csv;
}

http_handler report_route(const std::shared_ptr<report_state>& state, report_kind kind) {
  return authenticated(state->parts.auth, [state, kind](const http_request& r, const route_params&,
                                                        const principal& who, respond_fn respond) {
    const auto& p = state->parts;
    auto q = parse_query(r, p.config, p.channels, p.clock.now());
    if (!q) {
      respond(http_response::from(q.err()));
      return;
    }
    load_rows(*state, who, q.value(), respond,
              [query = q.value(), kind, respond](std::vector<core::report_row> rows) {
                respond(answer(kind, query, rows));
              });
  });
}

}  // namespace

void add_report_routes(http_router& router, api_parts parts) {
  auto state = std::make_shared<report_state>(report_state{.parts = parts, .reading = {}});
  router.add("GET", "/api/v1/reports/summary", report_route(state, report_kind::summary));
  router.add("GET", "/api/v1/reports/conversations",
             report_route(state, report_kind::conversations));
  router.add("GET", "/api/v1/reports/heatmap", report_route(state, report_kind::heatmap));
}

}  // namespace askdesk::net
