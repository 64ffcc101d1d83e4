// The web chat connector: the /ws/patron route, the registry of open patron sockets by
// address, and the fan-out of its conversations' events to them (patron_socket does the
// protocol). Events come from the context already narrowed to this connector's
// conversations and to presence, on every daemon, so the registry only has to find the
// sockets of one address. Presence also expires silently (a daemon that died without saying
// its staff left), so the connector asks now and then as well.
#include "connectors/webchat/webchat.hpp"

#include <unordered_map>
#include <unordered_set>

#include "connectors/webchat/patron_socket.hpp"
#include "daemon/json/document.hpp"
#include "daemon/json/writer.hpp"
#include "daemon/net/timer.hpp"

namespace askdesk::connectors {

namespace {

constexpr std::chrono::seconds presence_check{15};

core::channel_traits webchat_traits() {
  core::channel_traits t;
  t.channel = "webchat";
  t.display_name = "Web chat";
  t.unit = core::length_unit::characters;
  t.max_length = 4000;
  t.public_replies = false;
  t.delivery_reports = false;
  t.address_is_personal = false;  // "w:<random>" means nothing to staff
  return t;
}

class webchat_connector final : public connector, public patron_socket_owner {
 public:
  webchat_connector(const webchat_settings& settings, connector_context& context)
      : settings_(settings), context_(context), presence_timer_(context.io()) {
    context.metrics().declare_gauge("askdesk_webchat_sockets", "Open patron web chat sockets.");
    context.add_websocket(
        "/ws/patron",
        [this](const net::http_request& r, std::function<void(net::websocket_decision)> decide) {
          const std::string_view origin = r.header("origin");
          if (!context_.config().http.origin_allowed(origin)) {
            decide({nullptr, net::http_response::error(
                                 403, "origin_not_allowed",
                                 "web chat from origin '" + std::string(origin) +
                                     "' is not allowed (add it to http.allowed_origins)")});
            return;
          }
          decide(
              {std::make_unique<handler_box>(std::make_shared<patron_socket>(*this, context_.io())),
               {}});
        },
        net::websocket_limits{.max_message_bytes = 16 * 1024, .max_queued_bytes = 1024 * 1024});
  }

  const std::string& id() const override { return settings_.id; }
  std::string_view type() const override { return "webchat"; }
  const core::channel_traits& traits() const override { return traits_; }

  void start() override {
    started_ = std::make_shared<bool>(true);
    subscription_ = context_.follow([this](const conversation_event& e) { on_event(e); });
    presence_timer_.after(presence_check, [this] { check_presence(); });
  }

  void stop() override {
    started_.reset();
    context_.unfollow(subscription_);
    presence_timer_.cancel();
  }

  // A reply is part of the transcript as soon as it is stored; on_event pushes it to the
  // patron's open sockets, and a widget that is away reads it when it comes back.
  void send(const outbound_message&, std::function<void(send_result)> done) override {
    health_.last_success = context_.clock().now();
    done(send_result::sent());
  }

  connector_health health() const override { return health_; }

  const webchat_settings& settings() const override { return settings_; }
  connector_context& context() const override { return context_; }

  void attach(patron_socket* s) override {
    sockets_[s->address()].insert(s);
    context_.metrics().set("askdesk_webchat_sockets", {}, static_cast<double>(++open_));
  }
  void detach(patron_socket* s) override {
    const auto it = sockets_.find(s->address());
    if (it == sockets_.end() || it->second.erase(s) == 0) return;
    if (it->second.empty()) sockets_.erase(it);
    context_.metrics().set("askdesk_webchat_sockets", {}, static_cast<double>(--open_));
  }

  const std::string& team_for(std::string_view wanted) const override {
    const auto& config = context_.config();
    const auto* t = config.find_team(wanted);
    return t ? t->id : config.teams.front().id;
  }

  void record(const core::result<delivery>& r) override {
    if (r) {
      health_.last_success = context_.clock().now();
    } else {
      health_.last_error = r.err().message;
      health_.last_error_at = context_.clock().now();
    }
  }

 private:
  // The connection owns a handler; the socket's state is shared with its async callbacks.
  class handler_box final : public net::websocket_handler {
   public:
    explicit handler_box(std::shared_ptr<patron_socket> s) : socket_(std::move(s)) {}
    void on_open(net::websocket_peer& peer) override { socket_->on_open(peer); }
    void on_message(std::string_view text) override { socket_->on_message(text); }
    void on_close() override { socket_->on_close(); }

   private:
    std::shared_ptr<patron_socket> socket_;
  };

  void on_event(const conversation_event& e) {
    if (sockets_.empty()) return;
    if (e.type == "presence.updated") {
      on_presence(e);
      return;
    }
    if (e.type != "message.created" && e.type != "conversation.updated" && e.type != "typing")
      return;
    auto doc = json::document::parse(e.data);
    if (!doc || !doc->root().IsObject()) return;
    const auto& data = doc->root();
    std::string_view address = string_member(data, "address");
    const auto conversation = data.FindMember("conversation");
    const bool has_conversation =
        conversation != data.MemberEnd() && conversation->value.IsObject();
    if (has_conversation) {
      const auto patron = conversation->value.FindMember("patron");
      if (patron != conversation->value.MemberEnd())
        address = string_member(patron->value, "address");
    }
    const auto it = sockets_.find(std::string(address));
    if (it == sockets_.end()) return;

    json::writer w;
    if (e.type == "message.created") {
      const auto m = data.FindMember("message");
      if (m == data.MemberEnd() || string_member(m->value, "direction") == "note") return;
      w.start_object().field("type", "message").key("message");
      write_patron_message(w, m->value, address);
      w.end_object();
    } else if (e.type == "conversation.updated") {
      if (!has_conversation) return;
      w.start_object()
          .field("type", "conversation")
          .key("conversation")
          .start_object()
          .field("id", string_member(conversation->value, "id"))
          .field("status", string_member(conversation->value, "status"))
          .end_object()
          .end_object();
    } else {
      if (string_member(data, "who") != "staff") return;
      w.start_object()
          .field("type", "typing")
          .field("name", string_member(data, "name"))
          .end_object();
    }
    const frame f = make_frame(w);
    for (auto* s : it->second) s->send(f);
  }

  void on_presence(const conversation_event& e) {
    if (auto doc = json::document::parse(e.data)) {
      notify_presence(e.team, json::integer_member(doc->root(), "online") > 0);
    }
  }

  // Tells the team's patrons whether a librarian is online, when that changed for them.
  void notify_presence(std::string_view team, bool online) {
    json::writer w;
    w.start_object().field("type", "presence").field("online", online).end_object();
    const frame f = make_frame(w);
    for (auto& [address, set] : sockets_) {
      for (auto* s : set) {
        if (s->team() != team || s->online == online) continue;
        s->online = online;
        s->send(f);
      }
    }
  }

  // Staff sockets' presence also expires silently (a daemon that died); look now and then.
  void check_presence() {
    presence_timer_.after(presence_check, [this] { check_presence(); });
    std::unordered_set<std::string> teams;
    for (auto& [address, set] : sockets_) {
      for (auto* s : set) teams.insert(s->team());
    }
    for (const auto& team : teams) {
      context_.team_available(team, [this, started = std::weak_ptr<bool>(started_),
                                     team](core::result<bool> available) {
        if (started.expired() || !available) return;  // stopped, or not known now
        notify_presence(team, *available);
      });
    }
  }

  const webchat_settings settings_;
  connector_context& context_;
  const core::channel_traits traits_ = webchat_traits();
  std::unordered_map<std::string, std::unordered_set<patron_socket*>> sockets_;
  std::uint64_t subscription_ = 0;
  std::int64_t open_ = 0;
  net::timer presence_timer_;
  // Held from start() to stop(); answers that come back later hold it weakly and find it gone.
  std::shared_ptr<bool> started_;
  connector_health health_;
};

class webchat_factory final : public connector_factory {
 public:
  std::string_view type() const override { return "webchat"; }

  std::unique_ptr<connector_settings> parse(json::object_reader& block) const override {
    auto s = std::make_unique<webchat_settings>();
    s->max_message_chars = block.integer("max_message_chars", s->max_message_chars, 1, 20000);
    s->messages_per_minute = block.integer("messages_per_minute", s->messages_per_minute, 1, 600);
    s->transcripts_per_hour =
        block.integer("transcripts_per_hour", s->transcripts_per_hour, 0, 100000);
    s->offline_forms_per_hour =
        block.integer("offline_forms_per_hour", s->offline_forms_per_hour, 0, 100000);
    s->session_days = block.integer("session_days", s->session_days, 1, 3650);
    return s;
  }

  std::unique_ptr<connector> create(std::unique_ptr<connector_settings> settings,
                                    connector_context& context) const override {
    return std::make_unique<webchat_connector>(static_cast<const webchat_settings&>(*settings),
                                               context);
  }
};

}  // namespace

std::unique_ptr<connector_factory> make_webchat_factory() {
  return std::make_unique<webchat_factory>();
}

}  // namespace askdesk::connectors
