// Patron privacy by policy (docs/privacy.md): the purge that redacts what is past its
// retention, the erasure of one patron on request, and the export of what is held about one.
// It walks the key catalogue's families that hold patron text or identifiers (keys.hpp):
//
// - a conversation closed longer than its channel's transcript window loses its messages, the
//   patron's address, preview, reply facts, satisfaction comment, classifier words and thread
//   key (redact_conversation); its facts stay, under the patron's id, so the reports still
//   count it;
// - a patron silent longer than the identifier window, none of whose conversations is open,
//   keeps only their id (redact_patron);
// - the streams that copied their text (events, topic:examples, inbound:dead) are rebuilt
//   without it: a stream's deleted entries keep their bytes in its nodes, so they are copied
//   and swapped (swap_stream), never XDEL'd; dead letters of their conversations are removed;
// - Redis then rewrites its append-only file (and saves a new RDB file where it saves one), so
//   the removed text leaves the disk too.
//
// Single-threaded: use on the io_context's thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/core/result.hpp"
#include "daemon/store/redis_connection.hpp"
#include "daemon/store/scripts.hpp"

namespace askdesk::store::privacy {

// How long patron data is kept (config::privacy_options, in milliseconds).
struct retention {
  std::int64_t transcript_ms = 0;
  std::int64_t identifier_ms = 0;
  std::map<std::string, std::int64_t> transcript_ms_by_channel, identifier_ms_by_channel;
  std::vector<std::string> connectors;  // each has an outbound lane with dead letters
  // (channel, key prefix): a connector's record of a patron's address on that channel is the
  // prefix followed by the address (connector_factory::address_records).
  std::vector<std::pair<std::string, std::string>> address_records;
  bool aof_rewrite = true;

  std::int64_t transcript_ms_of(const std::string& channel) const;
  std::int64_t identifier_ms_of(const std::string& channel) const;
  std::int64_t shortest_transcript_ms() const;
};

// What a purge or an erasure removed (or, dry, would remove), by key family.
struct report {
  bool dry_run = false;
  std::int64_t conversations = 0;               // redacted
  std::int64_t patrons = 0;                     // whose identifiers went
  std::map<std::string, std::int64_t> removed;  // key family pattern -> keys or entries
  std::vector<std::string> notes;               // what Redis was asked to do after
  std::string text() const;                     // for people: one line per family
  std::string json() const;
};
using report_handler = std::function<void(core::result<report>)>;

// How the purge and an erasure treat each key family that holds patron text or identifiers
// (keys.hpp's catalogue, by pattern): the unit tests check that every such family is here.
struct family_handling {
  std::string_view pattern, how;
};
std::span<const family_handling> handling();

// Redacts every conversation and patron past `policy` at `now_ms`, then the streams and the
// files. A dry run reads the same and changes nothing.
void purge(redis_connection& redis, const script_set& scripts, std::int64_t now_ms,
           retention policy, bool dry_run, report_handler done);

// Erases patron `id` now: every conversation of theirs and their identifiers, whatever their
// age; their facts stay. "not_found" for no such patron, "conflict" while one of their
// conversations is open (waiting, held or in triage): close it first.
void erase(redis_connection& redis, const script_set& scripts, std::int64_t now_ms, std::string id,
           retention policy, report_handler done);

// Everything held about patron `id`, as JSON: {"patron":{…},"conversations":[{…, "messages":
// […], "facts": {…}}]}; "not_found" for no such patron.
void export_patron(redis_connection& redis, std::string id,
                   std::function<void(core::result<std::string>)> done);

}  // namespace askdesk::store::privacy
