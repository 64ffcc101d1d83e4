// Outbound lanes through the real daemon (daemon/hub/lanes.hpp): each connector sends from its
// own lane, so a mail server that never answers does not hold up SMS; under two daemons a
// slow send is made once; and a send that failed for good waits on its lane's dead-letter
// list until a supervisor retries or discards it.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "connectors/twilio/signature.hpp"
#include "daemon/store/keys.hpp"
#include "tests/support/askdesk_daemon.hpp"
#include "tests/support/fake_twilio.hpp"
#include "tests/support/ws_client.hpp"

namespace askdesk::testing {
namespace {

const std::string account = "AC0123456789abcdef0123456789abcdef";
const std::string token = "twilio-auth-token-for-tests";
const std::string library = "+15550100199";

// A mail server that accepts connections and never says a word: no greeting, no answer.
class silent_server {
 public:
  silent_server() {
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof a;
    if (bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        listen(listener_, 16) != 0 ||
        getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &size) != 0) {
      throw std::runtime_error("silent server cannot listen");
    }
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] {
      for (;;) {
        const int fd = accept(listener_, nullptr, nullptr);
        if (fd < 0) return;  // shut down
        accepted_.push_back(fd);
        ++count_;
      }
    });
  }
  ~silent_server() {
    shutdown(listener_, SHUT_RDWR);
    close(listener_);
    thread_.join();
    for (const int fd : accepted_) close(fd);
  }
  int port() const { return port_; }
  int accepted() const { return count_; }

 private:
  int listener_ = -1;
  int port_ = 0;
  std::vector<int> accepted_;  // touched by the thread only, until it is joined
  std::atomic<int> count_{0};
  std::thread thread_;
};

std::string twilio_block(const fake_twilio& twilio, const std::string& extra = "") {
  return R"({"id": "sms", "type": "twilio", "account_sid": ")" + account + R"(", "auth_token": ")" +
         token + R"(", "number": ")" + library + R"(", "api_base": ")" + twilio.base() + "\"" +
         extra + "}";
}

// A text from `from`, signed as Twilio signs it, to `daemon`.
http_result text(askdesk_daemon& daemon, const std::string& sid, const std::string& from,
                 const std::string& body) {
  const net::form_fields form = {{"MessageSid", sid}, {"From", from},    {"To", library},
                                 {"Body", body},      {"NumMedia", "0"}, {"AccountSid", account}};
  const std::string url = daemon.url("/webhooks/twilio/sms");
  return http_request(
      "POST", url, net::encode_form(form),
      {"Content-Type: application/x-www-form-urlencoded",
       "X-Twilio-Signature: " + connectors::twilio::compute_signature(token, url, form)});
}

// Waits until `condition()` holds, up to `wait`.
template <typename Condition>
bool eventually(Condition condition, std::chrono::milliseconds wait) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

TEST(Lanes, AMailServerThatNeverAnswersDoesNotHoldUpSms) {
  fake_twilio twilio;
  silent_server smtp;
  redis_server redis;
  // Sunday night: the widget offers its form for a question answered by email.
  askdesk_daemon daemon(redis,
                        R"({"teams": [{"id": "reference", "timezone": "America/Toronto",
                 "hours": {"mon": [["09:00", "17:00"]], "tue": [["09:00", "17:00"]]}}],
      "connectors": [
        {"id": "webchat", "type": "webchat"},
        {"id": "mail", "type": "email", "imap_url": "imap://127.0.0.1:9/INBOX",
         "smtp_url": "smtp://127.0.0.1:)" +
                            std::to_string(smtp.port()) +
                            R"(", "username": "ask", "password": "secret",
         "address": "ask@library.example", "poll_seconds": 3600},
        )" + twilio_block(twilio) +
                            "]}",
                        {"--clock-start", "2026-11-22T23:00:00-05:00"});
  staff_client ann(daemon, "ann", {"reference"});

  // An emailed question (the widget's offline form answered by email), its acknowledgement
  // and a reply: the mail lane's send waits on a server that never answers, the rest of the
  // conversation behind it.
  ws_client patron(daemon.port(), "/ws/patron", daemon.origin());
  patron.send(R"({"type":"hello","team":"reference"})");
  ASSERT_TRUE(patron.read_until("welcome"));
  patron.send(R"({"type":"offline","text":"Do you keep the 1901 census?","reply_by":"email",)"
              R"("address":"ada@example.org","client_id":"f1"})");
  ASSERT_TRUE(patron.read_until(R"("channel":"email")"));
  // Stored, then applied to its conversation: wait for the thread the mail starts.
  ASSERT_TRUE(eventually(
      [&] {
        return redis.command({"KEYS", "thread:mail:*"}).size() == 1;
      },
      std::chrono::seconds(10)));
  const auto threads = redis.command({"KEYS", "thread:mail:*"});
  const std::string mailed = redis.wait_for_string({"GET", threads[0].str()});
  ASSERT_EQ(ann.reply(mailed, "Yes, on microfilm.").status, 201);
  ASSERT_TRUE(eventually([&] { return smtp.accepted() >= 1; }, std::chrono::seconds(10)));
  const std::string stuck = R"(askdesk_outbound_in_flight{connector="mail"})";
  ASSERT_TRUE(eventually([&] { return daemon.metric(stuck) == 1; }, std::chrono::seconds(5)));

  // Meanwhile a text arrives and is answered: it reaches Twilio at once.
  ASSERT_EQ(
      text(daemon, "SM00000000000000000000000000000001", "+15550100142", "Open today?").status,
      200);
  const std::string texted = redis.wait_for_string({"GET", "thread:sms:+15550100142"});
  ASSERT_TRUE(twilio.wait_for(1, std::chrono::seconds(5)));  // the after-hours acknowledgement
  const auto asked = std::chrono::steady_clock::now();
  ASSERT_EQ(ann.reply(texted, "Until 8 pm.").status, 201);
  ASSERT_TRUE(twilio.wait_for(2, std::chrono::seconds(5)));
  const auto took = std::chrono::steady_clock::now() - asked;
  EXPECT_LT(took, std::chrono::seconds(1))
      << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";
  EXPECT_EQ(twilio.requests()[1].field("Body"), "Until 8 pm.");
  // The mail is still stuck: the text did not wait for it.
  EXPECT_EQ(daemon.metric(stuck), 1);
  EXPECT_EQ(smtp.accepted(), 1);
}

TEST(Lanes, UnderTwoDaemonsASendThatTakesFortySecondsIsSentOnce) {
  fake_twilio twilio;
  twilio.delay_answers(std::chrono::seconds(40));
  redis_server redis;
  const std::string config = R"({"teams": [{"id": "reference"}], "connectors": [)" +
                             twilio_block(twilio, R"(, "outbound": {"send_timeout_seconds": 45})") +
                             "]}";
  askdesk_daemon first(redis, config);
  askdesk_daemon second(redis, config);
  staff_client ann(first, "ann", {"reference"});
  // Exactly one of them sends the lane.
  const std::string held = R"(askdesk_outbound_lane_held{connector="sms"})";
  ASSERT_TRUE(eventually([&] { return first.metric(held) + second.metric(held) == 1; },
                         std::chrono::seconds(15)));

  ASSERT_EQ(text(first, "SM00000000000000000000000000000002", "+15550100143", "Hello?").status,
            200);
  const std::string id = redis.wait_for_string({"GET", "thread:sms:+15550100143"});
  ASSERT_EQ(ann.reply(id, "Hello! How can I help?").status, 201);
  ASSERT_TRUE(twilio.wait_for(1, std::chrono::seconds(10)));
  // Twilio takes 40 s to answer; then the reply is sent, and it was asked for once.
  ASSERT_TRUE(
      eventually([&] { return ann.read(id).find(R"("status":"sent")") != std::string::npos; },
                 std::chrono::seconds(60)))
      << ann.read(id);
  EXPECT_EQ(twilio.requests().size(), 1u);
  EXPECT_EQ(first.metric(R"(askdesk_messages_sent_total{connector="sms"})") +
                second.metric(R"(askdesk_messages_sent_total{connector="sms"})"),
            1);
  EXPECT_EQ(first.metric(held) + second.metric(held), 1);
}

TEST(Lanes, ASendThatFailedForGoodWaitsForASupervisorToRetryOrDiscardIt) {
  fake_twilio twilio;
  redis_server redis;
  askdesk_daemon daemon(
      redis, R"({"teams": [{"id": "reference"}], "connectors": [)" + twilio_block(twilio) + "]}");
  staff_client ann(daemon, "ann", {"reference"});
  daemon.add_user("sue", "supervisor", {"reference"}, "sue-password-1");
  const auto sue = daemon.login("sue", "sue-password-1");

  for (const std::string n : {"4", "5"}) {
    twilio.fail_next(400, 21211, "The 'To' number is not a valid phone number.");
    const std::string from = "+1555010014" + n;
    ASSERT_EQ(text(daemon, "SM0000000000000000000000000000000" + n, from, "Hi").status, 200);
    ASSERT_EQ(ann.reply(redis.wait_for_string({"GET", "thread:sms:" + from}), "Hello " + n).status,
              201);
  }
  const std::string dead = R"(askdesk_outbound_dead_letters{connector="sms"})";
  ASSERT_TRUE(eventually([&] { return daemon.metric(dead) == 2; }, std::chrono::seconds(10)));

  // Staff cannot see them; a supervisor sees both, newest first, with Twilio's code.
  const auto as_staff =
      daemon.call(daemon.login("ann", "ann-password-1"), "GET", "/api/v1/outbound/dead");
  EXPECT_EQ(as_staff.status, 403) << as_staff.body;
  const auto list = daemon.call(sue, "GET", "/api/v1/outbound/dead");
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_NE(list.body.find(R"("error_code":"21211")"), std::string::npos) << list.body;
  const std::string newest = json_at(list.body, "/dead_letters/0/id");
  const std::string oldest = json_at(list.body, "/dead_letters/1/id");
  EXPECT_EQ(json_at(list.body, "/dead_letters/0/entry/text"), "Hello 5") << list.body;
  const std::string conversation = json_at(list.body, "/dead_letters/0/entry/conversation");
  ASSERT_FALSE(newest.empty());

  // Retry: Twilio takes it now, and the message shows sent.
  const auto retried = daemon.call(sue, "POST", "/api/v1/outbound/dead/" + newest + "/retry");
  EXPECT_EQ(retried.status, 200) << retried.body;
  ASSERT_TRUE(twilio.wait_for(3));
  ASSERT_TRUE(ann.eventually(conversation, R"("status":"sent")")) << ann.read(conversation);
  EXPECT_EQ(twilio.requests().back().field("Body"), "Hello 5");
  // A patron who opted out since is not texted again, whoever asks.
  redis.command({"SET", "optout:sms:+15550100144", "1765000000000"});
  const auto refused = daemon.call(sue, "POST", "/api/v1/outbound/dead/" + oldest + "/retry");
  EXPECT_EQ(refused.status, 409) << refused.body;
  // Discard: gone from the list, the message stays failed; an unknown id is 404.
  EXPECT_EQ(daemon.call(sue, "POST", "/api/v1/outbound/dead/" + oldest + "/discard").status, 200);
  EXPECT_EQ(daemon.call(sue, "POST", "/api/v1/outbound/dead/" + oldest + "/discard").status, 404);
  const auto after = daemon.call(sue, "GET", "/api/v1/outbound/dead");
  EXPECT_EQ(after.body, R"({"dead_letters":[]})");
  EXPECT_EQ(twilio.requests().size(), 3u);
}

TEST(Lanes, RepliesQueuedByAnOlderReleaseAreSentAfterTheUpgrade) {
  fake_twilio twilio;
  redis_server redis;
  // What the release before lanes left: one stream for every channel, and a retry schedule
  // (and the key layout before schema 2, which the same start moves).
  redis.command({"HSET", "conversation:1", "id", "1", "team", "reference", "status", "assigned",
                 "connector", "sms", "channel", "sms"});
  for (const std::string id : {"1", "2"}) {
    redis.command({"HSET", "message:" + id, "id", id, "conversation", "1", "connector", "sms",
                   "direction", "out", "status", "pending", "text", "old " + id});
  }
  redis.command(
      {"XADD",      "outbound", "*",     "message",      "1",      "conversation", "1",
       "connector", "sms",      "to",    "+15550100141", "thread", "+15550100141", "patron_name",
       "",          "text",     "old 1", "automatic",    "0",      "facts",        "{}"});
  redis.command({"ZADD", "outbound:retry", "1",
                 R"(["message","2","conversation","1","connector","sms","to","+15550100141",)"
                 R"("thread","+15550100141","patron_name","","text","old 2","automatic","0",)"
                 R"("facts","{}","attempt","1"])"});
  askdesk_daemon daemon(
      redis, R"({"teams": [{"id": "reference"}], "connectors": [)" + twilio_block(twilio) + "]}");
  ASSERT_TRUE(twilio.wait_for(2)) << daemon.process().log();
  EXPECT_EQ(twilio.requests()[0].field("Body"), "old 1");
  EXPECT_EQ(twilio.requests()[1].field("Body"), "old 2");
  EXPECT_EQ(redis.command({"EXISTS", "outbound"}).integer(), 0);
  EXPECT_EQ(redis.command({"ZCARD", "outbound:retry"}).integer(), 0);
}

}  // namespace
}  // namespace askdesk::testing
