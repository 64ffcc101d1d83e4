#include "connectors/poller.hpp"

#include <gtest/gtest.h>

#include "daemon/net/curl_client.hpp"

namespace askdesk::connectors {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const core::timestamp now = *core::parse_iso8601("2026-12-07T12:00:00Z");
const milliseconds cap = std::chrono::minutes(5);

net::incoming_response answer(long status, net::header_list headers) {
  net::incoming_response r;
  r.status = status;
  for (auto& [name, value] : headers) r.headers.emplace_back(name, value);
  return r;
}

TEST(RateLimitWait, RetryAfterInSecondsOrAsAnHttpDate) {
  EXPECT_EQ(rate_limit_wait(answer(429, {{"retry-after", "7"}}), now, cap), seconds(7));
  EXPECT_EQ(
      rate_limit_wait(answer(503, {{"retry-after", "Mon, 07 Dec 2026 12:00:30 GMT"}}), now, cap),
      seconds(30));
}

TEST(RateLimitWait, ResetAsEpochSecondsOrIso8601WhenTheQuotaIsSpent) {
  const auto epoch =
      std::to_string(std::chrono::duration_cast<seconds>(now.time_since_epoch()).count() + 60);
  EXPECT_EQ(
      rate_limit_wait(answer(200, {{"x-ratelimit-remaining", "0"}, {"x-ratelimit-reset", epoch}}),
                      now, cap),
      seconds(60));
  EXPECT_EQ(
      rate_limit_wait(answer(429, {{"x-ratelimit-reset", "2026-12-07T12:02:00.000Z"}}), now, cap),
      seconds(120));
  // Quota left: no wait, whatever the reset says.
  EXPECT_FALSE(rate_limit_wait(
      answer(200, {{"x-ratelimit-remaining", "12"}, {"x-ratelimit-reset", epoch}}), now, cap));
}

TEST(RateLimitWait, NothingToSayOrNonsenseGivesNoWaitAndWaitsAreCapped) {
  EXPECT_FALSE(rate_limit_wait(answer(500, {}), now, cap));
  EXPECT_FALSE(rate_limit_wait(answer(429, {{"retry-after", "soon"}}), now, cap));
  EXPECT_EQ(rate_limit_wait(answer(429, {{"retry-after", "86400"}}), now, cap), cap);
  EXPECT_EQ(
      rate_limit_wait(answer(429, {{"retry-after", "Mon, 07 Dec 2026 11:00:00 GMT"}}), now, cap),
      milliseconds(0));  // a date in the past: go now
}

}  // namespace
}  // namespace askdesk::connectors
