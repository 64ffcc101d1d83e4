#include "daemon/config/config.hpp"

#include <gtest/gtest.h>

#include "tests/support/temp_dir.hpp"

#include <map>
#include <string>

namespace askdesk::config {
namespace {

// Parses `text` with the given environment; returns the config or the problems as text.
struct parsed {
  std::optional<daemon_config> config;
  std::string problems;
};

parsed parse_with(std::string_view text, std::map<std::string, std::string> vars = {},
                  const connector_check& check = {}) {
  const json::environment env = [vars](const std::string& name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
  json::problems out;
  defaults fallback;
  fallback.redis_url = "redis://127.0.0.1:6399/0";
  auto c = parse(text, fallback, env, out, check);
  EXPECT_EQ(c.has_value(), out.empty()) << out.to_string();
  return {std::move(c), out.to_string()};
}

TEST(Config, AnEmptyObjectIsTheUsefulLocalHub) {
  const auto p = parse_with("{}");
  ASSERT_TRUE(p.config) << p.problems;
  EXPECT_EQ(p.config->http.listen_host, "127.0.0.1");
  EXPECT_EQ(p.config->http.listen_port, 8080);
  EXPECT_EQ(p.config->redis.endpoint.port, 6399);
  ASSERT_EQ(p.config->teams.size(), 1u);
  EXPECT_EQ(p.config->teams[0].id, "reference");
  ASSERT_EQ(p.config->connectors.size(), 1u);
  EXPECT_EQ(p.config->connectors[0].type, "webchat");
}

TEST(Config, CommentsAndTrailingCommasAreAllowed) {
  const auto p = parse_with(R"({
    // the desk
    "http": {"listen": "0.0.0.0:9000", /* all addresses */},
    "teams": [{"id": "reference", "name": "Reference desk"},],
  })");
  ASSERT_TRUE(p.config) << p.problems;
  EXPECT_EQ(p.config->http.listen_host, "0.0.0.0");
  EXPECT_EQ(p.config->http.listen_port, 9000);
  EXPECT_EQ(p.config->teams[0].name, "Reference desk");
}

TEST(Config, VariablesComeFromTheEnvironment) {
  const auto p = parse_with(R"({"redis": {"url": "redis://:${REDIS_PASSWORD}@10.0.0.5:6380/2"}})",
                            {{"REDIS_PASSWORD", "s3cret"}});
  ASSERT_TRUE(p.config) << p.problems;
  EXPECT_EQ(p.config->redis.endpoint.host, "10.0.0.5");
  EXPECT_EQ(p.config->redis.endpoint.port, 6380);
  EXPECT_EQ(p.config->redis.endpoint.db, 2);
  EXPECT_EQ(p.config->redis.endpoint.password, "s3cret");
  EXPECT_EQ(p.config->redis.endpoint.describe().find("s3cret"), std::string::npos);
}

TEST(Config, AMissingVariableIsAnErrorNamingIt) {
  const auto p = parse_with(R"({"http": {"public_url": "${PUBLIC_URL}"}})");
  EXPECT_FALSE(p.config);
  EXPECT_NE(p.problems.find("http.public_url"), std::string::npos) << p.problems;
  EXPECT_NE(p.problems.find("PUBLIC_URL is not set"), std::string::npos) << p.problems;
}

TEST(Config, UnknownKeysAreErrorsThatSuggestTheRightName) {
  const auto p = parse_with(R"({"http": {"alowed_origins": []}, "colour": 1})");
  EXPECT_FALSE(p.config);
  EXPECT_NE(p.problems.find("http.alowed_origins: unknown key (did you mean 'allowed_origins'?)"),
            std::string::npos)
      << p.problems;
  EXPECT_NE(p.problems.find("colour: unknown key"), std::string::npos) << p.problems;
}

TEST(Config, EveryProblemIsReportedWithItsPath) {
  const auto p = parse_with(R"({
    "http": {"listen": "nowhere", "allowed_origins": ["https://a.example.org/path"]},
    "redis": {"url": "http://redis"},
    "teams": [{"id": "Reference"}, {"id": "kids"}, {"id": "kids"}],
    "topics": [{"id": "events", "team": "adults"}],
    "connectors": [{"type": "webchat"}, {"id": "web", "type": "webchat"}, {"id": "web", "type": 3}]
  })");
  EXPECT_FALSE(p.config);
  for (const char* expected :
       {"http.listen: must be host:port", "http.allowed_origins[0]: must be an origin",
        "redis.url:", "teams[0].id: must match", "teams[2].id: duplicate team id 'kids'",
        "topics[0].team: no team with id 'adults'", "connectors[0].id: required",
        "connectors[2].id: duplicate connector id 'web'", "connectors[2].type: must be a string"}) {
    EXPECT_NE(p.problems.find(expected), std::string::npos) << expected << "\n" << p.problems;
  }
}

TEST(Config, SentinelsReplaceTheUrlAndAskForOneReplicaByDefault) {
  const auto p = parse_with(R"({"redis": {
    "sentinels": ["10.0.0.1:26379", "[fd00::2]:26380"], "master_name": "askdesk",
    "sentinel_password": "${SENTINEL_PASSWORD}", "password": "pw", "db": 2}})",
                            {{"SENTINEL_PASSWORD", "sp"}});
  ASSERT_TRUE(p.config) << p.problems;
  const auto& r = p.config->redis;
  ASSERT_EQ(r.sentinel.addresses.size(), 2u);
  EXPECT_EQ(r.sentinel.addresses[1].host, "fd00::2");
  EXPECT_EQ(r.sentinel.addresses[1].port, 26380);
  EXPECT_EQ(r.sentinel.master_name, "askdesk");
  EXPECT_EQ(r.sentinel.password, "sp");
  EXPECT_EQ(r.endpoint.password, "pw");
  EXPECT_EQ(r.endpoint.db, 2);
  EXPECT_EQ(r.min_replicas_acked, 1);
  EXPECT_EQ(r.describe(),
            "master 'askdesk' (db 2) through sentinels 10.0.0.1:26379 [fd00::2]:26380");
  EXPECT_EQ(parse_with("{}").config->redis.min_replicas_acked, 0);
}

TEST(Config, ABadSentinelSetupIsRefusedWithItsPath) {
  const auto p = parse_with(
      R"({"redis": {"sentinels": ["10.0.0.1", "10.0.0.2:26379"], "min_replicas_acked": -1}})");
  EXPECT_FALSE(p.config);
  for (const char* expected :
       {"redis.sentinels[0]: must be host:port", "redis.master_name: required",
        "redis.min_replicas_acked: must be between 0 and"}) {
    EXPECT_NE(p.problems.find(expected), std::string::npos) << expected << "\n" << p.problems;
  }
  const auto lone = parse_with(R"({"redis": {"master_name": "askdesk"}})");
  EXPECT_NE(lone.problems.find("redis.master_name: is used only with \"sentinels\""),
            std::string::npos)
      << lone.problems;
  const auto proxies = parse_with(R"({"http": {"trusted_proxies": ["127.0.0.1", "nginx"]}})");
  EXPECT_NE(proxies.problems.find("http.trusted_proxies[1]: must be an IP address"),
            std::string::npos)
      << proxies.problems;
}

TEST(Config, NumbersOutOfRangeAndWrongTypesAreRefused) {
  const auto p = parse_with(
      R"({"auth": {"session_hours": 0, "login_attempts": "five"}, "log_level": "loud"})");
  EXPECT_FALSE(p.config);
  EXPECT_NE(p.problems.find("auth.session_hours: must be between 1 and"), std::string::npos)
      << p.problems;
  EXPECT_NE(p.problems.find("auth.login_attempts: must be an integer, not a string"),
            std::string::npos)
      << p.problems;
  EXPECT_NE(p.problems.find("log_level: must be one of"), std::string::npos) << p.problems;
}

TEST(Config, SyntaxErrorsSayWhere) {
  const auto p = parse_with("{\n  \"http\": {\"listen\": \"127.0.0.1:1\"\n  \"teams\": []\n}");
  EXPECT_FALSE(p.config);
  EXPECT_NE(p.problems.find("line 3"), std::string::npos) << p.problems;
}

TEST(Config, ConnectorChecksReportAlongsideTheRest) {
  const auto p = parse_with(R"({"connectors": [{"id": "sms", "type": "twilio"}], "x": 1})", {},
                            [](const daemon_config& c, json::problems& out) {
                              ASSERT_EQ(c.connectors.size(), 1u);
                              out.add(c.connectors[0].path + ".auth_token", "required");
                            });
  EXPECT_FALSE(p.config);
  EXPECT_NE(p.problems.find("connectors[0].auth_token: required"), std::string::npos) << p.problems;
  EXPECT_NE(p.problems.find("x: unknown key"), std::string::npos) << p.problems;
}

TEST(Config, ThePublicUrlDefaultsToTheListenAddressAndIsAlwaysAnAllowedOrigin) {
  const auto p = parse_with(R"({"http": {"public_url": "https://ask.example.org/",
                                          "allowed_origins": ["https://www.example.org"]}})");
  ASSERT_TRUE(p.config) << p.problems;
  const auto& http = p.config->http;
  EXPECT_EQ(http.public_url, "https://ask.example.org");
  EXPECT_TRUE(http.origin_allowed("https://ask.example.org"));
  EXPECT_TRUE(http.origin_allowed("https://www.example.org"));
  EXPECT_FALSE(http.origin_allowed("https://evil.example.net"));
  EXPECT_FALSE(http.origin_allowed("https://www.example.org.evil.example.net"));

  const auto local = parse_with(R"({"http": {"listen": "127.0.0.1:9100"}})");
  ASSERT_TRUE(local.config) << local.problems;
  EXPECT_EQ(local.config->http.public_url, "http://127.0.0.1:9100");
}

TEST(Config, TopicsCarryTheirRulesAndRoutingItsClassifier) {
  testing::temp_dir dir;
  dir.write("examples.jsonl", R"({"text":"renew my books","topic":"circulation"})"
                              "\n");
  json::problems out;
  defaults fallback;
  const std::string file = dir.write("askdesk.json", R"({
    "teams": [{"id": "reference"}, {"id": "circulation"}],
    "topics": [{"id": "circulation", "team": "circulation", "keywords": ["renew", "due date"],
                "patterns": ["\\boverdue\\b"], "channels": ["sms"], "senders": ["+1555*"],
                "weight": 2.5},
               {"id": "general", "team": "reference"}],
    "routing": {"default_topic": "general", "examples": "examples.jsonl", "min_confidence": 0.7}
  })");
  auto c = load_file(file, fallback, json::no_environment(), out);
  ASSERT_TRUE(c) << out.to_string();
  ASSERT_EQ(c->topics.size(), 2u);
  const auto& t = c->topics[0];
  EXPECT_EQ(t.keywords, (std::vector<std::string>{"renew", "due date"}));
  EXPECT_EQ(t.patterns, (std::vector<std::string>{"\\boverdue\\b"}));
  EXPECT_EQ(t.channels, (std::vector<std::string>{"sms"}));
  EXPECT_EQ(t.senders, (std::vector<std::string>{"+1555*"}));
  EXPECT_DOUBLE_EQ(t.weight, 2.5);
  EXPECT_EQ(c->routing.default_topic, "general");
  EXPECT_DOUBLE_EQ(c->routing.min_confidence, 0.7);
  EXPECT_EQ(c->routing.examples, dir.file("examples.jsonl"));  // next to the config file
  ASSERT_EQ(c->routing.example_set.size(), 1u);  // read once, here, for the classifier
  EXPECT_EQ(c->routing.example_set[0].topic, "circulation");
}

TEST(Config, BadTopicRulesAndRoutingAreReportedWithTheirPaths) {
  testing::temp_dir dir;
  const std::string examples =
      dir.write("examples.jsonl", R"({"text":"story time","topic":"events"})"
                                  "\n");
  const auto p = parse_with(R"({
    "topics": [{"id": "circulation", "team": "reference", "keywords": ["renew", "!!"],
                "patterns": ["(unclosed"], "weight": 0, "colour": 1}],
    "routing": {"default_topic": "general", "min_confidence": 1.5, "examples": ")" +
                            examples + R"("}
  })");
  EXPECT_FALSE(p.config);
  for (const char* expected :
       {"topics[0].keywords[1]: has no letters or digits", "topics[0].patterns[0]: not a valid",
        "topics[0].weight: must be between", "topics[0].colour: unknown key",
        "routing.default_topic: no topic with id 'general'",
        "routing.min_confidence: must be between 0 and 1",
        "topics[0].weight: must be between 0.001 and 1000",
        "has examples of 'events', which is not in topics"}) {
    EXPECT_NE(p.problems.find(expected), std::string::npos) << expected << "\n" << p.problems;
  }
  const auto missing = parse_with(R"({"routing": {"examples": "/nonexistent/examples.jsonl"}})");
  EXPECT_NE(missing.problems.find("routing.examples: cannot read topic examples"),
            std::string::npos)
      << missing.problems;
}

TEST(Config, TeamsCarryTheirRoutingPolicyAndRoutingItsRules) {
  const auto p = parse_with(R"({
    "teams": [{"id": "reference", "mode": "least-busy", "capacity": 4, "offer_timeout_seconds": 20,
               "overflow_team": "circulation", "overflow_after_minutes": 3,
               "wait_alert_minutes": 10},
              {"id": "circulation"}],
    "routing": {"sticky_days": 7, "away_after_seconds": 60, "unanswered_minutes": 15,
                "priorities": [{"channel": "sms", "priority": 10}, {"tag": "urgent", "priority": 100}]}
  })");
  ASSERT_TRUE(p.config) << p.problems;
  const auto& policy = p.config->teams[0].policy;
  EXPECT_EQ(policy.id, "reference");
  EXPECT_EQ(policy.mode, core::team_mode::least_busy);
  EXPECT_EQ(policy.capacity, 4);
  EXPECT_EQ(policy.offer_timeout, std::chrono::seconds(20));
  EXPECT_EQ(policy.overflow_team, "circulation");
  EXPECT_EQ(policy.overflow_after, std::chrono::minutes(3));
  EXPECT_EQ(p.config->teams[1].policy.mode, core::team_mode::broadcast);
  EXPECT_EQ(p.config->teams[0].wait_alert, std::chrono::minutes(10));
  EXPECT_EQ(p.config->teams[1].wait_alert, std::chrono::minutes(5));
  const auto& routing = p.config->routing;
  EXPECT_EQ(routing.sticky_days, 7);
  EXPECT_EQ(routing.away_after_seconds, 60);
  EXPECT_EQ(routing.unanswered_minutes, 15);
  ASSERT_EQ(routing.priorities.size(), 2u);
  EXPECT_EQ(routing.priorities[1].tag, "urgent");
  EXPECT_EQ(routing.priorities[1].priority, 100);
}

TEST(Config, BadTeamPoliciesAreReportedWithTheirPaths) {
  const auto p = parse_with(R"({
    "teams": [{"id": "reference", "mode": "lottery", "capacity": 0, "overflow_team": "reference",
               "wait_alert_minutes": 0},
              {"id": "kids", "overflow_team": "adults"}],
    "routing": {"priorities": [{"channel": "sms"}, {"priority": 5, "colour": "red"}]}
  })");
  EXPECT_FALSE(p.config);
  for (const char* expected :
       {"teams[0].mode: must be broadcast, least-busy or round-robin, not 'lottery'",
        "teams[0].capacity: must be between 1 and 100",
        "teams[0].wait_alert_minutes: must be between 1 and 10080",
        "teams[0].overflow_team: a team cannot overflow to itself",
        "teams[1].overflow_team: no team with id 'adults'",
        "routing.priorities[0].priority: required", "routing.priorities[1].colour: unknown key"}) {
    EXPECT_NE(p.problems.find(expected), std::string::npos) << expected << "\n" << p.problems;
  }
  const auto loop = parse_with(R"({"teams": [{"id": "a", "overflow_team": "b"},
                                            {"id": "b", "overflow_team": "a"}]})");
  for (const char* expected : {"teams[0].overflow_team: overflow teams form a loop: a -> b -> a",
                               "teams[1].overflow_team: overflow teams form a loop: b -> a -> b"}) {
    EXPECT_NE(loop.problems.find(expected), std::string::npos) << expected << "\n" << loop.problems;
  }
}

TEST(Config, RedisUrls) {
  auto tcp = parse_redis_url("redis://user:pw@redis.example.org:7000/3");
  ASSERT_TRUE(tcp) << tcp.err().message;
  EXPECT_EQ(tcp.value().username, "user");
  EXPECT_EQ(tcp.value().port, 7000);
  EXPECT_EQ(tcp.value().db, 3);
  auto unix_socket = parse_redis_url("unix:///run/redis/redis.sock?db=1");
  ASSERT_TRUE(unix_socket) << unix_socket.err().message;
  EXPECT_TRUE(unix_socket.value().unix_socket);
  EXPECT_EQ(unix_socket.value().path, "/run/redis/redis.sock");
  EXPECT_EQ(unix_socket.value().db, 1);
  for (const char* bad :
       {"", "http://x", "redis://host:99999", "redis://host/notanumber", "unix://relative.sock"}) {
    EXPECT_FALSE(parse_redis_url(bad)) << bad;
  }
}

TEST(Config, ListenAddresses) {
  std::string host;
  std::uint16_t port = 0;
  EXPECT_TRUE(parse_listen("[::1]:8443", host, port));
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 8443);
  for (const char* bad : {"", "8080", "host:", ":8080", "host:0", "host:70000", "host:80x"}) {
    EXPECT_FALSE(parse_listen(bad, host, port)) << bad;
  }
}

TEST(Config, Ids) {
  EXPECT_TRUE(is_valid_id("reference"));
  EXPECT_TRUE(is_valid_id("local-history_2"));
  for (const char* bad : {"", "Reference", "-x", "a b", "a/b", "é"}) EXPECT_FALSE(is_valid_id(bad));
  EXPECT_FALSE(is_valid_id(std::string(65, 'a')));
}

}  // namespace
}  // namespace askdesk::config
