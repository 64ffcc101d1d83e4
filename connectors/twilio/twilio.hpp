// The SMS channel on Twilio's Programmable Messaging API (connectors/twilio/README.md).
//
// Inbound, by webhook: POST /webhooks/twilio/<id> with Twilio's form parameters, signed with
// X-Twilio-Signature over the config's http.public_url plus the path (signature.hpp); a bad
// or missing signature is refused with 403 and nothing is stored. The answer is an empty
// TwiML <Response/>, given only once the message is durable; 503 while Redis is away, so
// Twilio retries, and a retried MessageSid is stored once. MMS media become attachments.
// Or, for libraries without a public URL, by polling the List Messages endpoint (mode
// "poll"): one daemon per account at a time (a Redis lease), a cursor saved after each batch
// is durable.
//
// Outbound: replies go to the Messages endpoint with basic auth; 429 and 5xx are retried by
// the connector's outbound lane with backoff, other errors are permanent and shown to staff with
// Twilio's code and text. Delivery statuses arrive signed at /webhooks/twilio/<id>/status.
#pragma once

#include <memory>

#include "connectors/connector.hpp"

namespace askdesk::connectors {

std::unique_ptr<connector_factory> make_twilio_factory();

}  // namespace askdesk::connectors
