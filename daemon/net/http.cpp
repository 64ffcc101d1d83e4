#include "daemon/net/http.hpp"

#include <algorithm>

#include <cctype>

#include "daemon/json/writer.hpp"

namespace askdesk::net {

std::string_view http_request::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return value;
  }
  return {};
}

std::optional<std::string> http_request::query_param(std::string_view name) const {
  std::string_view rest = query;
  while (!rest.empty()) {
    const std::size_t amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    const std::size_t eq = pair.find('=');
    const auto key = percent_decode(pair.substr(0, eq), true);
    if (!key || *key != name) continue;
    if (eq == std::string_view::npos) return std::string();
    return percent_decode(pair.substr(eq + 1), true);
  }
  return std::nullopt;
}

std::optional<std::string> http_request::cookie(std::string_view name) const {
  for (const auto& [header_name, value] : headers) {
    if (header_name != "cookie") continue;
    std::string_view rest = value;
    while (!rest.empty()) {
      const std::size_t semi = rest.find(';');
      std::string_view pair = rest.substr(0, semi);
      rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
      while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
      const std::size_t eq = pair.find('=');
      if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
        return std::string(pair.substr(eq + 1));
      }
    }
  }
  return std::nullopt;
}

http_response http_response::json(int status, std::string body) {
  http_response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

http_response http_response::error(int status, std::string_view code, std::string_view message) {
  json::writer w;
  w.start_object()
      .key("error")
      .start_object()
      .field("code", code)
      .field("message", message)
      .end_object()
      .end_object();
  return json(status, w.str());
}

http_response http_response::from(const core::error& e) {
  static const std::pair<std::string_view, int> statuses[] = {{"invalid", 400},
                                                              {"invalid_json", 400},
                                                              {"invalid_request", 400},
                                                              {"unauthenticated", 401},
                                                              {"csrf", 403},
                                                              {"forbidden", 403},
                                                              {"origin_not_allowed", 403},
                                                              {"not_found", 404},
                                                              {"conflict", 409},
                                                              {"payload_too_large", 413},
                                                              {"too_many_attempts", 429},
                                                              {"unavailable", 503}};
  for (const auto& [code, status] : statuses) {
    if (e.code == code)
      return error(status, e.code == "invalid" ? "invalid_request" : e.code, e.message);
  }
  return error(500, "internal", e.message);
}

http_response http_response::text(int status, std::string body, std::string content_type) {
  http_response r;
  r.status = status;
  r.body = std::move(body);
  r.content_type = std::move(content_type);
  return r;
}

const std::string& route_params::get(std::string_view name) const {
  static const std::string empty;
  for (const auto& [key, value] : values_) {
    if (key == name) return value;
  }
  return empty;
}

namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    const std::size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash);
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int hi = hex_value(text[i + 1]);
      const int lo = hex_value(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (text[i] == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += text[i];
    }
  }
  return out;
}

void http_router::add(std::string_view method, std::string_view pattern, http_handler handler) {
  route r{std::string(method), {}, std::move(handler)};
  for (const auto segment : split_path(pattern)) r.segments.emplace_back(segment);
  routes_.push_back(std::move(r));
}

void http_router::add_websocket(std::string_view path, websocket_route route,
                                websocket_limits limits) {
  websockets_.push_back({std::string(path), std::move(route), limits});
}

void http_router::dispatch(const http_request& request, respond_fn respond) const {
  const auto parts = split_path(request.path);
  bool path_matched = false;
  std::string allowed;
  for (const auto& r : routes_) {
    route_params params;
    bool match = true;
    std::size_t i = 0;
    for (; i < r.segments.size() && match; ++i) {
      const std::string& segment = r.segments[i];
      if (segment == "*") {
        std::string rest;
        for (std::size_t k = i; k < parts.size(); ++k) {
          if (k > i) rest += '/';
          rest += parts[k];
        }
        params.add("*", std::move(rest));
        i = parts.size();
        break;
      }
      if (i >= parts.size()) {
        match = false;
      } else if (segment.size() > 2 && segment.front() == '{' && segment.back() == '}') {
        auto value = percent_decode(parts[i], false);
        if (!value || value->empty()) {
          match = false;
        } else {
          params.add(segment.substr(1, segment.size() - 2), std::move(*value));
        }
      } else if (segment != parts[i]) {
        match = false;
      }
    }
    if (!match || i != parts.size()) continue;
    path_matched = true;
    const bool head_as_get = request.method == "HEAD" && r.method == "GET";
    if (r.method != request.method && !head_as_get) {
      if (!allowed.empty()) allowed += ", ";
      allowed += r.method;
      continue;
    }
    r.handler(request, params, std::move(respond));
    return;
  }
  if (path_matched) {
    respond(http_response::error(405, "method_not_allowed",
                                 request.method + " is not allowed here; use " + allowed)
                .header("Allow", allowed));
    return;
  }
  respond(http_response::error(404, "not_found", "no such resource: " + request.path));
}

http_router::websocket_match http_router::find_websocket(std::string_view path) const {
  for (const auto& ws : websockets_) {
    if (ws.path == path) return {&ws.route, ws.limits};
  }
  return {};
}

std::optional<form_fields> parse_form(std::string_view body) {
  form_fields out;
  while (!body.empty()) {
    const std::size_t amp = body.find('&');
    const std::string_view pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    auto name = percent_decode(pair.substr(0, eq), true);
    auto value = eq == std::string_view::npos ? std::optional<std::string>(std::string())
                                              : percent_decode(pair.substr(eq + 1), true);
    if (!name || !value) return std::nullopt;
    out.emplace_back(std::move(*name), std::move(*value));
  }
  return out;
}

const std::string* form_value(const form_fields& form, std::string_view name) {
  for (const auto& [n, v] : form) {
    if (n == name) return &v;
  }
  return nullptr;
}

std::string client_address(const http_request& r, const std::vector<std::string>& trusted_proxies) {
  const auto trusted = [&](std::string_view address) {
    return std::find(trusted_proxies.begin(), trusted_proxies.end(), address) !=
           trusted_proxies.end();
  };
  if (!trusted(r.remote_address)) return r.remote_address;
  std::string_view forwarded = r.header("x-forwarded-for");
  std::string client = r.remote_address;
  while (!forwarded.empty()) {
    const std::size_t comma = forwarded.rfind(',');
    std::string_view hop =
        comma == std::string_view::npos ? forwarded : forwarded.substr(comma + 1);
    forwarded = comma == std::string_view::npos ? std::string_view{} : forwarded.substr(0, comma);
    while (!hop.empty() && hop.front() == ' ') hop.remove_prefix(1);
    while (!hop.empty() && hop.back() == ' ') hop.remove_suffix(1);
    if (hop.empty()) break;
    client = std::string(hop);
    if (!trusted(hop)) break;
  }
  return client;
}

std::string percent_encode(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += hex[u >> 4];
      out += hex[u & 15];
    }
  }
  return out;
}

std::string encode_form(const form_fields& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out += '&';
    out += percent_encode(name) + "=" + percent_encode(value);
  }
  return out;
}

}  // namespace askdesk::net
