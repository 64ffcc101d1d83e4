// Reads a team's opening hours and automatic-message templates from its config block:
// "timezone", "hours", "exceptions", "language", "auto_ack", "busy_ack". Split from
// config.cpp; called by read_teams for each team.
#pragma once

#include "daemon/config/config.hpp"
#include "daemon/json/writer.hpp"

namespace askdesk::config {

// Problems go to `r`'s list with their JSON paths (overlapping ranges, unknown zones, bad
// dates, unknown placeholders).
void read_team_hours(json::object_reader& r, team_options& team);

// The templates a team has when its block names no "auto_ack".
core::message_templates default_auto_ack();

// A team's state at `now`; with `language`, the next opening written for people in it.
struct opening_summary {
  core::opening_state state;
  std::string next_open_text;  // "" when open, with no opening ahead, or without `language`
};
opening_summary summarize_opening(const team_options& team, core::timestamp now,
                                  std::string_view language);

// The team's hours as the API and the widget show them (docs/api.md, "Opening hours"): open
// now, closes_at, next_open (and its text in `language`), the weekly hours and the
// exceptions of the coming 60 days.
void write_opening(json::writer& w, const team_options& team, core::timestamp now,
                   std::string_view language);

}  // namespace askdesk::config
