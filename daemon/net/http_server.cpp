// The Beast side of the server, in the shape of Beast's advanced server example: a listener
// accepts; an http_session reads one request at a time and writes its answer; an upgrade
// request that a websocket route accepts moves the socket into a websocket_session, which
// owns one WebSocket with a queue of shared frames and at most one write in flight.
// Every async handler holds shared_from_this(), so a session lives exactly as long as it has
// work outstanding. The server keeps plain pointers to live sessions (they remove
// themselves in their destructors) only to shut them down: politely first (a WebSocket gets
// 1001 and its close handshake), then, after a grace period, by closing their sockets, so a
// peer that never answers cannot hold the daemon up. A session that somehow outlives the
// server (the daemon gave up waiting) was detached from it and touches nothing.

#include "daemon/net/http_server.hpp"

#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

namespace askdesk::net {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

class server_impl;

class session_base : public std::enable_shared_from_this<session_base> {
 public:
  explicit session_base(server_impl& server);
  virtual ~session_base();
  session_base(const session_base&) = delete;
  session_base& operator=(const session_base&) = delete;
  // Ends the session politely (see http_server::shutdown).
  virtual void shutdown() = 0;
  // Closes its socket at once: every pending operation completes and releases the session.
  virtual void abort() = 0;
  void detach() { server_ = nullptr; }

 protected:
  server_impl* server_;  // null once the server is gone
};

class server_impl final : public http_server {
 public:
  server_impl(asio::io_context& io, http_server_options options, const http_router& router)
      : io_(io),
        options_(std::move(options)),
        router_(router),
        acceptor_(io),
        retry_(io),
        drain_(io) {}
  ~server_impl() override {
    for (auto* s : sessions_) s->detach();
  }

  core::status listen() override;
  std::uint16_t port() const override { return port_; }
  void shutdown(std::function<void()> done) override;
  std::size_t websocket_count(std::string_view path) const override {
    const auto it = websockets_.find(std::string(path));
    return it == websockets_.end() ? 0 : it->second;
  }

  const http_server_options& options() const { return options_; }
  const http_router& router() const { return router_; }
  bool stopping() const { return stopping_; }
  void add(session_base* s) { sessions_.insert(s); }
  void remove(session_base* s) { sessions_.erase(s); }
  void websocket_opened(const std::string& path) { ++websockets_[path]; }
  void websocket_closed(const std::string& path) { --websockets_[path]; }

 private:
  void accept();
  void wait_for_sessions(std::chrono::steady_clock::time_point abort_at,
                         std::function<void()> done);

  asio::io_context& io_;
  const http_server_options options_;
  const http_router& router_;
  tcp::acceptor acceptor_;
  asio::steady_timer retry_;
  asio::steady_timer drain_;
  std::uint16_t port_ = 0;
  bool stopping_ = false;
  std::unordered_set<session_base*> sessions_;
  std::unordered_map<std::string, std::size_t> websockets_;
};

session_base::session_base(server_impl& server) : server_(&server) { server_->add(this); }
session_base::~session_base() {
  if (server_) server_->remove(this);
}

bool quiet(const beast::error_code& ec) {
  return ec == asio::error::operation_aborted || ec == websocket::error::closed ||
         ec == beast::error::timeout || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == http::error::end_of_stream;
}

void apply_headers(http::response<http::string_body>& res, const http_response& r,
                   const header_list& defaults) {
  res.set(http::field::server, "askdesk");
  for (const auto& [name, value] : defaults) res.set(name, value);
  if (!r.content_type.empty()) res.set(http::field::content_type, r.content_type);
  for (const auto& [name, value] : r.headers) res.insert(name, value);
}

class websocket_session final : public session_base, public websocket_peer {
 public:
  websocket_session(server_impl& server, beast::tcp_stream&& stream,
                    std::unique_ptr<websocket_handler> handler, websocket_limits limits,
                    std::string path, std::string remote)
      : session_base(server),
        ws_(std::move(stream)),
        handler_(std::move(handler)),
        limits_(limits),
        path_(std::move(path)),
        remote_(std::move(remote)) {}

  ~websocket_session() override {
    if (open_ && server_) server_->websocket_closed(path_);
  }

  void run(http::request<http::string_body> request) {
    beast::get_lowest_layer(ws_).expires_never();
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(http::field::server, "askdesk"); }));
    ws_.read_message_max(limits_.max_message_bytes);
    ws_.auto_fragment(false);
    ws_.async_accept(request, beast::bind_front_handler(&websocket_session::on_accept, self()));
  }

  void send(std::shared_ptr<const std::string> text) override {
    if (!open_ || closing_) return;
    queued_bytes_ += text->size();
    if (queued_bytes_ > limits_.max_queued_bytes) {
      spdlog::warn("websocket {} {}: client too slow, {} bytes queued; closing", path_, remote_,
                   queued_bytes_);
      // Drop what has not started; the client resumes from its last event when it returns.
      while (queue_.size() > (writing_ ? 1u : 0u)) queue_.pop_back();
      close(1008, "too slow: reconnect and resume");
      return;
    }
    queue_.push_back(std::move(text));
    if (!writing_) write_next();
  }

  void close(std::uint16_t code, std::string_view reason) override {
    if (!open_ || closing_) return;
    closing_ = true;
    close_reason_ = websocket::close_reason(static_cast<websocket::close_code>(code),
                                            std::string(reason).substr(0, 120));
    if (!writing_) send_close();
  }

  const std::string& remote_address() const override { return remote_; }

  void shutdown() override { close(1001, "server shutting down"); }

  void abort() override {
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
  }

 private:
  std::shared_ptr<websocket_session> self() {
    return std::static_pointer_cast<websocket_session>(shared_from_this());
  }

  void on_accept(beast::error_code ec) {
    if (ec) {
      if (!quiet(ec)) spdlog::debug("websocket {} {}: handshake: {}", path_, remote_, ec.message());
      return;
    }
    open_ = true;
    server_->websocket_opened(path_);
    handler_->on_open(*this);
    read();
  }

  // Between messages a socket waits with a small buffer (most sockets are idle most of the
  // time, and a read in flight holds its buffer); a message longer than that is read on in
  // larger pieces, and the buffer is freed once it was handled.
  static constexpr std::size_t idle_read_bytes = 256, message_read_bytes = 4096;

  void read() {
    ws_.async_read_some(buffer_, buffer_.size() == 0 ? idle_read_bytes : message_read_bytes,
                        beast::bind_front_handler(&websocket_session::on_read, self()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec) {
      if (!quiet(ec)) spdlog::debug("websocket {} {}: read: {}", path_, remote_, ec.message());
      finish();
      return;
    }
    if (!ws_.is_message_done()) {
      read();
      return;
    }
    if (!ws_.got_text()) {
      buffer_.consume(buffer_.size());
      close(1003, "text frames only");
    } else {
      const auto data = buffer_.cdata();
      handler_->on_message(std::string_view(static_cast<const char*>(data.data()), data.size()));
      buffer_.consume(buffer_.size());
    }
    buffer_.shrink_to_fit();
    read();
  }

  void write_next() {
    writing_ = true;
    ws_.text(true);
    ws_.async_write(asio::buffer(*queue_.front()),
                    beast::bind_front_handler(&websocket_session::on_write, self()));
  }

  void on_write(beast::error_code ec, std::size_t) {
    writing_ = false;
    queued_bytes_ -= queue_.front()->size();
    queue_.erase(queue_.begin());
    if (ec) {
      if (!quiet(ec)) spdlog::debug("websocket {} {}: write: {}", path_, remote_, ec.message());
      queue_.clear();
      return;  // the read side sees the error too and finishes
    }
    if (closing_) {
      queue_.clear();
      send_close();
    } else if (!queue_.empty()) {
      write_next();
    }
  }

  void send_close() {
    ws_.async_close(close_reason_, [self = self()](beast::error_code) {});
  }

  // The socket is done: tell the handler, once.
  void finish() {
    if (!open_ || finished_) return;
    finished_ = true;
    closing_ = true;
    handler_->on_close();
  }

  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
  std::unique_ptr<websocket_handler> handler_;
  const websocket_limits limits_;
  const std::string path_;
  const std::string remote_;
  // Frames waiting to be written: a vector, empty and unallocated while idle (a std::deque
  // allocates half a kilobyte as soon as it exists, on every socket).
  std::vector<std::shared_ptr<const std::string>> queue_;
  std::size_t queued_bytes_ = 0;
  websocket::close_reason close_reason_;
  bool open_ = false;
  bool writing_ = false;
  bool closing_ = false;
  bool finished_ = false;
};

class http_session final : public session_base {
 public:
  http_session(server_impl& server, tcp::socket&& socket)
      : session_base(server), stream_(std::move(socket)) {
    beast::error_code ec;
    const auto endpoint = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
    if (!ec) remote_ = endpoint.address().to_string();
  }

  void run() { read(); }

  void shutdown() override {
    stopping_ = true;
    if (!busy_) {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
      stream_.cancel();
    }
  }

  void abort() override {
    beast::error_code ignored;
    stream_.socket().close(ignored);
  }

  // Writes the answer to the request being handled; called once per request.
  void answer(http_response r) {
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(11);
    res->result(static_cast<unsigned>(r.status));
    apply_headers(*res, r, server_->options().default_headers);
    const bool keep_alive = request_.keep_alive && !r.close && !stopping_ && !server_->stopping();
    res->keep_alive(keep_alive);
    if (request_.method == "HEAD") {
      res->content_length(r.body.size());
    } else {
      res->body() = std::move(r.body);
      res->prepare_payload();
    }
    write(std::move(res));
  }

 private:
  std::shared_ptr<http_session> self() {
    return std::static_pointer_cast<http_session>(shared_from_this());
  }

  void read() {
    if (stopping_) return;
    parser_.emplace();
    parser_->body_limit(server_->options().body_limit);
    parser_->header_limit(static_cast<std::uint32_t>(server_->options().header_limit));
    stream_.expires_after(server_->options().idle_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&http_session::on_read, self()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream || quiet(ec)) {
      close();
      return;
    }
    request_ = http_request{};
    request_.remote_address = remote_;
    request_.keep_alive = false;
    if (ec == http::error::body_limit) {
      request_.method = "POST";
      answer(http_response::error(
          413, "payload_too_large",
          "the body is larger than " + std::to_string(server_->options().body_limit) + " bytes"));
      return;
    }
    if (ec == http::error::header_limit) {
      answer(http_response::error(431, "headers_too_large", "the request headers are too large"));
      return;
    }
    if (ec) {
      answer(http_response::error(400, "bad_request", "malformed HTTP request: " + ec.message()));
      return;
    }
    auto req = parser_->release();
    request_.method = std::string(req.method_string());
    request_.target = std::string(req.target());
    const std::size_t q = request_.target.find('?');
    request_.path = request_.target.substr(0, q);
    if (q != std::string::npos) request_.query = request_.target.substr(q + 1);
    for (const auto& field : req) {
      std::string name(field.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      request_.headers.emplace_back(std::move(name), std::string(field.value()));
    }
    request_.keep_alive = req.keep_alive();
    request_.remote_address = client_address(request_, server_->options().trusted_proxies);
    busy_ = true;

    if (websocket::is_upgrade(req)) {
      upgrade(std::move(req));
      return;
    }
    request_.body = std::move(req.body());
    server_->router().dispatch(request_, responder());
  }

  // A respond_fn for the current request. If every copy is dropped without answering, the
  // client still gets a 500 instead of silence.
  respond_fn responder() {
    struct once {
      std::shared_ptr<http_session> session;
      bool answered = false;
      ~once() {
        if (answered) return;
        asio::post(session->stream_.get_executor(), [s = session] {
          spdlog::error("{} {}: the handler never answered", s->request_.method, s->request_.path);
          s->answer(http_response::error(500, "internal", "the request was not answered"));
        });
      }
    };
    auto state = std::make_shared<once>();
    state->session = self();
    return [state](http_response r) {
      if (state->answered) return;
      state->answered = true;
      state->session->answer(std::move(r));
    };
  }

  void upgrade(http::request<http::string_body> req) {
    const auto match = server_->router().find_websocket(request_.path);
    if (!match.route || server_->stopping()) {
      answer(http_response::error(404, "not_found", "no WebSocket at " + request_.path));
      return;
    }
    auto pending = std::make_shared<http::request<http::string_body>>(std::move(req));
    (*match.route)(request_, [self = self(), pending, limits = match.limits](websocket_decision d) {
      if (!d.handler) {
        d.refusal.close = true;
        self->answer(std::move(d.refusal));
        return;
      }
      self->busy_ = false;
      auto ws = std::make_shared<websocket_session>(
          *self->server_, std::move(self->stream_), std::move(d.handler), limits,
          self->request_.path, self->request_.remote_address);
      ws->run(std::move(*pending));
    });
  }

  void write(std::shared_ptr<http::response<http::string_body>> res) {
    stream_.expires_after(server_->options().request_timeout);
    http::async_write(stream_, *res, [self = self(), res](beast::error_code ec, std::size_t) {
      self->busy_ = false;
      if (ec || !res->keep_alive()) {
        self->close();
        return;
      }
      self->read();
    });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http_request request_;
  std::string remote_;
  bool busy_ = false;
  bool stopping_ = false;
};

core::status server_impl::listen() {
  const std::string where = options_.host + ":" + std::to_string(options_.port);
  beast::error_code ec;
  const auto address = asio::ip::make_address(options_.host, ec);
  if (ec) return core::error{"invalid", where + ": not an IP address"};
  const tcp::endpoint endpoint(address, options_.port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return core::error{"unavailable", where + ": " + ec.message()};
  port_ = acceptor_.local_endpoint().port();
  accept();
  return {};
}

void server_impl::accept() {
  acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || stopping_) return;
    if (ec) {
      // Out of file descriptors, most likely: wait instead of spinning.
      spdlog::warn("http: accept failed: {}", ec.message());
      retry_.expires_after(std::chrono::milliseconds(100));
      retry_.async_wait([this](beast::error_code wait_ec) {
        if (!wait_ec) accept();
      });
      return;
    }
    socket.set_option(tcp::no_delay(true), ec);
    std::make_shared<http_session>(*this, std::move(socket))->run();
    accept();
  });
}

void server_impl::shutdown(std::function<void()> done) {
  stopping_ = true;
  beast::error_code ignored;
  acceptor_.close(ignored);
  retry_.cancel();
  const std::vector<session_base*> live(sessions_.begin(), sessions_.end());
  for (auto* s : live) s->shutdown();
  wait_for_sessions(std::chrono::steady_clock::now() + options_.shutdown_grace, std::move(done));
}

void server_impl::wait_for_sessions(std::chrono::steady_clock::time_point abort_at,
                                    std::function<void()> done) {
  if (sessions_.empty()) {
    done();
    return;
  }
  if (std::chrono::steady_clock::now() >= abort_at) {
    spdlog::info("http: closing {} connection(s) that did not finish in time", sessions_.size());
    const std::vector<session_base*> late(sessions_.begin(), sessions_.end());
    for (auto* s : late) s->abort();
    abort_at = std::chrono::steady_clock::time_point::max();
  }
  drain_.expires_after(std::chrono::milliseconds(20));
  drain_.async_wait([this, abort_at, done = std::move(done)](beast::error_code ec) mutable {
    if (!ec) wait_for_sessions(abort_at, std::move(done));
  });
}

}  // namespace

std::unique_ptr<http_server> http_server::create(boost::asio::io_context& io,
                                                 http_server_options options,
                                                 const http_router& router) {
  return std::make_unique<server_impl>(io, std::move(options), router);
}

}  // namespace askdesk::net
