// Every family of Redis keys askdesk writes: its pattern, what it holds, whether that is
// patron text or patron identifiers, and how long it lives. One table, printed by
// `askdesk keys` and documented in docs/redis.md; the C++ that names a shared key takes its
// name from here, and a unit test checks that every key the Lua scripts build belongs to a
// family listed here. Retention, erasure and reports start from this table: it is the
// answer to "where does a patron's text live?".
//
// Patterns name their parts in braces: `conversation:{id}`; a part is one or more characters
// other than ':', unless its name ends in '*' (`optout:{channel}:{address*}`). The families
// are listed most specific first. Immutable; thread-safe.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace askdesk::store {

enum class patron_data {
  none,         // ids, counters, staff state
  identifiers,  // names, addresses, handles, phone numbers, session ids
  text,         // what patrons wrote (and identifiers with it)
};
std::string_view name(patron_data d);

struct key_family {
  std::string_view pattern;  // "conversation:{id}"
  std::string_view type;     // "hash", "stream", ...
  std::string_view owner;    // who writes it
  std::string_view holds;    // for people
  patron_data data;
  std::string_view retention;  // how long it lives, and what bounds it
};

std::span<const key_family> key_catalogue();

// The first family whose pattern matches `key`, or nullptr.
const key_family* family_of(std::string_view key);

// The names of the keys shared across conversations that the daemon's C++ uses.
namespace keys {
inline constexpr std::string_view inbound = "inbound";
inline constexpr std::string_view inbound_dead = "inbound:dead";
inline constexpr std::string_view events = "events";
inline constexpr std::string_view topic_examples = "topic:examples";
std::string outbound(std::string_view connector);    // a connector's outbound lane
std::string lane_lease(std::string_view connector);  // who sends that lane
std::string connector_lease(std::string_view type, std::string_view name);
std::string connector_record(std::string_view type, std::string_view connector,
                             std::string_view name);
std::string queue(std::string_view team);
std::string presence(std::string_view team);
std::string user(std::string_view name);
std::string user_sessions(std::string_view name);
std::string user_tokens(std::string_view name);
std::string session(std::string_view digest);
std::string token(std::string_view digest);
}  // namespace keys

}  // namespace askdesk::store
