// The normalized form of a message as every connector delivers it to the hub, whatever its
// channel. Connectors fill it at the edge (validating and repairing text); the hub and the
// store trust it. Plain value type.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "daemon/core/time.hpp"

namespace askdesk::core {

// What a message carries besides its text: metadata and a link, never the bytes.
struct attachment {
  std::string name;
  std::string content_type;
  std::string url;         // where staff can fetch it, if the channel gives one
  std::int64_t size = -1;  // bytes; -1 when the channel does not say
};

// Another key of a message's thread, and the header that named it (email: a Message-ID from
// In-Reply-To or References).
struct thread_ref {
  std::string header;
  std::string key;
};

// The patron's own contact fields a message may carry in its facts (a web form's reply
// address), kept on the patron and shown with them: profile fields, not channels.
inline constexpr std::string_view patron_contact_fields[] = {"email", "phone"};

struct inbound_message {
  std::string connector;    // the connector instance id from config ("sms", "mail")
  std::string channel;      // the kind of channel: "webchat", "sms", "email", ...
  std::string external_id;  // the channel's own id of this message; the dedup key
  std::string thread;       // the channel's conversation key (chat session, phone number)
  // Earlier messages this one answers, most telling first: the hub continues the conversation
  // of the first that belongs to the same patron on this connector (email threading).
  std::vector<thread_ref> references;
  std::string sender_address;  // how to reach the patron on this channel
  std::string sender_name;     // display name, may be empty
  std::string text;            // UTF-8 plain text
  std::vector<attachment> attachments;
  timestamp sent_at{};      // when the patron sent it, by the channel's clock
  timestamp received_at{};  // when askdesk stored it
  std::string team;         // the team the source asked for (a widget's data-team), or empty
  std::string topic;        // the topic the source asked for (a Telegram deep link), or empty
  // Channel facts the hub's policies read (e.g. "auto_submitted", "precedence" for email).
  std::map<std::string, std::string> facts;
  // What a reply on this channel needs to stay in the patron's thread (email: the subject, the
  // message answered and its references; Mastodon: the status answered and its visibility).
  // The conversation keeps the latest non-empty set, and each reply carries it
  // (outbound_message::facts).
  std::map<std::string, std::string> reply_facts;
};

// Limits applied at the edges; the store never sees more.
inline constexpr std::size_t max_external_id_bytes = 512;
inline constexpr std::size_t max_address_bytes = 512;
inline constexpr std::size_t max_name_bytes = 256;
inline constexpr std::size_t max_text_bytes = 64 * 1024;
inline constexpr std::size_t max_references = 20;

// Why `m` cannot be stored, or nullopt when it can: required fields present, limits kept,
// every string valid UTF-8.
std::optional<std::string> check_inbound(const inbound_message& m);

}  // namespace askdesk::core
