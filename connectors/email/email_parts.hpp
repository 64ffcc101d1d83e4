// The parts of the email connector (email.hpp), private to connectors/email/: its settings
// (settings.cpp), the SMTP sender that sends replies and reads their bounces (smtp_sender.cpp)
// and the IMAP poller that brings mail in (imap_poller.cpp); email.cpp ties them into one
// connector. Each part borrows the settings and the connector_context for the connector's whole
// life and runs on the daemon's I/O thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "connectors/connector.hpp"
#include "connectors/email/mime.hpp"
#include "connectors/poller.hpp"
#include "daemon/json/reader.hpp"
#include "daemon/net/curl_client.hpp"

namespace askdesk::connectors::email {

// References kept on our replies, and in the facts of a patron's mail that a reply reads.
inline constexpr std::size_t reply_references = 20;
// A patron with no address to answer is "unknown-sender.<hash>@invalid" (RFC 2606: never a
// real domain); the sender refuses to write to it.
inline constexpr std::string_view no_sender_suffix = "@invalid";

struct mail_url {
  std::string scheme;     // imap, imaps, smtp, smtps
  std::string authority;  // host[:port]
  std::string host;
  std::string path;     // the mailbox, URL-encoded ("Ask%20Desk"); "" for SMTP
  std::string mailbox;  // the same decoded, for IMAP commands ("Ask Desk")
};

// The connector's config block (README.md), read and checked by parse_settings().
struct email_settings final : connector_settings {
  mail_url imap;
  mail_url smtp;
  std::string smtp_url;
  std::string username;
  std::string password;
  std::string address;
  std::string from_name;
  std::string reply_to;
  std::string subject = "Your question to the library";
  std::string move_to;  // "" marks \Seen only
  std::chrono::seconds poll_every{30};
  std::size_t max_message_bytes = 40 * 1024 * 1024;
  std::chrono::milliseconds reopen_window = std::chrono::hours(24 * 30);
  bool insecure = false;
  std::string ca_file;  // the library's own CAs, instead of the system's; TLS on every host

  // Whether a plain imap:// or smtp:// URL must upgrade with STARTTLS: always with ca_file,
  // else unless the host is loopback or `insecure` is set.
  bool require_tls(const mail_url& u) const;
  // A request to `server` (imap or smtp) with the login and the TLS it must use; the caller
  // sets the URL, the command and the timeout.
  net::outgoing_request login_request(const mail_url& server) const;
};

// Reads the block (the factory's parse); problems go to the reader's list with their path.
std::unique_ptr<email_settings> parse_settings(json::object_reader& block);

// Notes a problem that ends no round and no send: logged, and shown by health().
void note_problem(connector_health& health, core::timestamp now, std::string_view connector,
                  std::string message);

// The later success and the later error of `a` and `b`; `a`'s backlog.
connector_health latest_of(connector_health a, const connector_health& b);

// What the mail `raw`, read as `mail`, becomes for the hub, received `now`: its Message-ID (or
// a hash of its bytes) as the dedup key and thread, In-Reply-To and References to thread it,
// the sender (or a patron of its own when it has no address to answer), the loop headers as
// facts, and the subject and references a reply needs (email.cpp).
core::inbound_message inbound_of(const std::string& raw, parsed_mail mail, core::timestamp now);

// Composes replies and submits them by SMTP (smtp_sender.cpp).
class smtp_sender {
 public:
  smtp_sender(const email_settings& settings, connector_context& context);

  // The connector's send(): `done` runs once, within the lane's send timeout.
  void send(const outbound_message& m, std::function<void(send_result)> done);
  // A delivery status notification read from the mailbox: when it says one of our replies
  // failed, that reply's delivery report is recorded, then `done`; `done({})` at once when
  // there is nothing to record.
  void record_bounce(const email::delivery_report& dsn, std::function<void(core::status)> done);
  connector_health health() const { return state_->health; }

 private:
  struct state {
    connector_context& context;
    std::string connector;
    connector_health health;
  };

  const email_settings& settings_;
  // Held by the sender alone; a submission in flight looks at it through a weak_ptr, so one
  // that completes after the connector is gone still calls `done` and touches nothing else.
  std::shared_ptr<state> state_;
};

// Polls the mailbox on a connectors::poller: one daemon per mailbox, the cursor moving only
// once a message is durable and the mailbox told (imap_poller.cpp).
class imap_poller {
 public:
  // Bounces read from the mailbox go to `sender`, whose mail they are about.
  imap_poller(const email_settings& settings, connector_context& context, smtp_sender& sender);
  imap_poller(const imap_poller&) = delete;
  imap_poller& operator=(const imap_poller&) = delete;

  void start() { poller_.start(); }
  void stop() { poller_.stop(); }
  connector_health health() const { return latest_of(poller_.health(), health_); }

 private:
  struct batch;
  using round_ptr = std::shared_ptr<poller::round>;
  using batch_ptr = std::shared_ptr<batch>;

  void poll(round_ptr round);
  void read_status(round_ptr round);
  void choose(round_ptr round, std::uint64_t validity, std::uint64_t uidnext);
  void ask(round_ptr round, net::outgoing_request r, std::string what,
           std::function<void(net::incoming_response)> then);
  void search(round_ptr round, std::string command,
              std::function<void(std::vector<std::uint64_t>)> then);
  void fresh_start(round_ptr round, std::uint64_t validity, std::uint64_t uidnext);
  void read_pending(round_ptr round, std::uint64_t validity, std::uint64_t last,
                    std::uint64_t floor);
  void start_batch(batch_ptr b, std::uint64_t last, std::vector<std::uint64_t> uids);
  void next_message(batch_ptr b);
  void fetch(batch_ptr b);
  void fetch_failed(batch_ptr b, std::uint64_t uid, std::string why);
  void gone_or_refused(batch_ptr b, std::uint64_t uid, std::string why);
  void fetch_headers_only(batch_ptr b, std::uint64_t uid, std::string why, bool last_try = false);
  void pass_over(batch_ptr b, std::uint64_t uid, std::string why);
  void take(batch_ptr b, std::uint64_t uid, const std::string& raw, parsed_mail mail);
  void finish_message(batch_ptr b, std::uint64_t uid);
  void mark_done(batch_ptr b, std::uint64_t uid, std::function<void()> then);
  void save_cursor(batch_ptr b, std::uint64_t uid, std::function<void()> then);
  void next_in_batch(batch_ptr b);

  std::string mailbox_url() const;
  std::string validity_url(std::uint64_t validity) const;
  std::string message_url(std::uint64_t validity, std::uint64_t uid) const;
  net::outgoing_request imap_request(std::string url, std::string command = "GET") const;
  void note_error(std::string message);

  const email_settings& settings_;
  connector_context& context_;
  smtp_sender& sender_;
  connector_health health_;  // problems that ended no round; the poller keeps the rest
  struct {
    std::uint64_t uid = 0;
    int count = 0;
  } fetch_failures_;  // consecutive failed fetches of one UID, across rounds
  poller poller_;     // last: destroyed first, so no round outlives the members above
};

}  // namespace askdesk::connectors::email
