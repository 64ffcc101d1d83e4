#include "tests/support/nginx_server.hpp"

#include <signal.h>

#include <stdexcept>
#include <thread>

#include "tests/support/certificate.hpp"
#include "tests/support/http_client.hpp"

namespace askdesk::testing {

namespace {

// Replaces the one line that starts (after its indentation) with `start`, keeping the indent.
void replace_line(std::string& text, const std::string& start, const std::string& with) {
  std::size_t found = std::string::npos;
  int count = 0;
  for (std::size_t line = 0; line < text.size(); line = text.find('\n', line) + 1) {
    const std::size_t first = text.find_first_not_of(' ', line);
    if (first != std::string::npos && text.compare(first, start.size(), start) == 0) {
      found = first;
      ++count;
    }
    if (text.find('\n', line) == std::string::npos) break;
  }
  if (count != 1) {
    throw std::runtime_error("deploy/nginx/askdesk.conf: expected one line starting '" + start +
                             "', found " + std::to_string(count));
  }
  text.replace(found, text.find('\n', found) - found, with);
}

}  // namespace

nginx_server::nginx_server(const std::vector<int>& upstream_ports)
    : tls_port_(free_port()), plain_port_(free_port()) {
  cert_ = dir_.file("cert.pem");
  make_self_signed_certificate(cert_, dir_.file("key.pem"), {"127.0.0.1"});
  std::string site = read_file(std::string(ASKDESK_SOURCE_DIR) + "/deploy/nginx/askdesk.conf");
  replace_line(site, "listen 80;", "listen 127.0.0.1:" + std::to_string(plain_port_) + ";");
  replace_line(site, "listen [::]:80;", "");
  replace_line(site, "listen 443 ssl", "listen 127.0.0.1:" + std::to_string(tls_port_) + " ssl;");
  replace_line(site, "listen [::]:443 ssl", "");
  replace_line(site, "ssl_certificate ", "ssl_certificate " + cert_ + ";");
  replace_line(site, "ssl_certificate_key ", "ssl_certificate_key " + dir_.file("key.pem") + ";");
  std::string servers;
  for (int port : upstream_ports) {
    servers += "server 127.0.0.1:" + std::to_string(port) + " max_fails=1 fail_timeout=10s;\n";
  }
  replace_line(site, "server 127.0.0.1:8080 ", servers);
  replace_line(site, "server 127.0.0.1:8081 ", "");
  const std::string site_file = dir_.write("askdesk.conf", site);
  const std::string d = dir_.path();
  const std::string main_file = dir_.write(
      "nginx.conf", "daemon off;\nuser root;\nworker_processes 1;\npid " + d +
                        "/nginx.pid;\nerror_log " + d +
                        "/error.log info;\nevents { worker_connections 1024; }\nhttp {\n"
                        "  access_log off;\n  client_body_temp_path " +
                        d + "/body;\n  proxy_temp_path " + d + "/proxy;\n  fastcgi_temp_path " + d +
                        "/fastcgi;\n  uwsgi_temp_path " + d + "/uwsgi;\n  scgi_temp_path " + d +
                        "/scgi;\n  include " + site_file + ";\n}\n");
  process_ = std::make_unique<child_process>(
      std::vector<std::string>{"/usr/sbin/nginx", "-e", d + "/error.log", "-p", d, "-c", main_file},
      dir_.file("nginx.out"));
  trust_certificate(cert_);
  for (int i = 0; i < 500; ++i) {
    if (http_request("GET", "http://127.0.0.1:" + std::to_string(plain_port_) + "/").status ==
        301) {
      return;
    }
    if (!process_->running()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  throw std::runtime_error("nginx did not start:\n" + process_->log() + error_log());
}

nginx_server::~nginx_server() {
  process_->signal(SIGTERM);  // fast shutdown: the master stops its workers first
  if (!process_->wait(std::chrono::seconds(5))) process_->signal(SIGKILL);
}

std::string nginx_server::error_log() const { return read_file(dir_.file("error.log")); }

}  // namespace askdesk::testing
