// Plain HTTP request and response values, and the router that maps a method and a path to a
// handler. Nothing here includes Beast: handlers in the hub and in connectors see only these
// types, and only daemon/net's sessions convert from and to the wire.
//
// A handler answers by calling `respond` exactly once, now or later (after Redis replied).
// The request stays valid until then. Everything runs on the io_context's thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/core/result.hpp"

namespace askdesk::net {

using header_list = std::vector<std::pair<std::string, std::string>>;

struct http_request {
  std::string method;   // "GET", "POST", ...
  std::string target;   // as sent: "/api/v1/conversations?status=queued"
  std::string path;     // the target before '?', not decoded
  std::string query;    // the target after '?', not decoded
  header_list headers;  // names in lower case
  std::string body;
  std::string remote_address;  // the peer's IP address
  bool keep_alive = true;

  // The first header of that (lower-case) name, or "".
  std::string_view header(std::string_view lower_name) const;
  // The decoded value of a query parameter, or nullopt.
  std::optional<std::string> query_param(std::string_view name) const;
  // A cookie's value, or nullopt.
  std::optional<std::string> cookie(std::string_view name) const;
};

struct http_response {
  int status = 200;
  std::string content_type = "application/json";
  header_list headers;
  std::string body;
  bool close = false;  // close the connection after sending

  http_response& header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }

  static http_response json(int status, std::string body);
  // {"error":{"code":…,"message":…}}: every error askdesk answers has this shape.
  static http_response error(int status, std::string_view code, std::string_view message);
  static http_response text(int status, std::string body,
                            std::string content_type = "text/plain; charset=utf-8");
  // The answer for an error value, by its code: invalid → 400, unauthenticated → 401,
  // csrf/forbidden/origin_not_allowed → 403, not_found → 404, conflict → 409,
  // too_many_attempts → 429, unavailable → 503, anything else → 500.
  static http_response from(const core::error& e);
};

using respond_fn = std::function<void(http_response)>;

// Values captured from a route pattern's {name} segments, decoded.
class route_params {
 public:
  void add(std::string name, std::string value) {
    values_.emplace_back(std::move(name), std::move(value));
  }
  // The value of {name}; "" when the pattern has no such segment.
  const std::string& get(std::string_view name) const;

 private:
  std::vector<std::pair<std::string, std::string>> values_;
};

using http_handler = std::function<void(const http_request& request, const route_params& params,
                                        respond_fn respond)>;

// The client's address: the peer's, or, when the peer is one of `trusted_proxies`, the
// right-most address in X-Forwarded-For that is not (each proxy appends the one it saw).
std::string client_address(const http_request& r, const std::vector<std::string>& trusted_proxies);

// The peer side of one WebSocket, owned by daemon/net. Valid from on_open until on_close
// returns; a handler keeps a plain pointer to it for that long.
class websocket_peer {
 public:
  virtual ~websocket_peer() = default;
  // Queues a text frame. The string is shared: one event serialized once goes to many peers.
  // A peer that lets its queue grow past the limit is too slow and is closed.
  virtual void send(std::shared_ptr<const std::string> text) = 0;
  // Starts the closing handshake with this code (1000 normal, 1001 going away, 1008 policy).
  virtual void close(std::uint16_t code, std::string_view reason) = 0;
  virtual const std::string& remote_address() const = 0;
};

// The application side of one WebSocket: created by a websocket route when it accepts the
// upgrade, owned by the connection, destroyed after on_close.
class websocket_handler {
 public:
  virtual ~websocket_handler() = default;
  virtual void on_open(websocket_peer& peer) = 0;
  virtual void on_message(std::string_view text) = 0;
  virtual void on_close() = 0;
};

// A websocket route decides about an upgrade request: a handler to accept it, or a response
// (401, 403, 503 ...) to refuse it. It may decide later (after a Redis lookup).
struct websocket_decision {
  std::unique_ptr<websocket_handler> handler;  // null: refused with `refusal`
  http_response refusal;
};
using websocket_route = std::function<void(const http_request& request,
                                           std::function<void(websocket_decision)> decide)>;

struct websocket_limits {
  std::size_t max_message_bytes = 64 * 1024;
  std::size_t max_queued_bytes = 4 * 1024 * 1024;  // per peer; past it the peer is closed
};

class http_router {
 public:
  // `pattern` is a path with {name} segments, e.g. "/api/v1/conversations/{id}/claim", or a
  // prefix ending in "/*" that takes any rest (available as {*}).
  void add(std::string_view method, std::string_view pattern, http_handler handler);
  void add_websocket(std::string_view path, websocket_route route, websocket_limits limits = {});

  // Runs the handler that matches, or answers 404 / 405 with a JSON error.
  void dispatch(const http_request& request, respond_fn respond) const;

  struct websocket_match {
    const websocket_route* route = nullptr;
    websocket_limits limits;
  };
  websocket_match find_websocket(std::string_view path) const;

 private:
  struct route {
    std::string method;
    std::vector<std::string> segments;  // "{id}" for parameters, "*" for a tail
    http_handler handler;
  };
  struct ws_route {
    std::string path;
    websocket_route route;
    websocket_limits limits;
  };
  std::vector<route> routes_;
  std::vector<ws_route> websockets_;
};

// Percent-decoding for paths and query values ('+' is a space only in queries). nullopt for
// malformed escapes.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

// An application/x-www-form-urlencoded body, in order (names may repeat).
using form_fields = std::vector<std::pair<std::string, std::string>>;
// nullopt when an escape is malformed.
std::optional<form_fields> parse_form(std::string_view body);
// The first value of `name` in `form`, or nullptr.
const std::string* form_value(const form_fields& form, std::string_view name);
// `text` with every byte but letters, digits and -_.~ as %XX (a query value, a path segment).
std::string percent_encode(std::string_view text);
// The body for `fields`: unreserved characters as they are, the rest %XX (space too).
std::string encode_form(const form_fields& fields);

}  // namespace askdesk::net
