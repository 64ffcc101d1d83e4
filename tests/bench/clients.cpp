#include "tests/bench/clients.hpp"

#include <deque>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

namespace askdesk::bench {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

tcp::endpoint loopback(int port) {
  return {asio::ip::make_address_v4("127.0.0.1"), static_cast<unsigned short>(port)};
}

class http_impl final : public http_connection, public std::enable_shared_from_this<http_impl> {
 public:
  http_impl(asio::io_context& io, int port) : socket_(io), port_(port) {}

  void call(http_call c, std::function<void(http_answer)> done) override {
    request_ = {};
    request_.method_string(c.method);
    request_.target(c.target);
    request_.version(11);
    request_.set(http::field::host, "127.0.0.1:" + std::to_string(port_));
    for (auto& [name, value] : c.headers) request_.set(name, value);
    request_.body() = std::move(c.body);
    request_.prepare_payload();
    done_ = std::move(done);
    if (socket_.is_open()) {
      write();
      return;
    }
    socket_.async_connect(loopback(port_), [self = shared_from_this()](beast::error_code ec) {
      if (ec) return self->fail(ec);
      self->socket_.set_option(tcp::no_delay(true), ec);
      self->write();
    });
  }

 private:
  void write() {
    http::async_write(socket_, request_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        if (ec) return self->fail(ec);
                        self->read();
                      });
  }

  void read() {
    response_ = {};
    http::async_read(socket_, buffer_, response_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       if (ec) return self->fail(ec);
                       if (!self->response_.keep_alive()) self->reset();
                       self->finish({static_cast<int>(self->response_.result_int()),
                                     std::move(self->response_.body())});
                     });
  }

  void fail(beast::error_code ec) {
    reset();
    finish({0, ec.message()});
  }

  void reset() {
    beast::error_code ignored;
    socket_.close(ignored);
    buffer_.clear();
  }

  void finish(http_answer a) {
    auto done = std::move(done_);
    done(std::move(a));
  }

  tcp::socket socket_;
  int port_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
  std::function<void(http_answer)> done_;
};

class ws_impl final : public ws_connection, public std::enable_shared_from_this<ws_impl> {
 public:
  ws_impl(asio::io_context& io, int port, std::string target, header_list headers, handlers h)
      : ws_(io),
        port_(port),
        target_(std::move(target)),
        headers_(std::move(headers)),
        handlers_(std::move(h)) {}

  void start() {
    ws_.next_layer().async_connect(
        loopback(port_), [self = shared_from_this()](beast::error_code ec) {
          if (ec) return self->handlers_.opened(false);
          self->ws_.next_layer().set_option(tcp::no_delay(true), ec);
          self->ws_.set_option(websocket::stream_base::decorator(
              [headers = self->headers_](websocket::request_type& r) {
                for (const auto& [name, value] : headers) r.set(name, value);
              }));
          self->ws_.async_handshake("127.0.0.1:" + std::to_string(self->port_), self->target_,
                                    [self](beast::error_code ec) {
                                      if (ec) return self->handlers_.opened(false);
                                      self->open_ = true;
                                      self->handlers_.opened(true);
                                      self->read();
                                      if (!self->queue_.empty()) self->write_next();
                                    });
        });
  }

  void send(std::string text) override {
    if (closed_) return;
    queue_.push_back(std::move(text));
    if (open_ && !writing_) write_next();
  }

  void close() override {
    if (closed_) return;
    closed_ = true;
    beast::error_code ignored;
    ws_.next_layer().close(ignored);
  }

 private:
  void read() {
    ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) {
        self->open_ = false;
        if (self->handlers_.closed) self->handlers_.closed();
        return;
      }
      const auto data = self->buffer_.cdata();
      self->handlers_.frame(std::string_view(static_cast<const char*>(data.data()), data.size()));
      self->buffer_.clear();
      self->read();
    });
  }

  // One write at a time: Beast allows no second until the first completed.
  void write_next() {
    writing_ = true;
    ws_.text(true);
    ws_.async_write(asio::buffer(queue_.front()),
                    [self = shared_from_this()](beast::error_code ec, std::size_t) {
                      self->writing_ = false;
                      if (ec) return;
                      self->queue_.pop_front();
                      if (!self->queue_.empty()) self->write_next();
                    });
  }

  websocket::stream<tcp::socket> ws_;
  int port_;
  std::string target_;
  header_list headers_;
  handlers handlers_;
  beast::flat_buffer buffer_;
  std::deque<std::string> queue_;
  bool open_ = false;
  bool writing_ = false;
  bool closed_ = false;
};

}  // namespace

std::shared_ptr<http_connection> http_connection::make(asio::io_context& io, int port) {
  return std::make_shared<http_impl>(io, port);
}

std::shared_ptr<ws_connection> ws_connection::open(asio::io_context& io, int port,
                                                   std::string target, header_list headers,
                                                   handlers h) {
  auto c = std::make_shared<ws_impl>(io, port, std::move(target), std::move(headers), std::move(h));
  c->start();
  return c;
}

}  // namespace askdesk::bench
