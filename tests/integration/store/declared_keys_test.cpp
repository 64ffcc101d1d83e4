// Every command a function of the askdesk library runs touches only keys the daemon declared
// for that call (FCALL's keys), across a patron's chat, routing, claims, replies, tags,
// topics, transfers, closes, presence and logouts: MONITOR shows each command a function ran
// right after its FCALL, and Redis's own COMMAND GETKEYS says which of its arguments are keys.
#include <gtest/gtest.h>

#include "daemon/store/keys.hpp"

#include <atomic>
#include <set>
#include <thread>

#include "tests/support/askdesk_daemon.hpp"
#include "tests/support/redis_monitor.hpp"
#include "tests/support/wait.hpp"
#include "tests/support/ws_client.hpp"

namespace askdesk::testing {
namespace {

TEST(DeclaredKeys, EveryCommandAFunctionRunsTouchesOnlyTheKeysItDeclared) {
  redis_server redis;
  askdesk_daemon daemon(
      redis,
      R"({"teams": [{"id": "reference", "name": "Reference"}, {"id": "ill", "name": "ILL"}],
          "topics": [{"id": "loans", "team": "ill", "keywords": ["interlibrary loan"]}]})");
  daemon.add_user("ann", "staff", {"reference"}, "ann-password-1");
  daemon.add_user("sue", "supervisor", {}, "sue-password-1");

  // MONITOR in the background until the scenario is over (and on any failure).
  struct recording {
    redis_server& redis;
    std::vector<monitored_command> seen;
    std::thread thread;
    void stop() {  // after every command sent before it
      if (!thread.joinable()) return;
      redis.command({"ECHO", "end of scenario"});
      thread.join();
    }
    ~recording() { stop(); }
  } r{redis};
  r.thread = std::thread(
      [&] { r.seen = monitor(redis, std::chrono::seconds(60), stopped_by("end of scenario")); });
  ASSERT_TRUE(wait_until([&] {
    return redis.command({"CLIENT", "LIST"}).str().find("flags=O") != std::string::npos;
  }));

  const auto ann = daemon.login("ann", "ann-password-1");
  const auto sue = daemon.login("sue", "sue-password-1");
  ws_client dashboard(daemon.port(), "/ws/staff", daemon.origin(), ann.cookie);
  ws_client patron(daemon.port(), "/ws/patron", daemon.origin());
  patron.send(R"({"type":"hello","team":"reference","name":"Zoë"})");
  ASSERT_TRUE(patron.read_until("welcome"));
  patron.send(R"({"type":"message","text":"Where is my hold?","client_id":"m1"})");
  ASSERT_TRUE(dashboard.read_until("message.created"));
  patron.send(R"({"type":"typing"})");
  ASSERT_TRUE(dashboard.read_until(R"("event":"typing")"));
  const std::string id = redis.wait_for_string({"GET", "seq:conversation"});
  ASSERT_FALSE(id.empty());
  const std::string path = "/api/v1/conversations/" + id;
  EXPECT_EQ(daemon.call(ann, "POST", path + "/claim").status, 200);
  EXPECT_EQ(daemon.call(ann, "POST", path + "/messages", R"({"text":"On the shelf."})").status,
            201);
  ASSERT_TRUE(patron.read_until("On the shelf."));
  EXPECT_EQ(daemon.call(ann, "POST", path + "/notes", R"({"text":"Called too."})").status, 201);
  EXPECT_EQ(daemon.call(ann, "POST", path + "/tags", R"({"add":["holds"],"remove":[]})").status,
            200);
  EXPECT_EQ(daemon.call(sue, "POST", path + "/topic", R"({"topic":"loans"})").status, 200);
  EXPECT_EQ(
      daemon.call(sue, "POST", path + "/transfer", R"({"team":"ill","note":"For ILL"})").status,
      200);
  // After the transfer the daemon's guess of the thread's team is wrong: read again.
  const auto messages = store::keys::conversation_messages(id);
  const auto before = redis.command({"LLEN", messages}).integer();
  patron.send(R"({"type":"message","text":"Thanks!","client_id":"m2"})");
  ASSERT_TRUE(wait_until([&] {
    return redis.command({"LLEN", messages}).integer() == before + 1;
  }));
  EXPECT_EQ(daemon.call(sue, "POST", path + "/close").status, 200);
  EXPECT_EQ(daemon.call(sue, "POST", "/api/v1/me/presence", R"({"presence":"away"})").status, 200);
  EXPECT_EQ(daemon.call(ann, "POST", "/api/v1/logout").status, 204);
  r.stop();

  std::set<std::string> functions;
  std::vector<std::string> declared;
  std::size_t checked = 0;
  for (const auto& c : r.seen) {
    if (!c.in_function) {
      if (c.args[0] == "FCALL" && c.args.size() >= 3) {
        const auto n = static_cast<std::size_t>(std::stoul(c.args[2]));
        declared.assign(c.args.begin() + 3, c.args.begin() + 3 + static_cast<long>(n));
        const auto& name = c.args[1];
        functions.insert(name.substr(name.find('_', name.find('_') + 1) + 1));
      } else {
        declared.clear();
      }
      continue;
    }
    std::vector<std::string> getkeys = {"COMMAND", "GETKEYS"};
    getkeys.insert(getkeys.end(), c.args.begin(), c.args.end());
    const auto keys = redis.command(getkeys);
    for (const auto& k : keys.elements()) {
      ++checked;
      EXPECT_NE(std::find(declared.begin(), declared.end(), k.str()), declared.end())
          << c.args[0] << " " << k.str() << " was not declared";
    }
  }
  // The functions this scenario runs, each seen at work.
  for (const char* f : {"ingest", "apply_inbound", "claim", "post_message", "tag", "set_topic",
                        "transfer", "close", "presence", "typing", "settle_outbound", "own_entry",
                        "lease", "set_presence", "end_sessions"}) {
    EXPECT_TRUE(functions.contains(f)) << f << " did not run";
  }
  EXPECT_GT(checked, 100u);
}

}  // namespace
}  // namespace askdesk::testing
