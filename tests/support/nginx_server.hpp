// A real nginx on loopback running the shipped deploy/nginx/askdesk.conf, with only what a
// test must change: its listening ports, the certificate (a self-signed one for 127.0.0.1)
// and the upstream daemons' ports. Everything else (TLS, WebSocket upgrade, forwarded headers,
// body limit, retries on the next daemon) is the file an admin installs.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace askdesk::testing {

class nginx_server {
 public:
  // Throws std::runtime_error when nginx does not start or the file no longer has the lines
  // the test changes.
  explicit nginx_server(const std::vector<int>& upstream_ports);
  ~nginx_server();

  int port() const { return tls_port_; }          // HTTPS
  int plain_port() const { return plain_port_; }  // HTTP, which redirects
  std::string origin() const { return "https://127.0.0.1:" + std::to_string(tls_port_); }
  std::string url(const std::string& path) const { return origin() + path; }
  const std::string& certificate() const { return cert_; }  // trust it as a CA
  std::string error_log() const;

 private:
  temp_dir dir_;
  int tls_port_;
  int plain_port_;
  std::string cert_;
  std::unique_ptr<child_process> process_;
};

}  // namespace askdesk::testing
