#include "daemon/net/staff_socket.hpp"

#include <deque>

#include <spdlog/spdlog.h>

#include "daemon/json/document.hpp"
#include "daemon/json/writer.hpp"
#include "daemon/net/crypto.hpp"
#include "daemon/net/timer.hpp"
#include "daemon/store/calls.hpp"
#include "daemon/store/streams.hpp"

namespace askdesk::net {

namespace {

constexpr std::size_t max_catch_up = 5000;  // more missed events than this: reload instead
constexpr std::chrono::seconds presence_refresh{30};
constexpr std::chrono::seconds presence_expiry{90};

std::shared_ptr<const std::string> text_frame(std::string s) {
  return std::make_shared<const std::string>(std::move(s));
}

// Everything the socket's async work needs; it outlives the handler while callbacks hold it.
struct session : std::enable_shared_from_this<session> {
  session(staff_socket_parts p, principal w, std::string a)
      : parts(p),
        who(std::move(w)),
        after(std::move(a)),
        presence_timer(p.io),
        member(random_token()) {}

  staff_socket_parts parts;
  principal who;
  std::string after;  // resume point; "" for live only
  websocket_peer* peer = nullptr;
  bool open = false;
  bool catching_up = false;
  std::deque<store::shared_event> held;  // live events that arrived during the catch-up
  std::string last_sent = "0-0";
  std::uint64_t subscription = 0;
  timer presence_timer;
  const std::string member;  // this socket in the presence sets
  std::chrono::steady_clock::time_point last_typing{};

  bool visible(const store::event& e) const { return e.team.empty() || who.in_team(e.team); }

  void deliver(const store::shared_event& e) {
    if (!open || store::compare_stream_ids(e->id, last_sent) <= 0) return;
    last_sent = e->id;
    if (visible(*e)) peer->send(staff_frame(*e));
  }

  void start() {
    open = true;
    json::writer w;
    w.start_object()
        .field("type", "hello")
        .key("user")
        .raw(who.json())
        .field("last_event", parts.events.last_id())
        .end_object();
    peer->send(text_frame(w.str()));
    std::weak_ptr<session> weak = weak_from_this();
    subscription = parts.events.subscribe([weak](const store::shared_event& e) {
      auto self = weak.lock();
      if (!self) return;
      if (self->catching_up) {
        self->held.push_back(e);
      } else {
        self->deliver(e);
      }
    });
    presence("join");
    if (after.empty()) {
      last_sent = parts.events.last_id();
      return;
    }
    catching_up = true;
    parts.events.read_after(after, max_catch_up, [weak](core::result<store::catch_up> r) {
      auto self = weak.lock();
      if (!self || !self->open) return;
      self->catching_up = false;
      if (!r) {
        if (r.err().code == "invalid") {
          self->peer->close(1008, "after is not an event id");
          return;
        }
        self->peer->send(text_frame(R"({"type":"reset"})"));
      } else if (r->gap) {
        self->peer->send(text_frame(R"({"type":"reset"})"));
      } else {
        self->last_sent = self->after;
        for (const auto& e : r->events) self->deliver(e);
      }
      while (!self->held.empty()) {
        self->deliver(self->held.front());
        self->held.pop_front();
      }
    });
  }

  void presence(std::string_view op) {
    const auto now = core::to_millis(parts.clock.now());
    const std::string at = std::to_string(now);
    const std::string expiry =
        std::to_string(now + std::chrono::milliseconds(presence_expiry).count());
    store::run(parts.redis, parts.scripts,
               store::calls::make(store::calls::presence{.now = at,
                                                         .expiry = expiry,
                                                         .member = member,
                                                         .op = std::string(op),
                                                         .user = who.user.name,
                                                         .teams = who.user.teams}),
               [](store::reply) {});
    if (op == "leave") return;
    std::weak_ptr<session> weak = weak_from_this();
    presence_timer.after(presence_refresh, [weak] {
      if (auto self = weak.lock(); self && self->open) self->presence("refresh");
    });
  }

  void on_message(std::string_view text) {
    auto doc = json::document::parse(text);
    const auto error = [this](std::string_view message) {
      json::writer w;
      w.start_object()
          .field("type", "error")
          .field("code", "invalid")
          .field("message", message)
          .end_object();
      peer->send(text_frame(w.str()));
    };
    if (!doc || !doc->root().IsObject()) {
      error("frames must be JSON objects");
      return;
    }
    const auto& root = doc->root();
    const std::string_view type = json::string_member(root, "type");
    if (type.empty()) {
      error("a frame needs a type");
      return;
    }
    if (type != "typing") {
      error("unknown frame type");
      return;
    }
    const std::string id(json::string_member(root, "conversation"));
    if (id.empty()) {
      error("typing needs a conversation");
      return;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now - last_typing < std::chrono::seconds(1)) return;  // at most one a second
    last_typing = now;
    store::run(parts.redis, parts.scripts,
               store::calls::make(
                   store::calls::typing{.id = id, .who = "staff", .name = who.user.shown_name()}),
               [](store::reply) {});
  }

  void close() {
    if (!open) return;
    open = false;
    parts.events.unsubscribe(subscription);
    presence_timer.cancel();
    presence("leave");
    peer = nullptr;
  }
};

class handler final : public websocket_handler {
 public:
  explicit handler(std::shared_ptr<session> s) : session_(std::move(s)) {}
  void on_open(websocket_peer& peer) override {
    session_->peer = &peer;
    session_->start();
  }
  void on_message(std::string_view text) override { session_->on_message(text); }
  void on_close() override { session_->close(); }

 private:
  std::shared_ptr<session> session_;
};

}  // namespace

std::shared_ptr<const std::string> staff_frame(const store::event& e) {
  if (!e.staff_frame) {
    json::writer w;
    w.start_object()
        .field("type", "event")
        .field("id", e.id)
        .field("event", e.type)
        .field("conversation", e.conversation)
        .field("team", e.team)
        .key("data")
        .raw(e.data.empty() ? "{}" : e.data)
        .end_object();
    e.staff_frame = text_frame(w.str());
  }
  return e.staff_frame;
}

void add_staff_socket(http_router& router, staff_socket_parts parts) {
  router.add_websocket("/ws/staff", [parts](const http_request& r,
                                            std::function<void(websocket_decision)> decide) {
    const std::string after = r.query_param("after").value_or("");
    if (!after.empty() && !store::is_stream_id(after)) {
      decide({nullptr, http_response::error(400, "invalid_request", "after is not an event id")});
      return;
    }
    parts.auth.authenticate_socket(
        r, [parts, after, decide = std::move(decide)](core::result<principal> who) {
          if (!who) {
            decide({nullptr, http_response::from(who.err())});
            return;
          }
          auto s = std::make_shared<session>(parts, std::move(who.value()), after);
          decide({std::make_unique<handler>(std::move(s)), {}});
        });
  });
}

}  // namespace askdesk::net
