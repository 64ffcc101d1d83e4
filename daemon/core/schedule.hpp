// A team's opening hours: an IANA time zone, weekly ranges of local time (several a day, a
// range may run over midnight) and dated exceptions (holidays, early closing, special
// openings) that replace the week's ranges on their date. Answers "open at this instant?
// since when, until when? if closed, when does it next open?" for the after-hours
// acknowledgement, the widget and the router.
//
// Local times become instants through the system's tz database (date/tz), so daylight-saving
// changes are right: a range that starts in the spring gap opens at the change; an ambiguous
// autumn time opens at its first occurrence and closes at its second.
//
// An immutable value; thread-safe.
#pragma once

#include <array>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/core/time.hpp"

namespace date {
class time_zone;
}

namespace askdesk::core {

// An opening on one local day in minutes after its midnight: [from, to). A `to` past 1440
// runs over midnight: "22:00"-"02:00" is {1320, 1560}.
struct daily_range {
  int from = 0;
  int to = 0;
  friend bool operator==(const daily_range&, const daily_range&) = default;
};

// "09:30" -> 570. "24:00" (1440) only as an end. nullopt for anything else.
std::optional<int> parse_clock_time(std::string_view text, bool end);
// A range from its two texts; an end at or before the start runs over midnight, except that
// equal texts are an empty range (nullopt), and so is anything parse_clock_time refuses.
std::optional<daily_range> parse_daily_range(std::string_view from, std::string_view to);
// 570 -> "09:30"; past midnight reads as the clock shows it (1560 -> "02:00"), except that
// an `end` of exactly 1440 is "24:00".
std::string format_clock_time(int minutes, bool end);
// "09:00-12:00", "22:00-02:00"
std::string to_string(const daily_range& r);
// The first pair of ranges that overlap, as "09:00-12:00 overlaps 11:00-14:00"; nullopt when
// none does.
std::optional<std::string> find_overlap(std::vector<daily_range> ranges);
// "2026-12-25" -> that date; nullopt unless a real date in that exact form.
std::optional<std::chrono::year_month_day> parse_date(std::string_view text);
// That date -> "2026-12-25".
std::string format_date(std::chrono::year_month_day date);
// Whether the tz database knows `name` ("America/Toronto").
bool is_known_zone(std::string_view name);

// A local date and time on a team's wall clock.
struct local_time_fields {
  int year = 1970;
  unsigned month = 1;  // 1..12
  unsigned day = 1;
  int hour = 0;
  int minute = 0;
  unsigned weekday = 4;  // 0 = Sunday
};

struct opening_state {
  bool open = false;
  // Open: when this opening began (ranges that touch count as one), and when it ends;
  // nullopt when that is further than the days searched (a week back, a year ahead).
  std::optional<timestamp> since;
  std::optional<timestamp> until;
  // Closed: the next opening; nullopt when none within a year.
  std::optional<timestamp> next_open;
};

class opening_hours {
 public:
  using week = std::array<std::vector<daily_range>, 7>;  // [0] Monday ... [6] Sunday
  using exception_map = std::map<std::chrono::year_month_day, std::vector<daily_range>>;

  // REQUIRES: is_known_zone(zone).
  opening_hours(std::string zone, week weekly, exception_map exceptions);

  const std::string& zone() const { return zone_; }
  const week& weekly() const { return weekly_; }
  const exception_map& exceptions() const { return exceptions_; }

  opening_state at(timestamp t) const;
  local_time_fields local(timestamp t) const;
  // How much of [from, to) the team is open: a wait that starts at night counts from the
  // opening. Zero when `to` is not after `from`.
  std::chrono::milliseconds open_between(timestamp from, timestamp to) const;

 private:
  struct interval {
    timestamp start;
    timestamp end;
  };
  // The openings of local day `day` (days since the epoch), as instants, in order.
  std::vector<interval> openings_on(int day) const;

  std::string zone_;
  const date::time_zone* tz_;
  week weekly_;
  exception_map exceptions_;
};

}  // namespace askdesk::core
