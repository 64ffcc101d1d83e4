// The email channel (connectors/email/README.md): IMAP in, SMTP out, both through libcurl on
// the daemon's asynchronous client.
//
// Inbound: every poll_seconds one daemon per mailbox (a poller's lease) asks the mailbox for its
// UIDVALIDITY and new UIDs (UID SEARCH), fetches each message by URL, parses it with GMime
// (mime.hpp) and hands it to the hub; only once it is durable does the message get \Seen (or
// move to `move_to`) and then the cursor (UIDVALIDITY and last UID) move. A changed UIDVALIDITY
// starts again from the unseen messages, and the dedup key (the Message-ID, else a hash of
// the bytes) keeps one copy of each. A message too large to fetch is stored from its headers
// with a note; a delivery status notification marks the message that bounced failed and
// never starts a conversation.
//
// Threading: our Message-IDs are "askdesk.<conversation>.<message>.<random>@<domain>";
// In-Reply-To and References lead the hub back to the conversation, for the same patron
// address only.
//
// Outbound: a reply is composed (RFC 5322, quoted-printable UTF-8, In-Reply-To, References)
// and submitted by SMTP from the connector's outbound lane; 4xx and failures before the mail
// was handed over are retried, 5xx are permanent and shown to staff, and a connection lost
// after the mail may have reached the server is not retried (it could arrive twice). Automatic
// replies carry Auto-Submitted: auto-replied and go out with the null envelope sender.
#pragma once

#include <memory>

#include "connectors/connector.hpp"

namespace askdesk::connectors {

std::unique_ptr<connector_factory> make_email_factory();

}  // namespace askdesk::connectors
