#include "connectors/mastodon/statuses.hpp"

#include <algorithm>

#include "connectors/mastodon/html_text.hpp"
#include "daemon/core/text.hpp"
#include "daemon/json/document.hpp"

namespace askdesk::connectors::mastodon {

namespace {

std::string clean(std::string_view text, std::size_t max_bytes) {
  return std::string(core::truncate_utf8(core::repair_utf8(text), max_bytes));
}

const rapidjson::Value* object_member(const rapidjson::Value& v, const char* key) {
  const auto it = v.FindMember(key);
  return it != v.MemberEnd() && it->value.IsObject() ? &it->value : nullptr;
}

// An id as Mastodon gives it: a string of digits (opaque, but never anything to put in a URL
// unescaped).
bool plausible_id(std::string_view id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

// A MediaAttachment's type as a content type's major part.
std::string media_type(std::string_view type) {
  if (type == "image" || type == "gifv") return type == "gifv" ? "video/mp4" : "image/*";
  if (type == "video") return "video/*";
  if (type == "audio") return "audio/*";
  return "application/octet-stream";
}

}  // namespace

std::optional<status> read_status(const rapidjson::Value& v, std::string* why) {
  const auto fail = [why](std::string reason) -> std::optional<status> {
    if (why) *why = std::move(reason);
    return std::nullopt;
  };
  if (!v.IsObject()) return fail("a status that is not an object");
  status s;
  s.id = json::string_member(v, "id");
  if (!plausible_id(s.id)) return fail("a status without a usable id");
  const auto* account = object_member(v, "account");
  if (!account) return fail("status " + s.id + " has no account");
  s.account_id = json::string_member(*account, "id");
  s.acct = clean(json::string_member(*account, "acct"), 300);
  if (s.account_id.empty() || s.acct.empty()) return fail("status " + s.id + " has no author");
  s.account_url = clean(json::string_member(*account, "url"), 1000);
  s.display_name = clean(json::string_member(*account, "display_name"), core::max_name_bytes);
  s.url = clean(json::string_member(v, "url"), 1000);
  s.visibility = clean(json::string_member(v, "visibility"), 16);
  if (s.visibility != "public" && s.visibility != "unlisted" && s.visibility != "private" &&
      s.visibility != "direct") {
    return fail("status " + s.id + " has an unknown visibility");
  }
  if (const auto parent = json::string_member(v, "in_reply_to_id"); plausible_id(parent)) {
    s.in_reply_to_id = parent;
  }
  auto content = text_of_html(json::string_member(v, "content"));
  s.text = clean(content.text, core::max_text_bytes);
  s.links = std::move(content.links);
  s.spoiler_text = clean(json::string_member(v, "spoiler_text"), 1000);
  s.sensitive = json::bool_member(v, "sensitive");
  s.language = clean(json::string_member(v, "language"), 35);
  if (const auto created = core::parse_iso8601(json::string_member(v, "created_at"))) {
    s.created_at = *created;
  }
  if (const auto media = v.FindMember("media_attachments");
      media != v.MemberEnd() && media->value.IsArray()) {
    for (const auto& m : media->value.GetArray()) {
      if (!m.IsObject()) continue;
      core::attachment a;
      a.url = clean(json::string_member(m, "url"), 2000);
      if (!core::is_http_url(a.url)) a.url = clean(json::string_member(m, "remote_url"), 2000);
      if (!core::is_http_url(a.url)) a.url.clear();
      a.content_type = media_type(json::string_member(m, "type"));
      a.name = clean(json::string_member(m, "description"), core::max_name_bytes);
      if (a.name.empty()) a.name = clean(json::string_member(m, "type"), 32);
      s.media.push_back(std::move(a));
    }
  }
  return s;
}

std::string host_of(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  auto rest = url.substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
  return core::ascii_lower(rest);
}

std::string full_acct(std::string_view acct, std::string_view instance_host) {
  std::string a(acct);
  if (a.starts_with('@')) a.erase(0, 1);
  if (a.find('@') == std::string::npos) a += "@" + std::string(instance_host);
  return "@" + a;
}

std::string with_mention(std::string_view text, std::string_view full) {
  const std::string lower = core::ascii_lower(text);
  const std::string whole = core::ascii_lower(full);
  const std::string local = whole.substr(0, whole.find('@', 1));
  // Mentioned when "@ada@host" or "@ada" appears as a word of its own.
  for (const auto& name : {whole, local}) {
    for (auto at = lower.find(name); at != std::string::npos; at = lower.find(name, at + 1)) {
      const auto end = at + name.size();
      const bool starts = at == 0 || std::isspace(static_cast<unsigned char>(lower[at - 1]));
      const bool ends =
          end == lower.size() || !(std::isalnum(static_cast<unsigned char>(lower[end])) ||
                                   lower[end] == '_' || lower[end] == '@');
      if (starts && ends) return std::string(text);
    }
  }
  return std::string(full) + " " + std::string(text);
}

}  // namespace askdesk::connectors::mastodon
