// A team's opening hours and automatic-message templates: reads them from its config block
// ("timezone", "hours", "exceptions", "language", "auto_ack", "busy_ack", "csat"; called by
// read_teams for each team), and says whether the team is open and what patrons are shown
// about it (the API, the widget, the hub, the router).
#pragma once

#include "daemon/config/config.hpp"
#include "daemon/json/writer.hpp"

namespace askdesk::config {

// Problems go to `r`'s list with their JSON paths (overlapping ranges, unknown zones, bad
// dates, unknown placeholders).
void read_team_hours(json::object_reader& r, team_options& team);

// The team's "csat" block (team_options::csat_channels, csat_question), or the defaults.
void read_team_csat(json::object_reader& r, team_options& team);

// The templates a team has when its block names no "auto_ack".
core::message_templates default_auto_ack();

// The satisfaction question for a conversation of `team` on `channel`, in the team's
// language; nullopt when the team does not ask on that channel.
std::optional<std::string> csat_question(const team_options& team, std::string_view channel);

// The team's state at `now`; a team without hours is always open.
core::opening_state opening_at(const team_options& team, core::timestamp now);

// The team's hours as the API and the widget show them (docs/api.md, "Opening hours"): open
// now, closes_at, next_open (and its text in `language`), the weekly hours and the
// exceptions of the coming 60 days.
void write_opening(json::writer& w, const team_options& team, core::timestamp now,
                   std::string_view language);

}  // namespace askdesk::config
