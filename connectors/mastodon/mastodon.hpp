// The Mastodon channel: patrons mention the library's account, or write to it directly, and
// staff answer from the social desk (connectors/mastodon/README.md).
//
// Inbound, by polling (one daemon per account at a time, by a Redis lease): mentions from
// GET /api/v1/notifications?types[]=mention&include_filtered=true, page by page with min_id,
// the cursor saved once a page is durable; and watched hashtags and keywords (tag timelines,
// search) the same way. A status becomes a message: its HTML as safe text with its links, its
// content warning, media, author and visibility; the library's own posts never. A public
// mention (with "triage") and every watched post wait in the team's triage list on the social
// desk; a direct message is queued at once. Threading: one conversation per thread (a reply
// joins the conversation of the nearest ancestor askdesk stored, by the status's context); a
// direct message is its own private thread, never merged with a public one.
//
// Outbound: POST /api/v1/statuses in reply to the patron's latest status, with that status's
// visibility (a direct message is answered directly, never in public), the patron's @acct
// added when missing, and an Idempotency-Key from askdesk's message id, so a retry never posts
// twice. Every request waits while the server's rate-limit headers say none are left.
#pragma once

#include <memory>

#include "connectors/connector.hpp"

namespace askdesk::connectors {

std::unique_ptr<connector_factory> make_mastodon_factory();

}  // namespace askdesk::connectors
