// The records behind fake_mastodon and the JSON entities made from them, in the shapes of the
// examples on docs.joinmastodon.org (entities/Account, Status, MediaAttachment, Notification,
// Tag, Instance); and what Mastodon does with a posted text: the length it counts against
// max_characters and the HTML it serves. Internal to fake_mastodon, which calls all of this
// under its lock.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/json/writer.hpp"

namespace askdesk::testing::mastodon_fake {

using time_point = std::chrono::system_clock::time_point;

struct account_record {
  std::string id;
  std::string username;
  std::string domain;  // "" for a local account
  std::string display_name;
  time_point created_at;
  int statuses_count = 0;
  time_point last_status_at{};  // epoch: none yet
  int followers_count = 0;
  int following_count = 0;
};

struct media_record {
  std::string id;
  std::string url;
  std::string preview_url;
  std::string description;  // "": null
};

struct status_record {
  std::uint64_t id = 0;
  std::string account_id;
  std::string content;  // HTML
  std::string visibility;
  std::string in_reply_to_id;  // "": none
  std::string in_reply_to_account_id;
  std::string spoiler_text;
  bool sensitive = false;
  std::string language;  // "": null
  std::vector<media_record> media;
  std::vector<std::string> mention_ids;
  std::vector<std::string> tags;  // lower case
  time_point created_at;
  std::string application;  // the app that posted it; "" for statuses added by the test
};

struct notification_record {
  std::uint64_t id = 0;
  std::string type;
  std::string account_id;
  std::string status_id;  // "": none
  time_point created_at;
  bool filtered = false;
};

// Everything an entity refers to.
struct world {
  std::string base;    // "http://127.0.0.1:PORT"
  std::string domain;  // "127.0.0.1:PORT"
  std::string library_id;
  std::map<std::string, account_record> accounts;   // by id
  std::map<std::uint64_t, status_record> statuses;  // by id, oldest first
  std::set<std::string> following;                  // accounts the library follows
  int max_characters = 500;

  const account_record* find_account(std::string_view id) const;
  const status_record* find_status(std::string_view id) const;
  // A known account by acct ("ada", "ada@other.example", case-insensitive); nullptr if none.
  const account_record* find_acct(std::string_view username, std::string_view domain) const;
  // Whether the library may see `s` (its own, public, unlisted; private from an account it
  // follows or mentioning it; direct mentioning it).
  bool visible(const status_record& s) const;
  std::string acct(const account_record& a) const;
  std::string profile_url(const account_record& a) const;
};

// "2019-12-08T03:48:33.901Z" with `fraction_digits` 3; 0 and 6 digits too.
std::string iso_time(time_point t, int fraction_digits = 3);
std::string ascii_lower(std::string_view text);

void write_account(json::writer& w, const world& x, const account_record& a);
// The CredentialAccount of verify_credentials: an Account with `source` and `role`.
void write_credential_account(json::writer& w, const world& x, const account_record& a);
void write_status(json::writer& w, const world& x, const status_record& s);
void write_notification(json::writer& w, const world& x, const notification_record& n);
void write_tag(json::writer& w, const world& x, const std::string& name);
std::string instance_json(const world& x);

// The length Mastodon counts for a status: grapheme clusters of the spoiler text and the text,
// where each http(s) URL counts as 23 and "@user@domain" as "@user".
std::size_t countable_length(std::string_view text, std::string_view spoiler_text);

// A posted text as Mastodon serves it: escaped, in <p> paragraphs with <br /> for single line
// breaks, URLs as shortened links, known accounts' mentions as h-card links, hashtags as tag
// links.
struct formatted_text {
  std::string html;
  std::vector<std::string> mention_ids;  // known accounts mentioned, once each, in order
  std::vector<std::string> tags;         // lower case, once each
};
formatted_text format_text(const world& x, std::string_view text);

}  // namespace askdesk::testing::mastodon_fake
