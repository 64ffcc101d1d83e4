// What a channel is like, as its connector declares it (../shared/DESIGN.md, "The connector
// contract"): a display name, the keywords a patron uses to opt out and back in, how long a
// message may be and in what unit, whether the channel marks automated senders, whether
// replies are public and whether it reports delivery. The hub's after-hours and opt-out
// logic, the REST API's length check and the dashboard (GET /api/v1/channels) read these
// instead of naming channels. Plain value types and pure functions.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace askdesk::core {

struct inbound_message;  // message.hpp

// How a channel counts the length of a message.
enum class length_unit {
  characters,    // Unicode code points
  graphemes,     // user-perceived characters (Bluesky's 300)
  gsm_segments,  // SMS segments: 160 GSM-7 characters or 70 UCS-2 units, less when joined
  bytes,         // UTF-8 bytes
  // Graphemes, with each http(s) URL counting as 23 and @user@domain as @user (Mastodon's
  // count of a status).
  graphemes_short_urls,
};

std::string_view name_of(length_unit unit);
std::optional<length_unit> length_unit_named(std::string_view name);

// The length of `text` in `unit` (REQUIRES: valid UTF-8).
std::size_t measure(std::string_view text, length_unit unit);

// The SMS segments `text` takes: GSM-7 (with the extension table's characters counting two)
// when every character is in it, else UCS-2; 153 / 67 per segment once more than one.
struct sms_segments {
  bool gsm7 = true;
  std::size_t units = 0;     // septets or UTF-16 units
  std::size_t segments = 0;  // 0 for an empty text
};
sms_segments count_sms_segments(std::string_view text);

struct channel_traits {
  std::string channel;       // the kind of channel: "webchat", "sms", "email", ...
  std::string display_name;  // "Web chat", "SMS", "Email"
  // Whole-message keywords (any case, trailing '.' or '!' ignored) that opt the patron out of
  // messages on this channel, back in, or ask the carrier for help; none get an auto-reply.
  std::vector<std::string> opt_out_keywords;
  std::vector<std::string> opt_in_keywords;
  std::vector<std::string> help_keywords;
  length_unit unit = length_unit::characters;
  std::size_t max_length = 4000;  // in `unit`: the longest reply the channel carries
  // How the connector tells an automated sender, for staff ("" when it cannot); such messages
  // carry a fact the hub reads (core::automated_sender).
  std::string automated_senders;
  bool public_replies = false;      // replies are seen by everyone (social posts)
  bool delivery_reports = false;    // the channel later says whether a reply was delivered
  bool address_is_personal = true;  // the patron's address means something to staff (not a
                                    // random web chat session)
};

// A connector the daemon runs, as the API and the dashboard see it.
struct configured_channel {
  std::string id;    // the connector's id from config
  std::string type;  // its config type ("twilio")
  // The connector's traits as they are now (a Mastodon instance says its status length once
  // asked); owned by the connector, which outlives the API.
  const channel_traits* traits = nullptr;
};

// What a whole message is on a channel with `traits`.
enum class channel_keyword { none, opt_out, opt_in, help };
channel_keyword keyword_of(const channel_traits& traits, std::string_view text);

// Marks `m` with the channel keyword its whole text is (fact "keyword": "opt_out", "opt_in" or
// "help"), so that any daemon, whether it runs the channel's connector or not, honours it.
// An offline form's text speaks for nobody and is never a keyword.
void mark_keyword(inbound_message& m, const channel_traits& traits);
inline constexpr std::string_view fact_keyword = "keyword";

// A social item (a public mention, a watched post): its new conversation waits in its team's
// triage list on the social desk until staff reply, dismiss it or mark it as abuse, instead of
// joining the queue (fact "triage" = "1").
inline constexpr std::string_view fact_triage = "triage";

// A reply to this message would be seen by more people than its sender (a public post, a
// followers-only one): no automatic acknowledgement is ever sent to it (fact "public" = "1").
inline constexpr std::string_view fact_public = "public";

// Why `text` is too long for the channel ("3 SMS segments; SMS carries at most 2"), or nullopt.
std::optional<std::string> too_long(const channel_traits& traits, std::string_view text);

}  // namespace askdesk::core
