// The XMPP stanzas the connector sends, written as text, and the ones it receives, read into
// plain values on the session's thread (where libstrophe's stanza objects live) so that the
// connector on the I/O thread never touches libstrophe. Pure functions, thread-safe.
//
// Received: chat and normal messages with a body (live, or forwarded inside a MAM result),
// XEP-0085 chat states, XEP-0184 receipts and receipt requests, XEP-0359 stanza ids given by
// our own server, XEP-0172 nicks, XEP-0066 out-of-band URLs, subscription requests, roster
// items, and the end of a MAM query.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

typedef struct _xmpp_stanza_t xmpp_stanza_t;

namespace askdesk::connectors::xmpp {

inline constexpr std::size_t max_body_bytes = 64 * 1024;

// "ada@example.org/phone" -> "ada@example.org" (lower-cased local part and domain).
std::string bare_jid(std::string_view jid);

// What a received stanza means for the connector.
struct event {
  enum class kind {
    message,       // a patron's message with a body
    chat_state,    // composing, paused, active, inactive, gone without a body
    receipt,       // XEP-0184 <received id='…'/>: a reply of ours arrived
    subscribe,     // a patron asks to see our presence
    roster,        // the roster's items (jid, name)
    archive_done,  // a MAM query ended: `complete`, `last` (the last archive id of the page)
    answered,      // our server answered our iq `id` (a ping after a reply: it has the reply)
    ignored,       // an error stanza, our own echo, a bare receipt request...
  };
  kind what = kind::ignored;
  std::string from;                // bare JID
  std::string id;                  // the stanza's id
  std::string body;                // UTF-8, repaired, at most max_body_bytes
  std::size_t cut_from = 0;        // the body's bytes before it was cut; 0 when whole
  std::string archive_id;          // MAM result id, or the stanza-id our server gave it
  std::string query_id;            // the MAM query it answers
  bool receipt_requested = false;  // the sender asks for <received/>
  std::string state;               // chat state name
  std::string nick;                // XEP-0172
  std::vector<std::string> urls;   // XEP-0066 out-of-band
  std::vector<std::pair<std::string, std::string>> roster;  // bare jid, name
  bool complete = false;                                    // archive_done: no more pages
  std::string last;  // archive_done: the page's last archive id
  std::string why;   // ignored: for logs
};

// Reads `stanza`, received on the account `own` (a bare JID).
event read_stanza(xmpp_stanza_t* stanza, const std::string& own);

// Text as XML character data or an attribute value.
std::string xml_escape(std::string_view text);

// <message type='chat'> to `to` with `body`, id `id`, <active/> and a receipt request.
std::string chat_message(std::string_view to, std::string_view id, std::string_view body);
// A chat state notification alone ("composing", "paused", "active").
std::string chat_state(std::string_view to, std::string_view state);
// XEP-0184: the message `id` from `to` arrived.
std::string receipt(std::string_view to, std::string_view id);
// Our presence: available, or `show` ("away") with a status text.
std::string presence(std::string_view show, std::string_view status);
std::string subscribed(std::string_view to);
// XEP-0199 ping to our server: its answer says everything sent before it arrived.
std::string ping(std::string_view id);
std::string roster_query(std::string_view id);
// A MAM (XEP-0313, urn:xmpp:mam:2) query of our archive, oldest first.
enum class archive_page { after, from_start, newest, newest_before };
// `after`: `max` messages after the archive id `id`; `from_start`: the first `max`; `newest`:
// the newest message only (to learn where the archive ends); `newest_before`: the newest
// message before the archive id `id`.
std::string archive_query(std::string_view id, std::string_view query_id, archive_page from,
                          std::string_view archive_id, int max);

}  // namespace askdesk::connectors::xmpp
