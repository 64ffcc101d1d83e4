// Two daemons on one Redis behind a real nginx running the shipped deploy/nginx/askdesk.conf
// (TLS, WebSocket upgrade, forwarded headers, retry on the next daemon). 1,000 signed SMS
// webhooks and 200 web chat messages arrive spread over both; one daemon gets SIGKILL midway.
// Senders retry whatever got no 200 or no acknowledgement, as Twilio and the widget do; two
// staff dashboards, connected through nginx, reconnect with their last event id. Afterwards
// every message is stored exactly once, no conversation is doubled, and every dashboard saw
// every message's event exactly once, with no gap.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <atomic>
#include <csignal>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "daemon/store/keys.hpp"
#include "tests/support/askdesk_daemon.hpp"
#include "tests/support/nginx_server.hpp"
#include "tests/support/signed_text.hpp"
#include "tests/support/wait.hpp"
#include "tests/support/ws_client.hpp"

namespace askdesk::testing {
namespace {

constexpr int texts = 1000;
constexpr int chatters = 20;
constexpr int chats_each = 10;
constexpr int messages = texts + chatters * chats_each;

// Both daemons' config: the public URL is nginx's (Twilio signs over it), which forwards
// the client's address and scheme.
std::string daemon_config(int nginx_port) {
  return R"({"teams": [{"id": "reference"}],
    "http": {"public_url": "https://127.0.0.1:)" +
         std::to_string(nginx_port) + R"(", "trust_forwarded_proto": true,
             "trusted_proxies": ["127.0.0.1"]},
    "connectors": [{"id": "webchat", "type": "webchat"}, )" +
         signed_text::connector_config() + "]}";
}

std::optional<rapidjson::Document> parse(const std::string& frame) {
  rapidjson::Document d;
  d.Parse(frame.c_str(), frame.size());
  if (d.HasParseError() || !d.IsObject()) return std::nullopt;
  return d;
}

std::string member(const rapidjson::Value& v, const char* key) {
  const auto it = v.FindMember(key);
  return it != v.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
}

// A staff dashboard through nginx: reads events, and when its socket closes (its daemon
// died) connects again with ?after=<last event id>, as the dashboard does.
struct dashboard {
  std::string cookie;
  const nginx_server& proxy;
  std::string last_event;
  std::map<std::string, int> seen;            // event id -> times received
  std::map<std::string, int> message_events;  // message.created's message id -> times
  int resets = 0;
  int reconnects = 0;
  std::atomic<bool> stop{false};
  std::mutex mutex;

  void run() {
    while (!stop) {
      std::unique_ptr<ws_client> ws;
      try {
        const std::string target = "/ws/staff" + (last_event.empty() ? "" : "?after=" + last_event);
        ws = std::make_unique<ws_client>(proxy.port(), target, proxy.origin(), cookie,
                                         proxy.certificate());
      } catch (const std::exception&) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));  // nginx finds the other
        continue;
      }
      while (!stop) {
        auto frame = ws->read(std::chrono::milliseconds(200));
        if (!frame) {
          if (ws->closed()) break;
          continue;
        }
        take(*frame);
      }
      if (!stop) ++reconnects;
    }
  }

  void take(const std::string& frame) {
    auto d = parse(frame);
    if (!d) return;
    const std::string type = member(*d, "type");
    std::lock_guard lock(mutex);
    if (type == "reset") ++resets;
    if (type != "event") return;
    const std::string id = member(*d, "id");
    last_event = id;
    ++seen[id];
    if (member(*d, "event") != "message.created") return;
    const auto& data = (*d)["data"];
    if (data.IsObject() && data.HasMember("message") && data["message"].IsObject()) {
      ++message_events[member(data["message"], "id") + "@" + member(*d, "conversation")];
    }
  }

  std::size_t messages_seen() {
    std::lock_guard lock(mutex);
    return message_events.size();
  }
};

TEST(Proxy, TwoDaemonsBehindNginxOneKilledLosesDoublesAndSkipsNothing) {
  redis_server redis;
  // The daemons need nginx's port in their config, and nginx needs theirs: pick the daemons'
  // ports first, start nginx in front of them, then the daemons.
  const int port_a = free_port();
  const int port_b = free_port();
  nginx_server proxy({port_a, port_b});
  const std::string config = daemon_config(proxy.port());
  auto first = std::make_unique<askdesk_daemon>(redis, config, std::vector<std::string>{}, port_a);
  askdesk_daemon second(redis, config, {}, port_b);
  second.add_user("ann", "staff", {"reference"}, "ann-password-1");
  const std::string cookie = second.login("ann", "ann-password-1").cookie;

  // Two dashboards: nginx sends them to different daemons, so one loses its daemon.
  dashboard boards[2] = {{cookie, proxy}, {cookie, proxy}};
  std::vector<std::thread> board_threads;
  for (auto& b : boards) board_threads.emplace_back([&b] { b.run(); });
  ASSERT_TRUE(wait_until([&] {
    return redis.command({"ZCARD", store::keys::presence("reference")}).integer() >= 2;
  }));

  std::mutex mutex;
  std::set<int> acknowledged;
  std::atomic<int> next{0};
  std::atomic<bool> killed{false};
  std::atomic<int> chats_acknowledged{0};
  std::vector<std::thread> senders;
  for (int t = 0; t < 6; ++t) {
    senders.emplace_back([&] {
      const std::string url = proxy.url("/webhooks/twilio/sms");
      for (int i = next++; i < texts; i = next++) {
        for (;;) {
          const auto r = signed_text::send(url, i);
          if (r.status == 200) break;
          if (r.status != 502 && r.status != 503 && r.status != 504 && r.status != 0) {
            ADD_FAILURE() << "text " << i << ": " << r.status << " " << r.body;
            return;
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(50));  // Twilio's retry
        }
        std::lock_guard lock(mutex);
        acknowledged.insert(i);
        if (!killed && acknowledged.size() >= 400) {
          killed = true;
          first->process().signal(SIGKILL);
        }
      }
    });
  }
  // Web chat patrons: each message waits for its `ack`; without one (the socket died) the
  // widget connects again with its token and sends the same client_id.
  for (int p = 0; p < chatters; ++p) {
    senders.emplace_back([&, p] {
      std::string token;
      for (int m = 0; m < chats_each; ++m) {
        const std::string client_id = "p" + std::to_string(p) + "-m" + std::to_string(m);
        for (int attempt = 0;; ++attempt) {
          ASSERT_LT(attempt, 100) << client_id;
          try {
            ws_client ws(proxy.port(), "/ws/patron", proxy.origin(), "", proxy.certificate());
            ws.send(R"({"type":"hello","team":"reference","name":"Chatter )" + std::to_string(p) +
                    R"(","token":")" + token + R"("})");
            const auto welcome = ws.read_until("\"welcome\"", std::chrono::seconds(5));
            if (!welcome) continue;
            token = json_string(*welcome, "token");
            ws.send(R"({"type":"message","text":"chat )" + client_id + R"(","client_id":")" +
                    client_id + R"("})");
            if (ws.read_until(R"("type":"ack","client_id":")" + client_id + "\"",
                              std::chrono::seconds(5))) {
              ++chats_acknowledged;
              break;
            }
          } catch (const std::exception&) {
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
      }
    });
  }
  for (auto& s : senders) s.join();
  ASSERT_TRUE(killed.load());
  ASSERT_EQ(acknowledged.size(), static_cast<std::size_t>(texts));
  ASSERT_EQ(chats_acknowledged.load(), chatters * chats_each);

  // Every message stored once, every conversation once.
  EXPECT_TRUE(wait_until(
      [&] {
        return redis.messages_stored() == messages &&
               redis.command({"XLEN", "inbound"}).integer() == 0;
      },
      std::chrono::seconds(30)));
  EXPECT_EQ(redis.messages_stored(), messages);
  EXPECT_EQ(redis.command({"XLEN", "inbound:dead"}).integer(), 0);
  const auto conversations =
      redis.command({"EVAL",
                     "local n = 0 for _, k in ipairs(redis.call('KEYS', 'conversation:*')) do "
                     "if not string.find(k, '}:', 1, true) then n = n + 1 end end return n",
                     "0"});
  EXPECT_EQ(conversations.integer(), signed_text::patrons + chatters);
  EXPECT_EQ(signed_text::stored(redis), texts);

  // Every dashboard saw every message's event, once, without a gap.
  for (auto& b : boards) {
    EXPECT_TRUE(wait_until([&] { return b.messages_seen() >= messages; }, std::chrono::seconds(20)))
        << b.messages_seen();
  }
  for (auto& b : boards) b.stop = true;
  for (auto& t : board_threads) t.join();
  int reconnected = 0;
  for (auto& b : boards) {
    EXPECT_EQ(b.resets, 0);
    EXPECT_EQ(b.message_events.size(), static_cast<std::size_t>(messages));
    for (const auto& [id, times] : b.seen) EXPECT_EQ(times, 1) << "event " << id;
    for (const auto& [id, times] : b.message_events) EXPECT_EQ(times, 1) << "message " << id;
    reconnected += b.reconnects;
  }
  EXPECT_GE(reconnected, 1) << "no dashboard lost its daemon: the kill proved nothing";
  std::printf("# proxy: %d texts and %d chats stored once; dashboards reconnected %d times\n",
              texts, chatters * chats_each, reconnected);
}

}  // namespace
}  // namespace askdesk::testing
