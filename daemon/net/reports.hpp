// The reports API (docs/api.md, "Reports"): a summary, one row per conversation (JSON or
// CSV) and a weekday x hour table, for a range of dates in each team's time zone, computed
// from the conversations' facts (core/report.hpp) and never from patron data: no name,
// address or message text is read. Supervisors and admins see every conversation; staff see
// those they took or answered.
//
// Single-threaded: use on the io_context's thread.
#pragma once

#include "daemon/net/api.hpp"

namespace askdesk::net {

// GET /api/v1/reports/summary, /api/v1/reports/conversations, /api/v1/reports/heatmap.
void add_report_routes(http_router& router, api_parts parts);

// A report covers at most this many days.
inline constexpr int max_report_days = 400;

}  // namespace askdesk::net
