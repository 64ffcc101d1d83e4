#include "daemon/core/report.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <iterator>
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

}  // namespace

std::optional<csat_answer> csat_answer_of(std::string_view text) {
  const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!text.empty() && blank(text.front())) text.remove_prefix(1);
  if (text.empty() || text.front() < '1' || text.front() > '5') return std::nullopt;
  if (text.size() > 1 && text[1] >= '0' && text[1] <= '9') return std::nullopt;
  csat_answer a{.score = text.front() - '0', .comment = {}};
  text.remove_prefix(1);
  // The comment, after what separates it from the score ("4 - ", "4: ", "4/5 "); a digit
  // followed by words ("2 books on hold") is a question, not a score.
  const bool out_of_five = text.starts_with("/5");
  if (out_of_five) text.remove_prefix(2);
  std::string_view rest = text;
  while (!rest.empty() && blank(rest.front())) rest.remove_prefix(1);
  if (!out_of_five && !rest.empty() &&
      std::string_view("-:,.;!").find(rest.front()) == std::string_view::npos) {
    return std::nullopt;
  }
  while (!text.empty() && (blank(text.front()) || std::string_view("-:,.;!").find(text.front()) !=
                                                      std::string_view::npos)) {
    text.remove_prefix(1);
  }
  while (!text.empty() && blank(text.back())) text.remove_suffix(1);
  a.comment = std::string(text);
  return a;
}

std::int64_t open_seconds(const opening_hours* hours, timestamp from, timestamp to) {
  if (to <= from) return 0;
  return seconds(hours ? hours->open_between(from, to)
                       : std::chrono::duration_cast<std::chrono::milliseconds>(to - from));
}

std::optional<conversation_facts> facts_from_values(
    std::span<const std::string_view, report_field_count> v) {
  enum : std::size_t {
    id,
    channel,
    team,
    topic,
    created_at,
    status,
    closed_at,
    triage,
    read_level,
    staff,
    tags,
    waits,
    start,
    wait_team,
    after_hours,
    assigned,
    replied,
    csat
  };
  static_assert(csat + 1 == report_field_count, "one name per field of report_fields");
  conversation_facts out;
  const auto created = time_of(v[created_at]);
  if (v[id].empty() || !created) return std::nullopt;
  out.id = v[id];
  out.created_at = *created;
  out.channel = v[channel];
  out.team = v[team];
  out.topic = v[topic];
  out.closed = v[status] == "closed";
  out.closed_at = time_of(v[closed_at]);
  out.triage = v[triage] == "1";
  if (const auto level = integer_of(v[read_level]); level && *level >= 1 && *level <= 6) {
    out.read_level = static_cast<int>(*level);
  }
  if (const auto score = integer_of(v[csat]); score && *score >= 1 && *score <= 5) {
    out.csat = static_cast<int>(*score);
  }
  out.staff = split_commas(v[staff]);
  out.tags = split_commas(v[tags]);
  out.waits =
      static_cast<int>(std::clamp<std::int64_t>(integer_of(v[waits]).value_or(0), 0, 1 << 20));
  if (const auto first = time_of(v[start])) {
    out.first_wait = conversation_facts::wait{.start = *first,
                                              .team = std::string(v[wait_team]),
                                              .after_hours = v[after_hours] == "1",
                                              .assigned = time_of(v[assigned]),
                                              .replied = time_of(v[replied])};
  }
  return out;
}

std::optional<conversation_facts> facts_from_fields(
    std::span<const std::pair<std::string, std::string>> fields) {
  std::array<std::string_view, report_field_count> values{};
  for (const auto& [name, value] : fields) {
    const auto* at = std::find(std::begin(report_fields), std::end(report_fields), name);
    if (at != std::end(report_fields)) values[static_cast<std::size_t>(at - report_fields)] = value;
  }
  return facts_from_values(values);
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
  r.csat = f.csat;
  r.reopened = std::max(0, f.waits - 1);

  const conversation_facts::wait* first = f.first_wait ? &*f.first_wait : nullptr;
  const opening_hours* hours = calendar(first ? first->team : f.team);
  if (hours) {
    const auto t = hours->local(f.created_at);
    r.local_date = format_date(std::chrono::year(t.year) / t.month / t.day);
    r.weekday = static_cast<int>((t.weekday + 6) % 7);
    r.hour = t.hour;
  } else {
    const auto day = std::chrono::floor<std::chrono::days>(f.created_at);
    r.local_date = format_date(std::chrono::year_month_day{day});
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
    r.missed = !r.answered && !f.triage && (f.closed || f.waits > 1);
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
