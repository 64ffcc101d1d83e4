// The daemon's configuration: one JSON file (comments and trailing commas allowed, ${VAR}
// from the environment, unknown keys refused) read into plain option structs. Every field
// documents its default; deploy/askdesk.example.jsonc is the commented example and the
// README's configuration reference the manual. Connector blocks are checked by their own
// factories (connectors/registry.hpp), so this file only checks their `id` and `type`.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/core/auto_reply.hpp"
#include "daemon/core/result.hpp"
#include "daemon/core/routing.hpp"
#include "daemon/core/schedule.hpp"
#include "daemon/core/topics.hpp"
#include "daemon/json/document.hpp"
#include "daemon/json/problems.hpp"
#include "daemon/json/reader.hpp"

namespace askdesk::config {

// Where Redis listens: redis://[[user]:password@]host[:port][/db] or unix:///path[?db=N].
struct redis_endpoint {
  bool unix_socket = false;
  std::string host = "127.0.0.1";  // tcp only
  std::uint16_t port = 6379;       // tcp only
  std::string path;                // unix only
  int db = 0;
  std::string username;  // empty: AUTH with the password alone (Redis < 6 style)
  std::string password;  // empty: no AUTH
  // For logs and errors: the URL without its password.
  std::string describe() const;
};
core::result<redis_endpoint> parse_redis_url(std::string_view url);

struct http_options {
  std::string listen_host = "127.0.0.1";  // "listen": "host:port"; default 127.0.0.1:8080
  std::uint16_t listen_port = 8080;
  // The address patrons and providers use to reach askdesk, without a trailing slash.
  // Default: http://<listen>. Webhook signatures (Twilio) are computed over it.
  std::string public_url;
  // Further origins (the library's sites) allowed to open WebSockets and post to the API;
  // "*" allows any. The public_url's own origin is always allowed.
  std::vector<std::string> allowed_origins;
  std::size_t body_limit = 1024 * 1024;  // bytes; larger requests get 413
  std::string web_root;                  // folder with dashboard/ and widget/; default: built in
  // Chart.js for the Reports page's charts (Debian's libjs-chart.js), served at
  // /vendor/chart.js.
  std::string chart_js = "/usr/share/javascript/chart.js/chart.min.js";
  // Whether a proxy in front sets X-Forwarded-Proto (then "https" there marks cookies Secure).
  bool trust_forwarded_proto = false;
  // The proxies' addresses whose X-Forwarded-For names the client (for login limits, the
  // widget's address under privacy.ip, the audit).
  std::vector<std::string> trusted_proxies;

  // True when a browser page from `origin` may talk to us.
  bool origin_allowed(std::string_view origin) const;
};

// Redis Sentinel: askdesk asks these sentinels which server is the master of `master_name`
// (the Sentinel client protocol) instead of using a fixed URL.
struct redis_sentinel {
  struct address {
    std::string host;
    std::uint16_t port = 26379;
  };
  std::vector<address> addresses;  // "sentinels": ["10.0.0.1:26379", ...]; empty: no Sentinel
  std::string master_name;         // "master_name"
  std::string password;            // "sentinel_password"; empty: no AUTH to the sentinels
  bool enabled() const { return !addresses.empty(); }
};

struct redis_options {
  // "url"; default ASKDESK_REDIS_URL, then the private server. With Sentinel, only its
  // password and db are used ("password" and "db" set them too); the host comes from Sentinel.
  redis_endpoint endpoint;
  redis_sentinel sentinel;
  // Replicas that must hold an inbound message before askdesk tells its source it is stored
  // (WAIT), and how long to wait for them; default 0 without Sentinel, 1 with it.
  std::int64_t min_replicas_acked = 0;
  std::int64_t replicas_timeout_ms = 1000;
  // For logs: the URL without its password, or the master's name and the sentinels.
  std::string describe() const;
  std::int64_t events_max_length = 100000;  // the event stream keeps about this many entries
  std::int64_t dedup_days = 90;             // how long a channel's message id is remembered
};

struct auth_options {
  std::int64_t session_hours = 12;         // a staff session ends after this long without use
  std::int64_t login_attempts = 5;         // failed logins per user or address before 429
  std::int64_t login_window_minutes = 15;  // ... within this window
};

// The satisfaction question of a team whose config names none (config/team_hours.cpp).
core::message_templates default_csat_question();

struct team_options {
  std::string id;    // [a-z0-9][a-z0-9_-]*, used in URLs and the widget's data-team
  std::string name;  // shown to staff and patrons; default: the id
  // How waiting conversations are offered to members (core/routing.hpp): "mode"
  // broadcast|least-busy|round-robin, "capacity" per member, "offer_timeout_seconds",
  // "overflow_team" and "overflow_after_minutes".
  core::team_policy policy;
  // Opening hours: "timezone" (IANA), "hours" ({"mon": [["09:00","17:00"]], ...}; a missing
  // day is closed) and "exceptions" ([{"date": "2026-12-25", "hours": []}]). None: always
  // open.
  std::optional<core::opening_hours> hours;
  // The language of automatic messages when the patron's is unknown; default "en".
  std::string language = "en";
  // "auto_ack": what a patron who writes while the team is closed is told, once per closed
  // period, by channel ("*": any) then language; {patron_name}, {team}, {next_open}.
  // Default: a short English and French message. {} sends none.
  core::message_templates auto_ack;
  // "busy_ack": the same while the team is open but nobody is available; {patron_name},
  // {team}. Default none.
  core::message_templates busy_ack;
  // "read_required": staff must give a READ level (1-6) to close a conversation of this
  // team. Default false: optional.
  bool read_required = false;
  // "wait_alert_minutes": on the supervisor's live view, a conversation waiting longer than
  // this is highlighted and counted. Default 5.
  std::chrono::minutes wait_alert{5};
  // "csat": {"channels": [...], "question": {"en": "..."}}: on closing, patrons on these
  // channels are asked once how satisfied they were (1-5), in the team's language. Default:
  // webchat, sms, xmpp and telegram (not email, nor public social posts), with an English
  // and a French question; "channels": [] asks nobody.
  std::vector<std::string> csat_channels = {"webchat", "sms", "xmpp", "telegram"};
  core::message_templates csat_question = default_csat_question();  // under "*", by language
};

// A topic and the rules that recognise it (daemon/core/topics.hpp says how they match).
struct topic_options {
  std::string id;
  std::string team;                   // the team that answers this topic; one of `teams`
  std::vector<std::string> keywords;  // words or phrases, case- and accent-insensitive
  std::vector<std::string> patterns;  // RE2 regular expressions, case-insensitive
  std::vector<std::string> channels;  // the rule applies only on these channels; []: any
  std::vector<std::string> senders;   // ... only from these addresses ('*' wildcards); []: any
  double weight = 1;                  // added to the topic's score per matching keyword/pattern
};

struct routing_options {
  std::string default_topic;  // when nothing decides; "" leaves such conversations untopiced
  std::string examples;       // JSON-lines training file, relative to the config file; "": none
  std::vector<core::topic_example> example_set;  // what `examples` holds, read while checking it
  double min_confidence = 0.6;    // the classifier's least confidence to decide alone
  std::int64_t sticky_days = 30;  // a returning patron goes to their last helper within this
  std::int64_t away_after_seconds = 120;  // staff with no dashboard open this long are away
  std::int64_t unanswered_minutes = 15;   // requeue when the holder leaves a patron unanswered
  std::vector<core::priority_rule> priorities;  // queue order: higher first
};

struct connector_spec {
  std::string id;    // unique among connectors; part of webhook URLs
  std::string type;  // the factory that builds it: "webchat", "twilio", "email", ...
  std::string path;  // "connectors[2]", for messages
  const rapidjson::Value* json = nullptr;  // the whole block, owned by daemon_config
};

// "privacy": what askdesk keeps of patrons, and for how long (docs/privacy.md). On from the
// first start: the defaults are a library's usual month.
struct privacy_options {
  // Days after a conversation closes that what the patron wrote is kept (messages, their
  // attachments' names, the preview, email subjects, the satisfaction comment); then the
  // conversation is redacted and its facts stay for the reports.
  int transcript_days = 30;
  // Days after a patron last wrote that their identifiers are kept (name, email, phone, their
  // address on each channel), once none of their conversations is open.
  int identifier_days = 30;
  // "none", "subnet" or "full": what may be kept of patrons' network addresses. askdesk keeps
  // none of them today in any mode (the web chat limits by session, not address).
  std::string ip = "none";
  int audit_days = 365;     // how long the staff access audit is kept
  bool aof_rewrite = true;  // rewrite Redis's append-only file after removing patron data
  int purge_minutes = 60;   // how often a daemon purges (one at a time)
  struct channel_policy {
    std::optional<int> transcript_days, identifier_days;
  };
  std::map<std::string, channel_policy> channels;  // by channel: shorter (or longer) windows

  int transcript_days_of(std::string_view channel) const;
  int identifier_days_of(std::string_view channel) const;
};

struct daemon_config {
  std::string log_level = "info";  // trace, debug, info, warn, error, critical, off
  http_options http;
  redis_options redis;
  auth_options auth;
  std::vector<team_options> teams;    // default: one team, "reference"
  std::vector<topic_options> topics;  // default: none
  routing_options routing;
  privacy_options privacy;
  std::vector<connector_spec> connectors;          // default: web chat
  std::string source;                              // the file it came from, or "" for built-in
  std::shared_ptr<const json::document> document;  // keeps connector blocks alive

  const team_options* find_team(std::string_view id) const;
  // The most conversations a member of `teams` may hold: the largest of their capacities.
  int capacity_of(const std::vector<std::string>& teams) const;
  const topic_options* find_topic(std::string_view id) const;
};

// What the daemon uses where the file says nothing; computed by main from its environment.
struct defaults {
  std::string redis_url = "redis://127.0.0.1:6379/0";
  std::string web_root;
  // "host:port" that overrides http.listen (askdesk serve --listen); empty: none.
  std::string listen;
  // The folder relative paths in the file are resolved against (load_file sets it to the
  // file's folder); empty: the working directory.
  std::string config_dir;
};

// Reads the connector blocks (the connector registry's parse_all), which this layer cannot
// know, so their problems are reported together with every other one.
using connector_check = std::function<void(const daemon_config&, json::problems& out)>;

// Parses a configuration text. Every problem goes to `out` with its JSON path; the result
// is nullopt when there was any. `check`, when given, runs on the configuration read so far
// even when other parts had problems.
std::optional<daemon_config> parse(std::string_view text, const defaults& fallback,
                                   const json::environment& env, json::problems& out,
                                   const connector_check& check = {});

// Reads and parses `path`. A file that cannot be read is one problem naming it.
std::optional<daemon_config> load_file(const std::string& path, const defaults& fallback,
                                       const json::environment& env, json::problems& out,
                                       const connector_check& check = {});

// The configuration of `askdesk serve` with no file: a useful local hub.
daemon_config builtin(const defaults& fallback);

// True for ids that fit in URLs and Redis keys: [a-z0-9][a-z0-9_-]{0,63}.
bool is_valid_id(std::string_view id);

bool is_valid_log_level(std::string_view level);

// "host:port" or "[v6]:port"; false when it is neither.
bool parse_listen(std::string_view text, std::string& host, std::uint16_t& port);
// "6379" -> 6379; false unless 1..65535 in decimal digits.
bool parse_port(std::string_view text, std::uint16_t& port);
// Whether `text` is an IPv4 or IPv6 address ("127.0.0.1", "::1"), not a name.
bool is_ip_address(const std::string& text);
// The inverse of parse_listen: "host:port", "[v6]:port".
std::string host_port(std::string_view host, std::uint16_t port);

}  // namespace askdesk::config
