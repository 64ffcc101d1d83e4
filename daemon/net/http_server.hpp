// The daemon's HTTP and WebSocket server (Boost.Beast): accepts connections, reads requests
// with limits (body, headers, time), hands them to an http_router as plain http_request
// values, and writes the answers. WebSocket upgrades go to the router's websocket routes.
//
// shutdown() is the clean stop: no new connections, idle keep-alive connections closed,
// requests in flight answered (with Connection: close), WebSockets closed with 1001.
//
// Single-threaded: create, use and destroy it on the io_context's thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "daemon/core/result.hpp"
#include "daemon/net/http.hpp"

namespace boost::asio {
class io_context;
}

namespace askdesk::net {

struct http_server_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;                 // 0: any free port (see port())
  std::size_t body_limit = 1024 * 1024;      // larger bodies get 413
  std::size_t header_limit = 16 * 1024;      // larger headers get 431
  std::chrono::seconds idle_timeout{60};     // keep-alive connection with no request
  std::chrono::seconds request_timeout{30};  // reading one request, writing one response
  header_list default_headers;               // added to every response
  // Peers (a reverse proxy's addresses) whose X-Forwarded-For names the client: a request
  // from one gets, as remote_address, the right-most address there that is not a proxy.
  std::vector<std::string> trusted_proxies;
  // On shutdown, connections still open this long after being asked to close are closed.
  std::chrono::milliseconds shutdown_grace{1500};
};

class http_server {
 public:
  static std::unique_ptr<http_server> create(boost::asio::io_context& io,
                                             http_server_options options,
                                             const http_router& router);
  virtual ~http_server() = default;

  // Binds and starts accepting. The error names the address ("127.0.0.1:8080: Address
  // already in use").
  virtual core::status listen() = 0;
  // The bound port (useful with port 0).
  virtual std::uint16_t port() const = 0;
  // Stops accepting and closes connections as described above; `done` runs once none is left.
  virtual void shutdown(std::function<void()> done) = 0;
  // Open WebSockets on `path` ("/ws/staff").
  virtual std::size_t websocket_count(std::string_view path) const = 0;
};

}  // namespace askdesk::net
