// The reports: what each conversation's facts (the `facts:{c:<id>}` hash the scripts keep:
// times, channel, team, topic, staff, tags, READ level; never a patron's name, address or
// words) say about how well the library answered, one row per conversation, and the summary
// and the weekday x hour table computed from those same rows, so that a CSV of the rows and
// the summary always agree.
//
// Measures, all in whole seconds:
//  - first response: from the patron's first message to the first reply by a person, in the
//    first wait only (automatic messages are not replies; a reopened conversation starts a
//    new wait and never stretches the first);
//  - wait: from the first message to the first staff member taking it;
//  - both count only the time the team of the first wait was open (a message at night waits
//    from the opening); a team without opening hours is always open;
//  - duration: from the first message to the close, on the wall clock.
// A conversation is answered when a person replied in its first wait, missed when it closed
// without that (a social item in triage is neither: staff may dismiss it).
//
// Pure functions; thread-safe.
#pragma once

#include <array>
#include <functional>
#include <iterator>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/core/schedule.hpp"
#include "daemon/core/time.hpp"

namespace askdesk::core {

// One conversation's facts, as the scripts record them (what the reports need of them).
struct conversation_facts {
  struct wait {
    timestamp start{};
    std::string team;
    bool after_hours = false;
    std::optional<timestamp> assigned;  // the first staff member took it
    std::optional<timestamp> replied;   // the first reply by a person
  };
  std::string id, channel, team, topic;
  timestamp created_at{};
  bool closed = false;
  std::optional<timestamp> closed_at;
  bool triage = false;  // a social item: answered, dismissed or marked as abuse
  std::optional<int> read_level;
  std::optional<int> csat;         // the patron's satisfaction, 1-5
  std::vector<std::string> staff;  // who took or answered it, first first
  std::vector<std::string> tags;
  std::optional<wait> first_wait;  // from the first message
  int waits = 0;                   // 1, and one more per reopening
};

// The fields of the facts hash the reports read, in the order facts_from_values() takes them.
inline constexpr std::string_view report_fields[] = {"id",
                                                     "channel",
                                                     "team",
                                                     "topic",
                                                     "created_at",
                                                     "status",
                                                     "closed_at",
                                                     "triage",
                                                     "read_level",
                                                     "staff",
                                                     "tags",
                                                     "waits",
                                                     "wait.1.start",
                                                     "wait.1.team",
                                                     "wait.1.after_hours",
                                                     "wait.1.assigned",
                                                     "wait.1.replied",
                                                     "csat"};
inline constexpr std::size_t report_field_count = std::size(report_fields);

// The facts from their values in report_fields' order ("" for a field not set); nullopt when
// they are not a conversation's (no id or creation time).
std::optional<conversation_facts> facts_from_values(
    std::span<const std::string_view, report_field_count> values);
// The same from a hash's (field, value) pairs.
std::optional<conversation_facts> facts_from_fields(
    std::span<const std::pair<std::string, std::string>> fields);

struct report_row {
  std::string id, channel, team, topic;
  timestamp created_at{};
  std::string local_date;  // YYYY-MM-DD of created_at in the first wait's team's time zone
  int weekday = 0;         // of that local time: 0 Monday .. 6 Sunday
  int hour = 0;            // 0..23
  std::optional<std::int64_t> first_response_seconds, wait_seconds, duration_seconds;
  std::vector<std::string> staff, tags;
  std::optional<int> read_level;
  std::optional<int> csat;
  bool after_hours = false;
  int reopened = 0;  // how many times
  bool answered = false, missed = false;
};

// The opening hours of a team, or null when it has none (always open) or is unknown.
using calendar_lookup = std::function<const opening_hours*(std::string_view team)>;

report_row row_of(const conversation_facts& f, const calendar_lookup& calendar);

// A patron's answer to the satisfaction question: a text that starts with a digit from 1 to 5
// (not followed by another digit), and what follows it as their comment ("4 - very kind" ->
// 4, "very kind"); nullopt for anything else ("10 books", "Hello").
struct csat_answer {
  int score = 0;
  std::string comment;
};
std::optional<csat_answer> csat_answer_of(std::string_view text);

// Whole seconds (to the nearest) of [from, to) that `hours` are open; the wall clock when
// there are none. 0 when `to` is not after `from`.
std::int64_t open_seconds(const opening_hours* hours, timestamp from, timestamp to);

// The median of a sorted list (the mean of the two middle values when there are two) and
// its 90th percentile (the smallest value at or above 90% of them: nearest rank); nullopt
// for none.
struct spread {
  std::optional<double> median, p90;
};
spread spread_of(std::vector<std::int64_t> values);

struct report_summary {
  std::int64_t conversations = 0, answered = 0, missed = 0;
  spread first_response, wait, duration;
  std::int64_t csat_count = 0;
  std::optional<double> csat_average;
  std::array<std::int64_t, 5> csat_distribution{};  // scores 1..5
  std::array<std::int64_t, 6> read{};               // READ levels 1..6
};
report_summary summarize(std::span<const report_row> rows);

// Conversations by local date of arrival, with the missed ones and the count per channel,
// in date order.
struct day_volume {
  std::string date;
  std::int64_t conversations = 0, missed = 0;
  std::vector<std::pair<std::string, std::int64_t>> channels;  // by channel name
};
std::vector<day_volume> volume_by_day(std::span<const report_row> rows);

// Each staff member's share: the conversations they took or answered, how many of those were
// answered, and their first responses; by name.
struct staff_share {
  std::string staff;
  std::int64_t conversations = 0, answered = 0;
  spread first_response;
};
std::vector<staff_share> by_staff(std::span<const report_row> rows);

// Conversations and missed ones by local weekday (0 Monday) and hour of arrival.
struct heatmap {
  std::array<std::array<std::int64_t, 24>, 7> volume{}, missed{};
};
heatmap heatmap_of(std::span<const report_row> rows);

}  // namespace askdesk::core
