// A stand-in for the Telegram Bot API (https://core.telegram.org/bots/api) on loopback, for
// integration tests (the hosted API cannot run here). It answers /bot<token>/<method> the way
// the documentation describes: getMe, getUpdates (offsets confirm, long polls wait), sendMessage,
// sendChatAction, getFile and the /file/bot<token>/<path> download, setWebhook (then a pusher
// thread POSTs each update to the webhook until it answers 2xx), deleteWebhook, getWebhookInfo;
// with the failures a test queues (429 with retry_after, raw 502 pages, blocked chats). It
// records every call. Runs askdesk's own HTTP server on its own thread; every method here is
// safe to call from any thread while it serves.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace askdesk::testing {

class fake_telegram {
 public:
  static constexpr const char* default_token = "123456789:AAHfakeTokenForAskdeskTests_0123456789";
  // The bot's User: first_name "Library", username "library_bot".
  static constexpr std::int64_t bot_id = 123456789;

  explicit fake_telegram(std::string token = default_token);
  // Stops the pusher (after the webhook POST in flight, at most curl's 10 s) and the server;
  // a long poll still waiting sees its connection close without an answer.
  ~fake_telegram();
  fake_telegram(const fake_telegram&) = delete;
  fake_telegram& operator=(const fake_telegram&) = delete;

  // "http://127.0.0.1:PORT": the connector's api_base.
  std::string base() const;
  const std::string& token() const { return token_; }

  // Queues an Update. `update` is the JSON text of an Update object without "update_id"
  // (e.g. {"message":{...}}, or a type askdesk does not know); the fake inserts update_id,
  // increasing from 700000001, and returns it. A waiting long poll answers at once.
  // Throws std::invalid_argument when `update` is not a JSON object.
  std::int64_t add_update(const std::string& update);

  // A user writing to the bot.
  struct patron {
    std::int64_t id;
    std::string first_name;
    std::string last_name;  // "": absent, as Telegram omits it
    std::string username;   // "": absent
    bool is_bot = false;
    std::string language_code = "en";  // "": absent
  };
  // Builders for documented Message shapes, each queued as {"message":{...}}; they return the
  // update_id. A private chat (chat.id == from.id, the patron's names) unless chat_type says
  // otherwise ("group", "supergroup": chat_id is then needed, title "Library patrons").
  // message_id increases per chat from 1 and is shared with the bot's messages to that chat;
  // date is now (unix seconds). A text starting with '/' carries a bot_command entity.
  std::int64_t add_text(const patron& from, const std::string& text,
                        std::string chat_type = "private", std::int64_t chat_id = 0 /*from.id*/);
  // A photo in three PhotoSize entries (90x67, 320x240, 800x600), smallest first; the largest
  // is `content`, registered as add_file(content, "photos/file_N.jpg"); the smaller ones are
  // files of their own with made-up bytes. `caption` "": none.
  std::int64_t add_photo(const patron& from, const std::string& content,
                         const std::string& caption = "");
  // A Document (file_name, mime_type, file_size), registered as "documents/file_N<ext>".
  std::int64_t add_document(const patron& from, const std::string& content,
                            const std::string& file_name, const std::string& mime_type,
                            const std::string& caption = "");
  // A file that getFile and the download serve; returns its file_id (URL-safe [A-Za-z0-9_-],
  // 71 characters, like real ones). Its file_unique_id is file_unique_id(file_id).
  std::string add_file(const std::string& content, const std::string& file_path);
  // The file_unique_id of a file added; "" when unknown.
  std::string file_unique_id(const std::string& file_id) const;

  // The next answers to `method` ("sendMessage", "getUpdates", "getFile", ...; any case), in
  // order, before normal service. The call is recorded but not acted on (a failed getUpdates
  // confirms nothing). fail_next answers the Bot API's error JSON
  // {"ok":false,"error_code":status,"description":...} with "parameters":{"retry_after":N}
  // when retry_after > 0 (for a 429, description "Too Many Requests: retry after N").
  void fail_next(const std::string& method, int status, const std::string& description,
                 int retry_after = 0);
  // Exactly this answer (e.g. 502 with nginx's HTML page, or 200 with "not json").
  void answer_next_raw(const std::string& method, int status, const std::string& body,
                       const std::string& content_type = "text/html");
  // sendMessage and sendChatAction to this chat answer 403 "Forbidden: bot was blocked by the
  // user" from now on.
  void block(std::int64_t chat_id);

  struct request {
    std::string method;  // as the documentation spells it ("sendMessage") whatever the case sent
    // The parameters as one JSON object text, whatever the encoding: a JSON body's members with
    // their types (re-serialized, without spaces); query, form and multipart fields as strings
    // (a multipart file part as {"file_name":...,"size":N}); "{}" when they were malformed.
    std::string params;
    std::chrono::steady_clock::time_point at;
    std::string http_method;   // GET, POST
    std::string content_type;  // of the request body; "" without one
    bool authorized = true;    // false: the token was wrong (answered 401)
  };
  // Every Bot API call, in arrival order (not file downloads), unknown methods included.
  std::vector<request> requests() const;
  std::vector<request> requests(const std::string& method) const;

  // sendMessage calls that succeeded; text as Telegram keeps it (trimmed).
  struct sent_message {
    std::int64_t chat_id;
    std::string text;
    std::int64_t message_id;
    std::chrono::steady_clock::time_point at;
  };
  std::vector<sent_message> sent() const;
  // Wait until at least `n` messages were sent / `n` calls of `method` arrived; false after `wait`.
  bool wait_for_sent(std::size_t n,
                     std::chrono::milliseconds wait = std::chrono::seconds(10)) const;
  bool wait_for_requests(const std::string& method, std::size_t n,
                         std::chrono::milliseconds wait = std::chrono::seconds(10)) const;

  // Updates not yet confirmed (by a getUpdates offset past them, or a 2xx webhook answer).
  std::size_t pending() const;
  // Waits until pending() == 0; false after `wait`.
  bool wait_until_confirmed(std::chrono::milliseconds wait = std::chrono::seconds(10)) const;

  // The webhook's URL; "" when none is set.
  std::string webhook_url() const;
  // Webhook POSTs made, including refused and failed ones.
  std::size_t webhook_posts() const;

 private:
  struct state;
  void push_webhooks();

  const std::string token_;
  std::shared_ptr<state> state_;
  int port_ = 0;
  std::thread server_thread_;
  std::thread pusher_thread_;
};

}  // namespace askdesk::testing
