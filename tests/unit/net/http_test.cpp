#include "daemon/net/http.hpp"

#include <gtest/gtest.h>

#include "daemon/json/document.hpp"

namespace askdesk::net {
namespace {

http_request request(std::string method, std::string target) {
  http_request r;
  r.method = std::move(method);
  r.target = std::move(target);
  const auto q = r.target.find('?');
  r.path = r.target.substr(0, q);
  if (q != std::string::npos) r.query = r.target.substr(q + 1);
  return r;
}

// Dispatches synchronously (every handler here answers at once) and returns the answer.
http_response dispatch(const http_router& router, const http_request& r) {
  http_response answer;
  answer.status = -1;
  router.dispatch(r, [&](http_response a) { answer = std::move(a); });
  return answer;
}

std::string error_code(const http_response& r) {
  auto doc = json::document::parse(r.body);
  if (!doc) return "not json: " + r.body;
  return doc->root()["error"]["code"].GetString();
}

TEST(HttpRouter, MatchesParametersAndDecodesThem) {
  http_router router;
  std::string seen;
  router.add("POST", "/api/v1/conversations/{id}/claim",
             [&](const http_request&, const route_params& p, respond_fn respond) {
               seen = p.get("id");
               respond(http_response::json(200, "{}"));
             });
  EXPECT_EQ(dispatch(router, request("POST", "/api/v1/conversations/12%2F3/claim")).status, 200);
  EXPECT_EQ(seen, "12/3");
}

TEST(HttpRouter, UnknownPathsAre404AndWrongMethods405WithTheErrorShape) {
  http_router router;
  router.add("GET", "/api/v1/teams",
             [](const http_request&, const route_params&, respond_fn respond) {
               respond(http_response::json(200, "{}"));
             });
  const auto missing = dispatch(router, request("GET", "/api/v1/nothing"));
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(error_code(missing), "not_found");
  const auto wrong = dispatch(router, request("DELETE", "/api/v1/teams"));
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(missing.content_type, "application/json");
}

TEST(HttpRouter, ATailPatternTakesTheRest) {
  http_router router;
  std::string rest;
  router.add("GET", "/dashboard/*",
             [&](const http_request&, const route_params& p, respond_fn respond) {
               rest = p.get("*");
               respond(http_response::text(200, "ok"));
             });
  EXPECT_EQ(dispatch(router, request("GET", "/dashboard/views/app.js?v=1")).status, 200);
  EXPECT_EQ(rest, "views/app.js");
}

TEST(HttpRouter, MalformedEscapesInThePathAreRefused) {
  http_router router;
  router.add("GET", "/x/{id}", [](const http_request&, const route_params&, respond_fn respond) {
    respond(http_response::text(200, "ok"));
  });
  const auto r = dispatch(router, request("GET", "/x/%zz"));
  EXPECT_GE(r.status, 400);
  EXPECT_LT(r.status, 500);
}

TEST(HttpRequest, QueryParametersAreDecoded) {
  const auto r = request("GET", "/api/v1/conversations?status=queued&team=local+history&q=%C3%A9");
  EXPECT_EQ(r.query_param("status"), "queued");
  EXPECT_EQ(r.query_param("team"), "local history");
  EXPECT_EQ(r.query_param("q"), "\xC3\xA9");
  EXPECT_EQ(r.query_param("assignee"), std::nullopt);
}

TEST(HttpRequest, HeadersAndCookies) {
  auto r = request("GET", "/");
  r.headers = {{"cookie", "theme=dark; askdesk_session=abc123; other=1"}, {"x-csrf-token", "t"}};
  EXPECT_EQ(r.header("x-csrf-token"), "t");
  EXPECT_EQ(r.header("origin"), "");
  EXPECT_EQ(r.cookie("askdesk_session"), "abc123");
  EXPECT_EQ(r.cookie("session"), std::nullopt);
}

TEST(PercentDecode, DecodesAndRefusesMalformedEscapes) {
  EXPECT_EQ(percent_decode("a%20b+c", false), "a b+c");
  EXPECT_EQ(percent_decode("a%20b+c", true), "a b c");
  EXPECT_EQ(percent_decode("%E2%9C%93", false), "\xE2\x9C\x93");
  for (const char* bad : {"%", "%2", "%G0", "abc%"})
    EXPECT_EQ(percent_decode(bad, false), std::nullopt) << bad;
}

TEST(HttpResponse, ErrorsHaveOneShapeAndEscapeTheirText) {
  const auto r = http_response::error(400, "invalid_request", "the \"text\" field\nis empty");
  EXPECT_EQ(r.status, 400);
  auto doc = json::document::parse(r.body);
  ASSERT_TRUE(doc) << r.body;
  EXPECT_STREQ(doc->root()["error"]["code"].GetString(), "invalid_request");
  EXPECT_STREQ(doc->root()["error"]["message"].GetString(), "the \"text\" field\nis empty");
}

TEST(HttpResponse, ErrorValuesMapToStatuses) {
  const std::pair<const char*, int> cases[] = {
      {"invalid", 400},           {"unauthenticated", 401}, {"csrf", 403},
      {"forbidden", 403},         {"not_found", 404},       {"conflict", 409},
      {"too_many_attempts", 429}, {"unavailable", 503},     {"something_else", 500}};
  for (const auto& [code, status] : cases) {
    EXPECT_EQ(http_response::from(core::error{code, "x"}).status, status) << code;
  }
}

}  // namespace
}  // namespace askdesk::net

namespace askdesk::net {
namespace {

TEST(ClientAddress, IsThePeerUnlessThePeerIsATrustedProxy) {
  http_request r;
  r.remote_address = "203.0.113.7";
  r.headers = {{"x-forwarded-for", "198.51.100.1"}};
  EXPECT_EQ(client_address(r, {}), "203.0.113.7");             // nobody trusted: a forged header
  EXPECT_EQ(client_address(r, {"127.0.0.1"}), "203.0.113.7");  // this peer is no proxy
}

TEST(ClientAddress, IsTheRightMostForwardedAddressThatIsNotAProxy) {
  http_request r;
  r.remote_address = "127.0.0.1";
  // The client wrote the first one itself; nginx appended the address it saw.
  r.headers = {{"x-forwarded-for", "10.9.9.9, 198.51.100.1"}};
  EXPECT_EQ(client_address(r, {"127.0.0.1"}), "198.51.100.1");
  // Two proxies in a row.
  r.headers = {{"x-forwarded-for", "10.9.9.9, 198.51.100.1, 10.0.0.2"}};
  EXPECT_EQ(client_address(r, {"127.0.0.1", "10.0.0.2"}), "198.51.100.1");
  // A trusted proxy that sent no header is the client as far as anyone knows.
  r.headers = {};
  EXPECT_EQ(client_address(r, {"127.0.0.1"}), "127.0.0.1");
}

}  // namespace
}  // namespace askdesk::net
