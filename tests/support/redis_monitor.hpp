// Redis's MONITOR, read for a while: every command the server ran, in order, including those
// a function ran (`in_function`: they follow the FCALL that ran them). For the benchmarks'
// Redis limit and for the test that checks every function touches only the keys it declared.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "tests/support/redis_server.hpp"

namespace askdesk::testing {

struct monitored_command {
  bool in_function = false;
  std::vector<std::string> args;  // the command name upper-cased
};

// Records for `how_long`, or until `until(what was seen so far)` is true (asked after each
// command and every 100 ms). To stop after everything a test did: send `ECHO <marker>` last and
// stop on seeing it (stopped_by()).
std::vector<monitored_command> monitor(
    redis_server& redis, std::chrono::milliseconds how_long,
    const std::function<bool(const std::vector<monitored_command>&)>& until = {});

// An `until` for monitor(): true once the last command seen is `ECHO marker`.
std::function<bool(const std::vector<monitored_command>&)> stopped_by(std::string marker);

}  // namespace askdesk::testing
