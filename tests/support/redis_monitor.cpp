#include "tests/support/redis_monitor.hpp"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <stdexcept>

namespace askdesk::testing {

namespace {

// One line of MONITOR: `1763845500.123456 [0 127.0.0.1:5000] "FCALL" "ab\"c" ...`, each
// argument quoted with C-like escapes; `[0 lua]` for what a function ran.
std::optional<monitored_command> parse_monitor_line(const std::string& line) {
  const auto bracket = line.find("] ");
  if (bracket == std::string::npos || bracket < 3) return std::nullopt;
  monitored_command out;
  out.in_function = line.compare(bracket - 3, 3, "lua") == 0;
  auto& args = out.args;
  std::size_t i = bracket + 2;
  while (i < line.size()) {
    if (line[i] != '"') {
      ++i;
      continue;
    }
    std::string arg;
    for (++i; i < line.size() && line[i] != '"'; ++i) {
      if (line[i] != '\\' || i + 1 >= line.size()) {
        arg += line[i];
        continue;
      }
      const char c = line[++i];
      switch (c) {
        case 'n':
          arg += '\n';
          break;
        case 'r':
          arg += '\r';
          break;
        case 't':
          arg += '\t';
          break;
        case 'a':
          arg += '\a';
          break;
        case 'b':
          arg += '\b';
          break;
        case 'x':
          arg += static_cast<char>(std::stoi(line.substr(i + 1, 2), nullptr, 16));
          i += 2;
          break;
        default:
          arg += c;
      }
    }
    ++i;
    args.push_back(std::move(arg));
  }
  if (args.empty()) return std::nullopt;
  std::transform(args[0].begin(), args[0].end(), args[0].begin(), ::toupper);
  return out;
}

}  // namespace

std::vector<monitored_command> monitor(
    redis_server& redis, std::chrono::milliseconds how_long,
    const std::function<bool(const std::vector<monitored_command>&)>& until) {
  redisContext* c = redisConnect("127.0.0.1", redis.port());
  if (!c || c->err) throw std::runtime_error("MONITOR: cannot connect to redis-server");
  const timeval tick{0, 100'000};
  redisSetTimeout(c, tick);
  std::vector<monitored_command> seen;
  if (auto* r = static_cast<redisReply*>(redisCommand(c, "MONITOR"))) freeReplyObject(r);
  const auto deadline = std::chrono::steady_clock::now() + how_long;
  while (std::chrono::steady_clock::now() < deadline && !(until && until(seen))) {
    void* raw = nullptr;
    if (redisGetReply(c, &raw) != REDIS_OK) {
      if (c->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        c->err = 0;  // nothing within the tick: nobody sent anything
        continue;
      }
      break;
    }
    auto* r = static_cast<redisReply*>(raw);
    if (r->type == REDIS_REPLY_STATUS) {
      if (auto command = parse_monitor_line(std::string(r->str, r->len))) {
        seen.push_back(std::move(*command));
      }
    }
    freeReplyObject(r);
  }
  redisFree(c);
  return seen;
}

std::function<bool(const std::vector<monitored_command>&)> stopped_by(std::string marker) {
  return [marker = std::move(marker)](const std::vector<monitored_command>& seen) {
    return !seen.empty() && seen.back().args == std::vector<std::string>{"ECHO", marker};
  };
}

}  // namespace askdesk::testing
