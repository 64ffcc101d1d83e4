// The fake PDS and chat service. One askdesk http_server on its own io thread answers every
// request through a single handler, so that each is recorded, checked for an injected failure
// and routed the same way. Its state (tokens, profiles, conversations, the chat log, the
// records) sits behind one mutex shared with the test thread; one condition variable wakes a
// test waiting for a request or a sent message.
//
// A request goes the way the reference PDS sends it (packages/pds/src/pipethrough.ts): the
// atproto-proxy header picks the service (none: the AppView, which has no chat methods and
// answers 501; one the PDS cannot resolve: 400), then the Bearer token is checked (missing
// 401 AuthMissing, unknown 400 InvalidToken, expired 400 ExpiredToken), then a chat method
// needs a privileged scope (400 InvalidToken "Bad token method"), and only then does the
// chat service or the AppView answer. Sessions are the PDS's own methods.
//
// The chat log is one list of entries in the order they happened, each with a rev (a TID);
// messages live beside it, so that an entry written about a message shows the message as it
// is now (deleted or not) when getLog renders it. Tokens are JWTs in shape only: a header,
// the payload the connector reads exp from, and a random signature; the fake knows them by
// their whole text.
#include "tests/support/fake_bluesky_pds.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <cctype>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>

#include "daemon/core/channel.hpp"
#include "daemon/core/time.hpp"
#include "daemon/json/document.hpp"
#include "daemon/json/writer.hpp"
#include "daemon/net/crypto.hpp"
#include "daemon/net/http.hpp"
#include "daemon/net/http_server.hpp"

namespace askdesk::testing {

namespace {

constexpr std::string_view appview_proxy = "did:web:api.bsky.app#bsky_appview";
constexpr std::string_view pds_audience = "did:web:127.0.0.1";
constexpr std::string_view scope_privileged = "com.atproto.appPassPrivileged";
constexpr std::string_view scope_app_pass = "com.atproto.appPass";
constexpr std::string_view scope_refresh = "com.atproto.refresh";
constexpr auto access_lifetime = std::chrono::hours(2);
constexpr auto refresh_lifetime = std::chrono::hours(24 * 90);
constexpr std::size_t max_message_graphemes = 1000;
constexpr std::size_t max_message_bytes = 10000;
constexpr std::string_view defs = "chat.bsky.convo.defs#";

const char* const plain_log_types[] = {"logBeginConvo", "logAcceptConvo", "logMuteConvo",
                                       "logUnmuteConvo", "logLeaveConvo"};

struct token_record {
  bool refresh = false;
  std::string scope;     // an access token's; a refresh token keeps its session's here
  bool expired = false;  // an access token answers ExpiredToken
  bool revoked = false;  // a refresh token is refused
};

struct chat_message {
  std::string id, rev, convo, sender, text;
  std::string facets;  // JSON array; "" for none
  core::timestamp sent_at{};
  bool deleted = false;
};

struct convo_record {
  std::string id, rev, patron;
  std::vector<std::string> messages;  // ids, oldest first
  bool muted = false;
};

struct log_entry {
  std::string rev, type, convo;
  std::string message;  // the message's id, for the types that carry one
};

struct queued_answer {
  std::string nsid;
  net::http_response response;
};

net::http_response xrpc_error(int status, std::string_view name, std::string_view message) {
  json::writer w;
  w.start_object().field("error", name).field("message", message).end_object();
  return net::http_response::json(status, w.str());
}

std::string base64url(std::string_view bytes) {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const char c : bytes) {
    buffer = (buffer << 8) | static_cast<unsigned char>(c);
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += alphabet[(buffer >> bits) & 63];
    }
  }
  if (bits > 0) out += alphabet[(buffer << (6 - bits)) & 63];
  return out;
}

std::string serialize(const rapidjson::Value& v) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  v.Accept(writer);
  return {buffer.GetString(), buffer.GetSize()};
}

bool privileged(std::string_view scope) {
  return scope == "com.atproto.access" || scope == scope_privileged;
}

std::int64_t unix_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

core::timestamp now_ms() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

// The JSON body of a procedure, or the XRPC server's 400 when it has none.
std::optional<net::http_response> json_input(const net::http_request& r,
                                             std::optional<json::document>& doc) {
  const std::string type(r.header("content-type"));
  if (type.substr(0, type.find(';')) != "application/json") {
    return xrpc_error(400, "InvalidRequest",
                      "Request encoding (Content-Type) required but not provided");
  }
  auto parsed = json::document::parse(r.body);
  if (!parsed || !parsed->root().IsObject()) {
    return xrpc_error(400, "InvalidRequest", "Input must be an object");
  }
  doc = std::move(*parsed);
  return std::nullopt;
}

// A string member of an input object; nullopt when it is absent or not a string.
std::optional<std::string> required_string(const rapidjson::Value& v, const char* key) {
  const auto m = v.FindMember(key);
  if (m == v.MemberEnd() || !m->value.IsString()) return std::nullopt;
  return std::string(m->value.GetString(), m->value.GetStringLength());
}

}  // namespace

struct fake_bluesky_pds::state {
  explicit state(std::string password) : app_password(std::move(password)) {}

  void serve(const net::http_request& r, net::respond_fn respond);
  // The rest run under the lock.
  net::http_response route(const net::http_request& r, const std::string& nsid, std::string& scope);
  net::http_response create_session(const net::http_request& r);
  net::http_response refresh_session(const net::http_request& r, std::string& scope);
  net::http_response issue(const std::string& scope);
  // The token of the request's Bearer header, or the answer refusing it.
  std::optional<net::http_response> authorize(const net::http_request& r, bool want_refresh,
                                              std::string& token);
  net::http_response get_log(const net::http_request& r) const;
  net::http_response get_convo(const net::http_request& r) const;
  net::http_response send_message(const net::http_request& r);
  std::string next_tid();
  std::string append_log(const std::string& type, const std::string& convo,
                         const std::string& message);
  void write_profile(json::writer& w, const profile& p) const;
  void write_message(json::writer& w, const chat_message& m, bool typed) const;
  void write_log(json::writer& w, const log_entry& e) const;
  void write_convo(json::writer& w, const convo_record& c) const;
  convo_record& find_convo(const std::string& id, const char* caller);

  const std::string app_password;
  mutable std::mutex mutex;
  mutable std::condition_variable changed;
  bool dm_allowed = true;
  std::map<std::string, token_record> tokens;  // by the token's text
  std::size_t logins = 0, refreshes = 0;
  std::map<std::string, profile> profiles;  // by DID, the library's too
  std::map<std::string, convo_record> convos;
  std::map<std::string, chat_message> messages;  // by id
  std::vector<log_entry> log;                    // oldest first
  std::size_t log_page = 50;
  std::uint64_t last_micros = 0;
  std::deque<queued_answer> queued;
  std::vector<request> requests;
  std::vector<sent_message> sent;

  boost::asio::io_context io{1};
  net::http_router router;
  std::unique_ptr<net::http_server> server;
};

void fake_bluesky_pds::state::serve(const net::http_request& r, net::respond_fn respond) {
  request seen;
  seen.http_method = r.method;
  seen.query = r.query;
  seen.body = r.body;
  seen.proxy = r.header("atproto-proxy");
  seen.at = std::chrono::steady_clock::now();
  const bool xrpc = r.path.starts_with("/xrpc/");
  if (xrpc) seen.nsid = r.path.substr(6);

  std::unique_lock lock(mutex);
  net::http_response out;
  const auto injected = std::find_if(queued.begin(), queued.end(),
                                     [&](const queued_answer& q) { return q.nsid == seen.nsid; });
  if (xrpc && injected != queued.end()) {
    out = std::move(injected->response);
    queued.erase(injected);
  } else if (!xrpc) {
    out = xrpc_error(404, "NotFound", "Not Found");
  } else {
    out = route(r, seen.nsid, seen.scope);
  }
  seen.status = out.status;
  requests.push_back(std::move(seen));
  changed.notify_all();
  lock.unlock();
  respond(std::move(out));
}

net::http_response fake_bluesky_pds::state::route(const net::http_request& r,
                                                  const std::string& nsid, std::string& scope) {
  const auto wrong_method = [&](std::string_view expected) -> std::optional<net::http_response> {
    if (r.method == expected) return std::nullopt;
    return xrpc_error(400, "InvalidRequest",
                      "Incorrect HTTP method (" + r.method + ") expected " + std::string(expected));
  };
  // The PDS's own methods.
  if (nsid == "com.atproto.server.createSession") {
    if (auto refused = wrong_method("POST")) return *refused;
    return create_session(r);
  }
  if (nsid == "com.atproto.server.refreshSession") {
    if (auto refused = wrong_method("POST")) return *refused;
    return refresh_session(r, scope);
  }

  // Everything else is proxied: to the service the header names, or to the AppView.
  const std::string proxy(r.header("atproto-proxy"));
  if (!proxy.empty() && proxy != chat_proxy && proxy != appview_proxy) {
    return xrpc_error(400, "InvalidRequest", "could not resolve proxy did service url");
  }
  std::string token;
  if (auto refused = authorize(r, false, token)) return *refused;
  scope = tokens.at(token).scope;
  const bool chat_method = nsid.starts_with("chat.bsky.");
  if (chat_method && !privileged(scope)) {
    return xrpc_error(400, "InvalidToken", "Bad token method");
  }
  if (proxy == chat_proxy) {
    if (nsid == "chat.bsky.convo.getLog") {
      if (auto refused = wrong_method("GET")) return *refused;
      return get_log(r);
    }
    if (nsid == "chat.bsky.convo.getConvo") {
      if (auto refused = wrong_method("GET")) return *refused;
      return get_convo(r);
    }
    if (nsid == "chat.bsky.convo.sendMessage") {
      if (auto refused = wrong_method("POST")) return *refused;
      return send_message(r);
    }
    return xrpc_error(501, "MethodNotImplemented", "Method Not Implemented");
  }
  if (nsid == "app.bsky.notification.listNotifications") {
    if (auto refused = wrong_method("GET")) return *refused;
    // Nothing to notify: this fake is for direct messages.
    return net::http_response::json(200, R"({"notifications":[]})");
  }
  if (nsid == "app.bsky.notification.updateSeen") {
    if (auto refused = wrong_method("POST")) return *refused;
    std::optional<json::document> doc;
    if (auto refused = json_input(r, doc)) return *refused;
    if (!required_string(doc->root(), "seenAt")) {
      return xrpc_error(400, "InvalidRequest", "Input must have the property \"seenAt\"");
    }
    net::http_response ok;
    ok.status = 200;
    ok.content_type = "";
    return ok;
  }
  // Anything else, com.atproto.repo.createRecord included, is not served here.
  return xrpc_error(501, "MethodNotImplemented", "Method Not Implemented");
}

std::optional<net::http_response> fake_bluesky_pds::state::authorize(const net::http_request& r,
                                                                     bool want_refresh,
                                                                     std::string& token) {
  const std::string_view header = r.header("authorization");
  if (!header.starts_with("Bearer ")) {
    return xrpc_error(401, "AuthMissing", "Authentication Required");
  }
  token = header.substr(7);
  const auto known = tokens.find(token);
  if (known == tokens.end()) return xrpc_error(400, "InvalidToken", "Token could not be verified");
  const token_record& t = known->second;
  if (t.refresh != want_refresh) return xrpc_error(400, "InvalidToken", "Bad token scope");
  if (t.expired) return xrpc_error(400, "ExpiredToken", "Token has expired");
  if (t.revoked) return xrpc_error(400, "ExpiredToken", "Token has been revoked");
  return std::nullopt;
}

net::http_response fake_bluesky_pds::state::create_session(const net::http_request& r) {
  std::optional<json::document> doc;
  if (auto refused = json_input(r, doc)) return *refused;
  const auto identifier = required_string(doc->root(), "identifier");
  const auto password = required_string(doc->root(), "password");
  if (!identifier) {
    return xrpc_error(400, "InvalidRequest", "Input must have the property \"identifier\"");
  }
  if (!password) {
    return xrpc_error(400, "InvalidRequest", "Input must have the property \"password\"");
  }
  std::string lowered = *identifier;
  for (auto& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if ((lowered != library_handle && *identifier != library_did) || *password != app_password) {
    return xrpc_error(401, "AuthenticationRequired", "Invalid identifier or password");
  }
  ++logins;
  return issue(std::string(dm_allowed ? scope_privileged : scope_app_pass));
}

net::http_response fake_bluesky_pds::state::refresh_session(const net::http_request& r,
                                                            std::string& scope) {
  std::string token;
  if (auto refused = authorize(r, true, token)) return *refused;
  auto& used = tokens.at(token);
  used.revoked = true;
  scope = std::string(scope_refresh);
  ++refreshes;
  return issue(used.scope);
}

net::http_response fake_bluesky_pds::state::issue(const std::string& scope) {
  const auto now = std::chrono::system_clock::now();
  const auto jwt = [](std::string_view typ, const std::string& payload) {
    return base64url(R"({"typ":")" + std::string(typ) + R"(","alg":"HS256"})") + "." +
           base64url(payload) + "." + net::random_token();
  };
  json::writer access;
  access.start_object()
      .field("scope", scope)
      .field("sub", library_did)
      .field("aud", pds_audience)
      .field("iat", unix_seconds(now))
      .field("exp", unix_seconds(now + access_lifetime))
      .end_object();
  json::writer refresh;
  refresh.start_object()
      .field("scope", scope_refresh)
      .field("sub", library_did)
      .field("aud", pds_audience)
      .field("jti", net::random_token())
      .field("iat", unix_seconds(now))
      .field("exp", unix_seconds(now + refresh_lifetime))
      .end_object();
  const std::string access_jwt = jwt("at+jwt", access.str());
  const std::string refresh_jwt = jwt("refresh+jwt", refresh.str());
  tokens[access_jwt] = {false, scope, false, false};
  tokens[refresh_jwt] = {true, scope, false, false};
  json::writer w;
  w.start_object()
      .field("did", library_did)
      .field("handle", library_handle)
      .field("accessJwt", access_jwt)
      .field("refreshJwt", refresh_jwt)
      .field("active", true)
      .end_object();
  return net::http_response::json(200, w.str());
}

net::http_response fake_bluesky_pds::state::get_log(const net::http_request& r) const {
  const std::string cursor = r.query_param("cursor").value_or("");
  json::writer w;
  w.start_object().key("logs").start_array();
  std::string last = cursor;
  std::size_t n = 0;
  for (const auto& e : log) {
    if (n == log_page) break;
    if (!cursor.empty() && e.rev <= cursor) continue;
    write_log(w, e);
    last = e.rev;
    ++n;
  }
  w.end_array();
  if (!last.empty()) w.field("cursor", last);
  w.end_object();
  return net::http_response::json(200, w.str());
}

net::http_response fake_bluesky_pds::state::get_convo(const net::http_request& r) const {
  const auto id = r.query_param("convoId");
  if (!id) return xrpc_error(400, "InvalidRequest", "Params must have the property \"convoId\"");
  const auto c = convos.find(*id);
  if (c == convos.end()) return xrpc_error(400, "InvalidConvo", "Convo not found");
  json::writer w;
  w.start_object().key("convo");
  write_convo(w, c->second);
  w.end_object();
  return net::http_response::json(200, w.str());
}

net::http_response fake_bluesky_pds::state::send_message(const net::http_request& r) {
  std::optional<json::document> doc;
  if (auto refused = json_input(r, doc)) return *refused;
  const auto& root = doc->root();
  const auto convo_id = required_string(root, "convoId");
  if (!convo_id) {
    return xrpc_error(400, "InvalidRequest", "Input must have the property \"convoId\"");
  }
  const auto input = root.FindMember("message");
  if (input == root.MemberEnd() || !input->value.IsObject()) {
    return xrpc_error(400, "InvalidRequest", "Input must have the property \"message\"");
  }
  const auto text = required_string(input->value, "text");
  if (!text) {
    return xrpc_error(400, "InvalidRequest", "Input/message must have the property \"text\"");
  }
  if (text->size() > max_message_bytes) {
    return xrpc_error(400, "InvalidRequest",
                      "Input/message/text must not be longer than 10000 characters");
  }
  if (core::measure(*text, core::length_unit::graphemes) > max_message_graphemes) {
    return xrpc_error(400, "InvalidRequest",
                      "Input/message/text must not be longer than 1000 graphemes");
  }
  std::string facets;
  if (const auto f = input->value.FindMember("facets"); f != input->value.MemberEnd()) {
    if (!f->value.IsArray()) {
      return xrpc_error(400, "InvalidRequest", "Input/message/facets must be an array");
    }
    facets = serialize(f->value);
  }
  const auto c = convos.find(*convo_id);
  if (c == convos.end()) return xrpc_error(400, "InvalidConvo", "Convo not found");
  chat_message m;
  m.id = next_tid();
  m.convo = *convo_id;
  m.sender = library_did;
  m.text = *text;
  m.facets = facets;
  m.sent_at = now_ms();
  m.rev = append_log("logCreateMessage", m.convo, m.id);
  c->second.messages.push_back(m.id);
  messages[m.id] = m;
  sent.push_back({m.convo, m.id, m.rev, m.text, m.facets, std::chrono::steady_clock::now()});
  json::writer w;
  write_message(w, m, false);
  return net::http_response::json(200, w.str());
}

std::string fake_bluesky_pds::state::next_tid() {
  static constexpr std::string_view base32_sortable = "234567abcdefghijklmnopqrstuvwxyz";
  const auto micros =
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
  last_micros = std::max(micros, last_micros + 1);
  std::uint64_t v = (last_micros & ((std::uint64_t{1} << 53) - 1)) << 10;  // clock id 0
  std::string out(13, '2');
  for (int i = 12; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = base32_sortable[v & 31];
    v >>= 5;
  }
  return out;
}

std::string fake_bluesky_pds::state::append_log(const std::string& type, const std::string& convo,
                                                const std::string& message) {
  const std::string rev = next_tid();
  log.push_back({rev, type, convo, message});
  convos.at(convo).rev = rev;
  changed.notify_all();
  return rev;
}

void fake_bluesky_pds::state::write_profile(json::writer& w, const profile& p) const {
  w.start_object().field("did", p.did).field("handle", p.handle);
  if (!p.display_name.empty()) w.field("displayName", p.display_name);
  w.key("kind")
      .start_object()
      .field("$type", "chat.bsky.actor.defs#directConvoMember")
      .end_object()
      .end_object();
}

void fake_bluesky_pds::state::write_message(json::writer& w, const chat_message& m,
                                            bool typed) const {
  w.start_object();
  if (typed) {
    w.field("$type", std::string(defs) + (m.deleted ? "deletedMessageView" : "messageView"));
  }
  w.field("id", m.id).field("rev", m.rev);
  if (!m.deleted) {
    w.field("text", m.text);
    if (!m.facets.empty()) w.key("facets").raw(m.facets);
  }
  w.key("sender").start_object().field("did", m.sender).end_object();
  w.field("sentAt", core::format_iso8601(m.sent_at)).end_object();
}

void fake_bluesky_pds::state::write_log(json::writer& w, const log_entry& e) const {
  w.start_object()
      .field("$type", std::string(defs) + e.type)
      .field("rev", e.rev)
      .field("convoId", e.convo);
  if (!e.message.empty()) {
    const auto& m = messages.at(e.message);
    w.key("message");
    write_message(w, m, true);
    if (e.type == "logCreateMessage") {
      w.key("relatedProfiles").start_array();
      write_profile(w, profiles.at(m.sender));
      w.end_array();
    }
  }
  w.end_object();
}

void fake_bluesky_pds::state::write_convo(json::writer& w, const convo_record& c) const {
  w.start_object().field("id", c.id).field("rev", c.rev).key("members").start_array();
  write_profile(w, profiles.at(library_did));
  write_profile(w, profiles.at(c.patron));
  w.end_array();
  std::int64_t unread = 0;
  for (auto it = c.messages.rbegin(); it != c.messages.rend(); ++it) {
    if (messages.at(*it).sender == library_did) break;
    ++unread;
  }
  if (!c.messages.empty()) {
    w.key("lastMessage");
    write_message(w, messages.at(c.messages.back()), true);
  }
  w.field("muted", c.muted)
      .field("status", "accepted")
      .field("unreadCount", unread)
      .key("kind")
      .start_object()
      .field("$type", std::string(defs) + "directConvo")
      .end_object()
      .end_object();
}

convo_record& fake_bluesky_pds::state::find_convo(const std::string& id, const char* caller) {
  const auto c = convos.find(id);
  if (c == convos.end()) {
    throw std::invalid_argument(std::string("fake_bluesky_pds::") + caller + ": no conversation " +
                                id);
  }
  return c->second;
}

fake_bluesky_pds::fake_bluesky_pds(std::string app_password)
    : app_password_(std::move(app_password)), state_(std::make_shared<state>(app_password_)) {
  state* s = state_.get();  // it owns the router and the thread's work: they must not own it
  for (const char* method : {"GET", "POST", "PUT", "DELETE"}) {
    s->router.add(method, "/*",
                  [s](const net::http_request& r, const net::route_params&,
                      net::respond_fn respond) { s->serve(r, std::move(respond)); });
  }
  s->server = net::http_server::create(s->io, {.host = "127.0.0.1", .port = 0}, s->router);
  if (!s->server->listen()) throw std::runtime_error("fake bluesky pds cannot listen");
  port_ = s->server->port();
  s->profiles[library_did] = {library_did, library_handle, "The Library"};
  server_thread_ = std::thread([s] { s->io.run(); });
}

fake_bluesky_pds::~fake_bluesky_pds() {
  state_->io.stop();
  server_thread_.join();
}

std::string fake_bluesky_pds::base() const { return "http://127.0.0.1:" + std::to_string(port_); }

void fake_bluesky_pds::allow_direct_messages(bool allowed) {
  std::lock_guard lock(state_->mutex);
  state_->dm_allowed = allowed;
}

void fake_bluesky_pds::expire_access_tokens() {
  std::lock_guard lock(state_->mutex);
  for (auto& [text, t] : state_->tokens) {
    if (!t.refresh) t.expired = true;
  }
}

void fake_bluesky_pds::revoke_refresh_tokens() {
  std::lock_guard lock(state_->mutex);
  for (auto& [text, t] : state_->tokens) {
    if (t.refresh) t.revoked = true;
  }
}

std::size_t fake_bluesky_pds::logins() const {
  std::lock_guard lock(state_->mutex);
  return state_->logins;
}

std::size_t fake_bluesky_pds::refreshes() const {
  std::lock_guard lock(state_->mutex);
  return state_->refreshes;
}

fake_bluesky_pds::profile fake_bluesky_pds::library() const {
  std::lock_guard lock(state_->mutex);
  return state_->profiles.at(library_did);
}

void fake_bluesky_pds::add_patron(const profile& patron) {
  if (!patron.did.starts_with("did:") || patron.handle.empty()) {
    throw std::invalid_argument("fake_bluesky_pds::add_patron: a patron needs a did and handle");
  }
  std::lock_guard lock(state_->mutex);
  if (!state_->profiles.emplace(patron.did, patron).second) {
    throw std::invalid_argument("fake_bluesky_pds::add_patron: " + patron.did + " is known");
  }
}

std::string fake_bluesky_pds::add_convo(const std::string& patron_did) {
  std::lock_guard lock(state_->mutex);
  state& s = *state_;
  if (patron_did == library_did || !s.profiles.contains(patron_did)) {
    throw std::invalid_argument("fake_bluesky_pds::add_convo: no patron " + patron_did);
  }
  for (const auto& [id, c] : s.convos) {
    if (c.patron == patron_did) return id;
  }
  convo_record c;
  c.id = s.next_tid();
  c.patron = patron_did;
  s.convos[c.id] = c;
  s.append_log("logBeginConvo", c.id, "");
  return c.id;
}

std::string fake_bluesky_pds::patron_sends(const std::string& convo_id, const std::string& text,
                                           const std::string& facets) {
  std::lock_guard lock(state_->mutex);
  state& s = *state_;
  auto& c = s.find_convo(convo_id, "patron_sends");
  chat_message m;
  m.id = s.next_tid();
  m.convo = convo_id;
  m.sender = c.patron;
  m.text = text;
  m.facets = facets;
  m.sent_at = now_ms();
  m.rev = s.append_log("logCreateMessage", convo_id, m.id);
  c.messages.push_back(m.id);
  s.messages[m.id] = std::move(m);
  return c.messages.back();
}

std::string fake_bluesky_pds::add_log(const std::string& convo_id, const std::string& type) {
  std::lock_guard lock(state_->mutex);
  state& s = *state_;
  auto& c = s.find_convo(convo_id, "add_log");
  if (type == "logReadMessage") {
    if (c.messages.empty()) {
      throw std::invalid_argument("fake_bluesky_pds::add_log: no message to read in " + convo_id);
    }
    return s.append_log(type, convo_id, c.messages.back());
  }
  if (std::none_of(std::begin(plain_log_types), std::end(plain_log_types),
                   [&](const char* known) { return type == known; })) {
    throw std::invalid_argument("fake_bluesky_pds::add_log: no log type " + type);
  }
  if (type == "logMuteConvo" || type == "logUnmuteConvo") c.muted = type == "logMuteConvo";
  return s.append_log(type, convo_id, "");
}

void fake_bluesky_pds::delete_message(const std::string& convo_id, const std::string& message_id) {
  std::lock_guard lock(state_->mutex);
  state& s = *state_;
  s.find_convo(convo_id, "delete_message");
  const auto m = s.messages.find(message_id);
  if (m == s.messages.end() || m->second.convo != convo_id) {
    throw std::invalid_argument("fake_bluesky_pds::delete_message: no message " + message_id);
  }
  m->second.deleted = true;
  s.append_log("logDeleteMessage", convo_id, message_id);
}

std::string fake_bluesky_pds::latest_rev() const {
  std::lock_guard lock(state_->mutex);
  return state_->log.empty() ? std::string() : state_->log.back().rev;
}

void fake_bluesky_pds::set_log_page(std::size_t entries) {
  std::lock_guard lock(state_->mutex);
  state_->log_page = std::max<std::size_t>(entries, 1);
}

void fake_bluesky_pds::fail_next(const std::string& nsid, int status, const std::string& body) {
  std::lock_guard lock(state_->mutex);
  state_->queued.push_back({nsid, net::http_response::json(status, body)});
}

std::vector<fake_bluesky_pds::request> fake_bluesky_pds::requests() const {
  std::lock_guard lock(state_->mutex);
  return state_->requests;
}

std::vector<fake_bluesky_pds::request> fake_bluesky_pds::requests(const std::string& nsid) const {
  std::lock_guard lock(state_->mutex);
  std::vector<request> out;
  for (const auto& r : state_->requests) {
    if (r.nsid == nsid) out.push_back(r);
  }
  return out;
}

bool fake_bluesky_pds::wait_for_requests(const std::string& nsid, std::size_t n,
                                         std::chrono::milliseconds wait) const {
  std::unique_lock lock(state_->mutex);
  return state_->changed.wait_for(lock, wait, [&] {
    return static_cast<std::size_t>(
               std::count_if(state_->requests.begin(), state_->requests.end(),
                             [&](const request& r) { return r.nsid == nsid; })) >= n;
  });
}

std::vector<fake_bluesky_pds::sent_message> fake_bluesky_pds::sent() const {
  std::lock_guard lock(state_->mutex);
  return state_->sent;
}

bool fake_bluesky_pds::wait_for_sent(std::size_t n, std::chrono::milliseconds wait) const {
  std::unique_lock lock(state_->mutex);
  return state_->changed.wait_for(lock, wait, [&] { return state_->sent.size() >= n; });
}

}  // namespace askdesk::testing
