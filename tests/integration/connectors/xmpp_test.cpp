// The XMPP connector through the real daemon against Debian's Prosody on loopback, with
// patrons on a real XMPP client (slixmpp, tests/support/xmpp_patron.py): a message reaches the
// dashboard and the reply the patron, over STARTTLS verified with the library's own CA;
// typing and receipts both ways; what was sent while askdesk was stopped arrives once (MAM);
// kill -9 while a patron sends 200 messages loses and doubles none, in order; askdesk signs
// in again after Prosody restarts; error stanzas and bare receipts store nothing.
#include <gtest/gtest.h>

#include <csignal>
#include <thread>

#include "daemon/store/keys.hpp"
#include "tests/support/askdesk_daemon.hpp"
#include "tests/support/prosody_server.hpp"
#include "tests/support/wait.hpp"
#include "tests/support/ws_client.hpp"
#include "tests/support/xmpp_patron.hpp"

namespace askdesk::testing {
namespace {

const std::string ask_password = "ask-password-for-tests";

// The account askdesk signs in as, on `server`, verified with its CA.
std::string xmpp_config(const prosody_server& server, const std::string& extra = "") {
  return R"({"teams": [{"id": "reference"}],
    "connectors": [{"id": "xmpp", "type": "xmpp", "jid": ")" +
         prosody_server::jid("ask") + R"(", "password": ")" + ask_password +
         R"(", "host": "127.0.0.1", "port": )" + std::to_string(server.port()) +
         R"(, "tls": "required", "ca_file": ")" + server.ca_file() + "\"" + extra + "}]}";
}

// Prosody without offline storage, as a library's server may be: only the archive (MAM)
// has what arrived while askdesk was away.
prosody_options archive_only() {
  prosody_options o;
  o.offline_messages = false;
  return o;
}

class Xmpp : public ::testing::Test {
 protected:
  Xmpp() : prosody_(archive_only()) {
    prosody_.add_user("ask", ask_password);
    prosody_.add_user("ada", "ada-password");
  }

  // A daemon signed in to Prosody; waits until it is.
  std::unique_ptr<askdesk_daemon> start_daemon(int port = 0) {
    auto daemon = std::make_unique<askdesk_daemon>(redis_, xmpp_config(prosody_),
                                                   std::vector<std::string>{}, port);
    EXPECT_TRUE(daemon->wait_for_metric(R"(askdesk_xmpp_connected{connector="xmpp"})", 1,
                                        std::chrono::seconds(20)))
        << daemon->process().log();
    return daemon;
  }

  std::unique_ptr<xmpp_patron> ada() {
    auto client = std::make_unique<xmpp_patron>("ada");
    const auto connected = client->connect(login_for(prosody_, "ada", "ada-password"));
    EXPECT_TRUE(connected) << (connected ? "" : connected.err().message);
    return client;
  }

  std::string conversation_of(const std::string& bare_jid) {
    return redis_.wait_for_string({"GET", "thread:xmpp:" + bare_jid}, std::chrono::seconds(15));
  }

  prosody_server prosody_;
  redis_server redis_;
  const std::string ask_ = prosody_server::jid("ask");
  const std::string ada_jid_ = prosody_server::jid("ada");
};

TEST_F(Xmpp, APatronsMessageReachesTheDashboardAndTheReplyReachesThePatron) {
  auto daemon = start_daemon();
  staff_client ann(*daemon, "ann", {"reference"});
  auto patron = ada();

  const auto asked = std::chrono::steady_clock::now();
  const std::string sent = patron->send_message(ask_, "Do you have the 1901 census?",
                                                {.request_receipt = true, .chat_state = "active"});
  const std::string id = conversation_of(ada_jid_);
  ASSERT_FALSE(id.empty()) << daemon->process().log();
  ASSERT_TRUE(ann.eventually(id, "1901 census"));
  const auto arrived = std::chrono::steady_clock::now() - asked;
  EXPECT_LT(arrived, std::chrono::seconds(1));
  const std::string conversation = ann.read(id);
  EXPECT_NE(conversation.find(R"("channel":"xmpp")"), std::string::npos) << conversation;
  EXPECT_NE(conversation.find(R"("address":")" + ada_jid_ + "\""), std::string::npos);
  // The patron's receipt request is answered once the message is stored.
  EXPECT_TRUE(patron->wait_for_receipt(sent));

  const auto replied = std::chrono::steady_clock::now();
  ASSERT_EQ(ann.reply(id, "Yes: on microfilm, second floor.").status, 201);
  const auto reply = patron->wait_for_message("Yes: on microfilm, second floor.");
  ASSERT_TRUE(reply) << daemon->process().log();
  EXPECT_LT(std::chrono::steady_clock::now() - replied, std::chrono::seconds(1));
  EXPECT_EQ(reply->message_type, "chat");
  EXPECT_TRUE(reply->id.starts_with("askdesk-")) << reply->id;
  EXPECT_TRUE(reply->receipt_requested);
  // The patron's client acknowledged it (XEP-0184): the reply shows delivered.
  EXPECT_TRUE(ann.eventually(id, R"("status":"delivered")")) << ann.read(id);
}

TEST_F(Xmpp, TypingAndPresenceBothWays) {
  auto daemon = start_daemon();
  daemon->add_user("ann", "staff", {"reference"}, "ann-password-1");
  const auto session = daemon->login("ann", "ann-password-1");
  auto patron = ada();
  // A subscription request is accepted, and the account's presence comes with it: nobody is
  // available, so it is away with a status saying so.
  patron->subscribe(ask_);
  const auto presence = patron->wait_for([&](const xmpp_event& e) {
    return e.type == "presence" && e.from.starts_with(ask_ + "/") && !e.show.empty();
  });
  ASSERT_TRUE(presence) << daemon->process().log();
  EXPECT_EQ(presence->show, "away");
  EXPECT_NE(presence->status.find("No librarian is free"), std::string::npos) << presence->status;

  patron->send_message(ask_, "Hello?");
  const std::string id = conversation_of(ada_jid_);
  // The patron types: the dashboard hears it.
  ws_client staff(daemon->port(), "/ws/staff", daemon->origin(), session.cookie);
  ASSERT_TRUE(staff.read_until("hello"));
  patron->send_chat_state(ask_, "composing");
  EXPECT_TRUE(staff.read_until(R"("who":"patron")"));
  // Staff type: the patron sees <composing/>.
  staff.send(R"({"type":"typing","conversation":")" + id + R"("})");
  EXPECT_TRUE(patron->wait_for_chat_state("composing"));
}

TEST_F(Xmpp, AnErrorStanzaAndABareReceiptStoreNothing) {
  auto daemon = start_daemon();
  staff_client ann(*daemon, "ann", {"reference"});
  auto patron = ada();
  patron->subscribe(ask_);
  const auto presence = patron->wait_for(
      [&](const xmpp_event& e) { return e.type == "presence" && e.from.starts_with(ask_ + "/"); });
  ASSERT_TRUE(presence);
  // Prosody drops an error sent to a bare JID: to askdesk's full JID.
  patron->send_error(presence->from, "nope-1");
  patron->send_receipt(ask_, "askdesk-999");
  patron->send_chat_state(ask_, "paused");
  patron->send_message(ask_, "The real question");
  const std::string id = conversation_of(ada_jid_);
  ASSERT_TRUE(ann.eventually(id, "The real question"));
  // Everything before it was handled first, in order: none of it became a message.
  EXPECT_EQ(json_at(ann.read(id), "/messages/1/id"), "") << ann.read(id);
  EXPECT_EQ(redis_.messages_stored(), 1);
}

TEST_F(Xmpp, AMessageSentWhileAskdeskIsStoppedArrivesOnceAfterItStarts) {
  {
    // The first start learns where the archive ends (it is empty), then askdesk stops.
    auto first = start_daemon();
    ASSERT_TRUE(wait_until([&] {
      return redis_.command({"EXISTS", "xmpp:xmpp:cursor"}).integer() == 1;
    }));
  }
  auto patron = ada();
  patron->send_message(ask_, "Sent while nobody was signed in");
  // Only the archive has it (no offline storage on this server).
  ASSERT_EQ(patron->archive(ask_).size(), 1u);
  auto daemon = start_daemon();
  staff_client ann(*daemon, "ann", {"reference"});
  const std::string id = conversation_of(ada_jid_);
  ASSERT_TRUE(ann.eventually(id, "Sent while nobody was signed in"));
  // A second catch-up (a restart) finds it again and stores it once.
  daemon.reset();
  daemon = start_daemon();
  staff_client bob(*daemon, "bob", {"reference"});
  patron->send_message(ask_, "And one more");
  ASSERT_TRUE(bob.eventually(id, "And one more"));
  EXPECT_EQ(redis_.messages_stored(), 2);
}

TEST_F(Xmpp, AskdeskSignsInAgainAfterProsodyRestarts) {
  auto daemon = start_daemon();
  staff_client ann(*daemon, "ann", {"reference"});
  const double pages = daemon->metric(R"(askdesk_xmpp_archive_pages_total{connector="xmpp"})");
  auto patron = ada();
  prosody_.stop();
  prosody_.start();
  // The patron is back first and writes while askdesk is still away: the archive has it.
  ASSERT_TRUE(patron->connect(login_for(prosody_, "ada", "ada-password")));
  for (int i = 1; i <= 20; ++i) patron->send_message(ask_, "while away " + std::to_string(i));
  // Signed in again: it caught up from the archive once more.
  ASSERT_TRUE(daemon->wait_for_metric(R"(askdesk_xmpp_archive_pages_total{connector="xmpp"})",
                                      pages + 1, std::chrono::seconds(30)))
      << daemon->process().log();
  ASSERT_TRUE(daemon->wait_for_metric(R"(askdesk_xmpp_connected{connector="xmpp"})", 1));
  patron->send_message(ask_, "Are you back?");
  const std::string id = conversation_of(ada_jid_);
  ASSERT_TRUE(ann.eventually(id, "Are you back?"));
  // None lost, none twice, in order.
  EXPECT_EQ(redis_.command({"HGET", store::keys::conversation(id), "messages"}).str(), "21");
  const std::string transcript = ann.read(id);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(json_at(transcript, "/messages/" + std::to_string(i) + "/text"),
              "while away " + std::to_string(i + 1));
  }
  const auto health = http_request("GET", daemon->url("/healthz"));
  EXPECT_NE(health.body.find(R"("channel":"xmpp")"), std::string::npos) << health.body;
}

TEST_F(Xmpp, AFloodIsRefusedAndAnOversizedBodyIsCutAndMarked) {
  auto daemon = std::make_unique<askdesk_daemon>(
      redis_, xmpp_config(prosody_, R"(, "messages_per_minute": 3)"));
  ASSERT_TRUE(daemon->wait_for_metric(R"(askdesk_xmpp_connected{connector="xmpp"})", 1,
                                      std::chrono::seconds(20)));
  staff_client ann(*daemon, "ann", {"reference"});
  auto patron = ada();
  const std::string big(70 * 1024, 'a');
  patron->send_message(ask_, big);
  for (int i = 1; i <= 4; ++i) patron->send_message(ask_, "flood " + std::to_string(i));
  // The fifth message in a minute is one too many: refused, and the patron told once.
  ASSERT_TRUE(
      daemon->wait_for_metric(R"(askdesk_xmpp_refused_total{connector="xmpp",reason="flood"})", 2));
  EXPECT_TRUE(patron->wait_for([](const xmpp_event& e) {
    return e.type == "message" && e.body.find("faster than we can read") != std::string::npos;
  }));
  const std::string id = conversation_of(ada_jid_);
  ASSERT_TRUE(ann.eventually(id, "flood 2"));
  const std::string transcript = ann.read(id);
  EXPECT_EQ(transcript.find("flood 3"), std::string::npos);
  EXPECT_NE(transcript.find("[cut: the message was longer than 64 KiB]"), std::string::npos);
  EXPECT_NE(transcript.find(R"("cut_from_bytes":")" + std::to_string(big.size()) + "\""),
            std::string::npos);
}

TEST_F(Xmpp, UnderTwoDaemonsOneIsSignedIn) {
  auto first = start_daemon();
  askdesk_daemon second(redis_, xmpp_config(prosody_));
  const std::string held = R"(askdesk_outbound_lane_held{connector="xmpp"})";
  ASSERT_TRUE(wait_until([&] { return first->metric(held) + second.metric(held) == 1; }));
  const std::string connected = R"(askdesk_xmpp_connected{connector="xmpp"})";
  EXPECT_EQ(first->metric(connected) + second.metric(connected), 1);
  EXPECT_EQ(first->metric(connected), first->metric(held));
}

TEST(XmppTls, DirectTlsAndPlainTextOnLoopback) {
  redis_server redis;
  {
    prosody_server prosody;
    prosody.add_user("ask", ask_password);
    askdesk_daemon daemon(
        redis, R"({"connectors": [{"id": "xmpp", "type": "xmpp", "jid": "ask@library.example",
          "password": ")" +
                   ask_password + R"(", "host": "127.0.0.1", "port": )" +
                   std::to_string(prosody.direct_tls_port()) +
                   R"(, "tls": "direct", "ca_file": ")" + prosody.ca_file() + "\"}]}");
    EXPECT_TRUE(daemon.wait_for_metric(R"(askdesk_xmpp_connected{connector="xmpp"})", 1,
                                       std::chrono::seconds(20)))
        << daemon.process().log();
  }
  {
    prosody_options plain;
    plain.require_encryption = false;
    prosody_server prosody(plain);
    prosody.add_user("ask", ask_password);
    askdesk_daemon daemon(
        redis, R"({"connectors": [{"id": "xmpp", "type": "xmpp", "jid": "ask@library.example",
          "password": ")" +
                   ask_password + R"(", "host": "127.0.0.1", "port": )" +
                   std::to_string(prosody.port()) + R"(, "tls": "none"}]})");
    EXPECT_TRUE(daemon.wait_for_metric(R"(askdesk_xmpp_connected{connector="xmpp"})", 1,
                                       std::chrono::seconds(20)))
        << daemon.process().log();
  }
}

TEST(XmppTls, ACertificateTheCaFileDoesNotVouchForIsRefused) {
  redis_server redis;
  prosody_server prosody;
  prosody_server stranger;  // another self-signed certificate: not the library's CA
  prosody.add_user("ask", ask_password);
  askdesk_daemon daemon(
      redis, R"({"connectors": [{"id": "xmpp", "type": "xmpp", "jid": "ask@library.example",
        "password": ")" +
                 ask_password + R"(", "host": "127.0.0.1", "port": )" +
                 std::to_string(prosody.port()) + R"(, "tls": "required", "ca_file": ")" +
                 stranger.ca_file() + "\"}]}");
  // It tries, fails, and says why on /healthz; it never signs in.
  ASSERT_TRUE(wait_until(
      [&] {
        return http_request("GET", daemon.url("/healthz")).body.find("cannot sign in") !=
               std::string::npos;
      },
      std::chrono::seconds(20)))
      << http_request("GET", daemon.url("/healthz")).body;
  EXPECT_EQ(daemon.metric(R"(askdesk_xmpp_connected{connector="xmpp"})"), 0);
  EXPECT_NE(http_request("GET", daemon.url("/healthz")).body.find("certificate is not trusted"),
            std::string::npos);
}

TEST_F(Xmpp, CheckConfigRefusesPlainTextToARemoteHostAndABadJid) {
  askdesk_daemon daemon(redis_, "");
  const auto [code, out] = daemon.run_cli(
      {"check-config", "/dev/stdin"},
      R"({"connectors": [{"id": "x", "type": "xmpp", "jid": "not a jid", "password": "p",
          "host": "xmpp.example.org", "tls": "none", "ca_file": "relative.pem"}]})");
  EXPECT_NE(code, 0);
  EXPECT_NE(out.find("connectors[0].jid: must be a bare JID"), std::string::npos) << out;
  EXPECT_NE(out.find("connectors[0].tls: none (plain text) is allowed only to a loopback host"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("connectors[0].ca_file: must be an absolute path"), std::string::npos) << out;
}

TEST(XmppCrash, KillNineWhileAPatronSends200MessagesLosesAndDoublesNone) {
  prosody_server prosody(archive_only());
  prosody.add_user("ask", ask_password);
  prosody.add_user("ada", "ada-password");
  redis_server redis;
  constexpr int messages = 200;
  // A patron this fast would be refused as a flood by default (20 a minute).
  const std::string config = R"({"log_level": "debug", )" +
                             xmpp_config(prosody, R"(, "messages_per_minute": 600)").substr(1);
  const std::string received = R"(askdesk_messages_received_total{channel="xmpp"})";
  xmpp_patron patron("ada");
  ASSERT_TRUE(patron.connect(login_for(prosody, "ada", "ada-password")));
  int port = 0;
  std::string before_crash, first_log;
  {
    askdesk_daemon first(redis, config);
    port = first.port();
    ASSERT_TRUE(first.wait_for_metric(R"(askdesk_xmpp_connected{connector="xmpp"})", 1,
                                      std::chrono::seconds(20)));
    // Its first start has learned where the archive ends: from now on nothing is history.
    ASSERT_TRUE(wait_until([&] {
      return redis.command({"EXISTS", "xmpp:xmpp:cursor"}).integer() == 1;
    }));
    std::thread burst(
        [&] { patron.send_burst(prosody_server::jid("ask"), messages, "message ", "burst-"); });
    first.wait_for_metric(received, 40, std::chrono::seconds(20));
    first.process().signal(SIGKILL);
    burst.join();
    first_log = first.process().log();
  }
  // What the dead daemon had applied: a kill after all 200 would prove nothing.
  before_crash = std::to_string(redis.messages_stored());
  ASSERT_LT(std::stoi(before_crash), messages) << "the kill came too late to matter";
  // Restarted where it ran: it catches up from the archive after the last id it stored.
  askdesk_daemon second(redis, config, {}, port);
  staff_client ann(second, "ann", {"reference"});
  const std::string id =
      redis.wait_for_string({"GET", "thread:xmpp:" + prosody_server::jid("ada")});
  ASSERT_TRUE(wait_until(
      [&] {
        // Applied, and the hub done with every entry (it deletes one after applying it).
        return redis.command({"HGET", store::keys::conversation(id), "messages"}).str() ==
                   std::to_string(messages) &&
               redis.command({"XLEN", "inbound"}).integer() == 0;
      },
      std::chrono::seconds(60)))
      << redis.command({"HGET", store::keys::conversation(id), "messages"}).str() << " stored, "
      << before_crash << " before the crash; pages "
      << second.metric(R"(askdesk_xmpp_archive_pages_total{connector="xmpp"})") << ", received "
      << second.metric(received) << ", duplicates "
      << second.metric(R"(askdesk_messages_duplicate_total{channel="xmpp"})") << ", cursor "
      << redis.command({"HGET", "xmpp:xmpp:cursor", "after"}).str() << ", inbound "
      << redis.command({"XLEN", "inbound"}).integer() << ", dead "
      << redis.command({"XLEN", "inbound:dead"}).integer() << ", seq " << redis.messages_stored()
      << ", archived " <<
      [&] {
        xmpp_patron ask("ask");
        EXPECT_TRUE(ask.connect(login_for(prosody, "ask", ask_password)));
        return ask.archive(prosody_server::jid("ada")).size();
      }()
      << "\n"
      << "first daemon:\n"
      << first_log << "second daemon:\n"
      << second.process().log();
  // Every message once, in the order it was sent.
  const std::string transcript = ann.read(id);
  for (int i = 0; i < messages; ++i) {
    EXPECT_EQ(json_at(transcript, "/messages/" + std::to_string(i) + "/text"),
              "message " + std::to_string(i + 1));
  }
  std::printf("# xmpp crash: %s of %d stored before SIGKILL, all %d once after\n",
              before_crash.c_str(), messages, messages);
}

}  // namespace
}  // namespace askdesk::testing
