#include "daemon/core/report.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <map>

namespace askdesk::core {

namespace {

std::optional<std::int64_t> integer_of(std::string_view text) {
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return v;
}

std::optional<timestamp> time_of(std::string_view text) {
  const auto ms = integer_of(text);
  if (!ms || *ms <= 0) return std::nullopt;
  return from_millis(*ms);
}

std::vector<std::string> split_commas(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    if (const auto part = text.substr(0, comma); !part.empty()) out.emplace_back(part);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

// Whole seconds, to the nearest.
std::int64_t seconds(std::chrono::milliseconds d) {
  return (d.count() + (d.count() >= 0 ? 500 : -500)) / 1000;
}

// [from, to) counted in the team's open time, or on the wall clock when it has no hours.
std::int64_t open_seconds(const opening_hours* hours, timestamp from, timestamp to) {
  if (to <= from) return 0;
  return seconds(hours ? hours->open_between(from, to)
                       : std::chrono::duration_cast<std::chrono::milliseconds>(to - from));
}

}  // namespace

std::optional<conversation_facts> facts_from_fields(
    std::span<const std::pair<std::string, std::string>> fields) {
  std::map<std::string_view, std::string_view> f;
  for (const auto& [k, v] : fields) f.emplace(k, v);
  const auto get = [&f](std::string_view k) -> std::string_view {
    const auto it = f.find(k);
    return it == f.end() ? std::string_view() : it->second;
  };
  conversation_facts out;
  out.id = get("id");
  const auto created = time_of(get("created_at"));
  if (out.id.empty() || !created) return std::nullopt;
  out.created_at = *created;
  out.channel = get("channel");
  out.team = get("team");
  out.topic = get("topic");
  out.closed = get("status") == "closed";
  out.closed_at = time_of(get("closed_at"));
  out.triage = get("triage") == "1";
  out.handoffs = static_cast<int>(integer_of(get("handoffs")).value_or(0));
  if (const auto level = integer_of(get("read_level")); level && *level >= 1 && *level <= 6) {
    out.read_level = static_cast<int>(*level);
  }
  out.staff = split_commas(get("staff"));
  out.tags = split_commas(get("tags"));
  const auto waits = integer_of(get("waits")).value_or(0);
  for (std::int64_t n = 1; n <= waits && n <= 10'000; ++n) {
    const std::string w = "wait." + std::to_string(n) + ".";
    conversation_facts::wait one;
    const auto start = time_of(get(w + "start"));
    if (!start) continue;
    one.start = *start;
    one.team = get(w + "team");
    one.after_hours = get(w + "after_hours") == "1";
    one.assigned = time_of(get(w + "assigned"));
    one.replied = time_of(get(w + "replied"));
    out.waits.push_back(std::move(one));
  }
  return out;
}

report_row row_of(const conversation_facts& f, const calendar_lookup& calendar) {
  report_row r;
  r.id = f.id;
  r.channel = f.channel;
  r.team = f.team;
  r.topic = f.topic;
  r.created_at = f.created_at;
  r.staff = f.staff;
  r.tags = f.tags;
  r.read_level = f.read_level;
  r.reopened = f.waits.empty() ? 0 : static_cast<int>(f.waits.size()) - 1;

  const conversation_facts::wait* first = f.waits.empty() ? nullptr : &f.waits.front();
  const opening_hours* hours = calendar(first ? first->team : f.team);
  if (hours) {
    const auto t = hours->local(f.created_at);
    char date[16];
    std::snprintf(date, sizeof date, "%04d-%02u-%02u", t.year, t.month, t.day);
    r.local_date = date;
    r.weekday = static_cast<int>((t.weekday + 6) % 7);
    r.hour = t.hour;
  } else {
    const auto day = std::chrono::floor<std::chrono::days>(f.created_at);
    const std::chrono::year_month_day ymd{day};
    char date[16];
    std::snprintf(date, sizeof date, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
    r.local_date = date;
    r.weekday = static_cast<int>((std::chrono::weekday(day).c_encoding() + 6) % 7);
    r.hour = static_cast<int>(
        std::chrono::duration_cast<std::chrono::hours>(f.created_at - day).count());
  }

  if (first) {
    r.after_hours = first->after_hours;
    if (first->replied)
      r.first_response_seconds = open_seconds(hours, first->start, *first->replied);
    if (first->assigned) r.wait_seconds = open_seconds(hours, first->start, *first->assigned);
    r.answered = first->replied.has_value();
    // The first wait ended without a reply: the conversation closed (then maybe reopened).
    r.missed = !r.answered && !f.triage && (f.closed || f.waits.size() > 1);
  }
  if (f.closed && f.closed_at && *f.closed_at >= f.created_at) {
    r.duration_seconds =
        seconds(std::chrono::duration_cast<std::chrono::milliseconds>(*f.closed_at - f.created_at));
  }
  return r;
}

spread spread_of(std::vector<std::int64_t> values) {
  spread s;
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  s.median = n % 2 == 1 ? static_cast<double>(values[n / 2])
                        : (static_cast<double>(values[n / 2 - 1]) + values[n / 2]) / 2.0;
  // Nearest rank: the ceil(0.9 n)-th smallest (integer arithmetic: no rounding surprises).
  const std::size_t rank = (9 * n + 9) / 10;
  s.p90 = static_cast<double>(values[rank - 1]);
  return s;
}

report_summary summarize(std::span<const report_row> rows) {
  report_summary s;
  std::vector<std::int64_t> first_response, wait, duration;
  std::int64_t csat_total = 0;
  for (const auto& r : rows) {
    ++s.conversations;
    if (r.answered) ++s.answered;
    if (r.missed) ++s.missed;
    if (r.first_response_seconds) first_response.push_back(*r.first_response_seconds);
    if (r.wait_seconds) wait.push_back(*r.wait_seconds);
    if (r.duration_seconds) duration.push_back(*r.duration_seconds);
    if (r.csat && *r.csat >= 1 && *r.csat <= 5) {
      ++s.csat_count;
      csat_total += *r.csat;
      ++s.csat_distribution[static_cast<std::size_t>(*r.csat - 1)];
    }
    if (r.read_level && *r.read_level >= 1 && *r.read_level <= 6) {
      ++s.read[static_cast<std::size_t>(*r.read_level - 1)];
    }
  }
  s.first_response = spread_of(std::move(first_response));
  s.wait = spread_of(std::move(wait));
  s.duration = spread_of(std::move(duration));
  if (s.csat_count > 0) {
    s.csat_average = static_cast<double>(csat_total) / static_cast<double>(s.csat_count);
  }
  return s;
}

std::vector<day_volume> volume_by_day(std::span<const report_row> rows) {
  std::map<std::string, day_volume> days;
  std::map<std::string, std::map<std::string, std::int64_t>> channels;
  for (const auto& r : rows) {
    auto& d = days[r.local_date];
    d.date = r.local_date;
    ++d.conversations;
    if (r.missed) ++d.missed;
    ++channels[r.local_date][r.channel];
  }
  std::vector<day_volume> out;
  for (auto& [date, d] : days) {
    for (const auto& c : channels[date]) d.channels.emplace_back(c);
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<staff_share> by_staff(std::span<const report_row> rows) {
  std::map<std::string, staff_share> shares;
  std::map<std::string, std::vector<std::int64_t>> responses;
  for (const auto& r : rows) {
    for (const auto& name : r.staff) {
      auto& s = shares[name];
      s.staff = name;
      ++s.conversations;
      if (r.answered) ++s.answered;
      if (r.first_response_seconds) responses[name].push_back(*r.first_response_seconds);
    }
  }
  std::vector<staff_share> out;
  for (auto& [name, s] : shares) {
    s.first_response = spread_of(std::move(responses[name]));
    out.push_back(std::move(s));
  }
  return out;
}

heatmap heatmap_of(std::span<const report_row> rows) {
  heatmap h;
  for (const auto& r : rows) {
    if (r.weekday < 0 || r.weekday > 6 || r.hour < 0 || r.hour > 23) continue;
    const auto d = static_cast<std::size_t>(r.weekday), hr = static_cast<std::size_t>(r.hour);
    ++h.volume[d][hr];
    if (r.missed) ++h.missed[d][hr];
  }
  return h;
}

}  // namespace askdesk::core
