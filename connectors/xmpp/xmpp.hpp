// The XMPP channel (connectors/xmpp/README.md): askdesk signs in to the library's own XMPP
// server as an ordinary account (ask@library.example) and patrons chat with it from any
// Jabber client.
//
// Inbound: a chat or normal message with a body from another JID becomes a message on channel
// `xmpp`, threaded by the patron's bare JID; its dedup key is the id the account's archive
// gave it (XEP-0359 stanza-id, the same as its MAM id), so live and archived copies are stored
// once. On every (re)connect the connector catches up from the archive (XEP-0313) after the
// last archive id it stored, holding back live messages until it has, so nothing is lost and
// the order is kept. Chat states become typing, receipts mark replies delivered, the
// patron's own receipt requests are answered once their message is stored.
//
// Outbound: a reply is a <message type='chat'> to the patron's bare JID with id
// "askdesk-<message id>", <active/> and a receipt request. Staff typing becomes <composing/>.
// Presence is `available` while the connector's team is open and has an available member,
// `away` with the next opening as status otherwise. Subscription requests are accepted.
//
// One daemon holds the connection: the one that sends the connector's outbound lane
// (connector::lane_held). The connection runs on a thread of its own (session.hpp).
#pragma once

#include <memory>

#include "connectors/connector.hpp"

namespace askdesk::connectors {

std::unique_ptr<connector_factory> make_xmpp_factory();

}  // namespace askdesk::connectors
