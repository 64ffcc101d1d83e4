#include "daemon/store/inbound_codec.hpp"

#include <charconv>

#include "daemon/json/document.hpp"
#include "daemon/json/writer.hpp"

namespace askdesk::store {

namespace {

std::optional<core::timestamp> parse_millis(std::string_view text) {
  std::int64_t ms = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return core::from_millis(ms);
}

}  // namespace

std::string attachments_json(const std::vector<core::attachment>& attachments) {
  json::writer w;
  w.start_array();
  for (const auto& a : attachments) {
    w.start_object()
        .field("name", a.name)
        .field("content_type", a.content_type)
        .field("url", a.url);
    if (a.size >= 0) w.field("size", a.size);
    w.end_object();
  }
  w.end_array();
  return w.str();
}

std::string facts_json(const std::map<std::string, std::string>& facts) {
  json::writer w;
  w.start_object();
  for (const auto& [key, value] : facts) w.field(key, value);
  w.end_object();
  return w.str();
}

std::optional<std::map<std::string, std::string>> facts_from_json(std::string_view text) {
  auto doc = json::document::parse(text);
  if (!doc || !doc->root().IsObject()) return std::nullopt;
  std::map<std::string, std::string> facts;
  for (const auto& member : doc->root().GetObject()) {
    if (member.value.IsString()) facts[member.name.GetString()] = member.value.GetString();
  }
  return facts;
}

std::string references_json(const std::vector<core::thread_ref>& references) {
  if (references.empty()) return "";
  json::writer w;
  w.start_array();
  for (const auto& r : references) w.start_array().string(r.header).string(r.key).end_array();
  w.end_array();
  return w.str();
}

std::vector<std::pair<std::string, std::string>> encode_inbound(const core::inbound_message& m) {
  return {
      {"connector", m.connector},
      {"channel", m.channel},
      {"external_id", m.external_id},
      {"thread", m.thread},
      {"references", references_json(m.references)},
      {"from", m.sender_address},
      {"from_name", m.sender_name},
      {"text", m.text},
      {"attachments", attachments_json(m.attachments)},
      {"facts", facts_json(m.facts)},
      {"reply_facts", m.reply_facts.empty() ? std::string() : facts_json(m.reply_facts)},
      {"sent_at", std::to_string(core::to_millis(m.sent_at))},
      {"received_at", std::to_string(core::to_millis(m.received_at))},
      {"team", m.team},
      {"topic", m.topic},
  };
}

core::result<core::inbound_message> decode_inbound(const stream_entry& entry) {
  const auto broken = [&](const std::string& why) {
    return core::error{"invalid", "inbound entry " + entry.id + ": " + why};
  };
  core::inbound_message m;
  m.connector = entry.field("connector");
  m.channel = entry.field("channel");
  m.external_id = entry.field("external_id");
  m.thread = entry.field("thread");
  m.sender_address = entry.field("from");
  m.sender_name = entry.field("from_name");
  m.text = entry.field("text");
  m.team = entry.field("team");
  m.topic = entry.field("topic");
  const auto sent = parse_millis(entry.field("sent_at"));
  const auto received = parse_millis(entry.field("received_at"));
  if (!sent || !received) return broken("sent_at and received_at must be milliseconds");
  m.sent_at = *sent;
  m.received_at = *received;
  if (const auto& text = entry.field("attachments"); !text.empty()) {
    auto doc = json::document::parse(text);
    if (!doc || !doc->root().IsArray()) return broken("attachments is not a JSON array");
    for (const auto& a : doc->root().GetArray()) {
      if (!a.IsObject()) return broken("an attachment is not an object");
      core::attachment att;
      att.name = json::string_member(a, "name");
      att.content_type = json::string_member(a, "content_type");
      att.url = json::string_member(a, "url");
      att.size = json::integer_member(a, "size", -1);
      m.attachments.push_back(std::move(att));
    }
  }
  if (const auto& text = entry.field("references"); !text.empty()) {
    auto doc = json::document::parse(text);
    if (!doc || !doc->root().IsArray()) return broken("references is not a JSON array");
    for (const auto& r : doc->root().GetArray()) {
      if (!r.IsArray() || r.Size() != 2 || !r[0].IsString() || !r[1].IsString()) {
        return broken("a reference is not [header, key]");
      }
      m.references.push_back({r[0].GetString(), r[1].GetString()});
    }
  }
  if (const auto& text = entry.field("facts"); !text.empty()) {
    auto facts = facts_from_json(text);
    if (!facts) return broken("facts is not a JSON object");
    m.facts = std::move(*facts);
  }
  if (const auto& text = entry.field("reply_facts"); !text.empty()) {
    auto facts = facts_from_json(text);
    if (!facts) return broken("reply_facts is not a JSON object");
    m.reply_facts = std::move(*facts);
  }
  if (auto problem = core::check_inbound(m)) return broken(*problem);
  return m;
}

}  // namespace askdesk::store
