// /ws/staff: the dashboard's live feed (docs/protocol.md). After authenticating the session
// and the Origin, the socket sends a hello, then, if the dashboard gave ?after=<event id>,
// every event it missed, then live events: in id order, each once, filtered to the teams the
// user may see. While it is open the user counts as online for their teams (presence), and
// the dashboard can say the user is typing.
//
// Single-threaded: use on the io_context's thread.
#pragma once

#include "daemon/core/time.hpp"
#include "daemon/net/auth.hpp"
#include "daemon/net/http.hpp"
#include "daemon/store/event_feed.hpp"
#include "daemon/store/redis_connection.hpp"
#include "daemon/store/scripts.hpp"

namespace boost::asio {
class io_context;
}

namespace askdesk::net {

struct staff_socket_parts {
  boost::asio::io_context& io;
  store::redis_connection& redis;
  const store::script_set& scripts;
  store::event_feed& events;
  auth_service& auth;
  const core::clock& clock;
};

// Adds the /ws/staff route.
void add_staff_socket(http_router& router, staff_socket_parts parts);

// The dashboard frame for an event, serialized once per event.
std::shared_ptr<const std::string> staff_frame(const store::event& e);

}  // namespace askdesk::net
