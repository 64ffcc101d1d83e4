#include "connectors/webchat/patron_socket.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "daemon/config/team_hours.hpp"
#include "daemon/core/auto_reply.hpp"
#include "daemon/core/text.hpp"
#include "daemon/json/document.hpp"
#include "daemon/net/crypto.hpp"
#include "daemon/store/redis_connection.hpp"
#include "daemon/store/scripts.hpp"

namespace askdesk::connectors {

namespace {

constexpr std::chrono::seconds hello_timeout{10};
constexpr std::size_t max_name_chars = 80;
constexpr std::size_t max_client_id = 64;

frame error_frame(std::string_view code, std::string_view message,
                  std::string_view client_id = {}) {
  json::writer w;
  w.start_object().field("type", "error").field("code", code).field("message", message);
  if (!client_id.empty()) w.field("client_id", client_id);
  w.end_object();
  return make_frame(w);
}

bool valid_client_id(std::string_view id) {
  if (id.empty() || id.size() > max_client_id) return false;
  for (const char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

// "+1 (555) 010-0199" -> "+15550100199" (E.164, as the SMS channel needs it); "" unless a
// "+" and 7 to 15 digits.
std::string normalize_phone(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c >= '0' && c <= '9') {
      out += c;
    } else if (c == '+' && out.empty()) {
      out += c;
    } else if (c != ' ' && c != '-' && c != '.' && c != '(' && c != ')') {
      return "";
    }
  }
  return out.starts_with('+') && out.size() >= 8 && out.size() <= 16 ? out : "";
}

}  // namespace

frame make_frame(const json::writer& w) { return std::make_shared<const std::string>(w.str()); }

// A message as the patron sees it (docs/protocol.md): no notes, no staff user names.
void write_patron_message(json::writer& w, const rapidjson::Value& m, std::string_view address) {
  const std::string_view external_id = string_member(m, "external_id");
  const std::string prefix = std::string(address) + ":";
  w.start_object()
      .field("id", string_member(m, "id"))
      .field("direction", string_member(m, "direction"))
      .field("text", string_member(m, "text"))
      .field("sent_at", string_member(m, "sent_at"));
  if (external_id.starts_with(prefix)) {
    w.field("client_id", external_id.substr(prefix.size()));
  } else {
    w.key("client_id").null();
  }
  const std::string_view author = string_member(m, "author_name");
  if (author.empty()) {
    w.key("author").null();
  } else {
    w.field("author", author);
  }
  w.end_object();
}

void patron_socket::on_open(net::websocket_peer& peer) {
  peer_ = &peer;
  std::weak_ptr<patron_socket> weak = weak_from_this();
  hello_timer_.after(hello_timeout, [weak] {
    if (auto self = weak.lock(); self && self->peer_ && !self->greeted_) {
      self->peer_->close(1008, "no hello");
    }
  });
}

void patron_socket::storage_unavailable() {
  send(error_frame("unavailable", "the chat is unavailable for a moment; reconnecting"));
  if (peer_) peer_->close(1011, "storage unavailable");
}

void patron_socket::on_close() {
  *alive_ = false;
  hello_timer_.cancel();
  if (ready_) owner_.detach(this);
  peer_ = nullptr;
}

void patron_socket::on_message(std::string_view text) {
  auto doc = json::document::parse(text);
  if (!doc || !doc->root().IsObject()) {
    send(error_frame("invalid", "frames must be JSON objects"));
    return;
  }
  const auto& root = doc->root();
  const std::string_view type = string_member(root, "type");
  if (!greeted_) {
    if (type != "hello") {
      send(error_frame("invalid", "the first frame must be a hello"));
      return;
    }
    greeted_ = true;
    hello(root);
    return;
  }
  if (!ready_) {
    send(error_frame("invalid", "wait for the welcome"));
    return;
  }
  if (type == "message") {
    message(root);
  } else if (type == "offline") {
    offline(root);
  } else if (type == "transcript") {
    email_transcript(root);
  } else if (type == "hours") {
    send_hours();
  } else if (type == "typing") {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_typing_ < std::chrono::seconds(1)) return;
    last_typing_ = now;
    const std::string_view args[] = {"", owner_.id(), address_, "patron", name_};
    store::run(owner_.services().redis, owner_.services().scripts, store::script::typing, args,
               [](store::reply) {});
  } else if (type == "profile") {
    const std::string_view name = string_member(root, "name");
    const std::string_view email = string_member(root, "email");
    if (core::count_code_points(name) > max_name_chars ||
        (!email.empty() && !core::plausible_email(email))) {
      send(error_frame("invalid", "a name of at most 80 characters and a valid email, please"));
      return;
    }
    if (!name.empty()) name_ = name;
    if (!email.empty()) email_ = email;
  } else {
    send(error_frame("invalid", "unknown frame type"));
  }
}

void patron_socket::hello(const rapidjson::Value& frame) {
  const auto& services = owner_.services();
  team_ = owner_.team_for(string_member(frame, "team"));
  const std::string_view name = string_member(frame, "name");
  const std::string_view email = string_member(frame, "email");
  if (core::count_code_points(name) <= max_name_chars) name_ = name;
  if (core::plausible_email(email)) email_ = email;
  language_ = core::normalize_language(string_member(frame, "lang")).value_or("");
  const std::string token(string_member(frame, "token"));
  std::string after(string_member(frame, "after"));
  if (after.find_first_not_of("0123456789") != std::string::npos) after.clear();
  const std::string ttl = std::to_string(owner_.settings().session_days * 86400);

  std::weak_ptr<patron_socket> weak = weak_from_this();
  const auto fresh = [weak, ttl] {
    auto self = weak.lock();
    if (!self || !*self->alive_) return;
    const std::string token = net::random_token();
    self->address_ = "w:" + net::random_token().substr(0, 22);
    const std::string key = self->owner_.session_key(token);
    auto& redis = self->owner_.services().redis;
    redis.command({"HSET", key, "address", self->address_, "team", self->team_},
                  [](store::reply) {});
    redis.command({"EXPIRE", key, ttl}, [weak, token](store::reply r) {
      auto self = weak.lock();
      if (!self || !*self->alive_) return;
      if (r.failed()) {
        self->storage_unavailable();
        return;
      }
      self->welcome(token, "");
    });
  };
  if (token.empty() || token.size() > 64) {
    fresh();
    return;
  }
  const std::string key = owner_.session_key(token);
  services.redis.command(
      {"HGET", key, "address"}, [weak, key, token, after, ttl, fresh](store::reply r) {
        auto self = weak.lock();
        if (!self || !*self->alive_) return;
        if (r.failed()) {
          self->storage_unavailable();
          return;
        }
        if (!r.is_string()) {  // forged or expired: a new session, never someone else's
          fresh();
          return;
        }
        self->address_ = r.str();
        self->owner_.services().redis.command({"EXPIRE", key, ttl}, [](store::reply) {});
        self->welcome(token, after);
      });
}

void patron_socket::welcome(const std::string& token, const std::string& after) {
  const auto& services = owner_.services();
  std::weak_ptr<patron_socket> weak = weak_from_this();
  const std::string now = "(" + std::to_string(core::to_millis(services.clock.now()));
  auto online = std::make_shared<std::int64_t>(0);
  services.redis.command({"ZCOUNT", "presence:" + team_, now, "+inf"}, [online](store::reply r) {
    if (r.is_integer()) *online = r.integer();
  });
  const std::string_view args[] = {owner_.id(), address_, after};
  store::run_json(services.redis, services.scripts, store::script::patron_transcript, args,
                  [weak, token, online](core::result<std::string> r) {
                    auto self = weak.lock();
                    if (!self || !*self->alive_) return;
                    if (!r) {
                      self->storage_unavailable();
                      return;
                    }
                    auto doc = json::document::parse(r.value());
                    if (!doc) return;
                    const auto& root = doc->root();
                    const auto* team = self->owner_.services().config.find_team(self->team_);
                    const auto& s = self->owner_.settings();
                    json::writer w;
                    w.start_object()
                        .field("type", "welcome")
                        .field("token", token)
                        .key("team")
                        .start_object()
                        .field("id", self->team_)
                        .field("name", team ? team->name : self->team_)
                        .end_object()
                        .field("online", *online > 0)
                        .field("transcript_by_email", self->transcript_peer() != nullptr)
                        .key("hours");
                    if (team) {
                      config::write_opening(w, *team, self->owner_.services().clock.now(),
                                            self->language_);
                    } else {
                      w.null();
                    }
                    w.key("conversation");
                    const auto c = root.FindMember("conversation");
                    if (c != root.MemberEnd() && c->value.IsObject()) {
                      w.start_object()
                          .field("id", string_member(c->value, "id"))
                          .field("status", string_member(c->value, "status"))
                          .end_object();
                    } else {
                      w.null();
                    }
                    w.key("messages").start_array();
                    const auto messages = root.FindMember("messages");
                    if (messages != root.MemberEnd() && messages->value.IsArray()) {
                      for (const auto& m : messages->value.GetArray()) {
                        write_patron_message(w, m, self->address_);
                      }
                    }
                    w.end_array()
                        .key("limits")
                        .start_object()
                        .field("max_message_chars", s.max_message_chars)
                        .field("messages_per_minute", s.messages_per_minute)
                        .end_object()
                        .end_object();
                    self->ready_ = true;
                    self->online = *online > 0;
                    self->owner_.attach(self.get());
                    self->send(make_frame(w));
                  });
}

std::optional<std::string> patron_socket::accept_text(const rapidjson::Value& frame,
                                                      const std::string& client_id) {
  const auto& s = owner_.settings();
  std::string text(string_member(frame, "text"));
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
    send(error_frame("empty", "the message is empty", client_id));
    return std::nullopt;
  }
  if (core::count_code_points(text) > static_cast<std::size_t>(s.max_message_chars)) {
    send(error_frame(
        "too_long",
        "messages can be at most " + std::to_string(s.max_message_chars) + " characters",
        client_id));
    return std::nullopt;
  }
  const auto now = std::chrono::steady_clock::now();
  while (!recent_.empty() && now - recent_.front() >= std::chrono::minutes(1)) recent_.pop_front();
  if (static_cast<std::int64_t>(recent_.size()) >= s.messages_per_minute) {
    const auto wait = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::minutes(1) -
                                                                       (now - recent_.front()))
                          .count() +
                      1;
    send(error_frame(
        "rate_limited",
        "you are sending messages too fast; try again in " + std::to_string(wait) + " s",
        client_id));
    return std::nullopt;
  }
  recent_.push_back(now);
  return text;
}

void patron_socket::message(const rapidjson::Value& frame) {
  const std::string client_id(string_member(frame, "client_id"));
  if (!valid_client_id(client_id)) {
    send(error_frame("invalid", "client_id must be 1 to 64 letters, digits, - or _"));
    return;
  }
  auto text = accept_text(frame, client_id);
  if (!text) return;
  core::inbound_message m;
  m.connector = owner_.id();
  m.channel = "webchat";
  m.external_id = address_ + ":" + client_id;
  m.thread = address_;
  m.sender_address = address_;
  m.sender_name = name_;
  m.text = std::move(*text);
  m.team = team_;
  if (!email_.empty()) m.facts["email"] = email_;
  json::writer w;
  w.start_object().field("type", "ack").field("client_id", client_id).end_object();
  deliver(std::move(m), client_id, make_frame(w));
}

// The form the widget offers while the team is closed: a question and how to answer it. It
// becomes a conversation on the chosen channel when askdesk has a connector for it (the
// acknowledgement and the replies go out there); otherwise it stays in this chat, with the
// address on the patron's record for staff.
void patron_socket::offline(const rapidjson::Value& frame) {
  const std::string client_id(string_member(frame, "client_id"));
  if (!valid_client_id(client_id)) {
    send(error_frame("invalid", "client_id must be 1 to 64 letters, digits, - or _"));
    return;
  }
  const auto* team = owner_.services().config.find_team(team_);
  if (team && config::opening_at(*team, owner_.services().clock.now()).open) {
    send(error_frame("invalid", "the library is open: write in the chat instead", client_id));
    return;
  }
  const std::string_view reply_by = string_member(frame, "reply_by");
  const std::string_view given = string_member(frame, "address");
  std::string address;
  if (reply_by == "email" && core::plausible_email(given)) {
    address = given;
  } else if (reply_by == "sms") {
    address = normalize_phone(given);
  }
  if (address.empty()) {
    send(error_frame("invalid",
                     reply_by == "sms"
                         ? "please give a mobile number with its country code, e.g. +1 555 010 0199"
                         : "please give an email address, e.g. ada@example.org",
                     client_id));
    return;
  }
  const std::string_view name = string_member(frame, "name");
  if (core::count_code_points(name) > max_name_chars) {
    send(error_frame("invalid", "a name of at most 80 characters, please", client_id));
    return;
  }
  auto text = accept_text(frame, client_id);
  if (!text) return;
  if (!name.empty()) name_ = name;
  if (reply_by == "email") email_ = address;

  core::inbound_message m;
  m.external_id = "form:" + address_ + ":" + client_id;
  m.sender_name = name_;
  m.text = std::move(*text);
  m.team = team_;
  m.facts["offline_form"] = "1";
  m.facts[reply_by == "email" ? "email" : "phone"] = address;
  m.sender_address = address;
  // A form answered on its own channel makes the library text or email an address nobody has
  // checked (SMS pumping): offline_forms_per_hour caps that for the whole widget, and past it
  // a form stays in this chat.
  const connector* peer = peer_for(reply_by);
  const std::int64_t per_hour = owner_.settings().offline_forms_per_hour;
  if (!peer || per_hour == 0) {
    deliver_offline(std::move(m), nullptr, client_id);
    return;
  }
  const std::string key = "offline:hour:" + owner_.id();
  auto& redis = owner_.services().redis;
  redis.command({"SET", key, "0", "PX", "3600000", "NX"}, [](store::reply) {});
  std::weak_ptr<patron_socket> weak = weak_from_this();
  redis.command({"INCR", key}, [weak, m = std::move(m), peer, per_hour,
                                client_id](store::reply count) mutable {
    auto self = weak.lock();
    if (!self || !*self->alive_) return;
    const bool within = count.is_integer() && count.integer() <= per_hour;
    if (!within && count.is_integer()) {
      spdlog::warn(
          "webchat {}: an offline form for {} stays in the chat: offline_forms_per_hour ({}) "
          "reached",
          self->owner_.id(), peer->channel(), per_hour);
    }
    self->deliver_offline(std::move(m), within ? peer : nullptr, client_id);
  });
}

// An offline form's question (its sender_address what the visitor typed): on `peer`'s
// channel, or in this chat when null.
void patron_socket::deliver_offline(core::inbound_message m, const connector* peer,
                                    const std::string& client_id) {
  if (peer) {
    // The address is only what the visitor typed: the question is a conversation of its own
    // (never joined to the thread of whoever owns that address), it may not rename them, and
    // its text is never read as their SMS STOP or START.
    m.connector = peer->id();
    m.channel = std::string(peer->channel());
    m.thread = m.external_id;
  } else {
    m.connector = owner_.id();
    m.channel = "webchat";
    m.thread = address_;
    m.sender_address = address_;
  }
  json::writer w;
  w.start_object()
      .field("type", "offline_ack")
      .field("client_id", client_id)
      .field("channel", m.channel)
      .end_object();
  deliver(std::move(m), client_id, make_frame(w));
}

const connector* patron_socket::peer_for(std::string_view channel) const {
  const auto& peers = owner_.services().peers;
  const auto it = std::find_if(peers.begin(), peers.end(),
                               [&](const auto& c) { return c->channel() == channel; });
  return it == peers.end() ? nullptr : it->get();
}

const connector* patron_socket::transcript_peer() const {
  return owner_.settings().transcripts_per_hour > 0 ? peer_for("email") : nullptr;
}

// "Email me this transcript": the conversation so far goes to the address the patron gives,
// through the email connector (its retries, its bounces). The script keeps the limits: per
// conversation, per address and day, and transcripts_per_hour in all.
void patron_socket::email_transcript(const rapidjson::Value& frame) {
  const std::string client_id(string_member(frame, "client_id"));
  if (!valid_client_id(client_id)) {
    send(error_frame("invalid", "client_id must be 1 to 64 letters, digits, - or _"));
    return;
  }
  const std::string_view address = string_member(frame, "address");
  if (!core::plausible_email(address)) {
    send(error_frame("invalid", "please give an email address, e.g. ada@example.org", client_id));
    return;
  }
  const connector* mail = transcript_peer();
  if (!mail) {
    send(error_frame("unavailable", "this library does not send email from askdesk", client_id));
    return;
  }
  const auto& services = owner_.services();
  const auto* team = services.config.find_team(team_);
  const std::string library = team ? team->name : team_;
  const std::string now = std::to_string(core::to_millis(services.clock.now()));
  const std::string subject = "Your conversation with " + library;
  const std::string intro = "Here is your conversation with " + library + ", as you asked.";
  const std::string per_hour = std::to_string(owner_.settings().transcripts_per_hour);
  const std::string_view args[] = {now,     owner_.id(), address_, mail->id(),
                                   address, subject,     intro,    per_hour};
  std::weak_ptr<patron_socket> weak = weak_from_this();
  store::run_json(services.redis, services.scripts, store::script::email_transcript, args,
                  [weak, client_id, to = std::string(address)](core::result<std::string> r) {
                    auto self = weak.lock();
                    if (!self || !*self->alive_) return;
                    if (!r) {
                      self->send(error_frame(r.err().code, r.err().message, client_id));
                      return;
                    }
                    json::writer w;
                    w.start_object()
                        .field("type", "transcript_ack")
                        .field("client_id", client_id)
                        .field("address", to)
                        .end_object();
                    self->send(make_frame(w));
                  });
}

void patron_socket::deliver(core::inbound_message m, const std::string& client_id, frame ok) {
  const auto& services = owner_.services();
  m.sent_at = services.clock.now();
  m.received_at = m.sent_at;
  if (!language_.empty()) m.facts[std::string(core::fact_language)] = language_;
  std::weak_ptr<patron_socket> weak = weak_from_this();
  services.sink.deliver(std::move(m), [weak, client_id, ok](core::result<delivery> r) {
    auto self = weak.lock();
    if (!self) return;
    self->owner_.record(r);
    if (!*self->alive_) return;
    if (!r) {
      const bool later = r.err().code != "invalid";
      self->send(error_frame(
          later ? "unavailable" : "invalid",
          later ? "not sent: the chat is unavailable for a moment; it will retry" : r.err().message,
          client_id));
      return;
    }
    self->send(ok);
  });
}

void patron_socket::send_hours() {
  const auto* team = owner_.services().config.find_team(team_);
  if (!team) return;
  json::writer w;
  w.start_object().field("type", "hours").key("hours");
  config::write_opening(w, *team, owner_.services().clock.now(), language_);
  w.end_object();
  send(make_frame(w));
}

}  // namespace askdesk::connectors
