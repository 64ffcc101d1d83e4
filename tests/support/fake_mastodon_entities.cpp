// Entities and text rules for fake_mastodon.
//
// The JSON follows the examples on docs.joinmastodon.org attribute for attribute, with what
// the fake has no use for left at its empty value (emojis, fields, card, poll). Mastodon
// decides some attributes by who asks: `application` and `pinned` appear on the library's own
// statuses only, as StatusSerializer does for the current user.
//
// A posted text goes through one scanner that finds http(s) URLs, mentions and hashtags the
// way Mastodon's extractor does, simplified: a URL needs a dotted host and loses trailing
// punctuation; a mention is @user or @user@domain after a character that is not a word
// character, '=' or '/'; a hashtag has at least one character that is not a digit. The same
// entities give the countable length (StatusLengthValidator: each URL as 23 characters,
// "@user@domain" as "@user", grapheme clusters by utf8proc) and the HTML (TextFormatter).
#include "tests/support/fake_mastodon_entities.hpp"

#include <date/date.h>
#include <utf8proc.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <optional>

namespace askdesk::testing::mastodon_fake {

namespace {

constexpr std::size_t characters_per_url = 23;
constexpr std::size_t link_display_length = 30;
constexpr const char* blurhash = "UFBWY:8_0Jxv4mx]t8t64.%M-:IUWGWAt6M}";

bool ascii_word(char c) {
  const auto u = static_cast<unsigned char>(c);
  return std::isalnum(u) || c == '_';
}
// A word character, counting every byte of a multi-byte UTF-8 sequence as one (letters in
// other scripts).
bool word_byte(char c) { return ascii_word(c) || static_cast<unsigned char>(c) >= 0x80; }

bool starts_with_ci(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && ascii_lower(text.substr(0, prefix.size())) == prefix;
}

std::string escape_html(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::size_t grapheme_count(std::string_view text) {
  std::size_t count = 0;
  utf8proc_int32_t previous = -1, state = 0;
  const auto* at = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  auto left = static_cast<utf8proc_ssize_t>(text.size());
  while (left > 0) {
    utf8proc_int32_t code = 0;
    utf8proc_ssize_t length = utf8proc_iterate(at, left, &code);
    if (length <= 0) {  // a byte that is not UTF-8 counts as one replacement character
      code = 0xFFFD;
      length = 1;
    }
    if (previous < 0 || utf8proc_grapheme_break_stateful(previous, code, &state)) ++count;
    previous = code;
    at += length;
    left -= length;
  }
  return count;
}

struct text_entity {
  enum kind_t { url, mention, hashtag } kind;
  std::size_t begin = 0;
  std::size_t end = 0;
  std::string username;  // a mention's
  std::string domain;    // a mention's; "" for @user
};

std::optional<text_entity> url_at(std::string_view text, std::size_t at) {
  if (at > 0) {
    const char before = text[at - 1];
    if (std::isalnum(static_cast<unsigned char>(before)) || before == '@' || before == '$' ||
        before == '#') {
      return std::nullopt;
    }
  }
  const std::string_view rest = text.substr(at);
  const std::size_t scheme = starts_with_ci(rest, "https://")  ? 8
                             : starts_with_ci(rest, "http://") ? 7
                                                               : 0;
  if (scheme == 0) return std::nullopt;
  std::size_t end = at + scheme;
  while (end < text.size() && !std::isspace(static_cast<unsigned char>(text[end])) &&
         std::strchr("<>\"", text[end]) == nullptr) {
    ++end;
  }
  while (end > at + scheme) {
    const char last = text[end - 1];
    const std::string_view url = text.substr(at, end - at);
    const bool unbalanced = last == ')' && std::count(url.begin(), url.end(), '(') <
                                               std::count(url.begin(), url.end(), ')');
    if (std::strchr(".,;:!?'", last) == nullptr && !unbalanced) break;
    --end;
  }
  const std::string_view after_scheme = text.substr(at + scheme, end - at - scheme);
  const std::string_view host = after_scheme.substr(0, after_scheme.find_first_of("/?#:"));
  if (host.find('.') == std::string_view::npos || host.front() == '.' || host.back() == '.') {
    return std::nullopt;
  }
  return text_entity{text_entity::url, at, end, {}, {}};
}

// Extends a name of word characters with inner '.' and '-' from `from`; returns its end.
std::size_t dotted_name_end(std::string_view text, std::size_t from, bool (*word)(char)) {
  std::size_t end = from;
  while (end < text.size() && (word(text[end]) || text[end] == '.' || text[end] == '-')) ++end;
  while (end > from && !word(text[end - 1])) --end;
  return end;
}

std::optional<text_entity> mention_at(std::string_view text, std::size_t at) {
  if (text[at] != '@' || at + 1 >= text.size() || !ascii_word(text[at + 1])) return std::nullopt;
  if (at > 0 && (text[at - 1] == '=' || text[at - 1] == '/' || word_byte(text[at - 1]))) {
    return std::nullopt;
  }
  text_entity e{text_entity::mention, at, dotted_name_end(text, at + 1, ascii_word), {}, {}};
  e.username = std::string(text.substr(at + 1, e.end - at - 1));
  if (e.end + 1 < text.size() && text[e.end] == '@' && word_byte(text[e.end + 1])) {
    const std::size_t domain_end = dotted_name_end(text, e.end + 1, word_byte);
    e.domain = std::string(text.substr(e.end + 1, domain_end - e.end - 1));
    e.end = domain_end;
  }
  return e;
}

std::optional<text_entity> hashtag_at(std::string_view text, std::size_t at) {
  if (text[at] != '#') return std::nullopt;
  if (at > 0 && (std::strchr("=/)", text[at - 1]) != nullptr || word_byte(text[at - 1]))) {
    return std::nullopt;
  }
  std::size_t end = at + 1;
  while (end < text.size() && word_byte(text[end])) ++end;
  const std::string_view name = text.substr(at + 1, end - at - 1);
  if (name.empty() || name.find_first_not_of("0123456789") == std::string_view::npos) {
    return std::nullopt;
  }
  return text_entity{text_entity::hashtag, at, end, {}, {}};
}

std::vector<text_entity> scan(std::string_view text) {
  std::vector<text_entity> found;
  for (std::size_t at = 0; at < text.size();) {
    auto e = url_at(text, at);
    if (!e) e = mention_at(text, at);
    if (!e) e = hashtag_at(text, at);
    if (!e) {
      ++at;
      continue;
    }
    at = e->end;
    found.push_back(std::move(*e));
  }
  return found;
}

std::string shortened_link(std::string_view url) {
  std::size_t prefix = starts_with_ci(url, "https://") ? 8 : 7;
  if (starts_with_ci(url.substr(prefix), "www.")) prefix += 4;
  const std::string_view rest = url.substr(prefix);
  const bool cut = rest.size() > link_display_length;
  const std::string_view shown = rest.substr(0, link_display_length);
  const std::string_view hidden = cut ? rest.substr(link_display_length) : std::string_view();
  return "<a href=\"" + escape_html(url) +
         "\" target=\"_blank\" rel=\"nofollow noopener\" translate=\"no\"><span "
         "class=\"invisible\">" +
         escape_html(url.substr(0, prefix)) + "</span><span class=\"" + (cut ? "ellipsis" : "") +
         "\">" + escape_html(shown) + "</span><span class=\"invisible\">" + escape_html(hidden) +
         "</span></a>";
}

// One paragraph's HTML; single line breaks become <br />.
std::string format_paragraph(const world& x, std::string_view text, formatted_text& out) {
  std::string html;
  std::size_t at = 0;
  const auto plain = [&](std::string_view piece) {
    for (std::size_t start = 0;;) {
      const std::size_t newline = piece.find('\n', start);
      html += escape_html(piece.substr(start, newline - start));
      if (newline == std::string_view::npos) break;
      html += "<br />";
      start = newline + 1;
    }
  };
  for (const auto& e : scan(text)) {
    plain(text.substr(at, e.begin - at));
    const std::string_view written = text.substr(e.begin, e.end - e.begin);
    at = e.end;
    if (e.kind == text_entity::url) {
      html += shortened_link(written);
    } else if (e.kind == text_entity::hashtag) {
      const std::string name(written.substr(1));
      html += "<a href=\"" + escape_html(x.base + "/tags/" + name) +
              "\" class=\"mention hashtag\" rel=\"tag\">#<span>" + escape_html(name) +
              "</span></a>";
      const std::string lower = ascii_lower(name);
      if (std::find(out.tags.begin(), out.tags.end(), lower) == out.tags.end()) {
        out.tags.push_back(lower);
      }
    } else if (const auto* account = x.find_acct(e.username, e.domain)) {
      html += "<span class=\"h-card\" translate=\"no\"><a href=\"" +
              escape_html(x.profile_url(*account)) + "\" class=\"u-url mention\">@<span>" +
              escape_html(account->username) + "</span></a></span>";
      if (std::find(out.mention_ids.begin(), out.mention_ids.end(), account->id) ==
          out.mention_ids.end()) {
        out.mention_ids.push_back(account->id);
      }
    } else {
      plain(written);
    }
  }
  plain(text.substr(at));
  return "<p>" + html + "</p>";
}

void write_media(json::writer& w, const media_record& m, bool remote) {
  const auto size = [&w](int width, int height, double aspect) {
    w.start_object()
        .field("width", width)
        .field("height", height)
        .field("size", std::to_string(width) + "x" + std::to_string(height))
        .field("aspect", aspect)
        .end_object();
  };
  w.start_object()
      .field("id", m.id)
      .field("type", "image")
      .field("url", m.url)
      .field("preview_url", m.preview_url);
  if (remote) {
    w.field("remote_url", m.url);
  } else {
    w.key("remote_url").null();
  }
  w.key("preview_remote_url").null().key("meta").start_object().key("original");
  size(640, 480, 640.0 / 480.0);
  w.key("small");
  size(461, 346, 461.0 / 346.0);
  w.key("focus").start_object().field("x", 0.0).field("y", 0.0).end_object();
  w.end_object();
  if (m.description.empty()) {
    w.key("description").null();
  } else {
    w.field("description", m.description);
  }
  w.field("blurhash", blurhash).end_object();
}

void write_account_fields(json::writer& w, const world& x, const account_record& a) {
  const bool local = a.domain.empty();
  const std::string uri =
      local ? x.base + "/users/" + a.username : "https://" + a.domain + "/users/" + a.username;
  w.field("id", a.id)
      .field("username", a.username)
      .field("acct", x.acct(a))
      .field("display_name", a.display_name)
      .field("locked", false)
      .field("bot", false)
      .field("discoverable", true)
      .field("indexable", false)
      .field("group", false)
      .field("created_at", iso_time(date::floor<date::days>(a.created_at)))
      .field("note", "")
      .field("url", x.profile_url(a))
      .field("uri", uri)
      .field("avatar", x.base + "/avatars/original/missing.png")
      .field("avatar_static", x.base + "/avatars/original/missing.png")
      .field("header", x.base + "/headers/original/missing.png")
      .field("header_static", x.base + "/headers/original/missing.png")
      .field("followers_count", a.followers_count)
      .field("following_count", a.following_count)
      .field("statuses_count", a.statuses_count);
  if (a.last_status_at == time_point{}) {
    w.key("last_status_at").null();
  } else {
    w.field("last_status_at", date::format("%F", date::floor<date::days>(a.last_status_at)));
  }
  w.field("hide_collections", false);
  if (local) w.field("noindex", false);
  w.key("emojis").start_array().end_array();
  w.key("roles").start_array().end_array();
  w.key("fields").start_array().end_array();
}

}  // namespace

const account_record* world::find_account(std::string_view id) const {
  const auto found = accounts.find(std::string(id));
  return found == accounts.end() ? nullptr : &found->second;
}

const status_record* world::find_status(std::string_view id) const {
  std::uint64_t number = 0;
  const auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), number);
  if (id.empty() || ec != std::errc{} || end != id.data() + id.size()) return nullptr;
  const auto found = statuses.find(number);
  return found == statuses.end() ? nullptr : &found->second;
}

const account_record* world::find_acct(std::string_view username, std::string_view at) const {
  const std::string wanted_domain = ascii_lower(at) == ascii_lower(domain) ? "" : ascii_lower(at);
  for (const auto& [id, a] : accounts) {
    if (ascii_lower(a.username) == ascii_lower(username) &&
        ascii_lower(a.domain) == wanted_domain) {
      return &a;
    }
  }
  return nullptr;
}

bool world::visible(const status_record& s) const {
  if (s.account_id == library_id || s.visibility == "public" || s.visibility == "unlisted") {
    return true;
  }
  const bool mentioned =
      std::find(s.mention_ids.begin(), s.mention_ids.end(), library_id) != s.mention_ids.end();
  if (s.visibility == "private") return mentioned || following.count(s.account_id) > 0;
  return mentioned;
}

std::string world::acct(const account_record& a) const {
  return a.domain.empty() ? a.username : a.username + "@" + a.domain;
}

std::string world::profile_url(const account_record& a) const {
  return a.domain.empty() ? base + "/@" + a.username : "https://" + a.domain + "/@" + a.username;
}

std::string iso_time(time_point t, int fraction_digits) {
  using namespace std::chrono;
  if (fraction_digits <= 0) return date::format("%FT%TZ", date::floor<seconds>(t));
  if (fraction_digits <= 3) return date::format("%FT%TZ", date::floor<milliseconds>(t));
  return date::format("%FT%TZ", date::floor<microseconds>(t));
}

std::string ascii_lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

void write_account(json::writer& w, const world& x, const account_record& a) {
  w.start_object();
  write_account_fields(w, x, a);
  w.end_object();
}

void write_credential_account(json::writer& w, const world& x, const account_record& a) {
  w.start_object();
  write_account_fields(w, x, a);
  w.key("source")
      .start_object()
      .field("privacy", "public")
      .field("sensitive", false)
      .field("language", "")
      .field("note", "")
      .key("fields")
      .start_array()
      .end_array()
      .field("follow_requests_count", 0)
      .field("hide_collections", false)
      .field("discoverable", true)
      .field("indexable", false)
      .key("attribution_domains")
      .start_array()
      .end_array()
      .end_object();
  w.key("role")
      .start_object()
      .field("id", "-99")
      .field("name", "")
      .field("permissions", "0")
      .field("color", "")
      .field("highlighted", false)
      .end_object();
  w.end_object();
}

void write_status(json::writer& w, const world& x, const status_record& s) {
  const account_record& author = x.accounts.at(s.account_id);
  const bool own = s.account_id == x.library_id;
  const std::string id = std::to_string(s.id);
  const auto nullable = [&w](const char* key, const std::string& value) {
    if (value.empty()) {
      w.key(key).null();
    } else {
      w.field(key, value);
    }
  };
  const auto replies = std::count_if(x.statuses.begin(), x.statuses.end(), [&](const auto& other) {
    return other.second.in_reply_to_id == id;
  });
  w.start_object().field("id", id).field("created_at", iso_time(s.created_at));
  nullable("in_reply_to_id", s.in_reply_to_id);
  nullable("in_reply_to_account_id", s.in_reply_to_account_id);
  w.field("sensitive", s.sensitive)
      .field("spoiler_text", s.spoiler_text)
      .field("visibility", s.visibility);
  nullable("language", s.language);
  if (author.domain.empty()) {
    w.field("uri", x.base + "/users/" + author.username + "/statuses/" + id)
        .field("url", x.base + "/@" + author.username + "/" + id);
  } else {
    w.field("uri", "https://" + author.domain + "/users/" + author.username + "/statuses/" + id)
        .field("url", "https://" + author.domain + "/@" + author.username + "/" + id);
  }
  w.field("replies_count", static_cast<std::int64_t>(replies))
      .field("reblogs_count", 0)
      .field("favourites_count", 0)
      .field("quotes_count", 0)
      .key("edited_at")
      .null()
      .field("favourited", false)
      .field("reblogged", false)
      .field("muted", false)
      .field("bookmarked", false);
  if (own) w.field("pinned", false);
  w.field("content", s.content).key("filtered").start_array().end_array().key("reblog").null();
  if (own && !s.application.empty()) {
    w.key("application").start_object().field("name", s.application).key("website").null();
    w.end_object();
  }
  w.key("account");
  write_account(w, x, author);
  w.key("media_attachments").start_array();
  for (const auto& m : s.media) write_media(w, m, !author.domain.empty());
  w.end_array().key("mentions").start_array();
  for (const auto& mentioned_id : s.mention_ids) {
    const account_record& m = x.accounts.at(mentioned_id);
    w.start_object()
        .field("id", m.id)
        .field("username", m.username)
        .field("url", x.profile_url(m))
        .field("acct", x.acct(m))
        .end_object();
  }
  w.end_array().key("tags").start_array();
  for (const auto& tag : s.tags) {
    w.start_object().field("name", tag).field("url", x.base + "/tags/" + tag).end_object();
  }
  w.end_array().key("emojis").start_array().end_array();
  w.key("quote").null().key("card").null().key("poll").null();
  const bool quotable = s.visibility == "public" || s.visibility == "unlisted";
  w.key("quote_approval").start_object().key("automatic").start_array();
  if (quotable) w.string("public");
  w.end_array().key("manual").start_array().end_array();
  w.field("current_user", quotable ? "automatic" : "denied").end_object();
  w.end_object();
}

void write_notification(json::writer& w, const world& x, const notification_record& n) {
  const std::string id = std::to_string(n.id);
  w.start_object()
      .field("id", id)
      .field("type", n.type)
      .field("created_at", iso_time(n.created_at))
      .field("group_key", "ungrouped-" + id)
      .key("account");
  write_account(w, x, x.accounts.at(n.account_id));
  if (const auto* s = x.find_status(n.status_id)) {
    w.key("status");
    write_status(w, x, *s);
  }
  w.end_object();
}

void write_tag(json::writer& w, const world& x, const std::string& name) {
  w.start_object()
      .field("name", name)
      .field("url", x.base + "/tags/" + name)
      .key("history")
      .start_array()
      .end_array()
      .field("following", false)
      .end_object();
}

std::string instance_json(const world& x) {
  json::writer w;
  w.start_object()
      .field("domain", x.domain)
      .field("title", "Askdesk test instance")
      .field("version", "4.3.2")
      .field("source_url", "https://github.com/mastodon/mastodon")
      .field("description", "A stand-in for a Mastodon server, for askdesk's tests")
      .key("usage")
      .start_object()
      .key("users")
      .start_object()
      .field("active_month", static_cast<std::int64_t>(x.accounts.size()))
      .end_object()
      .end_object()
      .key("thumbnail")
      .start_object()
      .field("url", x.base + "/packs/media/images/preview.png")
      .end_object()
      .key("icon")
      .start_array()
      .end_array()
      .key("languages")
      .start_array()
      .string("en")
      .end_array();
  w.key("configuration").start_object();
  w.key("urls")
      .start_object()
      .field("streaming", "ws://" + x.domain)
      .key("status")
      .null()
      .field("about", x.base + "/about")
      .field("privacy_policy", x.base + "/privacy-policy")
      .key("terms_of_service")
      .null()
      .end_object();
  w.key("vapid").start_object().field("public_key", "").end_object();
  w.key("accounts")
      .start_object()
      .field("max_featured_tags", 10)
      .field("max_pinned_statuses", 5)
      .end_object();
  w.key("statuses")
      .start_object()
      .field("max_characters", x.max_characters)
      .field("max_media_attachments", 4)
      .field("characters_reserved_per_url", static_cast<int>(characters_per_url))
      .end_object();
  w.key("media_attachments")
      .start_object()
      .key("supported_mime_types")
      .start_array()
      .string("image/jpeg")
      .string("image/png")
      .string("image/gif")
      .string("image/webp")
      .string("video/mp4")
      .end_array()
      .field("description_limit", 1500)
      .field("image_size_limit", 16777216)
      .field("image_matrix_limit", 33177600)
      .field("video_size_limit", 103809024)
      .field("video_frame_rate_limit", 120)
      .field("video_matrix_limit", 8294400)
      .end_object();
  w.key("polls")
      .start_object()
      .field("max_options", 4)
      .field("max_characters_per_option", 50)
      .field("min_expiration", 300)
      .field("max_expiration", 2629746)
      .end_object();
  w.key("translation").start_object().field("enabled", false).end_object();
  w.end_object();
  w.key("registrations")
      .start_object()
      .field("enabled", false)
      .field("approval_required", false)
      .key("message")
      .null()
      .key("url")
      .null()
      .end_object();
  w.key("api_versions").start_object().field("mastodon", 2).end_object();
  w.key("contact").start_object().field("email", "staff@library.example").key("account");
  write_account(w, x, x.accounts.at(x.library_id));
  w.end_object().key("rules").start_array().end_array().end_object();
  return w.str();
}

std::size_t countable_length(std::string_view text, std::string_view spoiler_text) {
  std::string countable(spoiler_text);
  std::size_t at = 0;
  for (const auto& e : scan(text)) {
    countable += text.substr(at, e.begin - at);
    if (e.kind == text_entity::url) {
      countable += std::string(characters_per_url, 'x');
    } else if (e.kind == text_entity::mention) {
      countable += "@" + e.username;
    } else {
      countable += text.substr(e.begin, e.end - e.begin);
    }
    at = e.end;
  }
  countable += text.substr(at);
  return grapheme_count(countable);
}

formatted_text format_text(const world& x, std::string_view text) {
  formatted_text out;
  std::string normalized;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;
    normalized += text[i];
  }
  const char* space = " \t\n\v\f\r";
  const std::size_t first = normalized.find_first_not_of(space);
  if (first == std::string::npos) return out;
  const std::string_view body =
      std::string_view(normalized).substr(first, normalized.find_last_not_of(space) - first + 1);
  // Paragraphs end at a blank line: a line break, blanks, a line break (Rails' simple_format).
  for (std::size_t start = 0; start <= body.size();) {
    std::size_t end = body.find('\n', start);
    std::size_t next = std::string_view::npos;
    while (end != std::string_view::npos) {
      const std::size_t after = body.find_first_not_of(" \t", end + 1);
      if (after != std::string_view::npos && body[after] == '\n') {
        next = body.find_first_not_of(" \t\n", after);
        break;
      }
      end = body.find('\n', end + 1);
    }
    out.html += format_paragraph(x, body.substr(start, end - start), out);
    if (end == std::string_view::npos || next == std::string_view::npos) break;
    start = next;
  }
  return out;
}

}  // namespace askdesk::testing::mastodon_fake
