#include "daemon/core/schedule.hpp"

#include <gtest/gtest.h>

#include "daemon/core/local_format.hpp"

namespace askdesk::core {
namespace {

timestamp at(std::string_view iso) {
  const auto t = parse_iso8601(iso);
  EXPECT_TRUE(t) << iso;
  return t.value_or(timestamp{});
}

daily_range range(std::string_view from, std::string_view to) {
  const auto r = parse_daily_range(from, to);
  EXPECT_TRUE(r) << from << "-" << to;
  return r.value_or(daily_range{});
}

// Monday to Friday 09:00-17:00 in `zone`, and `weekend` on Saturday and Sunday.
opening_hours office(std::string zone, std::vector<daily_range> weekend = {},
                     opening_hours::exception_map exceptions = {}) {
  opening_hours::week week;
  for (int d = 0; d < 5; ++d) week[d] = {range("09:00", "17:00")};
  week[5] = weekend;
  week[6] = weekend;
  return opening_hours(std::move(zone), week, std::move(exceptions));
}

std::chrono::year_month_day date(std::string_view text) { return parse_date(text).value(); }

TEST(Schedule, ClockTimesAreStrictHHMM) {
  EXPECT_EQ(parse_clock_time("09:30", false), 570);
  EXPECT_EQ(parse_clock_time("00:00", false), 0);
  EXPECT_EQ(parse_clock_time("24:00", true), 1440);
  EXPECT_FALSE(parse_clock_time("24:00", false));  // only an end may be midnight at the end
  EXPECT_FALSE(parse_clock_time("9:30", false));
  EXPECT_FALSE(parse_clock_time("25:00", true));
  EXPECT_FALSE(parse_clock_time("12:60", false));
  EXPECT_FALSE(parse_clock_time("12h30", false));
}

TEST(Schedule, AnEndAtOrBeforeTheStartRunsOverMidnight) {
  EXPECT_EQ(range("22:00", "02:00"), (daily_range{1320, 1560}));
  EXPECT_EQ(range("00:00", "24:00"), (daily_range{0, 1440}));
  EXPECT_EQ(to_string(range("22:00", "02:00")), "22:00-02:00");
  EXPECT_EQ(to_string(range("18:00", "24:00")), "18:00-24:00");
  EXPECT_FALSE(parse_daily_range("09:00", "09:00"));
}

TEST(Schedule, OverlapsAreFoundWhateverTheOrder) {
  EXPECT_EQ(find_overlap({range("13:00", "17:00"), range("09:00", "13:30")}),
            "09:00-13:30 overlaps 13:00-17:00");
  EXPECT_FALSE(find_overlap({range("09:00", "12:00"), range("12:00", "17:00")}));  // touching
  EXPECT_TRUE(find_overlap({range("22:00", "02:00"), range("23:00", "23:30")}));
}

TEST(Schedule, DatesMustBeRealDates) {
  EXPECT_EQ(date("2026-12-25"),
            std::chrono::year_month_day(std::chrono::year(2026) / std::chrono::December / 25));
  EXPECT_FALSE(parse_date("2026-02-30"));
  EXPECT_FALSE(parse_date("2026-2-03"));
  EXPECT_FALSE(parse_date("25/12/2026"));
}

TEST(Schedule, ZonesComeFromTheTzDatabase) {
  EXPECT_TRUE(is_known_zone("America/Toronto"));
  EXPECT_TRUE(is_known_zone("Europe/London"));
  EXPECT_FALSE(is_known_zone("Mars/Olympus_Mons"));
  EXPECT_FALSE(is_known_zone(""));
}

TEST(Schedule, AFridayNightWaitsForMondayMorning) {
  const auto hours = office("America/Toronto");
  const auto friday_night = hours.at(at("2026-11-28T04:00:00Z"));  // Fri 23:00 EST
  EXPECT_FALSE(friday_night.open);
  EXPECT_EQ(friday_night.next_open, at("2026-11-30T14:00:00Z"));  // Mon 09:00 EST

  const auto monday = hours.at(at("2026-11-30T15:30:00Z"));  // Mon 10:30
  EXPECT_TRUE(monday.open);
  EXPECT_EQ(monday.since, at("2026-11-30T14:00:00Z"));
  EXPECT_EQ(monday.until, at("2026-11-30T22:00:00Z"));
  EXPECT_FALSE(hours.at(at("2026-11-30T22:00:00Z")).open);  // closing time is closed
}

TEST(Schedule, TorontoSpringForwardKeepsTheWallClock) {
  // 8 March 2026: 02:00 EST becomes 03:00 EDT.
  const auto hours = office("America/Toronto");
  const auto weekend = hours.at(at("2026-03-07T18:00:00Z"));  // Sat 13:00 EST
  EXPECT_EQ(weekend.next_open, at("2026-03-09T13:00:00Z"));   // Mon 09:00 EDT, not 14:00Z

  opening_hours::week night;
  night[6] = {range("01:00", "05:00")};  // Sunday, across the change: three hours long
  const opening_hours sunday("America/Toronto", night, {});
  const auto early = sunday.at(at("2026-03-08T07:30:00Z"));  // 03:30 EDT
  EXPECT_TRUE(early.open);
  EXPECT_EQ(early.since, at("2026-03-08T06:00:00Z"));
  EXPECT_EQ(early.until, at("2026-03-08T09:00:00Z"));

  night[6] = {range("02:30", "04:00")};  // opens in the hour that does not exist
  const opening_hours gap("America/Toronto", night, {});
  EXPECT_EQ(gap.at(at("2026-03-08T05:00:00Z")).next_open, at("2026-03-08T07:00:00Z"));
}

TEST(Schedule, TorontoFallBackClosesAtTheSecondOneThirty) {
  // 1 November 2026: 02:00 EDT becomes 01:00 EST, so 01:30 happens twice.
  opening_hours::week week;
  week[6] = {range("00:00", "01:30")};
  const opening_hours hours("America/Toronto", week, {});
  const auto state = hours.at(at("2026-11-01T05:45:00Z"));  // 01:45 EDT, before the change
  EXPECT_TRUE(state.open);
  EXPECT_EQ(state.since, at("2026-11-01T04:00:00Z"));  // 00:00 EDT
  EXPECT_EQ(state.until, at("2026-11-01T06:30:00Z"));  // 01:30 EST

  const auto office_hours = office("America/Toronto");
  EXPECT_EQ(office_hours.at(at("2026-10-30T22:00:00Z")).next_open,  // Fri 18:00 EDT
            at("2026-11-02T14:00:00Z"));                            // Mon 09:00 EST
}

TEST(Schedule, LondonAcrossBothChanges) {
  const auto hours = office("Europe/London");
  // BST begins 29 March 2026 at 01:00 GMT.
  EXPECT_EQ(hours.at(at("2026-03-27T18:00:00Z")).next_open, at("2026-03-30T08:00:00Z"));
  // ... and ends 25 October 2026 at 01:00 GMT.
  EXPECT_EQ(hours.at(at("2026-10-23T17:00:00Z")).next_open, at("2026-10-26T09:00:00Z"));
  const auto summer = hours.at(at("2026-07-01T15:59:00Z"));  // 16:59 BST
  EXPECT_TRUE(summer.open);
  EXPECT_EQ(summer.until, at("2026-07-01T16:00:00Z"));
}

TEST(Schedule, AHolidayReplacesItsDayAndASpecialOpeningAddsOne) {
  const auto hours = office("America/Toronto", {},
                            {{date("2026-12-25"), {}},
                             {date("2026-12-24"), {range("09:00", "12:00")}},
                             {date("2026-12-27"), {range("13:00", "16:00")}}});
  const auto christmas_eve = hours.at(at("2026-12-24T18:00:00Z"));  // Thu 13:00: closed early
  EXPECT_FALSE(christmas_eve.open);
  // Friday is Christmas: closed; Saturday closed; the special Sunday opening is next.
  EXPECT_EQ(christmas_eve.next_open, at("2026-12-27T18:00:00Z"));
  EXPECT_TRUE(hours.at(at("2026-12-24T16:59:00Z")).open);  // 11:59 on the 24th
}

TEST(Schedule, ARangeOverMidnightBelongsToTheDayItStarts) {
  opening_hours::week week;
  week[4] = {range("20:00", "02:00")};  // Friday night into Saturday
  const opening_hours hours("Europe/London", week, {});
  const auto saturday = hours.at(at("2026-11-28T01:00:00Z"));  // Sat 01:00 GMT
  EXPECT_TRUE(saturday.open);
  EXPECT_EQ(saturday.since, at("2026-11-27T20:00:00Z"));
  EXPECT_EQ(saturday.until, at("2026-11-28T02:00:00Z"));
  const auto later = hours.at(at("2026-11-28T02:30:00Z"));
  EXPECT_FALSE(later.open);
  EXPECT_EQ(later.next_open, at("2026-12-04T20:00:00Z"));
}

TEST(Schedule, TouchingRangesAreOneOpening) {
  opening_hours::week week;
  week[0] = {range("12:00", "17:00"), range("09:00", "12:00")};
  week[1] = {range("00:00", "08:00")};
  week[0].push_back(range("20:00", "24:00"));
  const opening_hours hours("Europe/London", week, {});
  const auto noon = hours.at(at("2026-11-23T11:00:00Z"));
  EXPECT_EQ(noon.until, at("2026-11-23T17:00:00Z"));
  const auto night = hours.at(at("2026-11-24T03:00:00Z"));  // Tuesday 03:00
  EXPECT_EQ(night.since, at("2026-11-23T20:00:00Z"));
  EXPECT_EQ(night.until, at("2026-11-24T08:00:00Z"));
}

TEST(Schedule, NeverOpenAndAlwaysOpen) {
  const opening_hours never("UTC", {}, {});
  const auto closed = never.at(at("2026-11-23T12:00:00Z"));
  EXPECT_FALSE(closed.open);
  EXPECT_FALSE(closed.next_open);

  opening_hours::week all;
  for (auto& day : all) day = {range("00:00", "24:00")};
  const auto open = opening_hours("UTC", all, {}).at(at("2026-11-23T12:00:00Z"));
  EXPECT_TRUE(open.open);
  EXPECT_FALSE(open.until);  // not within the year searched
  EXPECT_FALSE(open.since);
}

TEST(Schedule, LocalTimeIsTheTeamsWallClock) {
  const auto hours = office("America/Toronto");
  const auto f = hours.local(at("2026-11-24T14:05:00Z"));
  EXPECT_EQ(f.year, 2026);
  EXPECT_EQ(f.month, 11u);
  EXPECT_EQ(f.day, 24u);
  EXPECT_EQ(f.hour, 9);
  EXPECT_EQ(f.minute, 5);
  EXPECT_EQ(f.weekday, 2u);  // Tuesday
}

TEST(LocalFormat, DayAndTimeInThePatronsLanguage) {
  const local_time_fields tuesday{2026, 11, 24, 9, 0, 2};
  EXPECT_EQ(format_day_and_time(tuesday, "en"), "Tuesday, November 24 at 9:00 AM");
  EXPECT_EQ(format_day_and_time(tuesday, "fr"), "mardi 24 novembre à 09:00");
  EXPECT_EQ(format_day_and_time(tuesday, "en-GB"), "Tuesday, 24 November at 09:00");
  EXPECT_EQ(format_day_and_time(tuesday, "not a language"), "Tuesday, November 24 at 9:00 AM");
}

TEST(Schedule, OpenTimeBetweenTwoInstantsCountsOnlyTheOpenings) {
  const auto hours = office("America/Toronto");
  using std::chrono::minutes;
  // 02:00 to 09:05 local on a Tuesday: five minutes open.
  EXPECT_EQ(hours.open_between(at("2026-03-03T07:00:00Z"), at("2026-03-03T14:05:00Z")), minutes(5));
  // Within an opening: the wall clock.
  EXPECT_EQ(hours.open_between(at("2026-03-03T15:00:00Z"), at("2026-03-03T15:02:00Z")), minutes(2));
  // Friday 16:00 to Monday 10:00: one hour on Friday, one on Monday.
  EXPECT_EQ(hours.open_between(at("2026-03-06T21:00:00Z"), at("2026-03-09T14:00:00Z")),
            minutes(120));
  EXPECT_EQ(hours.open_between(at("2026-03-09T14:00:00Z"), at("2026-03-06T21:00:00Z")), minutes(0));
  // A range over midnight counts once.
  opening_hours::week week;
  for (auto& day : week) day = {range("22:00", "02:00")};
  const opening_hours nights("UTC", week, {});
  EXPECT_EQ(nights.open_between(at("2026-03-03T21:00:00Z"), at("2026-03-04T03:00:00Z")),
            minutes(240));
}

}  // namespace
}  // namespace askdesk::core
