// Patron privacy in the API (docs/privacy.md, docs/api.md "Privacy"): a patron's erasure and
// export on request (supervisors and admins), the staff access audit (every look at a patron's
// conversation or record, every export and erasure, written down; admins read it), and the
// retention the configuration asks for, as the store applies it.
//
// Single-threaded: use on the io_context's thread.
#pragma once

#include <string>
#include <string_view>

#include "daemon/net/api.hpp"
#include "daemon/store/privacy.hpp"

namespace askdesk::net {

// POST /api/v1/patrons/{id}/erase, GET /api/v1/patrons/{id}/export, GET /api/v1/audit.
void add_privacy_routes(http_router& router, api_parts parts);

// Writes an audit entry: `who` did `action` ("open_conversation", "open_patron",
// "export_patron", "erase_patron") on `target` (an id) from the request's address. Never
// fails the request: an entry that cannot be written is logged.
void record_access(const api_parts& parts, const principal& who, std::string_view action,
                   const std::string& target, const http_request& request);

// The retention `config` asks for (privacy.*), in the store's terms.
store::privacy::retention retention_of(const config::daemon_config& config);

}  // namespace askdesk::net
