// askdesk_ws_echo PORT: the chat benchmark's baseline, the least a WebSocket server can do.
// One thread, like askdesk: accepts on 127.0.0.1:PORT and sends every text frame back.
#include <cstdio>
#include <cstdlib>
#include <memory>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

class session : public std::enable_shared_from_this<session> {
 public:
  explicit session(tcp::socket socket) : ws_(std::move(socket)) {}

  void start() {
    ws_.async_accept([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->read();
    });
  }

 private:
  void read() {
    ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return;
      self->ws_.text(true);
      self->ws_.async_write(self->buffer_.data(), [self](beast::error_code ec, std::size_t) {
        if (ec) return;
        self->buffer_.clear();
        self->read();
      });
    });
  }

  websocket::stream<tcp::socket> ws_;
  beast::flat_buffer buffer_;
};

void accept(tcp::acceptor& acceptor) {
  acceptor.async_accept([&acceptor](beast::error_code ec, tcp::socket socket) {
    if (!ec) {
      socket.set_option(tcp::no_delay(true), ec);
      std::make_shared<session>(std::move(socket))->start();
    }
    accept(acceptor);
  });
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: askdesk_ws_echo PORT\n");
    return 2;
  }
  asio::io_context io;
  tcp::acceptor acceptor(io, {asio::ip::make_address_v4("127.0.0.1"),
                              static_cast<unsigned short>(std::atoi(argv[1]))});
  accept(acceptor);
  io.run();
}
