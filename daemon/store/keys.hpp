// Every family of Redis keys askdesk writes: its pattern, what it holds, whether that is
// patron text or patron identifiers, and how long it lives. One table, printed by
// `askdesk keys` and documented in docs/redis.md. Every key the daemon names is built by the
// functions below (the functions of the Lua library build none: they receive them declared,
// store/calls.hpp), and the unit tests check that each builder's keys belong to a family
// here. Retention, erasure and reports start from this table: it is the answer to "where
// does a patron's text live?".
//
// Patterns name their parts in angle brackets: `patron:<id>`; a part is one or more characters
// other than ':', unless its name ends in '*' (`optout:<channel>:<address*>`). Braces are
// Redis hash tags: `conversation:{c:<id>}`. The families are listed most specific first.
// Immutable; thread-safe.
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

// The key of each family, built in one place: the daemon declares every key a function
// touches (FCALL's KEYS), so it names them all here. A conversation's own keys share the hash
// tag {c:<id>}, so a Redis Cluster would keep them on one node.
namespace keys {
inline constexpr std::string_view inbound = "inbound";
inline constexpr std::string_view inbound_dead = "inbound:dead";
inline constexpr std::string_view events = "events";
inline constexpr std::string_view conversations = "conversations";
inline constexpr std::string_view users = "users";
inline constexpr std::string_view topic_examples = "topic:examples";
inline constexpr std::string_view routing_lease = "lease:routing";
inline constexpr std::string_view migration_lease = "lease:migration";
inline constexpr std::string_view schema = "askdesk:schema";
inline constexpr std::string_view old_outbound = "outbound";
inline constexpr std::string_view old_outbound_retry = "outbound:retry";
inline constexpr std::string_view facts_by_arrival = "facts:created";
inline constexpr std::string_view audit = "audit";
inline constexpr std::string_view privacy_lease = "lease:privacy";
std::string stream_copy(std::string_view stream);  // a stream being rebuilt (privacy)
std::string conversation(std::string_view id);
std::string facts(std::string_view conversation);  // its facts for the reports
std::string conversation_messages(std::string_view id);
std::string conversation_tags(std::string_view id);
std::string conversation_declined(std::string_view id);
std::string offer(std::string_view conversation);
std::string message(std::string_view conversation, std::string_view id);
std::string patron(std::string_view id);
std::string patron_addresses(std::string_view id);
std::string patron_conversations(std::string_view id);
std::string patron_links(std::string_view id);  // records linked by staff, with consent
std::string address(std::string_view channel, std::string_view address);
std::string optout(std::string_view channel, std::string_view address);
std::string thread(std::string_view connector, std::string_view thread);
std::string dedup(std::string_view connector, std::string_view external_id);
std::string provider(std::string_view connector, std::string_view provider_id);
std::string provider_early(std::string_view connector, std::string_view provider_id);
std::string seq(std::string_view kind);                 // "conversation", "message", "patron"
std::string outbound(std::string_view connector);       // a connector's outbound lane
std::string outbound_dead(std::string_view connector);  // ... and its dead letters
std::string lane_lease(std::string_view connector);     // who sends that lane
std::string connector_lease(std::string_view type, std::string_view name);
std::string fence(std::string_view lease);  // the lease's fence
std::string connector_record(std::string_view type, std::string_view connector,
                             std::string_view name);
std::string queue(std::string_view team);
std::string social(std::string_view state, std::string_view team);  // new, dismissed, abuse
std::string assigned(std::string_view user);
std::string offers(std::string_view user);
std::string staff(std::string_view user);
std::string sockets(std::string_view user);
std::string presence(std::string_view team);
std::string user(std::string_view name);
std::string user_sessions(std::string_view name);
std::string user_tokens(std::string_view name);
std::string session(std::string_view digest);
std::string token(std::string_view digest);
std::string login_failures_of_user(std::string_view name);
std::string login_failures_from(std::string_view address);
std::string transcripts_to(std::string_view address);
std::string transcripts_this_hour(std::string_view connector);
}  // namespace keys

}  // namespace askdesk::store
