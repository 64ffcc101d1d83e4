#include "daemon/store/keys.hpp"

namespace askdesk::store {

namespace {

using enum patron_data;

// Keep in step with prelude.lua's key layout and docs/redis.md (the test checks the scripts).
constexpr key_family catalogue[] = {
    // A stream being rebuilt without erased patron text (privacy), for seconds.
    {"<stream*>:copy", "stream", "privacy (swap_stream)",
     "the kept entries of a stream being rebuilt", text, "until it replaces the stream"},
    // Streams and lists shared by every conversation.
    {"inbound", "stream", "connectors (ingest), hub", "messages received, until applied", text,
     "until the hub applies the entry (then deleted)"},
    {"inbound:dead", "stream", "hub", "inbound entries that could not be applied", text,
     "the newest 10,000, at most privacy.transcript_days"},
    {"events", "stream", "every script", "what dashboards are told, with message text", text,
     "trimmed to redis.events_max_length entries; a redacted conversation's go at the purge"},
    {"audit", "stream", "API (audit)",
     "staff access to patron records: who, what, which id, when, from where", none,
     "privacy.audit_days"},
    {"outbound:<connector>", "stream", "scripts (replies), outbound lanes",
     "replies waiting to be sent: address, text", text, "until sent or failed"},
    {"outbound:<connector>:dead", "list", "outbound lanes", "sends that failed for good", text,
     "the newest 1,000 per lane; a redacted conversation's go at the purge"},
    {"outbound", "stream", "older versions", "the one outbound stream before per-connector lanes",
     text, "moved onto the lanes on start (migrate_outbound)"},
    {"outbound:retry", "zset", "older versions", "the old retry schedule", text,
     "moved onto the lanes on start (migrate_outbound)"},
    {"topic:examples", "stream", "set_topic", "patrons' words with the topic staff chose", text,
     "the newest 50,000; a redacted conversation's go at the purge"},
    {"dedup:<connector>:<external id*>", "hash", "ingest, apply_inbound",
     "the entry, conversation and message of a channel's message id (some channels' ids name "
     "the patron: a Telegram chat, a Bluesky author)",
     identifiers, "redis.dedup_days, or until its conversation is redacted"},
    {"seq:<kind>", "string", "scripts", "id counters (conversation, message, patron)", none,
     "permanent"},
    // A conversation and its messages.
    {"conversation:{c:<id>}", "hash", "scripts",
     "status, team, assignee, times, the patron's address, the last message's preview, reply "
     "facts",
     text, "permanent; its patron text until privacy.transcript_days after it closed"},
    {"conversation:{c:<id>}:messages", "list", "scripts", "its message ids", none,
     "as its messages"},
    {"conversation:{c:<id>}:tags", "set", "tag", "its tags", none, "permanent"},
    {"conversation:{c:<id>}:declined", "set", "routing", "staff who declined it", none,
     "until it is assigned"},
    {"message:{c:<conversation>}:<id>", "hash", "scripts", "text, sender, attachments, status",
     text, "privacy.transcript_days after its conversation closed"},
    // What the reports count: facts, never a patron's name, address or words.
    {"facts:{c:<conversation>}", "hash", "scripts",
     "a conversation's facts: channel, team, topic, each wait's start, first staff member and "
     "first human reply, handoffs, reopens, close, staff, tags, READ level, satisfaction score",
     none, "permanent (statistics)"},
    {"facts:created", "zset", "apply_inbound", "conversations by arrival, for the reports", none,
     "permanent (statistics)"},
    {"thread:<connector>:<thread*>", "string", "apply_inbound",
     "a channel thread's latest conversation (thread keys may be addresses)", identifiers,
     "as that conversation's text"},
    {"provider:<connector>:<provider id>", "string", "settle_outbound",
     "the conversation and message (\"<conversation>:<message>\") of a channel's message id",
     identifiers, "30 days, or until its conversation is redacted"},
    {"provider:<connector>:<provider id>:early", "hash", "delivery_status",
     "a delivery status that came before the send was recorded (its name is a channel's id)",
     identifiers, "1 day, or until its conversation is redacted"},
    // Patrons.
    {"patron:<id>", "hash", "apply_inbound, routing",
     "name, email, phone, who helped last, muted, last acknowledgements", identifiers,
     "permanent; its identifiers until privacy.identifier_days after they last wrote"},
    {"patron:<id>:addresses", "hash", "apply_inbound", "channel:address -> last seen", identifiers,
     "privacy.identifier_days after they last wrote"},
    {"patron:<id>:conversations", "zset", "apply_inbound", "their conversations", none,
     "permanent"},
    {"patron:<id>:links", "hash", "link_patrons",
     "the patron's other records staff linked, each with who linked it, when and how the patron "
     "consented",
     identifiers, "until unlinked, or the patron's identifiers go"},
    {"address:<channel>:<address*>", "string", "apply_inbound", "the patron of an address",
     identifiers, "as the patron's identifiers"},
    {"optout:<channel>:<address*>", "string", "apply_inbound", "when the patron opted out",
     identifiers, "until they opt in, or their identifiers go"},
    {"transcripts:to:<address*>", "string", "email_transcript", "transcripts emailed to an address",
     identifiers, "1 day"},
    {"transcripts:hour:<connector>", "string", "email_transcript",
     "transcripts a widget sent this hour", none, "1 hour"},
    // Queues, routing and the social desk.
    {"conversations", "zset", "scripts", "every conversation by last update", none, "permanent"},
    {"queue:<team>", "zset", "scripts, routing", "waiting conversations in queue order", none,
     "while they wait"},
    {"social:<state>:<team>", "zset", "apply_inbound, social_item",
     "social items: new, dismissed, abuse", none, "permanent"},
    {"assigned:<user>", "set", "scripts", "the open conversations a staff member holds", none,
     "while held"},
    {"offer:{c:<conversation>}", "hash", "routing", "whom a conversation is offered to, until when",
     none, "until taken or expired"},
    {"offers:<user>", "set", "routing", "the offers waiting for a staff member", none,
     "until taken or expired"},
    {"staff:<user>", "hash", "presence, routing", "presence, when they left, last assignment", none,
     "permanent"},
    {"sockets:<user>", "zset", "presence", "a staff member's open dashboards", none,
     "each until it stops renewing"},
    {"presence:<team>", "zset", "presence", "the team's open dashboards", none,
     "each until it stops renewing"},
    {"lease:<what*>:fence", "string", "lease", "grows each time a lease changes hands", none,
     "permanent"},
    {"lease:<what*>", "string", "routing, lanes, connectors",
     "which daemon routes, sends a lane or polls an account", none, "expires unless renewed"},
    {"askdesk:schema", "string", "migrate", "the layout of the data (store/migrate.hpp)", none,
     "permanent"},
    // Staff accounts.
    {"users", "set", "askdesk user", "every staff user name", none, "permanent"},
    {"user:<name>", "hash", "askdesk user", "display name, role, teams, password hash", none,
     "permanent"},
    {"user:<name>:sessions", "set", "login", "the user's sessions", none, "until they end"},
    {"user:<name>:tokens", "set", "askdesk token", "the user's API tokens", none, "until revoked"},
    {"session:<sha256>", "hash", "login", "a session's user and CSRF token", none,
     "auth.session_hours after its last use"},
    {"token:<sha256>", "string", "askdesk token", "an API token's user", none, "until revoked"},
    {"login:fail:user:<name*>", "string", "login", "failed logins of a user name", none,
     "the login window (auth.login_window_minutes)"},
    {"login:fail:addr:<address*>", "string", "login", "failed logins from a network address", none,
     "the login window (auth.login_window_minutes)"},
    // Connectors' own state (connector_context records, quotas): cursors, web chat sessions,
    // XMPP, Telegram, Mastodon and Bluesky bookkeeping.
    {"<type>:<connector>:quota:<name*>", "string", "connectors", "a connector's quotas", none,
     "the quota's window"},
    {"<type>:<connector>:<name*>", "any", "connectors",
     "a connector's records: cursors, sessions (web chat: the visitor's session and team)",
     identifiers, "as the connector sets (docs/connectors.md)"},
};

// A part in angle brackets matches one or more characters other than ':'; a part whose name
// ends in '*' (<address*>) may hold colons too.
bool matches(std::string_view pattern, std::string_view key) {
  while (!pattern.empty()) {
    if (pattern.front() != '<') {
      if (key.empty() || key.front() != pattern.front()) return false;
      pattern.remove_prefix(1);
      key.remove_prefix(1);
      continue;
    }
    const auto close = pattern.find('>');
    const bool colons = pattern[close - 1] == '*';
    pattern.remove_prefix(close + 1);
    for (std::size_t n = 1; n <= key.size(); ++n) {
      if (!colons && key[n - 1] == ':') return false;
      if (matches(pattern, key.substr(n))) return true;
    }
    return false;
  }
  return key.empty();
}

}  // namespace

std::string_view name(patron_data d) {
  switch (d) {
    case none:
      return "none";
    case identifiers:
      return "identifiers";
    case text:
      return "text";
  }
  return "none";
}

std::span<const key_family> key_catalogue() { return catalogue; }

const key_family* family_of(std::string_view key) {
  for (const auto& f : catalogue) {
    if (matches(f.pattern, key)) return &f;
  }
  return nullptr;
}

namespace keys {

namespace {
std::string join(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (auto p : parts) {
    if (!out.empty()) out += ':';
    out += p;
  }
  return out;
}
std::string tag(std::string_view conversation) { return "{c:" + std::string(conversation) + "}"; }
}  // namespace

std::string conversation(std::string_view id) { return join({"conversation", tag(id)}); }
std::string conversation_messages(std::string_view id) {
  return join({"conversation", tag(id), "messages"});
}
std::string conversation_tags(std::string_view id) {
  return join({"conversation", tag(id), "tags"});
}
std::string conversation_declined(std::string_view id) {
  return join({"conversation", tag(id), "declined"});
}
std::string offer(std::string_view conversation) { return join({"offer", tag(conversation)}); }
std::string facts(std::string_view conversation) { return join({"facts", tag(conversation)}); }
std::string message(std::string_view conversation, std::string_view id) {
  return join({"message", tag(conversation), id});
}
std::string patron(std::string_view id) { return join({"patron", id}); }
std::string patron_addresses(std::string_view id) { return join({"patron", id, "addresses"}); }
std::string patron_links(std::string_view id) { return join({"patron", id, "links"}); }
std::string patron_conversations(std::string_view id) {
  return join({"patron", id, "conversations"});
}
std::string address(std::string_view channel, std::string_view address) {
  return join({"address", channel, address});
}
std::string optout(std::string_view channel, std::string_view address) {
  return join({"optout", channel, address});
}
std::string stream_copy(std::string_view stream) { return join({stream, "copy"}); }
std::string thread(std::string_view connector, std::string_view thread) {
  return join({"thread", connector, thread});
}
std::string dedup(std::string_view connector, std::string_view external_id) {
  return join({"dedup", connector, external_id});
}
std::string provider(std::string_view connector, std::string_view provider_id) {
  return join({"provider", connector, provider_id});
}
std::string provider_early(std::string_view connector, std::string_view provider_id) {
  return join({"provider", connector, provider_id, "early"});
}
std::string seq(std::string_view kind) { return join({"seq", kind}); }
std::string outbound(std::string_view connector) { return join({"outbound", connector}); }
std::string outbound_dead(std::string_view connector) {
  return join({"outbound", connector, "dead"});
}
std::string lane_lease(std::string_view connector) { return join({"lease", "lane", connector}); }
std::string connector_lease(std::string_view type, std::string_view name) {
  return join({"lease", type, name});
}
std::string fence(std::string_view lease) { return join({lease, "fence"}); }
std::string connector_record(std::string_view type, std::string_view connector,
                             std::string_view name) {
  return join({type, connector, name});
}
std::string queue(std::string_view team) { return join({"queue", team}); }
std::string social(std::string_view state, std::string_view team) {
  return join({"social", state, team});
}
std::string assigned(std::string_view user) { return join({"assigned", user}); }
std::string offers(std::string_view user) { return join({"offers", user}); }
std::string staff(std::string_view user) { return join({"staff", user}); }
std::string sockets(std::string_view user) { return join({"sockets", user}); }
std::string presence(std::string_view team) { return join({"presence", team}); }
std::string user(std::string_view name) { return join({"user", name}); }
std::string user_sessions(std::string_view name) { return join({"user", name, "sessions"}); }
std::string user_tokens(std::string_view name) { return join({"user", name, "tokens"}); }
std::string session(std::string_view digest) { return join({"session", digest}); }
std::string token(std::string_view digest) { return join({"token", digest}); }
std::string login_failures_of_user(std::string_view name) {
  return join({"login", "fail", "user", name});
}
std::string login_failures_from(std::string_view address) {
  return join({"login", "fail", "addr", address});
}
std::string transcripts_to(std::string_view address) {
  return join({"transcripts", "to", address});
}
std::string transcripts_this_hour(std::string_view connector) {
  return join({"transcripts", "hour", connector});
}

}  // namespace keys

}  // namespace askdesk::store
