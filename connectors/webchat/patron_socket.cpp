// The /ws/patron protocol itself (docs/protocol.md): the hello and its session, the welcome,
// messages, typing, the profile and the hours; the frame helpers the other two files of
// patron_socket share. A session is a record of this connector named by the SHA-256 of its
// token, so a stolen copy of the records gives no working token; a token that names no record
// (forged or expired) gets a fresh session, never someone else's. Every reply from the
// context may come back after the socket closed: handlers hold the socket weakly and check
// `alive_` before touching it.
#include "connectors/webchat/patron_socket.hpp"

#include "daemon/config/team_hours.hpp"
#include "daemon/core/auto_reply.hpp"
#include "daemon/core/text.hpp"
#include "daemon/net/crypto.hpp"

namespace askdesk::connectors {

namespace {

constexpr std::chrono::seconds hello_timeout{10};
constexpr std::size_t max_client_id = 64;
constexpr std::size_t max_token = 64;

bool valid_client_id(std::string_view id) {
  if (id.empty() || id.size() > max_client_id) return false;
  for (const char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

frame make_frame(const json::writer& w) { return std::make_shared<const std::string>(w.str()); }

frame error_frame(std::string_view code, std::string_view message, std::string_view client_id) {
  json::writer w;
  w.start_object().field("type", "error").field("code", code).field("message", message);
  if (!client_id.empty()) w.field("client_id", client_id);
  w.end_object();
  return make_frame(w);
}

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
  // The satisfaction question askdesk asks on closing: the widget offers 1-5 as buttons.
  if (const auto facts = m.FindMember("facts");
      facts != m.MemberEnd() && facts->value.IsObject() &&
      string_member(facts->value, "csat_question") == "1") {
    w.field("asks_rating", true);
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
    typing();
  } else if (type == "profile") {
    profile(root);
  } else if (type == "forget") {
    forget();
  } else {
    send(error_frame("invalid", "unknown frame type"));
  }
}

void patron_socket::hello(const rapidjson::Value& frame) {
  team_ = owner_.team_for(string_member(frame, "team"));
  const std::string_view name = string_member(frame, "name");
  const std::string_view email = string_member(frame, "email");
  if (core::count_code_points(name) <= max_name_chars) name_ = name;
  if (core::plausible_email(email)) email_ = email;
  language_ = core::normalize_language(string_member(frame, "lang")).value_or("");
  const std::string token(string_member(frame, "token"));
  std::string after(string_member(frame, "after"));
  if (after.find_first_not_of("0123456789") != std::string::npos) after.clear();
  if (token.empty() || token.size() > max_token) {
    new_session();
    return;
  }
  std::weak_ptr<patron_socket> weak = weak_from_this();
  owner_.context().load(net::sha256_hex(token), [weak, token, after](core::result<state_record> r) {
    auto self = weak.lock();
    if (!self || !*self->alive_) return;
    if (!r) {
      self->storage_unavailable();
      return;
    }
    const auto address = r->find("address");
    if (address == r->end() || address->second.empty()) {
      self->new_session();  // forged or expired
      return;
    }
    self->address_ = address->second;
    self->open_session(token, std::move(*r), after);
  });
}

// "End and forget this chat" (docs/privacy.md): the conversation ends and the patron is erased
// now; their session goes with them and a new one begins (a new welcome).
void patron_socket::forget() {
  std::weak_ptr<patron_socket> weak = weak_from_this();
  owner_.context().forget(address_, [weak](core::status done) {
    auto self = weak.lock();
    if (!self || !*self->alive_) return;
    if (!done) {
      self->send(error_frame(done.err().code, done.err().message));
      return;
    }
    self->owner_.context().erase(self->session_, [](core::status) {});
    json::writer w;
    w.start_object().field("type", "forgotten").end_object();
    self->send(make_frame(w));
    self->name_.clear();
    self->email_.clear();
    self->new_session();
  });
}

void patron_socket::new_session() {
  address_ = "w:" + net::random_token().substr(0, 22);
  open_session(net::random_token(), {{"address", address_}, {"team", team_}}, "");
}

void patron_socket::open_session(const std::string& token, state_record record,
                                 const std::string& after) {
  const std::chrono::seconds ttl = std::chrono::days(owner_.settings().session_days);
  session_ = net::sha256_hex(token);
  std::weak_ptr<patron_socket> weak = weak_from_this();
  owner_.context().save(session_, std::move(record), ttl, [weak, token, after](core::status saved) {
    auto self = weak.lock();
    if (!self || !*self->alive_) return;
    if (!saved) {
      self->storage_unavailable();
      return;
    }
    self->welcome(token, after);
  });
}

void patron_socket::welcome(const std::string& token, const std::string& after) {
  // Both questions go out at once; their answers may come back in either order.
  struct answers {
    std::optional<bool> online;
    std::optional<core::result<std::string>> transcript;
  };
  auto got = std::make_shared<answers>();
  std::weak_ptr<patron_socket> weak = weak_from_this();
  const auto when_both = [weak, token, got] {
    if (!got->online || !got->transcript) return;
    auto self = weak.lock();
    if (!self || !*self->alive_) return;
    if (!*got->transcript) {
      self->storage_unavailable();
      return;
    }
    self->send_welcome(token, *got->online, got->transcript->value());
  };
  auto& context = owner_.context();
  context.team_available(team_, [got, when_both](core::result<bool> r) {
    got->online = r && *r;  // not knowing is saying no one is there
    when_both();
  });
  context.read_transcript(address_, after, [got, when_both](core::result<std::string> r) {
    got->transcript = std::move(r);
    when_both();
  });
}

void patron_socket::send_welcome(const std::string& token, bool staff_online,
                                 const std::string& transcript) {
  auto doc = json::document::parse(transcript);
  if (!doc) return;
  const auto& root = doc->root();
  const auto& context = owner_.context();
  const auto* team = context.config().find_team(team_);
  const auto& s = owner_.settings();
  json::writer w;
  w.start_object()
      .field("type", "welcome")
      .field("token", token)
      .key("team")
      .start_object()
      .field("id", team_)
      .field("name", team ? team->name : team_)
      .end_object()
      .field("online", staff_online)
      .field("transcript_by_email", transcripts_by_email())
      .key("hours");
  if (team) {
    config::write_opening(w, *team, context.clock().now(), language_);
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
    for (const auto& m : messages->value.GetArray()) write_patron_message(w, m, address_);
  }
  w.end_array()
      .key("limits")
      .start_object()
      .field("max_message_chars", s.max_message_chars)
      .field("messages_per_minute", s.messages_per_minute)
      .end_object()
      .end_object();
  ready_ = true;
  online = staff_online;
  owner_.attach(this);
  send(make_frame(w));
}

std::optional<std::string> patron_socket::client_id_of(const rapidjson::Value& frame) {
  std::string client_id(string_member(frame, "client_id"));
  if (!valid_client_id(client_id)) {
    send(error_frame("invalid", "client_id must be 1 to 64 letters, digits, - or _"));
    return std::nullopt;
  }
  return client_id;
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
  const auto client_id = client_id_of(frame);
  if (!client_id) return;
  auto text = accept_text(frame, *client_id);
  if (!text) return;
  core::inbound_message m;
  m.connector = owner_.id();
  m.channel = "webchat";
  m.external_id = address_ + ":" + *client_id;
  m.thread = address_;
  m.sender_address = address_;
  m.sender_name = name_;
  m.text = std::move(*text);
  m.team = team_;
  if (!email_.empty()) m.facts["email"] = email_;
  json::writer w;
  w.start_object().field("type", "ack").field("client_id", *client_id).end_object();
  deliver(std::move(m), *client_id, make_frame(w));
}

void patron_socket::typing() {
  const auto now = std::chrono::steady_clock::now();
  if (now - last_typing_ < std::chrono::seconds(1)) return;
  last_typing_ = now;
  owner_.context().report_typing(address_, name_, [](core::status) {});  // best effort
}

void patron_socket::profile(const rapidjson::Value& frame) {
  const std::string_view name = string_member(frame, "name");
  const std::string_view email = string_member(frame, "email");
  if (core::count_code_points(name) > max_name_chars ||
      (!email.empty() && !core::plausible_email(email))) {
    send(error_frame("invalid", "a name of at most 80 characters and a valid email, please"));
    return;
  }
  if (!name.empty()) name_ = name;
  if (!email.empty()) email_ = email;
}

void patron_socket::deliver(core::inbound_message m, const std::string& client_id, frame ok,
                            std::string_view elsewhere) {
  auto& context = owner_.context();
  m.sent_at = context.clock().now();
  m.received_at = m.sent_at;
  if (!language_.empty()) m.facts[std::string(core::fact_language)] = language_;
  std::weak_ptr<patron_socket> weak = weak_from_this();
  auto stored = [weak, client_id, ok](core::result<delivery> r) {
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
  };
  if (elsewhere.empty()) {
    context.deliver(std::move(m), std::move(stored));
  } else {
    context.deliver_for(elsewhere, std::move(m), std::move(stored));
  }
}

void patron_socket::send_hours() {
  const auto& context = owner_.context();
  const auto* team = context.config().find_team(team_);
  if (!team) return;
  json::writer w;
  w.start_object().field("type", "hours").key("hours");
  config::write_opening(w, *team, context.clock().now(), language_);
  w.end_object();
  send(make_frame(w));
}

}  // namespace askdesk::connectors
