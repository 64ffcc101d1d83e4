#include "tests/support/signed_text.hpp"

#include "connectors/twilio/signature.hpp"
#include "daemon/store/keys.hpp"

namespace askdesk::testing::signed_text {

std::string connector_config() {
  return R"({"id": "sms", "type": "twilio", "account_sid": ")" + account + R"(", "auth_token": ")" +
         token + R"(", "number": "+15550100199"})";
}

std::string patron(int i) { return "+1555010" + std::to_string(1000 + i % patrons); }

http_result send(const std::string& url, int i, const std::string& signed_url) {
  const net::form_fields form = {{"MessageSid", "SM" + std::to_string(100000 + i)},
                                 {"AccountSid", account},
                                 {"From", patron(i)},
                                 {"To", "+15550100199"},
                                 {"Body", "text number " + std::to_string(i)},
                                 {"NumMedia", "0"}};
  const std::string signer = signed_url.empty() ? url : signed_url;
  return http_request(
      "POST", url, net::encode_form(form),
      {"Content-Type: application/x-www-form-urlencoded",
       "X-Twilio-Signature: " + connectors::twilio::compute_signature(token, signer, form)});
}

std::int64_t stored(redis_server& redis) {
  std::int64_t sum = 0;
  for (int p = 0; p < patrons; ++p) {
    const auto id = redis.command({"GET", "thread:sms:" + patron(p)});
    if (!id.is_string()) return -1;
    sum +=
        std::stoll(redis.command({"HGET", store::keys::conversation(id.str()), "messages"}).str());
  }
  return sum;
}

}  // namespace askdesk::testing::signed_text
