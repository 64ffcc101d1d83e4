// The asynchronous libcurl client against askdesk's own HTTP server on loopback, both on one
// io_context: requests with bodies, headers and basic auth, many at once, timeouts, refused
// connections, oversized answers and schemes that are not allowed.
#include "daemon/net/curl_client.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "daemon/net/http_server.hpp"
#include "tests/support/temp_dir.hpp"

namespace askdesk::net {
namespace {

namespace asio = boost::asio;

class CurlClient : public ::testing::Test {
 protected:
  CurlClient() {
    router_.add("GET", "/hello", [](const http_request&, const route_params&, respond_fn respond) {
      respond(http_response::text(200, "hello").header("X-Answer", "42"));
    });
    router_.add("POST", "/echo",
                [](const http_request& r, const route_params&, respond_fn respond) {
                  respond(http_response::text(201, std::string(r.header("authorization")) + "|" +
                                                       std::string(r.header("content-type")) + "|" +
                                                       r.body));
                });
    router_.add("GET", "/slow",
                [this](const http_request&, const route_params&, respond_fn respond) {
                  ++slow_requests_;
                  auto timer = std::make_shared<asio::steady_timer>(io_, std::chrono::seconds(3));
                  timer->async_wait([timer, respond](const boost::system::error_code&) {
                    respond(http_response::text(200, "late"));
                  });
                });
    router_.add("GET", "/big", [](const http_request&, const route_params&, respond_fn respond) {
      respond(http_response::text(200, std::string(200000, 'x')));
    });
    server_ = http_server::create(io_, {.host = "127.0.0.1", .port = 0}, router_);
    EXPECT_TRUE(server_->listen());
    base_ = "http://127.0.0.1:" + std::to_string(server_->port());
  }

  // Runs the io_context until `pending` requests have completed (or 20 s).
  void run_until_done(const int& pending) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (pending > 0 && std::chrono::steady_clock::now() < deadline) {
      io_.run_for(std::chrono::milliseconds(20));
    }
    EXPECT_EQ(pending, 0);
  }

  asio::io_context io_;
  http_router router_;
  std::unique_ptr<http_server> server_;
  std::string base_;
  int slow_requests_ = 0;  // requests /slow received
};

TEST_F(CurlClient, GetsStatusHeadersAndBody) {
  curl_client client(io_);
  int pending = 1;
  core::result<incoming_response> got = core::error{"none", ""};
  client.send({.url = base_ + "/hello"}, [&](core::result<incoming_response> r) {
    got = std::move(r);
    --pending;
  });
  run_until_done(pending);
  ASSERT_TRUE(got) << got.err().message;
  EXPECT_EQ(got->status, 200);
  EXPECT_EQ(got->body, "hello");
  EXPECT_EQ(got->header("X-ANSWER"), "42");
  EXPECT_EQ(client.in_flight(), 0u);
}

TEST_F(CurlClient, PostsFormsWithBasicAuth) {
  curl_client client(io_);
  int pending = 1;
  core::result<incoming_response> got = core::error{"none", ""};
  client.send({.method = "POST",
               .url = base_ + "/echo",
               .headers = {{"Content-Type", "application/x-www-form-urlencoded"}},
               .body = "To=%2B15550100&Body=Hi",
               .username = "AC123",
               .password = "secret"},
              [&](core::result<incoming_response> r) {
                got = std::move(r);
                --pending;
              });
  run_until_done(pending);
  ASSERT_TRUE(got) << got.err().message;
  EXPECT_EQ(got->status, 201);
  EXPECT_EQ(got->body,
            "Basic QUMxMjM6c2VjcmV0|application/x-www-form-urlencoded|To=%2B15550100&Body=Hi");
}

TEST_F(CurlClient, ManyRequestsAtOnceEachCompleteOnce) {
  curl_client client(io_);
  int pending = 300;
  int ok = 0, calls = 0;
  for (int i = 0; i < 300; ++i) {
    client.send({.url = base_ + "/hello"}, [&](core::result<incoming_response> r) {
      ++calls;
      if (r && r->status == 200 && r->body == "hello") ++ok;
      --pending;
    });
  }
  run_until_done(pending);
  EXPECT_EQ(ok, 300);
  EXPECT_EQ(calls, 300);
}

TEST_F(CurlClient, FailuresAreErrorsThatNameTheUrl) {
  curl_client client(io_, {.max_response_bytes = 100000});
  const std::string refused =
      "http://127.0.0.1:" + std::to_string(askdesk::testing::free_port()) + "/x";
  std::map<std::string, core::result<incoming_response>> got;
  int pending = 4;
  const auto keep = [&](std::string name) {
    return [&, name](core::result<incoming_response> r) {
      got.emplace(name, std::move(r));
      --pending;
    };
  };
  client.send({.url = base_ + "/slow", .timeout = std::chrono::milliseconds(300)}, keep("slow"));
  client.send({.url = refused}, keep("refused"));
  client.send({.url = base_ + "/big"}, keep("big"));
  client.send({.url = "file:///etc/passwd"}, keep("file"));
  run_until_done(pending);
  ASSERT_EQ(got.size(), 4u);
  for (const auto& [name, r] : got) ASSERT_FALSE(r) << name;
  EXPECT_EQ(got.at("slow").err().code, "unavailable");
  EXPECT_NE(got.at("slow").err().message.find("/slow"), std::string::npos);
  EXPECT_EQ(got.at("refused").err().code, "unavailable");
  EXPECT_NE(got.at("big").err().message.find("larger than 100000 bytes"), std::string::npos);
  EXPECT_EQ(got.at("file").err().code, "invalid");
}

TEST_F(CurlClient, DestroyingItAbandonsWhatIsInFlight) {
  int calls = 0;
  {
    curl_client client(io_);
    client.send({.url = base_ + "/slow"}, [&](core::result<incoming_response>) { ++calls; });
    // In flight for real: the server has the request.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (slow_requests_ == 0 && std::chrono::steady_clock::now() < deadline) {
      io_.run_for(std::chrono::milliseconds(5));
    }
    ASSERT_EQ(slow_requests_, 1);
    EXPECT_EQ(client.in_flight(), 1u);
  }
  io_.run_for(std::chrono::milliseconds(200));
  EXPECT_EQ(calls, 0);
}

// A stopping daemon drops its long polls: nothing in flight is left to keep the io_context busy,
// and no `done` runs.
TEST_F(CurlClient, AbandonAllDropsWhatIsInFlightWithoutCallingBack) {
  int calls = 0;
  curl_client client(io_);
  client.send({.url = base_ + "/slow"}, [&](core::result<incoming_response>) { ++calls; });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (slow_requests_ == 0 && std::chrono::steady_clock::now() < deadline) {
    io_.run_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(slow_requests_, 1);
  client.abandon_all();
  EXPECT_EQ(client.in_flight(), 0u);
  io_.poll();
  EXPECT_EQ(calls, 0);
}

}  // namespace
}  // namespace askdesk::net
