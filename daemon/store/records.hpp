// The JSON of a conversation and of a message, for events and API answers alike, written by
// the daemon from the fields a script hands it: scripts store and read fields, and leave the
// JSON (the costly part of a script, in Lua) to the daemon, which has most of a core free.
//
// A record is a flat list of (key, value) pairs, the way a script returns it or an event
// entry in the `events` stream carries it:
//   c.<field>  a field of the conversation (conversation_fields; patron_name is the
//              patron's name as of their latest message) and c.tags (a JSON array)
//                                                          -> "conversation": {...}
//   m.<field>  a field of the message (message_fields)     -> "message": {...}
//   post.<field> a message's fields                        -> "post": {...}
//   j.<name>   a JSON value the script wrote               -> "<name>": value
//   s.<name>   a string                                    -> "<name>": "value"
//   cs.<name>, ms.<name>, rs.<name>  a nested array of records -> "<name>": an array of
//              conversations, of messages, or of records (objects by these same rules)
// A record with the key "root" (value "c") is the conversation itself, its other members
// written inside it (in place of its own members of the same name: its messages, its patron).
// docs/api.md describes the shapes. Pure functions; thread-safe.
#pragma once

#include <functional>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "daemon/json/writer.hpp"
#include "daemon/store/reply.hpp"

namespace askdesk::store {

// The fields of a conversation's hash that its JSON shows, in the order scripts read them.
inline constexpr std::string_view conversation_fields[] = {"id",
                                                           "channel",
                                                           "connector",
                                                           "status",
                                                           "team",
                                                           "topic",
                                                           "assignee",
                                                           "patron",
                                                           "address",
                                                           "created_at",
                                                           "updated_at",
                                                           "waiting_since",
                                                           "closed_at",
                                                           "messages",
                                                           "preview",
                                                           "last_direction",
                                                           "last_at",
                                                           "priority",
                                                           "after_hours",
                                                           "topic_source",
                                                           "topic_confidence",
                                                           "topic_why",
                                                           "patron_name",
                                                           "read_level",
                                                           "csat",
                                                           "csat_comment"};

// The fields of a message's hash that its JSON shows.
inline constexpr std::string_view message_fields[] = {
    "id",          "conversation", "direction", "text",        "channel", "sent_at",
    "received_at", "status",       "author",    "author_name", "sender",  "sender_name",
    "external_id", "attachments",  "error",     "error_code",  "facts",   "joined_by"};

using field_pair = std::pair<std::string_view, std::string_view>;

// The record as one JSON object: `pairs` from an event entry, or a script's answer (a
// flat array whose values may be nested arrays: the lists).
std::string record_json(std::span<const field_pair> pairs);
std::string record_json(const reply& r);

// A conversation's JSON from its hash's fields (name, value: as HGETALL gives them) and its
// tags (a JSON array; "" for none), and a message's: the same shapes as in records.
void write_conversation_json(json::writer& w, std::span<const field_pair> fields,
                             std::string_view tags_json);
void write_message_json(json::writer& w, std::span<const field_pair> fields);
// The same with members of the caller's (written by `more`, inside the object) in place of
// the conversation's own of the names `replaced` (a conversation read whole: its messages,
// its patron in full).
void write_conversation_json(json::writer& w, std::span<const field_pair> fields,
                             std::string_view tags_json,
                             std::initializer_list<std::string_view> replaced,
                             const std::function<void(json::writer&)>& more);

// Milliseconds since the epoch as "2026-11-22T09:30:00.250Z"; null for "" or not a number.
void write_time(json::writer& w, std::string_view ms);

// The Lua tables prelude.lua reads the lists above from (its @RECORD_FIELDS@).
std::string record_fields_lua();

}  // namespace askdesk::store
