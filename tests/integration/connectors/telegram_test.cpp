// The Telegram connector through the real daemon and redis-server, with a local server that
// speaks the Bot API as documented (tests/support/fake_telegram.hpp): long polling with real
// offsets, messages in and replies out, photos and documents served to staff without the
// token, long replies split in order at Telegram's pace, 429/403/502, unknown and malformed
// answers, deep links, /stop and /start; and webhook mode with its secret.
#include <gtest/gtest.h>

#include "daemon/json/document.hpp"
#include "daemon/store/keys.hpp"
#include "tests/support/askdesk_daemon.hpp"
#include "tests/support/fake_telegram.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"

namespace askdesk::testing {
namespace {

const std::string teams =
    R"("teams": [{"id": "reference"}, {"id": "ill", "name": "Interlibrary loan"}],
  "topics": [{"id": "renewals", "team": "reference", "keywords": ["renew"]}])";

std::string poll_config(const fake_telegram& telegram) {
  return "{" + teams + R"(, "connectors": [{"id": "telegram", "type": "telegram", "token": ")" +
         telegram.token() + R"(", "api_base": ")" + telegram.base() + R"("}]})";
}

const fake_telegram::patron zoe{7012345678901, "Zoë", "Test", "zoe_t"};  // id past 32 bits
const fake_telegram::patron ada{5123456780, "Ada", "", "ada"};

class Telegram : public ::testing::Test {
 protected:
  Telegram()
      : daemon_(redis_, poll_config(telegram_)), ann_(daemon_, "ann", {"reference", "ill"}) {}

  std::string conversation_of(std::int64_t chat) {
    return redis_.wait_for_string({"GET", "thread:telegram:" + std::to_string(chat)});
  }

  double metric(const std::string& sample) { return daemon_.metric(sample); }

  // Every inbound message stored so far has been applied to its conversation.
  bool inbound_applied() {
    return wait_until([&] { return redis_.command({"XLEN", "inbound"}).integer() == 0; });
  }

  fake_telegram telegram_;
  redis_server redis_;
  askdesk_daemon daemon_;
  staff_client ann_;
};

TEST_F(Telegram, AMessageReachesStaffAndTheReplyGoesBackToTheChat) {
  telegram_.add_text(zoe, "Can I renew my books online?");
  const std::string id = conversation_of(zoe.id);
  ASSERT_FALSE(id.empty());
  const auto c = ann_.read(id);
  EXPECT_NE(c.find("Can I renew my books online?"), std::string::npos) << c;
  EXPECT_NE(c.find("Zoë Test"), std::string::npos) << c;
  EXPECT_NE(c.find(R"("channel":"telegram")"), std::string::npos) << c;
  // The offset after the stored update confirmed it on Telegram's side.
  EXPECT_TRUE(telegram_.wait_until_confirmed());

  ASSERT_EQ(ann_.reply(id, "Yes: sign in to your account and choose Renew.").status, 201);
  ASSERT_TRUE(telegram_.wait_for_sent(1));
  const auto sent = telegram_.sent();
  EXPECT_EQ(sent[0].chat_id, zoe.id);
  EXPECT_EQ(sent[0].text, "Yes: sign in to your account and choose Renew.");
  EXPECT_TRUE(ann_.eventually(id, R"("status":"sent")"));
  // Polling only: the connector asked Telegram to drop any webhook before it polled, and asked
  // for messages only.
  const auto calls = telegram_.requests();
  ASSERT_FALSE(calls.empty());
  EXPECT_EQ(calls[0].method, "deleteWebhook");
  const auto polls = telegram_.requests("getUpdates");
  ASSERT_FALSE(polls.empty());
  EXPECT_NE(polls[0].params.find(R"("allowed_updates":["message"])"), std::string::npos)
      << polls[0].params;
}

TEST_F(Telegram, PhotosAndDocumentsAreServedToStaffWithoutTheToken) {
  const std::string jpeg = std::string("\xFF\xD8\xFF\xE0", 4) + std::string(5000, '\x01') + "end";
  telegram_.add_photo(ada, jpeg, "Is this book yours?");
  telegram_.add_document(ada, "%PDF-1.4 fines", "fines & fees.pdf", "application/pdf");
  const std::string id = conversation_of(ada.id);
  ASSERT_TRUE(ann_.eventually(id, "fines & fees.pdf"));
  const auto c = ann_.read(id);
  EXPECT_EQ(c.find(telegram_.token()), std::string::npos) << "the token reached staff: " << c;
  EXPECT_EQ(c.find(telegram_.token().substr(telegram_.token().find(':') + 1)), std::string::npos);
  const std::string photo_url = json_at(c, "/messages/0/attachments/0/url");
  const std::string doc_url = json_at(c, "/messages/1/attachments/0/url");
  ASSERT_TRUE(photo_url.starts_with("/api/v1/connectors/telegram/files/")) << c;
  ASSERT_TRUE(doc_url.starts_with("/api/v1/connectors/telegram/files/")) << c;
  EXPECT_EQ(json_at(c, "/messages/0/text"), "Is this book yours?");

  EXPECT_EQ(http_request("GET", daemon_.url(photo_url)).status, 401);  // staff only
  daemon_.add_user("sam", "staff", {"reference"}, "sam-password-1");
  const auto sam = daemon_.login("sam", "sam-password-1");
  const auto photo = daemon_.call(sam, "GET", photo_url);
  ASSERT_EQ(photo.status, 200) << photo.body;
  EXPECT_EQ(photo.body, jpeg);
  EXPECT_EQ(photo.header("content-type"), "image/jpeg");
  const auto doc = daemon_.call(sam, "GET", doc_url);
  ASSERT_EQ(doc.status, 200) << doc.body;
  EXPECT_EQ(doc.body, "%PDF-1.4 fines");
  // Not an image: a download, never a page of askdesk's origin.
  EXPECT_EQ(doc.header("content-type"), "application/octet-stream");
  EXPECT_EQ(doc.header("content-disposition"), R"(attachment; filename="fines & fees.pdf")");
  EXPECT_EQ(daemon_.call(sam, "GET", "/api/v1/connectors/telegram/files/nope").status, 404);
}

TEST_F(Telegram, ALongReplyIsSplitAtParagraphsAndSentInOrderAtTelegramsPace) {
  telegram_.add_text(ada, "What are all your services?");
  const std::string id = conversation_of(ada.id);
  std::string reply;
  std::vector<std::string> paragraphs;
  for (char c : std::string("ABCD")) {
    std::string p;
    while (p.size() < 3500) p += std::string("Service ") + c + " is described here. ";
    paragraphs.push_back(std::string(p.substr(0, p.size() - 1)));
    reply += paragraphs.back() + "\n\n";
  }
  ASSERT_LE(reply.size(), 16000u);
  ASSERT_EQ(ann_.reply(id, reply).status, 201);
  ASSERT_TRUE(telegram_.wait_for_sent(4, std::chrono::seconds(20)));
  const auto sent = telegram_.sent();
  ASSERT_EQ(sent.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(sent[i].text, paragraphs[i]) << i;
    if (i > 0) {  // at most one message a second in a chat
      EXPECT_GE(sent[i].at - sent[i - 1].at, std::chrono::milliseconds(950)) << i;
    }
  }
  EXPECT_TRUE(ann_.eventually(id, R"("status":"sent")"));
}

TEST_F(Telegram, TooManyRequestsWaitsRetryAfterThenSends) {
  telegram_.add_text(ada, "Are you open on Sunday?");
  const std::string id = conversation_of(ada.id);
  telegram_.fail_next("sendMessage", 429, "Too Many Requests: retry after 2", 2);
  ASSERT_EQ(ann_.reply(id, "Yes, from noon.").status, 201);
  ASSERT_TRUE(telegram_.wait_for_sent(1, std::chrono::seconds(20)));
  const auto calls = telegram_.requests("sendMessage");
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_GE(calls[1].at - calls[0].at, std::chrono::milliseconds(1900));
  EXPECT_EQ(telegram_.sent()[0].text, "Yes, from noon.");
}

TEST_F(Telegram, ABadGatewayIsRetriedAndABlockedBotIsPermanentAndShownToStaff) {
  telegram_.add_text(ada, "Hello?");
  const std::string id = conversation_of(ada.id);
  telegram_.answer_next_raw("sendMessage", 502,
                            "<html><head><title>502 Bad Gateway</title></head></html>");
  ASSERT_EQ(ann_.reply(id, "Hello Ada").status, 201);
  ASSERT_TRUE(telegram_.wait_for_sent(1, std::chrono::seconds(20)));
  EXPECT_EQ(telegram_.requests("sendMessage").size(), 2u);

  telegram_.block(ada.id);
  ASSERT_EQ(ann_.reply(id, "Anything else?").status, 201);
  EXPECT_TRUE(ann_.eventually(id, "bot was blocked by the user"));
  EXPECT_EQ(telegram_.requests("sendMessage").size(), 3u);  // not retried
}

TEST_F(Telegram, UnknownUpdatesAreSkippedAndTheOffsetMovesPastThem) {
  telegram_.add_update(R"({"edited_message": {"message_id": 1, "date": 1,
    "chat": {"id": 5123456780, "type": "private"}, "text": "edited"}})");
  telegram_.add_update(R"({"my_chat_member": {"chat": {"id": 5123456780, "type": "private"}}})");
  telegram_.add_text({99, "Robot", "", "", true}, "I am a bot");
  telegram_.add_text(ada, "Is the printer working?");
  const std::string id = conversation_of(ada.id);
  ASSERT_TRUE(ann_.eventually(id, "Is the printer working?"));
  EXPECT_TRUE(telegram_.wait_until_confirmed());
  EXPECT_EQ(metric(R"(askdesk_telegram_updates_total{connector="telegram",outcome="skipped"})"), 3);
  ASSERT_TRUE(inbound_applied());
  EXPECT_EQ(redis_.messages_stored(), 1);
  EXPECT_FALSE(redis_.command({"EXISTS", "thread:telegram:99"}).integer());
}

TEST_F(Telegram, AMalformedAnswerIsAConnectorErrorAndLosesNothing) {
  telegram_.answer_next_raw("getUpdates", 200, "<html>not json</html>");
  ASSERT_TRUE(daemon_.wait_for_metric(
      R"(askdesk_poll_rounds_total{connector="telegram",outcome="failed"})", 1));
  const auto health = http_request("GET", daemon_.url("/healthz"));
  EXPECT_NE(health.body.find("getUpdates: the Bot API's answer is not"), std::string::npos)
      << health.body;
  EXPECT_EQ(health.body.find(telegram_.token()), std::string::npos);
  telegram_.answer_next_raw("getUpdates", 200, R"({"ok":true,"result":[{"no_update_id":1}]})",
                            "application/json");
  telegram_.add_text(ada, "Still there?");
  EXPECT_FALSE(conversation_of(ada.id).empty());
  EXPECT_GE(metric(R"(askdesk_poll_rounds_total{connector="telegram",outcome="failed"})"), 2);
}

TEST_F(Telegram, ADeepLinkRoutesTheNextMessageAndIsNotShown) {
  telegram_.add_text(zoe, "/start ill");
  telegram_.add_text(zoe, "Can you get me a book from another library?");
  const std::string id = conversation_of(zoe.id);
  ASSERT_TRUE(ann_.eventually(id, "another library"));
  EXPECT_EQ(redis_.command({"HGET", store::keys::conversation(id), "team"}).str(), "ill");
  EXPECT_EQ(redis_.command({"HGET", store::keys::conversation(id), "messages"}).str(), "1");

  telegram_.add_text(ada, "/start renewals");
  telegram_.add_text(ada, "Question about my card");
  const std::string other = conversation_of(ada.id);
  ASSERT_TRUE(ann_.eventually(other, "my card"));
  EXPECT_EQ(redis_.command({"HGET", store::keys::conversation(other), "topic"}).str(), "renewals");
  EXPECT_EQ(redis_.command({"HGET", store::keys::conversation(other), "topic_source"}).str(),
            "requested");
  EXPECT_EQ(redis_.command({"HGET", store::keys::conversation(other), "messages"}).str(), "1");
}

TEST_F(Telegram, StopOptsOutAndStartOptsBackIn) {
  telegram_.add_text(ada, "/stop");
  const std::string id = conversation_of(ada.id);
  ASSERT_TRUE(ann_.eventually(id, "/stop"));
  const std::string optout = "optout:telegram:" + std::to_string(ada.id);
  ASSERT_TRUE(wait_until([&] { return redis_.command({"EXISTS", optout}).integer() == 1; }));
  EXPECT_EQ(ann_.reply(id, "Goodbye").status, 409);
  telegram_.add_text(ada, "/start");
  ASSERT_TRUE(wait_until([&] { return redis_.command({"EXISTS", optout}).integer() == 0; }));
  EXPECT_TRUE(ann_.eventually(id, "/start"));
  EXPECT_EQ(ann_.reply(id, "Welcome back").status, 201);
  ASSERT_TRUE(telegram_.wait_for_sent(1));
  EXPECT_EQ(telegram_.sent().size(), 1u);
}

// A bot that was in webhook mode: the connector deletes the webhook, then polls.
TEST(TelegramSwitch, PollingDeletesAWebhookLeftBehind) {
  fake_telegram telegram;
  const auto set = http_request("POST", telegram.base() + "/bot" + telegram.token() + "/setWebhook",
                                R"({"url":"https://library.example.org/old"})",
                                {"Content-Type: application/json"});
  ASSERT_EQ(set.status, 200) << set.body;
  redis_server redis;
  askdesk_daemon daemon(redis, poll_config(telegram));
  telegram.add_text(ada, "Hello after the switch");
  EXPECT_FALSE(redis.wait_for_string({"GET", "thread:telegram:" + std::to_string(ada.id)}).empty());
  EXPECT_EQ(telegram.webhook_url(), "");
}

// The client's errors name the URL, and the URL holds the token: it never reaches /healthz.
TEST(TelegramDown, AnUnreachableApiIsAConnectorErrorThatHidesTheToken) {
  const std::string token = fake_telegram::default_token;
  redis_server redis;
  askdesk_daemon daemon(redis, "{" + teams +
                                   R"(, "connectors": [{"id": "telegram", "type": "telegram",
    "token": ")" + token + R"(", "api_base": "http://127.0.0.1:)" +
                                   std::to_string(free_port()) + R"("}]})");
  ASSERT_TRUE(daemon.wait_for_metric(
      R"(askdesk_poll_rounds_total{connector="telegram",outcome="failed"})", 1));
  const auto health = http_request("GET", daemon.url("/healthz"));
  EXPECT_NE(health.body.find("/bot<token>/deleteWebhook"), std::string::npos) << health.body;
  EXPECT_EQ(health.body.find(token.substr(token.find(':'))), std::string::npos) << health.body;
}

// Webhook mode: askdesk registers its URL and secret, stores what Telegram posts, and refuses
// what does not carry the secret.
class TelegramWebhook : public ::testing::Test {
 protected:
  TelegramWebhook()
      : port_(free_port()),
        daemon_(redis_,
                "{" + teams + R"(, "http": {"public_url": "http://127.0.0.1:)" +
                    std::to_string(port_) +
                    R"("}, "connectors": [{"id": "telegram", "type": "telegram", "token": ")" +
                    telegram_.token() + R"(", "api_base": ")" + telegram_.base() +
                    R"(", "mode": "webhook", "webhook_secret": "s3cret-for_tests"}]})",
                {}, port_) {}

  http_result post(const std::string& body, const std::string& secret) {
    std::vector<std::string> headers = {"Content-Type: application/json"};
    if (!secret.empty()) headers.push_back("X-Telegram-Bot-Api-Secret-Token: " + secret);
    return http_request("POST", daemon_.url("/webhooks/telegram/telegram"), body, headers);
  }

  static std::string update(std::int64_t update_id, std::int64_t message_id,
                            const std::string& text) {
    return R"({"update_id": )" + std::to_string(update_id) + R"(, "message": {"message_id": )" +
           std::to_string(message_id) +
           R"(, "date": 1767225600, "from": {"id": 5123456780, "is_bot": false,
             "first_name": "Ada"}, "chat": {"id": 5123456780, "type": "private"}, "text": ")" +
           text + R"("}})";
  }

  fake_telegram telegram_;
  redis_server redis_;
  int port_;
  askdesk_daemon daemon_;
};

TEST_F(TelegramWebhook, AskdeskSetsItsWebhookAndStoresWhatTelegramPosts) {
  ASSERT_TRUE(telegram_.wait_for_requests("setWebhook", 1));
  EXPECT_EQ(telegram_.webhook_url(), daemon_.url("/webhooks/telegram/telegram"));
  const auto set = telegram_.requests("setWebhook")[0].params;
  EXPECT_NE(set.find(R"("secret_token":"s3cret-for_tests")"), std::string::npos) << set;
  telegram_.add_text(ada, "Posted by the webhook");
  EXPECT_FALSE(redis_.wait_for_string({"GET", "thread:telegram:5123456780"}).empty());
  EXPECT_TRUE(telegram_.wait_until_confirmed());
  EXPECT_TRUE(telegram_.requests("getUpdates").empty());
}

TEST_F(TelegramWebhook, AForgedSecretIsRefusedAndNothingIsStored) {
  EXPECT_EQ(post(update(1, 1, "forged"), "not-the-secret").status, 403);
  EXPECT_EQ(post(update(2, 2, "forged"), "").status, 403);
  EXPECT_EQ(post(update(3, 3, "forged"), "s3cret-for_test").status, 403);  // a prefix
  EXPECT_EQ(
      daemon_.metric(R"(askdesk_webhook_refused_total{connector="telegram",reason="forbidden"})"),
      3);
  EXPECT_EQ(post("not json", "s3cret-for_tests").status, 400);
  // Only now, after an accepted update was stored, is the absence of the others a fact.
  ASSERT_EQ(post(update(4, 4, "genuine"), "s3cret-for_tests").status, 200);
  ASSERT_TRUE(wait_until([&] { return redis_.messages_stored() == 1; }));
  for (int m = 1; m <= 3; ++m) {
    EXPECT_FALSE(
        redis_.command({"EXISTS", "dedup:telegram:5123456780:" + std::to_string(m)}).integer());
  }
}

TEST_F(TelegramWebhook, WhileRedisIsDownTheAnswerIs503AndTelegramTriesAgain) {
  redis_.kill();
  ASSERT_TRUE(
      wait_until([&] { return post(update(7, 7, "during"), "s3cret-for_tests").status == 503; }));
  redis_.restart();
  ASSERT_TRUE(
      wait_until([&] { return post(update(7, 7, "during"), "s3cret-for_tests").status == 200; },
                 std::chrono::seconds(20)));
  EXPECT_FALSE(redis_.wait_for_string({"GET", "thread:telegram:5123456780"}).empty());
}

}  // namespace
}  // namespace askdesk::testing
