// The reading side of fake_mastodon (see fake_mastodon_reads.hpp).
//
// Paging follows Mastodon's Paginable concern: max_id and since_id cut the newest `limit`
// entries below and above them; min_id takes the `limit` entries just above it (the oldest of
// those first) and returns them newest first. The Link header has rel="next" (max_id = the
// oldest on the page) and rel="prev" (min_id = the newest), with the request's other
// parameters that the controller permits, in the sorted order of Rails' to_query; it is absent
// when the page is empty. limit is Api::BaseController's limit_param: absent, the default;
// otherwise |to_i|, at most twice the default.
#include "tests/support/fake_mastodon_reads.hpp"

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <map>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "daemon/json/document.hpp"
#include "daemon/json/writer.hpp"

namespace askdesk::testing::mastodon_fake {

namespace {

constexpr const char* json_type = "application/json; charset=utf-8";
constexpr std::size_t default_notifications_limit = 40;
constexpr std::size_t default_statuses_limit = 20;
constexpr std::size_t default_search_limit = 20;

std::string serialize(const rapidjson::Value& v) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  v.Accept(writer);
  return {buffer.GetString(), buffer.GetSize()};
}

std::string error_body(std::string_view message) {
  json::writer w;
  w.start_object().field("error", message).end_object();
  return w.str();
}

// A JSON value under the names a Rails form would give it; null is left out, as blank.
void flatten(parameters& p, const std::string& name, const rapidjson::Value& v) {
  if (v.IsNull()) return;
  if (v.IsString()) {
    p.add(name, std::string(v.GetString(), v.GetStringLength()));
  } else if (v.IsArray()) {
    for (const auto& item : v.GetArray()) flatten(p, name + "[]", item);
  } else if (v.IsObject()) {
    for (const auto& m : v.GetObject()) {
      flatten(p, name + "[" + std::string(m.name.GetString(), m.name.GetStringLength()) + "]",
              m.value);
    }
  } else {
    p.add(name, serialize(v));
  }
}

struct page_request {
  std::optional<std::uint64_t> max_id, since_id, min_id;
  std::size_t limit = 0;
};

// limit_param: absent, the default; otherwise |to_i|, at most twice the default.
page_request read_page(const parameters& p, std::size_t default_limit) {
  page_request page;
  const auto id = [&](const char* name) -> std::optional<std::uint64_t> {
    if (!p.present(name)) return std::nullopt;
    return static_cast<std::uint64_t>(std::max<std::int64_t>(0, ruby_to_i(*p.get(name))));
  };
  page.max_id = id("max_id");
  page.since_id = id("since_id");
  page.min_id = id("min_id");
  const auto limit = p.get("limit");
  page.limit = !limit ? default_limit
                      : std::min<std::size_t>(static_cast<std::size_t>(std::abs(ruby_to_i(*limit))),
                                              default_limit * 2);
  return page;
}

// The positions in `ascending` (ids, oldest first) that make the page, newest first.
std::vector<std::size_t> select_page(const std::vector<std::uint64_t>& ascending,
                                     const page_request& page) {
  std::vector<std::size_t> picked;
  const auto fits = [&](std::uint64_t id) {
    if (page.max_id && id >= *page.max_id) return false;
    if (page.min_id) return id > *page.min_id;
    return !page.since_id || id > *page.since_id;
  };
  if (page.min_id) {
    for (std::size_t i = 0; i < ascending.size() && picked.size() < page.limit; ++i) {
      if (fits(ascending[i])) picked.push_back(i);
    }
    std::reverse(picked.begin(), picked.end());
  } else {
    for (std::size_t i = ascending.size(); i-- > 0 && picked.size() < page.limit;) {
      if (fits(ascending[i])) picked.push_back(i);
    }
  }
  return picked;
}

// Mastodon's Link header for a page whose ids run from `newest` to `oldest`: `kept` names
// the request's parameters the links carry (a name ending "[]" is an array), in the order
// Rails' to_query gives them (sorted).
std::string link_header(const std::string& url, const parameters& p,
                        const std::vector<std::string>& kept, std::uint64_t newest,
                        std::uint64_t oldest) {
  std::vector<std::string> chunks;
  for (const auto& name : kept) {
    const bool array = name.size() > 2 && name.compare(name.size() - 2, 2, "[]") == 0;
    std::string chunk;
    if (array) {
      for (const auto& v : p.list(name.substr(0, name.size() - 2))) {
        chunk += (chunk.empty() ? "" : "&") + net::encode_form({{name, v}});
      }
    } else if (const auto v = p.get(name)) {
      chunk = net::encode_form({{name, *v}});
    }
    if (!chunk.empty()) chunks.push_back(std::move(chunk));
  }
  const auto link = [&](const std::string& cursor, std::uint64_t id, const char* rel) {
    auto all = chunks;
    all.push_back(net::encode_form({{cursor, std::to_string(id)}}));
    std::sort(all.begin(), all.end());
    std::string query;
    for (const auto& c : all) query += (query.empty() ? "" : "&") + c;
    return "<" + url + "?" + query + ">; rel=\"" + rel + "\"";
  };
  return link("max_id", oldest, "next") + ", " + link("min_id", newest, "prev");
}

std::string status_json(const world& x, const status_record& s) {
  json::writer w;
  write_status(w, x, s);
  return w.str();
}

}  // namespace

bool blank(std::string_view text) {
  return text.find_first_not_of(" \t\n\v\f\r") == std::string_view::npos;
}

std::int64_t ruby_to_i(std::string_view text) {
  std::size_t at = text.find_first_not_of(" \t\n");
  if (at == std::string_view::npos) return 0;
  const bool negative = text[at] == '-';
  if (text[at] == '-' || text[at] == '+') ++at;
  std::int64_t value = 0;
  for (; at < text.size() && text[at] >= '0' && text[at] <= '9'; ++at) {
    if (value > (INT64_MAX - 9) / 10) return negative ? INT64_MIN : INT64_MAX;
    value = value * 10 + (text[at] - '0');
  }
  return negative ? -value : value;
}

bool truthy(const std::optional<std::string>& value) {
  if (!value || value->empty()) return false;
  static const char* const falses[] = {"0", "f", "F", "false", "FALSE", "off", "OFF"};
  return std::none_of(std::begin(falses), std::end(falses),
                      [&](const char* f) { return *value == f; });
}

std::optional<std::string> parameters::get(std::string_view name) const {
  for (const auto& [n, v] : fields_) {
    if (n == name) return v;
  }
  return std::nullopt;
}

bool parameters::present(std::string_view name) const {
  const auto value = get(name);
  return value && !blank(*value);
}

std::vector<std::string> parameters::list(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [n, v] : fields_) {
    const std::string_view rest = std::string_view(n).substr(std::min(n.size(), name.size()));
    const bool indexed = rest.size() >= 2 && rest.front() == '[' && rest.back() == ']' &&
                         rest.find_first_not_of("0123456789", 1) == rest.size() - 1;
    if (n.compare(0, name.size(), name) == 0 && (rest.empty() || indexed)) out.push_back(v);
  }
  return out;
}

std::string parameters::json() const {
  std::vector<std::string> order;
  std::map<std::string, std::vector<std::string>> values;
  for (const auto& [n, v] : fields_) {
    if (!values.count(n)) order.push_back(n);
    values[n].push_back(v);
  }
  json::writer w;
  w.start_object();
  for (const auto& n : order) {
    const auto& all = values[n];
    w.key(n);
    if (all.size() == 1) {
      w.string(all[0]);
      continue;
    }
    w.start_array();
    for (const auto& v : all) w.string(v);
    w.end_array();
  }
  w.end_object();
  return w.str();
}

bool read_parameters(const net::http_request& r, parameters& p) {
  if (!r.query.empty()) {
    const auto query = net::parse_form(r.query);
    if (!query) return false;
    for (const auto& [n, v] : *query) p.add(n, v);
  }
  const std::string content_type = ascii_lower(r.header("content-type"));
  const std::string type = content_type.substr(0, content_type.find(';'));
  if (type == "application/json" && !blank(r.body)) {
    const auto parsed = json::document::parse(r.body);
    if (!parsed.ok() || !parsed->root().IsObject()) return false;
    for (const auto& m : parsed->root().GetObject()) {
      flatten(p, std::string(m.name.GetString(), m.name.GetStringLength()), m.value);
    }
  } else if (type == "application/x-www-form-urlencoded") {
    const auto form = net::parse_form(r.body);
    if (!form) return false;
    for (const auto& [n, v] : *form) p.add(n, v);
  }
  return true;
}

net::http_response json_answer(int status, std::string body) {
  net::http_response r;
  r.status = status;
  r.content_type = json_type;
  r.body = std::move(body);
  r.header("Cache-Control", "no-cache, no-store, max-age=0, must-revalidate");
  return r;
}

net::http_response json_error(int status, std::string_view message) {
  return json_answer(status, error_body(message));
}

net::http_response notifications_page(const world& x,
                                      const std::vector<notification_record>& notifications,
                                      const parameters& p) {
  const auto types = p.list("types");
  const auto excluded = p.list("exclude_types");
  const auto from = p.get("account_id");
  const bool include_filtered = truthy(p.get("include_filtered"));
  std::vector<const notification_record*> candidates;
  std::vector<std::uint64_t> ids;
  for (const auto& n : notifications) {
    const auto listed = [&](const std::vector<std::string>& names) {
      return std::find(names.begin(), names.end(), n.type) != names.end();
    };
    if ((!types.empty() && !listed(types)) || listed(excluded)) continue;
    if ((from && !blank(*from) && n.account_id != *from) || (n.filtered && !include_filtered)) {
      continue;
    }
    candidates.push_back(&n);
    ids.push_back(n.id);
  }
  const auto page = select_page(ids, read_page(p, default_notifications_limit));
  json::writer w;
  w.start_array();
  for (const std::size_t i : page) write_notification(w, x, *candidates[i]);
  w.end_array();
  auto out = json_answer(200, w.str());
  if (!page.empty()) {
    out.header("Link", link_header(x.base + "/api/v1/notifications", p,
                                   {"account_id", "exclude_types[]", "include_filtered", "limit",
                                    "types[]"},
                                   ids[page.front()], ids[page.back()]));
  }
  return out;
}

net::http_response status_answer(const world& x, const std::string& id, bool with_context) {
  const auto* s = x.find_status(id);
  if (!s || !x.visible(*s)) return json_error(404, "Record not found");
  if (!with_context) return json_answer(200, status_json(x, *s));
  std::vector<const status_record*> ancestors;
  for (const auto* parent = x.find_status(s->in_reply_to_id); parent;
       parent = x.find_status(parent->in_reply_to_id)) {
    ancestors.insert(ancestors.begin(), parent);
  }
  // Descendants depth first, each status's replies oldest first, as Mastodon orders a thread.
  std::vector<const status_record*> descendants;
  std::function<void(const std::string&)> add_replies = [&](const std::string& parent_id) {
    for (const auto& [number, reply] : x.statuses) {
      if (reply.in_reply_to_id != parent_id) continue;
      descendants.push_back(&reply);
      add_replies(std::to_string(number));
    }
  };
  add_replies(std::to_string(s->id));
  json::writer w;
  const auto write_visible = [&](const char* key, const auto& list) {
    w.key(key).start_array();
    for (const auto* status : list) {
      if (x.visible(*status)) write_status(w, x, *status);
    }
    w.end_array();
  };
  w.start_object();
  write_visible("ancestors", ancestors);
  write_visible("descendants", descendants);
  w.end_object();
  return json_answer(200, w.str());
}

net::http_response tag_timeline(const world& x, const std::string& raw_path, const std::string& tag,
                                const parameters& p) {
  const std::string wanted = ascii_lower(tag);
  std::vector<const status_record*> tagged;
  std::vector<std::uint64_t> ids;
  for (const auto& [number, s] : x.statuses) {
    if (s.visibility != "public" ||
        std::find(s.tags.begin(), s.tags.end(), wanted) == s.tags.end()) {
      continue;
    }
    tagged.push_back(&s);
    ids.push_back(number);
  }
  const auto page = select_page(ids, read_page(p, default_statuses_limit));
  json::writer w;
  w.start_array();
  for (const std::size_t i : page) write_status(w, x, *tagged[i]);
  w.end_array();
  auto out = json_answer(200, w.str());
  if (!page.empty()) {
    out.header("Link", link_header(x.base + raw_path, p, {"limit", "local", "only_media", "remote"},
                                   ids[page.front()], ids[page.back()]));
  }
  return out;
}

net::http_response search(const world& x, bool full_text_search, const parameters& p) {
  if (!p.present("q")) return json_error(400, "param is missing or the value is empty: q");
  const std::string q = ascii_lower(*p.get("q"));
  const std::string type = p.get("type").value_or("");
  const std::size_t limit = read_page(p, default_search_limit).limit;
  const auto offset =
      static_cast<std::size_t>(std::max<std::int64_t>(0, ruby_to_i(p.get("offset").value_or("0"))));
  const auto wanted = [&](const char* kind) { return type.empty() || type == kind; };
  const auto contains = [&](std::string_view text, std::string_view needle) {
    return ascii_lower(text).find(needle) != std::string::npos;
  };
  const auto window = [&](std::size_t n) { return n >= offset && n < offset + limit; };
  json::writer w;
  w.start_object().key("accounts").start_array();
  const std::string who =
      q.substr(q.find_first_not_of('@') == std::string::npos ? q.size() : q.find_first_not_of('@'));
  std::size_t n = 0;
  for (const auto& [id, a] : x.accounts) {
    if (!wanted("accounts") || who.empty() ||
        (!contains(x.acct(a), who) && !contains(a.display_name, who))) {
      continue;
    }
    if (window(n++)) write_account(w, x, a);
  }
  w.end_array().key("statuses").start_array();
  n = 0;
  for (auto it = x.statuses.rbegin();
       full_text_search && wanted("statuses") && it != x.statuses.rend(); ++it) {
    const auto& s = it->second;
    std::string text;  // the content without its tags
    for (bool in_tag = false; const char c : s.content) {
      if (c == '<' || c == '>') {
        in_tag = c == '<';
      } else if (!in_tag) {
        text += c;
      }
    }
    if (!x.visible(s) || !(contains(text, q) || contains(s.spoiler_text, q))) continue;
    if (window(n++)) write_status(w, x, s);
  }
  w.end_array().key("hashtags").start_array();
  std::vector<std::string> tags;
  const std::string tag_query = q.substr(q.rfind('#') == std::string::npos ? 0 : q.rfind('#') + 1);
  for (const auto& [id, s] : x.statuses) {
    for (const auto& tag : s.tags) {
      if (wanted("hashtags") && !tag_query.empty() && tag.rfind(tag_query, 0) == 0 &&
          std::find(tags.begin(), tags.end(), tag) == tags.end()) {
        tags.push_back(tag);
      }
    }
  }
  for (std::size_t i = 0; i < tags.size(); ++i) {
    if (window(i)) write_tag(w, x, tags[i]);
  }
  w.end_array().end_object();
  return json_answer(200, w.str());
}

}  // namespace askdesk::testing::mastodon_fake
