// The email connector through the real daemon against a real Dovecot (IMAP) and a real SMTP
// sink (aiosmtpd) on loopback: a patron's email becomes a conversation, the reply goes out
// with threading headers, the patron's answer threads back (but a stranger's does not), a
// bounce marks the reply failed, SMTP 4xx is retried and 5xx shown, the corpus of difficult
// messages is read without a crash or a loss, and STARTTLS and implicit TLS work both ways,
// checked against the library's own CA, with no login or mail without the TLS asked for.
#include <gtest/gtest.h>
#include <unistd.h>

#include <memory>
#include <sstream>
#include <thread>

#include "daemon/store/keys.hpp"
#include "tests/support/askdesk_daemon.hpp"
#include "tests/support/mail_servers.hpp"
#include "tests/support/wait.hpp"
#include "tests/support/ws_client.hpp"

namespace askdesk::testing {
namespace {

const std::string library = "ask@library.example.org";

std::string email_config(const std::string& imap_url, const std::string& smtp_url,
                         const std::string& extra = "") {
  return R"({"teams": [{"id": "reference"}],
    "connectors": [{"id": "mail", "type": "email", "imap_url": ")" +
         imap_url + R"(", "smtp_url": ")" + smtp_url +
         R"(", "username": "ask", "password": "secret", "address": ")" + library +
         R"(", "from_name": "Springfield Library", "poll_seconds": 1)" + extra + "}]}";
}

std::string email_config(const dovecot_server& imap, const smtp_sink& smtp,
                         const std::string& extra = "") {
  return email_config(imap.url(), smtp.url(), extra);
}

std::string mail(const std::string& from, const std::string& id, const std::string& subject,
                 const std::string& body, const std::string& headers = "") {
  return "From: " + from + "\r\nTo: " + library + "\r\nSubject: " + subject +
         "\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <" + id + ">\r\n" + headers +
         "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n";
}

// The value of header `name` in a raw message ("" when absent).
std::string header_of(const std::string& raw, const std::string& name) {
  std::istringstream in(raw);
  std::string line;
  while (std::getline(in, line) && line != "\r") {
    if (line.rfind(name + ": ", 0) == 0) {
      auto v = line.substr(name.size() + 2);
      if (!v.empty() && v.back() == '\r') v.pop_back();
      return v;
    }
  }
  return "";
}

class Email : public ::testing::Test {
 protected:
  Email() : daemon_(redis_, email_config(imap_, smtp_)), ann_(daemon_, "ann", {"reference"}) {}

  // The conversation of the message with `message_id`, once stored.
  std::string conversation_of(const std::string& message_id) {
    return redis_.wait_for_string({"HGET", "dedup:mail:" + message_id, "conversation"});
  }

  dovecot_server imap_;
  smtp_sink smtp_;
  redis_server redis_;
  askdesk_daemon daemon_;
  staff_client ann_;
};

TEST_F(Email, AnEmailBecomesAConversationAndTheAnswerThreadsBack) {
  imap_.append(mail("Ada Lovelace <Ada@Example.org>", "q-1@example.org", "Opening hours?",
                    "Are you open on Sunday?"));
  const std::string id = conversation_of("q-1@example.org");
  ASSERT_FALSE(id.empty());
  auto c = ann_.read(id);
  EXPECT_NE(c.find("Are you open on Sunday?"), std::string::npos) << c;
  EXPECT_NE(c.find(R"("channel":"email")"), std::string::npos) << c;
  EXPECT_NE(c.find(R"("subject":"Opening hours?")"), std::string::npos) << c;
  // Stored, then marked \Seen and the cursor saved.
  for (int i = 0; i < 200 && !imap_.search("UNSEEN").empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  EXPECT_TRUE(imap_.search("UNSEEN").empty());
  EXPECT_EQ(redis_.command({"HGET", "email:mail:cursor", "uid"}).str(), "1");

  ASSERT_EQ(ann_.reply(id, "Yes, from noon to 5 pm. Bibliothèque ouverte.").status, 201);
  ASSERT_TRUE(smtp_.wait_for(1));
  const auto sent = smtp_.messages().front();
  EXPECT_EQ(header_of(sent, "X-Envelope-From"), "<" + library + ">");
  EXPECT_EQ(header_of(sent, "To"), "Ada Lovelace <ada@example.org>");
  EXPECT_EQ(header_of(sent, "From"), "Springfield Library <" + library + ">");
  EXPECT_EQ(header_of(sent, "Subject"), "Re: Opening hours?");
  EXPECT_EQ(header_of(sent, "In-Reply-To"), "<q-1@example.org>");
  EXPECT_EQ(header_of(sent, "References"), "<q-1@example.org>");
  EXPECT_EQ(header_of(sent, "Content-Transfer-Encoding"), "quoted-printable");
  EXPECT_EQ(header_of(sent, "Auto-Submitted"), "");
  const std::string our_id = header_of(sent, "Message-ID");
  ASSERT_EQ(our_id.rfind("<askdesk." + id + ".", 0), 0u) << our_id;
  ASSERT_TRUE(ann_.eventually(id, R"("status":"sent")"));

  // The patron answers with a changed subject: same conversation, and we show why.
  imap_.append(
      mail("Ada Lovelace <ada@example.org>", "a-2@example.org", "Thanks (Sunday)",
           "Thank you!\n\nOn Mon, Library wrote:\n> Yes, from noon to 5 pm.",
           "In-Reply-To: " + our_id + "\r\nReferences: <q-1@example.org> " + our_id + "\r\n"));
  EXPECT_EQ(conversation_of("a-2@example.org"), id);
  c = ann_.read(id);
  EXPECT_NE(c.find(R"("joined_by":"In-Reply-To )" + our_id), std::string::npos) << c;
  EXPECT_NE(c.find(R"("fold_line":"1")"), std::string::npos) << c;

  // Someone else answering the same message starts a conversation of their own.
  imap_.append(mail("Bob <bob@example.org>", "b-1@example.org", "Re: Opening hours?",
                    "Forwarded to me: am I welcome too?", "In-Reply-To: " + our_id + "\r\n"));
  const std::string other = conversation_of("b-1@example.org");
  ASSERT_FALSE(other.empty());
  EXPECT_NE(other, id);

  // A second reply carries the whole chain.
  ASSERT_EQ(ann_.reply(id, "You are welcome.").status, 201);
  ASSERT_TRUE(smtp_.wait_for(2));
  const auto second = smtp_.messages()[1];
  EXPECT_EQ(header_of(second, "In-Reply-To"), "<a-2@example.org>");
  EXPECT_EQ(header_of(second, "Subject"), "Re: Thanks (Sunday)");
  EXPECT_NE(header_of(second, "References").find("<q-1@example.org> " + our_id), std::string::npos)
      << second;
}

TEST_F(Email, ABounceMarksTheReplyFailedAndStartsNothing) {
  imap_.append(mail("Cy <cy@example.org>", "q-3@example.org", "Renewal", "Renew my books?"));
  const std::string id = conversation_of("q-3@example.org");
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(ann_.reply(id, "Done.").status, 201);
  ASSERT_TRUE(smtp_.wait_for(1));
  const std::string our_id = header_of(smtp_.messages().front(), "Message-ID");
  ASSERT_TRUE(ann_.eventually(id, R"("status":"sent")"));
  const auto conversations_before = redis_.command({"GET", "seq:conversation"}).str();

  imap_.append(
      "From: MAILER-DAEMON@mail.example.org\r\nTo: " + library +
      "\r\nSubject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn-1@mail.example.org>\r\n"
      "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; "
      "boundary=\"r\"\r\n\r\n--r\r\nContent-Type: text/plain\r\n\r\nCould not deliver.\r\n--r\r\n"
      "Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mail.example.org\r\n\r\n"
      "Final-Recipient: rfc822; cy@example.org\r\nAction: failed\r\nStatus: 5.2.2\r\n"
      "Diagnostic-Code: smtp; 552 5.2.2 Mailbox full\r\n--r\r\nContent-Type: "
      "text/rfc822-headers\r\n\r\nFrom: " +
      library + "\r\nMessage-ID: " + our_id + "\r\n--r--\r\n");
  ASSERT_TRUE(ann_.eventually(id, R"("status":"failed")"));
  const auto c = ann_.read(id);
  EXPECT_NE(c.find("552 5.2.2 Mailbox full"), std::string::npos) << c;
  EXPECT_NE(c.find(R"("error_code":"5.2.2")"), std::string::npos) << c;
  EXPECT_EQ(redis_.command({"GET", "seq:conversation"}).str(), conversations_before);
  EXPECT_FALSE(redis_.command({"EXISTS", "dedup:mail:dsn-1@mail.example.org"}).integer());
}

TEST_F(Email, TemporaryFailuresAreRetriedAndPermanentOnesShown) {
  imap_.append(mail("flaky@example.org", "q-4@example.org", "Hi", "Hello"));
  imap_.append(mail("reject@example.org", "q-5@example.org", "Hi", "Hello"));
  const std::string flaky = conversation_of("q-4@example.org");
  const std::string rejected = conversation_of("q-5@example.org");
  ASSERT_FALSE(flaky.empty());
  ASSERT_FALSE(rejected.empty());
  ASSERT_EQ(ann_.reply(flaky, "First try fails.").status, 201);
  ASSERT_EQ(ann_.reply(rejected, "Never arrives.").status, 201);
  ASSERT_TRUE(ann_.eventually(rejected, R"("status":"failed")"));
  const auto c = ann_.read(rejected);
  EXPECT_NE(c.find(R"("error_code":"550")"), std::string::npos) << c;
  ASSERT_TRUE(ann_.eventually(flaky, R"("status":"sent")"));
  ASSERT_EQ(smtp_.messages().size(), 1u);
  EXPECT_NE(smtp_.messages()[0].find("First try fails."), std::string::npos);
}

TEST_F(Email, TheCorpusOfDifficultMessagesIsReadWithoutACrashOrALoss) {
  const std::string dir = std::string(ASKDESK_SOURCE_DIR) + "/tests/data/mail/";
  std::size_t expected = 0;
  for (const auto* name : {"encoded_words.eml", "latin1_qp.eml", "shift_jis.eml", "html_only.eml",
                           "nested.eml", "no_colon.eml", "truncated.eml", "invalid_utf8.eml",
                           "forwarded.eml", "reply_quoted.eml", "no_message_id.eml"}) {
    imap_.append(read_file(dir + name));
    ++expected;
  }
  // A bounce for a message that is not ours: read, and nothing is made of it.
  imap_.append(read_file(dir + "bounce.eml"));
  // A 20 MB attachment.
  std::string big =
      "From: Ida <ida@example.org>\r\nSubject: Scan\r\nMessage-ID: <big-1@example.org>\r\n"
      "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"z\"\r\n\r\n--z\r\n"
      "Content-Type: text/plain\r\n\r\nThe scan is attached.\r\n--z\r\n"
      "Content-Type: image/tiff; name=scan.tiff\r\nContent-Transfer-Encoding: base64\r\n\r\n";
  for (std::size_t i = 0; i < 20 * 1024 * 1024 / 57 + 1; ++i) big += std::string(76, 'A') + "\r\n";
  big += "--z--\r\n";
  imap_.append(big);
  ++expected;

  for (int i = 0; i < 1200; ++i) {
    if (redis_.messages_stored() >= static_cast<std::int64_t>(expected) &&
        imap_.search("UNSEEN").empty()) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(imap_.search("UNSEEN").empty());
  ASSERT_EQ(redis_.messages_stored(), static_cast<std::int64_t>(expected));
  EXPECT_TRUE(daemon_.process().running());
  const auto big_id = conversation_of("big-1@example.org");
  EXPECT_NE(ann_.read(big_id).find("scan.tiff"), std::string::npos);
  EXPECT_NE(ann_.read(conversation_of("sjis-1@example.jp")).find("図書館の本を返却したいです"),
            std::string::npos);
  EXPECT_NE(ann_.read(conversation_of("badutf8-1@example.org")).find("some characters could not"),
            std::string::npos);
}

TEST_F(Email, MailWithoutASenderIsItsOwnConversationAndIsNotAnswered) {
  const std::string headers = "Subject: no sender\r\nContent-Type: text/plain\r\n\r\n";
  imap_.append("Message-ID: <anon-1@example.org>\r\n" + headers + "First.\r\n");
  imap_.append("Message-ID: <anon-2@example.org>\r\nIn-Reply-To: <anon-1@example.org>\r\n" +
               headers + "Second.\r\n");
  const std::string first = conversation_of("anon-1@example.org");
  const std::string second = conversation_of("anon-2@example.org");
  ASSERT_FALSE(first.empty());
  ASSERT_FALSE(second.empty());
  EXPECT_NE(first, second);  // no shared "unknown" patron whose threads join
  ASSERT_EQ(ann_.reply(first, "To whom?").status, 201);
  ASSERT_TRUE(ann_.eventually(first, "without a sender address to answer"));
  EXPECT_NE(ann_.read(first).find(R"("status":"failed")"), std::string::npos);
  EXPECT_TRUE(smtp_.messages().empty());
}

// A test that prepares the mailbox and Redis before the daemon starts.
struct mailbox_test {
  dovecot_server imap;
  smtp_sink smtp;
  redis_server redis;
  std::unique_ptr<askdesk_daemon> daemon;

  void start(const std::string& extra = "") {
    daemon = std::make_unique<askdesk_daemon>(redis, email_config(imap, smtp, extra));
  }
  void set_cursor(std::uint64_t validity, std::uint64_t uid, std::uint64_t floor) {
    redis.command({"HSET", "email:mail:cursor", "validity", std::to_string(validity), "uid",
                   std::to_string(uid), "floor", std::to_string(floor)});
  }
  std::string cursor(const std::string& field) {
    const auto v = redis.command({"HGET", "email:mail:cursor", field});
    return v.is_string() ? v.str() : "";
  }
  bool stored(const std::string& message_id) {
    return redis.command({"EXISTS", "dedup:mail:" + message_id}).integer() == 1;
  }
  // Waits up to 15 s until `uid` is the cursor's UID.
  bool cursor_reaches(std::uint64_t uid) {
    for (int i = 0; i < 600 && cursor("uid") != std::to_string(uid); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return cursor("uid") == std::to_string(uid);
  }
  // Waits up to 15 s until the daemon's log has `text` `times` times.
  bool logged(const std::string& text, int times = 1) {
    for (int i = 0; i < 600; ++i) {
      const auto log = daemon->process().log();
      int n = 0;
      for (auto at = log.find(text); at != std::string::npos; at = log.find(text, at + 1)) ++n;
      if (n >= times) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return false;
  }
  void see(std::uint64_t uid) {
    imap.command("UID STORE " + std::to_string(uid) + " +FLAGS (\\Seen)");
  }
};

// A mailbox renewed under askdesk (another UIDVALIDITY): what people already read there stays
// with them, the unseen mail is taken once, and from then on every new message is.
TEST(EmailMailbox, ANewUidvalidityTakesTheUnseenMailOnceThenEveryNewMessage) {
  mailbox_test t;
  t.imap.append(mail("a@example.org", "v-1@example.org", "read", "Read in a mail client."));
  t.imap.append(mail("b@example.org", "v-2@example.org", "unread", "Not read yet."));
  t.see(1);
  const auto validity = t.imap.uidvalidity();
  t.set_cursor(validity + 1, 50, 0);
  t.start();
  ASSERT_TRUE(t.cursor_reaches(2));
  EXPECT_EQ(t.cursor("validity"), std::to_string(validity));
  EXPECT_TRUE(t.stored("v-2@example.org"));
  EXPECT_FALSE(t.stored("v-1@example.org"));
  // New mail is taken even when someone read it before askdesk's poll.
  t.imap.append(mail("c@example.org", "v-3@example.org", "new", "Arrived later."));
  t.see(3);
  ASSERT_TRUE(t.cursor_reaches(3));
  EXPECT_TRUE(t.stored("v-3@example.org"));
}

// A fresh start cut short (a crash, or a batch limit) goes on with the mail that was unseen
// when it began (fetching marks a message \\Seen before askdesk has stored it), never with
// what people had read, and passes over what was expunged since.
TEST(EmailMailbox, AnInterruptedFreshStartGoesOnWithWhatWasUnseenWhenItBegan) {
  mailbox_test t;
  t.imap.append(mail("a@example.org", "i-1@example.org", "taken", "Taken before the crash."));
  t.imap.append(mail("b@example.org", "i-2@example.org", "read", "Read in a mail client."));
  t.imap.append(mail("c@example.org", "i-3@example.org", "gone", "Expunged since."));
  t.imap.append(mail("d@example.org", "i-4@example.org", "fetched", "Fetched, not stored."));
  t.imap.append(mail("e@example.org", "i-5@example.org", "unread", "Not read yet."));
  t.see(2);
  t.see(4);
  t.imap.command("UID STORE 3 +FLAGS (\\Deleted)");
  t.imap.command("EXPUNGE");
  // UIDs up to 5 were waiting, all but 2 unseen; 1 is taken.
  t.redis.command({"HSET", "email:mail:pending", "uids", "1 3 4 5"});
  t.set_cursor(t.imap.uidvalidity(), 1, 5);
  t.start();
  ASSERT_TRUE(t.cursor_reaches(5));
  EXPECT_TRUE(t.stored("i-4@example.org"));
  EXPECT_TRUE(t.stored("i-5@example.org"));
  EXPECT_FALSE(t.stored("i-1@example.org"));
  EXPECT_FALSE(t.stored("i-2@example.org"));
  EXPECT_FALSE(t.stored("i-3@example.org"));
  // Done: the list is dropped, and new mail is read as usual.
  for (int i = 0; i < 100 && t.redis.command({"EXISTS", "email:mail:pending"}).integer(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(t.redis.command({"EXISTS", "email:mail:pending"}).integer(), 0);
  t.imap.append(mail("f@example.org", "i-6@example.org", "later", "Arrived later."));
  ASSERT_TRUE(t.cursor_reaches(6));
  EXPECT_TRUE(t.stored("i-6@example.org"));
}

TEST(EmailMailbox, AMessageTooLargeToFetchIsShownByItsHeaders) {
  mailbox_test t;
  t.imap.append(mail("Ida <ida@example.org>", "large-1@example.org", "A big scan",
                     std::string(1536 * 1024, 'x')));
  t.start(R"(, "max_message_mb": 1)");
  ASSERT_TRUE(t.cursor_reaches(1));
  ASSERT_TRUE(t.stored("large-1@example.org"));
  // Stored is not yet applied: wait for the message itself.
  std::string text;
  ASSERT_TRUE(wait_until([&] {
    text = t.redis.command({"HGET", store::keys::message("1", "1"), "text"}).str();
    return !text.empty();
  }));
  EXPECT_NE(text.find("larger than 1 MiB and was not fetched"), std::string::npos) << text;
  EXPECT_EQ(t.redis.command({"HGET", "patron:1", "name"}).str(), "Ida");
}

// Dovecot lists the message but cannot read it: after a few polls it is passed over, left
// unread in the mailbox with an error for the admin, and the mail after it still arrives.
TEST(EmailMailbox, AMessageThatCannotBeFetchedDoesNotStopTheMailbox) {
  if (getuid() != 0) GTEST_SKIP() << "an unreadable message needs the mail to be another user's";
  mailbox_test t;
  t.imap.append(mail("a@example.org", "damaged-1@example.org", "damaged", "Unreadable."), false);
  t.imap.append(mail("b@example.org", "after-1@example.org", "after", "Still arrives."));
  t.start();
  ASSERT_TRUE(t.cursor_reaches(2));
  EXPECT_TRUE(t.stored("after-1@example.org"));
  EXPECT_FALSE(t.stored("damaged-1@example.org"));
  EXPECT_EQ(t.imap.search("UNSEEN"), std::vector<std::uint64_t>{1});
  EXPECT_EQ(t.daemon->metric("askdesk_email_skipped_total"), 1);
}

// Redis answering with an error (loading after a restart, out of memory, a failover) is not
// the hub refusing the message: it stays for the next poll, not marked done.
TEST(EmailMailbox, ARedisErrorLeavesTheMessageForTheNextPoll) {
  mailbox_test t;
  t.imap.append(mail("a@example.org", "busy-1@example.org", "hello", "Stored in the end."));
  t.redis.command({"RPUSH", "dedup:mail:busy-1@example.org", "in the way"});  // WRONGTYPE
  t.start();
  ASSERT_TRUE(t.logged("storing message busy-1@example.org from mail: redis answered", 2));
  EXPECT_EQ(t.cursor("uid"), "0");
  t.redis.command({"DEL", "dedup:mail:busy-1@example.org"});
  ASSERT_TRUE(t.cursor_reaches(1));
  EXPECT_TRUE(t.stored("busy-1@example.org"));
}

// A refused SMTP login (a changed password, a locked account) says nothing about the mail:
// the reply is tried again, not failed. The sink offers AUTH and refuses every login (aiosmtpd
// answers 538 without TLS, whatever the password): to curl, a denied login like any other.
TEST(EmailMailbox, ARefusedSmtpLoginIsTriedAgainNotFailed) {
  dovecot_server imap;
  smtp_sink smtp(true);
  redis_server redis;
  askdesk_daemon daemon(redis, email_config(imap, smtp));
  staff_client ann(daemon, "ann", {"reference"});
  imap.append(mail("a@example.org", "login-1@example.org", "hello", "Hello?"));
  const auto id = redis.wait_for_string({"HGET", "dedup:mail:login-1@example.org", "conversation"});
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(ann.reply(id, "Hello!").status, 201);
  const std::string retried = R"(askdesk_messages_retried_total{connector="mail"})";
  for (int i = 0; i < 400 && daemon.metric(retried) < 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  EXPECT_GE(daemon.metric(retried), 1);
  EXPECT_EQ(ann.read(id).find(R"("status":"failed")"), std::string::npos) << ann.read(id);
  EXPECT_NE(daemon.process().log().find("Login denied"), std::string::npos);
}

// ---- TLS -----------------------------------------------------------------------------------

std::string trusting(const test_certificate& ca) { return R"(, "ca_file": ")" + ca.cert() + "\""; }

// A question comes in over IMAP and its answer goes out over SMTP, each over TLS that the
// servers' logs confirm: Dovecot logs each login with "TLS", and the sink writes down the TLS
// version of each message.
void expect_a_round_trip_over_tls(dovecot_server& imap, const std::string& imap_url,
                                  const smtp_sink& smtp, const test_certificate& ca) {
  redis_server redis;
  askdesk_daemon daemon(redis, email_config(imap_url, smtp.url(), trusting(ca)));
  staff_client ann(daemon, "ann", {"reference"});
  imap.append(mail("Ada <ada@example.org>", "tls-1@example.org", "Privately", "Encrypted?"));
  const auto id = redis.wait_for_string({"HGET", "dedup:mail:tls-1@example.org", "conversation"});
  ASSERT_FALSE(id.empty()) << daemon.process().log();
  const auto dovecot_log = imap.log();
  const auto login = dovecot_log.find("Login: user=<ask>");
  ASSERT_NE(login, std::string::npos) << dovecot_log;
  EXPECT_NE(dovecot_log.substr(login, dovecot_log.find('\n', login) - login).find(", TLS"),
            std::string::npos)
      << dovecot_log;
  ASSERT_EQ(ann.reply(id, "Yes.").status, 201);
  ASSERT_TRUE(smtp.wait_for(1)) << daemon.process().log();
  EXPECT_EQ(header_of(smtp.messages().front(), "X-Envelope-TLS").rfind("TLSv1.", 0), 0u)
      << smtp.messages().front();
}

// With the library's own CA (ca_file), plain imap:// and smtp:// must upgrade with STARTTLS,
// even on loopback: the sink takes no mail before STARTTLS.
TEST(EmailTls, StartTlsInAndOutCheckedAgainstTheLibrarysOwnCa) {
  test_certificate ca;
  dovecot_server imap(&ca);
  smtp_sink smtp(ca, smtp_sink::tls_mode::starttls);
  expect_a_round_trip_over_tls(imap, imap.url(), smtp, ca);
}

TEST(EmailTls, ImapsAndSmtpsCheckedAgainstTheLibrarysOwnCa) {
  test_certificate ca;
  dovecot_server imap(&ca);
  smtp_sink smtp(ca, smtp_sink::tls_mode::implicit);
  expect_a_round_trip_over_tls(imap, imap.imaps_url(), smtp, ca);
}

// Asked for TLS, askdesk never sends the password in the clear: an IMAP server that offers
// no STARTTLS sees no login, and the mailbox stays as it was.
TEST(EmailTls, NoLoginToAServerThatOffersNoStartTls) {
  test_certificate ca;
  dovecot_server imap;  // ssl = no
  smtp_sink smtp;
  redis_server redis;
  askdesk_daemon daemon(redis, email_config(imap, smtp, trusting(ca)));
  imap.append(mail("a@example.org", "clear-1@example.org", "hello", "Hello?"));
  for (int i = 0;
       i < 600 && daemon.process().log().find("opening the mailbox") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  EXPECT_NE(daemon.process().log().find("opening the mailbox"), std::string::npos);
  EXPECT_EQ(imap.log().find("Login: "), std::string::npos) << imap.log();
  EXPECT_EQ(redis.command({"EXISTS", "dedup:mail:clear-1@example.org"}).integer(), 0);
  EXPECT_EQ(imap.search("UNSEEN"), std::vector<std::uint64_t>{1});
}

// A mail server whose certificate the CA file does not vouch for gets no mail: the reply
// waits, retried, with the certificate problem in the log.
TEST(EmailTls, NoMailToAServerWithAnUntrustedCertificate) {
  test_certificate ca;
  test_certificate stranger;
  dovecot_server imap(&ca);
  smtp_sink smtp(stranger, smtp_sink::tls_mode::implicit);
  redis_server redis;
  askdesk_daemon daemon(redis, email_config(imap.imaps_url(), smtp.url(), trusting(ca)));
  staff_client ann(daemon, "ann", {"reference"});
  imap.append(mail("a@example.org", "untrusted-1@example.org", "hello", "Hello?"));
  const auto id =
      redis.wait_for_string({"HGET", "dedup:mail:untrusted-1@example.org", "conversation"});
  ASSERT_FALSE(id.empty()) << daemon.process().log();
  ASSERT_EQ(ann.reply(id, "Hello!").status, 201);
  const std::string retried = R"(askdesk_messages_retried_total{connector="mail"})";
  for (int i = 0; i < 400 && daemon.metric(retried) < 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  EXPECT_GE(daemon.metric(retried), 1);
  EXPECT_NE(daemon.process().log().find("certificate"), std::string::npos)
      << daemon.process().log();
  EXPECT_TRUE(smtp.messages().empty());
  EXPECT_EQ(ann.read(id).find(R"("status":"sent")"), std::string::npos) << ann.read(id);
}

TEST(EmailWebchat, EmailMeThisTranscriptSendsTheChatAndNotesIt) {
  dovecot_server imap;
  smtp_sink smtp;
  redis_server redis;
  askdesk_daemon daemon(redis, email_config(imap, smtp,
                                            "}, {\"id\": \"webchat\", "
                                            "\"type\": \"webchat\", \"transcripts_per_hour\": 7"));
  ws_client patron(daemon.port(), "/ws/patron", daemon.origin());
  patron.send(R"({"type":"hello","team":"reference","name":"Ada"})");
  const auto welcome = patron.read_until("welcome");
  ASSERT_TRUE(welcome);
  EXPECT_NE(welcome->find(R"("transcript_by_email":true)"), std::string::npos) << *welcome;
  patron.send(R"({"type":"transcript","address":"ada@example.org","client_id":"t0"})");
  EXPECT_TRUE(patron.read_until("there is no conversation to send yet"));
  patron.send(R"({"type":"message","text":"Do you lend laptops?","client_id":"m1"})");
  ASSERT_TRUE(patron.read_until("Do you lend laptops?"));

  patron.send(R"({"type":"transcript","address":"not an address","client_id":"t1"})");
  EXPECT_TRUE(patron.read_until("please give an email address"));
  patron.send(R"({"type":"transcript","address":"ada@example.org","client_id":"t2"})");
  const auto ack = patron.read_until("transcript_ack");
  ASSERT_TRUE(ack);
  ASSERT_TRUE(smtp.wait_for(1));
  const auto sent = smtp.messages().front();
  EXPECT_EQ(header_of(sent, "To"), "ada@example.org");
  EXPECT_EQ(header_of(sent, "Subject"), "Your conversation with reference");
  EXPECT_EQ(header_of(sent, "In-Reply-To"), "");
  EXPECT_NE(sent.find("Do you lend laptops?"), std::string::npos) << sent;
  EXPECT_NE(sent.find(" You:"), std::string::npos) << sent;

  // Staff see where it went, and that the mail server took it.
  const std::string id = redis.command({"GET", "seq:conversation"}).str();
  staff_client ann(daemon, "ann", {"reference"});
  EXPECT_TRUE(ann.eventually(id, "sent to ada@example.org"));
  EXPECT_TRUE(ann.eventually(id, R"("status":"sent")")) << ann.read(id);

  // Three per conversation, no more.
  const auto ask = [](ws_client& ws, const std::string& address, const std::string& id) {
    ws.send(R"({"type":"transcript","address":")" + address + R"(","client_id":")" + id + "\"}");
  };
  for (const auto* n : {"t3", "t4"}) {
    ask(patron, "ada@example.org", n);
    ASSERT_TRUE(patron.read_until("transcript_ack"));
  }
  ask(patron, "ada@example.org", "t5");
  EXPECT_TRUE(patron.read_until("already sent by email 3 times"));

  // Five a day to one address, whichever conversation asks; never to a list of addresses.
  // A new patron in the widget with a message sent, so there is a conversation to mail.
  const auto new_chat = [&](const std::string& name) {
    auto ws = std::make_unique<ws_client>(daemon.port(), "/ws/patron", daemon.origin());
    ws->send(R"({"type":"hello","team":"reference","name":")" + name + "\"}");
    EXPECT_TRUE(ws->read_until("welcome"));
    ws->send(R"({"type":"message","text":"Hello","client_id":"m1"})");
    EXPECT_TRUE(ws->read_until("Hello"));
    return ws;
  };
  const auto other = new_chat("Bo");
  ask(*other, "a@example.org, b@example.org", "t1");
  EXPECT_TRUE(other->read_until("please give an email address"));
  for (const auto* n : {"t2", "t3"}) {
    ask(*other, "ADA@example.org", n);
    ASSERT_TRUE(other->read_until("transcript_ack"));
  }
  ask(*other, "ada@example.org", "t4");
  EXPECT_TRUE(other->read_until("already had 5 transcripts today"));
  // And transcripts_per_hour (7 here) for the whole widget.
  ask(*other, "bo@example.org", "t5");
  ASSERT_TRUE(other->read_until("transcript_ack"));
  const auto third = new_chat("Cy");
  ask(*third, "cy@example.org", "t1");
  ASSERT_TRUE(third->read_until("transcript_ack"));
  ask(*third, "cy@example.org", "t2");
  EXPECT_TRUE(third->read_until("too many transcripts were asked for in the last hour"));
  EXPECT_TRUE(smtp.wait_for(7));
}

TEST(EmailConfig, CheckConfigNamesEachProblemWithItsPath) {
  redis_server redis;
  askdesk_daemon daemon(redis, "");
  // check-config on one email connector with these members: its exit code and what it printed.
  const auto check = [&](const std::string& members) {
    return daemon.run_cli({"check-config", "/dev/stdin"},
                          R"({"connectors": [{"id": "mail", "type": "email", )" + members + "}]}");
  };
  const auto [code, out] = check(
      R"("imap_url": "imapx://mail.example.org", "smtp_url": "smtp://user:pw@mail.example.org:587",
         "username": "u", "password": "p", "address": "not-an-address")");
  EXPECT_NE(code, 0);
  EXPECT_NE(out.find("connectors[0].imap_url: must start with imap:// or imaps://"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("connectors[0].smtp_url: must name a host"), std::string::npos) << out;
  EXPECT_NE(out.find("connectors[0].address: must be an email address"), std::string::npos) << out;
  const std::string rest =
      R"("smtp_url": "smtp://127.0.0.1", "username": "u", "password": "p",
         "address": "ask@example.org")";
  // A mailbox name is checked once decoded: %22 would end the quoted name in IMAP commands.
  const auto [quoted, why] = check(R"("imap_url": "imap://127.0.0.1/Ask%22Desk", )" + rest);
  EXPECT_NE(quoted, 0);
  EXPECT_NE(why.find("connectors[0].imap_url: the mailbox name must not contain"),
            std::string::npos)
      << why;
  // A CA file: absolute, readable, with a certificate; and it asks for TLS, so not insecure.
  const auto problems_with = [&](const std::string& extra) {
    return check(R"("imap_url": "imap://127.0.0.1/INBOX", )" + rest + ", " + extra).second;
  };
  EXPECT_NE(problems_with(R"("ca_file": "certs/ca.pem")")
                .find("connectors[0].ca_file: must be an absolute path"),
            std::string::npos);
  EXPECT_NE(problems_with(R"("ca_file": "/nonexistent/ca.pem")")
                .find("connectors[0].ca_file: cannot read /nonexistent/ca.pem: No such file"),
            std::string::npos);
  test_certificate ca;
  EXPECT_NE(problems_with(R"("ca_file": ")" + ca.key() + "\"")
                .find("connectors[0].ca_file: " + ca.key() + " has no PEM certificate"),
            std::string::npos);
  EXPECT_NE(problems_with(R"("insecure": true)" + trusting(ca))
                .find("connectors[0].insecure: cannot go with ca_file"),
            std::string::npos);
  EXPECT_EQ(problems_with(R"("insecure": false)" + trusting(ca)), "ok\n");
}

}  // namespace
}  // namespace askdesk::testing
