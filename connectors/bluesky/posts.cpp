#include "connectors/bluesky/posts.hpp"

#include <algorithm>
#include <cctype>

#include "daemon/core/text.hpp"
#include "daemon/json/document.hpp"
#include "daemon/json/writer.hpp"

namespace askdesk::connectors::bluesky {

namespace {

constexpr std::string_view base32_sortable = "234567abcdefghijklmnopqrstuvwxyz";

std::string clean(std::string_view text, std::size_t max_bytes) {
  return std::string(core::truncate_utf8(core::repair_utf8(text), max_bytes));
}

const rapidjson::Value* object_member(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject()) return nullptr;
  const auto it = v.FindMember(key);
  return it != v.MemberEnd() && it->value.IsObject() ? &it->value : nullptr;
}

const rapidjson::Value* array_member(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject()) return nullptr;
  const auto it = v.FindMember(key);
  return it != v.MemberEnd() && it->value.IsArray() ? &it->value : nullptr;
}

bool boundary(std::string_view text, std::size_t at) {
  return at == text.size() || (static_cast<unsigned char>(text[at]) & 0xC0) != 0x80;
}

std::optional<strong_ref> ref_of(const rapidjson::Value* v) {
  if (!v) return std::nullopt;
  strong_ref r{std::string(json::string_member(*v, "uri")),
               std::string(json::string_member(*v, "cid"))};
  if (!r.uri.starts_with("at://") || r.cid.empty()) return std::nullopt;
  return r;
}

// An embed's images and external link as attachments (a quote with media: its media).
void read_embed(const rapidjson::Value* embed, std::vector<core::attachment>& out) {
  if (!embed) return;
  const std::string type(json::string_member(*embed, "$type"));
  if (type == "app.bsky.embed.recordWithMedia" || type == "app.bsky.embed.recordWithMedia#view") {
    read_embed(object_member(*embed, "media"), out);
    return;
  }
  if (const auto* images = array_member(*embed, "images")) {
    for (const auto& image : images->GetArray()) {
      core::attachment a;
      a.name = clean(json::string_member(image, "alt"), core::max_name_bytes);
      if (a.name.empty()) a.name = "image";
      if (const auto* blob = object_member(image, "image")) {
        a.content_type = clean(json::string_member(*blob, "mimeType"), 100);
        a.size = json::integer_member(*blob, "size", -1);
      }
      // A post view has the picture's address; a record only its blob.
      const std::string full(json::string_member(image, "fullsize"));
      if (core::is_http_url(full)) a.url = clean(full, 2000);
      out.push_back(std::move(a));
    }
  }
  if (const auto* external = object_member(*embed, "external")) {
    core::attachment a;
    const std::string uri(json::string_member(*external, "uri"));
    a.url = core::is_http_url(uri) ? clean(uri, 2000) : "";
    a.name = clean(json::string_member(*external, "title"), core::max_name_bytes);
    if (a.name.empty()) a.name = a.url.empty() ? "link" : a.url;
    a.content_type = "text/html";
    out.push_back(std::move(a));
  }
}

// Fills `p` from a post record and its author.
std::optional<post> read_post(post p, const rapidjson::Value* record,
                              const rapidjson::Value* author, std::string* why) {
  const auto fail = [why](std::string reason) -> std::optional<post> {
    if (why) *why = std::move(reason);
    return std::nullopt;
  };
  if (!p.uri.starts_with("at://") || p.cid.empty()) return fail("an item without a uri and cid");
  if (!record || json::string_member(*record, "$type") != "app.bsky.feed.post") {
    return fail(p.uri + " is not a post");
  }
  if (!author) return fail(p.uri + " has no author");
  p.author_did = json::string_member(*author, "did");
  p.handle = clean(json::string_member(*author, "handle"), 253);
  if (!p.author_did.starts_with("did:") || p.handle.empty()) return fail(p.uri + " has no author");
  p.display_name = clean(json::string_member(*author, "displayName"), core::max_name_bytes);
  const std::string raw(json::string_member(*record, "text"));
  const auto facets = record->FindMember("facets");
  p.text =
      clean(apply_facets(raw, facets != record->MemberEnd() ? &facets->value : nullptr, p.links),
            core::max_text_bytes);
  if (const auto* reply = object_member(*record, "reply")) {
    p.root = ref_of(object_member(*reply, "root"));
    p.parent = ref_of(object_member(*reply, "parent"));
  }
  if (const auto* langs = array_member(*record, "langs");
      langs && !langs->Empty() && (*langs)[0].IsString()) {
    p.language = clean((*langs)[0].GetString(), 35);
  }
  if (const auto t = core::parse_iso8601(json::string_member(*record, "createdAt"))) {
    p.created_at = *t;
  }
  return p;
}

std::optional<std::string> base64url_decode(std::string_view in) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      v = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      v = c - '0' + 52;
    } else if (c == '-' || c == '+') {
      v = 62;
    } else if (c == '_' || c == '/') {
      v = 63;
    } else if (c == '=') {
      break;
    } else {
      return std::nullopt;
    }
    buffer = (buffer << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  return out;
}

bool url_at(std::string_view text, std::size_t at) {
  const auto rest = core::ascii_lower(text.substr(at, 8));
  return (rest.starts_with("http://") || rest.starts_with("https://")) &&
         (at == 0 || std::isspace(static_cast<unsigned char>(text[at - 1])) || text[at - 1] == '(');
}

}  // namespace

std::string apply_facets(std::string_view text, const rapidjson::Value* facets,
                         std::vector<std::string>& links) {
  struct range {
    std::size_t start, end;
    std::string link;
  };
  std::vector<range> ranges;
  if (facets && facets->IsArray()) {
    for (const auto& f : facets->GetArray()) {
      const auto* index = object_member(f, "index");
      const auto* features = array_member(f, "features");
      if (!index || !features) continue;
      const auto start = json::integer_member(*index, "byteStart", -1);
      const auto end = json::integer_member(*index, "byteEnd", -1);
      if (start < 0 || end <= start || static_cast<std::size_t>(end) > text.size() ||
          !boundary(text, static_cast<std::size_t>(start)) ||
          !boundary(text, static_cast<std::size_t>(end))) {
        continue;
      }
      range r{static_cast<std::size_t>(start), static_cast<std::size_t>(end), {}};
      for (const auto& feature : features->GetArray()) {
        if (json::string_member(feature, "$type") == "app.bsky.richtext.facet#link") {
          const std::string uri(json::string_member(feature, "uri"));
          if (core::is_http_url(uri)) r.link = uri;
        }
      }
      ranges.push_back(std::move(r));
    }
  }
  std::sort(ranges.begin(), ranges.end(),
            [](const range& a, const range& b) { return a.start < b.start; });
  std::string out;
  std::size_t at = 0;
  for (const auto& r : ranges) {
    if (r.start < at) continue;  // overlapping: ignored
    out.append(text.substr(at, r.start - at));
    if (!r.link.empty()) {
      out.append(r.link);
      if (std::find(links.begin(), links.end(), r.link) == links.end()) links.push_back(r.link);
    } else {
      out.append(text.substr(r.start, r.end - r.start));
    }
    at = r.end;
  }
  out.append(text.substr(at));
  return out;
}

std::optional<post> read_notification(const rapidjson::Value& v, std::string* why) {
  if (!v.IsObject()) {
    if (why) *why = "a notification that is not an object";
    return std::nullopt;
  }
  post p;
  p.uri = json::string_member(v, "uri");
  p.cid = json::string_member(v, "cid");
  p.reason = clean(json::string_member(v, "reason"), 32);
  p.indexed_at = clean(json::string_member(v, "indexedAt"), 40);
  auto read = read_post(std::move(p), object_member(v, "record"), object_member(v, "author"), why);
  if (read) read_embed(object_member(*object_member(v, "record"), "embed"), read->attachments);
  return read;
}

std::optional<post> read_post_view(const rapidjson::Value& v, std::string* why) {
  if (!v.IsObject()) {
    if (why) *why = "a post that is not an object";
    return std::nullopt;
  }
  post p;
  p.uri = json::string_member(v, "uri");
  p.cid = json::string_member(v, "cid");
  p.indexed_at = clean(json::string_member(v, "indexedAt"), 40);
  auto read = read_post(std::move(p), object_member(v, "record"), object_member(v, "author"), why);
  if (read) {
    // The view's embed has the pictures' addresses; the record's says what they are.
    const auto* view = object_member(v, "embed");
    read_embed(view ? view : object_member(*object_member(v, "record"), "embed"),
               read->attachments);
  }
  return read;
}

rich_text reply_text(std::string_view text, std::string_view handle, std::string_view did) {
  const std::string mention = "@" + std::string(handle);
  const std::string lower = core::ascii_lower(text), wanted = core::ascii_lower(mention);
  std::optional<std::size_t> found;
  for (auto at = lower.find(wanted); at != std::string::npos; at = lower.find(wanted, at + 1)) {
    const auto end = at + wanted.size();
    const bool starts = at == 0 || std::isspace(static_cast<unsigned char>(lower[at - 1]));
    const bool ends =
        end == lower.size() || !(std::isalnum(static_cast<unsigned char>(lower[end])) ||
                                 lower[end] == '.' || lower[end] == '-');
    if (starts && ends) {
      found = at;
      break;
    }
  }
  rich_text r;
  r.text = found ? std::string(text) : mention + " " + std::string(text);
  const std::size_t mention_at = found.value_or(0);
  json::writer w;
  w.start_array();
  w.start_object()
      .key("index")
      .start_object()
      .field("byteStart", static_cast<std::int64_t>(mention_at))
      .field("byteEnd", static_cast<std::int64_t>(mention_at + mention.size()))
      .end_object()
      .key("features")
      .start_array()
      .start_object()
      .field("$type", "app.bsky.richtext.facet#mention")
      .field("did", did)
      .end_object()
      .end_array()
      .end_object();
  for (std::size_t at = 0; at < r.text.size(); ++at) {
    if (!url_at(r.text, at)) continue;
    std::size_t end = at;
    while (end < r.text.size() && !std::isspace(static_cast<unsigned char>(r.text[end]))) ++end;
    while (end > at && std::string_view(".,;:!?)\"'").find(r.text[end - 1]) != std::string::npos) {
      --end;
    }
    w.start_object()
        .key("index")
        .start_object()
        .field("byteStart", static_cast<std::int64_t>(at))
        .field("byteEnd", static_cast<std::int64_t>(end))
        .end_object()
        .key("features")
        .start_array()
        .start_object()
        .field("$type", "app.bsky.richtext.facet#link")
        .field("uri", r.text.substr(at, end - at))
        .end_object()
        .end_array()
        .end_object();
    at = end;
  }
  w.end_array();
  r.facets = w.str();
  return r;
}

std::string tid(std::uint64_t micros, unsigned clock_id) {
  std::uint64_t v = ((micros & ((std::uint64_t{1} << 53) - 1)) << 10) | (clock_id & 0x3FF);
  std::string out(13, '2');
  for (int i = 12; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = base32_sortable[v & 31];
    v >>= 5;
  }
  return out;
}

bool plausible_tid(std::string_view t) {
  return t.size() == 13 && std::string_view("234567abcdefghij").find(t[0]) != std::string::npos &&
         std::all_of(t.begin(), t.end(),
                     [](char c) { return base32_sortable.find(c) != std::string_view::npos; });
}

std::optional<core::timestamp> jwt_expiry(std::string_view jwt) {
  const auto first = jwt.find('.');
  const auto second = first == std::string_view::npos ? first : jwt.find('.', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  const auto payload = base64url_decode(jwt.substr(first + 1, second - first - 1));
  if (!payload) return std::nullopt;
  auto doc = json::document::parse(*payload);
  if (!doc || !doc->root().IsObject()) return std::nullopt;
  const auto exp = json::integer_member(doc->root(), "exp", -1);
  if (exp <= 0) return std::nullopt;
  return core::timestamp{std::chrono::seconds(exp)};
}

std::string rkey_of(std::string_view uri) {
  if (!uri.starts_with("at://")) return {};
  const auto slash = uri.rfind('/');
  return std::string(uri.substr(slash + 1));
}

}  // namespace askdesk::connectors::bluesky
