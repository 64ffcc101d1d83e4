#include "daemon/store/calls.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <memory>

#include "daemon/store/inbound_store.hpp"
#include "daemon/store/keys.hpp"
#include "daemon/store/records.hpp"

namespace askdesk::store {

call& call::key(std::string_view name, std::string value) {
  keys_.emplace_back(name, std::move(value));
  return *this;
}
call& call::keys(std::string_view name, std::vector<std::string> values) {
  key_lists_.push_back({name, std::move(values)});
  return *this;
}
call& call::arg(std::string_view name, std::string value) {
  args_.emplace_back(name, std::move(value));
  return *this;
}
call& call::args(std::string_view name, std::vector<std::string> values) {
  arg_lists_.push_back({name, std::move(values)});
  return *this;
}

std::vector<std::string> call::all_keys() const {
  std::vector<std::string> out;
  for (const auto& [name, value] : keys_) out.push_back(value);
  for (const auto& l : key_lists_) out.insert(out.end(), l.values.begin(), l.values.end());
  return out;
}

std::vector<std::string> call::all_args() const {
  std::vector<std::string> out;
  for (const auto& l : key_lists_) out.push_back(std::to_string(l.values.size()));
  for (const auto& l : arg_lists_) out.push_back(std::to_string(l.values.size()));
  for (const auto& [name, value] : args_) out.push_back(value);
  for (const auto& l : arg_lists_) out.insert(out.end(), l.values.begin(), l.values.end());
  return out;
}

std::string call::header() const {
  std::string out = "FIRSTS = {}; K = setmetatable({";
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    out += std::string(keys_[i].first) + " = KEYS[" + std::to_string(i + 1) + "], ";
  }
  out += "}, DECLARED); A = setmetatable({";
  const std::size_t lists = key_lists_.size() + arg_lists_.size();
  for (std::size_t i = 0; i < args_.size(); ++i) {
    out += std::string(args_[i].first) + " = ARGV[" + std::to_string(lists + i + 1) + "], ";
  }
  out += "}, DECLARED)\n";
  if (lists > 0) {
    out += "do local k, a = " + std::to_string(keys_.size() + 1) + ", " +
           std::to_string(lists + args_.size() + 1) + "\n";
    std::size_t length_at = 1;
    for (const auto& l : key_lists_) {
      const std::string n = "tonumber(ARGV[" + std::to_string(length_at++) + "])";
      out += "  rawset(K, '" + std::string(l.name) + "', slice(KEYS, k, " + n + ")); k = k + " + n +
             "\n";
    }
    for (const auto& l : arg_lists_) {
      const std::string n = "tonumber(ARGV[" + std::to_string(length_at++) + "])";
      out += "  rawset(A, '" + std::string(l.name) + "', slice(ARGV, a, " + n + ")); a = a + " + n +
             "\n";
    }
    out += "end\n";
  }
  return out;
}

std::vector<std::string_view> call::key_names() const {
  std::vector<std::string_view> out;
  for (const auto& [name, value] : keys_) out.push_back(name);
  for (const auto& l : key_lists_) out.push_back(l.name);
  return out;
}

std::vector<std::string_view> call::arg_names() const {
  std::vector<std::string_view> out;
  for (const auto& [name, value] : args_) out.push_back(name);
  for (const auto& l : arg_lists_) out.push_back(l.name);
  return out;
}

std::string conversation_state::seen() const {
  return team + '\n' + assignee + '\n' + patron + '\n' + connector + '\n' + channel + '\n' +
         address + '\n' + offer_to;
}

std::vector<std::string> conversation_state::offered() const {
  std::vector<std::string> out;
  std::string_view rest = offer_to;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const auto name = rest.substr(0, comma);
    if (!name.empty()) out.emplace_back(name);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return out;
}

namespace calls {

namespace {

std::string flag(bool b) { return b ? "1" : "0"; }

// The keys of every function that acts on one conversation, and its id and `seen`.
call on(script s, const conversation_state& c) {
  std::vector<std::string> offers;
  for (const auto& name : c.offered()) offers.push_back(keys::offers(name));
  call out(s);
  out.key("conversation", keys::conversation(c.id))
      .key("facts", keys::facts(c.id))
      .key("messages", keys::conversation_messages(c.id))
      .key("tags", keys::conversation_tags(c.id))
      .key("declined", keys::conversation_declined(c.id))
      .key("offer", keys::offer(c.id))
      .key("patron", keys::patron(c.patron))
      .key("holder", keys::assigned(c.assignee))
      .key("queue", keys::queue(c.team))
      .key("social_new", keys::social("new", c.team))
      .key("social_dismissed", keys::social("dismissed", c.team))
      .key("social_abuse", keys::social("abuse", c.team))
      .key("optout", keys::optout(c.channel, c.address))
      .key("outbound", keys::outbound(c.connector))
      .key("events", std::string(keys::events))
      .key("conversations", std::string(keys::conversations))
      .keys("offers", std::move(offers));
  out.arg("id", c.id).arg("seen", c.seen());
  return out;
}

std::vector<std::string> message_keys(const std::string& conversation,
                                      const std::vector<std::string>& ids) {
  std::vector<std::string> out;
  for (const auto& id : ids) out.push_back(keys::message(conversation, id));
  return out;
}

}  // namespace

call make(const ingest& in) {
  call c(script::ingest);
  c.key("dedup", keys::dedup(in.connector, in.external_id))
      .key("inbound", std::string(keys::inbound))
      .args("fields", in.fields);
  return c;
}

call make(const apply_inbound& in) {
  // The chosen or new conversation's team: where a new one waits, where a reopened one
  // goes back.
  const std::string& target = in.outcome == "created" ? in.team : in.its_team;
  std::vector<std::string> candidates;
  for (const auto& id : in.candidates) candidates.push_back(keys::conversation(id));
  call c(script::apply_inbound);
  c.key("dedup", keys::dedup(in.connector, in.external_id))
      .key("address", keys::address(in.channel, in.sender))
      .key("patron", keys::patron(in.patron))
      .key("patron_addresses", keys::patron_addresses(in.patron))
      .key("patron_conversations", keys::patron_conversations(in.patron))
      .key("optout", keys::optout(in.channel, in.sender))
      .key("thread", keys::thread(in.connector, in.thread))
      .key("conversation", keys::conversation(in.conversation))
      .key("facts", keys::facts(in.conversation))
      .key("facts_index", std::string(keys::facts_by_arrival))
      .key("messages", keys::conversation_messages(in.conversation))
      .key("declined", keys::conversation_declined(in.conversation))
      .key("tags", keys::conversation_tags(in.conversation))
      .key("message", keys::message(in.conversation, in.message))
      .key("queue", keys::queue(target))
      .key("social_new", keys::social("new", target))
      .key("social_dismissed", keys::social("dismissed", target))
      .key("social_abuse", keys::social("abuse", target))
      .key("events", std::string(keys::events))
      .key("conversations", std::string(keys::conversations))
      .keys("candidates", std::move(candidates));
  c.arg("now", in.now)
      .arg("team", in.team)
      .arg("topic", in.topic)
      .arg("reopen_ms", in.reopen_ms)
      .arg("connector", in.connector)
      .arg("channel", in.channel)
      .arg("external_id", in.external_id)
      .arg("thread_id", in.thread)
      .arg("sender", in.sender)
      .arg("sender_name", in.sender_name)
      .arg("text", in.text)
      .arg("preview", in.preview)
      .arg("attachments", in.attachments)
      .arg("facts", in.facts)
      .arg("sent_at", in.sent_at)
      .arg("received_at", in.received_at)
      .arg("topic_confidence", in.topic_confidence)
      .arg("topic_source", in.topic_source)
      .arg("topic_why", in.topic_why)
      .arg("after_hours", in.after_hours)
      .arg("consent", in.consent)
      .arg("reply_facts", in.reply_facts)
      .arg("patron", in.patron)
      .arg("new_patron", flag(in.new_patron))
      .arg("thread_seen", in.thread_seen)
      .arg("conversation", in.conversation)
      .arg("outcome", in.outcome)
      .arg("its_team", in.its_team)
      .arg("automated", in.automated)
      .arg("csat_score", in.csat_score)
      .arg("csat_comment", in.csat_comment)
      .arg("message", in.message)
      .arg("joined_by", in.joined_by)
      .args("candidate_ids", in.candidates);
  return c;
}

call make(const claim& in) {
  call c = on(script::claim, in.state);
  c.key("staff", keys::staff(in.user)).key("assigned", keys::assigned(in.user));
  c.arg("now", in.now).arg("user", in.user).arg("scope", in.scope).arg("force", flag(in.force));
  return c;
}

call make(const post_message& in) {
  call c = on(script::post_message, in.state);
  c.key("staff", keys::staff(in.user))
      .key("assigned", keys::assigned(in.user))
      .key("message", keys::message(in.state.id, in.message));
  c.arg("now", in.now)
      .arg("user", in.user)
      .arg("author_name", in.author_name)
      .arg("scope", in.scope)
      .arg("kind", in.kind)
      .arg("text", in.text)
      .arg("preview", in.preview)
      .arg("override", flag(in.override_holder))
      .arg("opt_out", in.opt_out)
      .arg("opt_in", in.opt_in)
      .arg("message", in.message);
  return c;
}

call make(const close& in) {
  call c = on(script::close, in.state);
  c.arg("now", in.now)
      .arg("user", in.user)
      .arg("scope", in.scope)
      .arg("read_level", in.read_level)
      .arg("read_required", flag(in.read_required))
      .arg("csat_question", in.csat_question)
      .arg("message", in.message);
  c.key("message", keys::message(in.state.id, in.message));
  return c;
}

call make(const rate& in) {
  call c = on(script::rate, in.state);
  c.arg("now", in.now).arg("scope", in.scope).arg("score", in.score).arg("comment", in.comment);
  return c;
}

call make(const redact_conversation& in) {
  std::vector<std::string> messages;
  for (const auto& m : in.messages) messages.push_back(keys::message(in.id, m));
  std::vector<std::string> others;
  for (const auto& [connector, id] : in.external_ids) others.push_back(keys::dedup(connector, id));
  for (const auto& [connector, id] : in.provider_ids) {
    others.push_back(keys::provider(connector, id));
    others.push_back(keys::provider_early(connector, id));
  }
  call c(script::redact_conversation);
  c.key("conversation", keys::conversation(in.id))
      .key("messages", keys::conversation_messages(in.id))
      .keys("thread", in.thread.empty()
                          ? std::vector<std::string>{}
                          : std::vector<std::string>{keys::thread(in.connector, in.thread)})
      .keys("message_keys", std::move(messages))
      .keys("others", std::move(others));
  c.arg("id", in.id).arg("now", in.now).arg("thread", in.thread);
  return c;
}

// Each address "channel:address" names its address key; opt-outs and emailed-transcript
// counters go with it.
call make(const redact_patron& in) {
  std::vector<std::string> address_keys, others = in.records;
  for (const auto& a : in.addresses) {
    const auto colon = a.find(':');
    if (colon == std::string::npos) continue;
    const std::string channel = a.substr(0, colon), address = a.substr(colon + 1);
    address_keys.push_back(keys::address(channel, address));
    others.push_back(keys::optout(channel, address));
    others.push_back(keys::transcripts_to(address));
  }
  std::vector<std::string> linked;
  for (const auto& other : in.linked) linked.push_back(keys::patron_links(other));
  call c(script::redact_patron);
  c.key("patron", keys::patron(in.id))
      .key("addresses", keys::patron_addresses(in.id))
      .key("links", keys::patron_links(in.id))
      .keys("linked", std::move(linked))
      .keys("address_keys", std::move(address_keys))
      .keys("others", std::move(others));
  c.arg("id", in.id).arg("now", in.now).args("fields", in.addresses).args("linked_ids", in.linked);
  return c;
}

call make(const swap_stream& in) {
  call c(script::swap_stream);
  c.key("stream", in.stream).key("copy", in.copy).arg("after", in.after);
  return c;
}

call make(const compact_stream& in) {
  call c(script::compact_stream);
  c.key("stream", in.stream);
  return c;
}

call make(const link_patrons& in) {
  call c(script::link_patrons);
  c.key("patron_a", keys::patron(in.a))
      .key("patron_b", keys::patron(in.b))
      .key("links_a", keys::patron_links(in.a))
      .key("links_b", keys::patron_links(in.b));
  c.arg("a", in.a).arg("b", in.b).arg("op", in.op).arg("record", in.record);
  return c;
}

call make(const audit& in) {
  call c(script::audit);
  c.key("audit", std::string(keys::audit));
  c.arg("now", in.now)
      .arg("user", in.user)
      .arg("action", in.action)
      .arg("target", in.target)
      .arg("address", in.address)
      .arg("keep_ms", std::to_string(in.keep_ms));
  return c;
}

call make(const tag& in) {
  call c = on(script::tag, in.state);
  c.arg("now", in.now).arg("scope", in.scope).args("add", in.add).args("remove", in.remove);
  return c;
}

call make(const transfer& in) {
  const std::string& team = in.team.empty() ? in.state.team : in.team;
  call c = on(script::transfer, in.state);
  c.key("to_queue", keys::queue(team))
      .key("to_user", keys::user(in.user))
      .key("staff", keys::staff(in.user))
      .key("assigned", keys::assigned(in.user))
      .key("message", keys::message(in.state.id, in.message));
  c.arg("now", in.now)
      .arg("scope", in.scope)
      .arg("team", in.team)
      .arg("user", in.user)
      .arg("actor", in.actor)
      .arg("actor_name", in.actor_name)
      .arg("supervisor", flag(in.supervisor))
      .arg("note", in.note)
      .arg("preview", in.preview)
      .arg("message", in.message);
  return c;
}

call make(const set_topic& in) {
  const std::string& team = in.team.empty() ? in.state.team : in.team;
  call c = on(script::set_topic, in.state);
  c.key("to_queue", keys::queue(team))
      .key("examples", std::string(keys::topic_examples))
      .keys("first", message_keys(in.state.id, in.first_messages));
  c.arg("now", in.now)
      .arg("scope", in.scope)
      .arg("topic", in.topic)
      .arg("team", in.team)
      .arg("user", in.user)
      .arg("kept", in.kept)
      .args("first_ids", in.first_messages);
  return c;
}

call make(const offer_reply& in) {
  call c = on(script::offer_reply, in.state);
  c.key("staff", keys::staff(in.user))
      .key("assigned", keys::assigned(in.user))
      .key("user_offers", keys::offers(in.user));
  c.arg("now", in.now).arg("user", in.user).arg("scope", in.scope).arg("answer", in.answer);
  return c;
}

call make(const social_item& in) {
  call c = on(script::social_item, in.state);
  c.arg("now", in.now).arg("scope", in.scope).arg("action", in.action).arg("user", in.user);
  return c;
}

call make(const acknowledge& in) {
  std::vector<std::string> users, staff, sockets;
  for (const auto& name : in.users) {
    users.push_back(keys::user(name));
    staff.push_back(keys::staff(name));
    sockets.push_back(keys::sockets(name));
  }
  call c = on(script::acknowledge, in.state);
  c.key("message", keys::message(in.state.id, in.message))
      .keys("user_keys", std::move(users))
      .keys("staff_keys", std::move(staff))
      .keys("socket_keys", std::move(sockets));
  c.arg("now", in.now)
      .arg("period", in.period)
      .arg("text", in.text)
      .arg("preview", in.preview)
      .arg("message", in.message);
  return c;
}

call make(const email_transcript& in) {
  // One address however it is spelt: counted in lower case.
  std::string address = in.address;
  std::transform(address.begin(), address.end(), address.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  call c = on(script::email_transcript, in.state);
  c.key("to", keys::transcripts_to(address))
      .key("hour", keys::transcripts_this_hour(in.state.connector))
      .key("mail_outbound", keys::outbound(in.mail))
      .key("message", keys::message(in.state.id, in.message))
      .keys("transcript", message_keys(in.state.id, in.messages));
  c.arg("now", in.now)
      .arg("mail", in.mail)
      .arg("address", in.address)
      .arg("subject", in.subject)
      .arg("intro", in.intro)
      .arg("most", in.most)
      .arg("message", in.message)
      .args("transcript_ids", in.messages);
  return c;
}

call make(const presence& in) {
  std::vector<std::string> teams;
  for (const auto& t : in.teams) teams.push_back(keys::presence(t));
  call c(script::presence);
  c.key("sockets", keys::sockets(in.user))
      .key("staff", keys::staff(in.user))
      .key("events", std::string(keys::events))
      .keys("teams", std::move(teams));
  c.arg("now", in.now)
      .arg("expiry", in.expiry)
      .arg("member", in.member)
      .arg("op", in.op)
      .arg("user", in.user)
      .args("team_ids", in.teams);
  return c;
}

call make(const set_presence& in) {
  call c(script::set_presence);
  c.key("staff", keys::staff(in.user))
      .key("events", std::string(keys::events))
      .arg("user", in.user)
      .arg("presence", in.presence);
  return c;
}

call make(const login_attempt& in) {
  call c(script::login_attempt);
  c.key("by_user", keys::login_failures_of_user(in.user))
      .key("by_address", keys::login_failures_from(in.address));
  c.arg("window", in.window_seconds).arg("op", in.op);
  return c;
}

call make(const end_sessions& in) {
  std::vector<std::string> sessions;
  for (const auto& d : in.sessions) sessions.push_back(keys::session(d));
  call c(script::end_sessions);
  c.key("sessions", keys::user_sessions(in.user))
      .key("tokens", keys::user_tokens(in.user))
      .key("session", keys::session(in.digest))
      .key("token", keys::token(in.digest))
      .key("events", std::string(keys::events))
      .keys("all_sessions", std::move(sessions));
  c.arg("user", in.user).arg("what", in.what).arg("digest", in.digest).args("digests", in.sessions);
  return c;
}

call make(const lease& in) {
  call c(script::lease);
  c.key("lease", in.key).key("fence", keys::fence(in.key));
  c.arg("holder", in.holder).arg("ms", in.ms);
  return c;
}

call make(const save_record& in) {
  std::vector<std::string> lease;
  if (!in.lease.empty()) lease = {in.lease, keys::fence(in.lease)};
  call c(script::save_record);
  c.key("record", in.key).keys("lease", std::move(lease));
  c.arg("ttl", in.ttl).arg("holder", in.holder).arg("fence", in.fence).args("fields", in.fields);
  return c;
}

call make(const take_quota& in) {
  call c(script::take_quota);
  c.key("quota", in.key).arg("limit", in.limit).arg("window", in.window_ms);
  return c;
}

call make(const settle_outbound& in) {
  std::vector<std::string> provider;
  if (!in.provider_id.empty()) {
    provider = {keys::provider(in.connector, in.provider_id),
                keys::provider_early(in.connector, in.provider_id)};
  }
  call c(script::settle_outbound);
  c.key("stream", keys::outbound(in.connector))
      .key("dead", keys::outbound_dead(in.connector))
      .key("message", keys::message(in.conversation, in.message))
      .key("conversation", keys::conversation(in.conversation))
      .key("tags", keys::conversation_tags(in.conversation))
      .key("events", std::string(keys::events))
      .keys("provider", std::move(provider));
  c.arg("now", in.now)
      .arg("group", in.group)
      .arg("entry", in.entry)
      .arg("conversation_id", in.conversation)
      .arg("message_id", in.message)
      .arg("status", in.status)
      .arg("provider_id", in.provider_id)
      .arg("code", in.code)
      .arg("why", in.why)
      .arg("letter", in.letter)
      .arg("most", in.most);
  return c;
}

call make(const delivery_status& in) {
  const auto colon = in.seen.find(':');
  const std::string conversation = in.seen.substr(0, colon);
  const std::string message = colon == std::string::npos ? "" : in.seen.substr(colon + 1);
  call c(script::delivery_status);
  c.key("provider", keys::provider(in.connector, in.provider_id))
      .key("early", keys::provider_early(in.connector, in.provider_id))
      .key("message", keys::message(conversation, message))
      .key("conversation", keys::conversation(conversation))
      .key("tags", keys::conversation_tags(conversation))
      .key("events", std::string(keys::events));
  c.arg("now", in.now)
      .arg("seen", in.seen)
      .arg("status", in.status)
      .arg("code", in.code)
      .arg("why", in.why);
  return c;
}

call make(const dead_letter& in) {
  call c(script::dead_letters);
  c.key("dead", keys::outbound_dead(in.connector))
      .key("stream", keys::outbound(in.connector))
      .key("message", keys::message(in.conversation, in.message))
      .key("conversation", keys::conversation(in.conversation))
      .key("tags", keys::conversation_tags(in.conversation))
      .key("optout", keys::optout(in.channel, in.address))
      .key("events", std::string(keys::events));
  c.arg("action", in.action).arg("now", in.now).arg("letter", in.letter);
  return c;
}

call make(const own_entry& in) {
  call c(script::own_entry);
  c.key("stream", keys::outbound(in.connector));
  c.arg("group", in.group).arg("consumer", in.consumer).arg("entry", in.entry);
  return c;
}

call make(const migrate_outbound& in) {
  std::vector<std::string> lanes;
  for (const auto& id : in.connectors) lanes.push_back(keys::outbound(id));
  call c(script::migrate_outbound);
  c.key("old", std::string(keys::old_outbound))
      .key("old_retry", std::string(keys::old_outbound_retry))
      .keys("lanes", std::move(lanes));
  c.args("connectors", in.connectors);
  return c;
}

call make(const route_apply& in) {
  call c(script::route_apply);
  c.key("events", std::string(keys::events))
      .key("conversations", std::string(keys::conversations))
      .keys("each", in.keys);
  c.arg("now", in.now).arg("actions", in.actions);
  return c;
}

call make(const typing& in) {
  call c(script::typing);
  c.key("conversation", keys::conversation(in.id)).key("events", std::string(keys::events));
  c.arg("id", in.id).arg("who", in.who).arg("name", in.name);
  return c;
}

call describe(script s) {
  switch (s) {
    case script::ingest:
      return make(ingest{});
    case script::apply_inbound:
      return make(apply_inbound{});
    case script::claim:
      return make(claim{});
    case script::post_message:
      return make(post_message{});
    case script::close:
      return make(close{});
    case script::tag:
      return make(tag{});
    case script::transfer:
      return make(transfer{});
    case script::set_topic:
      return make(set_topic{});
    case script::offer_reply:
      return make(offer_reply{});
    case script::social_item:
      return make(social_item{});
    case script::acknowledge:
      return make(acknowledge{});
    case script::email_transcript:
      return make(email_transcript{});
    case script::presence:
      return make(presence{});
    case script::set_presence:
      return make(set_presence{});
    case script::login_attempt:
      return make(login_attempt{});
    case script::end_sessions:
      return make(end_sessions{});
    case script::lease:
      return make(lease{});
    case script::save_record:
      return make(save_record{});
    case script::take_quota:
      return make(take_quota{});
    case script::settle_outbound:
      return make(settle_outbound{});
    case script::delivery_status:
      return make(delivery_status{});
    case script::dead_letters:
      return make(dead_letter{});
    case script::own_entry:
      return make(own_entry{});
    case script::migrate_outbound:
      return make(migrate_outbound{});
    case script::route_apply:
      return make(route_apply{});
    case script::typing:
      return make(typing{});
    case script::rate:
      return make(rate{});
    case script::redact_conversation:
      return make(redact_conversation{});
    case script::redact_patron:
      return make(redact_patron{});
    case script::swap_stream:
      return make(swap_stream{});
    case script::compact_stream:
      return make(compact_stream{});
    case script::audit:
      return make(audit{});
    case script::link_patrons:
      return make(link_patrons{});
    case script::count_:
      break;
  }
  return call(s);
}

}  // namespace calls

void run(redis_connection& redis, const script_set& scripts, const call& c,
         redis_connection::reply_handler handler) {
  const auto keys = c.all_keys();
  const auto args = c.all_args();
  std::vector<std::string_view> argv;
  argv.reserve(keys.size() + args.size() + 3);
  argv.push_back("FCALL");
  argv.push_back(scripts.function(c.which()));
  const std::string count = std::to_string(keys.size());
  argv.push_back(count);
  argv.insert(argv.end(), keys.begin(), keys.end());
  argv.insert(argv.end(), args.begin(), args.end());
  redis.command(argv, std::move(handler));
}

namespace {

// Tells the observer what the function measured (x.first members of its answer).
void notice_firsts(const script_set& scripts, const reply& record) {
  const auto& e = record.elements();
  for (std::size_t i = 0; i + 1 < e.size(); i += 2) {
    if (!e[i].is_string() || e[i].str() != "x.first" || !e[i + 1].is_string()) continue;
    // "<what>:<start>:<at>:<team>:<channel>"
    std::vector<std::string_view> parts;
    std::string_view rest = e[i + 1].str();
    for (std::size_t colon; (colon = rest.find(':')) != std::string_view::npos;) {
      parts.push_back(rest.substr(0, colon));
      rest.remove_prefix(colon + 1);
    }
    parts.push_back(rest);
    std::int64_t start = 0, at = 0;
    if (parts.size() != 5 ||
        std::from_chars(parts[1].begin(), parts[1].end(), start).ec != std::errc{} ||
        std::from_chars(parts[2].begin(), parts[2].end(), at).ec != std::errc{}) {
      continue;
    }
    scripts.noticed(first_fact{.what = std::string(parts[0]),
                               .start_ms = start,
                               .at_ms = at,
                               .team = std::string(parts[3]),
                               .channel = std::string(parts[4])});
  }
}

void answer_json(reply r, script s, const script_set& scripts,
                 const std::function<void(core::result<std::string>)>& handler) {
  if (r.is_array() && r.size() >= 2 && r[0].is_string() && r[0].str() == "ok" && r[1].is_array()) {
    notice_firsts(scripts, r[1]);
    handler(record_json(r[1]));  // a record: the daemon writes its JSON
    return;
  }
  if (r.is_array() && r.size() >= 2 && r[0].is_string() && r[1].is_string()) {
    if (r[0].str() == "ok") {
      handler(std::move(r.elements()[1].take_str()));
    } else {
      handler(core::error{r[0].str(), r[1].str()});
    }
    return;
  }
  const std::string what = s == script::count_ ? "reading a conversation"
                                               : "running " + std::string(script_set::name(s));
  handler(redis_error(r, what));
}

bool stale(const reply& r) {
  return r.is_array() && r.size() >= 1 && r[0].is_string() && r[0].str() == "stale";
}

constexpr int stale_tries = 8;

struct conversation_run {
  redis_connection& redis;
  const script_set& scripts;
  std::string id;
  std::vector<std::vector<std::string>> extra;
  call_builder build;
  redis_connection::reply_handler handler;
  int tries = 0;
};

void attempt(std::shared_ptr<conversation_run> run_state) {
  auto commands = run_state->extra;
  commands.insert(commands.begin(),
                  {"HMGET", keys::conversation(run_state->id), "id", "status", "team", "assignee",
                   "patron", "channel", "address", "connector"});
  commands.insert(commands.begin() + 1, {"HGET", keys::offer(run_state->id), "to"});
  pipeline(run_state->redis, std::move(commands), [run_state](std::vector<reply> replies) {
    for (const auto& r : replies) {
      if (r.failed()) {
        run_state->handler(r);
        return;
      }
    }
    conversation_state s;
    s.id = run_state->id;
    const reply& fields = replies[0];
    const auto text = [&](std::size_t i) {
      return i < fields.size() && fields[i].is_string() ? fields[i].str() : std::string();
    };
    s.exists = !text(0).empty();
    if (!s.exists) {
      run_state->handler(reply::make_array(
          {reply::make_string("not_found"),
           reply::make_string("conversation " + run_state->id + " does not exist")}));
      return;
    }
    s.status = text(1);
    s.team = text(2);
    s.assignee = text(3);
    s.patron = text(4);
    s.channel = text(5);
    s.address = text(6);
    s.connector = text(7);
    s.offer_to = replies[1].is_string() ? replies[1].str() : "";
    replies.erase(replies.begin(), replies.begin() + 2);
    const call c = run_state->build(s, replies);
    run(run_state->redis, run_state->scripts, c, [run_state](reply r) {
      if (stale(r) && ++run_state->tries < stale_tries) {
        attempt(run_state);
        return;
      }
      run_state->handler(std::move(r));
    });
  });
}

}  // namespace

void run_json(redis_connection& redis, const script_set& scripts, const call& c,
              std::function<void(core::result<std::string>)> handler) {
  run(redis, scripts, c, [handler = std::move(handler), s = c.which(), &scripts](reply r) {
    answer_json(std::move(r), s, scripts, handler);
  });
}

void pipeline(redis_connection& redis, std::vector<std::vector<std::string>> commands,
              std::function<void(std::vector<reply>)> done) {
  struct gathering {
    std::vector<reply> replies;
    std::size_t left = 0;
    std::function<void(std::vector<reply>)> done;
  };
  auto g = std::make_shared<gathering>();
  g->replies.resize(commands.size());
  g->left = commands.size();
  g->done = std::move(done);
  if (commands.empty()) {
    g->done({});
    return;
  }
  for (std::size_t i = 0; i < commands.size(); ++i) {
    std::vector<std::string_view> argv(commands[i].begin(), commands[i].end());
    redis.command(argv, [g, i](reply r) {
      g->replies[i] = std::move(r);
      if (--g->left == 0) g->done(std::move(g->replies));
    });
  }
}

void run_on_conversation(redis_connection& redis, const script_set& scripts, std::string id,
                         std::vector<std::vector<std::string>> extra, call_builder build,
                         redis_connection::reply_handler handler) {
  attempt(std::make_shared<conversation_run>(conversation_run{
      redis, scripts, std::move(id), std::move(extra), std::move(build), std::move(handler)}));
}

void run_json_on_conversation(redis_connection& redis, const script_set& scripts, std::string id,
                              std::vector<std::vector<std::string>> extra, call_builder build,
                              std::function<void(core::result<std::string>)> handler) {
  // The function's name for errors: the builder knows it only once it runs.
  auto which = std::make_shared<script>(script::count_);
  call_builder named = [build = std::move(build), which](const conversation_state& s,
                                                         const std::vector<reply>& extra) {
    call c = build(s, extra);
    *which = c.which();
    return c;
  };
  run_on_conversation(redis, scripts, std::move(id), std::move(extra), std::move(named),
                      [handler = std::move(handler), which, &scripts](reply r) {
                        answer_json(std::move(r), *which, scripts, handler);
                      });
}

}  // namespace askdesk::store
