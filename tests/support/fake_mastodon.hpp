// A stand-in for a Mastodon server's client API (docs.joinmastodon.org) on loopback, for
// integration tests: no Mastodon can run here. It answers, as the library's account (the one
// the token belongs to), GET /api/v1/notifications (types[], exclude_types[], account_id,
// include_filtered, max_id / since_id / min_id, limit, Link headers), /api/v1/notifications/:id,
// /api/v1/statuses/:id and its /context, /api/v1/timelines/tag/:hashtag, /api/v2/search,
// /api/v2/instance, /api/v1/accounts/verify_credentials and /api/v1/accounts/:id, and
// POST /api/v1/statuses (Idempotency-Key, the server's length rules); with rate limits in the
// X-RateLimit-* headers and the failures a test queues. Entities are shaped like the
// documentation's examples; an unknown record is 404 {"error":"Record not found"}, any other
// path 404 {"error":"Not Found"}. It records every request. Runs askdesk's own HTTP server on its
// own thread; every method here is safe to call from any thread while it serves.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace askdesk::testing {

class fake_mastodon {
 public:
  static constexpr const char* default_token = "mastodon-test-token";
  // The library's account: username and acct "library", display name "The Library".
  static constexpr const char* library_id = "109000000000000001";

  explicit fake_mastodon(std::string token = default_token);
  ~fake_mastodon();
  fake_mastodon(const fake_mastodon&) = delete;
  fake_mastodon& operator=(const fake_mastodon&) = delete;

  // "http://127.0.0.1:PORT": the connector's `instance`.
  std::string base() const;
  // "127.0.0.1:PORT": the instance's domain (GET /api/v2/instance).
  std::string domain() const;
  // Requests need "Authorization: Bearer <token>"; without it they get 401
  // {"error":"The access token is invalid"}.
  const std::string& token() const { return token_; }

  struct account {
    std::string id;            // opaque numeric string: "109000000000000002", ...
    std::string username;      // "ada"
    std::string acct;          // "ada" for a local account, "ada@other.example" for a remote one
    std::string display_name;  // "Ada Lovelace"
    std::string url;           // the profile page: base() + "/@ada", "https://other.example/@ada"
  };
  account library() const;
  // Throws std::invalid_argument when the username is empty or already taken on that domain.
  account add_account(std::string username, std::string display_name);
  account add_remote_account(std::string username, std::string domain, std::string display_name);
  // The library follows this account from now on: its private statuses become visible and its
  // private mentions are never filtered. Throws std::invalid_argument for an unknown account.
  void follow(const std::string& account_id);

  struct media_attachment {
    std::string url;
    std::string preview_url;  // "": the same as url
    std::string description;  // the alt text; "": null
  };
  struct status_spec {
    std::string account_id;             // the author; library_id for the library's own
    std::string content;                // HTML, served exactly as given (may be hostile)
    std::string visibility = "public";  // public, unlisted, private, direct
    std::string in_reply_to_id;         // "": not a reply
    std::string spoiler_text;           // the content warning; "": none
    bool sensitive = false;
    std::vector<media_attachment> media;  // served as "image" attachments, 640x480
    std::vector<std::string> mentions;    // account ids
    std::vector<std::string> tags;        // names without '#', served in lower case
    std::string language = "en";          // "": null
  };
  // Adds a status created now and returns its id. Ids are snowflakes (milliseconds << 16), so a
  // newer status's id sorts after an older one's, numerically and as strings of equal length.
  // A status that mentions the library and is not the library's own makes one "mention"
  // notification. It is filtered (left out of GET /api/v1/notifications without
  // include_filtered=true) when it is direct, from an account the library does not follow,
  // not a reply to a direct status of the library's, and filter_private_mentions is on: Mastodon
  // 4.3's notification policy. Throws std::invalid_argument for an unknown author, mentioned
  // account or in_reply_to_id, or another visibility.
  std::string add_status(const status_spec& spec);

  // Another notification from `account_id` ("favourite", "reblog", "follow", any type),
  // about `status_id` ("": none, as for "follow"); never filtered. Returns its id. Notification
  // ids are a sequence of eight-digit numbers from 34975861. Throws std::invalid_argument for
  // an unknown account or status.
  std::string add_notification(const std::string& type, const std::string& account_id,
                               const std::string& status_id = "");
  // Mastodon 4.3's `for_private_mentions` policy: true ("filter", the default) or false
  // ("accept"). It decides for mentions added afterwards.
  void filter_private_mentions(bool filter);

  struct notification {
    std::string id;
    std::string type;
    std::string account_id;
    std::string status_id;  // "": none
    bool filtered = false;
  };
  // Every notification, oldest first.
  std::vector<notification> notifications() const;

  // configuration.statuses.max_characters, the limit POST /api/v1/statuses enforces. Default 500.
  void set_max_characters(int max_characters);
  // Off (the default), GET /api/v2/search finds no statuses, like an instance without
  // Elasticsearch; on, it finds visible statuses whose content contains the query (ASCII
  // case-insensitive). Accounts and hashtags are searchable either way.
  void set_full_text_search(bool on);

  // Rate limits. Every answer carries X-RateLimit-Limit, X-RateLimit-Remaining and
  // X-RateLimit-Reset about the bucket closest to its limit, among those the request counts
  // against: "default" (every request; 300 per 5 minutes), "paged" (requests with min_id,
  // max_id or since_id; 300 per 15 minutes) and, for POST /api/v1/statuses, "statuses" (300
  // created per 3 hours; only a status actually created counts: not a 422, not a replay).
  // Past a limit the answer is 429 {"error":"Too many requests"}. A window starts at the first
  // request after the previous one ended (Mastodon aligns windows to multiples of the period
  // since the epoch; anchoring them keeps a test from straddling a boundary). Setting a bucket
  // starts it afresh. Throws std::invalid_argument for another bucket, a limit below 0 or a
  // window below 1 s.
  void set_rate_limit(const std::string& bucket, int limit, std::chrono::seconds window);
  // Digits of the fraction of a second in X-RateLimit-Reset: 6 (the default) as Mastodon
  // writes it (Ruby's iso8601(6): "2026-12-07T15:35:00.123456Z"), 3 ("...:00.123Z") or 0
  // ("...:00Z").
  void set_reset_precision(int fraction_digits);
  // Moves the fake's clock forward: rate-limit windows and idempotency keys (kept one hour)
  // expire as if that much time had passed; created_at values and new ids follow.
  void advance_clock(std::chrono::seconds by);

  // The next request whose "METHOD /path" starts with `method_path_prefix` ("POST
  // /api/v1/statuses", "GET /api/v1/notifications") gets exactly this answer instead of
  // normal service, whatever its token (e.g. 500 with an HTML page, 200 with "not json",
  // 422 with a JSON error). Queued answers are used in order. The request still counts against
  // the rate limits, but the answer carries no X-RateLimit headers.
  void fail_next(const std::string& method_path_prefix, int status, const std::string& body,
                 const std::string& content_type = "application/json; charset=utf-8");

  struct request {
    std::string method;  // GET, POST, ...
    std::string path;    // percent-decoded: "/api/v1/timelines/tag/opening"
    std::string query;   // as sent
    // The parameters of the query and the body as one JSON object text, names as sent and
    // values as strings (a JSON body flattened to the names a form would use, media_ids[]; its
    // numbers and booleans as their JSON text); a name sent more than once (types[]) has an
    // array of its values. "{}" when the query or the body could not be parsed (answered 400
    // {"error":"Bad Request"}).
    std::string params;
    std::string idempotency_key;  // the Idempotency-Key header; "" without one
    std::string content_type;     // of the request body; "" without one
    bool authorized = false;      // the right Bearer token
    int status = 0;               // answered
    // The tightest bucket's limit minus what it has used, this request included: the
    // X-RateLimit-Remaining sent, except that a request refused with 429 by a rate limit
    // records how far past it went (-1 for the first one past). A client that reads the
    // headers and waits never records a value below 0.
    int remaining = 0;
    std::chrono::steady_clock::time_point at;
  };
  // Every request, in arrival order; or those whose "METHOD /path" starts with the prefix.
  std::vector<request> requests() const;
  std::vector<request> requests(const std::string& method_path_prefix) const;
  // Waits until at least `n` such requests were answered; false after `wait`.
  bool wait_for_requests(const std::string& method_path_prefix, std::size_t n,
                         std::chrono::milliseconds wait = std::chrono::seconds(10)) const;

  // A status created by POST /api/v1/statuses (replays of an idempotency key create none).
  struct posted_status {
    std::string id;
    std::string status;          // the text as sent
    std::string in_reply_to_id;  // "": none
    std::string visibility;      // as sent; "" when absent (the status is then public)
    std::string spoiler_text;
    std::string language;               // as sent; "" when absent (the status is then "en")
    std::string idempotency_key;        // "": none
    std::vector<std::string> mentions;  // accts of the known accounts the text mentions
    std::string content;                // the HTML the fake made of the text
    std::chrono::steady_clock::time_point at;
  };
  std::vector<posted_status> posted() const;
  // Waits until at least `n` statuses were posted; false after `wait`.
  bool wait_for_posted(std::size_t n,
                       std::chrono::milliseconds wait = std::chrono::seconds(10)) const;

 private:
  struct state;

  const std::string token_;
  std::shared_ptr<state> state_;
  int port_ = 0;
  std::thread server_thread_;
};

}  // namespace askdesk::testing
