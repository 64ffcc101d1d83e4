#include "daemon/core/schedule.hpp"

#include <date/tz.h>

#include <algorithm>
#include <cstdio>
#include <stdexcept>

namespace askdesk::core {

namespace {

constexpr int minutes_per_day = 24 * 60;
constexpr int days_back = 7;     // how far `since` looks back
constexpr int days_ahead = 366;  // how far `until` and `next_open` look ahead

bool two_digits(std::string_view s, std::size_t at, int& out) {
  if (at + 2 > s.size() || s[at] < '0' || s[at] > '9' || s[at + 1] < '0' || s[at + 1] > '9') {
    return false;
  }
  out = (s[at] - '0') * 10 + (s[at + 1] - '0');
  return true;
}

}  // namespace

std::optional<int> parse_clock_time(std::string_view text, bool end) {
  int h = 0, m = 0;
  if (text.size() != 5 || text[2] != ':' || !two_digits(text, 0, h) || !two_digits(text, 3, m)) {
    return std::nullopt;
  }
  if (end && h == 24 && m == 0) return minutes_per_day;
  if (h > 23 || m > 59) return std::nullopt;
  return h * 60 + m;
}

std::optional<daily_range> parse_daily_range(std::string_view from, std::string_view to) {
  const auto start = parse_clock_time(from, false);
  auto stop = parse_clock_time(to, true);
  if (!start || !stop || from == to) return std::nullopt;
  if (*stop <= *start) *stop += minutes_per_day;
  if (*stop - *start > minutes_per_day) return std::nullopt;  // "00:00"-"24:00" is the most
  return daily_range{*start, *stop};
}

std::string format_clock_time(int minutes, bool end) {
  if (!(end && minutes == minutes_per_day)) minutes %= minutes_per_day;
  char out[8];
  std::snprintf(out, sizeof out, "%02d:%02d", minutes / 60, minutes % 60);
  return out;
}

std::string to_string(const daily_range& r) {
  return format_clock_time(r.from, false) + "-" + format_clock_time(r.to, true);
}

std::optional<std::string> find_overlap(std::vector<daily_range> ranges) {
  std::sort(ranges.begin(), ranges.end(),
            [](const auto& a, const auto& b) { return a.from < b.from; });
  for (std::size_t i = 1; i < ranges.size(); ++i) {
    if (ranges[i].from < ranges[i - 1].to) {
      return to_string(ranges[i - 1]) + " overlaps " + to_string(ranges[i]);
    }
  }
  return std::nullopt;
}

std::string format_date(std::chrono::year_month_day date) {
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
  return text;
}

std::optional<std::chrono::year_month_day> parse_date(std::string_view text) {
  int c = 0, y = 0, m = 0, d = 0;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-' || !two_digits(text, 0, c) ||
      !two_digits(text, 2, y) || !two_digits(text, 5, m) || !two_digits(text, 8, d)) {
    return std::nullopt;
  }
  const std::chrono::year_month_day date{std::chrono::year(c * 100 + y),
                                         std::chrono::month(static_cast<unsigned>(m)),
                                         std::chrono::day(static_cast<unsigned>(d))};
  if (!date.ok()) return std::nullopt;
  return date;
}

bool is_known_zone(std::string_view name) {
  try {
    return date::locate_zone(name) != nullptr;
  } catch (const std::runtime_error&) {
    return false;
  }
}

opening_hours::opening_hours(std::string zone, week weekly, exception_map exceptions)
    : zone_(std::move(zone)),
      tz_(date::locate_zone(zone_)),
      weekly_(std::move(weekly)),
      exceptions_(std::move(exceptions)) {}

std::vector<opening_hours::interval> opening_hours::openings_on(int day) const {
  const std::chrono::sys_days civil{std::chrono::days(day)};
  const auto exception = exceptions_.find(std::chrono::year_month_day(civil));
  const unsigned monday_first = (std::chrono::weekday(civil).c_encoding() + 6) % 7;
  const auto& ranges = exception != exceptions_.end() ? exception->second : weekly_[monday_first];
  std::vector<interval> out;
  out.reserve(ranges.size());
  const date::local_days local{date::days(day)};
  for (const auto& r : ranges) {
    const auto start = tz_->to_sys(local + std::chrono::minutes(r.from), date::choose::earliest);
    const auto end = tz_->to_sys(local + std::chrono::minutes(r.to), date::choose::latest);
    if (end > start) {
      out.push_back({std::chrono::time_point_cast<std::chrono::milliseconds>(start),
                     std::chrono::time_point_cast<std::chrono::milliseconds>(end)});
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.start < b.start; });
  return out;
}

std::chrono::milliseconds opening_hours::open_between(timestamp from, timestamp to) const {
  using std::chrono::milliseconds;
  if (to <= from) return milliseconds(0);
  const auto day_of = [this](timestamp t) {
    return static_cast<int>(date::floor<date::days>(tz_->to_local(t)).time_since_epoch().count());
  };
  // Yesterday's ranges may run past midnight; openings of neighbouring days may overlap, so
  // each instant counts once (`counted` only moves forward).
  milliseconds total(0);
  timestamp counted = from;
  for (int day = day_of(from) - 1; day <= day_of(to); ++day) {
    for (const auto& o : openings_on(day)) {
      const timestamp start = std::max(o.start, counted);
      const timestamp end = std::min(o.end, to);
      if (end <= start) continue;
      total += std::chrono::duration_cast<milliseconds>(end - start);
      counted = end;
    }
  }
  return total;
}

opening_state opening_hours::at(timestamp t) const {
  const auto local_now = tz_->to_local(t);
  const int today = static_cast<int>(date::floor<date::days>(local_now).time_since_epoch().count());

  // Sweep forward from yesterday (whose ranges may run past midnight), joining openings that
  // touch, until the one holding `t` has ended or the next one after `t` has begun.
  std::optional<interval> current;
  opening_state state;
  for (int day = today - 1; day <= today + days_ahead; ++day) {
    for (const auto& o : openings_on(day)) {
      if (current && o.start <= current->end) {
        current->end = std::max(current->end, o.end);
        continue;
      }
      if (current && current->start <= t && t < current->end) {
        state.open = true;
        state.since = current->start;
        state.until = current->end;
        break;
      }
      current = o;
      if (current->start > t) {
        state.next_open = current->start;
        return state;
      }
    }
    if (state.open) break;
  }
  if (!state.open) {
    if (!current || !(current->start <= t && t < current->end)) return state;
    state.open = true;
    state.since = current->start;  // open for the whole year ahead
  }
  // Look back for openings that run into this one.
  for (int day = today - 2; day >= today - days_back; --day) {
    const auto earlier = openings_on(day);
    bool joined = false;
    for (auto o = earlier.rbegin(); o != earlier.rend(); ++o) {
      if (o->start < *state.since && o->end >= *state.since) {
        state.since = o->start;
        joined = true;
      }
    }
    if (!joined) return state;
  }
  state.since.reset();  // open for longer than we look
  return state;
}

local_time_fields opening_hours::local(timestamp t) const {
  const auto lt = tz_->to_local(t);
  const auto day = date::floor<date::days>(lt);
  const date::year_month_day ymd{day};
  const date::hh_mm_ss hms{lt - day};
  return {static_cast<int>(ymd.year()),
          static_cast<unsigned>(ymd.month()),
          static_cast<unsigned>(ymd.day()),
          static_cast<int>(hms.hours().count()),
          static_cast<int>(hms.minutes().count()),
          date::weekday(day).c_encoding()};
}

}  // namespace askdesk::core
