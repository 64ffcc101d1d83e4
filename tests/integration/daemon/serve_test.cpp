// `askdesk serve` as an admin runs it: with no config at all, through SIGTERM, without
// Redis, with an oversized body; and `askdesk check-config` on good and bad files.
#include <gtest/gtest.h>

#include <csignal>

#include "tests/support/askdesk_daemon.hpp"
#include "tests/support/ws_client.hpp"

namespace askdesk::testing {
namespace {

TEST(Serve, WithNoConfigItRunsALocalHubAndStopsCleanlyOnSigterm) {
  redis_server redis;
  askdesk_daemon daemon(redis, "");  // waits for /healthz 200
  const auto health = http_request("GET", daemon.url("/healthz"));
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(json_string(health.body, "status"), "ok");
  EXPECT_EQ(health.header("content-type"), "application/json");
  // The built-in config: web chat on, one team "reference".
  ws_client patron(daemon.port(), "/ws/patron", daemon.origin());
  patron.send(R"({"type":"hello","team":"reference"})");
  const auto welcome = patron.read_until("welcome");
  ASSERT_TRUE(welcome);
  EXPECT_NE(welcome->find(R"("id":"reference")"), std::string::npos);

  const auto started = std::chrono::steady_clock::now();
  daemon.process().signal(SIGTERM);
  const auto code = daemon.process().wait(std::chrono::seconds(5));
  ASSERT_TRUE(code) << "still running 5 s after SIGTERM";
  EXPECT_EQ(*code, 0) << daemon.process().log();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  // Open WebSockets were told the server is going away.
  patron.read(std::chrono::milliseconds(500));
  EXPECT_EQ(patron.close_code(), 1001);
}

// Redis frozen (not gone: commands wait for answers that never come) when SIGTERM arrives:
// the daemon gives up at its deadline and still ends cleanly, without running a waiting
// command's handler on a part already destroyed.
TEST(Serve, SigtermWhileRedisHangsStillEndsCleanly) {
  redis_server redis;
  askdesk_daemon daemon(redis, "");
  ws_client patron(daemon.port(), "/ws/patron", daemon.origin());
  patron.send(R"({"type":"hello","team":"reference"})");
  ASSERT_TRUE(patron.read_until("welcome"));
  ::kill(redis.pid(), SIGSTOP);
  patron.send(R"({"type":"message","text":"Are you there?","client_id":"m1"})");
  // Not acknowledged: its storing waits on Redis.
  EXPECT_FALSE(patron.read_until(R"("type":"ack")", std::chrono::milliseconds(300)));
  daemon.process().signal(SIGTERM);
  const auto code = daemon.process().wait(std::chrono::seconds(8));
  ::kill(redis.pid(), SIGCONT);
  ASSERT_TRUE(code) << "still running 8 s after SIGTERM";
  EXPECT_EQ(*code, 0) << daemon.process().log();
}

TEST(Serve, HealthIs503WithTheReasonWhileRedisIsDownAndRecoversByItself) {
  redis_server redis;
  askdesk_daemon daemon(redis, "");
  redis.kill();
  http_result down;
  for (int i = 0; i < 100 && down.status != 503; ++i) {
    down = http_request("GET", daemon.url("/healthz"));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(down.status, 503);
  EXPECT_NE(down.body.find("redis"), std::string::npos) << down.body;
  // Nothing is acknowledged that is not stored: the API says unavailable.
  const auto login = http_request("POST", daemon.url("/api/v1/login"),
                                  R"({"username":"ann","password":"a-long-password"})",
                                  {"Content-Type: application/json"});
  EXPECT_EQ(login.status, 503) << login.body;

  redis.restart();
  http_result up;
  for (int i = 0; i < 250 && up.status != 200; ++i) {
    up = http_request("GET", daemon.url("/healthz"));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(up.status, 200) << up.body;
}

TEST(Serve, AnOversizedBodyGets413AndUnknownPathsAJsonError) {
  redis_server redis;
  askdesk_daemon daemon(redis, "");
  const auto big =
      http_request("POST", daemon.url("/api/v1/login"), std::string(1024 * 1024 + 1, 'x'),
                   {"Content-Type: application/json"});
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(json_string(big.body, "code"), "payload_too_large");
  const auto missing = http_request("GET", daemon.url("/api/v1/nothing-here"));
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(json_string(missing.body, "code"), "not_found");
  // And the daemon is still fine.
  EXPECT_EQ(http_request("GET", daemon.url("/healthz")).status, 200);
}

TEST(Serve, MetricsArePrometheusText) {
  redis_server redis;
  askdesk_daemon daemon(redis, "");
  const auto metrics = http_request("GET", daemon.url("/metrics"));
  ASSERT_EQ(metrics.status, 200);
  EXPECT_TRUE(metrics.header("content-type").starts_with("text/plain; version=0.0.4"));
  for (const char* name : {"# TYPE askdesk_messages_received_total counter", "askdesk_queue_depth",
                           "askdesk_websocket_clients", "askdesk_redis_rtt_seconds"}) {
    EXPECT_NE(metrics.body.find(name), std::string::npos) << name << " missing in\n"
                                                          << metrics.body;
  }
}

TEST(Serve, TheStaticFilesCarryAContentSecurityPolicy) {
  redis_server redis;
  askdesk_daemon daemon(redis, "");
  const auto page = http_request("GET", daemon.url("/"));
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.header("content-security-policy").find("script-src 'self'"), std::string::npos);
  EXPECT_EQ(http_request("GET", daemon.url("/widget.js")).status, 200);
  EXPECT_EQ(http_request("GET", daemon.url("/dashboard/../../etc/passwd")).status, 404);
}

class CheckConfig : public ::testing::Test {
 protected:
  std::pair<int, std::string> check(const std::string& text) {
    const std::string file = dir_.write("askdesk.json", text);
    return daemon_.run_cli({"check-config", file});
  }
  redis_server redis_;
  askdesk_daemon daemon_{redis_, ""};
  temp_dir dir_;
};

TEST_F(CheckConfig, AGoodFileIsOk) {
  const auto [code, output] = check(R"({
    // comments and trailing commas are fine
    "http": {"listen": "127.0.0.1:9090", "public_url": "https://help.example.org",},
    "teams": [{"id": "reference", "name": "Reference desk"}],
    "connectors": [{"id": "chat", "type": "webchat"}],
  })");
  EXPECT_EQ(code, 0) << output;
  EXPECT_EQ(output, "ok\n");
}

TEST_F(CheckConfig, EveryProblemIsPrintedWithItsPath) {
  const auto [code, output] = check(R"({
    "htp": {},
    "http": {"listen": "127.0.0.1"},
    "connectors": [{"id": "chat", "type": "webchat"}, {"id": "sms", "type": "replay"}],
  })");
  EXPECT_NE(code, 0);
  EXPECT_NE(output.find("htp: unknown key"), std::string::npos) << output;
  EXPECT_NE(output.find("http.listen:"), std::string::npos) << output;
  EXPECT_NE(output.find("connectors[1].token: required"), std::string::npos) << output;
}

TEST_F(CheckConfig, BadJsonAndAMissingVariableAreNamed) {
  auto [code, output] = check(R"({"http": {"listen": )");
  EXPECT_NE(code, 0);
  EXPECT_NE(output.find("askdesk.json"), std::string::npos) << output;
  std::tie(code, output) = check(R"({"redis": {"url": "${ASKDESK_TEST_SURELY_UNSET}"}})");
  EXPECT_NE(code, 0);
  EXPECT_NE(output.find("ASKDESK_TEST_SURELY_UNSET"), std::string::npos) << output;
}

TEST_F(CheckConfig, TheShippedConfigsAreValid) {
  // The example documents every key with values that must pass; its ${VARS} need values.
  setenv("REDIS_PASSWORD", "secret", 1);
  setenv("ASKDESK_REPLAY_TOKEN", "0123456789abcdef0123", 1);
  setenv("TWILIO_ACCOUNT_SID", "AC0123456789abcdef0123456789abcdef", 1);
  setenv("TWILIO_AUTH_TOKEN", "an-auth-token", 1);
  setenv("MAIL_PASSWORD", "a-mail-password", 1);
  setenv("XMPP_PASSWORD", "an-xmpp-password", 1);
  setenv("TELEGRAM_BOT_TOKEN", "123456789:AAHexampleTokenFromBotFather_0123456789", 1);
  setenv("TELEGRAM_WEBHOOK_SECRET", "a-webhook-secret_0123456789", 1);
  setenv("MASTODON_TOKEN", "aMastodonAccessToken_0123456789-abcdefghijk", 1);
  setenv("BLUESKY_APP_PASSWORD", "abcd-efgh-ijkl-mnop", 1);
  for (const char* file : {"/deploy/demo.json", "/deploy/askdesk.example.jsonc"}) {
    const auto [code, output] =
        daemon_.run_cli({"check-config", ASKDESK_SOURCE_DIR + std::string(file)});
    EXPECT_EQ(code, 0) << file << ": " << output;
  }
}

}  // namespace
}  // namespace askdesk::testing
