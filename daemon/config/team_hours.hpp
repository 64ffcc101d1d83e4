// Reads a team's opening hours and automatic-message templates from its config block:
// "timezone", "hours", "exceptions", "language", "auto_ack", "busy_ack". Split from
// config.cpp; called by read_teams for each team.
#pragma once

#include "daemon/config/config.hpp"

namespace askdesk::config {

// Problems go to `r`'s list with their JSON paths (overlapping ranges, unknown zones, bad
// dates, unknown placeholders).
void read_team_hours(json::object_reader& r, team_options& team);

// The templates a team has when its block names no "auto_ack".
core::message_templates default_auto_ack();

}  // namespace askdesk::config
