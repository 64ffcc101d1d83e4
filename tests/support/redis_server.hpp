// A real redis-server for one test: its own folder, a free loopback port, AOF with fsync on
// every write (so a SIGKILL loses nothing that was acknowledged; benchmarks ask for
// "everysec", as quickstart runs it), and a blocking client for
// the test's own questions. kill() and restart() let tests take it away and bring it back on
// the same port with the same data.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "daemon/store/reply.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

struct redisContext;

namespace askdesk::testing {

class redis_server {
 public:
  explicit redis_server(std::string appendfsync = "always");
  // With more arguments for redis-server ("--replicaof", "127.0.0.1", "6379").
  redis_server(std::string appendfsync, std::vector<std::string> extra);
  ~redis_server();

  int port() const { return port_; }
  pid_t pid() const { return process_->pid(); }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_) + "/0"; }
  const std::string& dir() const { return dir_.path(); }  // its data files (the AOF's folder)

  void kill();     // SIGKILL, and wait for it to end
  void restart();  // start again on the same port and folder; waits until it answers

  // A command on the test's own blocking connection (reconnects after restart()).
  store::reply command(const std::vector<std::string>& args);
  // The command's answer once it is a string (a key that appears), polling up to `wait`;
  // "" after that.
  std::string wait_for_string(const std::vector<std::string>& args,
                              std::chrono::milliseconds wait = std::chrono::seconds(10));
  // Entries ever added to `stream` (XINFO STREAM's entries-added; 0 when it does not exist):
  // for crash tests, the messages made durable, applied or not.
  std::int64_t entries_added(const std::string& stream);
  // Messages stored in conversations (their hashes): ids are taken before a message is
  // stored, so the id counter may run ahead of them.
  std::int64_t messages_stored();

 private:
  void start();
  temp_dir dir_;
  std::string appendfsync_;
  std::vector<std::string> extra_;
  int port_;
  std::unique_ptr<child_process> process_;
  redisContext* client_ = nullptr;
};

}  // namespace askdesk::testing
