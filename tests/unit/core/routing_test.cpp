#include "daemon/core/routing.hpp"

#include <gtest/gtest.h>

namespace askdesk::core {
namespace {

using namespace std::chrono_literals;
using kind = routing_decision::kind;

const timestamp t0 = timestamp(std::chrono::milliseconds(1'763'845'500'000));

staff_state member(std::string name, int open = 0, presence p = presence::available,
                   std::vector<std::string> teams = {"reference"}) {
  return {.name = std::move(name), .status = p, .teams = std::move(teams), .open = open};
}

waiting_conversation waiting(std::string team = "reference", timestamp since = t0) {
  return {.id = "1", .team = std::move(team), .waiting_since = since};
}

team_policy policy(team_mode mode, int capacity = 2) {
  return {.id = "reference", .mode = mode, .capacity = capacity};
}

TEST(Routing, BroadcastOffersEveryAvailableMemberWithRoom) {
  const std::vector<staff_state> staff = {
      member("cleo"),
      member("ann", 1),
      member("bo", 2),  // bo is full
      member("dee", 0, presence::away),
      member("eve", 0, presence::offline),
      member("fay", 0, presence::available, {"circulation"})};  // another team
  const auto d = route(waiting(), policy(team_mode::broadcast), staff, t0);
  EXPECT_EQ(d.what, kind::offer);
  EXPECT_EQ(d.to, (std::vector<std::string>{"ann", "cleo"}));
  EXPECT_EQ(d.offer_expires, t0 + 30s);
}

TEST(Routing, LeastBusyPicksTheFewestOpenThenWhoWaitedLongest) {
  std::vector<staff_state> staff = {member("ann", 1), member("bo", 0), member("cleo", 0)};
  staff[1].last_assigned = t0 - 1min;
  staff[2].last_assigned = t0 - 5min;
  const auto d = route(waiting(), policy(team_mode::least_busy), staff, t0);
  EXPECT_EQ(d.to, (std::vector<std::string>{"cleo"}));
  EXPECT_EQ(d.why, "least-busy: cleo has 0 of 2");
}

TEST(Routing, RoundRobinPicksWhoWasAssignedLongestAgo) {
  std::vector<staff_state> staff = {member("ann", 0), member("bo", 1), member("cleo", 0)};
  staff[0].last_assigned = t0 - 1min;
  staff[1].last_assigned = t0 - 9min;
  staff[2].last_assigned = t0 - 3min;
  EXPECT_EQ(route(waiting(), policy(team_mode::round_robin), staff, t0).to,
            (std::vector<std::string>{"bo"}));
  staff[1].last_assigned = t0;  // bo just got one: next is cleo
  EXPECT_EQ(route(waiting(), policy(team_mode::round_robin), staff, t0).to,
            (std::vector<std::string>{"cleo"}));
}

TEST(Routing, NobodyWithRoomMeansWait) {
  const std::vector<staff_state> staff = {member("ann", 2), member("bo", 0, presence::away)};
  const auto d = route(waiting(), policy(team_mode::least_busy), staff, t0);
  EXPECT_EQ(d.what, kind::wait);
  EXPECT_TRUE(d.to.empty());
  // Capacity frees up: the same conversation is offered.
  const std::vector<staff_state> later = {member("ann", 1), member("bo", 0, presence::away)};
  EXPECT_EQ(route(waiting(), policy(team_mode::least_busy), later, t0).to,
            (std::vector<std::string>{"ann"}));
}

TEST(Routing, AnOfferThatTimesOutMovesOnToTheNextPerson) {
  const std::vector<staff_state> staff = {member("ann"), member("bo", 1)};
  auto c = waiting();
  const auto first = route(c, policy(team_mode::least_busy), staff, t0);
  ASSERT_EQ(first.to, (std::vector<std::string>{"ann"}));
  // No answer before first.offer_expires: ann counts as having declined.
  c.declined.push_back("ann");
  const auto second = route(c, policy(team_mode::least_busy), staff, first.offer_expires);
  EXPECT_EQ(second.to, (std::vector<std::string>{"bo"}));
  EXPECT_EQ(second.offer_expires, first.offer_expires + 30s);
  c.declined.push_back("bo");
  EXPECT_EQ(route(c, policy(team_mode::least_busy), staff, second.offer_expires).what, kind::wait);
}

TEST(Routing, OverflowAfterTheConfiguredWait) {
  auto p = policy(team_mode::broadcast);
  p.overflow_team = "circulation";
  p.overflow_after = 5min;
  const std::vector<staff_state> staff = {member("ann", 2)};
  EXPECT_EQ(route(waiting(), p, staff, t0 + 4min).what, kind::wait);
  const auto d = route(waiting(), p, staff, t0 + 5min);
  EXPECT_EQ(d.what, kind::overflow);
  EXPECT_EQ(d.team, "circulation");
  // In the overflow team its overflow clock starts again from its arrival there.
  auto arrived = waiting();
  arrived.in_team_since = t0 + 4min;
  EXPECT_EQ(route(arrived, p, staff, t0 + 5min).what, kind::wait);
  // In the overflow team it is routed by that team's policy.
  auto moved = waiting("circulation");
  const std::vector<staff_state> there = {member("fay", 0, presence::available, {"circulation"})};
  EXPECT_EQ(route(moved, {.id = "circulation"}, there, t0 + 5min).to,
            (std::vector<std::string>{"fay"}));
}

TEST(Routing, AReturningPatronGoesBackToTheirLastHelperFirst) {
  const std::vector<staff_state> staff = {member("ann", 0), member("bo", 1)};
  auto c = waiting();
  c.last_helper = "bo";
  const auto d = route(c, policy(team_mode::least_busy), staff, t0);
  EXPECT_EQ(d.to, (std::vector<std::string>{"bo"}));
  EXPECT_EQ(d.why, "returning patron: bo helped them last");
  // Not when they are away, full, or declined: then the mode decides.
  for (auto state : {member("bo", 0, presence::away), member("bo", 2)}) {
    const std::vector<staff_state> others = {member("ann", 0), state};
    EXPECT_EQ(route(c, policy(team_mode::least_busy), others, t0).to,
              (std::vector<std::string>{"ann"}));
  }
  c.declined = {"bo"};
  EXPECT_EQ(route(c, policy(team_mode::least_busy), staff, t0).to,
            (std::vector<std::string>{"ann"}));
  // Nor when they are not in the conversation's team (they could not take it).
  c.declined.clear();
  const std::vector<staff_state> moved = {member("ann", 0),
                                          member("bo", 0, presence::available, {"circulation"})};
  EXPECT_EQ(route(c, policy(team_mode::least_busy), moved, t0).to,
            (std::vector<std::string>{"ann"}));
}

TEST(Routing, ATransferToAnotherTeamIsRoutedThere) {
  const std::vector<staff_state> staff = {member("ann"),
                                          member("fay", 0, presence::available, {"circulation"})};
  auto c = waiting();
  c.team = "circulation";  // transferred
  EXPECT_EQ(route(c, {.id = "circulation", .mode = team_mode::broadcast}, staff, t0).to,
            (std::vector<std::string>{"fay"}));
}

TEST(Routing, PriorityRulesOrderTheQueue) {
  const std::vector<priority_rule> rules = {{.channel = "sms", .priority = 10},
                                            {.tag = "urgent", .priority = 100}};
  const std::vector<std::string> none, urgent = {"urgent"};
  EXPECT_EQ(priority_of(rules, "webchat", none), 0);
  EXPECT_EQ(priority_of(rules, "sms", none), 10);
  EXPECT_EQ(priority_of(rules, "sms", urgent), 100);

  std::vector<waiting_conversation> queue = {
      {.id = "1", .waiting_since = t0, .priority = 0},
      {.id = "2", .waiting_since = t0 + 1min, .priority = 10},
      {.id = "3", .waiting_since = t0 + 2min, .priority = 100},
      {.id = "4", .waiting_since = t0 - 1min, .priority = 0},
      {.id = "5", .waiting_since = t0 + 30s, .priority = 10}};
  order_queue(queue);
  std::vector<std::string> ids;
  for (const auto& c : queue) ids.push_back(c.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"3", "5", "2", "4", "1"}));  // 5 waited longer than 2
}

TEST(Routing, WhatArrivedAfterHoursComesFirstInArrivalOrder) {
  std::vector<waiting_conversation> queue = {
      {.id = "morning-sms", .waiting_since = t0 + 10h, .priority = 10},
      {.id = "night-2", .waiting_since = t0 + 2h, .after_hours = true},
      {.id = "night-1", .waiting_since = t0 + 1h, .priority = 0, .after_hours = true},
      {.id = "night-urgent", .waiting_since = t0 + 3h, .priority = 100, .after_hours = true}};
  order_queue(queue);
  std::vector<std::string> ids;
  for (const auto& c : queue) ids.push_back(c.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"night-1", "night-2", "night-urgent", "morning-sms"}));
}

TEST(Routing, TeamModesHaveConfigNames) {
  for (auto mode : {team_mode::broadcast, team_mode::least_busy, team_mode::round_robin}) {
    EXPECT_EQ(parse_team_mode(to_string(mode)), mode);
  }
  EXPECT_EQ(parse_team_mode("random"), std::nullopt);
}

}  // namespace
}  // namespace askdesk::core
