// After hours through the real daemon and redis-server, with the daemon's clock started at
// chosen times (serve --clock-start): a patron who writes at 23:00 gets exactly one automatic
// acknowledgement on their channel, a second message at 23:05 none, automated senders and
// SMS opt-outs none; in the morning the night's conversations are offered first.
#include <gtest/gtest.h>

#include <regex>
#include <thread>

#include "tests/support/askdesk_daemon.hpp"
#include "tests/support/ws_client.hpp"

namespace askdesk::testing {
namespace {

const char* config = R"({
  "teams": [{
    "id": "reference", "name": "Reference", "mode": "least-busy", "capacity": 1,
    "timezone": "America/Toronto",
    "hours": {"mon": [["09:00", "17:00"]], "tue": [["09:00", "17:00"]],
              "wed": [["09:00", "17:00"]], "thu": [["09:00", "17:00"]],
              "fri": [["09:00", "17:00"]]},
    "exceptions": [{"date": "2026-12-25", "hours": []}],
    "auto_ack": {"*": {"en": "Hello {patron_name}, {team} is closed. We open {next_open}.",
                       "fr": "Bonjour {patron_name}, nous ouvrons {next_open}."}}
  }],
  "routing": {"priorities": [{"channel": "sms", "priority": 10}]},
  "connectors": [
    {"id": "webchat", "type": "webchat"},
    {"id": "mail", "type": "replay", "token": "mail-token-0123456789", "channel": "email"},
    {"id": "texts", "type": "replay", "token": "text-token-0123456789", "channel": "sms",
     "opt_out": ["STOP"], "opt_in": ["START"]}
  ]
})";

// Monday 23 November 2026 in Toronto (EST, UTC-5).
const char* at_2300 = "2026-11-24T04:00:00Z";
const char* at_2305 = "2026-11-24T04:05:00Z";
const char* before_nine = "2026-11-24T13:59:56Z";

class AfterHours : public ::testing::Test {
 protected:
  AfterHours() { start(at_2300); }

  void start(const char* clock) {
    daemon_.reset();
    daemon_ = std::make_unique<askdesk_daemon>(redis_, config,
                                               std::vector<std::string>{"--clock-start", clock});
    if (!sue_) {
      daemon_->add_user("sue", "supervisor", {}, "sue-password-1");
      daemon_->add_user("ann", "staff", {"reference"}, "ann-password-1");
      sue_ = daemon_->login("sue", "sue-password-1");
      ann_ = daemon_->login("ann", "ann-password-1");
    }
  }

  // A message through one of the replay connectors; `extra` is more JSON members.
  void writes(const std::string& connector, const std::string& from, const std::string& id,
              const std::string& text, const std::string& extra = "") {
    const std::string token =
        connector == "mail" ? "mail-token-0123456789" : "text-token-0123456789";
    const auto r = http_request(
        "POST", daemon_->url("/webhooks/replay/" + connector),
        R"({"id":")" + id + R"(","from":")" + from + R"(","text":")" + text + "\"" + extra + "}",
        {"Authorization: Bearer " + token});
    ASSERT_EQ(r.status, 200) << r.body;
  }

  // The value of a /metrics sample line that starts with `sample`, or 0.
  double metric(const std::string& sample) { return daemon_->metric(sample); }

  bool wait_for_metric(const std::string& sample, double value) {
    for (int i = 0; i < 250; ++i) {
      if (metric(sample) >= value) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << sample << " never reached " << value;
    return false;
  }

  std::string conversation_of(const std::string& connector, const std::string& thread) {
    return redis_.command({"GET", "thread:" + connector + ":" + thread}).str();
  }

  // The newest conversation of the patron with `address` on `channel`.
  std::string newest_conversation(const std::string& channel, const std::string& address) {
    const auto patron = redis_.command({"GET", "address:" + channel + ":" + address}).str();
    const auto ids = redis_.command({"ZRANGE", "patron:" + patron + ":conversations", "-1", "-1"});
    return ids.is_array() && ids.size() == 1 ? ids[0].str() : "";
  }

  std::string transcript(const std::string& id) {
    return daemon_->call(*sue_, "GET", "/api/v1/conversations/" + id).body;
  }

  static int automatic_messages(const std::string& json) {
    int n = 0;
    for (auto at = json.find(R"("direction":"auto")"); at != std::string::npos;
         at = json.find(R"("direction":"auto")", at + 1)) {
      ++n;
    }
    return n;
  }

  redis_server redis_;
  std::unique_ptr<askdesk_daemon> daemon_;
  std::optional<staff_session> sue_, ann_;
};

TEST_F(AfterHours, OneAcknowledgementPerPatronPerClosedPeriodAndStaffGetItInTheMorning) {
  writes("mail", "ada@example.org", "m1", "Do you have the 1901 census?", R"(,"name":"Ada")");
  ASSERT_TRUE(wait_for_metric(R"(askdesk_auto_acks_sent_total{channel="email"})", 1));
  const std::string ada = conversation_of("mail", "ada@example.org");
  const std::string first = transcript(ada);
  EXPECT_EQ(automatic_messages(first), 1) << first;
  EXPECT_NE(first.find("Hello Ada, Reference is closed. We open Tuesday, November 24 at 9:00 AM."),
            std::string::npos)
      << first;
  EXPECT_NE(first.find(R"("after_hours":true)"), std::string::npos) << first;

  // 23:05, the same night: nothing more.
  start(at_2305);
  writes("mail", "ada@example.org", "m2", "Also the 1911 one, please.");
  ASSERT_TRUE(wait_for_metric(R"(askdesk_auto_acks_skipped_total{reason="already"})", 1));
  const std::string second = transcript(ada);
  EXPECT_EQ(automatic_messages(second), 1) << second;
  EXPECT_NE(second.find("1911"), std::string::npos);
  EXPECT_EQ(metric(R"(askdesk_after_hours_messages_total{channel="email"})"), 1);  // since 23:05

  // The acknowledgement went out on the patron's channel, marked automatic.
  for (int i = 0; i < 100 && transcript(ada).find(R"("status":"sent")") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_NE(transcript(ada).find(R"("status":"sent")"), std::string::npos) << transcript(ada);

  // A patron who writes in French is answered in French.
  writes("mail", "zoe@example.org", "m3", "Bonjour", R"(,"headers":{"Content-Language":"fr-CA"})");
  ASSERT_TRUE(wait_for_metric(R"(askdesk_auto_acks_sent_total{channel="email"})", 1));
  EXPECT_NE(transcript(conversation_of("mail", "zoe@example.org"))
                .find("nous ouvrons mardi 24 novembre à 09 h 00"),
            std::string::npos);

  // The morning: the night's conversations come first, the earliest first, even before an
  // SMS that priority rules would otherwise put ahead. Nobody is offered anything before 9.
  writes("texts", "+15550100199", "s1", "Are you open tomorrow?");
  ASSERT_TRUE(wait_for_metric(R"(askdesk_auto_acks_sent_total{channel="sms"})", 1));
  start(before_nine);
  ws_client dashboard(daemon_->port(), "/ws/staff", daemon_->origin(), ann_->cookie);
  ASSERT_TRUE(dashboard.read_until(R"("type":"hello")"));
  const auto opened = std::chrono::steady_clock::now();
  std::string offered;
  while (std::chrono::steady_clock::now() - opened < std::chrono::seconds(15)) {
    const auto frame = dashboard.read(std::chrono::milliseconds(200));
    if (frame && frame->find(R"("event":"offer.created")") != std::string::npos) {
      offered = json_string(*frame, "conversation");
      break;
    }
  }
  const auto waited = std::chrono::steady_clock::now() - opened;
  EXPECT_EQ(offered, ada);
  EXPECT_GE(waited, std::chrono::seconds(2)) << "offered before the team opened";
}

TEST_F(AfterHours, TheNextClosedPeriodIsAcknowledgedAgain) {
  writes("mail", "ada@example.org", "m1", "Monday night question");
  ASSERT_TRUE(wait_for_metric(R"(askdesk_auto_acks_sent_total{channel="email"})", 1));
  start("2026-11-25T04:00:00Z");  // Tuesday 23:00: another night
  writes("mail", "ada@example.org", "m2", "Tuesday night question");
  ASSERT_TRUE(wait_for_metric(R"(askdesk_auto_acks_sent_total{channel="email"})", 1));
  const std::string t = transcript(conversation_of("mail", "ada@example.org"));
  EXPECT_EQ(automatic_messages(t), 2) << t;
  EXPECT_NE(t.find("We open Wednesday, November 25 at 9:00 AM."), std::string::npos) << t;
}

TEST_F(AfterHours, NoAcknowledgementToAutomatedSendersOrListsOrBounces) {
  const std::vector<std::pair<std::string, std::string>> automated = {
      {"ada@example.org", R"("Auto-Submitted":"auto-replied")"},
      {"bo@example.org", R"("Precedence":"bulk")"},
      {"cy@example.org", R"("List-Id":"<books.lists.example.org>")"},
      {"di@example.org", R"("Return-Path":"<>")"},
      {"MAILER-DAEMON@mx.example.org", R"("X-Mailer":"x")"},
      {"books-request@lists.example.org", R"("X-Mailer":"x")"},
      {"owner-books@lists.example.org", R"("X-Mailer":"x")"},
      {"LISTSERV@lists.example.org", R"("X-Mailer":"x")"},
      {"eve@example.org", R"("precedence":"list")"},  // header names in any case
  };
  int n = 0;
  for (const auto& [from, headers] : automated) {
    writes("mail", from, "a" + std::to_string(++n), "Out of office",
           R"(,"headers":{)" + headers + "}");
  }
  ASSERT_TRUE(wait_for_metric(R"(askdesk_auto_acks_skipped_total{reason="automated"})",
                              static_cast<double>(automated.size())));
  for (const auto& [from, headers] : automated) {
    EXPECT_EQ(automatic_messages(transcript(conversation_of("mail", from))), 0) << from;
  }
  EXPECT_EQ(metric(R"(askdesk_auto_acks_sent_total{channel="email"})"), 0);
}

TEST_F(AfterHours, SmsStopIsHonouredUntilStart) {
  writes("texts", "+15550100123", "s1", "STOP");
  ASSERT_TRUE(wait_for_metric(R"(askdesk_auto_acks_skipped_total{reason="sms_keyword"})", 1));
  writes("texts", "+15550100123", "s2", "What are your hours?");
  ASSERT_TRUE(wait_for_metric(R"(askdesk_auto_acks_skipped_total{reason="opted_out"})", 1));
  const std::string id = conversation_of("texts", "+15550100123");
  EXPECT_EQ(automatic_messages(transcript(id)), 0);
  const auto patron = redis_.command({"GET", "address:sms:+15550100123"}).str();
  const auto record = daemon_->call(*sue_, "GET", "/api/v1/patrons/" + patron).body;
  EXPECT_NE(record.find("opted_out_at"), std::string::npos) << record;
  EXPECT_EQ(json_at(record, "/addresses/0/opted_out_at").empty(), false) << record;

  writes("texts", "+15550100123", "s3", "START");
  ASSERT_TRUE(wait_for_metric(R"(askdesk_auto_acks_skipped_total{reason="sms_keyword"})", 2));
  writes("texts", "+15550100123", "s4", "Sorry, what are your hours?");
  ASSERT_TRUE(wait_for_metric(R"(askdesk_auto_acks_sent_total{channel="sms"})", 1));
  EXPECT_EQ(automatic_messages(transcript(id)), 1);
}

TEST_F(AfterHours, TheWidgetsOfflineFormGoesToTheChosenChannel) {
  ws_client patron(daemon_->port(), "/ws/patron", daemon_->origin());
  patron.send(R"({"type":"hello","team":"reference","lang":"en-CA"})");
  ASSERT_TRUE(patron.read_until(R"("next_open_text":"Tuesday, November 24 at 9:00 a.m.")"));
  patron.send(R"({"type":"offline","text":"Census 1901?","name":"Ada","reply_by":"email",)"
              R"("address":"not an address","client_id":"f1"})");
  EXPECT_TRUE(patron.read_until(R"("code":"invalid")"));
  patron.send(R"({"type":"offline","text":"Census 1901?","name":"Ada","reply_by":"email",)"
              R"("address":"ada@example.org","client_id":"f1"})");
  EXPECT_TRUE(patron.read_until(R"("type":"offline_ack")"));
  // An email connector exists (here the replay webhook with channel email): the question is
  // an email conversation of its own, and the acknowledgement goes out there.
  ASSERT_TRUE(wait_for_metric(R"(askdesk_auto_acks_sent_total{channel="email"})", 1));
  const auto t = transcript(newest_conversation("email", "ada@example.org"));
  EXPECT_NE(t.find("Census 1901?"), std::string::npos) << t;
  EXPECT_EQ(automatic_messages(t), 1) << t;

  // A phone number goes to the SMS connector, in E.164; one without its country code is
  // refused. A form's text is never read as the number's STOP.
  patron.send(R"({"type":"offline","text":"Hours?","reply_by":"sms",)"
              R"("address":"555 010 0142","client_id":"f2"})");
  EXPECT_TRUE(patron.read_until("country code"));
  patron.send(R"({"type":"offline","text":"STOP","reply_by":"sms",)"
              R"("address":"+1 (555) 010-0142","client_id":"f3"})");
  EXPECT_TRUE(patron.read_until(R"("channel":"sms")"));
  ASSERT_TRUE(wait_for_metric(R"(askdesk_auto_acks_sent_total{channel="sms"})", 1));
  EXPECT_EQ(automatic_messages(transcript(newest_conversation("sms", "+15550100142"))), 1);
  EXPECT_EQ(redis_.command({"EXISTS", "optout:sms:+15550100142"}).integer(), 0);
}

// Each form answered by SMS or email makes the library write to an address nobody checked:
// past offline_forms_per_hour (60) in an hour, forms stay in the chat, with no text sent.
TEST_F(AfterHours, PastTheHourlyCapOfflineFormsStayInTheChat) {
  ws_client patron(daemon_->port(), "/ws/patron", daemon_->origin());
  patron.send(R"({"type":"hello","team":"reference"})");
  ASSERT_TRUE(patron.read_until("next_open_text"));
  patron.send(R"({"type":"offline","text":"Hours?","reply_by":"sms",)"
              R"("address":"+15550100150","client_id":"f1"})");
  ASSERT_TRUE(patron.read_until(R"("channel":"sms")"));
  EXPECT_EQ(redis_.command({"GET", "webchat:webchat:quota:offline_forms"}).str(), "1");
  const auto ttl = redis_.command({"PTTL", "webchat:webchat:quota:offline_forms"}).integer();
  EXPECT_GT(ttl, 3500000);
  EXPECT_LE(ttl, 3600000);
  ASSERT_TRUE(wait_for_metric(R"(askdesk_auto_acks_sent_total{channel="sms"})", 1));

  redis_.command({"SET", "webchat:webchat:quota:offline_forms", "60", "KEEPTTL"});
  patron.send(R"({"type":"offline","text":"Hours again?","reply_by":"sms",)"
              R"("address":"+15550100151","client_id":"f2"})");
  ASSERT_TRUE(patron.read_until(R"("channel":"webchat")"));
  EXPECT_NE(daemon_->process().log().find("offline_forms_per_hour (60) reached"),
            std::string::npos);
  // The question is this chat's: it comes back to the widget as the chat's message.
  EXPECT_TRUE(patron.read_until("Hours again?"));
  EXPECT_EQ(redis_.command({"EXISTS", "address:sms:+15550100151"}).integer(), 0);
  EXPECT_EQ(metric(R"(askdesk_auto_acks_sent_total{channel="sms"})"), 1);
}

TEST_F(AfterHours, TheHoursAreAskedWithoutSigningIn) {
  const auto r = http_request("GET", daemon_->url("/api/v1/teams/reference/hours?lang=fr"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"("open":false)"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("next_open":"2026-11-24T14:00:00.000Z")"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("next_open_text":"mardi 24 novembre à 09:00")"), std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find(R"("mon":[["09:00","17:00"]])"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("timezone":"America/Toronto")"), std::string::npos) << r.body;
  EXPECT_EQ(http_request("GET", daemon_->url("/api/v1/teams/nope/hours")).status, 404);
}

// busy_ack: open, but nobody available. A librarian with the dashboard open and available
// means no acknowledgement.
TEST(BusyAcknowledgement, OnlyWhenNoMemberIsAvailable) {
  redis_server redis;
  askdesk_daemon daemon(redis, R"({
    "teams": [{"id": "reference", "name": "Reference",
               "busy_ack": {"*": {"en": "All librarians are busy; {team} will answer soon."}}}],
    "connectors": [{"id": "mail", "type": "replay", "token": "mail-token-0123456789",
                    "channel": "email"}, {"id": "webchat", "type": "webchat"}]
  })");
  daemon.add_user("ann", "staff", {"reference"}, "ann-password-1");
  const auto ann = daemon.login("ann", "ann-password-1");
  const auto write = [&](const std::string& from, const std::string& id) {
    const auto r = http_request("POST", daemon.url("/webhooks/replay/mail"),
                                R"({"id":")" + id + R"(","from":")" + from + R"(","text":"Hi"})",
                                {"Authorization: Bearer mail-token-0123456789"});
    ASSERT_EQ(r.status, 200) << r.body;
  };
  const auto metric = [&](const std::string& sample) {
    for (int i = 0; i < 250; ++i) {
      const auto body = http_request("GET", daemon.url("/metrics")).body;
      if (body.find("\n" + sample + " 1") != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  };
  write("ada@example.org", "m1");
  EXPECT_TRUE(metric(R"(askdesk_auto_acks_sent_total{channel="email"})"));

  ws_client dashboard(daemon.port(), "/ws/staff", daemon.origin(), ann.cookie);
  ASSERT_TRUE(dashboard.read_until(R"("type":"hello")"));
  write("bo@example.org", "m2");
  EXPECT_TRUE(metric(R"(askdesk_auto_acks_skipped_total{reason="available"})"));

  // The widget's offline form is for closed hours only.
  ws_client patron(daemon.port(), "/ws/patron", daemon.origin());
  patron.send(R"({"type":"hello","team":"reference"})");
  ASSERT_TRUE(patron.read_until("welcome"));
  patron.send(R"({"type":"offline","text":"Hi","reply_by":"email","address":"cy@example.org",)"
              R"("client_id":"f1"})");
  EXPECT_TRUE(patron.read_until("the library is open"));
}

}  // namespace
}  // namespace askdesk::testing
