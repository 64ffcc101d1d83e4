// The real `askdesk serve` for an integration test, on a free loopback port with its own
// config file and the test's redis-server, plus the small things tests do with it: add a
// staff user through the CLI, log in, call the API with the session. Stopped (SIGTERM, then
// SIGKILL) when destroyed.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/http_client.hpp"
#include "tests/support/process.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/temp_dir.hpp"

namespace askdesk::testing {

struct staff_session {
  std::string cookie;  // "askdesk_session=..."
  std::string csrf;
};

class askdesk_daemon {
 public:
  // `config` is the JSON without http.listen, which is added; "" for no config file at all
  // (then --listen). Waits until /healthz answers 200; throws if it does not within 10 s.
  // `extra` goes on the command line after `serve` (e.g. {"--clock-start", "..."}); `port`
  // 0 picks a free one (another daemon's port: a restart of it, same consumer name).
  askdesk_daemon(redis_server& redis, const std::string& config,
                 const std::vector<std::string>& extra = {}, int port = 0);
  ~askdesk_daemon();

  int port() const { return port_; }
  std::string url(const std::string& path = "") const;
  std::string origin() const { return "http://127.0.0.1:" + std::to_string(port_); }
  child_process& process() { return *process_; }

  // `askdesk user add` through the CLI; throws when it fails.
  void add_user(const std::string& name, const std::string& role,
                const std::vector<std::string>& teams, const std::string& password);
  // POST /api/v1/login; throws unless 200.
  staff_session login(const std::string& name, const std::string& password);

  // A request with the session's cookie (and CSRF token for POST).
  http_result call(const staff_session& s, const std::string& method, const std::string& path,
                   const std::string& body = "");

  // The value of the /metrics sample line that starts with `sample` (name and labels), or 0.
  double metric(const std::string& sample);
  // Waits until that sample is at least `at_least`; false after `wait`.
  bool wait_for_metric(const std::string& sample, double at_least,
                       std::chrono::milliseconds wait = std::chrono::seconds(10));

  // A patron's message `json` from `from` through replay connector `connector`'s webhook
  // (connectors/replay/README.md); returns its conversation once the hub applied it, or ""
  // (and a test failure) when the webhook refused it or nothing came within 10 s.
  std::string replay(const std::string& connector, const std::string& token,
                     const std::string& from, const std::string& json);

  // Runs the askdesk binary with `args` and `stdin_text`; returns its exit code and output.
  std::pair<int, std::string> run_cli(const std::vector<std::string>& args,
                                      const std::string& stdin_text = "");

 private:
  redis_server& redis_;
  temp_dir dir_;
  int port_;
  std::string config_file_;
  std::unique_ptr<child_process> process_;
};

// A staff member of a test daemon (role staff, on `teams`), logged in: reads, waits on and
// answers conversations through the API.
class staff_client {
 public:
  staff_client(askdesk_daemon& daemon, const std::string& name,
               const std::vector<std::string>& teams);

  // The conversation's JSON (GET /api/v1/conversations/ID).
  std::string read(const std::string& id);
  // Waits up to 15 s until that JSON contains `text`.
  bool eventually(const std::string& id, const std::string& text);
  // POST /api/v1/conversations/ID/messages.
  http_result reply(const std::string& id, const std::string& text);

 private:
  askdesk_daemon& daemon_;
  staff_session session_;
};

// Pulls a JSON string member ("key":"value") out of a flat answer; "" when absent. Enough
// for ids and tokens in tests.
std::string json_string(const std::string& json, const std::string& key);

// The string at a JSON Pointer ("/items/0/id") in `json`; "" when absent or not a string.
// For answers whose member order is not fixed (objects built by the Lua scripts).
// Any value at `pointer` as JSON text (a string without its quotes: "3", "null", "true",
// "ann"); "" when there is none.
std::string json_value_at(const std::string& json, const std::string& pointer);
std::string json_at(const std::string& json, const std::string& pointer);

}  // namespace askdesk::testing
