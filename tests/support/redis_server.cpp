#include "tests/support/redis_server.hpp"

#include <hiredis/hiredis.h>
#include <signal.h>

#include <stdexcept>
#include <thread>

namespace askdesk::testing {

namespace {

store::reply convert(const redisReply* r) {
  if (!r) return store::reply::make_unavailable("no reply");
  switch (r->type) {
    case REDIS_REPLY_STRING:
      return store::reply::make_string(std::string(r->str, r->len));
    case REDIS_REPLY_STATUS:
      return store::reply::make_status(std::string(r->str, r->len));
    case REDIS_REPLY_ERROR:
      return store::reply::make_error(std::string(r->str, r->len));
    case REDIS_REPLY_INTEGER:
      return store::reply::make_integer(r->integer);
    case REDIS_REPLY_ARRAY: {
      std::vector<store::reply> items;
      for (std::size_t i = 0; i < r->elements; ++i) items.push_back(convert(r->element[i]));
      return store::reply::make_array(std::move(items));
    }
    default:
      return store::reply::make_nil();
  }
}

}  // namespace

redis_server::redis_server(std::string appendfsync) : redis_server(std::move(appendfsync), {}) {}

redis_server::redis_server(std::string appendfsync, std::vector<std::string> extra)
    : appendfsync_(std::move(appendfsync)), extra_(std::move(extra)), port_(free_port()) {
  start();
}

redis_server::~redis_server() {
  if (client_) redisFree(client_);
  if (process_) {
    process_->signal(SIGTERM);
    process_->wait(std::chrono::seconds(5));
  }
}

void redis_server::start() {
  std::vector<std::string> argv = {"redis-server",
                                   "--port",
                                   std::to_string(port_),
                                   "--bind",
                                   "127.0.0.1",
                                   "--dir",
                                   dir_.path(),
                                   "--appendonly",
                                   "yes",
                                   "--appendfsync",
                                   appendfsync_,
                                   "--save",
                                   "",
                                   "--daemonize",
                                   "no"};
  argv.insert(argv.end(), extra_.begin(), extra_.end());
  process_ = std::make_unique<child_process>(argv, dir_.file("redis.log"));
  for (int i = 0; i < 500; ++i) {
    if (client_) redisFree(client_);
    client_ = redisConnect("127.0.0.1", port_);
    if (client_ && !client_->err) {
      auto* r = static_cast<redisReply*>(redisCommand(client_, "PING"));
      const bool ok = r && r->type == REDIS_REPLY_STATUS;
      if (r) freeReplyObject(r);
      if (ok) return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  throw std::runtime_error("redis-server did not start: " + process_->log());
}

void redis_server::kill() {
  process_->signal(SIGKILL);
  process_->wait(std::chrono::seconds(5));
  if (client_) redisFree(client_);
  client_ = nullptr;
}

void redis_server::restart() {
  if (process_ && process_->running()) kill();
  start();
}

store::reply redis_server::command(const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lengths.push_back(a.size());
  }
  if (!client_) return store::reply::make_unavailable("not connected");
  if (client_->err) {  // the server closed it (Sentinel disconnects clients on a failover)
    redisFree(client_);
    client_ = redisConnect("127.0.0.1", port_);
    if (!client_ || client_->err) return store::reply::make_unavailable("cannot reconnect");
  }
  auto* r = static_cast<redisReply*>(
      redisCommandArgv(client_, static_cast<int>(argv.size()), argv.data(), lengths.data()));
  store::reply out = convert(r);
  if (r) freeReplyObject(r);
  return out;
}

std::string redis_server::wait_for_string(const std::vector<std::string>& args,
                                          std::chrono::milliseconds wait) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    const auto r = command(args);
    if (r.is_string()) return r.str();
    if (std::chrono::steady_clock::now() > deadline) return "";
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::int64_t redis_server::messages_stored() {
  return command({"EVAL", "return #redis.call('KEYS', 'message:*')", "0"}).integer();
}

std::int64_t redis_server::entries_added(const std::string& stream) {
  const auto info = command({"XINFO", "STREAM", stream});
  if (!info.is_array()) return 0;
  for (std::size_t i = 0; i + 1 < info.size(); i += 2) {
    if (info[i].str() == "entries-added") return info[i + 1].integer();
  }
  return 0;
}

}  // namespace askdesk::testing
