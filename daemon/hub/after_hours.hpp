// The after-hours acknowledgement, decided: whether a patron who just wrote is answered
// automatically, and with what. The team's hours and templates and the message itself
// (automated senders per RFC 3834, SMS keywords) decide here; the acknowledge script then
// makes sure it happens at most once per patron, team and closed period, never to a patron
// who opted out, and never on a conversation someone already holds.
//
// Pure functions over config and a message; thread-safe.
#pragma once

#include <optional>
#include <string>

#include "daemon/config/config.hpp"
#include "daemon/core/channel.hpp"
#include "daemon/core/message.hpp"

namespace askdesk::hub {

struct acknowledgement {
  std::string period;  // "closed:<next opening ms>" ("closed:never"), or "busy:<conversation>"
  std::string text;
  std::string language;
};

struct ack_plan {
  std::optional<acknowledgement> ack;
  // Not acknowledged: "open", "automated", "<channel>_keyword" (a whole-message keyword of the
  // channel, like an SMS STOP) or "no_template"; `why` for logs.
  std::string skipped;
  std::string why;
};

// What to answer `m`, which joined `conversation` of `team`, as of `now` (the time the
// message was received, so marking it after-hours and acknowledging it agree).
// The keyword fact comes from the connector's host (core::mark_keyword), so this holds on a
// daemon that does not run `m`'s connector.
ack_plan plan_acknowledgement(const config::team_options& team, const core::inbound_message& m,
                              const std::string& conversation, core::timestamp now);

// The consent change `m` carries on its channel: "out" for one of the channel's opt-out
// keywords (an SMS STOP), "in" for an opt-in keyword (START), else "".
std::string consent_of(const core::inbound_message& m);

}  // namespace askdesk::hub
