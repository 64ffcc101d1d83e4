// The supervisor's live view (docs/api.md, "The desk now"): every team's queue and longest
// wait against its wait alert, and who of its staff is on and at what load. Supervisors and
// admins only; the dashboard's /supervisor page keeps it live from /ws/staff.
//
// Single-threaded: use on the io_context's thread.
#pragma once

#include "daemon/net/api.hpp"

namespace askdesk::net {

// GET /api/v1/desk.
void add_desk_routes(http_router& router, api_parts parts);

}  // namespace askdesk::net
