#include "connectors/bluesky/bluesky.hpp"

#include <spdlog/spdlog.h>

#include <map>
#include <random>

#include "connectors/bluesky/posts.hpp"
#include "connectors/poller.hpp"
#include "connectors/rate_window.hpp"
#include "connectors/social_options.hpp"
#include "daemon/core/auto_reply.hpp"
#include "daemon/core/text.hpp"
#include "daemon/json/document.hpp"
#include "daemon/json/writer.hpp"
#include "daemon/net/crypto.hpp"
#include "daemon/net/curl_client.hpp"

namespace askdesk::connectors {

namespace {

using bluesky::post;

constexpr int notifications_per_page = 50;
// A round reads back to the mark, at most this many pages (10,000 notifications): past them it
// reports what it could not read rather than never finishing.
constexpr int max_pages = 200;
constexpr int search_page = 25;
// Notifications are read back to this long before the high-water mark, in case one was indexed
// late; the posts already stored within it are remembered so they are not read twice.
constexpr std::chrono::seconds lookback{120};
// What a reply may take of the 300 graphemes for the "@handle " askdesk puts first when staff
// did not mention the patron; a longer handle is checked when sending.
constexpr std::size_t mention_reserve = 32;
constexpr std::chrono::hours rkey_lifetime{24 * 7};
constexpr std::string_view post_collection = "app.bsky.feed.post";
// Direct messages go through the PDS to Bluesky's chat service.
constexpr std::string_view chat_proxy = "did:web:api.bsky.chat#bsky_chat";
constexpr int chat_log_pages = 10;

struct bluesky_settings final : connector_settings {
  std::string service;  // the PDS's base URL, no trailing '/'
  std::string identifier;
  std::string app_password;
  social_options social;
  std::string language = "en";  // a reply's langs when the patron's post says none
  bool direct_messages = true;  // read and answer chat.bsky.convo messages when allowed
};

core::channel_traits bluesky_traits() {
  core::channel_traits t;
  t.channel = "bluesky";
  t.display_name = "Bluesky";
  t.unit = core::length_unit::graphemes;
  t.max_length = bluesky::max_post_graphemes - mention_reserve;
  t.public_replies = true;
  return t;
}

// An XRPC error body {"error": "ExpiredToken", "message": "..."}: its name and words.
struct xrpc_error {
  std::string name;
  std::string message;
};
xrpc_error error_of(const net::incoming_response& r) {
  xrpc_error e;
  if (auto doc = json::document::parse(r.body); doc && doc->root().IsObject()) {
    e.name = core::truncate_utf8(core::repair_utf8(json::string_member(doc->root(), "error")), 100);
    e.message =
        core::truncate_utf8(core::repair_utf8(json::string_member(doc->root(), "message")), 500);
  }
  if (e.message.empty()) e.message = e.name;
  if (e.message.empty()) e.message = "the server answered HTTP " + std::to_string(r.status);
  return e;
}

// An app password the service will not take for this method (one made without access to
// direct messages): "Bad token method", or "Bad token scope" from older PDSs.
bool method_refused(const net::incoming_response& r) {
  if (r.status != 400 && r.status != 401 && r.status != 403) return false;
  const auto e = error_of(r);
  return e.name == "InvalidToken" &&
         (e.message == "Bad token method" || e.message == "Bad token scope");
}

// A token the server no longer takes (expired, revoked): refresh the session and ask again.
bool token_refused(const net::incoming_response& r) {
  if (r.status != 400 && r.status != 401) return false;
  if (method_refused(r)) return false;  // a new token would be refused the same
  const auto e = error_of(r);
  return e.name == "ExpiredToken" || e.name == "InvalidToken" || e.name == "AuthMissing";
}

struct session {
  std::string access, refresh, did, handle;
  core::timestamp expires{};  // the access token's
};

// One post found in a round, and why it was read.
struct found {
  post p;
  std::string watched;  // "" for a notification; "keyword:Riverside Library"
};

struct round_state {
  std::shared_ptr<poller::round> round;
  state_record cursor;
  std::vector<found> posts;
  std::string newest_notification;  // indexedAt of the newest notification read
  int pages = 0;
  std::size_t next_watch = 0;
  // Direct messages: what the chat log gave, and the conversations' other members.
  struct chat_message {
    std::string convo, id, text, sender_did;
    std::vector<std::string> links;
    core::timestamp sent_at{};
  };
  std::vector<chat_message> chats;
  // Conversation -> its members other than the library: did -> (handle, display name).
  std::map<std::string, std::map<std::string, std::pair<std::string, std::string>>> members;
  int chat_pages = 0;
};

using answer_fn =
    std::function<void(core::result<net::incoming_response>, std::chrono::milliseconds wait)>;

class bluesky_connector final : public connector {
 public:
  bluesky_connector(const bluesky_settings& settings, connector_context& context)
      : settings_(settings),
        context_(context),
        traits_(bluesky_traits()),
        random_(std::random_device{}()),
        window_("ratelimit-"),
        poller_(
            context,
            {.connector = settings.id,
             .lease = net::sha256_hex(settings.service + "\n" + settings.identifier).substr(0, 24),
             .every = settings.social.poll_every,
             .lease_ttl = settings.lease},
            [this](std::shared_ptr<poller::round> round) { poll(std::move(round)); }) {
    context.metrics().declare_counter(
        "askdesk_bluesky_posts_total",
        "Bluesky posts and direct messages read, by connector, source (notification, watch, "
        "direct) and outcome (stored, own: the library's, skipped: not a readable post).");
    context.metrics().declare_counter(
        "askdesk_bluesky_logins_total",
        "Bluesky logins tried (createSession), by connector: one per start at most while the "
        "session kept in Redis is good.");
  }

  const std::string& id() const override { return settings_.id; }
  std::string_view type() const override { return "bluesky"; }
  const core::channel_traits& traits() const override { return traits_; }
  std::chrono::milliseconds reopen_window() const override {
    return settings_.social.reopen_window;
  }

  void start() override { poller_.start(); }
  void stop() override { poller_.stop(); }

  void send(const outbound_message& m, std::function<void(send_result)> done) override {
    const auto fact = [&m](const char* name) {
      const auto it = m.facts.find(name);
      return it == m.facts.end() ? std::string() : it->second;
    };
    auto job = std::make_shared<send_job>();
    job->message = m.message;
    job->parent = {fact("parent_uri"), fact("parent_cid")};
    job->root = {fact("root_uri"), fact("root_cid")};
    job->language = fact("language").empty() ? settings_.language : fact("language");
    job->done = std::move(done);
    if (const auto convo = fact("convo_id"); !convo.empty()) {
      send_direct(job, convo, m.text);
      return;
    }
    const std::string did = fact("did"), handle = fact("handle");
    if (job->parent.uri.empty() || job->root.uri.empty() || did.empty() || handle.empty()) {
      finish(job, send_result::permanent("the conversation has no Bluesky post to answer"));
      return;
    }
    job->text = bluesky::reply_text(m.text, handle, did);
    if (const auto length = core::measure(job->text.text, core::length_unit::graphemes);
        length > bluesky::max_post_graphemes) {
      finish(job, send_result::permanent("with the patron's @" + handle + " the reply is " +
                                         std::to_string(length) +
                                         " characters; Bluesky carries at most 300"));
      return;
    }
    // The record key is fixed before the first attempt: every retry posts under it, and asks
    // first whether an earlier attempt landed.
    context_.load("rkey:" + m.message, [this, job](core::result<state_record> r) {
      if (!r) {
        finish(job, send_result::retry("reading the reply's record key: " + r.err().message));
        return;
      }
      if (const auto it = r->find("rkey"); it != r->end() && bluesky::plausible_tid(it->second)) {
        job->rkey = it->second;
        job->retried = true;
        check_then_post(job);
        return;
      }
      const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                              context_.clock().now().time_since_epoch())
                              .count();
      job->rkey = bluesky::tid(static_cast<std::uint64_t>(micros),
                               std::uniform_int_distribution<unsigned>(0, 1023)(random_));
      context_.save("rkey:" + job->message, {{"rkey", job->rkey}},
                    std::chrono::duration_cast<std::chrono::seconds>(rkey_lifetime),
                    [this, job](core::status saved) {
                      if (!saved) {
                        finish(job, send_result::retry("keeping the reply's record key: " +
                                                       saved.err().message));
                        return;
                      }
                      create(job);
                    });
    });
  }

  connector_health health() const override { return poller_.health(health_); }

 private:
  void note_error(std::string message) {
    spdlog::warn("bluesky {}: {}", settings_.id, message);
    health_.last_error = std::move(message);
    health_.last_error_at = context_.clock().now();
  }

  void count(std::string_view source, std::string_view outcome, std::int64_t n) {
    if (n <= 0) return;
    context_.metrics().add("askdesk_bluesky_posts_total",
                           {{"connector", settings_.id},
                            {"source", std::string(source)},
                            {"outcome", std::string(outcome)}},
                           static_cast<double>(n));
  }

  // How long a refused request should wait: until the rate limit's reset for a 429 (xrpc()
  // read its RateLimit-* headers), else the caller's backoff.
  std::chrono::milliseconds limit_wait(const net::incoming_response& r) {
    return r.status == 429 ? window_.take(context_.clock().now()) : std::chrono::milliseconds(0);
  }

  send_result retry_later(const net::incoming_response& r, const xrpc_error& e) {
    auto later = send_result::retry(e.message, std::to_string(r.status));
    later.retry_after = limit_wait(r);
    return later;
  }

  // ---- the session -------------------------------------------------------------------------

  // Runs `then` once there is a session whose access token is good for a minute more:
  // the one in memory, the one kept in Redis, a refreshed one, or a new login.
  void with_session(std::function<void(core::status)> then) {
    const auto now = context_.clock().now();
    if (session_ && session_->expires > now + std::chrono::minutes(1)) {
      then({});
      return;
    }
    session_waiters_.push_back(std::move(then));
    if (session_waiters_.size() > 1) return;  // already under way
    if (session_) {
      refresh();
      return;
    }
    context_.load("session", [this](core::result<state_record> r) {
      if (!r) {
        session_ready(core::error{"unavailable", "reading the session: " + r.err().message});
        return;
      }
      if (r->contains("access") && r->contains("refresh") && r->contains("did")) {
        session s{(*r)["access"], (*r)["refresh"], (*r)["did"], (*r)["handle"], {}};
        s.expires = bluesky::jwt_expiry(s.access).value_or(core::timestamp{});
        session_ = std::move(s);
        if (session_->expires > context_.clock().now() + std::chrono::minutes(1)) {
          session_ready({});
        } else {
          refresh();
        }
        return;
      }
      login();
    });
  }

  void session_ready(core::status status) {
    if (!status) note_error(status.err().message);
    auto waiting = std::move(session_waiters_);
    session_waiters_.clear();
    for (auto& w : waiting) w(status);
  }

  net::outgoing_request xrpc_request(std::string_view method, std::string_view nsid,
                                     std::string_view query) const {
    net::outgoing_request r;
    r.method = std::string(method);
    r.url = settings_.service + "/xrpc/" + std::string(nsid);
    if (!query.empty()) r.url += "?" + std::string(query);
    r.timeout = std::chrono::seconds(15);  // a send may need a refresh, a login and the post
    return r;
  }

  // Keeps the session the server gave (createSession or refreshSession), here and in Redis.
  void keep_session(const net::incoming_response& answer) {
    auto doc = json::document::parse(answer.body);
    if (!doc || !doc->root().IsObject()) {
      session_ready(core::error{"malformed", "the session answer is not JSON"});
      return;
    }
    const auto& root = doc->root();
    session s{std::string(json::string_member(root, "accessJwt")),
              std::string(json::string_member(root, "refreshJwt")),
              std::string(json::string_member(root, "did")),
              std::string(json::string_member(root, "handle")),
              {}};
    if (s.access.empty() || s.refresh.empty() || !s.did.starts_with("did:")) {
      session_ready(core::error{"malformed", "the session answer has no tokens"});
      return;
    }
    s.expires =
        bluesky::jwt_expiry(s.access).value_or(context_.clock().now() + std::chrono::minutes(30));
    session_ = s;
    context_.save(
        "session",
        {{"access", s.access}, {"refresh", s.refresh}, {"did", s.did}, {"handle", s.handle}},
        std::chrono::seconds(0), [this](core::status saved) {
          if (!saved) note_error("keeping the session: " + saved.err().message);
          session_ready({});
        });
  }

  void login() {
    auto r = xrpc_request("POST", "com.atproto.server.createSession", "");
    r.headers = {{"Content-Type", "application/json"}};
    json::writer w;
    w.start_object()
        .field("identifier", settings_.identifier)
        .field("password", settings_.app_password)
        .end_object();
    r.body = w.str();
    context_.metrics().add("askdesk_bluesky_logins_total", {{"connector", settings_.id}});
    context_.http().send(std::move(r), [this](core::result<net::incoming_response> answer) {
      if (!answer) {
        session_ready(core::error{"unavailable", "logging in: " + answer.err().message});
        return;
      }
      window_.update(*answer, context_.clock().now());
      if (answer->status != 200) {
        session_ready(core::error{
            "refused", "logging in as " + settings_.identifier + ": " + error_of(*answer).message});
        return;
      }
      keep_session(*answer);
    });
  }

  void refresh() {
    auto r = xrpc_request("POST", "com.atproto.server.refreshSession", "");
    r.headers = {{"Authorization", "Bearer " + session_->refresh}};
    context_.http().send(std::move(r), [this](core::result<net::incoming_response> answer) {
      if (!answer) {
        session_ready(
            core::error{"unavailable", "refreshing the session: " + answer.err().message});
        return;
      }
      if (answer->status == 200) {
        keep_session(*answer);
        return;
      }
      // An expired or revoked refresh token: log in again (once; a refusal then is reported).
      session_.reset();
      context_.erase("session", [](core::status) {});
      login();
    });
  }

  // An XRPC call with the session; a token the server no longer takes is refreshed and the
  // call made once more. `done` gets the answer, or an error with how long to wait when the
  // rate limit says none are left.
  void xrpc(std::string method, std::string nsid, std::string query, std::string body,
            answer_fn done, bool again = true) {
    if (const auto wait = window_.take(context_.clock().now()); wait.count() > 0) {
      done(core::error{"rate_limited", "waiting for the server's rate limit to reset"}, wait);
      return;
    }
    with_session([this, method, nsid, query, body, done = std::move(done),
                  again](core::status ready) mutable {
      if (!ready) {
        done(ready.err(), {});
        return;
      }
      auto r = xrpc_request(method, nsid, query);
      r.headers = {{"Authorization", "Bearer " + session_->access}};
      if (nsid.starts_with("chat.bsky.")) r.headers.emplace_back("atproto-proxy", chat_proxy);
      if (!body.empty()) {
        r.headers.emplace_back("Content-Type", "application/json");
        r.body = body;
      }
      context_.http().send(std::move(r), [this, method, nsid, query, body, done = std::move(done),
                                          again](core::result<net::incoming_response> answer) {
        if (answer) window_.update(*answer, context_.clock().now());
        if (answer && again && token_refused(*answer) && session_) {
          session_->expires = {};  // refresh, then once more
          xrpc(method, nsid, query, body, done, false);
          return;
        }
        done(std::move(answer), {});
      });
    });
  }

  // ---- polling -------------------------------------------------------------------------

  void poll(std::shared_ptr<poller::round> round) {
    auto st = std::make_shared<round_state>();
    st->cursor = round->cursor();
    st->round = std::move(round);
    notifications(st, "");
  }

  // Ends the round for an answer that is not a 200 JSON object; true when it did.
  bool ended(const std::shared_ptr<round_state>& st, const std::string& what,
             const core::result<net::incoming_response>& answer, std::chrono::milliseconds wait,
             std::optional<json::document>& doc) {
    auto& round = *st->round;
    if (round.stopped()) {
      round.done();
      return true;
    }
    if (!answer) {
      round.failed(what + ": " + answer.err().message, wait);
      return true;
    }
    if (answer->status != 200) {
      round.failed(what + ": " + error_of(*answer).message, limit_wait(*answer));
      return true;
    }
    auto parsed = json::document::parse(answer->body);
    if (!parsed || !parsed->root().IsObject()) {
      round.failed(what + ": the answer is not a JSON object");
      return true;
    }
    doc = std::move(*parsed);
    return false;
  }

  void notifications(const std::shared_ptr<round_state>& st, const std::string& cursor) {
    // priority=false: every account's posts, also when the library's app shows only those of
    // accounts it follows (a patron is rarely one).
    std::string query = "limit=" + std::to_string(notifications_per_page) +
                        "&reasons=mention&reasons=reply&reasons=quote&priority=false";
    if (!cursor.empty()) query += "&cursor=" + net::percent_encode(cursor);
    xrpc("GET", "app.bsky.notification.listNotifications", query, "",
         [this, st](core::result<net::incoming_response> answer, std::chrono::milliseconds wait) {
           std::optional<json::document> doc;
           if (ended(st, "listNotifications", answer, wait, doc)) return;
           const auto& root = doc->root();
           const auto list = root.FindMember("notifications");
           if (list == root.MemberEnd() || !list->value.IsArray()) {
             st->round->failed("listNotifications: the answer has no list of notifications");
             return;
           }
           const auto mark = st->cursor.find("notifications");
           const std::string high = mark == st->cursor.end() ? "" : mark->second;
           const std::string low = high.empty() ? "" : before(high, lookback);
           const auto recent = recent_of(st->cursor);
           bool reached = high.empty();  // a first start reads the newest page only
           std::int64_t own = 0, skipped = 0;
           for (const auto& item : list->value.GetArray()) {
             const std::string indexed(item.IsObject() ? json::string_member(item, "indexedAt")
                                                       : "");
             if (st->newest_notification.empty() || indexed > st->newest_notification) {
               st->newest_notification = indexed;
             }
             if (!low.empty() && indexed < low) {
               reached = true;
               continue;
             }
             if (recent.contains(std::string(json::string_member(item, "uri")))) continue;
             const std::string reason(item.IsObject() ? json::string_member(item, "reason") : "");
             if (reason != "mention" && reason != "reply" && reason != "quote") continue;
             std::string why;
             auto p = bluesky::read_notification(item, &why);
             if (!p) {
               ++skipped;
               note_error("listNotifications: " + why);
               continue;
             }
             if (session_ && p->author_did == session_->did) {
               ++own;
               continue;
             }
             st->posts.push_back({std::move(*p), ""});
           }
           count("notification", "own", own);
           count("notification", "skipped", skipped);
           const std::string next(json::string_member(root, "cursor"));
           const bool more = !reached && !next.empty() && !list->value.Empty();
           if (more && ++st->pages < max_pages) {
             notifications(st, next);
             return;
           }
           if (more) {
             note_error("listNotifications: more than " + std::to_string(max_pages) +
                        " pages since the last round; the older ones are not read");
           }
           if (!st->newest_notification.empty()) {
             const std::string mark_now = std::max(high, st->newest_notification);
             st->cursor["notifications"] = mark_now;
             st->cursor["recent"] = recent_after(st, recent, before(mark_now, lookback));
           }
           next_watch(st);
         });
  }

  // `mark` less `span`, in the AppView's ISO-8601 form ("" when `mark` is not a time).
  static std::string before(const std::string& mark, std::chrono::seconds span) {
    const auto t = core::parse_iso8601(mark);
    return t ? core::format_iso8601(*t - span) : std::string();
  }

  // The posts stored within the lookback: "indexedAt uri" lines of the cursor's "recent".
  static std::map<std::string, std::string> recent_of(const state_record& cursor) {
    std::map<std::string, std::string> recent;  // uri -> indexedAt
    const auto it = cursor.find("recent");
    if (it == cursor.end()) return recent;
    std::string_view rest = it->second;
    while (!rest.empty()) {
      const auto end = rest.find('\n');
      const auto line = rest.substr(0, end);
      if (const auto space = line.find(' '); space != std::string_view::npos) {
        recent[std::string(line.substr(space + 1))] = std::string(line.substr(0, space));
      }
      if (end == std::string_view::npos) break;
      rest.remove_prefix(end + 1);
    }
    return recent;
  }

  // What "recent" says after this round: the posts indexed from `low` on, old and new.
  static std::string recent_after(const std::shared_ptr<round_state>& st,
                                  std::map<std::string, std::string> recent,
                                  const std::string& low) {
    for (const auto& f : st->posts) {
      if (f.watched.empty()) recent[f.p.uri] = f.p.indexed_at;
    }
    std::string out;
    for (const auto& [uri, indexed] : recent) {
      if (indexed >= low) out += indexed + " " + uri + "\n";
    }
    return out;
  }

  void next_watch(const std::shared_ptr<round_state>& st) {
    if (st->next_watch == settings_.social.watch_keywords.size()) {
      if (settings_.direct_messages && chat_allowed_) {
        chat_log(st);
      } else {
        store(st);
      }
      return;
    }
    const std::string keyword = settings_.social.watch_keywords[st->next_watch++];
    const std::string source = "keyword:" + keyword;
    xrpc("GET", "app.bsky.feed.searchPosts",
         "q=" + net::percent_encode(keyword) + "&limit=" + std::to_string(search_page) +
             "&sort=latest",
         "",
         [this, st, source](core::result<net::incoming_response> answer,
                            std::chrono::milliseconds wait) {
           // A search the server refuses is reported and skipped: it never holds up mentions.
           if (answer && answer->status >= 400 && answer->status < 500 && answer->status != 429) {
             note_error("searchPosts: " + error_of(*answer).message);
             next_watch(st);
             return;
           }
           std::optional<json::document> doc;
           if (ended(st, "searchPosts", answer, wait, doc)) return;
           const auto& root = doc->root();
           const auto list = root.FindMember("posts");
           if (list == root.MemberEnd() || !list->value.IsArray()) {
             st->round->failed("searchPosts: the answer has no list of posts");
             return;
           }
           const auto mark = st->cursor.find(source);
           const std::string high = mark == st->cursor.end() ? "" : mark->second;
           std::string newest = high;
           std::int64_t own = 0;
           for (const auto& item : list->value.GetArray()) {
             auto p = bluesky::read_post_view(item);
             if (!p || (!high.empty() && p->indexed_at < high)) continue;
             newest = std::max(newest, p->indexed_at);
             if (session_ && p->author_did == session_->did) {
               ++own;
               continue;
             }
             st->posts.push_back({std::move(*p), source});
           }
           count("watch", "own", own);
           if (!newest.empty()) st->cursor[source] = newest;
           next_watch(st);
         });
  }

  // ---- direct messages -------------------------------------------------------------------

  // A chat service that refuses this app password (one made without access to direct
  // messages) is reported once, and not asked again until a restart; it never holds up posts.
  // Any other failure of the chat service skips direct messages for this round only.
  bool chat_refused(const core::result<net::incoming_response>& answer) {
    if (answer && method_refused(*answer)) {
      chat_allowed_ = false;
      note_error("direct messages are not read: the chat service refused this app password (" +
                 error_of(*answer).message + "); make one that may use direct messages");
      return true;
    }
    if (!answer || answer->status != 200) {
      note_error("chat getLog: " + (answer ? error_of(*answer).message : answer.err().message) +
                 "; direct messages are read again next round");
      return true;
    }
    return false;
  }

  // chat.bsky.convo.getLog from the saved cursor: the messages others sent since.
  void chat_log(const std::shared_ptr<round_state>& st) {
    const auto known = st->cursor.find("chat");
    const std::string query =
        known == st->cursor.end() ? "" : "cursor=" + net::percent_encode(known->second);
    xrpc("GET", "chat.bsky.convo.getLog", query, "",
         [this, st](core::result<net::incoming_response> answer, std::chrono::milliseconds wait) {
           if (chat_refused(answer)) {
             store(st);
             return;
           }
           std::optional<json::document> doc;
           if (ended(st, "chat getLog", answer, wait, doc)) return;
           const auto& root = doc->root();
           const auto logs = root.FindMember("logs");
           if (logs == root.MemberEnd() || !logs->value.IsArray()) {
             st->round->failed("chat getLog: the answer has no logs");
             return;
           }
           for (const auto& log : logs->value.GetArray()) {
             if (json::string_member(log, "$type") != "chat.bsky.convo.defs#logCreateMessage") {
               continue;
             }
             const auto message = log.FindMember("message");
             if (message == log.MemberEnd() || !message->value.IsObject()) continue;
             const auto& m = message->value;
             // A message deleted since: nothing to read.
             if (json::string_member(m, "$type") == "chat.bsky.convo.defs#deletedMessageView") {
               continue;
             }
             round_state::chat_message c;
             c.convo = json::string_member(log, "convoId");
             c.id = json::string_member(m, "id");
             const auto sender = m.FindMember("sender");
             if (sender != m.MemberEnd()) c.sender_did = json::string_member(sender->value, "did");
             if (c.convo.empty() || c.id.empty() || c.sender_did.empty()) continue;
             if (session_ && c.sender_did == session_->did) continue;  // the library's own
             const auto facets = m.FindMember("facets");
             c.text = core::repair_utf8(bluesky::apply_facets(
                 json::string_member(m, "text"), facets != m.MemberEnd() ? &facets->value : nullptr,
                 c.links));
             c.sent_at = core::parse_iso8601(json::string_member(m, "sentAt"))
                             .value_or(context_.clock().now());
             st->chats.push_back(std::move(c));
           }
           const std::string next(json::string_member(root, "cursor"));
           if (!next.empty()) st->cursor["chat"] = next;
           if (!next.empty() && !logs->value.Empty() && ++st->chat_pages < chat_log_pages) {
             chat_log(st);
             return;
           }
           chat_members(st);
         });
  }

  // Who wrote: each conversation's other member (chat.bsky.convo.getConvo).
  void chat_members(const std::shared_ptr<round_state>& st) {
    for (const auto& c : st->chats) {
      if (st->members.contains(c.convo)) continue;
      st->members[c.convo] = {};
      xrpc("GET", "chat.bsky.convo.getConvo", "convoId=" + net::percent_encode(c.convo), "",
           [this, st, convo = c.convo](core::result<net::incoming_response> answer,
                                       std::chrono::milliseconds wait) {
             // Without its members the message is named by the sender's did.
             auto parsed = answer && answer->status == 200
                               ? json::document::parse(answer->body)
                               : core::result<json::document>(core::error{"unavailable", ""});
             if (!parsed) {
               note_error("chat getConvo: " +
                          (answer ? error_of(*answer).message : answer.err().message));
               chat_members(st);
               return;
             }
             (void)wait;
             const auto& root = parsed->root();
             const auto c = root.FindMember("convo");
             if (c != root.MemberEnd() && c->value.IsObject()) {
               const auto members = c->value.FindMember("members");
               if (members != c->value.MemberEnd() && members->value.IsArray()) {
                 for (const auto& m : members->value.GetArray()) {
                   const std::string did(json::string_member(m, "did"));
                   if (session_ && did == session_->did) continue;
                   st->members[convo][did] = {std::string(json::string_member(m, "handle")),
                                              std::string(json::string_member(m, "displayName"))};
                 }
               }
             }
             chat_members(st);
           });
      return;
    }
    store(st);
  }

  core::inbound_message chat_message_of(const round_state::chat_message& c,
                                        const std::pair<std::string, std::string>& who) const {
    core::inbound_message m;
    m.external_id = "dm:" + c.id;
    // A direct conversation is its own thread: never a public post's.
    m.thread = "dm:" + c.convo;
    const std::string handle = who.first.empty() ? c.sender_did : who.first;
    m.sender_address = "@" + handle;
    m.sender_name = who.second.empty() ? m.sender_address : who.second;
    m.text = c.text.empty() ? "[An empty message]" : c.text;
    m.received_at = context_.clock().now();
    m.sent_at = c.sent_at;
    m.facts["visibility"] = "direct";
    m.facts["did"] = c.sender_did;
    if (!who.first.empty()) m.facts["profile_url"] = "https://bsky.app/profile/" + who.first;
    m.reply_facts = {{"convo_id", c.convo}, {"did", c.sender_did}, {"handle", handle}};
    return m;
  }

  void store(const std::shared_ptr<round_state>& st) {
    std::stable_sort(st->posts.begin(), st->posts.end(), [](const found& a, const found& b) {
      return a.p.indexed_at < b.p.indexed_at;
    });
    std::vector<core::inbound_message> batch;
    std::int64_t notified = 0, watched = 0;
    for (const auto& f : st->posts) {
      (f.watched.empty() ? notified : watched) += 1;
      batch.push_back(message_of(f));
    }
    for (const auto& c : st->chats) {
      batch.push_back(chat_message_of(c, st->members[c.convo][c.sender_did]));
    }
    const auto chats = static_cast<std::int64_t>(st->chats.size());
    st->round->deliver(std::move(batch), [this, st, notified, watched, chats](bool stored) {
      auto& round = *st->round;
      if (!stored) {
        round.failed("a post could not be stored; it is read again");
        return;
      }
      count("notification", "stored", notified);
      count("watch", "stored", watched);
      count("direct", "stored", chats);
      if (notified + watched + chats > 0) health_.last_success = context_.clock().now();
      round.save_cursor(st->cursor, [this, st, notified] {
        // What is durable is seen: the library's Bluesky apps stop showing it as new.
        if (notified > 0) {
          json::writer w;
          w.start_object().field("seenAt", st->newest_notification).end_object();
          xrpc("POST", "app.bsky.notification.updateSeen", "", w.str(),
               [](core::result<net::incoming_response>, std::chrono::milliseconds) {});
        }
        st->round->done();
      });
    });
  }

  core::inbound_message message_of(const found& f) const {
    const post& p = f.p;
    core::inbound_message m;
    m.external_id = p.uri;
    // Every post names its conversation: a reply joins the one of its parent, else of its
    // thread's root (the patron's own, when someone else wrote in between).
    m.thread = p.uri;
    if (p.parent) m.references.push_back({"parent", p.parent->uri});
    if (p.root && (!p.parent || p.parent->uri != p.root->uri)) {
      m.references.push_back({"root", p.root->uri});
    }
    m.sender_address = "@" + p.handle;
    m.sender_name = p.display_name.empty() ? m.sender_address : p.display_name;
    m.text = p.text;
    if (m.text.empty() && p.attachments.empty()) m.text = "[A post without text]";
    m.attachments = p.attachments;
    m.received_at = context_.clock().now();
    m.sent_at = p.created_at == core::timestamp{} ? m.received_at : p.created_at;
    const std::string profile = "https://bsky.app/profile/" + p.handle;
    m.facts["uri"] = p.uri;
    m.facts["cid"] = p.cid;
    m.facts["did"] = p.author_did;
    m.facts["visibility"] = "public";
    m.facts["profile_url"] = profile;
    m.facts["status_url"] = profile + "/post/" + bluesky::rkey_of(p.uri);
    m.facts[std::string(core::fact_public)] = "1";
    if (!p.reason.empty()) m.facts["reason"] = p.reason;
    if (!p.language.empty()) m.facts[std::string(core::fact_language)] = p.language;
    std::string links;
    for (const auto& l : p.links) links += (links.empty() ? "" : " ") + l;
    if (!links.empty()) m.facts["links"] = std::string(core::truncate_utf8(links, 4000));
    if (!f.watched.empty()) m.facts["watched"] = f.watched;
    if (!f.watched.empty() || settings_.social.triage)
      m.facts[std::string(core::fact_triage)] = "1";
    const bluesky::strong_ref root = p.root.value_or(bluesky::strong_ref{p.uri, p.cid});
    m.reply_facts = {{"parent_uri", p.uri},   {"parent_cid", p.cid}, {"root_uri", root.uri},
                     {"root_cid", root.cid},  {"did", p.author_did}, {"handle", p.handle},
                     {"language", p.language}};
    return m;
  }

  // ---- replies ---------------------------------------------------------------------------

  struct send_job {
    std::string message;
    bluesky::strong_ref parent, root;
    bluesky::rich_text text;
    std::string language;
    std::string rkey;
    bool retried = false;  // an earlier attempt may have landed
    std::function<void(send_result)> done;
  };

  void finish(const std::shared_ptr<send_job>& job, send_result result) {
    if (auto done = std::move(job->done)) done(std::move(result));
  }

  // A direct message's answer, in its conversation only (chat.bsky.convo.sendMessage). The
  // chat service has no idempotency key: a send that may have arrived is not sent again.
  void send_direct(const std::shared_ptr<send_job>& job, const std::string& convo,
                   const std::string& text) {
    json::writer w;
    w.start_object()
        .field("convoId", convo)
        .key("message")
        .start_object()
        .field("text", text)
        .end_object()
        .end_object();
    xrpc("POST", "chat.bsky.convo.sendMessage", "", w.str(),
         [this, job](core::result<net::incoming_response> answer, std::chrono::milliseconds wait) {
           if (answer && answer->status == 200) {
             auto doc = json::document::parse(answer->body);
             health_.last_success = context_.clock().now();
             finish(job, send_result::sent(doc ? std::string(json::string_member(doc->root(), "id"))
                                               : ""));
             return;
           }
           if (!answer) {
             note_error("sending a direct message: " + answer.err().message);
             if (answer.err().code == "uncertain") {
               finish(job, send_result::permanent(
                               "the chat service may have taken the message before the "
                               "connection failed, so it is not sent again: " +
                               answer.err().message));
               return;
             }
             auto later = send_result::retry(answer.err().message);
             later.retry_after = wait;
             finish(job, std::move(later));
             return;
           }
           const auto e = error_of(*answer);
           note_error("sending a direct message: " + e.message);
           // Refused before it was read (too many, unavailable): later. Any other server
           // failure may have come after the message was taken: not sent again.
           if (answer->status == 429 || answer->status == 503) {
             finish(job, retry_later(*answer, e));
             return;
           }
           finish(job, send_result::permanent(
                           answer->status >= 500
                               ? "the chat service may have taken the message before it failed (" +
                                     e.message + "), so it is not sent again"
                               : e.message,
                           e.name));
         });
  }

  // A retry first asks whether the record an earlier attempt made is there.
  void check_then_post(const std::shared_ptr<send_job>& job) {
    with_session([this, job](core::status ready) {
      if (!ready) {
        finish(job, send_result::retry(ready.err().message));
        return;
      }
      look_up(job, [this, job](bool landed) {
        if (!landed) create(job);
      });
    });
  }

  // Calls `absent(false)` when the record is not there; finishes the job otherwise.
  void look_up(const std::shared_ptr<send_job>& job, std::function<void(bool)> absent) {
    const std::string query = "repo=" + net::percent_encode(session_->did) +
                              "&collection=" + std::string(post_collection) + "&rkey=" + job->rkey;
    xrpc("GET", "com.atproto.repo.getRecord", query, "",
         [this, job, absent = std::move(absent)](core::result<net::incoming_response> answer,
                                                 std::chrono::milliseconds wait) {
           if (answer && answer->status == 200) {
             auto doc = json::document::parse(answer->body);
             health_.last_success = context_.clock().now();
             finish(job,
                    send_result::sent(doc ? std::string(json::string_member(doc->root(), "uri"))
                                          : std::string()));
             return;
           }
           if (answer && answer->status == 400 && error_of(*answer).name == "RecordNotFound") {
             absent(false);
             return;
           }
           auto later =
               send_result::retry("asking whether an earlier attempt was posted: " +
                                  (answer ? error_of(*answer).message : answer.err().message));
           later.retry_after = wait;
           finish(job, std::move(later));
         });
  }

  void create(const std::shared_ptr<send_job>& job) {
    with_session([this, job](core::status ready) {
      if (!ready) {
        finish(job, send_result::retry(ready.err().message));
        return;
      }
      json::writer w;
      w.start_object()
          .field("repo", session_->did)
          .field("collection", post_collection)
          .field("rkey", job->rkey)
          .key("record")
          .start_object()
          .field("$type", post_collection)
          .field("text", job->text.text)
          .field("createdAt", core::format_iso8601(context_.clock().now()))
          .key("langs")
          .start_array()
          .string(job->language)
          .end_array()
          .key("facets")
          .raw(job->text.facets)
          .key("reply")
          .start_object()
          .key("root")
          .start_object()
          .field("uri", job->root.uri)
          .field("cid", job->root.cid)
          .end_object()
          .key("parent")
          .start_object()
          .field("uri", job->parent.uri)
          .field("cid", job->parent.cid)
          .end_object()
          .end_object()
          .end_object()
          .end_object();
      xrpc(
          "POST", "com.atproto.repo.createRecord", "", w.str(),
          [this, job](core::result<net::incoming_response> answer, std::chrono::milliseconds wait) {
            if (answer && answer->status == 200) {
              auto doc = json::document::parse(answer->body);
              health_.last_success = context_.clock().now();
              context_.erase("rkey:" + job->message, [](core::status) {});
              finish(job, send_result::sent(
                              doc ? std::string(json::string_member(doc->root(), "uri")) : ""));
              return;
            }
            if (!answer && answer.err().code == "rate_limited") {
              auto later = send_result::retry(answer.err().message);
              later.retry_after = wait;
              finish(job, std::move(later));
              return;
            }
            // It may have landed (the connection broke after sending, or the key exists and
            // the PDS answers 500): the next attempt asks before posting again.
            if (!answer || answer->status >= 500) {
              const std::string why = answer ? error_of(*answer).message : answer.err().message;
              note_error("posting a reply: " + why);
              finish(job, send_result::retry(why));
              return;
            }
            const auto e = error_of(*answer);
            note_error("posting a reply: " + e.message);
            if (answer->status == 429 || answer->status == 401) {
              finish(job, retry_later(*answer, e));
              return;
            }
            finish(job, send_result::permanent(e.message, e.name));
          });
    });
  }

  const bluesky_settings settings_;
  connector_context& context_;
  core::channel_traits traits_;
  connector_health health_;
  std::minstd_rand random_;
  rate_window window_;
  std::optional<session> session_;
  bool chat_allowed_ = true;  // until the chat service refuses the app password
  std::vector<std::function<void(core::status)>> session_waiters_;
  poller poller_;
};

class bluesky_factory final : public connector_factory {
 public:
  std::string_view type() const override { return "bluesky"; }

  std::unique_ptr<connector_settings> parse(json::object_reader& block) const override {
    auto s = std::make_unique<bluesky_settings>();
    auto& out = block.out();
    if (auto service = block.required_string("service")) {
      s->service = *service;
      while (s->service.ends_with('/')) s->service.pop_back();
      if (!core::is_http_url(s->service)) {
        out.add(block.child_path("service"),
                "must be the PDS's base URL, like https://bsky.social");
      }
    }
    if (auto identifier = block.required_string("identifier")) {
      s->identifier = *identifier;
      if (identifier->empty() || identifier->find_first_of(" /") != std::string::npos) {
        out.add(block.child_path("identifier"),
                "must be the account's handle (library.bsky.social) or DID");
      }
    }
    if (auto password = block.required_string("app_password")) s->app_password = *password;
    s->social = read_social_options(block);
    s->language = block.string("language", "en");
    if (s->language.empty() || s->language.size() > 35 ||
        s->language.find_first_of(" ,;") != std::string::npos) {
      out.add(block.child_path("language"), "must be a language tag like en or fr-CA");
    }
    s->direct_messages = block.boolean("direct_messages", true);
    return s;
  }

  lane_settings lane_defaults() const override {
    return {.concurrency = 4,
            .per_second = 1,
            .send_timeout = std::chrono::seconds(60),
            .max_attempts = 10};
  }

  std::unique_ptr<connector> create(std::unique_ptr<connector_settings> settings,
                                    connector_context& context) const override {
    return std::make_unique<bluesky_connector>(static_cast<const bluesky_settings&>(*settings),
                                               context);
  }
};

}  // namespace

std::unique_ptr<connector_factory> make_bluesky_factory() {
  return std::make_unique<bluesky_factory>();
}

}  // namespace askdesk::connectors
