// One XMPP client connection on libstrophe, on a thread of its own: libstrophe runs its own
// select() loop and blocks while it resolves, connects and shakes hands, so it never runs on
// the daemon's I/O thread. The two threads meet in two places only: stanzas to send go into
// a queue under a mutex, which the session thread writes between turns of its loop; what the
// session reads (stanza_events, read into plain values there) and its connection changes
// are posted to the io_context, where the connector handles them.
//
// While started, the session keeps itself connected: after a failure or a drop it connects
// again after a backoff with jitter (1 s doubling to 60 s). A socket past FD_SETSIZE is
// refused (select cannot watch it): the connection fails with that reason instead of
// corrupting memory. Stream management (XEP-0198) is on when the server offers it.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "connectors/xmpp/stanzas.hpp"

namespace boost::asio {
class io_context;
}

namespace askdesk::connectors::xmpp {

enum class tls_mode { required, direct, none };

struct session_options {
  std::string jid;  // ask@library.example
  std::string password;
  std::string host;  // where to connect; the JID's domain by default
  int port = 5222;
  tls_mode tls = tls_mode::required;
  std::string ca_file;  // PEM; "" for the system's CAs
};

class session {
 public:
  struct handlers {
    std::function<void()> connected;                    // signed in, stream open
    std::function<void(std::string why)> disconnected;  // lost or failed; it tries again
    std::function<void(event e)> stanza;                // read on the session thread
  };

  // Handlers run on `io`'s thread.
  session(boost::asio::io_context& io, session_options options, handlers h);
  // Stops the thread; nothing is called after.
  ~session();
  session(const session&) = delete;
  session& operator=(const session&) = delete;

  void start();  // connects, and keeps connecting
  void stop();   // disconnects and stays so until start()

  // Writes `stanza` on the connection; `done(true)` once written, `done(false)` when there was
  // no connection to write it on (nothing was sent). `done` may be empty.
  void send(std::string stanza, std::function<void(bool written)> done = {});
  bool connected() const;

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace askdesk::connectors::xmpp
