// The Redis limit for askdesk's own commands. While the load runs, MONITOR records the
// commands the daemon sends (its functions with their real arguments); redis-benchmark then
// runs each of them pipelined (-P 16) against the same redis-server, and the limit is the
// message rate at which Redis would be busy all the time doing what one message cost:
//   1 / sum over commands (calls per message / that command's benchmarked rate).
// Blocking reads (XREADGROUP, XREAD), batched per many messages, are costed as PING.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "tests/support/redis_server.hpp"

namespace askdesk::bench {

using command_line = std::vector<std::string>;

// The commands other clients sent during `how_long`, as MONITOR shows them.
std::vector<command_line> monitor(testing::redis_server& redis, std::chrono::milliseconds how_long);

struct redis_limit_result {
  double messages_per_s = 0;
  double commands_per_message = 0;    // top-level commands, as sent
  double xadd_pipelined_per_s = 0;    // for reference: a small XADD with -P 16
  double xadd_unpipelined_per_s = 0;  // ... and one at a time
  std::string how;                    // the commands and their rates, for the notes
};

// `sample`: what monitor() saw while `messages` messages went through. `randomize` turns a
// sampled command into the one redis-benchmark repeats, e.g. its message ids __rand_int__ so
// that each is a new message, not a duplicate (-r 1000 per placeholder).
redis_limit_result redis_limit(testing::redis_server& redis,
                               const std::vector<command_line>& sample, double messages,
                               const std::function<command_line(command_line)>& randomize);

// Where Redis spent its time per message since the last CONFIG RESETSTAT: microseconds by
// command (a function's own commands are inside its fcall), for the notes.
std::string command_time(testing::redis_server& redis, double messages);

// Per-function timings: start_script_timing() makes Redis log every command's duration
// (SLOWLOG, its newest `kept`); script_time() then says, of what was logged, each function's
// mean microseconds per call and calls per message (`messages` in the logged window is
// estimated from the share of `per_message`, a function every message runs once).
void start_script_timing(testing::redis_server& redis, int kept);
std::string script_time(testing::redis_server& redis, std::string_view per_message);

}  // namespace askdesk::bench
