// The Twilio SMS connector through the real daemon and redis-server, with a local server that
// speaks Twilio's REST protocol: signed webhooks (and refused unsigned ones), redeliveries,
// MMS, replies with their delivery statuses, permanent failures with Twilio's code, retries
// after 429 and 500, and STOP.
#include <gtest/gtest.h>

#include <thread>

#include "connectors/twilio/signature.hpp"
#include "daemon/store/keys.hpp"
#include "tests/support/askdesk_daemon.hpp"
#include "tests/support/fake_twilio.hpp"
#include "tests/support/wait.hpp"

namespace askdesk::testing {
namespace {

const std::string account = "AC0123456789abcdef0123456789abcdef";
const std::string token = "twilio-auth-token-for-tests";
const std::string library = "+15550100199";

class Twilio : public ::testing::Test {
 protected:
  Twilio()
      : daemon_(redis_, R"({"teams": [{"id": "reference"}],
          "connectors": [{"id": "sms", "type": "twilio", "account_sid": ")" +
                            account + R"(", "auth_token": ")" + token + R"(", "number": ")" +
                            library + R"(", "api_base": ")" + twilio_.base() + R"("}]})"),
        ann_(daemon_, "ann", {"reference"}) {}

  // A webhook as Twilio sends it, signed unless `signature` is given.
  http_result webhook(const std::string& path, const net::form_fields& form,
                      std::optional<std::string> signature = std::nullopt) {
    const std::string url = daemon_.url(path);
    const std::string sig =
        signature.value_or(connectors::twilio::compute_signature(token, url, form));
    return http_request(
        "POST", url, net::encode_form(form),
        {"Content-Type: application/x-www-form-urlencoded", "X-Twilio-Signature: " + sig});
  }

  http_result text(const std::string& sid, const std::string& from, const std::string& body,
                   net::form_fields extra = {}) {
    net::form_fields form = {{"ToCountry", "US"},
                             {"SmsMessageSid", sid},
                             {"NumMedia", "0"},
                             {"SmsSid", sid},
                             {"SmsStatus", "received"},
                             {"Body", body},
                             {"To", library},
                             {"NumSegments", "1"},
                             {"MessageSid", sid},
                             {"AccountSid", account},
                             {"From", from},
                             {"ApiVersion", "2010-04-01"}};
    for (auto& f : extra) {
      std::erase_if(form, [&](const auto& g) { return g.first == f.first; });
      form.push_back(std::move(f));
    }
    return webhook("/webhooks/twilio/sms", form);
  }

  std::string conversation_of(const std::string& from) {
    return redis_.wait_for_string({"GET", "thread:sms:" + from});
  }

  double metric(const std::string& sample) { return daemon_.metric(sample); }

  // Every inbound message stored so far has been applied: the hub deletes each entry of the
  // inbound stream once its message is in its conversation.
  bool inbound_applied() {
    return wait_until([&] { return redis_.command({"XLEN", "inbound"}).integer() == 0; });
  }

  fake_twilio twilio_;
  redis_server redis_;
  askdesk_daemon daemon_;
  staff_client ann_;
};

TEST_F(Twilio, ASignedTextIsStoredOnceAndAnsweredWithEmptyTwiml) {
  const auto first =
      text("SM11111111111111111111111111111111", "+15550100142", "Do you have wifi?");
  EXPECT_EQ(first.status, 200) << first.body;
  EXPECT_NE(first.body.find("<Response/>"), std::string::npos) << first.body;
  const std::string id = conversation_of("+15550100142");
  ASSERT_FALSE(id.empty());
  // Twilio retries the same MessageSid: still one message.
  EXPECT_EQ(text("SM11111111111111111111111111111111", "+15550100142", "Do you have wifi?").status,
            200);
  // Both deliveries were decided (stored or duplicate) before their 200, and whatever was
  // stored has been applied: only now can the count show a second copy.
  const std::string received = R"(askdesk_messages_received_total{channel="sms"})";
  const std::string duplicate = R"(askdesk_messages_duplicate_total{channel="sms"})";
  ASSERT_TRUE(wait_until([&] { return metric(received) + metric(duplicate) >= 2; }));
  EXPECT_EQ(metric(duplicate), 1);
  ASSERT_TRUE(inbound_applied());
  EXPECT_EQ(redis_.command({"HGET", store::keys::conversation(id), "messages"}).str(), "1");
  const auto c = ann_.read(id);
  EXPECT_NE(c.find("Do you have wifi?"), std::string::npos);
  EXPECT_NE(c.find(R"("channel":"sms")"), std::string::npos);
}

// Redis answering with an error (loading, out of memory) is not Twilio's fault: 503, so
// Twilio delivers the text again, and then it is stored.
TEST_F(Twilio, ARedisErrorAnswers503SoTwilioTriesAgain) {
  redis_.command({"RPUSH", "dedup:sms:SM77777777777777777777777777777777", "in the way"});
  const auto refused = text("SM77777777777777777777777777777777", "+15550100177", "Hello?");
  EXPECT_EQ(refused.status, 503) << refused.body;
  redis_.command({"DEL", "dedup:sms:SM77777777777777777777777777777777"});
  EXPECT_EQ(text("SM77777777777777777777777777777777", "+15550100177", "Hello?").status, 200);
  EXPECT_FALSE(conversation_of("+15550100177").empty());
}

TEST_F(Twilio, BadOrMissingSignaturesAreRefusedAndNothingIsStored) {
  net::form_fields form = {{"MessageSid", "SM2"}, {"From", "+15550100143"}, {"Body", "hi"}};
  EXPECT_EQ(webhook("/webhooks/twilio/sms", form, "").status, 403);
  EXPECT_EQ(webhook("/webhooks/twilio/sms", form, "bm90IGEgc2lnbmF0dXJl").status, 403);
  const std::string signed_for_other =
      connectors::twilio::compute_signature(token, daemon_.url("/webhooks/twilio/other"), form);
  EXPECT_EQ(webhook("/webhooks/twilio/sms", form, signed_for_other).status, 403);
  auto tampered = form;
  const auto good =
      connectors::twilio::compute_signature(token, daemon_.url("/webhooks/twilio/sms"), form);
  tampered[2].second = "hi!";
  EXPECT_EQ(webhook("/webhooks/twilio/sms", tampered, good).status, 403);
  // The daemon counted all four as refused for their signature: none reached the hub.
  ASSERT_TRUE(daemon_.wait_for_metric(
      R"(askdesk_webhook_refused_total{connector="sms",reason="forbidden"})", 4));
  EXPECT_EQ(metric(R"(askdesk_twilio_refused_total{reason="signature"})"), 4);
  EXPECT_EQ(metric(R"(askdesk_messages_received_total{channel="sms"})"), 0);
  EXPECT_FALSE(redis_.command({"GET", "thread:sms:+15550100143"}).is_string());
  EXPECT_EQ(redis_.command({"XLEN", "inbound"}).integer() +
                redis_.command({"EXISTS", "dedup:sms:SM2"}).integer(),
            0);
}

TEST_F(Twilio, MmsMediaBecomeAttachments) {
  ASSERT_EQ(
      text("SM3", "+15550100144", "Is this book yours?",
           {{"NumMedia", "2"},
            {"MediaUrl0", "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1"},
            {"MediaContentType0", "image/jpeg"},
            {"MediaUrl1", "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME2"},
            {"MediaContentType1", "application/pdf"}})
          .status,
      200);
  const std::string id = conversation_of("+15550100144");
  ASSERT_TRUE(ann_.eventually(id, "Media/ME2"));
  const auto c = ann_.read(id);
  EXPECT_NE(c.find(R"("content_type":"image/jpeg")"), std::string::npos) << c;
  EXPECT_NE(c.find(R"("content_type":"application/pdf")"), std::string::npos) << c;
}

TEST_F(Twilio, AReplyReachesTwilioAndItsDeliveryShows) {
  ASSERT_EQ(text("SM4", "+15550100145", "When do you close?").status, 200);
  const std::string id = conversation_of("+15550100145");
  ASSERT_EQ(ann_.reply(id, "At 8 pm tonight.").status, 201);
  ASSERT_TRUE(twilio_.wait_for(1));
  const auto sent = twilio_.requests().front();
  EXPECT_EQ(sent.path, "/2010-04-01/Accounts/" + account + "/Messages.json");
  EXPECT_EQ(sent.field("To"), "+15550100145");
  EXPECT_EQ(sent.field("From"), library);
  EXPECT_EQ(sent.field("Body"), "At 8 pm tonight.");
  EXPECT_EQ(sent.field("StatusCallback"), daemon_.url("/webhooks/twilio/sms/status"));
  EXPECT_EQ(sent.authorization.rfind("Basic ", 0), 0u);
  ASSERT_TRUE(ann_.eventually(id, R"("status":"sent")"));

  // Twilio reports delivery on the status callback, signed too.
  const std::string sid = "SM00000000000000000000000000000001";
  EXPECT_EQ(webhook("/webhooks/twilio/sms/status",
                    {{"MessageSid", sid}, {"MessageStatus", "delivered"}, {"AccountSid", account}},
                    "forged")
                .status,
            403);
  EXPECT_EQ(webhook("/webhooks/twilio/sms/status",
                    {{"MessageSid", sid}, {"MessageStatus", "delivered"}, {"AccountSid", account}})
                .status,
            200);
  EXPECT_TRUE(ann_.eventually(id, R"("status":"delivered")"));
  // A late "sent" does not take it back. The daemon answers a status callback only once the
  // status is recorded.
  EXPECT_EQ(webhook("/webhooks/twilio/sms/status", {{"MessageSid", sid}, {"MessageStatus", "sent"}})
                .status,
            200);
  EXPECT_NE(ann_.read(id).find(R"("status":"delivered")"), std::string::npos);
}

TEST_F(Twilio, PermanentFailuresShowTwilioCodeAndAreNotRetried) {
  ASSERT_EQ(text("SM5", "+15550100146", "Hello").status, 200);
  const std::string id = conversation_of("+15550100146");
  twilio_.fail_next(400, 21211, "The 'To' number +15550100146 is not a valid phone number.");
  ASSERT_EQ(ann_.reply(id, "Hi!").status, 201);
  ASSERT_TRUE(ann_.eventually(id, R"("status":"failed")"));
  const auto c = ann_.read(id);
  EXPECT_NE(c.find(R"("error_code":"21211")"), std::string::npos) << c;
  EXPECT_NE(c.find("is not a valid phone number"), std::string::npos) << c;
  // The lane settled the entry for good: acknowledged and dead-lettered (in one script), then
  // dropped from the lane. Nothing is left that could be sent again.
  ASSERT_TRUE(daemon_.wait_for_metric(R"(askdesk_outbound_dead_letters{connector="sms"})", 1));
  EXPECT_EQ(metric(R"(askdesk_messages_failed_total{connector="sms"})"), 1);
  EXPECT_EQ(metric(R"(askdesk_messages_retried_total{connector="sms"})"), 0);
  EXPECT_EQ(redis_.command({"XPENDING", "outbound:sms", "dispatch"})[0].integer(), 0);
  EXPECT_EQ(twilio_.requests().size(), 1u);
}

TEST_F(Twilio, TooManyRequestsAndServerErrorsAreRetried) {
  ASSERT_EQ(text("SM6", "+15550100147", "Hello").status, 200);
  const std::string id = conversation_of("+15550100147");
  twilio_.fail_next(429, 20429, "Too Many Requests");
  twilio_.fail_next(500, 20500, "Internal Server Error");
  ASSERT_EQ(ann_.reply(id, "Hi again").status, 201);
  ASSERT_TRUE(twilio_.wait_for(3, std::chrono::seconds(20)));
  EXPECT_TRUE(ann_.eventually(id, R"("status":"sent")"));
  const auto all = twilio_.requests();
  for (const auto& r : all) EXPECT_EQ(r.field("Body"), "Hi again");
}

TEST_F(Twilio, StopMeansNoReplyIsAttemptedAndStaffSeeWhy) {
  ASSERT_EQ(text("SM7", "+15550100148", "STOP").status, 200);
  const std::string id = conversation_of("+15550100148");
  ASSERT_TRUE(ann_.eventually(id, "STOP"));
  for (int i = 0; i < 100 && !redis_.command({"EXISTS", "optout:sms:+15550100148"}).integer();
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const auto refused = ann_.reply(id, "Sorry to see you go");
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_NE(refused.body.find("opted out (STOP)"), std::string::npos) << refused.body;
  ASSERT_EQ(text("SM8", "+15550100148", "START").status, 200);
  for (int i = 0; i < 100 && redis_.command({"EXISTS", "optout:sms:+15550100148"}).integer(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(ann_.reply(id, "Welcome back").status, 201);
  EXPECT_TRUE(twilio_.wait_for(1));
  EXPECT_EQ(twilio_.requests().size(), 1u);
}

}  // namespace
}  // namespace askdesk::testing

namespace askdesk::testing {
namespace {

// Polling mode, for libraries without a public URL: pages of List Messages, each text stored
// once, the cursor saved after the batch, and later polls stop at the last message seen.
TEST(TwilioPolling, PagesAreStoredOnceAndTheCursorStopsRepeats) {
  fake_twilio twilio;
  for (int i = 1; i <= 5; ++i) {
    twilio.add_inbound("SM" + std::to_string(100 + i), "+1555010020" + std::to_string(i), library,
                       "question " + std::to_string(i));
  }
  twilio.add_inbound("SM999", "+15550100299", "+15550100000", "to another number");
  redis_server redis;
  askdesk_daemon daemon(redis, R"({"teams": [{"id": "reference"}],
      "connectors": [{"id": "sms", "type": "twilio", "account_sid": ")" +
                                   account + R"(", "auth_token": ")" + token + R"(", "number": ")" +
                                   library + R"(", "mode": "poll",
        "poll_seconds": 1, "poll_page_size": 2, "api_base": ")" +
                                   twilio.base() + R"("}]})");
  const auto stored = [&](int n) {
    for (int i = 0; i < 250; ++i) {
      if (redis.command({"GET", "seq:message"}).str() == std::to_string(n)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  };
  ASSERT_TRUE(stored(5));
  const auto first = twilio.requests();
  ASSERT_GE(first.size(), 3u);  // three pages of two
  EXPECT_EQ(first[0].field("To"), library);
  EXPECT_EQ(first[0].field("PageSize"), "2");
  EXPECT_FALSE(first[0].field("DateSent>").empty());
  EXPECT_EQ(first[0].authorization.rfind("Basic ", 0), 0u);
  EXPECT_EQ(first[2].field("Page"), "2");
  for (int i = 0; i < 100 && !redis.command({"HGET", "twilio:sms:cursor", "sid"}).is_string();
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(redis.command({"HGET", "twilio:sms:cursor", "sid"}).str(), "SM105");
  EXPECT_EQ(redis.command({"HGET", "twilio:sms:cursor", "date"}).str(), "2026-11-23");

  twilio.add_inbound("SM106", "+15550100201", library, "a follow-up");
  ASSERT_TRUE(stored(6));
  // Two more rounds end: the one that stored SM106 (if it had not ended yet) and at least one
  // whole round after it, which had the chance to store something twice; and the hub applied
  // whatever was stored.
  const std::string rounds = R"(askdesk_poll_rounds_total{connector="sms",outcome="ok"})";
  ASSERT_TRUE(daemon.wait_for_metric(rounds, daemon.metric(rounds) + 2));
  ASSERT_TRUE(wait_until([&] { return redis.command({"XLEN", "inbound"}).integer() == 0; }));
  EXPECT_EQ(redis.command({"GET", "seq:message"}).str(), "6");  // nothing twice
  // Polls after the first stop at the newest message already stored: one page each.
  const auto all = twilio.requests();
  for (std::size_t i = 3; i < all.size(); ++i) EXPECT_NE(all[i].field("Page"), "2");
  EXPECT_TRUE(redis.command({"GET", "lease:twilio:" + account + ":" + library}).is_string());
}

}  // namespace
}  // namespace askdesk::testing
