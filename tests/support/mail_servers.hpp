// Real mail servers for the email tests, each on a free loopback port in its own folder and
// stopped when destroyed:
// - Dovecot (IMAP) with one user "ask" (password "secret") and a Maildir. As root, Dovecot
//   runs its login and internal processes as its own users (dovenull, dovecot) and will not
//   serve mail owned by root: the mail belongs to `nobody`. As another user, all is theirs.
// - an SMTP sink: aiosmtpd (Debian's python3-aiosmtpd, always through /usr/bin/python3)
//   with tests/support/smtp_sink.py, keeping each message it accepts (recipients "reject*"
//   get 550, "flaky*" 451 once).
// Either may speak TLS with a test_certificate: Dovecot offers STARTTLS and listens for
// imaps:// too; the sink requires STARTTLS or speaks smtps://.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace askdesk::testing {

// A self-signed certificate for 127.0.0.1 and localhost (made by the openssl command), which
// a client trusts by taking cert() as its CA file.
class test_certificate {
 public:
  test_certificate();
  std::string cert() const { return dir_.file("cert.pem"); }
  std::string key() const { return dir_.file("key.pem"); }

 private:
  temp_dir dir_;
};

class dovecot_server {
 public:
  // With `tls`: STARTTLS offered on url(), and implicit TLS on imaps_url().
  explicit dovecot_server(const test_certificate* tls = nullptr);
  ~dovecot_server();

  // imap://127.0.0.1:<port>/<mailbox>
  std::string url(const std::string& mailbox = "INBOX") const;
  // imaps://127.0.0.1:<port>/<mailbox> (only with TLS)
  std::string imaps_url(const std::string& mailbox = "INBOX") const;
  // What Dovecot logged so far (each login: "Login: user=<ask>, method=..., TLS, ...").
  std::string log() const { return process_->log(); }
  static constexpr const char* user = "ask";
  static constexpr const char* password = "secret";

  // Delivers `raw` (a whole message) into INBOX, new and unseen; throws if it cannot. Not
  // `readable`: a file Dovecot lists but cannot open (a damaged message; only when root,
  // as the mail then belongs to another user).
  void append(const std::string& raw, bool readable = true);
  // An IMAP command's untagged answer, e.g. "UID SEARCH UNSEEN" in INBOX.
  std::string command(const std::string& command, const std::string& mailbox = "INBOX");
  // The mailbox's UIDVALIDITY.
  std::uint64_t uidvalidity(const std::string& mailbox = "INBOX");
  // The UIDs a UID SEARCH finds ("UNSEEN", "ALL").
  std::vector<std::uint64_t> search(const std::string& criteria,
                                    const std::string& mailbox = "INBOX");

 private:
  std::string maildir() const { return dir_.file("home") + "/" + user + "/Maildir"; }

  temp_dir dir_;
  int port_;
  int imaps_port_ = 0;
  unsigned mail_uid_ = 0;
  unsigned mail_gid_ = 0;
  unsigned delivered_ = 0;
  std::unique_ptr<child_process> process_;
};

class smtp_sink {
 public:
  // `refuse_login`: offers AUTH and refuses every login.
  explicit smtp_sink(bool refuse_login = false);
  enum class tls_mode { starttls, implicit };
  // starttls: smtp:// that takes no mail before STARTTLS; implicit: smtps://.
  smtp_sink(const test_certificate& tls, tls_mode mode);
  ~smtp_sink();

  std::string url() const {
    return (implicit_tls_ ? "smtps://127.0.0.1:" : "smtp://127.0.0.1:") + std::to_string(port_);
  }
  // Every message accepted so far, in order, each starting "X-Envelope-From: <...>" and
  // "X-Envelope-TLS: <version, or none>".
  std::vector<std::string> messages() const;
  // Waits until at least `n` arrived; false after `wait`.
  bool wait_for(std::size_t n, std::chrono::milliseconds wait = std::chrono::seconds(10)) const;

 private:
  void start(std::vector<std::string> options, bool refuse_login);

  temp_dir dir_;
  int port_;
  bool implicit_tls_ = false;
  std::unique_ptr<child_process> process_;
};

}  // namespace askdesk::testing
