// The load generator's clients: asynchronous Beast HTTP/1.1 keep-alive connections and
// WebSocket connections on one io_context, to 127.0.0.1 only. Beast stays in clients.cpp;
// scenarios see plain types. Every callback runs on the io_context's thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>

namespace askdesk::bench {

using header_list = std::vector<std::pair<std::string, std::string>>;

struct http_call {
  std::string method = "POST";
  std::string target;
  std::string body;
  header_list headers;
};

struct http_answer {
  int status = 0;    // 0: the connection failed (body says why)
  std::string body;  // or the error
};

// One keep-alive connection; one call at a time (the caller chains them). Reconnects on the
// next call after a failure or a `Connection: close`.
class http_connection {
 public:
  static std::shared_ptr<http_connection> make(boost::asio::io_context& io, int port);
  virtual ~http_connection() = default;
  virtual void call(http_call c, std::function<void(http_answer)> done) = 0;
};

// One WebSocket. `opened(false)` when the connection or upgrade failed; `frame` for each text
// frame; `closed` once when it ends after opening. send() queues until it is open.
class ws_connection {
 public:
  struct handlers {
    std::function<void(bool ok)> opened;
    std::function<void(std::string_view frame)> frame;
    std::function<void()> closed;
  };
  static std::shared_ptr<ws_connection> open(boost::asio::io_context& io, int port,
                                             std::string target, header_list headers, handlers h);
  virtual ~ws_connection() = default;
  virtual void send(std::string text) = 0;
  virtual void close() = 0;
};

}  // namespace askdesk::bench
