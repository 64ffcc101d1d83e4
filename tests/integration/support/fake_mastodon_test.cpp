// The fake Mastodon server before any connector uses it. masto, a client written from the same
// documentation by other people (tests/support/masto_client.mjs), reads the library's
// notifications page by page through the Link headers, a status, its thread, a hashtag
// timeline, the instance and a search, posts a reply twice under one idempotency key, and
// meets a 422, a 429, a 401 and two broken answers as its own error types. Direct requests
// then show what masto hides: the Link header's exact text, min_id's place in the list, the
// rate-limit headers counting down and resetting, include_filtered, Mastodon's length rules,
// idempotency keys expiring after an hour, and the entities' shapes.
#include <gtest/gtest.h>

#include <date/date.h>

#include <chrono>
#include <future>
#include <optional>
#include <regex>
#include <sstream>
#include <thread>

#include "daemon/json/document.hpp"
#include "daemon/json/writer.hpp"
#include "daemon/net/http.hpp"
#include "tests/support/fake_mastodon.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace askdesk::testing {
namespace {

using namespace std::chrono_literals;
using status_spec = fake_mastodon::status_spec;

json::document parse(const std::string& text) {
  auto parsed = json::document::parse(text);
  if (!parsed.ok()) throw std::runtime_error("not JSON (" + parsed.err().message + "): " + text);
  return std::move(*parsed);
}

std::string text(const rapidjson::Value& v, const char* key) {
  return std::string(json::string_member(v, key));
}

std::vector<std::string> strings(const rapidjson::Value& array) {
  std::vector<std::string> out;
  for (const auto& item : array.GetArray()) out.emplace_back(item.GetString());
  return out;
}

http_result get(const fake_mastodon& fake, const std::string& path_and_query) {
  return http_request("GET", fake.base() + path_and_query, {},
                      {"Authorization: Bearer " + fake.token()});
}

http_result post_status(const fake_mastodon& fake, const std::string& json_body,
                        const std::string& idempotency_key = "") {
  std::vector<std::string> headers{"Authorization: Bearer " + fake.token(),
                                   "Content-Type: application/json"};
  if (!idempotency_key.empty()) headers.push_back("Idempotency-Key: " + idempotency_key);
  return http_request("POST", fake.base() + "/api/v1/statuses", json_body, headers);
}

// The ids of a JSON array of entities.
std::vector<std::string> ids(const http_result& answer) {
  std::vector<std::string> out;
  const auto body = parse(answer.body);
  for (const auto& item : body.root().GetArray()) out.push_back(text(item, "id"));
  return out;
}

std::chrono::system_clock::time_point parse_time(const std::string& iso) {
  std::istringstream in(iso);
  date::sys_time<std::chrono::microseconds> t;
  in >> date::parse("%FT%TZ", t);
  if (in.fail()) throw std::runtime_error("not an ISO time: " + iso);
  return t;
}

// What tests/support/masto_client.mjs wrote, one parsed event a line.
class client_output {
 public:
  client_output(std::vector<std::string> lines, std::string log)
      : lines_(std::move(lines)), log_(std::move(log)) {}

  std::optional<json::document> event(std::string_view name) const {
    for (const auto& line : lines_) {
      auto parsed = parse(line);
      if (json::string_member(parsed.root(), "event") == name) return parsed;
    }
    return std::nullopt;
  }
  std::size_t count(std::string_view name) const {
    std::size_t n = 0;
    for (const auto& line : lines_) n += json::string_member(parse(line).root(), "event") == name;
    return n;
  }
  std::string transcript() const {
    std::string out;
    for (const auto& line : lines_) out += line + "\n";
    return out + "--- the client's log:\n" + log_;
  }

 private:
  std::vector<std::string> lines_;
  std::string log_;
};

client_output run_client(const fake_mastodon& fake, std::vector<std::string> args) {
  temp_dir dir;
  std::vector<std::string> argv{
      "/usr/bin/node", std::string(ASKDESK_SOURCE_DIR) + "/tests/support/masto_client.mjs",
      "--base",        fake.base(),
      "--token",       fake.token(),
      "--out",         dir.file("events.jsonl")};
  argv.insert(argv.end(), args.begin(), args.end());
  child_process client(argv, dir.file("client.log"),
                       {{"NO_PROXY", "127.0.0.1"}, {"no_proxy", "127.0.0.1"}});
  const auto code = client.wait(60s);
  std::vector<std::string> lines;
  const std::string events = read_file(dir.file("events.jsonl"));
  for (std::size_t start = 0, end; (end = events.find('\n', start)) != std::string::npos;
       start = end + 1) {
    lines.push_back(events.substr(start, end - start));
  }
  std::string log = client.log();
  if (code != 0) {
    log += "\n(the client ended with " + (code ? std::to_string(*code) : "no exit") + ")";
  }
  return client_output(std::move(lines), std::move(log));
}

TEST(FakeMastodon, MastoReadsPagesThreadsAndErrorsAsTheApiDocumentsThem) {
  fake_mastodon fake;
  const auto ada = fake.add_account("ada", "Ada Lovelace");
  const auto grace = fake.add_remote_account("grace", "other.example", "Grace Hopper");
  const std::string library = fake_mastodon::library_id;

  const std::string question =
      fake.add_status({.account_id = ada.id,
                       .content = "<p>@library When do you open? <a href=\"#\">#opening</a></p>",
                       .mentions = {library},
                       .tags = {"opening"}});
  const std::string favourite = fake.add_notification("favourite", grace.id, question);
  const std::string answer = fake.add_status({.account_id = library,
                                              .content = "<p>@ada At nine. #opening</p>",
                                              .in_reply_to_id = question,
                                              .mentions = {ada.id},
                                              .tags = {"Opening"}});
  const std::string hostile = "<p>Thanks!</p><script>alert('x')</script><img src=x onerror=y>";
  const std::string thanks =
      fake.add_status({.account_id = ada.id,
                       .content = hostile,
                       .visibility = "unlisted",
                       .in_reply_to_id = answer,
                       .spoiler_text = "Gratitude",
                       .sensitive = true,
                       .media = {{"https://files.example/card.jpg", "", "My library card"}},
                       .mentions = {library},
                       .language = "fr"});
  const std::string secret = fake.add_status({.account_id = grace.id,
                                              .content = "<p>@library a private question</p>",
                                              .visibility = "direct",
                                              .mentions = {library}});
  fake.add_notification("follow", grace.id);
  const std::string loud = fake.add_status({.account_id = grace.id,
                                            .content = "<p>@library open late? #opening</p>",
                                            .mentions = {library},
                                            .tags = {"opening"}});
  const std::string reply = fake.add_status({.account_id = library,
                                             .content = "<p>@ada You are welcome.</p>",
                                             .in_reply_to_id = thanks,
                                             .mentions = {ada.id}});
  // Between two others: the library cannot see it, in the thread or anywhere.
  fake.add_status({.account_id = grace.id,
                   .content = "<p>@ada psst</p>",
                   .visibility = "direct",
                   .in_reply_to_id = thanks,
                   .mentions = {ada.id}});

  const auto notes = fake.notifications();
  ASSERT_EQ(notes.size(), 6u);
  EXPECT_EQ(notes[0].id, "34975861");
  EXPECT_EQ(notes[1].id, favourite);
  EXPECT_TRUE(notes[3].filtered);  // grace's direct mention: a stranger's private mention
  EXPECT_EQ(notes[3].status_id, secret);

  // The first status masto posts is the last one the "statuses" bucket allows; so fails it.
  fake.set_rate_limit("statuses", 1, 1h);
  fake.fail_next("GET /api/v1/notifications/" + notes[0].id, 500,
                 "<html><body><h1>We're sorry, but something went wrong.</h1></body></html>",
                 "text/html; charset=utf-8");
  fake.fail_next("GET /api/v1/notifications/" + notes[0].id, 200, "not json");

  const auto out = run_client(
      fake, {"--status", thanks, "--tag", "opening", "--notification", notes[0].id, "--search",
             "nine", "--reply-to", thanks, "--long-text", std::string(501, 'a')});
  SCOPED_TRACE(out.transcript());
  ASSERT_TRUE(out.event("end"));
  EXPECT_EQ(out.count("step_failed"), 0u);

  const auto me = out.event("me");
  ASSERT_TRUE(me);
  EXPECT_EQ(text(me->root(), "id"), library);
  EXPECT_EQ(text(me->root(), "acct"), "library");
  EXPECT_EQ(text(me->root(), "url"), fake.base() + "/@library");

  // Mentions newest first, two a page, filtered ones included; then an empty page ends it.
  const auto pages = out.event("notifications");
  ASSERT_TRUE(pages);
  const auto& list = pages->root()["pages"];
  ASSERT_EQ(list.Size(), 3u);
  ASSERT_EQ(list[0].Size(), 2u);
  ASSERT_EQ(list[1].Size(), 2u);
  EXPECT_EQ(list[2].Size(), 0u);
  const std::vector<std::string> mention_ids{notes[5].id, notes[3].id, notes[2].id, notes[0].id};
  const std::vector<std::string> seen{text(list[0][0], "id"), text(list[0][1], "id"),
                                      text(list[1][0], "id"), text(list[1][1], "id")};
  EXPECT_EQ(seen, mention_ids);
  EXPECT_EQ(text(list[0][0], "acct"), "grace@other.example");
  EXPECT_EQ(text(list[0][0], "statusId"), loud);
  EXPECT_EQ(text(list[0][1], "visibility"), "direct");
  EXPECT_EQ(text(list[1][1], "acct"), "ada");
  EXPECT_EQ(text(list[1][1], "type"), "mention");

  const auto unfiltered = out.event("unfiltered_notifications");
  ASSERT_TRUE(unfiltered);
  EXPECT_EQ(strings(unfiltered->root()["ids"]),
            (std::vector<std::string>{notes[5].id, notes[2].id, notes[0].id}));
  const auto every = out.event("every_type");
  ASSERT_TRUE(every);
  EXPECT_EQ(strings(every->root()["types"]),
            (std::vector<std::string>{"mention", "follow", "mention", "favourite", "mention"}));

  // Two queued failures, each once, as masto's own errors; then normal service.
  const auto failed = out.event("notification_failed");
  ASSERT_TRUE(failed);
  EXPECT_EQ(text(failed->root(), "error"), "MastoUnexpectedError");
  const auto not_json = out.event("notification_not_json");
  ASSERT_TRUE(not_json);
  EXPECT_EQ(text(not_json->root(), "error"), "MastoDeserializeError");
  const auto notification = out.event("notification");
  ASSERT_TRUE(notification);
  EXPECT_EQ(text(notification->root(), "id"), notes[0].id);

  const auto status = out.event("status");
  ASSERT_TRUE(status);
  const auto& s = status->root();
  EXPECT_EQ(text(s, "id"), thanks);
  EXPECT_EQ(text(s, "acct"), "ada");
  EXPECT_EQ(text(s, "content"), hostile);  // served as given: escaping is the client's job
  EXPECT_EQ(text(s, "visibility"), "unlisted");
  EXPECT_EQ(text(s, "inReplyToId"), answer);
  EXPECT_EQ(text(s, "spoilerText"), "Gratitude");
  EXPECT_TRUE(json::bool_member(s, "sensitive"));
  EXPECT_EQ(text(s, "language"), "fr");
  EXPECT_EQ(text(s, "url"), fake.base() + "/@ada/" + thanks);
  EXPECT_TRUE(std::regex_match(text(s, "createdAt"),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
  EXPECT_EQ(strings(s["mentions"]), std::vector<std::string>{"library"});
  ASSERT_EQ(s["media"].Size(), 1u);
  EXPECT_EQ(text(s["media"][0], "type"), "image");
  EXPECT_EQ(text(s["media"][0], "url"), "https://files.example/card.jpg");
  EXPECT_EQ(text(s["media"][0], "previewUrl"), "https://files.example/card.jpg");
  EXPECT_EQ(text(s["media"][0], "description"), "My library card");

  const auto context = out.event("context");
  ASSERT_TRUE(context);
  EXPECT_EQ(strings(context->root()["ancestors"]), (std::vector<std::string>{question, answer}));
  EXPECT_EQ(strings(context->root()["descendants"]), std::vector<std::string>{reply});

  const auto tag = out.event("tag");
  ASSERT_TRUE(tag);
  ASSERT_EQ(tag->root()["pages"].Size(), 3u);
  EXPECT_EQ(strings(tag->root()["pages"][0]), (std::vector<std::string>{loud, answer}));
  EXPECT_EQ(strings(tag->root()["pages"][1]), std::vector<std::string>{question});
  EXPECT_EQ(tag->root()["pages"][2].Size(), 0u);

  const auto instance = out.event("instance");
  ASSERT_TRUE(instance);
  EXPECT_EQ(text(instance->root(), "domain"), fake.domain());
  EXPECT_EQ(json::integer_member(instance->root(), "maxCharacters"), 500);
  EXPECT_EQ(json::integer_member(instance->root(), "charactersReservedPerUrl"), 23);
  EXPECT_EQ(text(instance->root(), "contact"), "library");

  // No full-text search by default: no statuses, as on most instances.
  const auto search = out.event("search");
  ASSERT_TRUE(search);
  EXPECT_EQ(search->root()["statuses"].Size(), 0u);

  const auto posted = out.event("posted");
  ASSERT_TRUE(posted);
  const auto& first = posted->root()["first"];
  EXPECT_EQ(text(first, "id"), text(posted->root()["again"], "id"));
  EXPECT_EQ(text(first, "acct"), "library");
  EXPECT_EQ(text(first, "visibility"), "direct");
  EXPECT_EQ(text(first, "inReplyToId"), thanks);
  EXPECT_EQ(strings(first["mentions"]), std::vector<std::string>{"ada"});
  EXPECT_EQ(text(posted->root(), "application"), "askdesk");
  EXPECT_NE(text(first, "content").find("class=\"u-url mention\">@<span>ada</span>"),
            std::string::npos);
  EXPECT_GT(text(first, "id"), reply);  // a newer snowflake, same length

  const auto too_long = out.event("too_long");
  ASSERT_TRUE(too_long);
  EXPECT_EQ(text(too_long->root(), "error"), "MastoHttpError");
  EXPECT_EQ(json::integer_member(too_long->root(), "statusCode"), 422);
  EXPECT_EQ(text(too_long->root(), "message"),
            "Validation failed: Text character limit of 500 exceeded");
  const auto limited = out.event("rate_limited");
  ASSERT_TRUE(limited);
  EXPECT_EQ(json::integer_member(limited->root(), "statusCode"), 429);
  EXPECT_EQ(text(limited->root(), "message"), "Too many requests");
  EXPECT_EQ(text(limited->root(), "remaining"), "0");
  const auto wrong = out.event("wrong_token");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(json::integer_member(wrong->root(), "statusCode"), 401);
  EXPECT_EQ(text(wrong->root(), "message"), "The access token is invalid");

  // One status created; four POSTs recorded, the key with each; only the 429 went below 0.
  const auto created = fake.posted();
  ASSERT_EQ(created.size(), 1u);
  EXPECT_EQ(created[0].id, text(first, "id"));
  EXPECT_EQ(created[0].idempotency_key, "reply-1");
  EXPECT_EQ(created[0].visibility, "direct");
  EXPECT_EQ(created[0].language, "en");
  EXPECT_EQ(created[0].mentions, std::vector<std::string>{"ada"});
  const auto posts = fake.requests("POST /api/v1/statuses");
  ASSERT_EQ(posts.size(), 4u);
  EXPECT_EQ(posts[1].idempotency_key, "reply-1");
  EXPECT_EQ(posts[1].status, 200);
  EXPECT_EQ(posts[2].status, 422);
  EXPECT_EQ(posts[3].status, 429);
  EXPECT_EQ(posts[3].remaining, -1);
  EXPECT_EQ(posts[0].content_type, "application/json");
  for (const auto& r : fake.requests()) {
    if (r.status != 429) {
      EXPECT_GE(r.remaining, 0) << r.method << " " << r.path;
    }
  }
  const auto listed = fake.requests("GET /api/v1/notifications");
  ASSERT_FALSE(listed.empty());
  const auto params = parse(listed[0].params);
  EXPECT_EQ(text(params.root(), "types[]"), "mention");
  EXPECT_EQ(text(params.root(), "include_filtered"), "true");
  EXPECT_EQ(text(params.root(), "limit"), "2");
}

// Five mentions from ada, oldest first.
std::vector<std::string> add_mentions(fake_mastodon& fake, const fake_mastodon::account& from,
                                      int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    fake.add_status({.account_id = from.id,
                     .content = "<p>@library question " + std::to_string(i) + "</p>",
                     .mentions = {fake_mastodon::library_id}});
    out.push_back(fake.notifications().back().id);
  }
  return out;
}

TEST(FakeMastodon, NotificationPagesCarryLinkHeadersAsMastodonWritesThem) {
  fake_mastodon fake;
  const auto ada = fake.add_account("ada", "Ada Lovelace");
  const auto n = add_mentions(fake, ada, 5);
  const std::string url = fake.base() + "/api/v1/notifications";

  const auto first = get(fake, "/api/v1/notifications?types[]=mention&limit=2");
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.header("content-type"), "application/json; charset=utf-8");
  EXPECT_EQ(ids(first), (std::vector<std::string>{n[4], n[3]}));
  EXPECT_EQ(first.header("link"),
            "<" + url + "?limit=2&max_id=" + n[3] + "&types%5B%5D=mention>; rel=\"next\", <" + url +
                "?limit=2&min_id=" + n[4] + "&types%5B%5D=mention>; rel=\"prev\"");
  EXPECT_EQ(ids(get(fake, "/api/v1/notifications?limit=2&max_id=" + n[3])),
            (std::vector<std::string>{n[2], n[1]}));

  // min_id: the page just above it, still newest first; since_id: the newest above it.
  EXPECT_EQ(ids(get(fake, "/api/v1/notifications?limit=2&min_id=" + n[0])),
            (std::vector<std::string>{n[2], n[1]}));
  EXPECT_EQ(ids(get(fake, "/api/v1/notifications?limit=2&since_id=" + n[0])),
            (std::vector<std::string>{n[4], n[3]}));
  EXPECT_EQ(ids(get(fake, "/api/v1/notifications?min_id=" + n[0] + "&max_id=" + n[3])),
            (std::vector<std::string>{n[2], n[1]}));

  // Nothing newer: an empty page without a Link header.
  const auto empty = get(fake, "/api/v1/notifications?min_id=" + n[4]);
  EXPECT_EQ(empty.body, "[]");
  EXPECT_EQ(empty.header("link"), "");

  // types[] and exclude_types[], account_id; every filter the request had stays in the links.
  const auto grace = fake.add_account("grace", "Grace Hopper");
  const std::string followed = fake.add_notification("follow", grace.id);
  EXPECT_EQ(ids(get(fake, "/api/v1/notifications?types[]=follow&types[]=favourite")),
            std::vector<std::string>{followed});
  EXPECT_EQ(ids(get(fake, "/api/v1/notifications?exclude_types[]=mention")),
            std::vector<std::string>{followed});
  EXPECT_EQ(ids(get(fake, "/api/v1/notifications?account_id=" + grace.id)),
            std::vector<std::string>{followed});
  const auto kept = get(fake,
                        "/api/v1/notifications?exclude_types%5B%5D=follow&"
                        "exclude_types%5B%5D=poll&include_filtered=true&limit=1");
  EXPECT_EQ(kept.header("link"),
            "<" + url + "?exclude_types%5B%5D=follow&exclude_types%5B%5D=poll&" +
                "include_filtered=true&limit=1&max_id=" + n[4] + ">; rel=\"next\", <" + url +
                "?exclude_types%5B%5D=follow&exclude_types%5B%5D=poll&include_filtered=true&" +
                "limit=1&min_id=" + n[4] + ">; rel=\"prev\"");

  // limit: 40 by default, at most 80.
  for (int i = 0; i < 90; ++i) fake.add_notification("favourite", grace.id);
  EXPECT_EQ(ids(get(fake, "/api/v1/notifications")).size(), 40u);
  EXPECT_EQ(ids(get(fake, "/api/v1/notifications?limit=200")).size(), 80u);

  // Without the token, the documented 401.
  const auto anonymous = http_request("GET", url);
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_EQ(anonymous.body, R"({"error":"The access token is invalid"})");
  EXPECT_FALSE(fake.requests().back().authorized);
}

TEST(FakeMastodon, IncludeFilteredShowsPrivateMentionsFromAccountsTheLibraryDoesNotFollow) {
  fake_mastodon fake;
  const auto stranger = fake.add_account("stranger", "A Stranger");
  const auto friendly = fake.add_remote_account("friend", "other.example", "A Friend");
  fake.follow(friendly.id);
  const std::string library = fake_mastodon::library_id;
  const auto mention = [&](const std::string& from, const std::string& visibility,
                           const std::string& in_reply_to = "") {
    return fake.add_status({.account_id = from,
                            .content = "<p>@library hello</p>",
                            .visibility = visibility,
                            .in_reply_to_id = in_reply_to,
                            .mentions = {library}});
  };
  mention(stranger.id, "direct");  // filtered
  mention(stranger.id, "public");
  mention(friendly.id, "direct");
  const std::string started = fake.add_status({.account_id = library,
                                               .content = "<p>@stranger your card is ready</p>",
                                               .visibility = "direct",
                                               .mentions = {stranger.id}});
  mention(stranger.id, "direct", started);  // a reply to the library's own private mention
  fake.filter_private_mentions(false);
  mention(stranger.id, "direct");

  const auto all = fake.notifications();
  ASSERT_EQ(all.size(), 5u);
  const std::vector<bool> filtered{true, false, false, false, false};
  for (std::size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].filtered, filtered[i]) << i;

  EXPECT_EQ(ids(get(fake, "/api/v1/notifications")).size(), 4u);
  EXPECT_EQ(ids(get(fake, "/api/v1/notifications?include_filtered=false")).size(), 4u);
  const auto with_filtered = ids(get(fake, "/api/v1/notifications?include_filtered=true"));
  ASSERT_EQ(with_filtered.size(), 5u);
  EXPECT_EQ(with_filtered.back(), all[0].id);

  // The library sees its followed account's private statuses, not a stranger's.
  const std::string hidden = fake.add_status(
      {.account_id = stranger.id, .content = "<p>followers only</p>", .visibility = "private"});
  const std::string shown = fake.add_status(
      {.account_id = friendly.id, .content = "<p>followers only</p>", .visibility = "private"});
  const auto not_found = get(fake, "/api/v1/statuses/" + hidden);
  EXPECT_EQ(not_found.status, 404);
  EXPECT_EQ(not_found.body, R"({"error":"Record not found"})");
  EXPECT_EQ(get(fake, "/api/v1/statuses/" + shown).status, 200);
}

TEST(FakeMastodon, RateLimitHeadersCountDownRefuseAndResetAtTheWindowsEnd) {
  fake_mastodon fake;
  fake.set_rate_limit("default", 3, 60s);
  std::vector<http_result> answers;
  for (int i = 0; i < 4; ++i) answers.push_back(get(fake, "/api/v2/instance"));
  const auto asked = std::chrono::system_clock::now();
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(answers[i].status, 200);
    EXPECT_EQ(answers[i].header("x-ratelimit-limit"), "3");
    EXPECT_EQ(answers[i].header("x-ratelimit-remaining"), std::to_string(2 - i));
  }
  EXPECT_EQ(answers[3].status, 429);
  EXPECT_EQ(answers[3].body, R"({"error":"Too many requests"})");
  EXPECT_EQ(answers[3].header("x-ratelimit-remaining"), "0");
  // One window: the same reset every time, Ruby's iso8601(6), a minute after the first request.
  const std::string reset = answers[0].header("x-ratelimit-reset");
  EXPECT_TRUE(std::regex_match(reset, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)")))
      << reset;
  EXPECT_EQ(answers[3].header("x-ratelimit-reset"), reset);
  const auto ahead = parse_time(reset) - asked;
  EXPECT_GT(ahead, 50s);
  EXPECT_LE(ahead, 60s);
  std::vector<int> remaining;
  for (const auto& r : fake.requests()) remaining.push_back(r.remaining);
  EXPECT_EQ(remaining, (std::vector<int>{2, 1, 0, -1}));

  // A minute later the window has passed.
  fake.advance_clock(61s);
  fake.set_reset_precision(3);
  const auto later = get(fake, "/api/v2/instance");
  EXPECT_EQ(later.status, 200);
  EXPECT_EQ(later.header("x-ratelimit-remaining"), "2");
  EXPECT_TRUE(std::regex_match(later.header("x-ratelimit-reset"),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));

  // A paged request counts against both buckets; the headers tell of the tighter one.
  fake.set_rate_limit("default", 300, 300s);
  fake.set_rate_limit("paged", 2, 900s);
  EXPECT_EQ(get(fake, "/api/v1/notifications").header("x-ratelimit-limit"), "300");
  const auto paged = get(fake, "/api/v1/notifications?max_id=1");
  EXPECT_EQ(paged.header("x-ratelimit-limit"), "2");
  EXPECT_EQ(paged.header("x-ratelimit-remaining"), "1");
  EXPECT_EQ(get(fake, "/api/v1/notifications?since_id=1").status, 200);
  EXPECT_EQ(get(fake, "/api/v1/notifications?min_id=1").status, 429);
  EXPECT_EQ(get(fake, "/api/v1/notifications").status, 200);

  // Statuses: only one created counts; a replay and a 422 do not.
  fake.set_rate_limit("statuses", 2, 3h);
  EXPECT_EQ(post_status(fake, R"({"status":"One"})", "k1").header("x-ratelimit-remaining"), "1");
  EXPECT_EQ(post_status(fake, R"({"status":"One"})", "k1").header("x-ratelimit-remaining"), "1");
  EXPECT_EQ(post_status(fake, R"({"status":""})").status, 422);
  const auto second = post_status(fake, R"({"status":"Two"})");
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.header("x-ratelimit-limit"), "2");
  EXPECT_EQ(second.header("x-ratelimit-remaining"), "0");
  const auto third = post_status(fake, R"({"status":"Three"})");
  EXPECT_EQ(third.status, 429);
  EXPECT_EQ(third.body, R"({"error":"Too many requests"})");
  EXPECT_EQ(fake.requests().back().remaining, -1);
  EXPECT_EQ(fake.posted().size(), 2u);
  fake.advance_clock(3h);
  EXPECT_EQ(post_status(fake, R"({"status":"Three"})").status, 200);
}

TEST(FakeMastodon, PostingCountsLengthAndKeepsIdempotencyKeysAsMastodonDoes) {
  fake_mastodon fake;
  const auto ada = fake.add_account("ada", "Ada Lovelace");
  fake.add_remote_account("grace", "other.example", "Grace Hopper");
  const std::string question = fake.add_status({.account_id = ada.id,
                                                .content = "<p>@library hi</p>",
                                                .mentions = {fake_mastodon::library_id}});

  const auto posted = [&](const std::string& status, const std::string& spoiler = "") {
    json::writer w;
    w.start_object().field("status", status);
    if (!spoiler.empty()) w.field("spoiler_text", spoiler);
    w.end_object();
    return post_status(fake, w.str()).status;
  };
  const std::string too_long =
      R"({"error":"Validation failed: Text character limit of 500 exceeded"})";
  EXPECT_EQ(posted(std::string(500, 'a')), 200);
  const auto refused = post_status(fake, R"({"status":")" + std::string(501, 'a') + R"("})");
  EXPECT_EQ(refused.status, 422);
  EXPECT_EQ(refused.body, too_long);
  // The spoiler counts; a URL counts 23 however long; @user@domain counts as @user.
  EXPECT_EQ(posted(std::string(490, 'a'), std::string(11, 'b')), 422);
  const std::string url = "https://library.example/" + std::string(200, 'p');
  EXPECT_EQ(posted(std::string(476, 'a') + " " + url), 200);  // 476 + 1 + 23
  EXPECT_EQ(posted(std::string(477, 'a') + " " + url), 422);  // 477 + 1 + 23
  // Glued to a word it is no URL (Mastodon's extractor wants a break before it): all counts.
  EXPECT_EQ(posted(std::string(277, 'a') + url), 422);                      // 277 + 224
  EXPECT_EQ(posted("@grace@other.example " + std::string(493, 'a')), 200);  // 7 + 493
  // User-perceived characters: a family emoji of five code points counts once.
  std::string families;
  for (int i = 0; i < 500; ++i) families += "👩‍👩‍👧";
  EXPECT_EQ(posted(families), 200);
  EXPECT_EQ(posted(families + "!"), 422);
  fake.set_max_characters(1000);
  EXPECT_EQ(posted(std::string(1000, 'a')), 200);
  EXPECT_EQ(parse(get(fake, "/api/v2/instance").body)
                .root()["configuration"]["statuses"]["max_characters"]
                .GetInt(),
            1000);

  // Errors as the documentation gives them.
  EXPECT_EQ(post_status(fake, R"({"status":"  "})").body,
            R"({"error":"Validation failed: Text can't be blank"})");
  const auto orphan = post_status(fake, R"({"status":"Hi","in_reply_to_id":"1234"})");
  EXPECT_EQ(orphan.status, 404);
  EXPECT_EQ(orphan.body, R"({"error":"Record not found"})");

  // A form works as JSON does; the HTML is escaped and linked; a reply is public unless told.
  const auto form = http_request(
      "POST", fake.base() + "/api/v1/statuses",
      net::encode_form({{"status", "@ada <b>Yes</b>\nsee https://library.example/hours #Hours"},
                        {"in_reply_to_id", question}}),
      {"Authorization: Bearer " + fake.token(), "Content-Type: application/x-www-form-urlencoded"});
  ASSERT_EQ(form.status, 200) << form.body;
  const auto reply = parse(form.body);
  EXPECT_EQ(text(reply.root(), "visibility"), "public");
  EXPECT_EQ(text(reply.root(), "in_reply_to_account_id"), ada.id);
  EXPECT_EQ(
      text(reply.root(), "content"),
      "<p><span class=\"h-card\" translate=\"no\"><a href=\"" + fake.base() +
          "/@ada\" class=\"u-url mention\">@<span>ada</span></a></span> &lt;b&gt;Yes&lt;/b&gt;"
          "<br />see <a href=\"https://library.example/hours\" target=\"_blank\" "
          "rel=\"nofollow noopener\" translate=\"no\"><span class=\"invisible\">https://"
          "</span><span class=\"\">library.example/hours</span><span class=\"invisible\">"
          "</span></a> <a href=\"" +
          fake.base() +
          "/tags/Hours\" class=\"mention hashtag\" "
          "rel=\"tag\">#<span>Hours</span></a></p>");
  EXPECT_EQ(text(reply.root()["tags"][0], "name"), "hours");
  EXPECT_EQ(text(reply.root()["mentions"][0], "acct"), "ada");
  EXPECT_EQ(fake.posted().back().mentions, std::vector<std::string>{"ada"});

  // One key, one status, for an hour; then the key is forgotten.
  const auto once = post_status(fake, R"({"status":"Only once"})", "same-key");
  const auto twice = post_status(fake, R"({"status":"Something else"})", "same-key");
  EXPECT_EQ(text(parse(once.body).root(), "id"), text(parse(twice.body).root(), "id"));
  EXPECT_EQ(twice.status, 200);
  const auto count = fake.posted().size();
  EXPECT_EQ(fake.posted().back().status, "Only once");
  fake.advance_clock(59min);
  post_status(fake, R"({"status":"Still once"})", "same-key");
  EXPECT_EQ(fake.posted().size(), count);
  fake.advance_clock(2min);
  const auto fresh = post_status(fake, R"({"status":"Again"})", "same-key");
  EXPECT_NE(text(parse(fresh.body).root(), "id"), text(parse(once.body).root(), "id"));
  EXPECT_EQ(fake.posted().size(), count + 1);
}

TEST(FakeMastodon, EntitiesThreadsTagTimelineAndSearchFollowTheDocumentation) {
  fake_mastodon fake;
  const auto ada = fake.add_account("ada", "Ada Lovelace");
  const std::string first = fake.add_status(
      {.account_id = ada.id, .content = "<p>Opening hours?</p>", .tags = {"Hours"}});
  const std::string second = fake.add_status({.account_id = ada.id,
                                              .content = "<p>And on Sunday?</p>",
                                              .in_reply_to_id = first,
                                              .tags = {"hours"}});
  const std::string third = fake.add_status({.account_id = ada.id,
                                             .content = "<p>Never mind</p>",
                                             .visibility = "unlisted",
                                             .in_reply_to_id = first,
                                             .tags = {"hours"}});
  const std::string nested = fake.add_status(
      {.account_id = ada.id, .content = "<p>Found it</p>", .in_reply_to_id = second});

  // The Status entity, attribute for attribute as in the documentation's example.
  const auto status = parse(get(fake, "/api/v1/statuses/" + second).body);
  const auto& s = status.root();
  for (const char* key : {"id",
                          "created_at",
                          "in_reply_to_id",
                          "in_reply_to_account_id",
                          "sensitive",
                          "spoiler_text",
                          "visibility",
                          "language",
                          "uri",
                          "url",
                          "replies_count",
                          "reblogs_count",
                          "favourites_count",
                          "favourited",
                          "reblogged",
                          "muted",
                          "bookmarked",
                          "content",
                          "reblog",
                          "account",
                          "media_attachments",
                          "mentions",
                          "tags",
                          "emojis",
                          "card",
                          "poll"}) {
    EXPECT_TRUE(s.HasMember(key)) << key;
  }
  EXPECT_FALSE(s.HasMember("application"));  // shown on the library's own statuses only
  EXPECT_EQ(s["replies_count"].GetInt(), 1);
  EXPECT_TRUE(s["reblog"].IsNull());
  EXPECT_EQ(text(s, "uri"), fake.base() + "/users/ada/statuses/" + second);
  const auto& account = s["account"];
  for (const char* key :
       {"id", "username", "acct", "display_name", "locked", "bot", "created_at", "note", "url",
        "avatar", "avatar_static", "header", "header_static", "followers_count", "following_count",
        "statuses_count", "last_status_at", "emojis", "fields"}) {
    EXPECT_TRUE(account.HasMember(key)) << key;
  }
  EXPECT_EQ(account["statuses_count"].GetInt(), 4);
  EXPECT_TRUE(std::regex_match(text(account, "last_status_at"), std::regex(R"(\d{4}-\d\d-\d\d)")));
  EXPECT_TRUE(std::regex_match(text(account, "created_at"),
                               std::regex(R"(\d{4}-\d\d-\d\dT00:00:00\.000Z)")));

  // A thread: depth first, each status's replies oldest first.
  const auto context = parse(get(fake, "/api/v1/statuses/" + first + "/context").body);
  EXPECT_EQ(context.root()["ancestors"].Size(), 0u);
  std::vector<std::string> descendants;
  for (const auto& d : context.root()["descendants"].GetArray())
    descendants.push_back(text(d, "id"));
  EXPECT_EQ(descendants, (std::vector<std::string>{second, nested, third}));

  // The tag timeline: public statuses only, whatever the case; 20 by default, paged by id.
  const auto tagged = get(fake, "/api/v1/timelines/tag/HOURS");
  EXPECT_EQ(ids(tagged), (std::vector<std::string>{second, first}));
  EXPECT_EQ(tagged.header("link"),
            "<" + fake.base() + "/api/v1/timelines/tag/HOURS?max_id=" + first +
                ">; rel=\"next\", <" + fake.base() +
                "/api/v1/timelines/tag/HOURS?min_id=" + second + ">; rel=\"prev\"");
  EXPECT_EQ(ids(get(fake, "/api/v1/timelines/tag/hours?min_id=" + first)),
            std::vector<std::string>{second});

  // Search: accounts and hashtags always; statuses only with full-text search on.
  const auto off = parse(get(fake, "/api/v2/search?q=sunday&type=statuses").body);
  EXPECT_EQ(off.root()["statuses"].Size(), 0u);
  EXPECT_EQ(off.root()["accounts"].Size(), 0u);
  fake.set_full_text_search(true);
  const auto on = parse(get(fake, "/api/v2/search?q=SUNDAY").body);
  ASSERT_EQ(on.root()["statuses"].Size(), 1u);
  EXPECT_EQ(text(on.root()["statuses"][0], "id"), second);
  EXPECT_EQ(on.root()["accounts"].Size(), 0u);
  const auto people = parse(get(fake, "/api/v2/search?q=%40Ada&type=accounts").body);
  ASSERT_EQ(people.root()["accounts"].Size(), 1u);
  EXPECT_EQ(text(people.root()["accounts"][0], "acct"), "ada");
  EXPECT_EQ(parse(get(fake, "/api/v2/search?q=%23hou&type=hashtags").body)
                .root()["hashtags"][0]["name"]
                .GetString(),
            std::string("hours"));
  EXPECT_EQ(get(fake, "/api/v2/search").body,
            R"({"error":"param is missing or the value is empty: q"})");

  const auto me = parse(get(fake, "/api/v1/accounts/verify_credentials").body);
  EXPECT_EQ(text(me.root(), "id"), fake_mastodon::library_id);
  EXPECT_EQ(text(me.root()["source"], "privacy"), "public");
  EXPECT_EQ(get(fake, "/api/v1/accounts/" + ada.id).status, 200);
  EXPECT_EQ(get(fake, "/api/v1/statuses/999").status, 404);
  EXPECT_EQ(get(fake, "/api/v1/no/such/thing").body, R"({"error":"Not Found"})");
}

TEST(FakeMastodon, QueuedFailuresAnswerOnceInOrderAndTheFakeServesWhileTheTestAdds) {
  fake_mastodon fake;
  const auto ada = fake.add_account("ada", "Ada Lovelace");
  fake.fail_next("POST /api/v1/statuses", 503, "<html>Service Unavailable</html>", "text/html");
  fake.fail_next("GET /api/v1/notifications", 200, "not json");
  const auto unavailable = post_status(fake, R"({"status":"Hi"})");
  EXPECT_EQ(unavailable.status, 503);
  EXPECT_EQ(unavailable.header("content-type"), "text/html");
  EXPECT_EQ(unavailable.header("x-ratelimit-limit"), "");
  EXPECT_EQ(get(fake, "/api/v1/notifications").body, "not json");
  EXPECT_EQ(get(fake, "/api/v1/notifications").body, "[]");
  EXPECT_EQ(post_status(fake, R"({"status":"Hi"})").status, 200);
  EXPECT_EQ(fake.posted().size(), 1u);

  // Statuses added on this thread while another one reads the notifications.
  auto reader = std::async(std::launch::async, [&fake] {
    std::size_t most = 0;
    for (int i = 0; i < 30; ++i)
      most = std::max(most, ids(get(fake, "/api/v1/notifications")).size());
    return most;
  });
  add_mentions(fake, ada, 30);
  EXPECT_LE(reader.get(), 30u);
  EXPECT_TRUE(fake.wait_for_requests("GET /api/v1/notifications", 32));
  EXPECT_EQ(ids(get(fake, "/api/v1/notifications")).size(), 30u);
  EXPECT_FALSE(fake.wait_for_posted(2, 0ms));
}

}  // namespace
}  // namespace askdesk::testing
