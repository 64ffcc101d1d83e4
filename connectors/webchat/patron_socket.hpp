// One patron's socket on /ws/patron (docs/protocol.md): the hello and the session token,
// the welcome with the transcript and the team's hours, messages, typing, the profile, the
// offline form and "email me this transcript". Internal to the web chat connector
// (webchat.cpp), which owns the sockets' registry and pushes events to them through
// patron_socket::send. The class is defined in three files, one per idea: the socket protocol
// (patron_socket.cpp), the offline form (offline_form.cpp) and the transcript by email
// (transcript.cpp).
//
// Single-threaded: everything runs on the daemon's I/O thread.
#pragma once

#include <chrono>
#include <cstddef>
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

// One serialized frame, shared by every socket it goes to.
using frame = std::shared_ptr<const std::string>;

frame make_frame(const json::writer& w);
// {"type":"error",...}: why the patron's frame was refused (docs/protocol.md's error codes).
frame error_frame(std::string_view code, std::string_view message, std::string_view client_id = {});
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
  virtual connector_context& context() const = 0;
  // The configured team `wanted` names, else the default team.
  virtual const std::string& team_for(std::string_view wanted) const = 0;
  // The socket is ready (welcomed) / closed: events for its address reach it in between.
  virtual void attach(patron_socket* s) = 0;
  virtual void detach(patron_socket* s) = 0;
  // A delivery's outcome, for the connector's health.
  virtual void record(const core::result<delivery>& r) = 0;
};

// One patron socket. Owned by its connection; the connector keeps a plain pointer to it
// from the welcome to close.
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
  static constexpr std::size_t max_name_chars = 80;

  // patron_socket.cpp: the session and the chat.
  void hello(const rapidjson::Value& frame);
  // A fresh session, for a widget without a valid token.
  void new_session();
  // Saves the session of `token` (creating it, or refreshing its expiry), then welcomes.
  void open_session(const std::string& token, state_record record, const std::string& after);
  void welcome(const std::string& token, const std::string& after);
  void send_welcome(const std::string& token, bool staff_online, const std::string& transcript);
  void message(const rapidjson::Value& frame);
  void typing();
  void profile(const rapidjson::Value& frame);
  void send_hours();
  // Storage did not answer while setting up the session: say so and close (the widget
  // retries).
  void storage_unavailable();
  // The frame's client_id when it is valid; otherwise tells the patron and returns nullopt.
  std::optional<std::string> client_id_of(const rapidjson::Value& frame);
  // The patron's text in `frame` when it may be sent now (not empty, not too long, within
  // the rate limit); otherwise tells the patron why and returns nullopt.
  std::optional<std::string> accept_text(const rapidjson::Value& frame, const std::string& id);
  // Stores `m` in this chat, or as a message of the channel `elsewhere` ("email", "sms") when
  // given, and answers the patron with `ok` once it is stored.
  void deliver(core::inbound_message m, const std::string& client_id, frame ok,
               std::string_view elsewhere = {});

  // offline_form.cpp
  void offline(const rapidjson::Value& frame);
  // An offline form's question (its sender_address what the visitor typed): answered on the
  // channel `elsewhere`, or in this chat when empty.
  void deliver_offline(core::inbound_message m, const std::string& elsewhere,
                       const std::string& client_id);

  // transcript.cpp
  void email_transcript(const rapidjson::Value& frame);
  void forget();
  // Whether the widget may offer "email me this transcript" (the welcome says so).
  bool transcripts_by_email() const;

  patron_socket_owner& owner_;
  net::websocket_peer* peer_ = nullptr;
  net::timer hello_timer_;
  bool greeted_ = false;  // hello received (the session may still be loading)
  bool ready_ = false;    // welcome sent
  std::string address_;   // "w:<random>", the patron on this channel and the thread
  std::string session_;   // the session record's name (a digest of its token)
  std::string team_;
  std::string name_;
  std::string email_;
  std::string language_;  // BCP 47, from the page (hello's "lang"); "" when unknown
  std::deque<std::chrono::steady_clock::time_point> recent_;  // sends within the last minute
  std::chrono::steady_clock::time_point last_typing_{};
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace askdesk::connectors
