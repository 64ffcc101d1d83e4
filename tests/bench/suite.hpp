// What the benchmark scenarios share: the results they report (a table for people and
// bench-results.json for machines), the load generator's io thread, latency percentiles, and
// what /proc says about a process (CPU time, resident memory).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

namespace askdesk::bench {

using steady = std::chrono::steady_clock;

class results {
 public:
  // A number for bench-results.json.
  void set(const std::string& key, double value);
  // A line of the printed table: the scenario, what was measured, our value, and optionally
  // the baseline and the ratio.
  void row(std::string scenario, std::string what, std::string value, std::string baseline = "",
           std::string ratio = "");
  // A note under the table (how a number was measured, what limited it).
  void note(std::string text);

  std::string json(const std::string& cpu, int cores) const;
  std::string table() const;

 private:
  std::vector<std::pair<std::string, double>> values_;
  std::vector<std::vector<std::string>> rows_;
  std::vector<std::string> notes_;
};

// p in [0, 1] of `samples` (sorted here); 0 when empty.
struct percentiles {
  explicit percentiles(std::vector<double> samples);
  double at(double p) const;

 private:
  std::vector<double> sorted_;
};

// The load generator's io_context on its own thread until stop() (or destruction).
class io_thread {
 public:
  io_thread();
  ~io_thread();
  boost::asio::io_context& io() { return io_; }
  // Runs `f` on the io thread and waits for it.
  void run(std::function<void()> f);
  void stop();

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::thread thread_;
};

// Stops `loop` when it goes out of scope: declare it after everything the loop's handlers
// use, so an exception cannot destroy those while the io thread may still call them.
class stop_at_exit {
 public:
  explicit stop_at_exit(io_thread& loop) : loop_(loop) {}
  ~stop_at_exit() { loop_.stop(); }
  stop_at_exit(const stop_at_exit&) = delete;
  stop_at_exit& operator=(const stop_at_exit&) = delete;

 private:
  io_thread& loop_;
};

// CPU seconds (user + system) a process has used; of this process when pid is 0.
double cpu_seconds(pid_t pid = 0);
// Resident memory in bytes (VmRSS).
double resident_bytes(pid_t pid);
// Waits until `done()` or `timeout`; says whether done() became true.
bool wait_for(const std::function<bool()>& done, std::chrono::milliseconds timeout);

std::string fixed(double value, int decimals = 0);

// The number right after the first `prefix` in a frame ("ingest-42 ..." -> 42), if any.
std::optional<std::uint64_t> number_after(std::string_view frame, std::string_view prefix);

}  // namespace askdesk::bench
