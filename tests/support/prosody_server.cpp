// Prosody for one test. The config is written once, from the options, into the test's folder
// and names nothing outside it: ports, pidfile, data, certificate. Prosody runs in the
// foreground (-F) as a child_process; as the tests run as root the config says run_as_root
// (Prosody, and prosodyctl, would otherwise try to become the `prosody` user and fail on a
// folder they cannot read). It logs at debug level to the console, which child_process
// appends to prosody.log, so one file holds every start, stanzas included.
//
// "Ready" means both client ports accept a connection: Prosody activates its listening
// services after it has loaded the VirtualHost, so a client that gets in also finds the host.
#include "tests/support/prosody_server.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "tests/support/certificate.hpp"

namespace askdesk::testing {

namespace {

// A Lua string literal.
std::string lua_string(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '\\' || c == '"') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

prosody_server::prosody_server(prosody_options options)
    : options_(options), port_(free_port()), direct_tls_port_(free_port()) {
  std::filesystem::create_directories(dir_.file("certs"));
  std::filesystem::create_directories(dir_.file("data"));
  make_self_signed_certificate(ca_file(), dir_.file("certs/library.example.key"), {domain()});
  write_config();
  start();
}

prosody_server::~prosody_server() {
  // Nobody is left to read a goodbye, and a graceful stop takes Prosody 0.12 about 1.7 s.
  if (process_ && process_->running()) kill();
  if (::testing::Test::HasFailure()) {
    const std::string text = log();
    constexpr std::size_t tail = 30000;
    std::cerr << "--- Prosody's log (" << log_path() << ")"
              << (text.size() > tail ? ", its last 30000 characters" : "") << ":\n"
              << (text.size() > tail ? text.substr(text.size() - tail) : text)
              << "--- end of Prosody's log\n";
  }
}

void prosody_server::write_config() const {
  std::ostringstream c;
  c << "-- A throw-away Prosody for one askdesk test (tests/support/prosody_server.cpp).\n"
    << "run_as_root = true\n"
    << "pidfile = " << lua_string(dir_.file("prosody.pid")) << "\n"
    << "data_path = " << lua_string(dir_.file("data")) << "\n"
    << "log = { { levels = { min = \"debug\" }, to = \"console\" } }\n"
    << "interfaces = { \"127.0.0.1\" }\nlocal_interfaces = { \"127.0.0.1\" }\n"
    << "c2s_ports = { " << port_ << " }\n"
    << "c2s_direct_tls_ports = { " << direct_tls_port_ << " }\n"
    << "s2s_ports = {}\ns2s_direct_tls_ports = {}\ncomponent_ports = {}\n"
    << "http_ports = {}\nhttps_ports = {}\n"
    << "certificates = " << lua_string(dir_.file("certs")) << "\n"
    << "ssl = { certificate = " << lua_string(ca_file())
    << ", key = " << lua_string(dir_.file("certs/library.example.key")) << " }\n"
    << "modules_enabled = { \"roster\", \"saslauth\", \"tls\", \"disco\", \"ping\", \"mam\",\n"
    << "  \"smacks\", \"carbons\", \"csi_simple\" }\n"
    << "modules_disabled = { \"s2s\"" << (options_.offline_messages ? "" : ", \"offline\"")
    << " }\n"
    << "authentication = \"internal_hashed\"\n"
    << "c2s_require_encryption = " << (options_.require_encryption ? "true" : "false") << "\n"
    << "allow_unencrypted_plain_auth = " << (options_.require_encryption ? "false" : "true") << "\n"
    << "archive_expires_after = \"1d\"\ndefault_archive_policy = true\n"
    << "smacks_hibernation_time = " << options_.smacks_hibernation_seconds << "\n"
    << "VirtualHost " << lua_string(domain()) << "\n";
  dir_.write("prosody.cfg.lua", c.str());
}

void prosody_server::add_user(const std::string& user, const std::string& password) {
  child_process prosodyctl(
      {"prosodyctl", "--config", config_path(), "register", user, domain(), password},
      dir_.file("prosodyctl.log"));
  if (prosodyctl.wait(std::chrono::seconds(20)) != 0) {
    throw std::runtime_error("prosodyctl could not register " + jid(user) + ":\n" +
                             prosodyctl.log());
  }
}

void prosody_server::start() {
  if (process_ && process_->running()) throw std::logic_error("Prosody is already running");
  process_ = std::make_unique<child_process>(
      std::vector<std::string>{"prosody", "--config", config_path(), "-F"}, log_path());
  for (int i = 0; i < 400; ++i) {
    if (port_accepts(port_) && port_accepts(direct_tls_port_)) return;
    if (!process_->running()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  throw std::runtime_error("Prosody did not start on ports " + std::to_string(port_) + " and " +
                           std::to_string(direct_tls_port_) + ":\n" + log());
}

void prosody_server::stop() {
  if (!process_) return;
  process_->signal(SIGTERM);
  if (!process_->wait(std::chrono::seconds(10))) kill();
}

void prosody_server::kill() {
  if (!process_) return;
  process_->signal(SIGKILL);
  process_->wait(std::chrono::seconds(10));
}

void prosody_server::restart() {
  stop();
  start();
}

bool prosody_server::running() { return process_ && process_->running(); }

}  // namespace askdesk::testing
