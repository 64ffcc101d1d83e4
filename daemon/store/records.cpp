#include "daemon/store/records.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <vector>

#include "daemon/core/message.hpp"
#include "daemon/core/time.hpp"

namespace askdesk::store {

namespace {

// One section of a record: the values of its keys that share a prefix.
class section {
 public:
  section(std::span<const field_pair> pairs, std::string_view prefix)
      : pairs_(pairs), prefix_(prefix) {}

  bool present() const {
    for (const auto& [k, v] : pairs_) {
      if (k.starts_with(prefix_)) return true;
    }
    return false;
  }

  // The value of `name` ("" when absent).
  std::string_view operator[](std::string_view name) const {
    for (const auto& [k, v] : pairs_) {
      if (k.size() == prefix_.size() + name.size() && k.starts_with(prefix_) &&
          k.substr(prefix_.size()) == name) {
        return v;
      }
    }
    return {};
  }

 private:
  std::span<const field_pair> pairs_;
  std::string_view prefix_;
};

// A number as Lua's scripts wrote it: whole numbers without a fraction, 0 when not a number.
void write_number(json::writer& w, std::string_view text) {
  double v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || !std::isfinite(v)) v = 0;
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    w.integer(static_cast<std::int64_t>(v));
  } else {
    w.number(v);
  }
}

// "" as null.
void write_optional(json::writer& w, std::string_view key, std::string_view value) {
  w.key(key);
  value.empty() ? w.null() : w.string(value);
}

void write_time_field(json::writer& w, std::string_view key, std::string_view ms) {
  w.key(key);
  write_time(w, ms);
}

// A record's pairs with string values, and its nested lists (in answers only).
struct record_view {
  std::vector<field_pair> pairs;
  std::vector<std::pair<std::string_view, const reply*>> lists;
};

record_view view_of(const reply& r) {
  record_view v;
  for (std::size_t i = 0; i + 1 < r.size(); i += 2) {
    if (r[i + 1].is_array()) {
      v.lists.emplace_back(r[i].str(), &r[i + 1]);
    } else {
      v.pairs.emplace_back(r[i].str(), r[i + 1].str());
    }
  }
  return v;
}

// True when record `v` has its own member `name` (j.<name>, s.<name> or a list).
bool has_member(const record_view* v, std::string_view name) {
  if (v == nullptr) return false;
  const auto named = [&](std::string_view key) {
    const auto dot = key.find('.');
    return dot != std::string_view::npos && key.substr(dot + 1) == name &&
           (key.starts_with("j.") || key.starts_with("s.") || key.starts_with("cs.") ||
            key.starts_with("ms.") || key.starts_with("rs."));
  };
  for (const auto& [k, value] : v->pairs) {
    if (named(k)) return true;
  }
  for (const auto& [k, list] : v->lists) {
    if (named(k)) return true;
  }
  return false;
}

// Opens the conversation's object and writes its members, except those record `own` gives
// itself (a conversation read whole: its messages, its patron in full).
void write_conversation(json::writer& w, const section& c,
                        const std::function<bool(std::string_view)>& replaced = {}) {
  const auto own = [&](std::string_view name) { return replaced && replaced(name); };
  w.start_object()
      .field("id", c["id"])
      .field("channel", c["channel"])
      .field("connector", c["connector"])
      .field("status", c["status"])
      .field("team", c["team"]);
  write_optional(w, "topic", c["topic"]);
  write_optional(w, "assignee", c["assignee"]);
  if (!own("patron")) {
    w.key("patron").start_object().field("id", c["patron"]);
    write_optional(w, "name", c["patron_name"]);
    w.field("address", c["address"]).end_object();
  }
  write_time_field(w, "created_at", c["created_at"]);
  write_time_field(w, "updated_at", c["updated_at"]);
  write_time_field(w, "waiting_since", c["waiting_since"]);
  write_time_field(w, "closed_at", c["closed_at"]);
  if (!own("messages")) {
    w.key("messages");
    write_number(w, c["messages"]);
  }
  const std::string_view tags = c["tags"];
  w.key("tags").raw(tags.empty() ? "[]" : tags);
  w.key("last_message").start_object().field("text", c["preview"]);
  write_optional(w, "direction", c["last_direction"]);
  write_time_field(w, "sent_at", c["last_at"]);
  w.end_object();
  w.key("priority");
  write_number(w, c["priority"]);
  w.field("after_hours", c["after_hours"] == "1");
  w.key("csat");  // the patron's satisfaction, asked on closing
  if (c["csat"].empty()) {
    w.null();
  } else {
    w.start_object().key("score");
    write_number(w, c["csat"]);
    write_optional(w, "comment", c["csat_comment"]);
    w.end_object();
  }
  w.key("read_level");  // the READ scale, given on closing
  if (c["read_level"].empty()) {
    w.null();
  } else {
    write_number(w, c["read_level"]);
  }
  w.key("topic_reason");
  if (c["topic_source"].empty()) {
    w.null();
  } else {
    w.start_object().field("source", c["topic_source"]).key("confidence");
    write_number(w, c["topic_confidence"]);
    w.field("why", c["topic_why"]).end_object();
  }
}

void write_message(json::writer& w, const section& m) {
  w.start_object()
      .field("id", m["id"])
      .field("conversation", m["conversation"])
      .field("direction", m["direction"])
      .field("text", m["text"])
      .field("channel", m["channel"]);
  write_time_field(w, "sent_at", m["sent_at"]);
  write_time_field(w, "received_at", m["received_at"]);
  w.field("status", m["status"]);
  for (std::string_view name : {"author", "author_name", "sender", "sender_name", "external_id"}) {
    write_optional(w, name, m[name]);
  }
  const std::string_view attachments = m["attachments"];
  w.key("attachments").raw(attachments.empty() ? "[]" : attachments);
  write_optional(w, "error", m["error"]);
  write_optional(w, "error_code", m["error_code"]);
  if (!m["facts"].empty()) w.key("facts").raw(m["facts"]);
  write_optional(w, "joined_by", m["joined_by"]);
  w.end_object();
}

void write_view(json::writer& w, const record_view& v);

// The members that are not sections: j., s. and the lists.
void write_members(json::writer& w, const record_view& v) {
  for (const auto& [k, value] : v.pairs) {
    if (k.starts_with("j.")) {
      w.key(k.substr(2)).raw(value);
    } else if (k.starts_with("s.")) {
      w.field(k.substr(2), value);
    }
  }
  for (const auto& [k, list] : v.lists) {
    const auto dot = k.find('.');
    if (dot == std::string_view::npos) continue;
    const std::string_view kind = k.substr(0, dot);
    w.key(k.substr(dot + 1)).start_array();
    for (const reply& element : list->elements()) {
      const record_view item = view_of(element);
      if (kind == "cs") {
        write_conversation(w, section(item.pairs, "c."));
        w.end_object();
      } else if (kind == "ms") {
        write_message(w, section(item.pairs, "m."));
      } else {
        write_view(w, item);
      }
    }
    w.end_array();
  }
}

void write_view(json::writer& w, const record_view& v) {
  const section conversation(v.pairs, "c.");
  if (section(v.pairs, "root").present()) {
    write_conversation(w, conversation,
                       [&v](std::string_view name) { return has_member(&v, name); });
    write_members(w, v);
    w.end_object();
    return;
  }
  w.start_object();
  if (conversation.present()) {
    w.key("conversation");
    write_conversation(w, conversation);
    w.end_object();
  }
  for (const auto& [prefix, name] : {std::pair{"m.", "message"}, std::pair{"post.", "post"}}) {
    const section message(v.pairs, prefix);
    if (message.present()) {
      w.key(name);
      write_message(w, message);
    }
  }
  write_members(w, v);
  w.end_object();
}

}  // namespace

void write_time(json::writer& w, std::string_view ms) {
  std::int64_t n = 0;
  const auto [end, ec] = std::from_chars(ms.data(), ms.data() + ms.size(), n);
  if (ms.empty() || ec != std::errc{}) {
    w.null();
    return;
  }
  w.string(core::format_iso8601(core::timestamp{std::chrono::milliseconds(n)}));
}

void write_conversation_json(json::writer& w, std::span<const field_pair> fields,
                             std::string_view tags_json) {
  write_conversation_json(w, fields, tags_json, {}, {});
}

void write_conversation_json(json::writer& w, std::span<const field_pair> fields,
                             std::string_view tags_json,
                             std::initializer_list<std::string_view> replaced,
                             const std::function<void(json::writer&)>& more) {
  std::vector<field_pair> all(fields.begin(), fields.end());
  all.emplace_back("tags", tags_json);
  const std::vector<std::string_view> names(replaced);
  write_conversation(w, section(all, ""), [&names](std::string_view name) {
    return std::find(names.begin(), names.end(), name) != names.end();
  });
  if (more) more(w);
  w.end_object();
}

void write_message_json(json::writer& w, std::span<const field_pair> fields) {
  write_message(w, section(fields, ""));
}

std::string record_json(std::span<const field_pair> pairs) {
  json::writer w;
  write_view(w, record_view{{pairs.begin(), pairs.end()}, {}});
  return w.str();
}

std::string record_json(const reply& r) {
  json::writer w;
  write_view(w, view_of(r));
  return w.str();
}

std::string record_fields_lua() {
  std::string out;
  const auto list = [&](std::string_view name, std::string_view prefix, const auto& fields) {
    out += "local " + std::string(name) + ", " + std::string(name) + "_KEY = {";
    for (std::string_view f : fields) out += "'" + std::string(f) + "', ";
    out += "}, {";
    for (std::string_view f : fields) {
      out += "['" + std::string(f) + "'] = '" + std::string(prefix) + std::string(f) + "', ";
    }
    out += "}\n";
  };
  list("CONVERSATION_FIELDS", "c.", conversation_fields);
  list("MESSAGE_FIELDS", "m.", message_fields);
  list("PATRON_CONTACT_FIELDS", "", core::patron_contact_fields);
  return out;
}

}  // namespace askdesk::store
