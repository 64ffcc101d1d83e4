// The Telegram Bot API's shapes as the connector reads and writes them
// (https://core.telegram.org/bots/api): an Update turned into what askdesk keeps of it, the
// text of a reply cut into messages Telegram carries, and the API's error answers. Pure
// functions over RapidJSON values and strings; no I/O.
#pragma once

#include <rapidjson/document.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/core/time.hpp"

namespace askdesk::connectors::telegram {

// Telegram's longest message text, in UTF-16 code units (what its clients count).
inline constexpr std::size_t max_message_units = 4096;

// A file a message carries, as getFile fetches it.
struct file_ref {
  std::string file_id;
  std::string name;  // the document's file_name, or what it is ("photo", "voice message")
  std::string content_type;
  std::int64_t size = -1;
};

// One Update as the connector sees it.
struct update {
  enum class kind {
    message,  // a message from a person in a chat askdesk serves
    skipped,  // anything else: another update type, a bot, a group, a service message
  };
  kind what = kind::skipped;
  std::int64_t update_id = 0;
  std::string why;  // skipped: what it was ("edited_message", "from a bot", "group chat")

  std::int64_t chat_id = 0;
  std::int64_t message_id = 0;
  std::string chat_type;  // private, group, supergroup
  std::string sender_name;
  std::string username;  // without '@'; may be empty
  std::string language;  // IETF tag from the patron's client; may be empty
  std::string text;      // the text, or a media's caption; may be empty
  std::vector<file_ref> files;
  core::timestamp sent_at{};
  // A bot command the whole text is ("/start payload", "/stop@library_bot"): its name in lower
  // case without the bot's name, and what follows it.
  std::string command;
  std::string command_argument;
};

// Reads one Update. nullopt when it is not an object with an integer update_id (the answer
// is malformed); an update whose message lacks what askdesk needs is skipped with why.
// Group and supergroup messages are skipped unless `groups`.
std::optional<update> read_update(const rapidjson::Value& value, bool groups);

// `text` cut into messages of at most `max_units` UTF-16 code units, in order: at the last
// paragraph break that fits, else a line break, else the end of a sentence, else a space,
// else between code points. Parts are trimmed; none is empty. Empty for a blank text.
// REQUIRES: valid UTF-8, max_units >= 2.
std::vector<std::string> split_text(std::string_view text, std::size_t max_units);

// The UTF-16 code units `text` takes (REQUIRES: valid UTF-8).
std::size_t utf16_units(std::string_view text);

// The Bot API's answer {"ok": false, "error_code": 429, "description": "...",
// "parameters": {"retry_after": 3}} as far as it is one.
struct api_error {
  int code = 0;  // error_code, else the HTTP status
  std::string description;
  std::chrono::seconds retry_after{0};
};
api_error read_error(long http_status, std::string_view body);

// Whether `text` may be a Bot API token: the bot's numeric id, ':', then letters, digits,
// '_' and '-'.
bool plausible_token(std::string_view token);
// The bot's id: the token's part before ':' (never the secret after it).
std::string bot_id_of(std::string_view token);
// Whether `id` may be a file_id (letters, digits, '_' and '-'; 1 to 256 of them).
bool plausible_file_id(std::string_view id);
// Whether `secret` may be a webhook secret_token: 1–256 of A-Z, a-z, 0-9, '_' and '-'.
bool plausible_secret(std::string_view secret);
// Whether `payload` may be a deep-link start parameter: 1–64 of A-Z, a-z, 0-9, '_' and '-'.
bool plausible_payload(std::string_view payload);

}  // namespace askdesk::connectors::telegram
