// Typed calls of the askdesk function library (scripts/*.lua, loaded as Redis Functions).
// Each function's keys and arguments are the members of one struct below; its builder names
// every one, and the same names become the function's K and A in Lua (the first line of each
// function is generated from the builder, see header()), so C++ and Lua cannot disagree on a
// position: a name one side lacks fails the unit test that reads every function's body
// (tests/unit/store/calls_test.cpp). Every key a function touches is declared here, built by
// store/keys.hpp; none is built inside a function.
//
// What decides a key (a conversation's team, holder, patron, offer) is read just before the
// call (conversation_state); a function that finds it changed answers {'stale'} and
// run_on_conversation() reads again.
//
// Not thread-safe beyond what redis_connection is: use on the io_context's thread.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/core/result.hpp"
#include "daemon/store/redis_connection.hpp"
#include "daemon/store/scripts.hpp"

namespace askdesk::store {

// One FCALL: keys and arguments by name. Names are string literals.
class call {
 public:
  explicit call(script s) : which_(s) {}

  call& key(std::string_view name, std::string value);
  call& keys(std::string_view name, std::vector<std::string> values);  // a list of keys
  call& arg(std::string_view name, std::string value);
  call& args(std::string_view name, std::vector<std::string> values);  // a list of arguments

  script which() const { return which_; }
  // FCALL's keys: the named keys, then each list. Arguments: each list's length, the named
  // arguments, then each list of arguments.
  std::vector<std::string> all_keys() const;
  std::vector<std::string> all_args() const;
  // Lua naming them in K and A: the first line of the function.
  std::string header() const;
  // Every name, for the test that checks the functions' bodies.
  std::vector<std::string_view> key_names() const;
  std::vector<std::string_view> arg_names() const;

 private:
  struct list {
    std::string_view name;
    std::vector<std::string> values;
  };
  script which_;
  std::vector<std::pair<std::string_view, std::string>> keys_, args_;
  std::vector<list> key_lists_, arg_lists_;
};

// A conversation as the daemon read it to choose a function's keys.
struct conversation_state {
  std::string id;
  bool exists = false;
  std::string status, team, assignee, patron, channel, address, connector;
  std::string offer_to;  // the offer's ",ann,bo," ("" without one)

  // What the function compares with the conversation it finds (prelude.lua, fingerprint).
  std::string seen() const;
  std::vector<std::string> offered() const;
};

namespace calls {

// Each function's inputs. `now` is milliseconds since the epoch; `scope` is "*" or
// ",team,team," (principal::scope()); `message` a message id taken from seq:message.
struct ingest {
  std::string connector, external_id;
  std::vector<std::string> fields;  // the inbound entry's field/value pairs
};
struct apply_inbound;  // below
struct claim {
  std::string now;
  conversation_state state;
  std::string user, scope;
  bool force = false;
};
struct post_message {
  std::string now;
  conversation_state state;
  std::string user, author_name, scope, kind, text, preview;
  bool override_holder = false;
  std::string opt_out, opt_in, message;
};
struct close {
  std::string now;
  conversation_state state;
  std::string user, scope;
  std::string read_level;      // "1".."6", or "" for none
  bool read_required = false;  // the conversation's team asks for one
  std::string csat_question;   // asked on the patron's channel on closing, or ""
  std::string message;         // the question's message id (taken before the call)
};
// rate: a satisfaction score (1-5) and comment given for the conversation, once.
struct rate {
  std::string now;
  conversation_state state;
  std::string scope, score, comment;
};
struct tag {
  std::string now;
  conversation_state state;
  std::string scope;
  std::vector<std::string> add, remove;
};
struct transfer {
  std::string now;
  conversation_state state;
  std::string scope, team, user, actor, actor_name;
  bool supervisor = false;
  std::string note, preview, message;
};
struct set_topic {
  std::string now;
  conversation_state state;
  std::string scope, topic, team, user, kept;
  std::vector<std::string> first_messages;  // the first 20 message ids, as read
};
struct offer_reply {
  std::string now;
  conversation_state state;
  std::string user, scope, answer;
};
struct social_item {
  std::string now;
  conversation_state state;
  std::string scope, action, user;
};
struct acknowledge {
  std::string now;
  conversation_state state;
  std::string period, text, preview, message;
  std::vector<std::string> users;  // every user (busy acknowledgements look for one available)
};
struct email_transcript {
  std::string now;
  conversation_state state;
  std::string mail, address, subject, intro, most, message;
  std::vector<std::string> messages;  // every message id of the conversation, as read
};
struct presence {
  std::string now, expiry, member, op, user;
  std::vector<std::string> teams;
};
struct set_presence {
  std::string user, presence;
};
struct login_attempt {
  std::string user, address, window_seconds, op;
};
struct end_sessions {
  std::string user, what, digest;
  std::vector<std::string> sessions;  // what: 'all': every session digest, as read
};
struct lease {
  std::string key, holder, ms;
};
struct save_record {
  std::string key, ttl, lease, holder, fence;  // lease "" when not fenced
  std::vector<std::string> fields;
};
struct take_quota {
  std::string key, limit, window_ms;
};
struct settle_outbound {
  std::string now, connector, group, entry, conversation, message, status, provider_id, code, why,
      letter, most;
};
struct delivery_status {
  std::string now, connector, provider_id, status, code, why;
  std::string seen;  // the provider key's value, "<conversation>:<message>" or ""
};
struct dead_letter {
  std::string action, now, connector, letter;  // the letter's JSON as stored
  std::string conversation, message, channel, address;
};
struct own_entry {
  std::string connector, group, consumer, entry;
};
struct migrate_outbound {
  std::vector<std::string> connectors;
};
struct typing {
  std::string id, who, name;  // the conversation, 'patron' or 'staff', the name shown
};
// Privacy (store/privacy.hpp): what a purge or an erasure removes, as read just before.
struct redact_conversation {
  std::string id, now, connector, thread;  // thread as the conversation holds it ("" none)
  std::vector<std::string> messages;       // its message ids, as its list holds them
  // (connector, id) of its messages' channel ids, whose dedup and provider keys name them.
  std::vector<std::pair<std::string, std::string>> external_ids, provider_ids;
};
struct redact_patron {
  std::string id, now;
  std::vector<std::string> addresses;  // "channel:address", as their addresses hash holds them
  std::vector<std::string> records;    // connectors' records of those addresses (keys)
  std::vector<std::string> linked;     // the patrons linked to them, as their links hash holds
};
struct swap_stream {
  std::string stream, copy, after;  // the copy holds the kept entries up to `after`
};
struct compact_stream {
  std::string stream;
};
struct link_patrons {
  std::string a, b, op, record;  // op "link" (record: the consent, JSON) or "unlink"
};
struct audit {
  std::string now, user, action, target, address;
  std::int64_t keep_ms = 0;  // entries older than this go
};
struct route_apply {
  std::string now, actions;       // JSON (router.cpp)
  std::vector<std::string> keys;  // each action's keys, in order (router.cpp)
};

// apply_inbound: what the daemon read (dedup, the address's patron, the candidates) and
// decided; the function checks every read and answers 'stale' when one changed.
struct apply_inbound {
  std::string now, team, topic, reopen_ms, connector, channel, external_id, thread, sender,
      sender_name, text, preview, attachments, facts, sent_at, received_at, topic_confidence,
      topic_source, topic_why, after_hours, consent, reply_facts;
  std::string automated;                 // "1": an automated sender
  std::string csat_score, csat_comment;  // the text read as a satisfaction score, or ""
  std::string joined_by;                 // the reference that chose the conversation ("" for none)
  std::string patron;                    // the address's patron, as read, or a new id
  bool new_patron = false;
  std::string thread_seen;              // the thread key's value as read ("" for none)
  std::vector<std::string> candidates;  // conversations the references and the thread name
  std::string conversation;             // the chosen candidate, or a new id
  std::string outcome;   // what the daemon expects: created, continued, reopened, rated
  std::string its_team;  // the chosen conversation's team (continued, reopened)
  std::string message;   // the new message's id
};

call make(const ingest&);
call make(const apply_inbound&);
call make(const claim&);
call make(const post_message&);
call make(const close&);
call make(const rate&);
call make(const tag&);
call make(const transfer&);
call make(const set_topic&);
call make(const offer_reply&);
call make(const social_item&);
call make(const acknowledge&);
call make(const email_transcript&);
call make(const presence&);
call make(const set_presence&);
call make(const login_attempt&);
call make(const end_sessions&);
call make(const lease&);
call make(const save_record&);
call make(const take_quota&);
call make(const settle_outbound&);
call make(const delivery_status&);
call make(const dead_letter&);
call make(const own_entry&);
call make(const migrate_outbound&);
call make(const route_apply&);
call make(const typing&);
call make(const redact_conversation&);
call make(const redact_patron&);
call make(const swap_stream&);
call make(const compact_stream&);
call make(const audit&);
call make(const link_patrons&);

// The call of `s` with empty inputs: its names, for the library's headers and the tests.
call describe(script s);

}  // namespace calls

// FCALL of `c`.
void run(redis_connection& redis, const script_set& scripts, const call& c,
         redis_connection::reply_handler handler);

// For the functions that answer {'ok', JSON or record} or {code, message} (see prelude.lua):
// the JSON, or an error with the function's code ("not_found", "forbidden", "conflict", ...),
// "unavailable" when Redis did not answer, "redis" for anything unexpected.
void run_json(redis_connection& redis, const script_set& scripts, const call& c,
              std::function<void(core::result<std::string>)> handler);

// Sends `commands` pipelined; `done` gets their replies in order.
void pipeline(redis_connection& redis, std::vector<std::vector<std::string>> commands,
              std::function<void(std::vector<reply>)> done);

// Reads conversation `id`'s state (and pipelines `extra` after it), builds the call with
// `build`, runs it, and reads again while the function answers 'stale' (a few times). A
// conversation that does not exist is answered {'not_found', why} without a call.
using call_builder =
    std::function<call(const conversation_state&, const std::vector<reply>& extra)>;
void run_on_conversation(redis_connection& redis, const script_set& scripts, std::string id,
                         std::vector<std::vector<std::string>> extra, call_builder build,
                         redis_connection::reply_handler handler);
// The same for the JSON-answering functions.
void run_json_on_conversation(redis_connection& redis, const script_set& scripts, std::string id,
                              std::vector<std::vector<std::string>> extra, call_builder build,
                              std::function<void(core::result<std::string>)> handler);

}  // namespace askdesk::store
