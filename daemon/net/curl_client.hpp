// The asynchronous client every HTTP-based connector shares, also used for IMAP and SMTP
// (email): one libcurl multi handle driven by the daemon's io_context (curl's socket and timer
// callbacks become Asio waits), so hundreds of requests may be in flight without a thread each. A
// request completes exactly once, on the io_context's thread, with the status, headers and body, or
// with an error that names the URL (no status: the connection failed, timed out or was refused).
//
// Single-threaded: create, use and destroy it on the io_context's thread. Destroying it
// abandons what is in flight without calling those handlers.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/core/result.hpp"

namespace boost::asio {
class io_context;
}

namespace askdesk::net {

struct outgoing_request {
  // HTTP: the method. IMAP: a command sent as it is ("UID SEARCH UID 5:*"; its untagged
  // answers become the body), or "GET" to fetch what the URL names.
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string username;  // basic auth (HTTP) or LOGIN (IMAP, SMTP) when not empty
  std::string password;
  std::chrono::milliseconds timeout{15000};  // the whole exchange
  // Which URL schemes may be used, in CURLOPT_PROTOCOLS_STR's form ("http,https").
  std::string protocols = "http,https";
  // Refuse to go on without TLS: imap:// and smtp:// must upgrade with STARTTLS.
  bool require_tls = false;
  // TLS: trust the CA certificates in this PEM file instead of the system's ("": the system's).
  std::string ca_file;
  // SMTP: the body is the message, sent to `mail_to` with envelope sender `mail_from` ("" is
  // the null sender <>, for automatic replies and bounces).
  std::string mail_from;
  std::vector<std::string> mail_to;
  // A larger answer fails the request; 0 for the client's limit.
  std::size_t max_response_bytes = 0;
};

struct incoming_response {
  // HTTP status, or the mail server's last reply code (SMTP "250"; 0 for IMAP). A mail server
  // that refuses (SMTP 4xx, 5xx) gives a response with that code and its words in `body`.
  long status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names in lower case
  std::string body;

  // The first header named `name` (any case), or "".
  std::string_view header(std::string_view name) const;
};

struct curl_client_options {
  std::size_t max_response_bytes = 8 * 1024 * 1024;  // a larger body fails the request
  std::string user_agent = "askdesk";
};

class curl_client {
 public:
  curl_client(boost::asio::io_context& io, curl_client_options options = {});
  ~curl_client();
  curl_client(const curl_client&) = delete;
  curl_client& operator=(const curl_client&) = delete;

  // Starts `r`; `done` runs once, later, on the io_context's thread. Errors, each naming the
  // URL: "invalid" (a request curl refuses, e.g. a scheme not in `protocols`), "too_large"
  // (the answer passed the limit), "stale" (IMAP: the UIDVALIDITY in the URL changed),
  // "not_found" (IMAP: no message with that UID), "uncertain" (a request with a body failed
  // after some of it was sent: the server may have acted on it, so it must not be sent again
  // blindly), "unavailable" (anything else: the connection failed or timed out, an IMAP NO or
  // BAD).
  void send(outgoing_request r, std::function<void(core::result<incoming_response>)> done);

  std::size_t in_flight() const;

  // Drops every request in flight without calling its `done`, so the io_context can run out
  // of work: for a stopping daemon's long polls, once everything that must finish has. Send
  // nothing afterwards.
  void abandon_all();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace askdesk::net
