#include "connectors/bluesky/bluesky.hpp"
#include "connectors/email/email.hpp"
#include "connectors/mastodon/mastodon.hpp"
#include "connectors/registry.hpp"
#include "connectors/replay/replay.hpp"
#include "connectors/telegram/telegram.hpp"
#include "connectors/twilio/twilio.hpp"
#include "connectors/webchat/webchat.hpp"
#include "connectors/xmpp/xmpp.hpp"

namespace askdesk::connectors {

core::status register_builtin_connectors(registry& r) {
  // One line per channel. A refused registration (two factories for one type) stops the
  // daemon before it starts.
  using make_factory = std::unique_ptr<connector_factory> (*)();
  const make_factory channels[] = {
      make_webchat_factory,   //
      make_replay_factory,    //
      make_twilio_factory,    //
      make_email_factory,     //
      make_xmpp_factory,      //
      make_telegram_factory,  //
      make_mastodon_factory,  //
      make_bluesky_factory,   //
  };
  for (const auto make : channels) {
    if (auto added = r.add(make()); !added) return added;
  }
  return {};
}

}  // namespace askdesk::connectors
