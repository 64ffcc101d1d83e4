#include "daemon/config/config.hpp"

#include "daemon/config/team_hours.hpp"

#include <arpa/inet.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <unordered_set>

#include "daemon/core/text.hpp"
#include "daemon/core/topics.hpp"

namespace askdesk::config {

bool parse_port(std::string_view text, std::uint16_t& port) {
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value == 0 || value > 65535) {
    return false;
  }
  port = static_cast<std::uint16_t>(value);
  return true;
}

bool is_ip_address(const std::string& text) {
  unsigned char binary[sizeof(in6_addr)];
  return inet_pton(AF_INET, text.c_str(), binary) == 1 ||
         inet_pton(AF_INET6, text.c_str(), binary) == 1;
}

std::string host_port(std::string_view host, std::uint16_t port) {
  const bool v6 = host.find(':') != std::string_view::npos;
  return (v6 ? "[" + std::string(host) + "]" : std::string(host)) + ":" + std::to_string(port);
}

bool parse_listen(std::string_view text, std::string& host, std::uint16_t& port) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  std::string_view h = text.substr(0, colon);
  if (h.front() == '[') {
    if (h.back() != ']') return false;
    h = h.substr(1, h.size() - 2);
  }
  if (h.empty() || !parse_port(text.substr(colon + 1), port)) return false;
  host = std::string(h);
  return true;
}

namespace {

void read_http(json::object_reader& r, http_options& http, const defaults& fallback) {
  if (auto listen = r.optional_string("listen")) {
    if (!parse_listen(*listen, http.listen_host, http.listen_port)) {
      r.out().add(r.child_path("listen"),
                  "must be host:port, like 127.0.0.1:8080, not '" + *listen + "'");
    }
  }
  http.public_url = r.string("public_url", "");
  if (!http.public_url.empty() && !core::is_http_url(http.public_url)) {
    r.out().add(r.child_path("public_url"), "must start with http:// or https://");
  }
  while (http.public_url.ends_with('/')) http.public_url.pop_back();
  if (r.has("allowed_origins")) {
    http.allowed_origins = r.string_list("allowed_origins");
    for (std::size_t i = 0; i < http.allowed_origins.size(); ++i) {
      const auto& origin = http.allowed_origins[i];
      if (origin != "*" && (!core::is_http_url(origin) || core::origin_of(origin) != origin)) {
        r.out().add(
            json::index_path(r.child_path("allowed_origins"), i),
            "must be an origin like https://library.example.org (no path), not '" + origin + "'");
      }
    }
  }
  http.trust_forwarded_proto = r.boolean("trust_forwarded_proto", false);
  http.trusted_proxies = r.string_list("trusted_proxies");
  for (std::size_t i = 0; i < http.trusted_proxies.size(); ++i) {
    if (!is_ip_address(http.trusted_proxies[i])) {
      r.out().add(json::index_path(r.child_path("trusted_proxies"), i),
                  "must be an IP address, like 127.0.0.1, not '" + http.trusted_proxies[i] + "'");
    }
  }
  http.body_limit = static_cast<std::size_t>(
      r.integer("body_limit", static_cast<std::int64_t>(http.body_limit), 1024, 1 << 30));
  http.web_root = r.string("web_root", fallback.web_root);
  http.chart_js = r.string("chart_js", http.chart_js);
  r.finish();
}

void read_auth(json::object_reader& r, auth_options& auth) {
  auth.session_hours = r.integer("session_hours", auth.session_hours, 1, 24 * 365);
  auth.login_attempts = r.integer("login_attempts", auth.login_attempts, 1, 1000);
  auth.login_window_minutes =
      r.integer("login_window_minutes", auth.login_window_minutes, 1, 24 * 60);
  r.finish();
}

void read_sentinel(json::object_reader& r, redis_options& redis) {
  const auto list = r.string_list("sentinels");
  for (std::size_t i = 0; i < list.size(); ++i) {
    redis_sentinel::address a;
    if (!parse_listen(list[i], a.host, a.port)) {
      r.out().add(json::index_path(r.child_path("sentinels"), i),
                  "must be host:port, like 10.0.0.1:26379, not '" + list[i] + "'");
      continue;
    }
    redis.sentinel.addresses.push_back(std::move(a));
  }
  if (r.has("sentinels") && list.empty()) {
    r.out().add(r.child_path("sentinels"), "must name at least one sentinel (host:port)");
  }
  if (redis.sentinel.enabled()) {
    if (auto name = r.required_string("master_name")) redis.sentinel.master_name = *name;
  } else if (r.has("master_name") || r.has("sentinel_password")) {
    r.out().add(r.child_path(r.has("master_name") ? "master_name" : "sentinel_password"),
                "is used only with \"sentinels\"");
  }
  redis.sentinel.password = r.string("sentinel_password", "");
}

void read_redis(json::object_reader& r, redis_options& redis) {
  if (auto url = r.optional_string("url")) {
    auto endpoint = parse_redis_url(*url);
    if (endpoint) {
      redis.endpoint = std::move(endpoint.value());
    } else {
      r.out().add(r.child_path("url"), endpoint.err().message);
    }
  }
  read_sentinel(r, redis);
  if (auto password = r.optional_string("password")) redis.endpoint.password = *password;
  redis.endpoint.db = static_cast<int>(r.integer("db", redis.endpoint.db, 0, 15));
  redis.min_replicas_acked =
      r.integer("min_replicas_acked", redis.sentinel.enabled() ? 1 : 0, 0, 16);
  redis.replicas_timeout_ms =
      r.integer("replicas_timeout_ms", redis.replicas_timeout_ms, 10, 60'000);
  redis.events_max_length =
      r.integer("events_max_length", redis.events_max_length, 1000, 100'000'000);
  redis.dedup_days = r.integer("dedup_days", redis.dedup_days, 1, 3650);
  r.finish();
}

// Checks that `id` (at `path`) is a valid id and unique among its `kind` ("team").
void check_id(const std::string& id, const std::string& path, std::unordered_set<std::string>& seen,
              std::string_view kind, json::problems& out) {
  if (!is_valid_id(id)) {
    out.add(path, "must match [a-z0-9][a-z0-9_-]*, not '" + id + "'");
  } else if (!seen.insert(id).second) {
    out.add(path, "duplicate " + std::string(kind) + " id '" + id + "'");
  }
}

// Reads a required `id` that must be a valid id and unique among its `kind`.
std::string read_id(json::object_reader& r, std::unordered_set<std::string>& seen,
                    std::string_view kind) {
  auto id = r.required_string("id");
  if (!id) return "";
  check_id(*id, r.child_path("id"), seen, kind, r.out());
  return *id;
}

void read_teams(json::object_reader& root, daemon_config& c) {
  const auto* teams = root.array("teams");
  if (!teams) return;
  c.teams.clear();
  const std::string path = root.child_path("teams");
  std::unordered_set<std::string> seen;
  for (rapidjson::SizeType i = 0; i < teams->Size(); ++i) {
    auto r =
        json::object_reader::open((*teams)[i], json::index_path(path, i), root.out(), root.env());
    if (!r) continue;
    team_options team;
    team.id = read_id(*r, seen, "team");
    team.name = r->string("name", team.id);
    auto& policy = team.policy;
    policy.id = team.id;
    if (auto mode = r->optional_string("mode")) {
      if (auto parsed = core::parse_team_mode(*mode)) {
        policy.mode = *parsed;
      } else {
        r->out().add(r->child_path("mode"),
                     "must be broadcast, least-busy or round-robin, not '" + *mode + "'");
      }
    }
    policy.capacity = static_cast<int>(r->integer("capacity", policy.capacity, 1, 100));
    policy.offer_timeout = std::chrono::seconds(
        r->integer("offer_timeout_seconds", policy.offer_timeout.count(), 5, 3600));
    policy.overflow_team = r->string("overflow_team", "");
    policy.overflow_after = std::chrono::minutes(
        r->integer("overflow_after_minutes",
                   std::chrono::duration_cast<std::chrono::minutes>(policy.overflow_after).count(),
                   1, 24 * 60));
    read_team_hours(*r, team);
    team.read_required = r->boolean("read_required", false);
    team.wait_alert = std::chrono::minutes(
        r->integer("wait_alert_minutes", team.wait_alert.count(), 1, 7 * 24 * 60));
    read_team_csat(*r, team);
    r->finish();
    c.teams.push_back(std::move(team));
  }
  if (c.teams.empty()) root.out().add(path, "at least one team is required");
  // Overflow teams are checked once every team is known.
  for (std::size_t i = 0; i < c.teams.size(); ++i) {
    const auto& overflow = c.teams[i].policy.overflow_team;
    if (overflow.empty()) continue;
    const std::string where = json::index_path(path, i) + ".overflow_team";
    if (overflow == c.teams[i].id) {
      root.out().add(where, "a team cannot overflow to itself");
      continue;
    }
    if (!c.find_team(overflow)) {
      root.out().add(where, "no team with id '" + overflow + "'");
      continue;
    }
    // Following the overflow teams must end somewhere, or a conversation would circle. A
    // loop through this team comes back within as many steps as there are teams; one that
    // does not pass here is reported for a team on it.
    const auto* t = c.find_team(overflow);
    for (std::size_t step = 0; t && t->id != c.teams[i].id && step < c.teams.size(); ++step) {
      t = c.find_team(t->policy.overflow_team);
    }
    if (t && t->id == c.teams[i].id) {
      std::string chain = c.teams[i].id;
      for (const auto* u = c.find_team(overflow); u != t;
           u = c.find_team(u->policy.overflow_team)) {
        chain += " -> " + u->id;
      }
      root.out().add(where, "overflow teams form a loop: " + chain + " -> " + t->id);
    }
  }
}

void read_topics(json::object_reader& root, daemon_config& c) {
  const auto* topics = root.array("topics");
  if (!topics) return;
  const std::string path = root.child_path("topics");
  std::unordered_set<std::string> seen;
  for (rapidjson::SizeType i = 0; i < topics->Size(); ++i) {
    auto r =
        json::object_reader::open((*topics)[i], json::index_path(path, i), root.out(), root.env());
    if (!r) continue;
    topic_options topic;
    topic.id = read_id(*r, seen, "topic");
    if (auto team = r->required_string("team")) {
      topic.team = *team;
      if (!c.find_team(topic.team)) {
        r->out().add(r->child_path("team"), "no team with id '" + topic.team + "'");
      }
    }
    topic.keywords = r->string_list("keywords");
    for (std::size_t k = 0; k < topic.keywords.size(); ++k) {
      if (core::fold_words(topic.keywords[k]).empty()) {
        r->out().add(json::index_path(r->child_path("keywords"), k),
                     "has no letters or digits to match");
      }
    }
    topic.patterns = r->string_list("patterns");
    for (std::size_t k = 0; k < topic.patterns.size(); ++k) {
      if (auto why = core::check_pattern(topic.patterns[k])) {
        r->out().add(json::index_path(r->child_path("patterns"), k), *why);
      }
    }
    topic.channels = r->string_list("channels");
    topic.senders = r->string_list("senders");
    if (auto weight = r->optional_number("weight", 0.001, 1000)) topic.weight = *weight;
    r->finish();
    c.topics.push_back(std::move(topic));
  }
}

void read_routing(json::object_reader& r, daemon_config& c, const defaults& fallback) {
  auto& routing = c.routing;
  if (auto topic = r.optional_string("default_topic")) {
    routing.default_topic = *topic;
    if (!c.find_topic(*topic)) {
      r.out().add(r.child_path("default_topic"), "no topic with id '" + *topic + "'");
    }
  }
  if (auto confidence = r.optional_number("min_confidence", 0, 1)) {
    routing.min_confidence = *confidence;
  }
  routing.sticky_days = r.integer("sticky_days", routing.sticky_days, 0, 3650);
  routing.away_after_seconds =
      r.integer("away_after_seconds", routing.away_after_seconds, 0, 24 * 3600);
  routing.unanswered_minutes =
      r.integer("unanswered_minutes", routing.unanswered_minutes, 0, 7 * 24 * 60);
  if (const auto* priorities = r.array("priorities")) {
    for (rapidjson::SizeType i = 0; i < priorities->Size(); ++i) {
      auto p = json::object_reader::open(
          (*priorities)[i], json::index_path(r.child_path("priorities"), i), r.out(), r.env());
      if (!p) continue;
      core::priority_rule rule;
      rule.channel = p->string("channel", "");
      rule.tag = p->string("tag", "");
      if (auto priority = p->optional_integer("priority", -1000, 1000)) {
        rule.priority = static_cast<int>(*priority);
      } else if (!p->has("priority")) {
        p->out().add(p->child_path("priority"), "required");
      }
      p->finish();
      routing.priorities.push_back(std::move(rule));
    }
  }
  if (auto examples = r.optional_string("examples")) {
    routing.examples = examples->starts_with('/') || fallback.config_dir.empty()
                           ? *examples
                           : fallback.config_dir + "/" + *examples;
    auto read = core::read_topic_examples(routing.examples);
    if (!read) {
      r.out().add(r.child_path("examples"), read.err().message);
    } else {
      std::set<std::string> unknown;
      for (const auto& e : read.value()) {
        if (!c.find_topic(e.topic)) unknown.insert(e.topic);
      }
      for (const auto& topic : unknown) {
        r.out().add(r.child_path("examples"),
                    routing.examples + " has examples of '" + topic + "', which is not in topics");
      }
      routing.example_set = std::move(read.value());
    }
  }
  r.finish();
}

void read_privacy(json::object_reader& r, privacy_options& p) {
  constexpr std::int64_t most_days = 3650;
  p.transcript_days =
      static_cast<int>(r.integer("transcript_days", p.transcript_days, 0, most_days));
  p.identifier_days =
      static_cast<int>(r.integer("identifier_days", p.identifier_days, 0, most_days));
  p.ip = r.string("ip", p.ip);
  if (p.ip != "none" && p.ip != "subnet" && p.ip != "full") {
    r.out().add(r.child_path("ip"), "must be none, subnet or full, not '" + p.ip + "'");
  }
  p.audit_days = static_cast<int>(r.integer("audit_days", p.audit_days, 1, most_days));
  p.aof_rewrite = r.boolean("aof_rewrite", p.aof_rewrite);
  p.purge_minutes = static_cast<int>(r.integer("purge_minutes", p.purge_minutes, 1, 24 * 60));
  if (auto channels = r.object("channels")) {
    if (const auto* all = r.raw("channels")) {
      for (auto m = all->MemberBegin(); m != all->MemberEnd(); ++m) {
        const std::string channel(m->name.GetString(), m->name.GetStringLength());
        auto c = channels->object(channel);
        if (!c) continue;
        if (!is_valid_id(channel)) {
          r.out().add(channels->child_path(channel), "must be a channel name (sms, email, ...)");
        }
        auto& policy = p.channels[channel];
        if (auto days = c->optional_integer("transcript_days", 0, most_days)) {
          policy.transcript_days = static_cast<int>(*days);
        }
        if (auto days = c->optional_integer("identifier_days", 0, most_days)) {
          policy.identifier_days = static_cast<int>(*days);
        }
        c->finish();
      }
    }
    channels->finish();
  }
  r.finish();
}

void read_connectors(json::object_reader& root, daemon_config& c) {
  const auto* connectors = root.array("connectors");
  if (!connectors) return;
  c.connectors.clear();
  const std::string path = root.child_path("connectors");
  std::unordered_set<std::string> seen;
  for (rapidjson::SizeType i = 0; i < connectors->Size(); ++i) {
    const auto& block = (*connectors)[i];
    connector_spec spec;
    spec.path = json::index_path(path, i);
    spec.json = &block;
    if (!block.IsObject()) {
      root.out().add(spec.path,
                     "must be an object, not " + std::string(json::describe_type(block)));
      continue;
    }
    // Only id and type are read here; the connector's factory reads (and finishes) the rest.
    const auto field = [&](const char* key) -> std::optional<std::string> {
      const auto it = block.FindMember(key);
      if (it == block.MemberEnd()) {
        root.out().add(spec.path + "." + key, "required");
        return std::nullopt;
      }
      return json::read_string(it->value, spec.path + "." + key, root.out(), root.env());
    };
    if (auto id = field("id")) {
      spec.id = *id;
      check_id(spec.id, spec.path + ".id", seen, "connector", root.out());
    }
    if (auto type = field("type")) spec.type = *type;
    c.connectors.push_back(std::move(spec));
  }
}

// The built-in blocks that builtin() and a file without `connectors` use.
const std::shared_ptr<const json::document>& builtin_connectors() {
  static const auto doc = std::make_shared<const json::document>(
      json::document::parse(R"([{"id": "webchat", "type": "webchat"}])").value());
  return doc;
}

void use_builtin_connectors(daemon_config& c) {
  c.connectors.clear();
  const auto& doc = builtin_connectors();
  const auto& list = doc->root();
  for (rapidjson::SizeType i = 0; i < list.Size(); ++i) {
    c.connectors.push_back({list[i]["id"].GetString(), list[i]["type"].GetString(),
                            json::index_path("connectors", i), &list[i]});
  }
}

}  // namespace

std::string redis_endpoint::describe() const {
  std::string out;
  if (unix_socket) {
    out = "unix://" + path;
    if (db != 0) out += "?db=" + std::to_string(db);
  } else {
    out = "redis://" + host_port(host, port) + "/" + std::to_string(db);
  }
  return out;
}

std::string redis_options::describe() const {
  if (!sentinel.enabled()) return endpoint.describe();
  std::string out = "master '" + sentinel.master_name + "' (db " + std::to_string(endpoint.db) +
                    ") through sentinels";
  for (const auto& a : sentinel.addresses) out += " " + host_port(a.host, a.port);
  return out;
}

core::result<redis_endpoint> parse_redis_url(std::string_view url) {
  const auto bad = [&](std::string_view why) {
    return core::error{"invalid", "'" + std::string(url) +
                                      "' is not a Redis URL: " + std::string(why) +
                                      " (use redis://host:port/db or unix:///path)"};
  };
  redis_endpoint e;
  const auto parse_db = [&](std::string_view text) {
    int db = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), db);
    if (ec != std::errc{} || end != text.data() + text.size() || db < 0 || db > 15) return -1;
    return db;
  };
  if (url.starts_with("unix://")) {
    e.unix_socket = true;
    std::string_view rest = url.substr(7);
    if (const std::size_t q = rest.find('?'); q != std::string_view::npos) {
      const std::string_view query = rest.substr(q + 1);
      rest = rest.substr(0, q);
      if (!query.starts_with("db=") || (e.db = parse_db(query.substr(3))) < 0) {
        return bad("the only query it takes is ?db=0..15");
      }
    }
    if (rest.empty() || rest.front() != '/') return bad("the socket path must be absolute");
    e.path = std::string(rest);
    return e;
  }
  if (!url.starts_with("redis://")) return bad("unknown scheme");
  std::string_view rest = url.substr(8);
  if (const std::size_t at = rest.rfind('@'); at != std::string_view::npos) {
    const std::string_view credentials = rest.substr(0, at);
    rest = rest.substr(at + 1);
    const std::size_t colon = credentials.find(':');
    if (colon == std::string_view::npos) {
      e.password = std::string(credentials);
    } else {
      e.username = std::string(credentials.substr(0, colon));
      e.password = std::string(credentials.substr(colon + 1));
    }
  }
  std::string_view hostport = rest;
  if (const std::size_t slash = rest.find('/'); slash != std::string_view::npos) {
    hostport = rest.substr(0, slash);
    const std::string_view db = rest.substr(slash + 1);
    if (!db.empty() && (e.db = parse_db(db)) < 0) return bad("the database must be 0..15");
  }
  if (hostport.empty()) return bad("no host");
  if (hostport.front() == '[') {
    const std::size_t close = hostport.find(']');
    if (close == std::string_view::npos) return bad("unclosed '['");
    e.host = std::string(hostport.substr(1, close - 1));
    hostport = hostport.substr(close + 1);
    if (!hostport.empty()) {
      if (hostport.front() != ':' || !parse_port(hostport.substr(1), e.port)) {
        return bad("bad port");
      }
    }
  } else if (const std::size_t colon = hostport.find(':'); colon != std::string_view::npos) {
    e.host = std::string(hostport.substr(0, colon));
    if (!parse_port(hostport.substr(colon + 1), e.port)) return bad("bad port");
  } else {
    e.host = std::string(hostport);
  }
  if (e.host.empty()) return bad("no host");
  return e;
}

bool http_options::origin_allowed(std::string_view origin) const {
  if (origin.empty()) return false;
  if (origin == core::origin_of(public_url)) return true;
  for (const auto& allowed : allowed_origins) {
    if (allowed == "*" || allowed == origin) return true;
  }
  return false;
}

const team_options* daemon_config::find_team(std::string_view id) const {
  for (const auto& t : teams) {
    if (t.id == id) return &t;
  }
  return nullptr;
}

int daemon_config::capacity_of(const std::vector<std::string>& member_of) const {
  int capacity = 0;
  for (const auto& id : member_of) {
    if (const auto* t = find_team(id)) capacity = std::max(capacity, t->policy.capacity);
  }
  return capacity;
}

const topic_options* daemon_config::find_topic(std::string_view id) const {
  for (const auto& t : topics) {
    if (t.id == id) return &t;
  }
  return nullptr;
}

int privacy_options::transcript_days_of(std::string_view channel) const {
  const auto it = channels.find(std::string(channel));
  return it != channels.end() && it->second.transcript_days ? *it->second.transcript_days
                                                            : transcript_days;
}

int privacy_options::identifier_days_of(std::string_view channel) const {
  const auto it = channels.find(std::string(channel));
  return it != channels.end() && it->second.identifier_days ? *it->second.identifier_days
                                                            : identifier_days;
}

bool is_valid_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  const auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(id.front())) return false;
  for (const char c : id) {
    if (!alnum(c) && c != '-' && c != '_') return false;
  }
  return true;
}

bool is_valid_log_level(std::string_view level) {
  for (const char* known : {"trace", "debug", "info", "warn", "error", "critical", "off"}) {
    if (level == known) return true;
  }
  return false;
}

namespace {

void finish_defaults(daemon_config& c, const defaults& fallback) {
  if (!fallback.listen.empty()) {
    parse_listen(fallback.listen, c.http.listen_host, c.http.listen_port);
  }
  if (c.http.public_url.empty()) {
    c.http.public_url = "http://" + host_port(c.http.listen_host, c.http.listen_port);
  }
}

}  // namespace

daemon_config builtin(const defaults& fallback) {
  daemon_config c;
  c.http.web_root = fallback.web_root;
  c.redis.endpoint = parse_redis_url(fallback.redis_url).value();
  c.teams.push_back({"reference", "Reference"});
  use_builtin_connectors(c);
  c.document = builtin_connectors();
  finish_defaults(c, fallback);
  return c;
}

std::optional<daemon_config> parse(std::string_view text, const defaults& fallback,
                                   const json::environment& env, json::problems& out,
                                   const connector_check& check) {
  auto parsed = json::document::parse(text);
  if (!parsed) {
    out.add("", parsed.err().message);
    return std::nullopt;
  }
  auto doc = std::make_shared<const json::document>(std::move(parsed.value()));
  const std::size_t before = out.size();
  auto root = json::object_reader::open(doc->root(), "", out, env);
  if (!root) return std::nullopt;

  daemon_config c = builtin(fallback);
  c.document = doc;
  if (auto level = root->optional_string("log_level")) {
    if (is_valid_log_level(*level)) {
      c.log_level = *level;
    } else {
      out.add("log_level", "must be one of trace, debug, info, warn, error, critical, off");
    }
  }
  if (auto http = root->object("http")) read_http(*http, c.http, fallback);
  if (auto redis = root->object("redis")) read_redis(*redis, c.redis);
  if (auto auth = root->object("auth")) read_auth(*auth, c.auth);
  read_teams(*root, c);
  read_topics(*root, c);
  if (auto routing = root->object("routing")) read_routing(*routing, c, fallback);
  if (auto privacy = root->object("privacy")) read_privacy(*privacy, c.privacy);
  read_connectors(*root, c);  // without the key, the built-in web chat stays
  root->finish();
  finish_defaults(c, fallback);
  if (check) check(c, out);
  if (out.size() != before) return std::nullopt;
  return c;
}

std::optional<daemon_config> load_file(const std::string& path, const defaults& fallback,
                                       const json::environment& env, json::problems& out,
                                       const connector_check& check) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    out.add("", "cannot read " + path + ": " + std::strerror(errno));
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  defaults here = fallback;
  const auto slash = path.rfind('/');
  here.config_dir = slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
  auto c = parse(text.str(), here, env, out, check);
  if (c) c->source = path;
  return c;
}

}  // namespace askdesk::config
