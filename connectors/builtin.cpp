#include "connectors/email/email.hpp"
#include "connectors/registry.hpp"
#include "connectors/replay/replay.hpp"
#include "connectors/twilio/twilio.hpp"
#include "connectors/webchat/webchat.hpp"

namespace askdesk::connectors {

void register_builtin_connectors(registry& r) {
  // One line per channel; a duplicate type is a programming error caught by the tests.
  (void)r.add(make_webchat_factory());
  (void)r.add(make_replay_factory());
  (void)r.add(make_twilio_factory());
  (void)r.add(make_email_factory());
}

}  // namespace askdesk::connectors
