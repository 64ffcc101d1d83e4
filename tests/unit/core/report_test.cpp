// The reports' arithmetic on facts as the scripts record them: business-hours waits, first
// responses that ignore automatic messages and reopenings, the summary and its percentiles.
#include "daemon/core/report.hpp"

#include <gtest/gtest.h>

namespace askdesk::core {
namespace {

timestamp at(std::string_view iso) {
  const auto t = parse_iso8601(iso);
  EXPECT_TRUE(t) << iso;
  return t.value_or(timestamp{});
}

std::string ms(std::string_view iso) { return std::to_string(to_millis(at(iso))); }

// Monday to Friday 09:00-17:00 in Toronto.
opening_hours office() {
  opening_hours::week week;
  for (int d = 0; d < 5; ++d) week[d] = {*parse_daily_range("09:00", "17:00")};
  return opening_hours("America/Toronto", week, {});
}

using fields = std::vector<std::pair<std::string, std::string>>;

report_row row(const fields& f) {
  static const auto hours = office();
  const auto facts = facts_from_fields(f);
  EXPECT_TRUE(facts);
  return row_of(*facts,
                [](std::string_view team) { return team == "reference" ? &hours : nullptr; });
}

TEST(Report, AConversationAnsweredAfterTwoMinutes) {
  const auto r = row({{"id", "1"},
                      {"channel", "sms"},
                      {"team", "reference"},
                      {"created_at", ms("2026-03-03T15:00:00Z")},  // Tuesday 10:00 local
                      {"status", "closed"},
                      {"closed_at", ms("2026-03-03T15:10:00Z")},
                      {"waits", "1"},
                      {"wait.1.start", ms("2026-03-03T15:00:00Z")},
                      {"wait.1.team", "reference"},
                      {"wait.1.assigned", ms("2026-03-03T15:01:00Z")},
                      {"wait.1.replied", ms("2026-03-03T15:02:00Z")},
                      {"staff", "ann"},
                      {"read_level", "2"},
                      {"tags", "holds,renewals"}});
  EXPECT_EQ(r.first_response_seconds, 120);
  EXPECT_EQ(r.wait_seconds, 60);
  EXPECT_EQ(r.duration_seconds, 600);
  EXPECT_TRUE(r.answered);
  EXPECT_FALSE(r.missed);
  EXPECT_EQ(r.local_date, "2026-03-03");
  EXPECT_EQ(r.weekday, 1);
  EXPECT_EQ(r.hour, 10);
  EXPECT_EQ(r.read_level, 2);
  EXPECT_EQ(r.tags, (std::vector<std::string>{"holds", "renewals"}));
  EXPECT_EQ(r.reopened, 0);
}

TEST(Report, ANightArrivalWaitsFromTheOpening) {
  // 02:00 local; answered at 09:05 local: five minutes of business hours.
  const auto r = row({{"id", "2"},
                      {"channel", "webchat"},
                      {"team", "reference"},
                      {"created_at", ms("2026-03-03T07:00:00Z")},
                      {"waits", "1"},
                      {"wait.1.start", ms("2026-03-03T07:00:00Z")},
                      {"wait.1.team", "reference"},
                      {"wait.1.after_hours", "1"},
                      {"wait.1.assigned", ms("2026-03-03T14:04:00Z")},
                      {"wait.1.replied", ms("2026-03-03T14:05:00Z")}});
  EXPECT_EQ(r.first_response_seconds, 300);
  EXPECT_EQ(r.wait_seconds, 240);
  EXPECT_TRUE(r.after_hours);
  EXPECT_FALSE(r.duration_seconds);  // still open
  EXPECT_EQ(r.local_date, "2026-03-03");
  EXPECT_EQ(r.hour, 2);
}

TEST(Report, AReopeningStartsANewWaitAndLeavesTheFirstResponseAlone) {
  const auto r = row({{"id", "3"},
                      {"channel", "email"},
                      {"team", "reference"},
                      {"created_at", ms("2026-03-03T15:00:00Z")},
                      {"status", "open"},
                      {"waits", "2"},
                      {"wait.1.start", ms("2026-03-03T15:00:00Z")},
                      {"wait.1.team", "reference"},
                      {"wait.1.assigned", ms("2026-03-03T15:02:00Z")},
                      {"wait.1.replied", ms("2026-03-03T15:02:00Z")},
                      {"wait.2.start", ms("2026-03-04T15:00:00Z")},
                      {"wait.2.team", "reference"}});
  EXPECT_EQ(r.first_response_seconds, 120);
  EXPECT_EQ(r.reopened, 1);
  EXPECT_TRUE(r.answered);
  EXPECT_FALSE(r.missed);
}

TEST(Report, OnlyAnAutomaticAcknowledgementIsMissedNotAnswered) {
  // The acknowledgement is not a reply: the facts have no wait.1.replied.
  const auto r = row({{"id", "4"},
                      {"channel", "sms"},
                      {"team", "reference"},
                      {"created_at", ms("2026-03-03T03:00:00Z")},
                      {"status", "closed"},
                      {"closed_at", ms("2026-03-04T03:00:00Z")},
                      {"waits", "1"},
                      {"wait.1.start", ms("2026-03-03T03:00:00Z")},
                      {"wait.1.team", "reference"}});
  EXPECT_FALSE(r.answered);
  EXPECT_TRUE(r.missed);
  EXPECT_FALSE(r.first_response_seconds);
  EXPECT_EQ(r.duration_seconds, 86400);
}

TEST(Report, ATeamWithoutHoursCountsTheWallClockAndUtcDates) {
  const auto r = row({{"id", "5"},
                      {"channel", "sms"},
                      {"team", "ill"},
                      {"created_at", ms("2026-03-08T23:30:00Z")},  // a Sunday
                      {"waits", "1"},
                      {"wait.1.start", ms("2026-03-08T23:30:00Z")},
                      {"wait.1.team", "ill"},
                      {"wait.1.replied", ms("2026-03-09T01:30:00.400Z")}});
  EXPECT_EQ(r.first_response_seconds, 7200);  // to the nearest second
  EXPECT_EQ(r.local_date, "2026-03-08");
  EXPECT_EQ(r.weekday, 6);
  EXPECT_EQ(r.hour, 23);
}

TEST(Report, FactsWithoutAnIdOrATimeAreNotAConversation) {
  EXPECT_FALSE(facts_from_fields(fields{{"id", "1"}}));
  EXPECT_FALSE(facts_from_fields(fields{{"created_at", "1790000000000"}}));
  EXPECT_FALSE(facts_from_fields(fields{{"id", "1"}, {"created_at", "soon"}}));
}

TEST(Report, MediansAverageTheMiddleAndP90IsTheNearestRank) {
  EXPECT_FALSE(spread_of({}).median);
  EXPECT_EQ(spread_of({5}).median, 5);
  EXPECT_EQ(spread_of({5}).p90, 5);
  EXPECT_EQ(spread_of({4, 1, 3, 2}).median, 2.5);
  const auto s = spread_of({10, 20, 30, 40, 50, 60, 70, 80, 90, 100});
  EXPECT_EQ(s.median, 55);
  EXPECT_EQ(s.p90, 90);
  EXPECT_EQ(spread_of({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}).p90, 10);
}

TEST(Report, TheSummaryAndTheHeatmapCountTheRows) {
  std::vector<report_row> rows(3);
  rows[0].answered = true;
  rows[0].first_response_seconds = 30;
  rows[0].read_level = 3;
  rows[0].weekday = 1;
  rows[0].hour = 10;
  rows[1].missed = true;
  rows[1].weekday = 1;
  rows[1].hour = 10;
  rows[2].answered = true;
  rows[2].first_response_seconds = 90;
  rows[2].csat = 4;
  const auto s = summarize(rows);
  EXPECT_EQ(s.conversations, 3);
  EXPECT_EQ(s.answered, 2);
  EXPECT_EQ(s.missed, 1);
  EXPECT_EQ(s.first_response.median, 60);
  EXPECT_EQ(s.read[2], 1);
  EXPECT_EQ(s.csat_count, 1);
  EXPECT_EQ(s.csat_average, 4);
  EXPECT_EQ(s.csat_distribution[3], 1);
  const auto h = heatmap_of(rows);
  EXPECT_EQ(h.volume[1][10], 2);
  EXPECT_EQ(h.missed[1][10], 1);
  EXPECT_EQ(h.volume[0][0], 1);
}

TEST(Report, VolumeByDayAndEachStaffMembersShare) {
  std::vector<report_row> rows(3);
  rows[0].local_date = "2026-03-04";
  rows[0].channel = "sms";
  rows[0].staff = {"ann", "bo"};
  rows[0].answered = true;
  rows[0].first_response_seconds = 40;
  rows[1].local_date = "2026-03-03";
  rows[1].channel = "email";
  rows[1].missed = true;
  rows[2].local_date = "2026-03-04";
  rows[2].channel = "sms";
  rows[2].staff = {"ann"};
  rows[2].answered = true;
  rows[2].first_response_seconds = 20;
  const auto days = volume_by_day(rows);
  ASSERT_EQ(days.size(), 2u);
  EXPECT_EQ(days[0].date, "2026-03-03");
  EXPECT_EQ(days[0].missed, 1);
  EXPECT_EQ(days[1].conversations, 2);
  EXPECT_EQ(days[1].channels, (std::vector<std::pair<std::string, std::int64_t>>{{"sms", 2}}));
  const auto staff = by_staff(rows);
  ASSERT_EQ(staff.size(), 2u);
  EXPECT_EQ(staff[0].staff, "ann");
  EXPECT_EQ(staff[0].conversations, 2);
  EXPECT_EQ(staff[0].answered, 2);
  EXPECT_EQ(staff[0].first_response.median, 30);
  EXPECT_EQ(staff[1].staff, "bo");
  EXPECT_EQ(staff[1].first_response.median, 40);
}

TEST(Report, ASatisfactionAnswerIsADigitFromOneToFiveAndAComment) {
  const auto plain = csat_answer_of(" 4 ");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->score, 4);
  EXPECT_EQ(plain->comment, "");
  const auto commented = csat_answer_of("5 - so kind, thank you!");
  ASSERT_TRUE(commented);
  EXPECT_EQ(commented->score, 5);
  EXPECT_EQ(commented->comment, "so kind, thank you!");
  EXPECT_EQ(csat_answer_of("3/5: slow")->comment, "slow");
  EXPECT_EQ(csat_answer_of("4/5 quick and kind")->comment, "quick and kind");
  for (const char* not_one :
       {"", "Hello", "0", "6", "10 books please", "42", "-3", "2 books on hold, renew them?"}) {
    EXPECT_FALSE(csat_answer_of(not_one)) << not_one;
  }
}

}  // namespace
}  // namespace askdesk::core
