// A patron's text as Twilio delivers it to a webhook, signed with the test account's token:
// text `i` comes from one of 200 patrons ("+15550101000" .. "+15550101199") with SID
// SM<100000 + i> and body "text number <i>". For the crash and failover tests.
#pragma once

#include <string>

#include "tests/support/http_client.hpp"
#include "tests/support/redis_server.hpp"

namespace askdesk::testing::signed_text {

inline const std::string account = "AC0123456789abcdef0123456789abcdef";
inline const std::string token = "twilio-auth-token-for-tests";
inline constexpr int patrons = 200;

// The connector's config entry, id "sms".
std::string connector_config();
// The patron who sends text `i`.
std::string patron(int i);
// POSTs text `i` to `url` (what Twilio calls), signed over `signed_url` (the public URL the
// daemon checks signatures with; the same unless a proxy is in front).
http_result send(const std::string& url, int i, const std::string& signed_url = "");
// The texts stored in the patrons' conversations, summed (-1 when a patron has none): equal to
// the texts sent when none was lost and none stored twice.
std::int64_t stored(redis_server& redis);

}  // namespace askdesk::testing::signed_text
