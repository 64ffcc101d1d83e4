// Patron privacy against the real daemon, the askdesk command and a real redis-server with
// its append-only file: conversations on web chat, SMS, Telegram and Mastodon (local servers
// that speak their documented APIs) carry
// unique markers in their text,
// in the patron's identifiers and in the channel's message id (which names keys); past the
// retention, `askdesk privacy purge` leaves no marker in any key's name or serialized value (DUMP:
// a stream's deleted entries would still show there) nor in the AOF files, and the reports count
// the same. An erasure removes one patron and leaves another untouched; export holds what the scan
// finds; the access audit writes down opens, exports and erasures.
#include <gtest/gtest.h>

#include "tests/support/askdesk_daemon.hpp"
#include "tests/support/fake_mastodon.hpp"
#include "tests/support/fake_telegram.hpp"
#include "tests/support/mail_servers.hpp"
#include "tests/support/markers.hpp"
#include "tests/support/prosody_server.hpp"
#include "tests/support/wait.hpp"
#include "tests/support/ws_client.hpp"
#include "tests/support/xmpp_patron.hpp"

namespace askdesk::testing {
namespace {

std::string config(const fake_telegram& telegram, const fake_mastodon& mastodon) {
  return R"({
  "teams": [{"id": "reference"}],
  "topics": [{"id": "renewals", "team": "reference", "keywords": ["renew"]},
             {"id": "printing", "team": "reference", "keywords": ["print"]}],
  "privacy": {"transcript_days": 30, "identifier_days": 30, "ip": "none", "audit_days": 365,
              "aof_rewrite": true, "channels": {"sms": {"transcript_days": 7}}},
  "connectors": [
    {"id": "webchat", "type": "webchat"},
    {"id": "texts", "type": "replay", "token": "text-token-0123456789", "channel": "sms"},
    {"id": "telegram", "type": "telegram", "token": ")" +
         telegram.token() + R"(", "api_base": ")" + telegram.base() + R"("},
    {"id": "mastodon", "type": "mastodon", "instance": ")" +
         mastodon.base() + R"(", "access_token": ")" + mastodon.token() + R"(", "poll_seconds": 1}
  ]
})";
}

// Tuesday 3 March 2026; ten days later SMS transcripts are past their 7 days, web chat's not;
// forty days later everything closed is past.
const char* start_at = "2026-03-03T15:00:00Z";
const char* ten_days_later = "2026-03-13T16:00:00Z";
const char* forty_days_later = "2026-04-12T16:00:00Z";

// How many times Redis rewrote its append-only file since it started.
std::int64_t aof_rewrites(redis_server& redis) {
  const std::string info = redis.command({"INFO", "persistence"}).str();
  const auto at = info.find("aof_rewrites:");
  return at == std::string::npos ? 0 : std::stoll(info.substr(at + 13));
}

class Privacy : public ::testing::Test {
 protected:
  Privacy() {
    // Values serialized as written (DUMP, the AOF's RDB preamble), so a scan sees the text.
    redis_.command({"CONFIG", "SET", "rdbcompression", "no"});
    daemon_ = std::make_unique<askdesk_daemon>(redis_, config(telegram_, mastodon_),
                                               std::vector<std::string>{"--clock-start", start_at});
    daemon_->add_user("sue", "supervisor", {}, "sue-password-1");
    daemon_->add_user("ann", "staff", {"reference"}, "ann-password-1");
    daemon_->add_user("ada", "admin", {}, "ada-password-1");
    sue_ = daemon_->login("sue", "sue-password-1");
    ann_ = daemon_->login("ann", "ann-password-1");
  }

  // A patron's text; returns its conversation once the hub applied it.
  std::string texts(const std::string& from, const std::string& id, const std::string& name,
                    const std::string& text) {
    return daemon_->replay("texts", "text-token-0123456789", from,
                           R"({"id":")" + id + R"(","from":")" + from + R"(","name":")" + name +
                               R"(","text":")" + text + "\"}");
  }

  // Ann answers and closes it.
  void answer_and_close(const std::string& id) {
    const std::string path = "/api/v1/conversations/" + id;
    ASSERT_EQ(daemon_->call(ann_, "POST", path + "/messages", R"({"text":"Yes, you can."})").status,
              201);
    ASSERT_EQ(daemon_->call(ann_, "POST", path + "/close").status, 200);
  }

  std::string patron_of(const std::string& conversation) {
    return json_at(daemon_->call(sue_, "GET", "/api/v1/conversations/" + conversation).body,
                   "/patron/id");
  }

  std::pair<int, std::string> purge(const char* as_of, bool dry = false) {
    std::vector<std::string> args = {"privacy", "purge", "--as-of", as_of};
    if (dry) args.push_back("--dry-run");
    return daemon_->run_cli(args);
  }

  std::string summary() {
    const auto r =
        daemon_->call(sue_, "GET", "/api/v1/reports/summary?from=2026-03-01&to=2026-03-31");
    EXPECT_EQ(r.status, 200) << r.body;
    return r.body;
  }

  redis_server redis_;
  fake_telegram telegram_;
  fake_mastodon mastodon_;
  std::unique_ptr<askdesk_daemon> daemon_;
  staff_session sue_, ann_;
};

TEST_F(Privacy,
       APurgePastTheRetentionLeavesNoPatronDataInRedisOrItsFilesAndTheReportsCountTheSame) {
  const std::string sms =
      texts("+15550107771", "qxmarka-id", "qxmarka", "qxmarka may I renew my loan");
  ws_client widget(daemon_->port(), "/ws/patron", daemon_->origin());
  widget.send(R"({"type":"hello","team":"reference","name":"qxmarkb"})");
  ASSERT_TRUE(widget.read_until("welcome"));
  widget.send(R"({"type":"profile","name":"qxmarkb","email":"qxmarkb@example.org"})");
  widget.send(R"({"type":"message","text":"qxmarkb where are the atlases","client_id":"m1"})");
  ASSERT_TRUE(widget.read_until("\"direction\":\"in\""));
  std::string chat;
  ASSERT_TRUE(wait_until([&] {
    chat = json_at(daemon_->call(sue_, "GET", "/api/v1/conversations?channel=webchat").body,
                   "/items/0/id");
    return !chat.empty();
  }));
  // Staff correct a topic: the patron's words become a classifier example.
  ASSERT_EQ(
      daemon_
          ->call(ann_, "POST", "/api/v1/conversations/" + sms + "/topic", R"({"topic":"printing"})")
          .status,
      200);
  // A Telegram patron who came by a deep link: the connector keeps a record of their chat.
  const fake_telegram::patron tg{6100077777, "qxmarkt", "", "qxmarkt_user"};
  telegram_.add_text(tg, "/start renewals");
  telegram_.add_text(tg, "qxmarkt do you have audiobooks");
  std::string im;
  ASSERT_TRUE(wait_until([&] {
    im = redis_.command({"GET", "thread:telegram:6100077777"}).str();
    return !im.empty();
  }));
  EXPECT_EQ(redis_.command({"EXISTS", "telegram:telegram:chat:6100077777"}).integer(), 1);
  // A private mention on Mastodon: its own conversation, no triage.
  const auto author = mastodon_.add_account("qxmarkm", "Qxmarkm Reader");
  fake_mastodon::status_spec mention;
  mention.account_id = author.id;
  mention.content = "<p><span class=\"h-card\"><a href=\"" + mastodon_.base() +
                    "/@library\" class=\"u-url mention\">@<span>library</span></a></span> "
                    "qxmarkm is the archive open</p>";
  mention.visibility = "direct";
  mention.mentions = {fake_mastodon::library_id};
  const std::string social = redis_.wait_for_string(
      {"GET", "thread:mastodon:direct:" + mastodon_.add_status(mention)}, std::chrono::seconds(20));
  ASSERT_FALSE(social.empty());
  answer_and_close(sms);
  answer_and_close(chat);
  answer_and_close(im);
  answer_and_close(social);
  const std::string open = texts("+15550107774", "d1", "qxmarkd", "qxmarkd still waiting");

  for (const char* marker :
       {"qxmarka", "5550107771", "qxmarkb", "qxmarkt", "6100077777", "qxmarkm"}) {
    EXPECT_FALSE(found_in_redis(redis_, marker).empty()) << marker;
  }
  EXPECT_EQ(redis_.command({"XLEN", "topic:examples"}).integer(), 1);
  // Export holds everything the scan finds of the patron.
  const auto exported = daemon_->call(sue_, "GET", "/api/v1/patrons/" + patron_of(sms) + "/export");
  ASSERT_EQ(exported.status, 200) << exported.body;
  for (const char* marker : {"qxmarka", "5550107771", "Yes, you can."}) {
    EXPECT_NE(exported.body.find(marker), std::string::npos) << marker;
  }
  const std::string before = summary();

  // Ten days on: SMS transcripts (7 days) are due, web chat's (30) are not; a dry run
  // changes nothing.
  auto [dry_code, dry] = purge(ten_days_later, true);
  ASSERT_EQ(dry_code, 0) << dry;
  EXPECT_NE(dry.find("would redact 1 conversation(s) and 0 patron(s)"), std::string::npos) << dry;
  // The question, the answer and the satisfaction question; the classifier's example.
  EXPECT_NE(dry.find("message:{c:<conversation>}:<id>: 3 would go"), std::string::npos) << dry;
  EXPECT_NE(dry.find("topic:examples: 1 would go"), std::string::npos) << dry;
  EXPECT_FALSE(found_in_redis(redis_, "qxmarka").empty());
  auto [code, output] = purge(ten_days_later);
  ASSERT_EQ(code, 0) << output;
  EXPECT_NE(output.find("redacted 1 conversation(s)"), std::string::npos) << output;
  EXPECT_FALSE(found_in_redis(redis_, "qxmarkb").empty()) << "web chat keeps 30 days";

  // Forty days on: everything closed goes, with its patrons' identifiers. (The replies have
  // long been sent: an idle lane keeps nothing.)
  ASSERT_TRUE(wait_until([&] {
    for (const char* lane :
         {"outbound:webchat", "outbound:texts", "outbound:telegram", "outbound:mastodon"}) {
      if (redis_.command({"XLEN", lane}).integer() > 0) return false;
    }
    return true;
  }));
  std::tie(code, output) = purge(forty_days_later);
  ASSERT_EQ(code, 0) << output;
  EXPECT_NE(output.find("redacted 3 conversation(s) and 4 patron(s)"), std::string::npos) << output;
  ASSERT_TRUE(files_settled(redis_));
  for (const char* marker :
       {"qxmarka", "5550107771", "qxmarkb", "qxmarkt", "6100077777", "qxmarkm"}) {
    EXPECT_EQ(found_in_redis(redis_, marker), std::vector<std::string>{}) << marker;
    EXPECT_EQ(found_in_files(redis_.dir(), marker), std::vector<std::string>{}) << marker;
  }
  // The open conversation and its patron are untouched.
  EXPECT_FALSE(found_in_redis(redis_, "qxmarkd").empty());
  EXPECT_FALSE(found_in_redis(redis_, "5550107774").empty());
  EXPECT_EQ(summary(), before);
  EXPECT_EQ(json_value_at(before, "/conversations"), "5");
  EXPECT_EQ(json_value_at(before, "/answered"), "4");
  (void)open;
}

TEST_F(Privacy, AnErasureRemovesOnePatronNowLeavesAnotherAndIsAudited) {
  const std::string erased =
      texts("+15550107775", "qxmarke-id", "qxmarke", "qxmarke please forget me");
  const std::string kept = texts("+15550107776", "f1", "qxmarkf", "qxmarkf keep me");
  const std::string patron = patron_of(erased);
  const std::string path = "/api/v1/patrons/" + patron + "/erase";
  EXPECT_EQ(daemon_->call(ann_, "POST", path).status, 403);
  EXPECT_EQ(daemon_->call(sue_, "POST", path).status, 409) << "its conversation is open";
  answer_and_close(erased);
  // The answer and the satisfaction question go out first: the erasure waits for them (409).
  ASSERT_TRUE(wait_until([&] {
    const auto r = daemon_->call(sue_, "POST", path);
    EXPECT_TRUE(r.status == 200 || r.status == 409) << r.body;
    return r.status == 200;
  }));
  // Done: a second erasure finds nothing more to redact.
  const auto again = daemon_->call(sue_, "POST", path);
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(json_value_at(again.body, "/conversations"), "0");
  EXPECT_EQ(daemon_->call(sue_, "POST", "/api/v1/patrons/999999/erase").status, 404);
  ASSERT_TRUE(files_settled(redis_));
  for (const char* marker : {"qxmarke", "5550107775"}) {
    EXPECT_EQ(found_in_redis(redis_, marker), std::vector<std::string>{}) << marker;
    EXPECT_EQ(found_in_files(redis_.dir(), marker), std::vector<std::string>{}) << marker;
  }
  for (const char* marker : {"qxmarkf", "5550107776"}) {
    EXPECT_FALSE(found_in_redis(redis_, marker).empty()) << marker;
  }
  // The conversation is still counted, without its patron.
  const auto c = daemon_->call(sue_, "GET", "/api/v1/conversations/" + erased);
  EXPECT_EQ(c.status, 200);
  EXPECT_EQ(json_value_at(c.body, "/messages/0/text"), "");
  EXPECT_EQ(json_value_at(summary(), "/conversations"), "2");

  // Every look, export and erasure is written down, for admins only.
  ASSERT_EQ(daemon_->call(sue_, "GET", "/api/v1/patrons/" + patron_of(kept) + "/export").status,
            200);
  const auto ada = daemon_->login("ada", "ada-password-1");
  EXPECT_EQ(daemon_->call(sue_, "GET", "/api/v1/audit").status, 403);
  const auto audit = daemon_->call(ada, "GET", "/api/v1/audit?limit=500");
  ASSERT_EQ(audit.status, 200) << audit.body;
  for (const std::string action : {"open_conversation", "export_patron", "erase_patron"}) {
    EXPECT_NE(audit.body.find("\"action\":\"" + action + "\""), std::string::npos) << action;
  }
  EXPECT_NE(audit.body.find(R"("user":"sue")"), std::string::npos);
  EXPECT_NE(audit.body.find(R"("address":"127.0.0.1")"), std::string::npos);
  const auto erasures = daemon_->call(ada, "GET", "/api/v1/audit?action=erase_patron");
  EXPECT_NE(erasures.body.find("\"target\":\"" + patron + "\""), std::string::npos);
  EXPECT_EQ(erasures.body.find("open_conversation"), std::string::npos);
  EXPECT_EQ(daemon_->call(ada, "GET", "/api/v1/audit?action=peek").status, 400);
}

// Two records of one person (an SMS number and a web chat) are linked only by staff, with the
// patron's consent in words, on both sides; unlinked on both; an erasure takes the link away
// from the other record too.
TEST_F(Privacy, RecordsAreLinkedOnlyWithConsentAndAnErasureUnlinksThem) {
  const std::string first = texts("+15550107781", "l1", "Lin", "my phone");
  const std::string a = patron_of(first);
  const std::string b = patron_of(texts("+15550107782", "l2", "Lin", "my other phone"));
  const std::string links = "/api/v1/patrons/" + a + "/links";
  EXPECT_EQ(daemon_->call(ann_, "POST", links, R"({"patron":")" + b + R"("})").status, 400)
      << "no consent, no link";
  EXPECT_EQ(
      daemon_->call(ann_, "POST", links, R"({"patron":")" + a + R"(","consent":"yes"})").status,
      400);
  EXPECT_EQ(daemon_->call(ann_, "POST", links, R"({"patron":"999999","consent":"yes"})").status,
            404);
  const auto linked = daemon_->call(
      ann_, "POST", links, R"({"patron":")" + b + R"(","consent":"Lin agreed in the chat"})");
  ASSERT_EQ(linked.status, 200) << linked.body << daemon_->process().log();
  EXPECT_EQ(json_value_at(linked.body, "/links/0/patron"), b);
  EXPECT_EQ(json_value_at(linked.body, "/links/0/consent/by"), "ann");
  EXPECT_EQ(json_value_at(linked.body, "/links/0/consent/text"), "Lin agreed in the chat");
  auto other = daemon_->call(ann_, "GET", "/api/v1/patrons/" + b);
  EXPECT_EQ(json_value_at(other.body, "/links/0/patron"), a);

  ASSERT_EQ(daemon_->call(ann_, "DELETE", links + "/" + b).status, 200);
  other = daemon_->call(ann_, "GET", "/api/v1/patrons/" + b);
  EXPECT_EQ(json_value_at(other.body, "/links/0/patron"), "");

  ASSERT_EQ(
      daemon_->call(ann_, "POST", links, R"({"patron":")" + b + R"(","consent":"again"})").status,
      200);
  ASSERT_EQ(daemon_->call(sue_, "POST", "/api/v1/conversations/" + first + "/close").status, 200);
  ASSERT_TRUE(wait_until([&] {
    return daemon_->call(sue_, "POST", "/api/v1/patrons/" + a + "/erase").status == 200;
  }));
  other = daemon_->call(ann_, "GET", "/api/v1/patrons/" + b);
  EXPECT_EQ(json_value_at(other.body, "/links/0/patron"), "") << other.body;
  EXPECT_EQ(redis_.command({"EXISTS", "patron:" + a + ":links"}).integer(), 0);
  // An erased record cannot be linked again.
  EXPECT_EQ(daemon_
                ->call(ann_, "POST", "/api/v1/patrons/" + b + "/links",
                       R"({"patron":")" + a + R"(","consent":"yes"})")
                .status,
            409);
  const auto ada = daemon_->login("ada", "ada-password-1");
  const auto audit = daemon_->call(ada, "GET", "/api/v1/audit?action=link_patron");
  EXPECT_NE(audit.body.find("\"target\":\"" + a + "\""), std::string::npos) << audit.body;
  EXPECT_NE(daemon_->call(ada, "GET", "/api/v1/audit?action=unlink_patron").body.find("ann"),
            std::string::npos);
}

// The daemons purge by themselves: one of them, soon after it starts and every purge_minutes.
TEST_F(Privacy, TheDaemonPurgesOnItsOwn) {
  const std::string sms = texts("+15550107791", "s1", "qxmarks", "qxmarks one question");
  answer_and_close(sms);
  ASSERT_TRUE(wait_until([&] {
    return redis_.command({"XLEN", "outbound:texts"}).integer() == 0;
  }));
  const std::int64_t rewrites = aof_rewrites(redis_);
  // Forty days later, by the daemon's clock: it purges, then has Redis rewrite its files.
  daemon_.reset();
  daemon_ =
      std::make_unique<askdesk_daemon>(redis_, config(telegram_, mastodon_),
                                       std::vector<std::string>{"--clock-start", forty_days_later});
  EXPECT_TRUE(
      wait_until([&] { return aof_rewrites(redis_) > rewrites; }, std::chrono::seconds(30)));
  ASSERT_TRUE(files_settled(redis_));
  EXPECT_EQ(redis_.command({"HEXISTS", "conversation:{c:" + sms + "}", "redacted_at"}).integer(),
            1);
  EXPECT_EQ(redis_.command({"EXISTS", "lease:privacy"}).integer(), 1);
  EXPECT_EQ(found_in_redis(redis_, "qxmarks"), std::vector<std::string>{});
  EXPECT_EQ(found_in_files(redis_.dir(), "qxmarks"), std::vector<std::string>{});
}

// Email too (a real Dovecot and an SMTP sink): a patron's mail, erased on request, leaves no
// marker in Redis or its files. The library's own mailbox keeps the mail: it is not askdesk's.
TEST(PrivacyEmail, AnErasedEmailPatronLeavesNoMarkerInRedisOrItsFiles) {
  redis_server redis;
  redis.command({"CONFIG", "SET", "rdbcompression", "no"});
  dovecot_server imap;
  smtp_sink smtp;
  askdesk_daemon daemon(redis, R"({"connectors": [{"id": "mail", "type": "email", "imap_url": ")" +
                                   imap.url() + R"(", "smtp_url": ")" + smtp.url() +
                                   R"(", "username": "ask", "password": "secret",
    "address": "ask@library.example.org", "poll_seconds": 1}]})");
  daemon.add_user("sue", "supervisor", {}, "sue-password-1");
  const auto sue = daemon.login("sue", "sue-password-1");
  imap.append(
      "From: Qxmarkq Reader <qxmarkq@example.org>\r\nTo: ask@library.example.org\r\n"
      "Subject: qxmarkq overdue notice\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
      "Message-ID: <qxmarkq-1@example.org>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
      "qxmarkq: I returned it last week.\r\n");
  const std::string id =
      redis.wait_for_string({"GET", "thread:mail:qxmarkq-1@example.org"}, std::chrono::seconds(20));
  ASSERT_FALSE(id.empty());
  const std::string path = "/api/v1/conversations/" + id;
  ASSERT_EQ(
      daemon.call(sue, "POST", path + "/messages", R"({"text":"Thank you, cleared."})").status,
      201);
  ASSERT_TRUE(smtp.wait_for(1));
  ASSERT_EQ(daemon.call(sue, "POST", path + "/close").status, 200);
  expect_erased_without_trace(daemon, sue, id, redis, "qxmarkq");
}

// XMPP too (Debian's Prosody, a patron on slixmpp): a patron's messages, their JID and the
// reply, erased on request, leave no marker in Redis or its files. Prosody's own archive keeps
// the chat: it is the library's server, not askdesk's.
TEST(PrivacyXmpp, AnErasedXmppPatronLeavesNoMarkerInRedisOrItsFiles) {
  prosody_server prosody;
  prosody.add_user("ask", "ask-password-for-tests");
  prosody.add_user("qxmarkx", "qxmarkx-password");
  redis_server redis;
  redis.command({"CONFIG", "SET", "rdbcompression", "no"});
  askdesk_daemon daemon(redis, R"({"connectors": [{"id": "xmpp", "type": "xmpp", "jid": ")" +
                                   prosody_server::jid("ask") +
                                   R"(", "password": "ask-password-for-tests", "host": "127.0.0.1",
    "port": )" + std::to_string(prosody.port()) +
                                   R"(, "tls": "required", "ca_file": ")" + prosody.ca_file() +
                                   R"("}]})");
  ASSERT_TRUE(daemon.wait_for_metric(R"(askdesk_xmpp_connected{connector="xmpp"})", 1,
                                     std::chrono::seconds(20)));
  daemon.add_user("sue", "supervisor", {}, "sue-password-1");
  const auto sue = daemon.login("sue", "sue-password-1");
  xmpp_patron patron("qxmarkx");
  ASSERT_TRUE(patron.connect(login_for(prosody, "qxmarkx", "qxmarkx-password")));
  patron.send_message(prosody_server::jid("ask"), "qxmarkx: may I renew a film?",
                      {.request_receipt = true});
  const std::string id = redis.wait_for_string(
      {"GET", "thread:xmpp:" + prosody_server::jid("qxmarkx")}, std::chrono::seconds(20));
  ASSERT_FALSE(id.empty());
  const std::string path = "/api/v1/conversations/" + id;
  ASSERT_EQ(daemon.call(sue, "POST", path + "/messages", R"({"text":"Yes, twice."})").status, 201);
  ASSERT_TRUE(patron.wait_for_message("Yes, twice.", std::chrono::seconds(15)));
  ASSERT_EQ(daemon.call(sue, "POST", path + "/close").status, 200);
  expect_erased_without_trace(daemon, sue, id, redis, "qxmarkx");
}

}  // namespace
}  // namespace askdesk::testing
