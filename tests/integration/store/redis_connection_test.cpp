#include "daemon/store/redis_connection.hpp"

#include <gtest/gtest.h>

#include "daemon/store/scripts.hpp"
#include "tests/support/io.hpp"
#include "tests/support/redis_server.hpp"

namespace askdesk::store {
namespace {

using askdesk::testing::run_until;

redis_connection_options options_for(int port) {
  redis_connection_options o;
  o.endpoint = config::parse_redis_url("redis://127.0.0.1:" + std::to_string(port) + "/0").value();
  o.name = "test";
  o.reconnect_min = std::chrono::milliseconds(20);
  o.reconnect_max = std::chrono::milliseconds(100);
  return o;
}

TEST(RedisConnection, RunsCommandsOnceReady) {
  testing::redis_server redis;
  boost::asio::io_context io;
  auto c = redis_connection::create(io, options_for(redis.port()));
  c->start();
  ASSERT_TRUE(run_until(io, [&] { return c->ready(); }));

  std::optional<reply> got;
  c->command({"SET", "greeting", "caf\xC3\xA9"}, [](reply) {});
  c->command({"GET", "greeting"}, [&](reply r) { got = std::move(r); });
  ASSERT_TRUE(run_until(io, [&] { return got.has_value(); }));
  EXPECT_EQ(got->str(), "caf\xC3\xA9");
}

TEST(RedisConnection, LooksUpAHostNameAndNamesOneThatDoesNotExist) {
  testing::redis_server redis;
  boost::asio::io_context io;
  auto named = options_for(redis.port());
  named.endpoint.host = "localhost";  // /etc/hosts: looked up on a thread, not the I/O thread
  auto c = redis_connection::create(io, named);
  c->start();
  ASSERT_TRUE(run_until(io, [&] { return c->ready(); }));

  auto nowhere = options_for(redis.port());
  nowhere.endpoint.host = "no-such-host.invalid";  // RFC 2606: never resolves
  auto lost = redis_connection::create(io, nowhere);
  lost->start();
  ASSERT_TRUE(run_until(
      io, [&] { return lost->last_error().starts_with("cannot resolve no-such-host.invalid"); }));
  lost->stop();
  c->stop();
}

TEST(RedisConnection, FailsFastWhileRedisIsDown) {
  boost::asio::io_context io;
  auto c = redis_connection::create(io, options_for(testing::free_port()));
  c->start();
  std::optional<reply> got;
  c->command({"PING"}, [&](reply r) { got = std::move(r); });
  ASSERT_TRUE(run_until(
      io, [&] { return got.has_value(); }, std::chrono::milliseconds(500)));
  EXPECT_TRUE(got->is_unavailable());
  EXPECT_FALSE(c->ready());
  EXPECT_NE(c->last_error(), "");
}

TEST(RedisConnection, ReconnectsByItselfWhenRedisReturns) {
  testing::redis_server redis;
  boost::asio::io_context io;
  auto c = redis_connection::create(io, options_for(redis.port()));
  int lost = 0, ready = 0;
  c->on_lost([&](const std::string&) { ++lost; });
  c->on_ready([&] { ++ready; });
  c->start();
  ASSERT_TRUE(run_until(io, [&] { return c->ready(); }));

  redis.kill();
  std::optional<reply> during;
  c->command({"PING"}, [&](reply r) { during = std::move(r); });
  ASSERT_TRUE(run_until(io, [&] { return during.has_value() && !c->ready(); }));
  EXPECT_TRUE(during->is_unavailable());

  redis.restart();
  ASSERT_TRUE(run_until(io, [&] { return c->ready(); }));
  EXPECT_EQ(lost, 1);
  EXPECT_EQ(ready, 2);
  std::optional<reply> after;
  c->command({"PING"}, [&](reply r) { after = std::move(r); });
  ASSERT_TRUE(run_until(io, [&] { return after.has_value(); }));
  EXPECT_EQ(after->str(), "PONG");
}

TEST(RedisConnection, DropsAConnectionWhoseReplyIsOverdue) {
  testing::redis_server redis;
  boost::asio::io_context io;
  auto o = options_for(redis.port());
  o.reply_timeout = std::chrono::milliseconds(300);
  auto c = redis_connection::create(io, o);
  c->start();
  ASSERT_TRUE(run_until(io, [&] { return c->ready(); }));

  // Redis holds this reply for 3 s, but the connection was not told it blocks.
  std::optional<reply> got;
  c->command({"BLPOP", "nothing-here", "3"}, [&](reply r) { got = std::move(r); });
  ASSERT_TRUE(run_until(
      io, [&] { return got.has_value(); }, std::chrono::seconds(2)));
  EXPECT_TRUE(got->is_unavailable());
  EXPECT_NE(got->str().find("no reply within 300 ms"), std::string::npos) << got->str();
  EXPECT_TRUE(run_until(io, [&] { return c->ready(); }));
}

TEST(RedisConnection, BlockingCommandsMayTakeTheirTime) {
  testing::redis_server redis;
  boost::asio::io_context io;
  auto o = options_for(redis.port());
  o.reply_timeout = std::chrono::milliseconds(300);
  auto c = redis_connection::create(io, o);
  c->start();
  ASSERT_TRUE(run_until(io, [&] { return c->ready(); }));
  std::optional<reply> got;
  const std::string_view args[] = {"BLPOP", "nothing-here", "1"};
  c->command(
      args, [&](reply r) { got = std::move(r); }, std::chrono::seconds(1));
  ASSERT_TRUE(run_until(
      io, [&] { return got.has_value(); }, std::chrono::seconds(3)));
  EXPECT_TRUE(got->is_nil());
}

TEST(RedisConnection, LoadsTheFunctionLibraryDuringTheHandshakeOnceForEveryConnection) {
  testing::redis_server redis;
  boost::asio::io_context io;
  config::redis_options settings;
  const script_set scripts(settings);
  auto o = options_for(redis.port());
  o.library = scripts.library();
  auto c = redis_connection::create(io, o);
  c->start();
  ASSERT_TRUE(run_until(io, [&] { return c->ready(); }));
  // A second connection finds the library there: the same code, still ready.
  auto second = redis_connection::create(io, o);
  second->start();
  ASSERT_TRUE(run_until(io, [&] { return second->ready(); })) << second->last_error();
  const auto listed = redis.command({"FUNCTION", "LIST", "LIBRARYNAME", scripts.library_name()});
  ASSERT_EQ(listed.size(), 1u) << listed.describe();
  std::size_t functions = 0;
  const auto& library = listed[0];
  for (std::size_t i = 0; i + 1 < library.size(); i += 2) {
    if (library[i].str() == "functions") functions = library[i + 1].size();
  }
  EXPECT_EQ(functions, static_cast<std::size_t>(script::count_));
}

TEST(RedisConnection, AWrongPasswordIsReportedAndNeverReady) {
  testing::redis_server redis;
  redis.command({"CONFIG", "SET", "requirepass", "right-password"});
  boost::asio::io_context io;
  auto o = options_for(redis.port());
  o.endpoint.password = "wrong-password";
  auto c = redis_connection::create(io, o);
  c->start();
  // The handshake was answered: Redis refused the password.
  ASSERT_TRUE(run_until(io, [&] { return c->last_error().find("WRONGPASS") != std::string::npos; }))
      << c->last_error();
  EXPECT_FALSE(c->ready());
  EXPECT_NE(c->last_error().find("WRONGPASS"), std::string::npos) << c->last_error();
}

TEST(RedisConnection, StopFailsPendingCommands) {
  testing::redis_server redis;
  boost::asio::io_context io;
  auto c = redis_connection::create(io, options_for(redis.port()));
  c->start();
  ASSERT_TRUE(run_until(io, [&] { return c->ready(); }));
  std::optional<reply> got;
  const std::string_view args[] = {"BLPOP", "nothing-here", "5"};
  c->command(
      args, [&](reply r) { got = std::move(r); }, std::chrono::seconds(5));
  // Redis has the BLPOP and blocks on it: the command is really pending when stop comes.
  ASSERT_TRUE(run_until(io, [&] {
    return redis.command({"INFO", "clients"}).str().find("blocked_clients:1") != std::string::npos;
  }));
  c->stop();
  ASSERT_TRUE(run_until(
      io, [&] { return got.has_value(); }, std::chrono::seconds(1)));
  EXPECT_TRUE(got->is_unavailable());
  EXPECT_FALSE(c->ready());
}

}  // namespace
}  // namespace askdesk::store
