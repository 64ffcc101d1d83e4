// One patron's socket on /ws/patron (docs/protocol.md): the hello and the session token,
// the welcome with the transcript and the team's hours, messages, typing, the profile and
// the offline form. Internal to the web chat connector (webchat.cpp), which owns the
// sockets' registry and pushes events to them through patron_socket::send.
//
// Single-threaded: everything runs on the daemon's I/O thread.
#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <rapidjson/document.h>

#include "connectors/connector.hpp"
#include "daemon/json/document.hpp"
#include "daemon/json/writer.hpp"
#include "daemon/net/http.hpp"
#include "daemon/net/timer.hpp"

namespace askdesk::connectors {

struct webchat_settings final : connector_settings {
  std::int64_t max_message_chars = 2000;
  std::int64_t messages_per_minute = 20;
  std::int64_t session_days = 30;
  std::int64_t transcripts_per_hour = 60;    // "Email me this transcript", for the whole library
  std::int64_t offline_forms_per_hour = 60;  // offline forms answered by SMS or email, in all
};

using frame = std::shared_ptr<const std::string>;

frame make_frame(const json::writer& w);
using json::string_member;
// A message as the patron sees it (docs/protocol.md): no notes, no staff user names.
void write_patron_message(json::writer& w, const rapidjson::Value& m, std::string_view address);

class patron_socket;

// What a patron socket needs from its connector.
class patron_socket_owner {
 public:
  virtual ~patron_socket_owner() = default;
  virtual const std::string& id() const = 0;
  virtual const webchat_settings& settings() const = 0;
  virtual const connector_services& services() const = 0;
  // The configured team `wanted` names, else the default team.
  virtual const std::string& team_for(std::string_view wanted) const = 0;
  // The Redis key of a patron session token.
  virtual std::string session_key(const std::string& token) const = 0;
  // The socket is ready (welcomed) / closed: events for its address reach it in between.
  virtual void attach(patron_socket* s) = 0;
  virtual void detach(patron_socket* s) = 0;
  // A delivery's outcome, for the connector's health.
  virtual void record(const core::result<delivery>& r) = 0;
};

// One patron socket. Owned by its connection; the connector keeps a plain pointer to it
// from hello to close.
class patron_socket final : public net::websocket_handler,
                            public std::enable_shared_from_this<patron_socket> {
 public:
  patron_socket(patron_socket_owner& owner, boost::asio::io_context& io)
      : owner_(owner), hello_timer_(io) {}

  void on_open(net::websocket_peer& peer) override;
  void on_message(std::string_view text) override;
  void on_close() override;

  void send(frame f) {
    if (peer_) peer_->send(std::move(f));
  }
  const std::string& address() const { return address_; }
  const std::string& team() const { return team_; }
  bool online = false;  // what this patron was last told (set at the welcome)

 private:
  void hello(const rapidjson::Value& frame);
  void welcome(const std::string& token, const std::string& after);
  void message(const rapidjson::Value& frame);
  void offline(const rapidjson::Value& frame);
  void deliver_offline(core::inbound_message m, const connector* peer,
                       const std::string& client_id);
  void email_transcript(const rapidjson::Value& frame);
  // The daemon's connector for `channel` ("email", "sms"), if it has one.
  const connector* peer_for(std::string_view channel) const;
  // The email connector, if there is one and transcripts are on.
  const connector* transcript_peer() const;
  void send_hours();
  // Redis did not answer while setting up the session: say so and close (the widget retries).
  void storage_unavailable();
  // The patron's text in `frame` when it may be sent now (not empty, not too long, within
  // the rate limit); otherwise tells the patron why and returns nullopt.
  std::optional<std::string> accept_text(const rapidjson::Value& frame, const std::string& id);
  // Delivers `m` to the hub and answers the patron with `ok` once it is stored.
  void deliver(core::inbound_message m, const std::string& client_id, frame ok);

  patron_socket_owner& owner_;
  net::websocket_peer* peer_ = nullptr;
  net::timer hello_timer_;
  bool greeted_ = false;  // hello received (the session may still be loading)
  bool ready_ = false;    // welcome sent
  std::string address_;   // "w:<random>", the patron on this channel and the thread
  std::string team_;
  std::string name_;
  std::string email_;
  std::string language_;  // BCP 47, from the page (hello's "lang"); "" when unknown
  std::deque<std::chrono::steady_clock::time_point> recent_;  // sends within the last minute
  std::chrono::steady_clock::time_point last_typing_{};
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace askdesk::connectors
