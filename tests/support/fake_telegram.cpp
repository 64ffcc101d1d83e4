// The fake Bot API. One askdesk http_server on its own io thread answers every call; the state
// it shares with the test thread (and the webhook pusher) sits behind one mutex, and one
// condition variable wakes whoever waits for a change (a test waiting for a message, the
// pusher waiting for an update or for its retry delay to pass).
//
// Calls are decoded once into a JSON object whatever their encoding (query string, JSON,
// form, multipart), since the Bot API accepts them all; that object is what requests()
// records and what the methods read. Integers may arrive as numbers or as strings
// (python-telegram-bot 13 sends "123" and "True"), so the readers accept both.
//
// A long poll (getUpdates with a timeout and nothing pending) parks its respond function and
// a timer; add_update posts a wake-up to the io thread, which answers it at once. Only one
// poll waits at a time: a second one ends the first with the 409 Telegram sends then, as
// setWebhook does. The timer's handler holds a weak_ptr, so a poll dropped at destruction
// does not keep itself alive through its own timer.
//
// The webhook pusher is a plain thread with blocking libcurl calls: one POST at a time, the
// oldest pending update first, retried every 100 ms until the webhook answers 2xx.
#include "tests/support/fake_telegram.hpp"

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "daemon/json/document.hpp"
#include "daemon/json/writer.hpp"
#include "daemon/net/http.hpp"
#include "daemon/net/http_server.hpp"
#include "tests/support/http_client.hpp"

namespace askdesk::testing {

namespace {

constexpr std::int64_t first_update_id = 700000001;
constexpr auto webhook_retry = std::chrono::milliseconds(100);
constexpr std::size_t max_text_length = 4096;  // UTF-16 code units
// What a long poll gets when another one takes its place.
constexpr std::string_view superseded =
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is "
    "running";

const char* const known_methods[] = {"getMe",   "getUpdates", "sendMessage",   "sendChatAction",
                                     "getFile", "setWebhook", "deleteWebhook", "getWebhookInfo"};

struct queued_update {
  std::int64_t id;
  std::string json;
};

struct stored_file {
  std::string file_id;
  std::string unique_id;
  std::string path;
  std::string content;
};

// A getUpdates waiting for an update.
struct long_poll {
  explicit long_poll(boost::asio::io_context& io) : timer(io) {}
  net::respond_fn respond;
  std::size_t limit = 100;
  boost::asio::steady_timer timer;
};

std::string lower(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Length in UTF-16 code units, the unit of Telegram's limits and entity offsets.
std::size_t utf16_length(std::string_view utf8) {
  std::size_t n = 0;
  for (const char c : utf8) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte & 0xC0) == 0x80) continue;  // continuation
    n += byte >= 0xF0 ? 2 : 1;            // four-byte sequences are surrogate pairs
  }
  return n;
}

std::string trim(std::string_view text) {
  const char* space = " \t\n\r\v\f";
  const auto first = text.find_first_not_of(space);
  if (first == std::string_view::npos) return {};
  return std::string(text.substr(first, text.find_last_not_of(space) - first + 1));
}

// A deterministic identifier in the base64url alphabet, `prefix` then pseudo-random letters.
std::string make_id(std::string prefix, std::size_t length, std::uint64_t seed) {
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::uint64_t x = 0x9E3779B97F4A7C15ull * (seed + 1);
  while (prefix.size() < length) {
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    prefix += alphabet[(x * 0x2545F4914F6CDD1Dull) >> 58];
  }
  return prefix;
}

std::string serialize(const rapidjson::Value& v) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  v.Accept(writer);
  return {buffer.GetString(), buffer.GetSize()};
}

// Parameter readers, lenient about numbers sent as strings.
std::optional<std::string> text_param(const rapidjson::Value& p, const char* key) {
  const auto m = p.FindMember(key);
  if (m == p.MemberEnd() || m->value.IsNull()) return std::nullopt;
  if (m->value.IsString()) return std::string(m->value.GetString(), m->value.GetStringLength());
  return serialize(m->value);
}

std::optional<std::int64_t> integer_param(const rapidjson::Value& p, const char* key) {
  const auto m = p.FindMember(key);
  if (m == p.MemberEnd()) return std::nullopt;
  if (m->value.IsInt64()) return m->value.GetInt64();
  if (!m->value.IsString()) return std::nullopt;
  const std::string text = trim(m->value.GetString());
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

bool flag_param(const rapidjson::Value& p, const char* key) {
  const auto m = p.FindMember(key);
  if (m == p.MemberEnd()) return false;
  if (m->value.IsBool()) return m->value.GetBool();
  if (m->value.IsString()) return lower(m->value.GetString()) == "true";
  return m->value.IsInt64() && m->value.GetInt64() != 0;
}

// The value of `attribute="..."` in a header such as Content-Disposition.
std::optional<std::string> header_attribute(std::string_view header, std::string_view attribute) {
  const std::string lowered = lower(std::string(header));
  for (std::size_t at = 0; (at = lowered.find(attribute, at)) != std::string::npos; ++at) {
    const bool starts = at == 0 || lowered[at - 1] == ';' || lowered[at - 1] == ' ';
    const std::size_t eq = at + attribute.size();
    if (!starts || eq >= header.size() || header[eq] != '=') continue;
    std::string_view value = header.substr(eq + 1);
    if (!value.empty() && value.front() == '"') {
      value.remove_prefix(1);
      return std::string(value.substr(0, value.find('"')));
    }
    return trim(value.substr(0, value.find(';')));
  }
  return std::nullopt;
}

// The parts of a multipart/form-data body: name, file name (nullopt for a plain field), bytes.
struct form_part {
  std::string name;
  std::optional<std::string> file_name;
  std::string content;
};
std::optional<std::vector<form_part>> parse_multipart(std::string_view body,
                                                      std::string_view boundary) {
  const std::string delimiter = "--" + std::string(boundary);
  std::size_t at = body.find(delimiter);
  if (boundary.empty() || at == std::string_view::npos) return std::nullopt;
  std::vector<form_part> parts;
  for (at += delimiter.size(); body.substr(at, 2) != "--";) {
    if (body.substr(at, 2) != "\r\n") return std::nullopt;
    const std::size_t headers_end = body.find("\r\n\r\n", at);
    if (headers_end == std::string_view::npos) return std::nullopt;
    const std::size_t end = body.find("\r\n" + delimiter, headers_end + 4);
    if (end == std::string_view::npos) return std::nullopt;
    form_part part;
    std::string_view headers = body.substr(at + 2, headers_end - at - 2);
    while (!headers.empty()) {
      const std::string_view line = headers.substr(0, headers.find("\r\n"));
      headers.remove_prefix(std::min(headers.size(), line.size() + 2));
      if (lower(std::string(line.substr(0, 20))) != "content-disposition:") continue;
      part.name = header_attribute(line, "name").value_or("");
      part.file_name = header_attribute(line, "filename");
    }
    part.content = body.substr(headers_end + 4, end - headers_end - 4);
    parts.push_back(std::move(part));
    at = end + 2 + delimiter.size();
  }
  return parts;
}

// Fills `params` with the call's parameters: the query string's, then the body's (which win).
// Returns "" or the Bad Request description.
std::string read_params(const net::http_request& r, rapidjson::Document& params) {
  params.SetObject();
  auto& a = params.GetAllocator();
  const auto add = [&](const std::string& name, rapidjson::Value value) {
    params.RemoveMember(name.c_str());
    params.AddMember(
        rapidjson::Value(name.data(), static_cast<rapidjson::SizeType>(name.size()), a), value, a);
  };
  const auto add_text = [&](const std::string& name, const std::string& value) {
    add(name, rapidjson::Value(value.data(), static_cast<rapidjson::SizeType>(value.size()), a));
  };
  if (!r.query.empty()) {
    const auto query = net::parse_form(r.query);
    if (!query) return "Bad Request: can't parse query string";
    for (const auto& [name, value] : *query) add_text(name, value);
  }
  const std::string content_type(r.header("content-type"));
  const std::string type = lower(trim(content_type.substr(0, content_type.find(';'))));
  if (type == "application/json") {
    if (trim(r.body).empty()) return {};
    const auto parsed = json::document::parse(r.body);
    if (!parsed.ok() || !parsed->root().IsObject()) return "Bad Request: can't parse JSON object";
    for (const auto& m : parsed->root().GetObject()) {
      add(std::string(m.name.GetString(), m.name.GetStringLength()), rapidjson::Value(m.value, a));
    }
  } else if (type == "application/x-www-form-urlencoded") {
    const auto form = net::parse_form(r.body);
    if (!form) return "Bad Request: can't parse form";
    for (const auto& [name, value] : *form) add_text(name, value);
  } else if (type == "multipart/form-data") {
    const auto parts =
        parse_multipart(r.body, header_attribute(content_type, "boundary").value_or(""));
    if (!parts) return "Bad Request: can't parse multipart form";
    for (const auto& part : *parts) {
      if (!part.file_name) {
        add_text(part.name, part.content);
        continue;
      }
      rapidjson::Value file(rapidjson::kObjectType);
      file.AddMember("file_name", rapidjson::Value(part.file_name->c_str(), a), a);
      file.AddMember("size", static_cast<std::int64_t>(part.content.size()), a);
      add(part.name, std::move(file));
    }
  }
  return {};
}

net::http_response success(std::string_view result, std::string_view description = {}) {
  json::writer w;
  w.start_object().field("ok", true).key("result").raw(result);
  if (!description.empty()) w.field("description", description);
  w.end_object();
  return net::http_response::json(200, w.str());
}

net::http_response failure(int status, std::string_view description, int retry_after = 0) {
  json::writer w;
  w.start_object().field("ok", false).field("error_code", status).field("description", description);
  if (retry_after > 0) {
    w.key("parameters").start_object().field("retry_after", retry_after).end_object();
  }
  w.end_object();
  return net::http_response::json(status, w.str());
}

std::string bot_user(bool with_capabilities) {
  json::writer w;
  w.start_object()
      .field("id", fake_telegram::bot_id)
      .field("is_bot", true)
      .field("first_name", "Library")
      .field("username", "library_bot");
  if (with_capabilities) {
    w.field("can_join_groups", true)
        .field("can_read_all_group_messages", false)
        .field("supports_inline_queries", false);
  }
  w.end_object();
  return w.str();
}

}  // namespace

struct fake_telegram::state {
  explicit state(std::string bot_token) : token(std::move(bot_token)) {}

  void serve_api(const net::http_request& r, net::respond_fn respond);
  void serve_file(const net::http_request& r, const std::string& rest, net::respond_fn respond);
  // The methods, under the lock; getUpdates may answer later.
  void get_updates(const rapidjson::Value& p, net::respond_fn respond,
                   std::unique_lock<std::mutex>& lock);
  net::http_response call(const std::string& method, const rapidjson::Value& p);
  net::http_response send_message(const rapidjson::Value& p);
  net::http_response set_webhook(const rapidjson::Value& p);
  net::http_response delete_webhook(const rapidjson::Value& p);
  net::http_response webhook_info() const;
  // The chat a method names, or its error answer.
  std::optional<std::int64_t> chat_param(const rapidjson::Value& p, net::http_response& error);
  std::string chat_json(std::int64_t chat_id) const;
  // Drops the updates an offset confirms.
  void confirm(std::int64_t offset);
  net::http_response pending_updates(std::size_t limit) const;
  // Answers `poll` now if it is still the one waiting (and, if `only_with_updates`, when an
  // update is pending). On the io thread.
  void answer_poll(const std::shared_ptr<long_poll>& poll, bool only_with_updates);
  void answer_waiting_poll();
  // Ends a poll that lost its place with a 409. Outside the lock, on the io thread.
  static void end_poll(const std::shared_ptr<long_poll>& poll, std::string_view why);

  std::int64_t queue(const std::string& update);
  std::int64_t add_message(const patron& from, const std::string& chat_type, std::int64_t chat_id,
                           const std::function<void(json::writer&)>& content);
  // `path_for(n)` names the file from its number (photos/file_<n>.jpg).
  stored_file add_file(const std::string& content,
                       const std::function<std::string(std::uint64_t n)>& path_for);

  const std::string token;
  mutable std::mutex mutex;
  mutable std::condition_variable changed;
  std::vector<request> requests;
  std::vector<sent_message> sent;
  std::deque<queued_update> updates;  // pending, oldest first
  std::int64_t next_update_id = first_update_id;
  std::map<std::string, std::deque<net::http_response>> answers;  // by lower-case method
  std::set<std::int64_t> blocked;
  std::map<std::int64_t, std::int64_t> last_message_id;  // by chat
  std::map<std::int64_t, std::string> chats;             // Chat objects the builders made
  std::map<std::string, stored_file> files;              // by file_id
  std::map<std::string, std::string> file_ids;           // by file_path
  std::uint64_t next_file = 0;
  std::string webhook_url;
  std::string webhook_secret;
  std::string webhook_allowed_updates;
  std::uint64_t webhook_generation = 0;  // changes with every setWebhook / deleteWebhook
  std::size_t webhook_posts = 0;
  std::int64_t last_error_date = 0;
  std::string last_error_message;
  bool stopping = false;

  boost::asio::io_context io{1};
  net::http_router router;
  std::unique_ptr<net::http_server> server;
  std::shared_ptr<long_poll> poll;  // after io and server: destroyed before them
};

void fake_telegram::state::serve_api(const net::http_request& r, net::respond_fn respond) {
  const std::string path = net::percent_decode(r.path, false).value_or(r.path);
  const std::size_t slash = path.find('/', 4);
  if (path.rfind("/bot", 0) != 0 || slash == std::string::npos ||
      path.find('/', slash + 1) != std::string::npos) {
    respond(failure(404, "Not Found"));
    return;
  }
  std::string method = path.substr(slash + 1);
  for (const char* known : known_methods) {
    if (lower(known) == lower(method)) method = known;
  }
  rapidjson::Document params;
  const std::string malformed = read_params(r, params);
  request seen;
  seen.method = method;
  seen.params = malformed.empty() ? serialize(params) : "{}";
  seen.at = std::chrono::steady_clock::now();
  seen.http_method = r.method;
  seen.content_type = r.header("content-type");
  seen.authorized = path.substr(4, slash - 4) == token;

  std::unique_lock lock(mutex);
  requests.push_back(seen);
  changed.notify_all();
  std::optional<net::http_response> answer;
  if (!seen.authorized) {
    answer = failure(401, "Unauthorized");
  } else if (auto queued = answers.find(lower(method));
             queued != answers.end() && !queued->second.empty()) {
    answer = std::move(queued->second.front());
    queued->second.pop_front();
  } else if (std::none_of(std::begin(known_methods), std::end(known_methods),
                          [&](const char* known) { return method == known; })) {
    answer = failure(404, "Not Found");
  } else if (!malformed.empty()) {
    answer = failure(400, malformed);
  } else if (method == "getUpdates") {
    get_updates(params, std::move(respond), lock);
    return;
  } else if (method == "setWebhook") {
    answer = set_webhook(params);
    auto ended = webhook_url.empty() ? nullptr : std::exchange(poll, nullptr);
    lock.unlock();
    if (ended) end_poll(ended, "Conflict: terminated by setWebhook request");
    respond(std::move(*answer));
    return;
  } else {
    answer = call(method, params);
  }
  lock.unlock();
  respond(std::move(*answer));
}

void fake_telegram::state::serve_file(const net::http_request& r, const std::string& rest,
                                      net::respond_fn respond) {
  const std::string decoded = net::percent_decode(rest, false).value_or(rest);
  const std::size_t slash = decoded.find('/');
  std::optional<std::string> content;
  if (decoded.rfind("bot", 0) == 0 && slash != std::string::npos &&
      decoded.substr(3, slash - 3) == token) {
    std::lock_guard lock(mutex);
    const auto id = file_ids.find(decoded.substr(slash + 1));
    if (id != file_ids.end()) content = files.at(id->second).content;
  }
  if (!content) {
    respond(failure(404, "Not Found"));
    return;
  }
  net::http_response answer;
  answer.content_type = "application/octet-stream";
  if (r.method != "HEAD") answer.body = std::move(*content);
  respond(std::move(answer));
}

void fake_telegram::state::get_updates(const rapidjson::Value& p, net::respond_fn respond,
                                       std::unique_lock<std::mutex>& lock) {
  if (!webhook_url.empty()) {
    lock.unlock();
    respond(failure(409,
                    "Conflict: can't use getUpdates method while webhook is active; use "
                    "deleteWebhook to delete the webhook first"));
    return;
  }
  confirm(integer_param(p, "offset").value_or(0));
  const auto limit = static_cast<std::size_t>(
      std::clamp<std::int64_t>(integer_param(p, "limit").value_or(100), 1, 100));
  const auto timeout = std::clamp<std::int64_t>(integer_param(p, "timeout").value_or(0), 0, 50);
  auto earlier = std::exchange(poll, nullptr);
  if (!updates.empty() || timeout == 0) {
    auto answer = pending_updates(limit);
    lock.unlock();
    if (earlier) end_poll(earlier, superseded);
    respond(std::move(answer));
    return;
  }
  poll = std::make_shared<long_poll>(io);
  poll->respond = std::move(respond);
  poll->limit = limit;
  poll->timer.expires_after(std::chrono::seconds(timeout));
  poll->timer.async_wait([this, waiting = std::weak_ptr(poll)](boost::system::error_code ec) {
    const auto still = waiting.lock();
    if (!ec && still) answer_poll(still, false);
  });
  lock.unlock();
  if (earlier) end_poll(earlier, superseded);
}

void fake_telegram::state::answer_poll(const std::shared_ptr<long_poll>& waiting,
                                       bool only_with_updates) {
  std::unique_lock lock(mutex);
  if (poll != waiting || (only_with_updates && updates.empty())) return;
  poll.reset();
  auto answer = pending_updates(waiting->limit);
  lock.unlock();
  waiting->timer.cancel();
  waiting->respond(std::move(answer));
}

void fake_telegram::state::end_poll(const std::shared_ptr<long_poll>& ended, std::string_view why) {
  ended->timer.cancel();
  ended->respond(failure(409, why));
}

net::http_response fake_telegram::state::call(const std::string& method,
                                              const rapidjson::Value& p) {
  if (method == "getMe") return success(bot_user(true));
  if (method == "sendMessage") return send_message(p);
  if (method == "deleteWebhook") return delete_webhook(p);
  if (method == "getWebhookInfo") return webhook_info();
  if (method == "sendChatAction") {
    net::http_response error;
    const auto chat = chat_param(p, error);
    if (!chat) return error;
    if (blocked.count(*chat)) return failure(403, "Forbidden: bot was blocked by the user");
    return success("true");
  }
  // getFile
  const auto file = files.find(text_param(p, "file_id").value_or(""));
  if (file == files.end()) return failure(400, "Bad Request: invalid file_id");
  json::writer w;
  w.start_object()
      .field("file_id", file->second.file_id)
      .field("file_unique_id", file->second.unique_id)
      .field("file_size", static_cast<std::int64_t>(file->second.content.size()))
      .field("file_path", file->second.path)
      .end_object();
  return success(w.str());
}

std::optional<std::int64_t> fake_telegram::state::chat_param(const rapidjson::Value& p,
                                                             net::http_response& error) {
  const auto chat = integer_param(p, "chat_id");
  if (!chat) {
    // A string that is not a number would be a @channelusername: none exists here.
    error = failure(400, text_param(p, "chat_id") ? "Bad Request: chat not found"
                                                  : "Bad Request: chat_id is empty");
  }
  return chat;
}

std::string fake_telegram::state::chat_json(std::int64_t chat_id) const {
  const auto known = chats.find(chat_id);
  if (known != chats.end()) return known->second;
  json::writer w;
  w.start_object().field("id", chat_id).field("type", chat_id < 0 ? "group" : "private");
  w.end_object();
  return w.str();
}

net::http_response fake_telegram::state::send_message(const rapidjson::Value& p) {
  net::http_response error;
  const auto chat = chat_param(p, error);
  if (!chat) return error;
  if (blocked.count(*chat)) return failure(403, "Forbidden: bot was blocked by the user");
  const std::string text = trim(text_param(p, "text").value_or(""));
  if (text.empty()) return failure(400, "Bad Request: message text is empty");
  if (utf16_length(text) > max_text_length) {
    return failure(400, "Bad Request: message is too long");
  }
  const std::int64_t id = ++last_message_id[*chat];
  sent.push_back({*chat, text, id, std::chrono::steady_clock::now()});
  changed.notify_all();
  json::writer w;
  w.start_object()
      .field("message_id", id)
      .key("from")
      .raw(bot_user(false))
      .key("chat")
      .raw(chat_json(*chat))
      .field("date", unix_now())
      .field("text", text)
      .end_object();
  return success(w.str());
}

net::http_response fake_telegram::state::set_webhook(const rapidjson::Value& p) {
  const std::string url = text_param(p, "url").value_or("");
  if (url.empty()) return delete_webhook(p);
  const std::string secret = text_param(p, "secret_token").value_or("");
  if (flag_param(p, "drop_pending_updates")) updates.clear();
  webhook_allowed_updates = text_param(p, "allowed_updates").value_or("");
  const bool again = url == webhook_url && secret == webhook_secret;
  if (!again) {
    webhook_url = url;
    webhook_secret = secret;
    ++webhook_generation;
  }
  changed.notify_all();
  return success("true", again ? "Webhook is already set" : "Webhook was set");
}

net::http_response fake_telegram::state::delete_webhook(const rapidjson::Value& p) {
  if (flag_param(p, "drop_pending_updates")) updates.clear();
  const bool had = !webhook_url.empty();
  webhook_url.clear();
  webhook_secret.clear();
  ++webhook_generation;
  changed.notify_all();
  return success("true", had ? "Webhook was deleted" : "Webhook is already deleted");
}

net::http_response fake_telegram::state::webhook_info() const {
  json::writer w;
  w.start_object()
      .field("url", webhook_url)
      .field("has_custom_certificate", false)
      .field("pending_update_count", static_cast<std::int64_t>(updates.size()));
  if (!webhook_url.empty()) w.field("max_connections", 40).field("ip_address", "127.0.0.1");
  if (last_error_date != 0) {
    w.field("last_error_date", last_error_date).field("last_error_message", last_error_message);
  }
  if (!webhook_url.empty() && !webhook_allowed_updates.empty()) {
    const auto list = json::document::parse(webhook_allowed_updates);
    if (list.ok() && list->root().IsArray()) w.key("allowed_updates").raw(webhook_allowed_updates);
  }
  w.end_object();
  return success(w.str());
}

void fake_telegram::state::confirm(std::int64_t offset) {
  if (offset > 0) {
    while (!updates.empty() && updates.front().id < offset) updates.pop_front();
  } else if (offset < 0) {
    // -N: only the last N updates stay.
    const auto keep = static_cast<std::uint64_t>(-(offset + 1)) + 1;
    while (updates.size() > keep) updates.pop_front();
  }
  changed.notify_all();
}

net::http_response fake_telegram::state::pending_updates(std::size_t limit) const {
  json::writer w;
  w.start_object().field("ok", true).key("result").start_array();
  for (std::size_t i = 0; i < updates.size() && i < limit; ++i) w.raw(updates[i].json);
  w.end_array().end_object();
  return net::http_response::json(200, w.str());
}

std::int64_t fake_telegram::state::queue(const std::string& update) {
  const auto parsed = json::document::parse(update);
  if (!parsed.ok() || !parsed->root().IsObject()) {
    throw std::invalid_argument("fake_telegram::add_update: not a JSON object: " + update);
  }
  const std::size_t open = update.find('{');
  const std::string rest = trim(std::string_view(update).substr(open + 1));
  std::int64_t id;
  {
    std::lock_guard lock(mutex);
    id = next_update_id++;
    const std::string head = "{\"update_id\":" + std::to_string(id);
    updates.push_back({id, rest.front() == '}' ? head + rest : head + "," + rest});
    changed.notify_all();
  }
  boost::asio::post(io, [this] {
    std::unique_lock lock(mutex);
    const auto waiting = poll;
    lock.unlock();
    if (waiting) answer_poll(waiting, true);
  });
  return id;
}

std::int64_t fake_telegram::state::add_message(const patron& from, const std::string& chat_type,
                                               std::int64_t chat_id,
                                               const std::function<void(json::writer&)>& content) {
  if (chat_id == 0) chat_id = from.id;
  const auto optional_field = [](json::writer& w, const char* key, const std::string& value) {
    if (!value.empty()) w.field(key, value);
  };
  json::writer user;
  user.start_object()
      .field("id", from.id)
      .field("is_bot", from.is_bot)
      .field("first_name", from.first_name);
  optional_field(user, "last_name", from.last_name);
  optional_field(user, "username", from.username);
  optional_field(user, "language_code", from.language_code);
  user.end_object();
  json::writer chat;
  chat.start_object().field("id", chat_id);
  if (chat_type == "private") {
    chat.field("first_name", from.first_name);
    optional_field(chat, "last_name", from.last_name);
    optional_field(chat, "username", from.username);
  } else {
    chat.field("title", "Library patrons");
  }
  chat.field("type", chat_type).end_object();

  std::int64_t message_id;
  {
    std::lock_guard lock(mutex);
    message_id = ++last_message_id[chat_id];
    chats[chat_id] = chat.str();
  }
  json::writer w;
  w.start_object()
      .key("message")
      .start_object()
      .field("message_id", message_id)
      .key("from")
      .raw(user.str())
      .key("chat")
      .raw(chat.str())
      .field("date", unix_now());
  content(w);
  w.end_object().end_object();
  return queue(w.str());
}

stored_file fake_telegram::state::add_file(
    const std::string& content, const std::function<std::string(std::uint64_t n)>& path_for) {
  std::lock_guard lock(mutex);
  const std::uint64_t n = next_file++;
  const std::string path = path_for(n);
  // Real photo ids start AgAC, other files' BQAC; unique ids AQAD.
  stored_file file{
      make_id(path.rfind("photos/", 0) == 0 ? "AgACAgIAAxkBAAI" : "BQACAgIAAxkBAAI", 71, n),
      make_id("AQAD", 16, n + 1000003), path, content};
  file_ids[path] = file.file_id;
  files[file.file_id] = file;
  return file;
}

fake_telegram::fake_telegram(std::string token)
    : token_(std::move(token)), state_(std::make_shared<state>(token_)) {
  state* s = state_.get();  // it owns the router and the threads' work: they must not own it
  s->router.add("GET", "/file/*",
                [s](const net::http_request& r, const net::route_params& p,
                    net::respond_fn respond) { s->serve_file(r, p.get("*"), std::move(respond)); });
  for (const char* method : {"GET", "POST"}) {
    s->router.add(method, "/*",
                  [s](const net::http_request& r, const net::route_params&,
                      net::respond_fn respond) { s->serve_api(r, std::move(respond)); });
  }
  s->server = net::http_server::create(
      s->io, {.host = "127.0.0.1", .port = 0, .body_limit = 50 * 1024 * 1024}, s->router);
  if (!s->server->listen()) throw std::runtime_error("fake telegram cannot listen");
  port_ = s->server->port();
  server_thread_ = std::thread([s] { s->io.run(); });
  pusher_thread_ = std::thread([this] { push_webhooks(); });
}

fake_telegram::~fake_telegram() {
  {
    std::lock_guard lock(state_->mutex);
    state_->stopping = true;
  }
  state_->changed.notify_all();
  pusher_thread_.join();
  state_->io.stop();
  server_thread_.join();
  // The io_context goes with the state: destroying it closes the connections still open,
  // a waiting long poll's among them.
}

void fake_telegram::push_webhooks() {
  state& s = *state_;
  std::unique_lock lock(s.mutex);
  for (;;) {
    s.changed.wait(lock,
                   [&] { return s.stopping || (!s.webhook_url.empty() && !s.updates.empty()); });
    if (s.stopping) return;
    const queued_update update = s.updates.front();
    const std::string url = s.webhook_url;
    const std::uint64_t generation = s.webhook_generation;
    std::vector<std::string> headers{"Content-Type: application/json"};
    if (!s.webhook_secret.empty()) {
      headers.push_back("X-Telegram-Bot-Api-Secret-Token: " + s.webhook_secret);
    }
    lock.unlock();
    const http_result answer = http_request("POST", url, update.json, headers);
    lock.lock();
    ++s.webhook_posts;
    const bool accepted = answer.status >= 200 && answer.status < 300;
    if (accepted && generation == s.webhook_generation && !s.updates.empty() &&
        s.updates.front().id == update.id) {
      s.updates.pop_front();
    }
    if (!accepted) {
      s.last_error_date = unix_now();
      s.last_error_message =
          answer.status == 0 ? answer.error
                             : "Wrong response from the webhook: " + std::to_string(answer.status);
    }
    s.changed.notify_all();
    if (!accepted) s.changed.wait_for(lock, webhook_retry, [&] { return s.stopping; });
  }
}

std::string fake_telegram::base() const { return "http://127.0.0.1:" + std::to_string(port_); }

std::int64_t fake_telegram::add_update(const std::string& update) { return state_->queue(update); }

std::int64_t fake_telegram::add_text(const patron& from, const std::string& text,
                                     std::string chat_type, std::int64_t chat_id) {
  return state_->add_message(from, chat_type, chat_id, [&](json::writer& w) {
    w.field("text", text);
    if (text.empty() || text.front() != '/') return;
    const std::string command = text.substr(0, text.find_first_of(" \t\n"));
    w.key("entities")
        .start_array()
        .start_object()
        .field("offset", 0)
        .field("length", static_cast<std::int64_t>(utf16_length(command)))
        .field("type", "bot_command")
        .end_object()
        .end_array();
  });
}

std::int64_t fake_telegram::add_photo(const patron& from, const std::string& content,
                                      const std::string& caption) {
  struct size {
    int width, height;
  };
  const size sizes[] = {{90, 67}, {320, 240}, {800, 600}};
  std::vector<stored_file> files;
  for (const auto& [width, height] : sizes) {
    const bool largest = width == sizes[2].width;
    const std::string bytes =
        largest ? content : "thumbnail " + std::to_string(width) + "x" + std::to_string(height);
    files.push_back(state_->add_file(
        bytes, [](std::uint64_t n) { return "photos/file_" + std::to_string(n) + ".jpg"; }));
  }
  return state_->add_message(from, "private", 0, [&](json::writer& w) {
    w.key("photo").start_array();
    for (std::size_t i = 0; i < files.size(); ++i) {
      w.start_object()
          .field("file_id", files[i].file_id)
          .field("file_unique_id", files[i].unique_id)
          .field("file_size", static_cast<std::int64_t>(files[i].content.size()))
          .field("width", sizes[i].width)
          .field("height", sizes[i].height)
          .end_object();
    }
    w.end_array();
    if (!caption.empty()) w.field("caption", caption);
  });
}

std::int64_t fake_telegram::add_document(const patron& from, const std::string& content,
                                         const std::string& file_name, const std::string& mime_type,
                                         const std::string& caption) {
  const std::size_t dot = file_name.rfind('.');
  const std::string extension = dot == std::string::npos ? "" : file_name.substr(dot);
  const stored_file file = state_->add_file(
      content, [&](std::uint64_t n) { return "documents/file_" + std::to_string(n) + extension; });
  return state_->add_message(from, "private", 0, [&](json::writer& w) {
    w.key("document")
        .start_object()
        .field("file_name", file_name)
        .field("mime_type", mime_type)
        .field("file_id", file.file_id)
        .field("file_unique_id", file.unique_id)
        .field("file_size", static_cast<std::int64_t>(content.size()))
        .end_object();
    if (!caption.empty()) w.field("caption", caption);
  });
}

std::string fake_telegram::add_file(const std::string& content, const std::string& file_path) {
  return state_->add_file(content, [&](std::uint64_t) { return file_path; }).file_id;
}

std::string fake_telegram::file_unique_id(const std::string& file_id) const {
  std::lock_guard lock(state_->mutex);
  const auto file = state_->files.find(file_id);
  return file == state_->files.end() ? "" : file->second.unique_id;
}

void fake_telegram::fail_next(const std::string& method, int status, const std::string& description,
                              int retry_after) {
  std::lock_guard lock(state_->mutex);
  state_->answers[lower(method)].push_back(failure(status, description, retry_after));
  if (lower(method) == "getupdates") state_->answer_waiting_poll();
}

void fake_telegram::answer_next_raw(const std::string& method, int status, const std::string& body,
                                    const std::string& content_type) {
  net::http_response answer;
  answer.status = status;
  answer.content_type = content_type;
  answer.body = body;
  std::lock_guard lock(state_->mutex);
  state_->answers[lower(method)].push_back(std::move(answer));
  if (lower(method) == "getupdates") state_->answer_waiting_poll();
}

// A getUpdates answer queued while a long poll waits is that poll's answer, as the server's
// next answer would be. Call with the mutex held.
void fake_telegram::state::answer_waiting_poll() {
  boost::asio::post(io, [this] {
    std::unique_lock lock(mutex);
    auto waiting = std::exchange(poll, nullptr);
    auto queued = answers.find("getupdates");
    if (!waiting || queued == answers.end() || queued->second.empty()) {
      poll = waiting;
      return;
    }
    auto answer = std::move(queued->second.front());
    queued->second.pop_front();
    lock.unlock();
    waiting->timer.cancel();
    waiting->respond(std::move(answer));
  });
}

void fake_telegram::block(std::int64_t chat_id) {
  std::lock_guard lock(state_->mutex);
  state_->blocked.insert(chat_id);
}

std::vector<fake_telegram::request> fake_telegram::requests() const {
  std::lock_guard lock(state_->mutex);
  return state_->requests;
}

std::vector<fake_telegram::request> fake_telegram::requests(const std::string& method) const {
  std::lock_guard lock(state_->mutex);
  std::vector<request> out;
  for (const auto& r : state_->requests) {
    if (lower(r.method) == lower(method)) out.push_back(r);
  }
  return out;
}

std::vector<fake_telegram::sent_message> fake_telegram::sent() const {
  std::lock_guard lock(state_->mutex);
  return state_->sent;
}

bool fake_telegram::wait_for_sent(std::size_t n, std::chrono::milliseconds wait) const {
  std::unique_lock lock(state_->mutex);
  return state_->changed.wait_for(lock, wait, [&] { return state_->sent.size() >= n; });
}

bool fake_telegram::wait_for_requests(const std::string& method, std::size_t n,
                                      std::chrono::milliseconds wait) const {
  std::unique_lock lock(state_->mutex);
  return state_->changed.wait_for(lock, wait, [&] {
    const auto count =
        std::count_if(state_->requests.begin(), state_->requests.end(),
                      [&](const request& r) { return lower(r.method) == lower(method); });
    return static_cast<std::size_t>(count) >= n;
  });
}

std::size_t fake_telegram::pending() const {
  std::lock_guard lock(state_->mutex);
  return state_->updates.size();
}

bool fake_telegram::wait_until_confirmed(std::chrono::milliseconds wait) const {
  std::unique_lock lock(state_->mutex);
  return state_->changed.wait_for(lock, wait, [&] { return state_->updates.empty(); });
}

std::string fake_telegram::webhook_url() const {
  std::lock_guard lock(state_->mutex);
  return state_->webhook_url;
}

std::size_t fake_telegram::webhook_posts() const {
  std::lock_guard lock(state_->mutex);
  return state_->webhook_posts;
}

}  // namespace askdesk::testing
