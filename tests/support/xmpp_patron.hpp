// A patron's XMPP client for tests: tests/support/xmpp_patron.py (slixmpp, run by
// /usr/bin/python3) as a child process, driven over a socket one JSON line at a time. Commands
// wait until the client has done them (a message is handed to the server, a login finished);
// what arrives (messages, chat states, receipts, errors, presence) is kept as events that a
// test waits for by what they say, never by sleeping. Its log (every stanza) is printed when
// the test that owns it failed. Use it from one thread, which must outlive it (see
// child_process); events are collected on a thread of its own.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "daemon/core/result.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace askdesk::json {
class writer;
}

namespace askdesk::testing {

class prosody_server;

// How to reach the server and who to be.
struct xmpp_login {
  enum class tls_mode {
    starttls,  // plain connection, then STARTTLS, which the client insists on
    direct,    // TLS from the first byte (XEP-0368)
    none,      // never TLS (the server must allow it)
  };
  std::string jid;  // user@domain; the server picks the resource
  std::string password;
  std::string host = "127.0.0.1";
  int port = 0;
  tls_mode tls = tls_mode::starttls;
  // The CA that signed the server's certificate, checked for the JID's domain; empty: the
  // system's CAs.
  std::string ca_file;
  // false: any certificate is accepted.
  bool verify_certificate = true;
  // Answer every receipt request (XEP-0184) at once, as most clients do.
  bool auto_receipts = true;
};

// user@server.domain() on `server`, verifying its certificate: on its c2s port with
// STARTTLS, or on its direct TLS port.
xmpp_login login_for(const prosody_server& server, const std::string& user,
                     const std::string& password,
                     xmpp_login::tls_mode tls = xmpp_login::tls_mode::starttls);

// Something the client received, or the outcome of a command. Fields that do not apply to a
// type are empty.
struct xmpp_event {
  // message, chat_state, receipt, message_error, presence, archived_message,
  // session_started, connect_failed, disconnected, stream_error; done, command_failed.
  std::string type;
  std::string from;  // a full JID as the server stamped it
  std::string to;
  // The message's id; for a receipt, the id of the message acknowledged.
  std::string id;
  std::string body;
  std::string message_type;  // message: chat, normal, ...
  bool receipt_requested = false;
  // chat_state: the state; message: the chat state it carried, if any.
  std::string chat_state;
  std::string delay;          // message: the XEP-0203 stamp of a replayed message
  std::string presence_type;  // presence: available, unavailable, subscribe, subscribed, ...
  std::string show;
  std::string status;
  std::string error_type;  // message_error: cancel, modify, ...
  std::string condition;   // message_error, stream_error: e.g. service-unavailable
  std::string text;
  std::string archive_id;  // archived_message: the archive's id for it
  std::string stamp;       // archived_message: when the server archived it
  std::string reason;      // connect_failed, disconnected, command_failed
  // done for disco_info: the features; session_started: the stream features by namespace.
  std::vector<std::string> features;
  std::string command;   // done, command_failed: which command
  std::int64_t seq = 0;  // done, command_failed: which command
  std::string line;      // the event as the client printed it
};

// What to put in a chat message besides its body.
struct xmpp_message_options {
  std::string id;  // empty: the client makes one
  bool request_receipt = false;
  std::string chat_state;  // e.g. "active"; empty: none
  std::string type = "chat";
};

class xmpp_patron {
 public:
  // Starts the client, not yet connected; `name` names it in errors and its log. Throws
  // std::runtime_error when python cannot start.
  explicit xmpp_patron(std::string name = "patron");
  ~xmpp_patron();
  xmpp_patron(const xmpp_patron&) = delete;
  xmpp_patron& operator=(const xmpp_patron&) = delete;

  // Connects and logs in (after dropping any previous connection): ok once the session
  // started, else why not (refused, certificate not trusted, authentication failed). Also the
  // way back after the server went away: nothing reconnects by itself.
  core::status connect(const xmpp_login& login,
                       std::chrono::milliseconds wait = std::chrono::seconds(20));
  // Closes the stream and waits until the connection is gone.
  void disconnect();
  // The full JID the server bound at the last connect().
  const std::string& jid() const { return jid_; }
  // The stream features the server offered after login at the last connect(), by namespace
  // ("urn:xmpp:sm:3" for stream management).
  const std::vector<std::string>& stream_features() const { return stream_features_; }

  // Each of these returns once the client handed the stanza to the server, with the id of
  // the message it sent. They throw std::runtime_error when the client cannot (not
  // connected).
  std::string send_message(const std::string& to, const std::string& body,
                           const xmpp_message_options& options = {});
  // A message with a chat state (XEP-0085) and no body: "composing", "paused", ...
  std::string send_chat_state(const std::string& to, const std::string& state);
  // A message with only <received id='acknowledged_id'/> (XEP-0184).
  std::string send_receipt(const std::string& to, const std::string& acknowledged_id);
  // <message type='error' id='id'> with <error type='error_type'><condition/>; Prosody drops
  // one sent to a bare JID, so send it to the full JID.
  std::string send_error(const std::string& to, const std::string& id,
                         const std::string& condition = "service-unavailable",
                         const std::string& error_type = "cancel", const std::string& text = "");
  // `count` chat messages back to back: bodies body_prefix + "1".."count", ids id_prefix + the
  // same number.
  void send_burst(const std::string& to, int count, const std::string& body_prefix = "message ",
                  const std::string& id_prefix = "burst-", bool request_receipt = false);
  // Presence: a subscription request, its acceptance (and a request back), availability.
  void subscribe(const std::string& to);
  void accept_subscription(const std::string& from, bool subscribe_back = false);
  void send_presence(const std::string& show = "", const std::string& status = "");

  // Asks `jid` (empty: the server) what it supports (XEP-0030); the feature namespaces.
  // The account's own bare JID answers for its archive ("urn:xmpp:mam:2").
  std::vector<std::string> disco_features(const std::string& jid = "");
  // Pings `jid` (empty: the server) and waits for the answer (XEP-0199); throws without one.
  void ping(const std::string& jid = "");
  // The account's archive (XEP-0313), oldest first, all pages; only the conversation with
  // `with` when given. Each an archived_message event.
  std::vector<xmpp_event> archive(const std::string& with = "");

  // Every event so far, in order.
  std::vector<xmpp_event> events() const;
  // The first event so far, or to come within `wait`, for which `match` is true.
  std::optional<xmpp_event> wait_for(
      const std::function<bool(const xmpp_event&)>& match,
      std::chrono::milliseconds wait = std::chrono::seconds(10)) const;
  // How many events so far match.
  std::size_t count(const std::function<bool(const xmpp_event&)>& match) const;
  // True once `n` events match; false when `wait` passed first.
  bool wait_for_count(const std::function<bool(const xmpp_event&)>& match, std::size_t n,
                      std::chrono::milliseconds wait = std::chrono::seconds(10)) const;
  // Shorthands: a message with this body; a receipt for this id; a chat state (with or
  // without a body) from anyone.
  std::optional<xmpp_event> wait_for_message(
      const std::string& body, std::chrono::milliseconds wait = std::chrono::seconds(10)) const;
  std::optional<xmpp_event> wait_for_receipt(
      const std::string& id, std::chrono::milliseconds wait = std::chrono::seconds(10)) const;
  std::optional<xmpp_event> wait_for_chat_state(
      const std::string& state, std::chrono::milliseconds wait = std::chrono::seconds(10)) const;

  // What the client logged (slixmpp at debug level: every stanza in and out).
  std::string log() const { return process_->log(); }

 private:
  // Sends one command (`fields` adds its arguments) and waits for its answer: the "done"
  // event, or a std::runtime_error naming the command and why it failed.
  xmpp_event run(const std::string& command, const std::function<void(json::writer&)>& fields,
                 std::chrono::milliseconds wait = std::chrono::seconds(20));
  void read_events();

  const std::string name_;
  temp_dir dir_;
  int socket_ = -1;  // our end of the socket pair; the client has the other
  std::unique_ptr<child_process> process_;
  std::int64_t next_seq_ = 1;
  std::string jid_;
  std::vector<std::string> stream_features_;

  mutable std::mutex mutex_;
  mutable std::condition_variable arrived_;
  std::vector<xmpp_event> events_;  // GUARDED_BY(mutex_)
  bool ended_ = false;              // GUARDED_BY(mutex_): the client closed its end
  std::thread reader_;              // runs read_events()
};

}  // namespace askdesk::testing
