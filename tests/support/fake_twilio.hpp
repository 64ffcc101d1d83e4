// A stand-in for Twilio's REST API on loopback, for integration tests (a hosted API cannot
// run here). It answers POST /2010-04-01/Accounts/<sid>/Messages.json with the JSON body
// Twilio documents for a new message (201, status "queued"), or with the failures a test
// queues (a 400 with Twilio's error code, 429, 500), and GET .../Messages.json with pages of
// the inbound messages a test adds. It records every request. Runs askdesk's own HTTP server
// on its own thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "daemon/net/http.hpp"

namespace askdesk::testing {

class fake_twilio {
 public:
  struct request {
    std::string method;
    std::string path;
    std::string query;
    std::string authorization;
    net::form_fields form;

    std::string field(std::string_view name) const;
  };

  fake_twilio();
  ~fake_twilio();

  std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // The next answers to message creation, in order; afterwards, success.
  void fail_next(int status, int code, std::string message);
  // Message creations answer only after `delay` from now on (a slow provider).
  void delay_answers(std::chrono::milliseconds delay);

  // While held, List Messages answers are made when asked (from the texts added by then) but
  // sent only on release_lists(): a poller waits mid-round, as on a slow network.
  void hold_lists(bool hold);
  void release_lists();
  std::size_t lists_held() const;

  // A text a patron sent to `to`, for List Messages (newest added is listed first).
  void add_inbound(std::string sid, std::string from, std::string to, std::string body,
                   std::string date_sent = "Mon, 23 Nov 2026 10:00:00 +0000");

  std::vector<request> requests() const;
  // Waits until at least `n` requests arrived; false after `wait`.
  bool wait_for(std::size_t n, std::chrono::milliseconds wait = std::chrono::seconds(10)) const;

 private:
  struct state;
  std::shared_ptr<state> state_;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace askdesk::testing
