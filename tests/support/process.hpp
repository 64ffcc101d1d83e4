// A child process for integration tests: started with arguments and extra environment
// variables, its stdout and stderr appended to a log file, stopped with a signal and always
// reaped (the destructor kills and waits), so a failing test leaves nothing running. It also
// gets SIGKILL when the thread that started it ends (the test or benchmark died): start
// children from a thread that outlives them.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace askdesk::testing {

class child_process {
 public:
  // Throws std::runtime_error when it cannot start.
  child_process(std::vector<std::string> argv, std::string log_file,
                std::vector<std::pair<std::string, std::string>> env = {});
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int sig);
  // The exit code (or 128 + signal) once it ended within `timeout`; nullopt otherwise.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  bool running();
  // What it wrote so far.
  std::string log() const;

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::string log_file_;
};

}  // namespace askdesk::testing
