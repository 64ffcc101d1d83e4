// Channel traits through the real daemon: GET /api/v1/channels serves each configured
// connector with its traits, a reply is as long as its channel carries (not a fixed 4,000
// characters), and /healthz reports each connector's health.
#include <gtest/gtest.h>

#include "tests/support/askdesk_daemon.hpp"
#include "tests/support/fake_twilio.hpp"

namespace askdesk::testing {
namespace {

class Channels : public ::testing::Test {
 protected:
  Channels()
      : daemon_(redis_, R"({"teams": [{"id": "reference"}], "connectors": [
          {"id": "web", "type": "webchat"},
          {"id": "sms", "type": "twilio", "account_sid": "AC0123456789abcdef0123456789abcdef",
           "auth_token": "token", "number": "+15550100199", "api_base": ")" +
                            twilio_.base() + R"("},
          {"id": "posts", "type": "replay", "token": "posts-token-0123456789",
           "channel": "social", "name": "Social posts", "length_unit": "graphemes",
           "max_length": 300},
          {"id": "letters", "type": "replay", "token": "letter-token-0123456789",
           "channel": "letters", "max_length": 100000}]})"),
        ann_(daemon_, "ann", {"reference"}) {}

  // A conversation on a replay connector, from `from`.
  std::string conversation(const std::string& connector, const std::string& token,
                           const std::string& from) {
    const auto r = http_request(
        "POST", daemon_.url("/webhooks/replay/" + connector),
        R"({"id": "m-)" + from + R"(", "from": ")" + from + R"(", "text": "A question"})",
        {"Content-Type: application/json", "Authorization: Bearer " + token});
    EXPECT_EQ(r.status, 200) << r.body;
    return redis_.wait_for_string({"GET", "thread:" + connector + ":" + from});
  }

  fake_twilio twilio_;
  redis_server redis_;
  askdesk_daemon daemon_;
  staff_client ann_;
};

TEST_F(Channels, TheApiServesEachConfiguredConnectorWithItsTraits) {
  const auto r = daemon_.call(daemon_.login("ann", "ann-password-1"), "GET", "/api/v1/channels");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json_at(r.body, "/channels/0/id"), "web");
  EXPECT_EQ(json_at(r.body, "/channels/0/name"), "Web chat");
  EXPECT_NE(r.body.find(R"("personal_address":false)"), std::string::npos) << r.body;
  EXPECT_EQ(json_at(r.body, "/channels/1/channel"), "sms");
  EXPECT_EQ(json_at(r.body, "/channels/1/type"), "twilio");
  EXPECT_EQ(json_at(r.body, "/channels/1/length/unit"), "gsm_segments");
  EXPECT_EQ(json_at(r.body, "/channels/1/opt_out/0"), "STOP");
  EXPECT_EQ(json_at(r.body, "/channels/1/opt_in/0"), "START");
  EXPECT_NE(r.body.find(R"("delivery_reports":true)"), std::string::npos) << r.body;
  EXPECT_EQ(json_at(r.body, "/channels/2/name"), "Social posts");
  EXPECT_EQ(json_at(r.body, "/channels/2/length/unit"), "graphemes");
  EXPECT_NE(r.body.find(R"("max":300)"), std::string::npos) << r.body;
  // Staff only: no session, no channels.
  EXPECT_EQ(http_request("GET", daemon_.url("/api/v1/channels")).status, 401);
}

TEST_F(Channels, AReplyIsAsLongAsItsChannelCarries) {
  // 300 user-perceived characters fit a 300-grapheme channel although each is five code
  // points; one more does not, and the refusal says why.
  const std::string family =
      "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x91\xA7";
  std::string three_hundred;
  for (int i = 0; i < 300; ++i) three_hundred += family;
  const std::string post = conversation("posts", "posts-token-0123456789", "@ada");
  EXPECT_EQ(ann_.reply(post, three_hundred).status, 201);
  const auto refused = ann_.reply(post, three_hundred + "!");
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_NE(refused.body.find(R"("code":"too_long")"), std::string::npos) << refused.body;
  EXPECT_NE(refused.body.find("301 graphemes"), std::string::npos) << refused.body;

  // A librarian's long research answer is not cut at 4,000 characters where the channel
  // carries more.
  const std::string letter = conversation("letters", "letter-token-0123456789", "ada@example.org");
  EXPECT_EQ(ann_.reply(letter, std::string(20000, 'a')).status, 201);
  // Notes stay short whatever the channel.
  const auto note = daemon_.call(daemon_.login("ann", "ann-password-1"), "POST",
                                 "/api/v1/conversations/" + letter + "/notes",
                                 R"({"text": ")" + std::string(4001, 'n') + R"("})");
  EXPECT_EQ(note.status, 400) << note.body;
}

TEST_F(Channels, HealthzReportsEachConnector) {
  const auto r = http_request("GET", daemon_.url("/healthz"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json_at(r.body, "/connectors/1/id"), "sms");
  EXPECT_EQ(json_at(r.body, "/connectors/1/type"), "twilio");
  EXPECT_NE(r.body.find(R"("last_error":"")"), std::string::npos) << r.body;
}

}  // namespace
}  // namespace askdesk::testing
