// The fake Telegram Bot API before any connector uses it. python-telegram-bot 13, a client
// written from the same documentation by other people (tests/support/telegram_client.py),
// reads its updates, photos, documents and files, sends a message, and meets its errors (a
// 429 with retry_after, a blocked chat, a bad file_id, a conflict with a webhook) as the
// library's own exception types. Direct calls then show what a script cannot: a long poll
// waits and answers as soon as an update is added, a second poll ends the first, getUpdates
// conflicts with a webhook, the webhook pusher retries one update until a 2xx and sends the
// secret header, errors have the Bot API's exact shape, and destruction ends a waiting poll.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <future>
#include <mutex>
#include <optional>
#include <thread>

#include "daemon/json/document.hpp"
#include "daemon/net/http.hpp"
#include "daemon/net/http_server.hpp"
#include "tests/support/fake_telegram.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace askdesk::testing {
namespace {

using namespace std::chrono_literals;

// An id past 32 bits, as new accounts' are.
const fake_telegram::patron ada{5123456789, "Ada", "Lovelace", "ada_l"};

std::string hex(const std::string& bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (const char c : bytes) {
    out += digits[static_cast<unsigned char>(c) >> 4];
    out += digits[static_cast<unsigned char>(c) & 15];
  }
  return out;
}

std::string api(const fake_telegram& fake, const std::string& method) {
  return fake.base() + "/bot" + fake.token() + "/" + method;
}

http_result post_json(const fake_telegram& fake, const std::string& method,
                      const std::string& body) {
  return http_request("POST", api(fake, method), body, {"Content-Type: application/json"});
}

json::document parse(const std::string& text) {
  auto parsed = json::document::parse(text);
  if (!parsed.ok()) throw std::runtime_error("not JSON (" + parsed.err().message + "): " + text);
  return std::move(*parsed);
}

// What tests/support/telegram_client.py printed, one parsed event a line.
class client_output {
 public:
  client_output(std::vector<std::string> lines, std::string log)
      : lines_(std::move(lines)), log_(std::move(log)) {}

  // The nth event of that name.
  std::optional<json::document> event(std::string_view name, std::size_t nth = 0) const {
    for (const auto& line : lines_) {
      auto parsed = parse(line);
      if (json::string_member(parsed.root(), "event") == name && nth-- == 0) return parsed;
    }
    return std::nullopt;
  }
  std::size_t count(std::string_view name) const {
    std::size_t n = 0;
    for (const auto& line : lines_) n += json::string_member(parse(line).root(), "event") == name;
    return n;
  }
  // Everything, for failure messages.
  std::string transcript() const {
    std::string out;
    for (const auto& line : lines_) out += line + "\n";
    return out + "--- the client's log:\n" + log_;
  }

 private:
  std::vector<std::string> lines_;
  std::string log_;
};

client_output run_client(const fake_telegram& fake, std::int64_t chat, std::int64_t blocked,
                         const std::string& text) {
  temp_dir dir;
  child_process client(
      {"/usr/bin/python3", std::string(ASKDESK_SOURCE_DIR) + "/tests/support/telegram_client.py",
       "--base", fake.base(), "--token", fake.token(), "--chat", std::to_string(chat), "--blocked",
       std::to_string(blocked), "--text", text, "--out", dir.file("events.jsonl")},
      dir.file("client.log"), {{"NO_PROXY", "127.0.0.1"}, {"no_proxy", "127.0.0.1"}});
  const auto code = client.wait(60s);
  std::vector<std::string> lines;
  const std::string events = read_file(dir.file("events.jsonl"));
  for (std::size_t start = 0, end; (end = events.find('\n', start)) != std::string::npos;
       start = end + 1) {
    lines.push_back(events.substr(start, end - start));
  }
  std::string log = client.log();
  if (code != 0)
    log += "\n(the client ended with " + (code ? std::to_string(*code) : "no exit") + ")";
  return client_output(std::move(lines), std::move(log));
}

std::string text(const rapidjson::Value& v, const char* key) {
  return std::string(json::string_member(v, key));
}

TEST(FakeTelegram, PythonTelegramBotReadsUpdatesFilesAndErrorsAsTheApiDocumentsThem) {
  fake_telegram fake;
  static const char photo_bytes[] = "\xFF\xD8\xFF\xE0\0\x10JFIF\0 a reading room\xFF\xD9";
  static const char card_bytes[] = "%PDF-1.4\n\0\x01\x02 library card\n%%EOF";
  const std::string photo(photo_bytes, sizeof photo_bytes - 1);  // NULs included
  const std::string card(card_bytes, sizeof card_bytes - 1);
  const std::int64_t first = fake.add_text(ada, "/start hello");
  const std::int64_t with_photo = fake.add_photo(ada, photo, "Our reading room");
  const std::int64_t with_card = fake.add_document(ada, card, "card.pdf", "application/pdf");
  // A type python-telegram-bot 13 does not know still arrives with its update_id.
  const std::int64_t reaction = fake.add_update(
      R"({"message_reaction":{"chat":{"id":5123456789,"type":"private"},"message_id":1,)"
      R"("date":1700000000,"old_reaction":[],"new_reaction":[{"type":"emoji","emoji":"👍"}]}})");
  EXPECT_EQ(first, 700000001);
  EXPECT_EQ(reaction, first + 3);
  fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 7", 7);
  const std::int64_t stranger = 777000111;
  fake.block(stranger);

  const auto out = run_client(fake, ada.id, stranger, "Hello from the library");
  SCOPED_TRACE(out.transcript());
  ASSERT_TRUE(out.event("end"));
  EXPECT_EQ(out.count("step_failed"), 0u);

  const auto me = out.event("get_me");
  ASSERT_TRUE(me);
  EXPECT_EQ(json::integer_member(me->root(), "id"), fake_telegram::bot_id);
  EXPECT_EQ(text(me->root(), "username"), "library_bot");
  EXPECT_TRUE(json::bool_member(me->root(), "is_bot"));

  const auto updates = out.event("updates");
  ASSERT_TRUE(updates);
  const auto& list = updates->root()["updates"];
  ASSERT_EQ(list.Size(), 4u);
  const auto& start = list[0];
  EXPECT_EQ(json::integer_member(start, "update_id"), first);
  EXPECT_EQ(text(start, "text"), "/start hello");
  EXPECT_EQ(json::integer_member(start, "from_id"), ada.id);
  EXPECT_EQ(json::integer_member(start, "chat_id"), ada.id);
  EXPECT_EQ(text(start, "chat_type"), "private");
  EXPECT_EQ(json::integer_member(start, "message_id"), 1);
  EXPECT_NEAR(static_cast<double>(json::integer_member(start, "date")),
              static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(
                                      std::chrono::system_clock::now().time_since_epoch())
                                      .count()),
              120.0);
  ASSERT_EQ(start["entities"].Size(), 1u);
  EXPECT_STREQ(start["entities"][0][0].GetString(), "bot_command");
  EXPECT_EQ(start["entities"][0][2].GetInt(), 6);

  const auto& photo_update = list[1];
  EXPECT_EQ(json::integer_member(photo_update, "update_id"), with_photo);
  EXPECT_EQ(json::integer_member(photo_update, "message_id"), 2);
  EXPECT_EQ(text(photo_update, "caption"), "Our reading room");
  const auto& sizes = photo_update["photo"];
  ASSERT_EQ(sizes.Size(), 3u);
  EXPECT_LT(sizes[0][0].GetInt(), sizes[1][0].GetInt());
  EXPECT_LT(sizes[1][0].GetInt(), sizes[2][0].GetInt());
  EXPECT_EQ(sizes[2][2].GetInt64(), static_cast<std::int64_t>(photo.size()));
  const std::string photo_id = sizes[2][3].GetString();

  const auto& card_update = list[2];
  EXPECT_EQ(json::integer_member(card_update, "update_id"), with_card);
  EXPECT_EQ(json::integer_member(card_update, "message_id"), 3);
  const auto& document = card_update["document"];
  EXPECT_EQ(text(document, "file_name"), "card.pdf");
  EXPECT_EQ(text(document, "mime_type"), "application/pdf");
  EXPECT_EQ(json::integer_member(document, "file_size"), static_cast<std::int64_t>(card.size()));

  EXPECT_EQ(json::integer_member(list[3], "update_id"), reaction);

  // Photo sizes 0 and 1 are the smaller ones: the largest is file 2, the document file 3.
  const auto photo_file = out.event("file", 0);
  ASSERT_TRUE(photo_file);
  EXPECT_EQ(text(photo_file->root(), "file_id"), photo_id);
  EXPECT_EQ(text(photo_file->root(), "file_unique_id"), fake.file_unique_id(photo_id));
  EXPECT_EQ(text(photo_file->root(), "file_path"),
            fake.base() + "/file/bot" + fake.token() + "/photos/file_2.jpg");
  EXPECT_EQ(text(photo_file->root(), "content_hex"), hex(photo));
  const auto card_file = out.event("file", 1);
  ASSERT_TRUE(card_file);
  EXPECT_EQ(text(card_file->root(), "file_path"),
            fake.base() + "/file/bot" + fake.token() + "/documents/file_3.pdf");
  EXPECT_EQ(text(card_file->root(), "content_hex"), hex(card));

  const auto bad_file = out.event("bad_file");
  ASSERT_TRUE(bad_file);
  EXPECT_EQ(text(bad_file->root(), "error"), "BadRequest");
  EXPECT_EQ(text(bad_file->root(), "message"), "Invalid file_id");

  const auto action = out.event("chat_action");
  ASSERT_TRUE(action);
  EXPECT_TRUE(json::bool_member(action->root(), "result"));

  const auto retry = out.event("retry_after");
  ASSERT_TRUE(retry);
  EXPECT_EQ(text(retry->root(), "error"), "RetryAfter");
  EXPECT_EQ(json::integer_member(retry->root(), "retry_after"), 7);

  const auto sent = out.event("sent");
  ASSERT_TRUE(sent);
  EXPECT_EQ(text(sent->root(), "text"), "Hello from the library");
  EXPECT_EQ(json::integer_member(sent->root(), "chat_id"), ada.id);
  EXPECT_EQ(text(sent->root(), "chat_type"), "private");
  EXPECT_EQ(json::integer_member(sent->root(), "from_id"), fake_telegram::bot_id);
  EXPECT_EQ(text(sent->root(), "from_username"), "library_bot");
  // The chat's fourth message: its ids count both ways.
  EXPECT_EQ(json::integer_member(sent->root(), "message_id"), 4);

  const auto blocked = out.event("blocked");
  ASSERT_TRUE(blocked);
  EXPECT_EQ(text(blocked->root(), "error"), "Unauthorized");  // v13's name for a 403
  EXPECT_EQ(text(blocked->root(), "message"), "Forbidden: bot was blocked by the user");
  const auto empty = out.event("empty_text");
  ASSERT_TRUE(empty);
  EXPECT_EQ(text(empty->root(), "error"), "BadRequest");
  EXPECT_EQ(text(empty->root(), "message"), "Message text is empty");

  const auto confirmed = out.event("confirmed");
  ASSERT_TRUE(confirmed);
  EXPECT_EQ(json::integer_member(confirmed->root(), "count", -1), 0);
  EXPECT_EQ(fake.pending(), 0u);
  const auto info = out.event("webhook_info");
  ASSERT_TRUE(info);
  EXPECT_EQ(text(info->root(), "url"), "");
  EXPECT_EQ(json::integer_member(info->root(), "pending_update_count", -1), 0);

  const auto webhook_set = out.event("webhook_set");
  ASSERT_TRUE(webhook_set);
  EXPECT_TRUE(json::bool_member(webhook_set->root(), "result"));
  const auto conflict = out.event("conflict");
  ASSERT_TRUE(conflict);
  EXPECT_EQ(text(conflict->root(), "error"), "Conflict");
  EXPECT_NE(text(conflict->root(), "message").find("webhook is active"), std::string::npos);
  const auto deleted = out.event("webhook_deleted");
  ASSERT_TRUE(deleted);
  EXPECT_TRUE(json::bool_member(deleted->root(), "result"));
  EXPECT_EQ(fake.webhook_url(), "");
  const auto set_calls = fake.requests("setWebhook");
  ASSERT_EQ(set_calls.size(), 1u);
  const auto set_params = parse(set_calls[0].params);
  EXPECT_EQ(text(set_params.root(), "secret_token"), "s3cret-token");

  const auto wrong = out.event("wrong_token");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(text(wrong->root(), "error"), "Unauthorized");

  // Only the one message that succeeded counts as sent; all four attempts are recorded.
  const auto delivered = fake.sent();
  ASSERT_EQ(delivered.size(), 1u);
  EXPECT_EQ(delivered[0].chat_id, ada.id);
  EXPECT_EQ(delivered[0].text, "Hello from the library");
  EXPECT_EQ(delivered[0].message_id, 4);
  EXPECT_EQ(fake.requests("sendMessage").size(), 4u);
  const auto unauthorized = fake.requests("getMe");
  ASSERT_EQ(unauthorized.size(), 2u);
  EXPECT_TRUE(unauthorized[0].authorized);
  EXPECT_FALSE(unauthorized[1].authorized);
}

TEST(FakeTelegram, LongPollWaitsAndAnswersAsSoonAsAnUpdateArrives) {
  fake_telegram fake;
  const std::string url = api(fake, "getUpdates?timeout=30");
  auto poll = std::async(std::launch::async, [url] { return http_request("GET", url); });
  ASSERT_TRUE(fake.wait_for_requests("getUpdates", 1));
  // Nothing is pending and the poll may wait 30 s: it has no answer yet.
  EXPECT_EQ(poll.wait_for(0s), std::future_status::timeout);

  const std::int64_t id = fake.add_text(ada, "Are you open on Sunday?");
  ASSERT_EQ(poll.wait_for(5s), std::future_status::ready);
  const auto answer = poll.get();
  ASSERT_EQ(answer.status, 200) << answer.error;
  EXPECT_EQ(answer.header("content-type"), "application/json");
  const auto body = parse(answer.body);
  ASSERT_TRUE(body.root()["result"].IsArray());
  ASSERT_EQ(body.root()["result"].Size(), 1u);
  const auto& update = body.root()["result"][0];
  EXPECT_EQ(update["update_id"].GetInt64(), id);
  EXPECT_EQ(update["message"]["chat"]["id"].GetInt64(), ada.id);
  EXPECT_STREQ(update["message"]["text"].GetString(), "Are you open on Sunday?");
  EXPECT_EQ(fake.pending(), 1u);  // delivered, not yet confirmed

  // The next poll confirms it, finds nothing and answers an empty list when its time is up.
  const auto asked = std::chrono::steady_clock::now();
  const auto empty =
      http_request("GET", api(fake, "getUpdates?timeout=1&offset=" + std::to_string(id + 1)));
  EXPECT_GE(std::chrono::steady_clock::now() - asked, 900ms);
  EXPECT_EQ(empty.status, 200);
  EXPECT_EQ(empty.body, R"({"ok":true,"result":[]})");
  EXPECT_EQ(fake.pending(), 0u);
}

TEST(FakeTelegram, ASecondLongPollEndsTheFirstWithAConflict) {
  fake_telegram fake;
  const std::string url = api(fake, "getUpdates?timeout=30");
  auto first = std::async(std::launch::async, [url] { return http_request("GET", url); });
  ASSERT_TRUE(fake.wait_for_requests("getUpdates", 1));
  auto second = std::async(std::launch::async, [url] { return http_request("GET", url); });
  ASSERT_EQ(first.wait_for(5s), std::future_status::ready);
  const auto ended = first.get();
  EXPECT_EQ(ended.status, 409);
  EXPECT_EQ(ended.body,
            R"({"ok":false,"error_code":409,"description":"Conflict: terminated by other )"
            R"(getUpdates request; make sure that only one bot instance is running"})");
  fake.add_text(ada, "Hello?");
  ASSERT_EQ(second.wait_for(5s), std::future_status::ready);
  const auto answer = second.get();
  EXPECT_EQ(answer.status, 200);
  EXPECT_NE(answer.body.find("Hello?"), std::string::npos) << answer.body;
}

TEST(FakeTelegram, GetUpdatesIsAConflictWhileAWebhookIsSet) {
  fake_telegram fake;
  const auto set = post_json(fake, "setWebhook", R"({"url":"http://127.0.0.1:9/telegram"})");
  EXPECT_EQ(set.status, 200);
  EXPECT_EQ(set.body, R"({"ok":true,"result":true,"description":"Webhook was set"})");
  EXPECT_EQ(fake.webhook_url(), "http://127.0.0.1:9/telegram");

  const auto refused = http_request("GET", api(fake, "getUpdates"));
  EXPECT_EQ(refused.status, 409);
  EXPECT_EQ(refused.body,
            R"({"ok":false,"error_code":409,"description":"Conflict: can't use getUpdates method )"
            R"(while webhook is active; use deleteWebhook to delete the webhook first"})");
  const auto info = parse(http_request("GET", api(fake, "getWebhookInfo")).body);
  EXPECT_STREQ(info.root()["result"]["url"].GetString(), "http://127.0.0.1:9/telegram");
  EXPECT_FALSE(info.root()["result"]["has_custom_certificate"].GetBool());

  const auto deleted = post_json(fake, "deleteWebhook", "{}");
  EXPECT_EQ(deleted.body, R"({"ok":true,"result":true,"description":"Webhook was deleted"})");
  EXPECT_EQ(fake.webhook_url(), "");
  const auto polled = http_request("GET", api(fake, "getUpdates"));
  EXPECT_EQ(polled.status, 200);
  EXPECT_EQ(polled.body, R"({"ok":true,"result":[]})");
}

// A webhook endpoint that refuses the first `refusals` POSTs with a 500 and takes the rest.
class webhook_receiver {
 public:
  struct post {
    std::string secret;
    std::string content_type;
    std::int64_t update_id;
  };

  explicit webhook_receiver(int refusals) : refusals_(refusals) {
    router_.add(
        "POST", "/telegram/webhook",
        [this](const net::http_request& r, const net::route_params&, net::respond_fn respond) {
          const auto update = parse(r.body);
          std::lock_guard lock(mutex_);
          posts_.push_back({std::string(r.header("x-telegram-bot-api-secret-token")),
                            std::string(r.header("content-type")),
                            json::integer_member(update.root(), "update_id")});
          const bool refuse = static_cast<int>(posts_.size()) <= refusals_;
          respond(net::http_response::json(refuse ? 500 : 200, "{}"));
        });
    server_ = net::http_server::create(io_, {.host = "127.0.0.1", .port = 0}, router_);
    if (!server_->listen()) throw std::runtime_error("the webhook receiver cannot listen");
    thread_ = std::thread([this] { io_.run(); });
  }
  ~webhook_receiver() {
    io_.stop();
    thread_.join();
  }

  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + "/telegram/webhook";
  }
  std::vector<post> posts() const {
    std::lock_guard lock(mutex_);
    return posts_;
  }

 private:
  const int refusals_;
  mutable std::mutex mutex_;
  std::vector<post> posts_;
  boost::asio::io_context io_{1};
  net::http_router router_;
  std::unique_ptr<net::http_server> server_;
  std::thread thread_;
};

TEST(FakeTelegram, PusherRetriesEachUpdateUntilTheWebhookAnswers2xxAndSendsTheSecret) {
  webhook_receiver receiver(2);
  fake_telegram fake;
  const std::int64_t first = fake.add_text(ada, "First");
  const std::int64_t second = fake.add_update(R"({"edited_message":{"message_id":1}})");

  // Form-encoded, as some clients send it.
  const auto set =
      http_request("POST", api(fake, "setWebhook"),
                   net::encode_form({{"url", receiver.url()}, {"secret_token", "hook-secret_1"}}),
                   {"Content-Type: application/x-www-form-urlencoded"});
  ASSERT_EQ(set.status, 200) << set.body;
  ASSERT_TRUE(fake.wait_until_confirmed(10s));

  const auto posts = receiver.posts();
  ASSERT_EQ(posts.size(), 4u);
  const std::int64_t order[] = {first, first, first, second};
  for (std::size_t i = 0; i < posts.size(); ++i) {
    EXPECT_EQ(posts[i].update_id, order[i]) << "post " << i;
    EXPECT_EQ(posts[i].secret, "hook-secret_1") << "post " << i;
    EXPECT_EQ(posts[i].content_type, "application/json") << "post " << i;
  }
  EXPECT_EQ(fake.webhook_posts(), 4u);
  const auto info = parse(http_request("GET", api(fake, "getWebhookInfo")).body);
  EXPECT_EQ(info.root()["result"]["pending_update_count"].GetInt64(), 0);
  EXPECT_STREQ(info.root()["result"]["last_error_message"].GetString(),
               "Wrong response from the webhook: 500");
  const auto params = parse(fake.requests("setWebhook").at(0).params);
  EXPECT_EQ(text(params.root(), "url"), receiver.url());
  EXPECT_EQ(text(params.root(), "secret_token"), "hook-secret_1");
}

TEST(FakeTelegram, AnswersInTheBotApiShapeWhateverTheEncoding) {
  fake_telegram fake;
  const auto wrong = http_request("GET", fake.base() + "/bot123456789:wrong/getMe");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.header("content-type"), "application/json");
  EXPECT_EQ(wrong.body, R"({"ok":false,"error_code":401,"description":"Unauthorized"})");
  const auto unknown = http_request("GET", api(fake, "sendTelepathy"));
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.body, R"({"ok":false,"error_code":404,"description":"Not Found"})");
  // Method names are case-insensitive.
  EXPECT_EQ(http_request("GET", api(fake, "GETME")).status, 200);
  EXPECT_EQ(fake.requests("getMe").size(), 2u);

  // A chat id past 32 bits stays exact; the text is trimmed.
  const auto sent =
      post_json(fake, "sendMessage", R"({"chat_id":5123456789,"text":"  We open at nine.\n"})");
  ASSERT_EQ(sent.status, 200) << sent.body;
  const auto message = parse(sent.body);
  EXPECT_TRUE(message.root()["ok"].GetBool());
  EXPECT_EQ(message.root()["result"]["chat"]["id"].GetInt64(), 5123456789);
  EXPECT_EQ(message.root()["result"]["from"]["id"].GetInt64(), fake_telegram::bot_id);
  EXPECT_STREQ(message.root()["result"]["text"].GetString(), "We open at nine.");
  ASSERT_EQ(fake.sent().size(), 1u);
  EXPECT_EQ(fake.sent()[0].text, "We open at nine.");

  // The limit counts UTF-16 code units: 2048 emoji fit, 2049 do not.
  std::string emoji;
  for (int i = 0; i < 2048; ++i) emoji += "😀";
  const auto longest =
      post_json(fake, "sendMessage", R"({"chat_id":5123456789,"text":")" + emoji + R"("})");
  EXPECT_EQ(longest.status, 200);
  const auto too_long =
      post_json(fake, "sendMessage", R"({"chat_id":5123456789,"text":")" + emoji + R"(😀"})");
  EXPECT_EQ(too_long.status, 400);
  EXPECT_EQ(too_long.body,
            R"({"ok":false,"error_code":400,"description":"Bad Request: message is too long"})");
  const auto blank =
      http_request("GET", api(fake, "sendMessage?chat_id=5123456789&text=" +
                                        net::encode_form({{"t", " \n "}}).substr(2)));
  EXPECT_EQ(blank.body,
            R"({"ok":false,"error_code":400,"description":"Bad Request: message text is empty"})");
  EXPECT_EQ(parse(fake.requests("sendMessage").back().params).root()["text"].GetString(),
            std::string(" \n "));
  const auto channel =
      post_json(fake, "sendMessage", R"({"chat_id":"@no_such_channel","text":"Hi"})");
  EXPECT_EQ(channel.body,
            R"({"ok":false,"error_code":400,"description":"Bad Request: chat not found"})");

  // multipart/form-data, as clients send uploads: fields as strings, a file part summarized.
  const std::string multipart =
      "--XyZ\r\nContent-Disposition: form-data; name=\"chat_id\"\r\n\r\n5123456789\r\n"
      "--XyZ\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\nSee attached\r\n"
      "--XyZ\r\nContent-Disposition: form-data; name=\"document\"; filename=\"a.txt\"\r\n"
      "Content-Type: text/plain\r\n\r\nabc\r\n--XyZ--\r\n";
  const auto uploaded = http_request("POST", api(fake, "sendMessage"), multipart,
                                     {"Content-Type: multipart/form-data; boundary=XyZ"});
  EXPECT_EQ(uploaded.status, 200) << uploaded.body;
  EXPECT_EQ(fake.requests("sendMessage").back().params,
            R"({"chat_id":"5123456789","text":"See attached",)"
            R"("document":{"file_name":"a.txt","size":3}})");

  // Queued failures come first, then normal service; a failed getUpdates confirms nothing.
  fake.answer_next_raw("getMe", 502, "<html><body><h1>502 Bad Gateway</h1></body></html>");
  fake.fail_next("getUpdates", 429, "Too Many Requests: retry after 3", 3);
  const auto gateway = http_request("GET", api(fake, "getMe"));
  EXPECT_EQ(gateway.status, 502);
  EXPECT_EQ(gateway.header("content-type"), "text/html");
  EXPECT_EQ(http_request("GET", api(fake, "getMe")).status, 200);
  const std::int64_t id = fake.add_text(ada, "Pending");
  const auto limited =
      http_request("GET", api(fake, "getUpdates?offset=" + std::to_string(id + 1)));
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.body,
            R"({"ok":false,"error_code":429,"description":"Too Many Requests: retry after 3",)"
            R"("parameters":{"retry_after":3}})");
  EXPECT_EQ(fake.pending(), 1u);

  // Files: an unknown id, an unknown path, the wrong token.
  const std::string file_id = fake.add_file("bytes", "documents/file_9.txt");
  EXPECT_EQ(file_id.size(), 71u);
  EXPECT_EQ(
      file_id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
      std::string::npos);
  const auto bad_file = post_json(fake, "getFile", R"({"file_id":"nope"})");
  EXPECT_EQ(bad_file.body,
            R"({"ok":false,"error_code":400,"description":"Bad Request: invalid file_id"})");
  const auto download =
      http_request("GET", fake.base() + "/file/bot" + fake.token() + "/documents/file_9.txt");
  EXPECT_EQ(download.status, 200);
  EXPECT_EQ(download.body, "bytes");
  EXPECT_EQ(download.header("content-type"), "application/octet-stream");
  EXPECT_EQ(http_request("GET", fake.base() + "/file/bot" + fake.token() + "/documents/x").status,
            404);
  EXPECT_EQ(http_request("GET", fake.base() + "/file/bot1:wrong/documents/file_9.txt").status, 404);
  EXPECT_EQ(fake.requests("getFile").size(), 1u);  // downloads are not Bot API calls
}

TEST(FakeTelegram, DestructionEndsAWaitingLongPollAtOnce) {
  std::optional<fake_telegram> fake(std::in_place);
  const std::string url = api(*fake, "getUpdates?timeout=50");
  auto poll = std::async(std::launch::async, [url] { return http_request("GET", url); });
  ASSERT_TRUE(fake->wait_for_requests("getUpdates", 1));
  const auto before = std::chrono::steady_clock::now();
  fake.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - before, 5s);
  ASSERT_EQ(poll.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(poll.get().status, 0);  // the connection closed without an answer
}

}  // namespace
}  // namespace askdesk::testing
