#include "daemon/config/team_hours.hpp"

#include <gtest/gtest.h>

namespace askdesk::config {
namespace {

struct parsed {
  std::optional<daemon_config> config;
  std::string problems;
};

// One team with `fields` added to its block.
parsed team_with(const std::string& fields) {
  json::problems out;
  auto c = parse(R"({"teams": [{"id": "reference", )" + fields + "}]}", defaults{},
                 json::no_environment(), out);
  return {std::move(c), out.to_string()};
}

void expect_problem(const std::string& fields, const std::string& expected) {
  const auto p = team_with(fields);
  EXPECT_FALSE(p.config);
  EXPECT_NE(p.problems.find(expected), std::string::npos) << expected << "\n" << p.problems;
}

TEST(TeamHours, WeeklyHoursExceptionsAndTemplatesAreRead) {
  const auto p = team_with(R"(
    "timezone": "America/Toronto", "language": "fr-CA",
    "hours": {"mon": [["09:00", "12:00"], ["13:00", "17:00"]], "fri": [["20:00", "02:00"]],
              "sat": [["10:00", "16:00"]]},
    "exceptions": [{"date": "2026-12-25", "hours": []},
                   {"date": "2026-12-24", "hours": [["09:00", "12:00"]]}],
    "auto_ack": {"sms": {"en": "Closed. Back {next_open}."},
                 "*": {"en": "Hi {patron_name}, {team} opens {next_open}.", "fr": "Bonjour"}},
    "busy_ack": {"webchat": {"en": "All librarians are busy; {team} will answer soon."}})");
  ASSERT_TRUE(p.config) << p.problems;
  const auto& team = p.config->teams.front();
  ASSERT_TRUE(team.hours);
  EXPECT_EQ(team.hours->zone(), "America/Toronto");
  EXPECT_EQ(team.hours->weekly()[0].size(), 2u);
  EXPECT_EQ(team.hours->weekly()[4].front().to, 26 * 60);
  EXPECT_TRUE(team.hours->weekly()[6].empty());  // a missing day is closed
  EXPECT_EQ(team.hours->exceptions().size(), 2u);
  EXPECT_EQ(team.language, "fr-ca");
  EXPECT_EQ(team.auto_ack.at("sms").at("en"), "Closed. Back {next_open}.");
  EXPECT_EQ(team.auto_ack.at("*").size(), 2u);
  EXPECT_EQ(team.busy_ack.size(), 1u);
}

TEST(TeamHours, ATeamWithoutHoursIsAlwaysOpenWithTheDefaultMessage) {
  const auto p = team_with(R"("name": "Reference")");
  ASSERT_TRUE(p.config) << p.problems;
  EXPECT_FALSE(p.config->teams.front().hours);
  EXPECT_EQ(p.config->teams.front().auto_ack, default_auto_ack());
  EXPECT_TRUE(p.config->teams.front().busy_ack.empty());
}

TEST(TeamHours, OverlappingRangesAreRefusedWithTheirPath) {
  expect_problem(R"("timezone": "UTC", "hours": {"tue": [["09:00", "13:00"], ["12:00", "17:00"]]})",
                 "teams[0].hours.tue: ranges overlap: 09:00-13:00 overlaps 12:00-17:00");
  expect_problem(
      R"("timezone": "UTC", "hours": {"fri": [["20:00", "03:00"]], "sat": [["02:00", "04:00"]]})",
      "teams[0].hours.sat: overlaps fri's range running past midnight until 03:00");
  expect_problem(R"("timezone": "UTC", "hours": {}, "exceptions": [{"date": "2026-12-24",
                    "hours": [["09:00", "12:00"], ["11:00", "13:00"]]}])",
                 "teams[0].exceptions[0].hours: ranges overlap");
}

TEST(TeamHours, UnknownZonesAndBadTimesAreRefused) {
  expect_problem(R"("timezone": "America/Toranto", "hours": {})",
                 "teams[0].timezone: unknown time zone 'America/Toranto'");
  expect_problem(R"("hours": {"mon": [["09:00", "17:00"]]})", "teams[0].timezone: required");
  expect_problem(R"("timezone": "UTC", "hours": {"mon": [["9:00", "17:00"]]})",
                 "teams[0].hours.mon[0]: times must be HH:MM");
  expect_problem(R"("timezone": "UTC", "hours": {"mon": [["09:00"]]})",
                 R"(teams[0].hours.mon[0]: must be ["HH:MM", "HH:MM"])");
  expect_problem(R"("timezone": "UTC", "hours": {"monday": []})",
                 "teams[0].hours.monday: unknown key");
}

TEST(TeamHours, BadDatesAreRefused) {
  expect_problem(
      R"("timezone": "UTC", "hours": {}, "exceptions": [{"date": "2026-02-30", "hours": []}])",
      "teams[0].exceptions[0].date: must be a real date as YYYY-MM-DD, not '2026-02-30'");
  expect_problem(
      R"("timezone": "UTC", "hours": {}, "exceptions": [{"date": "12/25/2026", "hours": []}])",
      "teams[0].exceptions[0].date: must be a real date");
  expect_problem(R"("timezone": "UTC", "hours": {}, "exceptions": [{"date": "2026-12-25"}])",
                 "teams[0].exceptions[0].hours: required");
  expect_problem(
      R"("timezone": "UTC", "hours": {}, "exceptions": [{"date": "2026-12-25", "hours": []},
                    {"date": "2026-12-25", "hours": []}])",
      "teams[0].exceptions[1].date: a second exception for 2026-12-25");
}

TEST(TeamHours, TemplatesAreChecked) {
  expect_problem(R"("timezone": "UTC", "hours": {}, "auto_ack": {"*": {"en": "Hi {name}"}})",
                 "teams[0].auto_ack.*.en: unknown placeholder {name}");
  expect_problem(R"("timezone": "UTC", "hours": {}, "auto_ack": {"*": {"english": "Hi"}})",
                 "teams[0].auto_ack.*.english: must be a language tag");
  expect_problem(R"("busy_ack": {"sms": {"en": "Back {next_open}"}})",
                 "teams[0].busy_ack.sms.en: unknown placeholder {next_open}");
  expect_problem(R"("auto_ack": {"*": {"en": "Closed"}})", "teams[0].auto_ack: needs hours");
  expect_problem(R"("timezone": "UTC", "hours": {}, "language": "klingon")",
                 "teams[0].language: must be a language tag");
}

TEST(TeamHours, TheSatisfactionQuestionIsAskedOnTheConfiguredChannelsInTheTeamsLanguage) {
  const auto defaults_only = team_with(R"("name": "Reference", "language": "fr")");
  ASSERT_TRUE(defaults_only.config) << defaults_only.problems;
  const auto& team = defaults_only.config->teams.front();
  EXPECT_NE(csat_question(team, "sms").value_or("").find("Merci d'avoir contacté Reference"),
            std::string::npos);
  EXPECT_FALSE(csat_question(team, "email"));  // off for email by default

  const auto p = team_with(R"("name": "Reference",
    "csat": {"channels": ["email"], "question": {"en": "How did {team} do? 1-5"}})");
  ASSERT_TRUE(p.config) << p.problems;
  EXPECT_EQ(csat_question(p.config->teams.front(), "email"), "How did Reference do? 1-5");
  EXPECT_FALSE(csat_question(p.config->teams.front(), "sms"));
  const auto none = team_with(R"("csat": {"channels": []})");
  ASSERT_TRUE(none.config);
  EXPECT_FALSE(csat_question(none.config->teams.front(), "webchat"));

  expect_problem(R"("csat": {"channels": ["Web Chat"]})", "teams[0].csat.channels[0]");
  expect_problem(R"("csat": {"question": {"en": "Rate {patron_name}"}})", "patron_name");
  expect_problem(R"("csat": {"chanels": []})", "chanels");
}

}  // namespace
}  // namespace askdesk::config
