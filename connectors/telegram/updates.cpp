#include "connectors/telegram/updates.hpp"

#include <algorithm>
#include <array>

#include "daemon/core/message.hpp"
#include "daemon/core/text.hpp"
#include "daemon/json/document.hpp"

namespace askdesk::connectors::telegram {

namespace {

// Whether `text` is 1 to `max` of A-Z, a-z, 0-9, '_' and '-'.
bool all_of_charset(std::string_view text, std::size_t max) {
  if (text.empty() || text.size() > max) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

std::string clean(std::string_view text, std::size_t max_bytes) {
  const auto repaired = core::repair_utf8(text);
  return std::string(core::truncate_utf8(repaired, max_bytes));
}

const rapidjson::Value* object_member(const rapidjson::Value& v, const char* key) {
  const auto it = v.FindMember(key);
  return it != v.MemberEnd() && it->value.IsObject() ? &it->value : nullptr;
}

std::optional<std::int64_t> int_member(const rapidjson::Value& v, const char* key) {
  const auto it = v.FindMember(key);
  if (it == v.MemberEnd() || !it->value.IsInt64()) return std::nullopt;
  return it->value.GetInt64();
}

// A file object (Document, Audio, Voice, ...) as a file_ref named `fallback` unless it has a
// file_name; nullopt without a file_id.
std::optional<file_ref> file_of(const rapidjson::Value& f, std::string_view fallback,
                                std::string_view default_type) {
  file_ref r;
  r.file_id = json::string_member(f, "file_id");
  if (!plausible_file_id(r.file_id)) return std::nullopt;
  r.name = clean(json::string_member(f, "file_name"), core::max_name_bytes);
  if (r.name.empty()) r.name = fallback;
  r.content_type = clean(json::string_member(f, "mime_type"), 128);
  if (r.content_type.empty()) r.content_type = default_type;
  r.size = json::integer_member(f, "file_size", -1);
  return r;
}

// The largest of a message's PhotoSize array (Telegram lists several sizes of one photo).
std::optional<file_ref> largest_photo(const rapidjson::Value& sizes) {
  const rapidjson::Value* best = nullptr;
  std::int64_t best_area = -1;
  for (const auto& s : sizes.GetArray()) {
    if (!s.IsObject()) continue;
    const auto area = json::integer_member(s, "width") * json::integer_member(s, "height");
    if (area >= best_area) {
      best_area = area;
      best = &s;
    }
  }
  if (!best) return std::nullopt;
  return file_of(*best, "photo", "image/jpeg");
}

// The files a message carries, with what each is when it has no name.
void read_files(const rapidjson::Value& m, std::vector<file_ref>& files) {
  if (const auto photo = m.FindMember("photo"); photo != m.MemberEnd() && photo->value.IsArray()) {
    if (auto f = largest_photo(photo->value)) files.push_back(std::move(*f));
  }
  struct kind {
    const char* field;
    const char* name;
    const char* type;
  };
  // An animation also comes as a document (for old clients): it is read once, as itself.
  static constexpr std::array<kind, 7> kinds{{
      {"animation", "animation", "video/mp4"},
      {"document", "document", "application/octet-stream"},
      {"audio", "audio", "audio/mpeg"},
      {"voice", "voice message", "audio/ogg"},
      {"video", "video", "video/mp4"},
      {"video_note", "video message", "video/mp4"},
      {"sticker", "sticker", "image/webp"},
  }};
  for (const auto& k : kinds) {
    if (std::string_view(k.field) == "document" && m.HasMember("animation")) continue;
    if (const auto* f = object_member(m, k.field)) {
      if (auto file = file_of(*f, k.name, k.type)) files.push_back(std::move(*file));
    }
  }
}

// Content askdesk cannot show as text or a file, named for staff.
std::string_view unshown_content(const rapidjson::Value& m) {
  static constexpr std::array<std::pair<const char*, std::string_view>, 7> kinds{{
      {"location", "a location"},
      {"venue", "a place"},
      {"contact", "a contact card"},
      {"poll", "a poll"},
      {"dice", "an animated emoji"},
      {"game", "a game"},
      {"story", "a story"},
  }};
  for (const auto& [field, what] : kinds) {
    if (m.HasMember(field)) return what;
  }
  return {};
}

// "/start@library_bot payload" -> ("start", "payload").
void read_command(update& u) {
  std::string_view text = u.text;
  if (!text.starts_with('/')) return;
  const auto end = text.find_first_of(" \t\n");
  std::string_view name = text.substr(1, end == std::string_view::npos ? text.npos : end - 1);
  if (const auto at = name.find('@'); at != std::string_view::npos) name = name.substr(0, at);
  if (name.empty() || name.size() > 32 || !all_of_charset(name, 32)) return;
  u.command = core::ascii_lower(name);
  if (end != std::string_view::npos) u.command_argument = core::trim(text.substr(end));
}

std::size_t sequence_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead >> 5) == 0x6) return 2;
  if ((lead >> 4) == 0xE) return 3;
  return 4;
}

// The byte length of the longest prefix of `text` within `max_units` UTF-16 code units.
std::size_t prefix_within(std::string_view text, std::size_t max_units) {
  std::size_t units = 0, at = 0;
  while (at < text.size()) {
    const auto len = sequence_length(static_cast<unsigned char>(text[at]));
    const std::size_t u = len == 4 ? 2 : 1;
    if (units + u > max_units) break;
    units += u;
    at += len;
  }
  return at;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Where to end the part `window` begins (its bytes all fit): the latest break of the best
// kind that keeps the part at least half the window.
std::size_t break_in(std::string_view window) {
  const std::size_t least = window.size() / 2;
  if (const auto p = window.rfind("\n\n"); p != std::string_view::npos && p >= least) return p;
  if (const auto p = window.rfind('\n'); p != std::string_view::npos && p >= least) return p;
  for (std::size_t i = window.size(); i-- > least + 1;) {
    if (is_space(window[i]) &&
        (window[i - 1] == '.' || window[i - 1] == '!' || window[i - 1] == '?')) {
      return i;
    }
  }
  for (std::size_t i = window.size(); i-- > least;) {
    if (is_space(window[i])) return i;
  }
  return window.size();
}

}  // namespace

std::optional<update> read_update(const rapidjson::Value& value, bool groups) {
  if (!value.IsObject()) return std::nullopt;
  const auto id = int_member(value, "update_id");
  if (!id) return std::nullopt;
  update u;
  u.update_id = *id;
  const auto skip = [&u](std::string why) {
    u.what = update::kind::skipped;
    u.why = std::move(why);
    return u;
  };
  const auto* m = object_member(value, "message");
  if (!m) {
    for (const auto& member : value.GetObject()) {
      if (std::string_view(member.name.GetString()) != "update_id") {
        return skip(clean(member.name.GetString(), 64));
      }
    }
    return skip("an empty update");
  }
  const auto* chat = object_member(*m, "chat");
  const auto chat_id = chat ? int_member(*chat, "id") : std::nullopt;
  const auto message_id = int_member(*m, "message_id");
  if (!chat_id || !message_id) return skip("a message without a chat id or message id");
  u.chat_id = *chat_id;
  u.message_id = *message_id;
  u.chat_type = clean(json::string_member(*chat, "type"), 32);
  if (u.chat_type != "private" &&
      !(groups && (u.chat_type == "group" || u.chat_type == "supergroup"))) {
    return skip("a message in a " + (u.chat_type.empty() ? "chat" : u.chat_type) + " chat");
  }
  const auto* from = object_member(*m, "from");
  if (!from) return skip("a message without a sender");
  if (json::bool_member(*from, "is_bot")) return skip("a message from a bot");

  const std::string first = clean(json::string_member(*from, "first_name"), core::max_name_bytes);
  const std::string last = clean(json::string_member(*from, "last_name"), core::max_name_bytes);
  u.username = clean(json::string_member(*from, "username"), 64);
  u.sender_name = std::string(core::trim(first + " " + last));
  if (u.sender_name.empty() && !u.username.empty()) u.sender_name = "@" + u.username;
  u.sender_name = std::string(core::truncate_utf8(u.sender_name, core::max_name_bytes));
  u.language = clean(json::string_member(*from, "language_code"), 35);
  u.sent_at = core::timestamp{std::chrono::seconds(json::integer_member(*m, "date"))};

  u.text = clean(json::string_member(*m, "text"), core::max_text_bytes);
  if (u.text.empty()) u.text = clean(json::string_member(*m, "caption"), core::max_text_bytes);
  read_files(*m, u.files);
  if (u.text.empty() && u.files.empty()) {
    const auto what = unshown_content(*m);
    if (what.empty()) return skip("a service message");
    u.text = "[The patron sent " + std::string(what) +
             ", which askdesk cannot show; see it in Telegram.]";
  }
  read_command(u);
  u.what = update::kind::message;
  return u;
}

std::size_t utf16_units(std::string_view text) {
  std::size_t units = 0;
  for (std::size_t at = 0; at < text.size();) {
    const auto len = sequence_length(static_cast<unsigned char>(text[at]));
    units += len == 4 ? 2 : 1;
    at += len;
  }
  return units;
}

std::vector<std::string> split_text(std::string_view text, std::size_t max_units) {
  std::vector<std::string> parts;
  std::string_view rest = core::trim(text);
  while (!rest.empty()) {
    if (utf16_units(rest) <= max_units) {
      parts.emplace_back(rest);
      break;
    }
    const auto window = rest.substr(0, prefix_within(rest, max_units));
    const auto cut = break_in(window);
    if (const auto part = core::trim(rest.substr(0, cut)); !part.empty()) {
      parts.emplace_back(part);
    }
    rest = core::trim(rest.substr(cut));
  }
  return parts;
}

api_error read_error(long http_status, std::string_view body) {
  api_error e;
  e.code = static_cast<int>(http_status);
  if (auto doc = json::document::parse(body); doc && doc->root().IsObject()) {
    const auto& root = doc->root();
    e.code = static_cast<int>(json::integer_member(root, "error_code", http_status));
    e.description = clean(json::string_member(root, "description"), 512);
    if (const auto* p = object_member(root, "parameters")) {
      e.retry_after = std::chrono::seconds(json::integer_member(*p, "retry_after"));
    }
  }
  if (e.description.empty()) {
    e.description = "the Bot API answered HTTP " + std::to_string(http_status);
  }
  return e;
}

bool plausible_token(std::string_view token) {
  const auto colon = token.find(':');
  if (colon == 0 || colon == std::string_view::npos || colon + 1 == token.size()) return false;
  const auto id = token.substr(0, colon);
  return std::all_of(id.begin(), id.end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }) &&
         id.size() <= 20 && all_of_charset(token.substr(colon + 1), 256);
}

std::string bot_id_of(std::string_view token) {
  return std::string(token.substr(0, token.find(':')));
}

bool plausible_file_id(std::string_view id) { return all_of_charset(id, 256); }
bool plausible_secret(std::string_view secret) { return all_of_charset(secret, 256); }
bool plausible_payload(std::string_view payload) { return all_of_charset(payload, 64); }

}  // namespace askdesk::connectors::telegram
