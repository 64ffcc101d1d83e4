// The web chat channel: the widget on the library's pages talks to /ws/patron
// (docs/protocol.md). A patron session is a random token the widget keeps in localStorage;
// the daemon keeps only its SHA-256, as the name of a record of this connector holding the
// patron's address on this channel ("w:<random>"), which is also the conversation thread. A
// forged or expired token gets a fresh session, never someone else's.
//
// Inbound: each message frame becomes an inbound message (external id = address + client
// id, so a resend after a dropped connection is stored once) and is acknowledged to the
// widget only once durable. Outbound: replies are part of the transcript; this connector
// follows its conversations' events and pushes replies, the typing of staff, closings and
// presence to the patron's open sockets, so a patron on any daemon sees them. A widget that
// was away catches up from its last message id when it says hello again.
#pragma once

#include <memory>

#include "connectors/connector.hpp"

namespace askdesk::connectors {

std::unique_ptr<connector_factory> make_webchat_factory();

}  // namespace askdesk::connectors
