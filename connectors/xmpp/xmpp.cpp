// What the connector does on the I/O thread with what its session reads.
//
// Nothing lost, nothing doubled, in order: received messages go through one queue, stored one
// at a time; a message whose storing failed stays at the head and is tried again, so nothing
// after it overtakes it. On each (re)connect the connector asks the archive for everything
// after the cursor (the last archive id it stored; a first start only learns where the
// archive ends) page by page, and holds live messages back until the last page is stored:
// the archive has them too, and their stanza-id dedups the second copy. The cursor moves
// after each stored message that carries an archive id. An archive query that fails is asked
// again after 5 s, live messages still held back; a disconnect drops the pages not yet stored
// (the next catch-up reads them again).
//
// A patron who sends more than messages_per_minute messages is told once to slow down and
// the rest of that minute's messages are dropped (counted in askdesk_xmpp_refused_total).
#include "connectors/xmpp/xmpp.hpp"

#include <spdlog/spdlog.h>

#include <deque>
#include <unordered_map>

#include "connectors/transport_settings.hpp"
#include "connectors/xmpp/session.hpp"
#include "connectors/xmpp/stanzas.hpp"
#include "daemon/config/team_hours.hpp"
#include "daemon/core/local_format.hpp"
#include "daemon/core/text.hpp"
#include "daemon/json/document.hpp"
#include "daemon/net/crypto.hpp"
#include "daemon/net/timer.hpp"

namespace askdesk::connectors {

namespace {

using xmpp::event;

constexpr int page_size = 100;  // archived messages asked for at once
constexpr std::chrono::seconds presence_every{60};
constexpr std::chrono::seconds store_again{1};
constexpr std::string_view cut_note = "\n[cut: the message was longer than 64 KiB]";

struct xmpp_settings final : connector_settings {
  xmpp::session_options session;
  std::string team;  // whose presence the account shows; "" for the default team
  std::chrono::milliseconds reopen_window = std::chrono::minutes(60);
  int messages_per_minute = 20;
};

core::channel_traits xmpp_traits() {
  core::channel_traits t;
  t.channel = "xmpp";
  t.display_name = "XMPP";
  t.unit = core::length_unit::characters;
  t.max_length = 20000;       // no limit in the protocol; servers take far longer stanzas
  t.delivery_reports = true;  // XEP-0184, where the patron's client answers
  return t;
}

class xmpp_connector final : public connector {
 public:
  xmpp_connector(const xmpp_settings& settings, connector_context& context)
      : settings_(settings),
        context_(context),
        traits_(xmpp_traits()),
        own_(xmpp::bare_jid(settings.session.jid)),
        session_(context.io(), settings.session,
                 {[this] { on_connected(); }, [this](std::string why) { on_disconnected(why); },
                  [this](event e) { on_event(std::move(e)); }}),
        presence_timer_(context.io()),
        store_timer_(context.io()),
        catch_up_timer_(context.io()) {
    auto& m = context.metrics();
    m.declare_gauge("askdesk_xmpp_connected",
                    "1 while the XMPP account is signed in, by connector.");
    m.declare_counter("askdesk_xmpp_refused_total",
                      "XMPP messages not stored, by connector and reason (flood).");
    m.declare_counter("askdesk_xmpp_archive_pages_total",
                      "Archive (MAM) pages read to catch up, by connector.");
  }

  const std::string& id() const override { return settings_.id; }
  std::string_view type() const override { return "xmpp"; }
  const core::channel_traits& traits() const override { return traits_; }
  std::chrono::milliseconds reopen_window() const override { return settings_.reopen_window; }

  void start() override {
    subscription_ = context_.follow([this](const conversation_event& e) { on_change(e); });
    presence_timer_.after(presence_every, [this] { presence_tick(); });
  }

  void stop() override {
    stopped_ = true;
    session_.stop();
    context_.unfollow(subscription_);
    presence_timer_.cancel();
    store_timer_.cancel();
    catch_up_timer_.cancel();
  }

  void lane_held(bool held) override {
    if (held && !stopped_) {
      session_.start();
    } else {
      session_.stop();
    }
  }

  // A reply is sent when our server has it: the reply goes with a ping (XEP-0199), and the
  // server answers the ping only after the reply, on the same stream. A connection that drops
  // in between may or may not have delivered it: failed as such, never sent twice.
  void send(const outbound_message& m, std::function<void(send_result)> done) override {
    const std::string stanza_id = "askdesk-" + m.message;
    const std::string ack = "ack-" + net::random_token().substr(0, 16);
    session_.send(xmpp::chat_message(m.to, stanza_id, m.text) + xmpp::ping(ack),
                  [this, stanza_id, ack, done = std::move(done)](bool written) mutable {
                    if (!written) {
                      done(send_result::retry("the XMPP account is not signed in"));
                      return;
                    }
                    auto timer = std::make_shared<net::timer>(context_.io());
                    timer->after(settings_.lane.send_timeout - std::chrono::seconds(1),
                                 [this, ack] { unconfirmed(ack, "no answer from the server"); });
                    awaiting_[ack] = {stanza_id, std::move(done), std::move(timer)};
                  });
  }

  connector_health health() const override { return health_; }

 private:
  // One entry of the inbound queue: a message to store, or the end of an archive page.
  struct item {
    event e;
    bool page_end = false;
    std::uint64_t number = 0;  // set when queued: which item a store's answer is about
  };

  void enqueue(item i) {
    i.number = ++queued_;
    queue_.push_back(std::move(i));
  }

  // ---- the connection
  void on_connected() {
    spdlog::info("xmpp {}: signed in as {}", id(), own_);
    context_.metrics().set("askdesk_xmpp_connected", {{"connector", id()}}, 1);
    session_.send(xmpp::roster_query("roster"));
    shown_.clear();
    update_presence();
    catch_up();
  }

  // A reply whose confirmation will not come: it may have arrived.
  void unconfirmed(const std::string& ack, const std::string& why) {
    const auto it = awaiting_.find(ack);
    if (it == awaiting_.end()) return;
    auto done = std::move(it->second.done);
    awaiting_.erase(it);
    done(send_result::permanent("the XMPP server did not confirm the reply (" + why +
                                "); it may have reached the patron, so it is not sent again"));
  }

  void on_disconnected(const std::string& why) {
    std::vector<std::string> acks;
    for (const auto& [ack, waiting] : awaiting_) acks.push_back(ack);
    for (const auto& ack : acks) unconfirmed(ack, why);
    spdlog::warn("xmpp {}: {}", id(), why);
    context_.metrics().set("askdesk_xmpp_connected", {{"connector", id()}}, 0);
    health_.last_error = why;
    health_.last_error_at = context_.clock().now();
    catching_up_ = false;
    // The next catch-up reads them from the archive, after the cursor; a first start that has
    // no cursor yet keeps them, or it would take them for history.
    if (cursor_known_) held_back_.clear();
    // Archive pages not yet stored are read again after the next connect.
    std::erase_if(queue_, [](const item& i) { return i.page_end || !i.e.query_id.empty(); });
  }

  // Reads the archive after the cursor, holding live messages back meanwhile.
  void catch_up() {
    catching_up_ = true;
    context_.load("cursor", [this](core::result<state_record> cursor) {
      if (!cursor) {
        health_.last_error = "reading the archive cursor: " + cursor.err().message;
        health_.last_error_at = context_.clock().now();
        retry_catch_up();
        return;
      }
      // No cursor: a first start, which only learns where the archive ends. An empty one: the
      // archive was empty then, so everything in it now is new.
      const auto after = cursor->find("after");
      cursor_known_ = after != cursor->end();
      if (after == cursor->end()) {
        query_archive(xmpp::archive_page::newest, "");
      } else if (after->second.empty()) {
        query_archive(xmpp::archive_page::from_start, "");
      } else {
        query_archive(xmpp::archive_page::after, after->second);
      }
    });
  }

  void query_archive(xmpp::archive_page from, const std::string& after) {
    // Unguessable, so nobody else can answer for our archive.
    const std::string query =
        "mam-" + std::to_string(++queries_) + "-" + net::random_token().substr(0, 12);
    query_id_ = query;
    learning_end_ = from == xmpp::archive_page::newest || from == xmpp::archive_page::newest_before;
    context_.metrics().add("askdesk_xmpp_archive_pages_total", {{"connector", id()}});
    spdlog::debug("xmpp {}: archive query {} after '{}'", id(), query, after);
    session_.send(xmpp::archive_query(query, query, from, after, page_size));
  }

  // ---- what the session read
  void on_event(event e) {
    switch (e.what) {
      case event::kind::message:
        if (e.archive_id.empty() && e.id.empty()) {
          e.id = "arrived-" + std::to_string(core::to_millis(context_.clock().now())) + "-" +
                 std::to_string(++arrivals_);
        }
        if (!e.query_id.empty()) {
          // An archived message answers our query; while learning where the archive ends, it
          // is only the newest one, already seen or from before askdesk.
          if (e.query_id == query_id_ && !learning_end_) enqueue({std::move(e)});
        } else if (catching_up_) {
          held_back_.push_back({std::move(e)});
          return;
        } else {
          enqueue({std::move(e)});
        }
        store_next();
        return;
      case event::kind::archive_done:
        if (e.id != query_id_) return;
        enqueue({std::move(e), true});
        store_next();
        return;
      case event::kind::chat_state:
        if (e.state == "composing") {
          context_.report_typing(e.from, name_of(e), [](core::status) {});
        }
        return;
      case event::kind::receipt:
        if (e.id.starts_with("askdesk-")) {
          context_.report_delivery({e.id, "delivered", "", ""}, [](core::status) {});
        }
        return;
      case event::kind::subscribe:
        session_.send(xmpp::subscribed(e.from));
        return;
      case event::kind::roster:
        for (auto& [jid, name] : e.roster) {
          if (!name.empty()) names_[jid] = name;
        }
        return;
      case event::kind::answered:
        if (const auto it = awaiting_.find(e.id); it != awaiting_.end()) {
          auto waiting = std::move(it->second);
          awaiting_.erase(it);
          waiting.timer->cancel();
          health_.last_success = context_.clock().now();
          waiting.done(send_result::sent(waiting.stanza_id));
        }
        return;
      case event::kind::ignored:
        return;
    }
  }

  // ---- storing, one at a time, in order
  void store_next() {
    if (storing_ || queue_.empty() || stopped_) return;
    item& head = queue_.front();
    if (head.page_end) {
      end_page(head.e);
      queue_.pop_front();
      store_next();
      return;
    }
    if (head.e.query_id.empty() && flooding(head.e)) {
      queue_.pop_front();
      store_next();
      return;
    }
    storing_ = true;
    context_.deliver(
        message_of(head.e), [this, number = head.number](core::result<delivery> stored) {
          storing_ = false;
          if (queue_.empty() || queue_.front().number != number) {
            store_next();  // dropped by a disconnect meanwhile (read again from the archive)
            return;
          }
          if (!stored && stored.err().code != "invalid") {
            health_.last_error = "storing a message: " + stored.err().message;
            health_.last_error_at = context_.clock().now();
            store_timer_.after(store_again, [this] { store_next(); });
            return;
          }
          item done = std::move(queue_.front());
          queue_.pop_front();
          if (stored) {
            health_.last_success = context_.clock().now();
            if (done.e.receipt_requested && !done.e.id.empty()) {
              session_.send(xmpp::receipt(done.e.from, done.e.id));
            }
          } else {
            spdlog::warn("xmpp {}: a message from {} was refused: {}", id(), done.e.from,
                         stored.err().message);
          }
          if (!done.e.archive_id.empty()) {
            // The archive's order is the stored order: the cursor may move past this one.
            context_.save("cursor", {{"after", done.e.archive_id}}, std::chrono::seconds(0),
                          [](core::status) {});
          }
          store_next();
        });
  }

  // The archive could not be read: live messages stay held back, and it is asked again.
  // After three tries (a server without MAM, an archive that expired the cursor's message)
  // live messages go on without it until the next connect: what arrived meanwhile may be
  // missing, and /healthz says so.
  void retry_catch_up() {
    if (++archive_failures_ >= 3) {
      health_.last_error =
          "the account's archive (MAM) cannot be read: messages that arrived "
          "while askdesk was away may be missing";
      health_.last_error_at = context_.clock().now();
      spdlog::error("xmpp {}: {}", id(), health_.last_error);
      archive_failures_ = 0;
      catching_up_ = false;
      learning_end_ = false;
      for (auto& i : held_back_) enqueue(std::move(i));
      held_back_.clear();
      store_timer_.after(std::chrono::milliseconds(0), [this] { store_next(); });
      return;
    }
    catch_up_timer_.after(std::chrono::seconds(5), [this] {
      if (session_.connected() && catching_up_) catch_up();
    });
  }

  void end_page(const event& fin) {
    spdlog::debug("xmpp {}: archive query {} ended (complete: {}, last: {}{})", id(), fin.id,
                  fin.complete, fin.last, fin.why.empty() ? "" : ", " + fin.why);
    if (!fin.why.empty()) {
      spdlog::warn("xmpp {}: the archive query failed: {}", id(), fin.why);
      retry_catch_up();
      return;
    }
    if (learning_end_) {
      // A first start: the archive so far is from before askdesk. Its end is where the
      // messages held back begin (they are in the archive too, and must not be skipped if
      // askdesk stops before storing them all), or the newest archived message when none
      // came meanwhile ("" for an archive that is still empty).
      const auto& first = held_back_.empty() ? std::string() : held_back_.front().e.archive_id;
      if (!first.empty() && fin.id != before_query_) {
        query_archive(xmpp::archive_page::newest_before, first);
        before_query_ = query_id_;
        return;
      }
      context_.save("cursor", {{"after", fin.last}}, std::chrono::seconds(0),
                    [this](core::status saved) { cursor_known_ = cursor_known_ || saved.ok(); });
    } else if (!fin.complete && !fin.last.empty()) {
      query_archive(xmpp::archive_page::after, fin.last);
      return;
    }
    // Caught up: the messages held back go now (those in the archive pages are duplicates).
    archive_failures_ = 0;
    catching_up_ = false;
    learning_end_ = false;
    for (auto& i : held_back_) enqueue(std::move(i));
    held_back_.clear();
  }

  core::inbound_message message_of(const event& e) const {
    core::inbound_message m;
    // The archive's id; without one (a server without MAM), the sender's id (a resend repeats
    // it), or the one given on arrival to a message that came without (on_event).
    m.external_id =
        !e.archive_id.empty() ? e.archive_id : "id:" + net::sha256_hex(e.from + "\n" + e.id);
    m.sender_address = e.from;
    m.thread = e.from;
    m.sender_name = name_of(e);
    m.text = e.body;
    if (e.cut_from > 0) {
      m.text = std::string(core::truncate_utf8(m.text, core::max_text_bytes - cut_note.size()));
      m.text += cut_note;
      m.facts["cut_from_bytes"] = std::to_string(e.cut_from);
    }
    for (const auto& url : e.urls) {
      core::attachment a;
      a.url = url;
      a.name = url.substr(url.rfind('/') + 1);
      m.attachments.push_back(std::move(a));
    }
    m.received_at = context_.clock().now();
    m.sent_at = m.received_at;
    return m;
  }

  std::string name_of(const event& e) const {
    if (const auto it = names_.find(e.from); it != names_.end()) return it->second;
    return std::string(core::truncate_utf8(e.nick, core::max_name_bytes));
  }

  // True when `e`'s sender passed its messages_per_minute: told once a minute, dropped.
  bool flooding(const event& e) {
    auto& recent = recent_[e.from];
    const auto now = std::chrono::steady_clock::now();
    while (!recent.empty() && now - recent.front() > std::chrono::minutes(1)) recent.pop_front();
    if (static_cast<int>(recent.size()) < settings_.messages_per_minute) {
      recent.push_back(now);
      return false;
    }
    context_.metrics().add("askdesk_xmpp_refused_total",
                           {{"connector", id()}, {"reason", "flood"}});
    auto& warned = warned_[e.from];
    if (now - warned > std::chrono::minutes(1)) {
      warned = now;
      session_.send(xmpp::chat_message(e.from, "askdesk-slow-down",
                                       "You are sending messages faster than we can read them; "
                                       "please wait a minute before sending more."));
    }
    return true;
  }

  // ---- staff typing and the team's presence
  void on_change(const conversation_event& e) {
    if (e.type == "presence.updated") {
      if (e.team == team().id) update_presence();
      return;
    }
    if (e.type != "typing") return;
    auto doc = json::document::parse(std::string(e.data));
    if (!doc) return;
    if (json::string_member(doc->root(), "who") != "staff") return;
    const std::string to(json::string_member(doc->root(), "address"));
    if (!to.empty()) session_.send(xmpp::chat_state(to, "composing"));
  }

  const config::team_options& team() const {
    const auto& config = context_.config();
    const auto* t = config.find_team(settings_.team);
    return t ? *t : config.teams.front();
  }

  void presence_tick() {
    presence_timer_.after(presence_every, [this] { presence_tick(); });
    update_presence();
    // Forget patrons quiet for a minute: the flood counts stay as small as the traffic.
    const auto now = std::chrono::steady_clock::now();
    std::erase_if(recent_, [&](const auto& r) {
      return r.second.empty() || now - r.second.back() > std::chrono::minutes(1);
    });
    std::erase_if(warned_, [&](const auto& w) { return now - w.second > std::chrono::minutes(1); });
  }

  // `available` while the team is open with a member available; `away` otherwise, with the
  // next opening as status text, as LibraryH3lp queues show.
  void update_presence() {
    if (!session_.connected()) return;
    const auto& t = team();
    const auto opening = config::opening_at(t, context_.clock().now());
    context_.team_available(
        t.id, [this, open = opening.open, next = opening.next_open](core::result<bool> available) {
          std::string status;
          if (!open) {
            status = "Closed";
            if (next) {
              status += "; we open " +
                        core::format_day_and_time(team().hours->local(*next), team().language);
            }
          } else if (!available || !*available) {
            status = "No librarian is free right now; leave a message and we will answer";
          }
          const std::string stanza =
              status.empty() ? xmpp::presence("", "") : xmpp::presence("away", status);
          if (stanza == shown_) return;
          shown_ = stanza;
          session_.send(stanza);
        });
  }

  const xmpp_settings settings_;
  connector_context& context_;
  const core::channel_traits traits_;
  const std::string own_;
  connector_health health_;
  std::deque<item> queue_;       // to store, in order
  std::vector<item> held_back_;  // live messages received while catching up
  bool storing_ = false;
  bool catching_up_ = false;
  bool learning_end_ = false;  // the query asks only where the archive ends
  bool stopped_ = false;
  std::uint64_t queries_ = 0;
  bool cursor_known_ = false;
  std::uint64_t arrivals_ = 0;  // messages that came without an id
  int archive_failures_ =
      0;  // archive queries failed in a row  // a cursor was read or saved: not a first start
  std::uint64_t queued_ = 0;
  std::string query_id_;      // the archive query in flight
  std::string before_query_;  // the query for the message before those held back
  std::string shown_;         // the presence last sent
  std::unordered_map<std::string, std::string> names_;  // roster names by bare JID
  std::unordered_map<std::string, std::deque<std::chrono::steady_clock::time_point>> recent_;
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> warned_;
  std::uint64_t subscription_ = 0;
  struct awaiting {
    std::string stanza_id;
    std::function<void(send_result)> done;
    std::shared_ptr<net::timer> timer;
  };
  std::unordered_map<std::string, awaiting> awaiting_;  // replies by the ping that confirms them
  xmpp::session session_;                               // last: its thread stops first
  net::timer presence_timer_;
  net::timer store_timer_;
  net::timer catch_up_timer_;
};

class xmpp_factory final : public connector_factory {
 public:
  std::string_view type() const override { return "xmpp"; }

  lane_settings lane_defaults() const override {
    return {.concurrency = 8,
            .per_second = 0,
            .send_timeout = std::chrono::seconds(15),
            .max_attempts = 8};
  }

  std::unique_ptr<connector_settings> parse(json::object_reader& block) const override {
    auto s = std::make_unique<xmpp_settings>();
    auto& out = block.out();
    auto& o = s->session;
    if (auto jid = block.required_string("jid")) {
      o.jid = *jid;
      const auto at = o.jid.find('@');
      if (at == std::string::npos || at == 0 || at + 1 == o.jid.size() ||
          o.jid.find('/') != std::string::npos ||
          o.jid.find_first_of(" <>'\"&") != std::string::npos) {
        out.add(block.child_path("jid"), "must be a bare JID like ask@library.example");
      }
    }
    if (auto password = block.required_string("password")) o.password = *password;
    const std::string domain = o.jid.substr(o.jid.find('@') + 1);
    o.host = block.string("host", domain);
    o.port = static_cast<int>(block.integer("port", 5222, 1, 65535));
    const std::string tls = block.string("tls", "required");
    if (tls == "required") {
      o.tls = xmpp::tls_mode::required;
    } else if (tls == "direct") {
      o.tls = xmpp::tls_mode::direct;
    } else if (tls == "none") {
      o.tls = xmpp::tls_mode::none;
      if (!is_loopback(o.host)) {
        out.add(block.child_path("tls"),
                "none (plain text) is allowed only to a loopback host, not " + o.host);
      }
    } else {
      out.add(block.child_path("tls"), "must be required, direct or none, not '" + tls + "'");
    }
    o.ca_file = block.string("ca_file", "");
    if (!o.ca_file.empty()) {
      if (const auto problem = unusable_ca_file(o.ca_file); !problem.empty()) {
        out.add(block.child_path("ca_file"), problem);
      }
    }
    s->team = block.string("team", "");
    s->reopen_window = std::chrono::minutes(block.integer("reopen_minutes", 60, 0, 43200));
    s->messages_per_minute = static_cast<int>(block.integer("messages_per_minute", 20, 1, 600));
    return s;
  }

  std::unique_ptr<connector> create(std::unique_ptr<connector_settings> settings,
                                    connector_context& context) const override {
    auto& s = static_cast<const xmpp_settings&>(*settings);
    if (!s.team.empty() && !context.config().find_team(s.team)) {
      spdlog::warn("xmpp {}: team '{}' is not configured; the default team's presence shows", s.id,
                   s.team);
    }
    return std::make_unique<xmpp_connector>(s, context);
  }
};

}  // namespace

std::unique_ptr<connector_factory> make_xmpp_factory() { return std::make_unique<xmpp_factory>(); }

}  // namespace askdesk::connectors
