#include "tests/support/sentinel_cluster.hpp"

#include <hiredis/hiredis.h>
#include <signal.h>

#include <stdexcept>
#include <thread>

#include "tests/support/wait.hpp"

namespace askdesk::testing {

namespace {

// SENTINEL get-master-addr-by-name askdesk, asked of the sentinel on `port`; 0 without answer.
int ask_master_port(int port) {
  redisContext* c = redisConnect("127.0.0.1", port);
  int answer = 0;
  if (c && !c->err) {
    auto* r = static_cast<redisReply*>(redisCommand(c, "SENTINEL get-master-addr-by-name askdesk"));
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2) {
      answer = std::stoi(std::string(r->element[1]->str, r->element[1]->len));
    }
    if (r) freeReplyObject(r);
  }
  if (c) redisFree(c);
  return answer;
}

// An INFO-style answer's integer field ("connected_slaves:2"), or -1.
long long info_field(const std::string& info, const std::string& field) {
  const auto at = info.find(field + ":");
  if (at == std::string::npos) return -1;
  return std::stoll(info.substr(at + field.size() + 1));
}

long long sentinel_count(int port, const std::string& what) {
  redisContext* c = redisConnect("127.0.0.1", port);
  long long n = -1;
  if (c && !c->err) {
    auto* r = static_cast<redisReply*>(redisCommand(c, "SENTINEL %s askdesk", what.c_str()));
    if (r && r->type == REDIS_REPLY_ARRAY) n = static_cast<long long>(r->elements);
    if (r) freeReplyObject(r);
  }
  if (c) redisFree(c);
  return n;
}

}  // namespace

sentinel_cluster::sentinel_cluster() {
  servers_.push_back(std::make_unique<redis_server>());
  const std::string master_port = std::to_string(servers_[0]->port());
  for (int i = 0; i < 2; ++i) {
    servers_.push_back(std::make_unique<redis_server>(
        "always", std::vector<std::string>{"--replicaof", "127.0.0.1", master_port}));
  }
  for (int i = 0; i < 3; ++i) {
    const int port = free_port();
    sentinel_ports_.push_back(port);
    const std::string name = "sentinel-" + std::to_string(i);
    const std::string conf =
        dir_.write(name + ".conf", "port " + std::to_string(port) +
                                       "\nbind 127.0.0.1\n"
                                       "dir " +
                                       dir_.path() +
                                       "\n"
                                       "sentinel monitor askdesk 127.0.0.1 " +
                                       master_port +
                                       " 2\n"
                                       "sentinel down-after-milliseconds askdesk 1000\n"
                                       "sentinel failover-timeout askdesk 10000\n"
                                       "sentinel parallel-syncs askdesk 1\n");
    sentinels_.push_back(std::make_unique<child_process>(
        std::vector<std::string>{"redis-server", conf, "--sentinel"}, dir_.file(name + ".log")));
  }
  wait_until_ready();
}

sentinel_cluster::~sentinel_cluster() {
  for (auto& s : sentinels_) {
    s->signal(SIGTERM);
    s->wait(std::chrono::seconds(5));
  }
}

void sentinel_cluster::wait_until_ready() {
  const bool ready = wait_until(
      [&] {
        // Both replicas connected and through their first sync.
        const std::string info = servers_[0]->command({"INFO", "replication"}).str();
        if (info_field(info, "connected_slaves") != 2) return false;
        if (info.find("state=online") == info.rfind("state=online")) return false;
        for (int port : sentinel_ports_) {
          if (sentinel_count(port, "replicas") != 2 || sentinel_count(port, "sentinels") != 2) {
            return false;
          }
        }
        return true;
      },
      std::chrono::seconds(30));
  if (!ready) {
    throw std::runtime_error("the sentinels did not find the replicas and each other:\n" +
                             sentinels_[0]->log());
  }
}

std::string sentinel_cluster::askdesk_redis_config() const {
  std::string list;
  for (int port : sentinel_ports_) {
    list += std::string(list.empty() ? "" : ", ") + "\"127.0.0.1:" + std::to_string(port) + "\"";
  }
  return R"({"sentinels": [)" + list + R"(], "master_name": "askdesk"})";
}

bool sentinel_cluster::failover() {
  redisContext* c = redisConnect("127.0.0.1", sentinel_ports_[0]);
  bool ok = false;
  if (c && !c->err) {
    auto* r = static_cast<redisReply*>(redisCommand(c, "SENTINEL FAILOVER askdesk"));
    ok = r && r->type == REDIS_REPLY_STATUS;
    if (r) freeReplyObject(r);
  }
  if (c) redisFree(c);
  return ok;
}

redis_server* sentinel_cluster::master() {
  for (int port : sentinel_ports_) {
    const int master_port = ask_master_port(port);
    if (master_port == 0) continue;
    for (auto& s : servers_) {
      if (s->port() == master_port) return s.get();
    }
  }
  return nullptr;
}

redis_server* sentinel_cluster::wait_for_new_master(const redis_server& old,
                                                    std::chrono::milliseconds wait) {
  redis_server* found = nullptr;
  wait_until(
      [&] {
        found = master();
        if (!found || found == &old) return false;
        const auto role = found->command({"ROLE"});
        return role.is_array() && role.size() > 0 && role[0].str() == "master";
      },
      wait);
  return found != &old ? found : nullptr;
}

}  // namespace askdesk::testing
