// A blocking WebSocket client for tests (Beast), with an Origin header and, for staff, a
// session cookie. Reads wait at most a given time, so a missing frame fails the test instead
// of hanging it.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace askdesk::testing {

class ws_client {
 public:
  // Throws std::runtime_error with the HTTP status when the upgrade is refused. With
  // `ca_file`, over TLS to a server whose certificate for 127.0.0.1 that file vouches for.
  ws_client(int port, const std::string& target, const std::string& origin,
            const std::string& cookie = "", const std::string& ca_file = "");
  ~ws_client();

  void send(const std::string& text);
  // The next text frame, or nullopt after `timeout` (or when the socket closed).
  std::optional<std::string> read(std::chrono::milliseconds timeout = std::chrono::seconds(3));
  // Frames until one contains `needle`; nullopt if none within `timeout`.
  std::optional<std::string> read_until(
      const std::string& needle, std::chrono::milliseconds timeout = std::chrono::seconds(3));
  // The close code once the server closed, after reading (0 if it did not).
  int close_code() const;
  // The socket ended (a close frame, or the connection dropped), after reading.
  bool closed() const;
  void close();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// The HTTP status a refused upgrade got, or 101.
int upgrade_status(int port, const std::string& target, const std::string& origin,
                   const std::string& cookie = "");

}  // namespace askdesk::testing
