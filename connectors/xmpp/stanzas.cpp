// Reading walks libstrophe's stanza tree by name and namespace and copies out strings only;
// nothing here keeps a stanza. A message counts from its body: one without a body is a chat
// state, a receipt or nothing. Messages from our own account (our replies echoed by the
// archive, carbons) and error stanzas are never messages.
#include "connectors/xmpp/stanzas.hpp"

#include <strophe.h>

#include <algorithm>

#include "daemon/core/text.hpp"

namespace askdesk::connectors::xmpp {

namespace {

constexpr char ns_chat_states[] = "http://jabber.org/protocol/chatstates";
constexpr char ns_receipts[] = "urn:xmpp:receipts";
constexpr char ns_stanza_id[] = "urn:xmpp:sid:0";
constexpr char ns_mam[] = "urn:xmpp:mam:2";
constexpr char ns_forward[] = "urn:xmpp:forward:0";
constexpr char ns_nick[] = "http://jabber.org/protocol/nick";
constexpr char ns_oob[] = "jabber:x:oob";
constexpr char ns_roster[] = "jabber:iq:roster";
constexpr char ns_rsm[] = "http://jabber.org/protocol/rsm";

std::string attribute(xmpp_stanza_t* s, const char* name) {
  const char* v = s ? xmpp_stanza_get_attribute(s, name) : nullptr;
  return v ? std::string(v) : std::string();
}

std::string text_of(xmpp_stanza_t* s) {
  if (!s) return {};
  char* t = xmpp_stanza_get_text(s);
  if (!t) return {};
  std::string out(t);
  xmpp_free(xmpp_stanza_get_context(s), t);
  return out;
}

xmpp_stanza_t* child(xmpp_stanza_t* s, const char* name, const char* ns) {
  return s ? xmpp_stanza_get_child_by_name_and_ns(s, name, ns) : nullptr;
}

const char* state_names[] = {"active", "composing", "paused", "inactive", "gone"};

// Reads a message (live, or the one a MAM result forwards) into `e`.
void read_message(xmpp_stanza_t* m, const std::string& own, event& e) {
  const std::string type = attribute(m, "type");
  e.from = bare_jid(attribute(m, "from"));
  e.id = attribute(m, "id");
  if (type == "error") {
    e.why = "an error stanza";
    return;
  }
  if (type != "chat" && type != "normal" && !type.empty()) {
    e.why = "a " + type + " message";
    return;
  }
  if (e.from.empty() || e.from == own) {
    e.why = "a message from our own account";
    return;
  }
  // Only a stanza-id our own account's archive gave counts (XEP-0359: a sender can write one).
  for (xmpp_stanza_t* c = xmpp_stanza_get_children(m); c; c = xmpp_stanza_get_next(c)) {
    const char* name = xmpp_stanza_get_name(c);
    const char* ns = xmpp_stanza_get_ns(c);
    if (!name || !ns) continue;
    if (std::string_view(name) == "stanza-id" && std::string_view(ns) == ns_stanza_id &&
        bare_jid(attribute(c, "by")) == own && e.archive_id.empty()) {
      e.archive_id = attribute(c, "id");
    }
  }
  if (auto* nick = child(m, "nick", ns_nick)) e.nick = core::repair_utf8(text_of(nick));
  if (auto* oob = child(m, "x", ns_oob)) {
    if (auto url = text_of(xmpp_stanza_get_child_by_name(oob, "url")); !url.empty()) {
      e.urls.push_back(core::repair_utf8(url));
    }
  }
  e.receipt_requested = child(m, "request", ns_receipts) != nullptr;
  // A body, or a shared file (XEP-0066) alone, makes a message.
  std::string text = core::repair_utf8(text_of(xmpp_stanza_get_child_by_name(m, "body")));
  if (text.size() > max_body_bytes) {
    e.cut_from = text.size();
    text = std::string(core::truncate_utf8(text, max_body_bytes));
  }
  if (!core::trim(text).empty() || !e.urls.empty()) {
    e.what = event::kind::message;
    e.body = std::move(text);
    return;
  }
  if (auto* received = child(m, "received", ns_receipts)) {
    e.what = event::kind::receipt;
    e.id = attribute(received, "id");
    return;
  }
  for (const char* state : state_names) {
    if (child(m, state, ns_chat_states)) {
      e.what = event::kind::chat_state;
      e.state = state;
      return;
    }
  }
  e.why = "a message without a body";
}

}  // namespace

std::string bare_jid(std::string_view jid) {
  jid = jid.substr(0, jid.find('/'));
  return core::ascii_lower(jid);
}

event read_stanza(xmpp_stanza_t* stanza, const std::string& own) {
  event e;
  const char* name = xmpp_stanza_get_name(stanza);
  const std::string_view kind = name ? name : "";
  if (kind == "message") {
    // A page of our archive: <result queryid id><forwarded><message/></forwarded></result>.
    if (auto* result = child(stanza, "result", ns_mam)) {
      // Only our own archive answers our queries: a result from anyone else is forged.
      const std::string from = bare_jid(attribute(stanza, "from"));
      if (!from.empty() && from != own) {
        e.why = "an archive result not from our own account";
        return e;
      }
      auto* forwarded = child(result, "forwarded", ns_forward);
      auto* m = forwarded ? xmpp_stanza_get_child_by_name(forwarded, "message") : nullptr;
      if (!m) {
        e.why = "an archive result without a message";
        return e;
      }
      read_message(m, own, e);
      e.archive_id = attribute(result, "id");
      e.query_id = attribute(result, "queryid");
      e.receipt_requested = false;  // an old message: its sender is not waiting
      return e;
    }
    read_message(stanza, own, e);
    return e;
  }
  if (kind == "presence") {
    if (attribute(stanza, "type") == "subscribe") {
      e.what = event::kind::subscribe;
      e.from = bare_jid(attribute(stanza, "from"));
    } else {
      e.why = "presence";
    }
    return e;
  }
  if (kind == "iq") {
    const std::string type = attribute(stanza, "type");
    e.id = attribute(stanza, "id");
    // Answers to what we asked come from our server or our own account; anyone else's are
    // forged (a patron could end a catch-up early, or rename people in our roster).
    const std::string from = bare_jid(attribute(stanza, "from"));
    if (!from.empty() && from != own && from != own.substr(own.find('@') + 1)) {
      e.why = "an answer from " + from;
      return e;
    }
    if (type == "result") {
      if (auto* fin = child(stanza, "fin", ns_mam)) {
        e.what = event::kind::archive_done;
        e.complete = attribute(fin, "complete") == "true";
        e.last = text_of(xmpp_stanza_get_child_by_name(child(fin, "set", ns_rsm), "last"));
        return e;
      }
      if (auto* query = child(stanza, "query", ns_roster)) {
        e.what = event::kind::roster;
        for (xmpp_stanza_t* c = xmpp_stanza_get_children(query); c; c = xmpp_stanza_get_next(c)) {
          const char* n = xmpp_stanza_get_name(c);
          if (!n || std::string_view(n) != "item") continue;
          e.roster.emplace_back(bare_jid(attribute(c, "jid")),
                                core::repair_utf8(attribute(c, "name")));
        }
        return e;
      }
    }
    if (type == "error") {
      e.what = event::kind::archive_done;  // a failed query ends like an empty last page
      e.why = "an error answer to " + e.id;
      e.complete = true;
      return e;
    }
    if (type == "result") {
      e.what = event::kind::answered;  // a ping's answer: what we sent before it arrived
      return e;
    }
    e.why = "an iq";
    return e;
  }
  e.why = "a " + std::string(kind) + " stanza";
  return e;
}

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        // XML 1.0 allows no control characters but tab, newline and carriage return.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') continue;
        out += c;
    }
  }
  return out;
}

std::string chat_message(std::string_view to, std::string_view id, std::string_view body) {
  return "<message type='chat' to='" + xml_escape(to) + "' id='" + xml_escape(id) + "'><body>" +
         xml_escape(body) + "</body><active xmlns='" + ns_chat_states + "'/><request xmlns='" +
         ns_receipts + "'/></message>";
}

std::string chat_state(std::string_view to, std::string_view state) {
  return "<message type='chat' to='" + xml_escape(to) + "'><" + xml_escape(state) + " xmlns='" +
         ns_chat_states + "'/><no-store xmlns='urn:xmpp:hints'/></message>";
}

std::string receipt(std::string_view to, std::string_view id) {
  return "<message to='" + xml_escape(to) + "'><received xmlns='" + ns_receipts + "' id='" +
         xml_escape(id) + "'/><no-store xmlns='urn:xmpp:hints'/></message>";
}

std::string presence(std::string_view show, std::string_view status) {
  if (show.empty() && status.empty()) return "<presence/>";
  std::string out = "<presence>";
  if (!show.empty()) out += "<show>" + xml_escape(show) + "</show>";
  if (!status.empty()) out += "<status>" + xml_escape(status) + "</status>";
  return out + "</presence>";
}

std::string subscribed(std::string_view to) {
  return "<presence type='subscribed' to='" + xml_escape(to) + "'/>";
}

std::string ping(std::string_view id) {
  return "<iq type='get' id='" + xml_escape(id) + "'><ping xmlns='urn:xmpp:ping'/></iq>";
}

std::string roster_query(std::string_view id) {
  return "<iq type='get' id='" + xml_escape(id) + "'><query xmlns='" + ns_roster + "'/></iq>";
}

std::string archive_query(std::string_view id, std::string_view query_id, archive_page from,
                          std::string_view archive_id, int max) {
  const bool one = from == archive_page::newest || from == archive_page::newest_before;
  std::string set = "<max>" + std::to_string(one ? 1 : max) + "</max>";
  if (from == archive_page::newest) set += "<before/>";
  if (from == archive_page::newest_before) set += "<before>" + xml_escape(archive_id) + "</before>";
  if (from == archive_page::after) set += "<after>" + xml_escape(archive_id) + "</after>";
  return "<iq type='set' id='" + xml_escape(id) + "'><query xmlns='" + ns_mam + "' queryid='" +
         xml_escape(query_id) + "'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' " +
         "type='hidden'><value>" + ns_mam + "</value></field></x><set xmlns='" + ns_rsm + "'>" +
         set + "</set></query></iq>";
}

}  // namespace askdesk::connectors::xmpp
