// A real Prosody (Debian's 0.12) for XMPP tests: its own folder with a throw-away config, a
// self-signed certificate for library.example, data and log; c2s with STARTTLS on a free
// loopback port and XEP-0368 direct TLS on another; MAM (XEP-0313, every message archived)
// and stream management (XEP-0198) built in. stop(), kill(), start() and restart() take it
// away and bring it back on the same ports with the same accounts and archive. Its log (at
// debug level: every stanza) is printed when the test that owns it failed. Not thread-safe:
// use it from the test's thread, which must outlive it (see child_process).
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace askdesk::testing {

struct prosody_options {
  // Clients must encrypt (STARTTLS, or the direct TLS port) before they log in. false:
  // plain-text c2s is accepted and so is SASL PLAIN without TLS, for `tls: none` tests.
  bool require_encryption = true;
  // Messages to an account with no connected client are kept and replayed at its next
  // login (mod_offline, on in Prosody by default). false: only the archive has them, as on a
  // library's server without offline storage.
  bool offline_messages = true;
  // How long a stream-management session may be resumed after its connection dropped
  // (smacks_hibernation_time; Prosody's default is 600).
  int smacks_hibernation_seconds = 600;
};

class prosody_server {
 public:
  // Starts it and waits until both client ports accept connections (about 0.1 s). Throws
  // std::runtime_error with Prosody's output when it cannot.
  explicit prosody_server(prosody_options options = {});
  ~prosody_server();
  prosody_server(const prosody_server&) = delete;
  prosody_server& operator=(const prosody_server&) = delete;

  std::string host() const { return "127.0.0.1"; }
  // c2s: plain stream, STARTTLS offered (required unless options.require_encryption is false).
  int port() const { return port_; }
  // c2s with TLS from the first byte (XEP-0368; Prosody's c2s_direct_tls_ports).
  int direct_tls_port() const { return direct_tls_port_; }
  // The only VirtualHost; the certificate is for this name, not for host().
  static constexpr const char* domain() { return "library.example"; }
  // user@domain()
  static std::string jid(const std::string& user) { return user + "@" + domain(); }
  // The server's self-signed certificate: a client that takes it as its CA file can verify
  // the server as domain().
  std::string ca_file() const { return dir_.file("certs/library.example.crt"); }

  // Creates the account user@domain() (prosodyctl register), or changes its password; works
  // whether the server runs or not. Throws std::runtime_error when prosodyctl fails.
  void add_user(const std::string& user, const std::string& password);

  // SIGTERM: Prosody closes every stream with <system-shutdown/> and ends, in about 1.7 s;
  // waits for that (SIGKILL after 10 s). A client that was just sent a stanza often sees only
  // the connection close, without the stream error.
  void stop();
  // SIGKILL: connections drop without a closing stream, as in a crash.
  void kill();
  // Starts it again after stop() or kill(), same ports, accounts and archive; waits until the
  // ports accept connections.
  void start();
  // stop() then start().
  void restart();
  bool running();
  pid_t pid() const { return process_ ? process_->pid() : -1; }

  std::string config_path() const { return dir_.file("prosody.cfg.lua"); }
  // Prosody's output over every start so far.
  std::string log_path() const { return dir_.file("prosody.log"); }
  std::string log() const { return read_file(log_path()); }

 private:
  void write_config() const;

  const prosody_options options_;
  temp_dir dir_;
  const int port_;
  const int direct_tls_port_;
  std::unique_ptr<child_process> process_;
};

}  // namespace askdesk::testing
