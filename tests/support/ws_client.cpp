#include "tests/support/ws_client.hpp"

#include <deque>
#include <stdexcept>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

namespace askdesk::testing {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = boost::asio::ip::tcp;

// One read is always pending once the handshake is done; frames queue up in `frames` and
// read() runs the io_context until one is there or its time is up. A timed-out read() leaves
// the pending read in place (cancelling it would fail the WebSocket stream), so no frame is
// lost between calls.
// Plain or over TLS (a proxy in front): `with` hands the one in use to generic code.
struct ws_client::impl {
  boost::asio::io_context io;
  boost::asio::ssl::context tls_context{boost::asio::ssl::context::tls_client};
  std::unique_ptr<websocket::stream<tcp::socket>> plain;
  std::unique_ptr<websocket::stream<beast::ssl_stream<tcp::socket>>> tls;
  beast::flat_buffer buffer;
  std::deque<std::string> frames;
  int close_code = 0;
  bool closed = false;

  template <typename F>
  void with(F&& f) {
    if (plain) {
      f(*plain);
    } else {
      f(*tls);
    }
  }

  void read_next() {
    with([this](auto& ws) {
      ws.async_read(buffer, [this, &ws](beast::error_code ec, std::size_t) {
        if (ec) {
          closed = true;
          close_code = ws.reason().code;  // 0 unless the server sent a close frame
          return;
        }
        frames.push_back(beast::buffers_to_string(buffer.data()));
        buffer.clear();
        read_next();
      });
    });
  }

  // Runs the loop until `done()` or the deadline; false on timeout.
  template <typename Done>
  bool run_until(Done done, std::chrono::steady_clock::time_point deadline) {
    while (!done()) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) return false;
      io.restart();
      io.run_one_for(deadline - now);
    }
    return true;
  }
};

ws_client::ws_client(int port, const std::string& target, const std::string& origin,
                     const std::string& cookie, const std::string& ca_file)
    : impl_(std::make_unique<impl>()) {
  const tcp::endpoint endpoint(boost::asio::ip::make_address("127.0.0.1"),
                               static_cast<unsigned short>(port));
  if (ca_file.empty()) {
    impl_->plain = std::make_unique<websocket::stream<tcp::socket>>(impl_->io);
    impl_->plain->next_layer().connect(endpoint);
  } else {
    impl_->tls_context.load_verify_file(ca_file);
    impl_->tls_context.set_verify_mode(boost::asio::ssl::verify_peer);
    impl_->tls = std::make_unique<websocket::stream<beast::ssl_stream<tcp::socket>>>(
        impl_->io, impl_->tls_context);
    auto& stream = impl_->tls->next_layer();
    beast::get_lowest_layer(stream).connect(endpoint);
    stream.set_verify_callback(boost::asio::ssl::host_name_verification("127.0.0.1"));
    stream.handshake(boost::asio::ssl::stream_base::client);
  }
  websocket::response_type response;
  beast::error_code ec;
  impl_->with([&](auto& ws) {
    ws.set_option(websocket::stream_base::decorator([origin, cookie](websocket::request_type& req) {
      if (!origin.empty()) req.set(beast::http::field::origin, origin);
      if (!cookie.empty()) req.set(beast::http::field::cookie, cookie);
    }));
    ws.handshake(response, "127.0.0.1:" + std::to_string(port), target, ec);
    ws.text(true);
  });
  if (ec) {
    throw std::runtime_error("upgrade refused with " + std::to_string(response.result_int()) +
                             ": " + response.body());
  }
  impl_->read_next();
}

ws_client::~ws_client() {
  beast::error_code ec;
  impl_->with([&](auto& ws) { beast::get_lowest_layer(ws).close(ec); });
}

void ws_client::send(const std::string& text) {
  auto message = std::make_shared<std::string>(text);
  bool done = false;
  beast::error_code result;
  impl_->with([&](auto& ws) {
    ws.async_write(boost::asio::buffer(*message), [&, message](beast::error_code ec, std::size_t) {
      result = ec;
      done = true;
    });
  });
  if (!impl_->run_until([&] { return done; },
                        std::chrono::steady_clock::now() + std::chrono::seconds(5))) {
    throw std::runtime_error("websocket write timed out");
  }
  if (result) throw std::runtime_error("websocket write failed: " + result.message());
}

std::optional<std::string> ws_client::read(std::chrono::milliseconds timeout) {
  impl_->run_until([&] { return !impl_->frames.empty() || impl_->closed; },
                   std::chrono::steady_clock::now() + timeout);
  if (impl_->frames.empty()) return std::nullopt;
  std::string frame = std::move(impl_->frames.front());
  impl_->frames.pop_front();
  return frame;
}

std::optional<std::string> ws_client::read_until(const std::string& needle,
                                                 std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    auto frame = read(left);
    if (!frame) return std::nullopt;
    if (frame->find(needle) != std::string::npos) return frame;
  }
}

int ws_client::close_code() const { return impl_->close_code; }

bool ws_client::closed() const { return impl_->closed; }

void ws_client::close() {
  bool done = false;
  impl_->with([&](auto& ws) {
    ws.async_close(websocket::close_code::normal, [&](beast::error_code) { done = true; });
  });
  impl_->run_until([&] { return done && impl_->closed; },
                   std::chrono::steady_clock::now() + std::chrono::seconds(2));
}

int upgrade_status(int port, const std::string& target, const std::string& origin,
                   const std::string& cookie) {
  try {
    ws_client c(port, target, origin, cookie);
    return 101;
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    const auto at = what.find("with ");
    return at == std::string::npos ? 0 : std::atoi(what.c_str() + at + 5);
  }
}

}  // namespace askdesk::testing
