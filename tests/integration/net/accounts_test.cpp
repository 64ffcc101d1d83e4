// Staff accounts through the CLI and the login API against the real daemon and redis-server:
// listing, changing a password (which ends the old sessions), refusing weak input, session
// lifetime (a session checked in Redis is trusted for a few seconds), and the Secure cookie behind
// a trusted TLS proxy.
#include <gtest/gtest.h>

#include "tests/support/askdesk_daemon.hpp"
#include "tests/support/wait.hpp"

namespace askdesk::testing {
namespace {

class Accounts : public ::testing::Test {
 protected:
  explicit Accounts(const char* config = R"({"auth": {"session_hours": 2}})")
      : daemon_(redis_, config) {
    daemon_.add_user("ann", "staff", {"reference"}, "ann-password-1");
  }

  http_result login(const std::string& name, const std::string& password) {
    return http_request("POST", daemon_.url("/api/v1/login"),
                        R"({"username":")" + name + R"(","password":")" + password + R"("})");
  }

  redis_server redis_;
  askdesk_daemon daemon_;
};

TEST_F(Accounts, UserListShowsNamesRolesTeamsAndState) {
  daemon_.add_user("sue", "supervisor", {}, "sue-password-1");
  ASSERT_EQ(daemon_.run_cli({"user", "disable", "sue"}).first, 0);
  const auto [code, output] = daemon_.run_cli({"user", "list"});
  ASSERT_EQ(code, 0) << output;
  EXPECT_NE(output.find("ann"), std::string::npos) << output;
  EXPECT_NE(output.find("reference"), std::string::npos) << output;
  EXPECT_NE(output.find("supervisor"), std::string::npos) << output;
  EXPECT_NE(output.find("disabled"), std::string::npos) << output;
}

TEST_F(Accounts, ChangingAPasswordEndsTheOldSessionsAndTheOldPassword) {
  const auto before = daemon_.login("ann", "ann-password-1");
  const auto [code, output] =
      daemon_.run_cli({"user", "passwd", "ann", "--password-stdin"}, "a-new-password-2\n");
  ASSERT_EQ(code, 0) << output;
  EXPECT_EQ(daemon_.call(before, "GET", "/api/v1/me").status, 401);
  EXPECT_EQ(login("ann", "ann-password-1").status, 401);
  EXPECT_EQ(login("ann", "a-new-password-2").status, 200);
}

TEST_F(Accounts, WeakOrMalformedInputIsRefusedAndChangesNothing) {
  const auto short_password = daemon_.run_cli(
      {"user", "add", "bob", "--role", "staff", "--team", "reference", "--password-stdin"},
      "short\n");
  EXPECT_NE(short_password.first, 0);
  EXPECT_NE(short_password.second.find("at least 10 characters"), std::string::npos)
      << short_password.second;
  const auto bad_role = daemon_.run_cli(
      {"user", "add", "bob", "--role", "wizard", "--password-stdin"}, "long-enough-pw\n");
  EXPECT_NE(bad_role.first, 0);
  EXPECT_NE(bad_role.second.find("wizard"), std::string::npos) << bad_role.second;
  const auto bad_name = daemon_.run_cli(
      {"user", "add", "Bob Smith", "--role", "staff", "--password-stdin"}, "long-enough-pw\n");
  EXPECT_NE(bad_name.first, 0);
  const auto twice = daemon_.run_cli({"user", "add", "ann", "--role", "staff", "--password-stdin"},
                                     "long-enough-pw\n");
  EXPECT_NE(twice.first, 0);
  EXPECT_EQ(login("bob", "long-enough-pw").status, 401);
  EXPECT_EQ(login("ann", "ann-password-1").status, 200);
}

TEST_F(Accounts, ASessionLastsSessionHoursSinceItsLastUse) {
  const auto s = daemon_.login("ann", "ann-password-1");
  auto keys = redis_.command({"KEYS", "session:*"});
  ASSERT_EQ(keys.size(), 1u);
  const auto ttl = redis_.command({"TTL", keys[0].str()});
  EXPECT_GT(ttl.integer(), 2 * 3600 - 60);
  EXPECT_LE(ttl.integer(), 2 * 3600);
  redis_.command({"EXPIRE", keys[0].str(), "100"});
  EXPECT_EQ(daemon_.call(s, "GET", "/api/v1/me").status, 200);  // use renews it
  EXPECT_GT(redis_.command({"TTL", keys[0].str()}).integer(), 2 * 3600 - 60);
  redis_.command({"DEL", keys[0].str()});  // what expiry does
  // The daemon trusts what it checked for a few seconds, then asks Redis again.
  EXPECT_TRUE(wait_until([&] { return daemon_.call(s, "GET", "/api/v1/me").status == 401; },
                         std::chrono::seconds(10)));
}

// How many times Redis renewed a session so far (each check in Redis renews it).
std::int64_t session_checks(redis_server& redis) {
  const std::string stats = redis.command({"INFO", "commandstats"}).str();
  const auto at = stats.find("cmdstat_expire:calls=");
  return at == std::string::npos ? 0 : std::stoll(stats.substr(at + 21));
}

TEST_F(Accounts, RequestsWithinAFewSecondsOfTheLastCheckAskRedisNothing) {
  const auto s = daemon_.login("ann", "ann-password-1");
  ASSERT_EQ(daemon_.call(s, "GET", "/api/v1/me").status, 200);
  const auto before = session_checks(redis_);
  for (int i = 0; i < 5; ++i) ASSERT_EQ(daemon_.call(s, "GET", "/api/v1/me").status, 200);
  EXPECT_EQ(session_checks(redis_), before);
  // A logout is not remembered past its own answer.
  ASSERT_EQ(daemon_.call(s, "POST", "/api/v1/logout").status, 204);
  EXPECT_EQ(daemon_.call(s, "GET", "/api/v1/me").status, 401);
}

TEST_F(Accounts, TheCookieIsNotSecureWhenAForwardedProtoIsNotTrusted) {
  const auto r = http_request("POST", daemon_.url("/api/v1/login"),
                              R"({"username":"ann","password":"ann-password-1"})",
                              {"X-Forwarded-Proto: https"});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("set-cookie").find("Secure"), std::string::npos);
}

class BehindTlsProxy : public Accounts {
 protected:
  BehindTlsProxy() : Accounts(R"({"http": {"trust_forwarded_proto": true}})") {}
};

TEST_F(BehindTlsProxy, TheCookieIsSecureWhenTheProxySaysHttps) {
  const auto tls = http_request("POST", daemon_.url("/api/v1/login"),
                                R"({"username":"ann","password":"ann-password-1"})",
                                {"X-Forwarded-Proto: https"});
  ASSERT_EQ(tls.status, 200);
  EXPECT_NE(tls.header("set-cookie").find("; Secure"), std::string::npos)
      << tls.header("set-cookie");
  EXPECT_EQ(login("ann", "ann-password-1").header("set-cookie").find("Secure"), std::string::npos);
}

}  // namespace
}  // namespace askdesk::testing
