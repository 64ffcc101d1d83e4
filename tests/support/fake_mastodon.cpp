// The fake Mastodon server. One askdesk http_server on its own io thread answers every
// request through a single handler, so that every request is counted against the rate
// limits, recorded and checked for its token the same way before it is routed. Its state
// (the accounts, statuses and notifications in fake_mastodon_entities.hpp's `world`, the
// buckets, the idempotency keys, the records) sits behind one mutex shared with the test
// thread; one condition variable wakes a test waiting for a request or a post. The GET
// endpoints, the parameters and the paging are in fake_mastodon_reads.cpp; the entities and
// the text rules in fake_mastodon_entities.cpp. This file keeps what changes state: serving,
// rate limits, posting, and the test's own calls.
//
// Rate limits follow Rack::Attack (rack_attack.rb) and RateLimitHeaders: every request counts
// before anything else, paged ones in a second bucket; a created status counts in a third
// (RateLimiter's `statuses` family), checked only once the status is valid. The headers
// describe whichever bucket applied has the least left.
#include "tests/support/fake_mastodon.hpp"

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <boost/asio/io_context.hpp>

#include "daemon/json/document.hpp"
#include "daemon/json/writer.hpp"
#include "daemon/net/http.hpp"
#include "daemon/net/http_server.hpp"
#include "tests/support/fake_mastodon_entities.hpp"
#include "tests/support/fake_mastodon_reads.hpp"

namespace askdesk::testing {

namespace {

using mastodon_fake::blank;
using mastodon_fake::json_answer;
using mastodon_fake::json_error;
using mastodon_fake::parameters;
using mastodon_fake::time_point;

constexpr std::uint64_t first_notification_id = 34975861;
constexpr std::uint64_t library_number = 109000000000000001;
constexpr auto idempotency_lifetime = std::chrono::hours(1);
constexpr const char* application_name = "askdesk";
const char* const visibilities[] = {"public", "unlisted", "private", "direct"};

struct rate_bucket {
  int limit;
  std::chrono::seconds window;
  int used = 0;
  time_point start{};  // epoch: no window yet

  void roll(time_point now) {
    if (start == time_point{} || now >= start + window) {
      start = now;
      used = 0;
    }
  }
  int remaining() const { return limit - used; }
};

struct queued_answer {
  std::string prefix;
  net::http_response response;
};

struct idempotent_post {
  std::string status_id;
  time_point expires;
};

}  // namespace

struct fake_mastodon::state {
  explicit state(std::string bearer) : token(std::move(bearer)) {}

  void serve(const net::http_request& r, net::respond_fn respond);
  // The rest run under the lock.
  net::http_response route(const net::http_request& r, const std::string& path, const parameters& p,
                           bool& refused_by_statuses);
  net::http_response post_status(const parameters& p, const std::string& key, bool& refused);
  std::string status_json(const mastodon_fake::status_record& s) const;
  time_point now() const { return std::chrono::system_clock::now() + clock_offset; }
  std::uint64_t next_snowflake();
  rate_bucket& bucket(const std::string& name);
  mastodon_fake::account_record& new_account(std::string username, std::string domain,
                                             std::string display_name);

  const std::string token;
  mutable std::mutex mutex;
  mutable std::condition_variable changed;
  mastodon_fake::world world;
  std::vector<mastodon_fake::notification_record> notifications;  // oldest first
  std::uint64_t next_notification = first_notification_id;
  std::uint64_t next_account = library_number;
  std::uint64_t last_snowflake = 0;
  bool filter_private_mentions = true;
  bool full_text_search = false;
  rate_bucket default_bucket{300, std::chrono::minutes(5)};
  rate_bucket paged_bucket{300, std::chrono::minutes(15)};
  rate_bucket statuses_bucket{300, std::chrono::hours(3)};
  int reset_digits = 6;
  std::chrono::seconds clock_offset{0};
  std::map<std::string, idempotent_post> idempotency;  // by key
  std::deque<queued_answer> queued;
  std::vector<request> requests;
  std::vector<posted_status> posted;

  boost::asio::io_context io{1};
  net::http_router router;
  std::unique_ptr<net::http_server> server;
};

void fake_mastodon::state::serve(const net::http_request& r, net::respond_fn respond) {
  request seen;
  seen.method = r.method;
  seen.path = net::percent_decode(r.path, false).value_or(r.path);
  seen.query = r.query;
  seen.idempotency_key = r.header("idempotency-key");
  seen.content_type = r.header("content-type");
  seen.authorized = r.header("authorization") == "Bearer " + token;
  seen.at = std::chrono::steady_clock::now();
  parameters p;
  const bool parsed = mastodon_fake::read_parameters(r, p);
  seen.params = parsed ? p.json() : "{}";
  const std::string line = seen.method + " " + seen.path;

  std::unique_lock lock(mutex);
  const time_point t = now();
  std::vector<rate_bucket*> applied{&default_bucket};
  if (p.present("max_id") || p.present("since_id") || p.present("min_id")) {
    applied.push_back(&paged_bucket);
  }
  rate_bucket* exceeded = nullptr;
  for (auto* b : applied) {
    b->roll(t);
    if (++b->used > b->limit && !exceeded) exceeded = b;
  }
  if (seen.method == "POST" && seen.path == "/api/v1/statuses") {
    statuses_bucket.roll(t);
    applied.push_back(&statuses_bucket);
  }

  net::http_response out;
  bool rate_headers = true;
  bool refused_by_statuses = false;
  const auto injected = std::find_if(queued.begin(), queued.end(), [&](const queued_answer& q) {
    return line.rfind(q.prefix, 0) == 0;
  });
  if (injected != queued.end()) {
    out = std::move(injected->response);
    queued.erase(injected);
    rate_headers = false;
  } else if (exceeded) {
    out = json_error(429, "Too many requests");
  } else if (!seen.authorized) {
    out = json_error(401, "The access token is invalid");
  } else if (!parsed) {
    out = json_error(400, "Bad Request");
  } else {
    out = route(r, seen.path, p, refused_by_statuses);
  }

  const rate_bucket* tightest = *std::min_element(
      applied.begin(), applied.end(),
      [](const rate_bucket* a, const rate_bucket* b) { return a->remaining() < b->remaining(); });
  seen.remaining = tightest->remaining();
  if (exceeded) {
    tightest = exceeded;
    seen.remaining = exceeded->remaining();
  } else if (refused_by_statuses) {
    tightest = &statuses_bucket;
    seen.remaining = statuses_bucket.remaining() - 1;
  }
  if (rate_headers) {
    out.header("X-RateLimit-Limit", std::to_string(tightest->limit));
    out.header("X-RateLimit-Remaining", std::to_string(std::max(0, seen.remaining)));
    out.header("X-RateLimit-Reset",
               mastodon_fake::iso_time(tightest->start + tightest->window, reset_digits));
  }
  seen.status = out.status;
  requests.push_back(std::move(seen));
  changed.notify_all();
  lock.unlock();
  respond(std::move(out));
}

net::http_response fake_mastodon::state::route(const net::http_request& r, const std::string& path,
                                               const parameters& p, bool& refused_by_statuses) {
  std::vector<std::string> segments;
  for (std::size_t start = 1; start <= path.size();) {
    const std::size_t slash = std::min(path.find('/', start), path.size());
    segments.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  const auto is = [&](std::initializer_list<const char*> pattern) {
    if (segments.size() != pattern.size()) return false;
    std::size_t i = 0;
    for (const char* part : pattern) {
      if (std::string_view(part) != "*" && segments[i] != part) return false;
      ++i;
    }
    return true;
  };
  if (r.method == "POST" && is({"api", "v1", "statuses"})) {
    return post_status(p, std::string(r.header("idempotency-key")), refused_by_statuses);
  }
  if (r.method != "GET") return json_error(404, "Not Found");
  if (is({"api", "v1", "notifications"}))
    return mastodon_fake::notifications_page(world, notifications, p);
  if (is({"api", "v1", "notifications", "*"})) {
    for (const auto& n : notifications) {
      if (std::to_string(n.id) != segments[3]) continue;
      json::writer w;
      mastodon_fake::write_notification(w, world, n);
      return json_answer(200, w.str());
    }
    return json_error(404, "Record not found");
  }
  if (is({"api", "v1", "statuses", "*"}))
    return mastodon_fake::status_answer(world, segments[3], false);
  if (is({"api", "v1", "statuses", "*", "context"}))
    return mastodon_fake::status_answer(world, segments[3], true);
  if (is({"api", "v1", "timelines", "tag", "*"}))
    return mastodon_fake::tag_timeline(world, r.path, segments[4], p);
  if (is({"api", "v2", "search"})) return mastodon_fake::search(world, full_text_search, p);
  if (is({"api", "v2", "instance"})) return json_answer(200, mastodon_fake::instance_json(world));
  if (is({"api", "v1", "accounts", "verify_credentials"})) {
    json::writer w;
    mastodon_fake::write_credential_account(w, world, world.accounts.at(world.library_id));
    return json_answer(200, w.str());
  }
  if (is({"api", "v1", "accounts", "*"})) {
    const auto* a = world.find_account(segments[3]);
    if (!a) return json_error(404, "Record not found");
    json::writer w;
    mastodon_fake::write_account(w, world, *a);
    return json_answer(200, w.str());
  }
  return json_error(404, "Not Found");
}

net::http_response fake_mastodon::state::post_status(const parameters& p, const std::string& key,
                                                     bool& refused) {
  const time_point t = now();
  std::erase_if(idempotency, [&](const auto& entry) { return entry.second.expires <= t; });
  if (!key.empty()) {
    const auto earlier = idempotency.find(key);
    if (earlier != idempotency.end()) {
      return json_answer(200, status_json(*world.find_status(earlier->second.status_id)));
    }
  }
  const std::string text = p.get("status").value_or("");
  const std::string spoiler_text = p.get("spoiler_text").value_or("");
  const std::string visibility = p.get("visibility").value_or("");
  const std::string in_reply_to_id = p.get("in_reply_to_id").value_or("");
  const std::string language = p.get("language").value_or("");
  const mastodon_fake::status_record* parent = nullptr;
  if (!blank(in_reply_to_id)) {
    parent = world.find_status(in_reply_to_id);
    if (!parent || !world.visible(*parent)) return json_error(404, "Record not found");
  }
  if (blank(text)) return json_error(422, "Validation failed: Text can't be blank");
  if (!blank(visibility) && std::none_of(std::begin(visibilities), std::end(visibilities),
                                         [&](const char* known) { return visibility == known; })) {
    return json_error(422, "Validation failed: Visibility is not included in the list");
  }
  if (mastodon_fake::countable_length(text, spoiler_text) >
      static_cast<std::size_t>(world.max_characters)) {
    return json_error(422, "Validation failed: Text character limit of " +
                               std::to_string(world.max_characters) + " exceeded");
  }
  if (statuses_bucket.used >= statuses_bucket.limit) {
    refused = true;
    return json_error(429, "Too many requests");
  }
  ++statuses_bucket.used;

  const auto formatted = mastodon_fake::format_text(world, text);
  mastodon_fake::status_record s;
  s.id = next_snowflake();
  s.account_id = world.library_id;
  s.content = formatted.html;
  s.visibility = blank(visibility) ? "public" : visibility;
  s.in_reply_to_id = parent ? std::to_string(parent->id) : "";
  s.in_reply_to_account_id = parent ? parent->account_id : "";
  s.spoiler_text = spoiler_text;
  s.sensitive = mastodon_fake::truthy(p.get("sensitive"));
  s.language = blank(language) ? "en" : language;
  s.mention_ids = formatted.mention_ids;
  s.tags = formatted.tags;
  s.created_at = t;
  s.application = application_name;
  auto& library = world.accounts.at(world.library_id);
  ++library.statuses_count;
  library.last_status_at = t;
  const std::string id = std::to_string(s.id);
  world.statuses.emplace(s.id, s);
  if (!key.empty()) idempotency[key] = {id, t + idempotency_lifetime};

  posted_status record{id,
                       text,
                       s.in_reply_to_id,
                       visibility,
                       spoiler_text,
                       language,
                       key,
                       {},
                       s.content,
                       std::chrono::steady_clock::now()};
  for (const auto& mentioned : s.mention_ids) {
    record.mentions.push_back(world.acct(world.accounts.at(mentioned)));
  }
  posted.push_back(std::move(record));
  changed.notify_all();
  return json_answer(200, status_json(s));
}

std::string fake_mastodon::state::status_json(const mastodon_fake::status_record& s) const {
  json::writer w;
  mastodon_fake::write_status(w, world, s);
  return w.str();
}

std::uint64_t fake_mastodon::state::next_snowflake() {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now().time_since_epoch());
  const std::uint64_t id =
      std::max(static_cast<std::uint64_t>(ms.count()) << 16, last_snowflake + 1);
  last_snowflake = id;
  return id;
}

rate_bucket& fake_mastodon::state::bucket(const std::string& name) {
  if (name == "default") return default_bucket;
  if (name == "paged") return paged_bucket;
  if (name == "statuses") return statuses_bucket;
  throw std::invalid_argument("fake_mastodon: no rate-limit bucket '" + name +
                              "' (default, paged, statuses)");
}

mastodon_fake::account_record& fake_mastodon::state::new_account(std::string username,
                                                                 std::string domain,
                                                                 std::string display_name) {
  if (username.empty() || world.find_acct(username, domain.empty() ? world.domain : domain)) {
    throw std::invalid_argument("fake_mastodon: username '" + username + "' is empty or taken");
  }
  mastodon_fake::account_record a;
  a.id = std::to_string(next_account++);
  a.username = std::move(username);
  a.domain = std::move(domain);
  a.display_name = std::move(display_name);
  a.created_at = now();
  return world.accounts[a.id] = std::move(a);
}

fake_mastodon::fake_mastodon(std::string token)
    : token_(std::move(token)), state_(std::make_shared<state>(token_)) {
  state* s = state_.get();  // it owns the router and the thread's work: they must not own it
  for (const char* method : {"GET", "POST", "PUT", "PATCH", "DELETE"}) {
    s->router.add(method, "/*",
                  [s](const net::http_request& r, const net::route_params&,
                      net::respond_fn respond) { s->serve(r, std::move(respond)); });
  }
  s->server = net::http_server::create(s->io, {.host = "127.0.0.1", .port = 0}, s->router);
  if (!s->server->listen()) throw std::runtime_error("fake mastodon cannot listen");
  port_ = s->server->port();
  s->world.base = base();
  s->world.domain = domain();
  s->world.library_id = library_id;
  s->new_account("library", "", "The Library");
  server_thread_ = std::thread([s] { s->io.run(); });
}

fake_mastodon::~fake_mastodon() {
  state_->io.stop();
  server_thread_.join();
}

std::string fake_mastodon::base() const { return "http://" + domain(); }

std::string fake_mastodon::domain() const { return "127.0.0.1:" + std::to_string(port_); }

namespace {
fake_mastodon::account public_account(const mastodon_fake::world& x,
                                      const mastodon_fake::account_record& a) {
  return {a.id, a.username, x.acct(a), a.display_name, x.profile_url(a)};
}
}  // namespace

fake_mastodon::account fake_mastodon::library() const {
  std::lock_guard lock(state_->mutex);
  return public_account(state_->world, state_->world.accounts.at(library_id));
}

fake_mastodon::account fake_mastodon::add_account(std::string username, std::string display_name) {
  std::lock_guard lock(state_->mutex);
  return public_account(state_->world,
                        state_->new_account(std::move(username), "", std::move(display_name)));
}

fake_mastodon::account fake_mastodon::add_remote_account(std::string username, std::string domain,
                                                         std::string display_name) {
  if (domain.empty()) throw std::invalid_argument("fake_mastodon: a remote account needs a domain");
  std::lock_guard lock(state_->mutex);
  return public_account(state_->world, state_->new_account(std::move(username), std::move(domain),
                                                           std::move(display_name)));
}

void fake_mastodon::follow(const std::string& account_id) {
  std::lock_guard lock(state_->mutex);
  auto& x = state_->world;
  auto* a = x.accounts.count(account_id) ? &x.accounts.at(account_id) : nullptr;
  if (!a || account_id == library_id) {
    throw std::invalid_argument("fake_mastodon::follow: no other account " + account_id);
  }
  if (!x.following.insert(account_id).second) return;
  ++a->followers_count;
  ++x.accounts.at(library_id).following_count;
}

std::string fake_mastodon::add_status(const status_spec& spec) {
  std::lock_guard lock(state_->mutex);
  state& s = *state_;
  auto& x = s.world;
  const auto refuse = [](const std::string& why) {
    throw std::invalid_argument("fake_mastodon::add_status: " + why);
  };
  if (!x.find_account(spec.account_id)) refuse("no account " + spec.account_id);
  if (std::none_of(std::begin(visibilities), std::end(visibilities),
                   [&](const char* v) { return spec.visibility == v; })) {
    refuse("no visibility '" + spec.visibility + "'");
  }
  const auto* parent = x.find_status(spec.in_reply_to_id);
  if (!spec.in_reply_to_id.empty() && !parent) refuse("no status " + spec.in_reply_to_id);
  for (const auto& id : spec.mentions) {
    if (!x.find_account(id)) refuse("no account " + id + " to mention");
  }
  mastodon_fake::status_record r;
  r.id = s.next_snowflake();
  r.account_id = spec.account_id;
  r.content = spec.content;
  r.visibility = spec.visibility;
  if (parent) {
    r.in_reply_to_id = std::to_string(parent->id);
    r.in_reply_to_account_id = parent->account_id;
  }
  r.spoiler_text = spec.spoiler_text;
  r.sensitive = spec.sensitive;
  r.language = spec.language;
  for (const auto& m : spec.media) {
    r.media.push_back({std::to_string(s.next_snowflake()), m.url,
                       m.preview_url.empty() ? m.url : m.preview_url, m.description});
  }
  r.mention_ids = spec.mentions;
  for (const auto& tag : spec.tags) r.tags.push_back(mastodon_fake::ascii_lower(tag));
  r.created_at = s.now();
  auto& author = x.accounts.at(spec.account_id);
  ++author.statuses_count;
  author.last_status_at = r.created_at;
  const bool mentions_library =
      std::find(r.mention_ids.begin(), r.mention_ids.end(), library_id) != r.mention_ids.end();
  if (mentions_library && spec.account_id != library_id) {
    // Replies to a private mention the library started, and accounts it follows, pass.
    const bool answers_library =
        parent && parent->account_id == library_id && parent->visibility == "direct";
    const bool filtered = s.filter_private_mentions && r.visibility == "direct" &&
                          !x.following.count(spec.account_id) && !answers_library;
    s.notifications.push_back({s.next_notification++, "mention", spec.account_id,
                               std::to_string(r.id), r.created_at, filtered});
  }
  const std::string id = std::to_string(r.id);
  x.statuses.emplace(r.id, std::move(r));
  s.changed.notify_all();
  return id;
}

std::string fake_mastodon::add_notification(const std::string& type, const std::string& account_id,
                                            const std::string& status_id) {
  std::lock_guard lock(state_->mutex);
  state& s = *state_;
  if (!s.world.find_account(account_id)) {
    throw std::invalid_argument("fake_mastodon::add_notification: no account " + account_id);
  }
  if (!status_id.empty() && !s.world.find_status(status_id)) {
    throw std::invalid_argument("fake_mastodon::add_notification: no status " + status_id);
  }
  const std::uint64_t id = s.next_notification++;
  s.notifications.push_back({id, type, account_id, status_id, s.now(), false});
  s.changed.notify_all();
  return std::to_string(id);
}

void fake_mastodon::filter_private_mentions(bool filter) {
  std::lock_guard lock(state_->mutex);
  state_->filter_private_mentions = filter;
}

std::vector<fake_mastodon::notification> fake_mastodon::notifications() const {
  std::lock_guard lock(state_->mutex);
  std::vector<notification> out;
  for (const auto& n : state_->notifications) {
    out.push_back({std::to_string(n.id), n.type, n.account_id, n.status_id, n.filtered});
  }
  return out;
}

void fake_mastodon::set_max_characters(int max_characters) {
  std::lock_guard lock(state_->mutex);
  state_->world.max_characters = max_characters;
}

void fake_mastodon::set_full_text_search(bool on) {
  std::lock_guard lock(state_->mutex);
  state_->full_text_search = on;
}

void fake_mastodon::set_rate_limit(const std::string& bucket, int limit,
                                   std::chrono::seconds window) {
  if (limit < 0 || window < std::chrono::seconds(1)) {
    throw std::invalid_argument("fake_mastodon::set_rate_limit: limit below 0 or window below 1 s");
  }
  std::lock_guard lock(state_->mutex);
  state_->bucket(bucket) = rate_bucket{limit, window};
}

void fake_mastodon::set_reset_precision(int fraction_digits) {
  std::lock_guard lock(state_->mutex);
  state_->reset_digits = fraction_digits;
}

void fake_mastodon::advance_clock(std::chrono::seconds by) {
  std::lock_guard lock(state_->mutex);
  state_->clock_offset += by;
}

void fake_mastodon::fail_next(const std::string& method_path_prefix, int status,
                              const std::string& body, const std::string& content_type) {
  net::http_response r;
  r.status = status;
  r.content_type = content_type;
  r.body = body;
  std::lock_guard lock(state_->mutex);
  state_->queued.push_back({method_path_prefix, std::move(r)});
}

std::vector<fake_mastodon::request> fake_mastodon::requests() const {
  std::lock_guard lock(state_->mutex);
  return state_->requests;
}

std::vector<fake_mastodon::request> fake_mastodon::requests(
    const std::string& method_path_prefix) const {
  std::lock_guard lock(state_->mutex);
  std::vector<request> out;
  for (const auto& r : state_->requests) {
    if ((r.method + " " + r.path).rfind(method_path_prefix, 0) == 0) out.push_back(r);
  }
  return out;
}

bool fake_mastodon::wait_for_requests(const std::string& method_path_prefix, std::size_t n,
                                      std::chrono::milliseconds wait) const {
  std::unique_lock lock(state_->mutex);
  return state_->changed.wait_for(lock, wait, [&] {
    const auto count =
        std::count_if(state_->requests.begin(), state_->requests.end(), [&](const request& r) {
          return (r.method + " " + r.path).rfind(method_path_prefix, 0) == 0;
        });
    return static_cast<std::size_t>(count) >= n;
  });
}

std::vector<fake_mastodon::posted_status> fake_mastodon::posted() const {
  std::lock_guard lock(state_->mutex);
  return state_->posted;
}

bool fake_mastodon::wait_for_posted(std::size_t n, std::chrono::milliseconds wait) const {
  std::unique_lock lock(state_->mutex);
  return state_->changed.wait_for(lock, wait, [&] { return state_->posted.size() >= n; });
}

}  // namespace askdesk::testing
