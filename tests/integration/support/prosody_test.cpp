// The XMPP test peers before any connector uses them: a real Prosody (prosody_server) and
// patrons' clients (xmpp_patron) talk to each other. Two accounts log in over STARTTLS and
// over direct TLS, verifying the server's certificate against its own CA; a message with a
// receipt request gets its receipt, chat states and errors arrive, 200 messages in a burst
// all arrive, the archive (MAM) holds the conversation, and after a restart a client logs in
// again and finds the archive intact.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "tests/support/prosody_server.hpp"
#include "tests/support/xmpp_patron.hpp"

namespace askdesk::testing {
namespace {

bool contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

class ProsodyPeer : public ::testing::Test {
 protected:
  ProsodyPeer() {
    server_.add_user("ask", "library-secret");
    server_.add_user("ada", "patron-secret");
  }

  prosody_server server_;
  xmpp_patron library_{"library"};
  xmpp_patron ada_{"ada"};
};

TEST_F(ProsodyPeer, PatronsTalkOverVerifiedStartTlsWithReceiptsAndChatStates) {
  const auto library_login = library_.connect(login_for(server_, "ask", "library-secret"));
  ASSERT_TRUE(library_login.ok()) << library_login.err().message;
  const auto ada_login = ada_.connect(login_for(server_, "ada", "patron-secret"));
  ASSERT_TRUE(ada_login.ok()) << ada_login.err().message;
  EXPECT_EQ(ada_.jid().rfind("ada@library.example/", 0), 0u) << ada_.jid();
  // Stream management (XEP-0198) and client state indication come with Prosody 0.12.
  EXPECT_TRUE(contains(ada_.stream_features(), "urn:xmpp:sm:3"));
  EXPECT_TRUE(contains(ada_.stream_features(), "urn:xmpp:csi:0"));

  const std::string id =
      ada_.send_message("ask@library.example", "Is the library open on Sunday?",
                        {.id = "ada-1", .request_receipt = true, .chat_state = "active"});
  EXPECT_EQ(id, "ada-1");
  const auto arrived = library_.wait_for_message("Is the library open on Sunday?");
  ASSERT_TRUE(arrived);
  EXPECT_EQ(arrived->from, ada_.jid());
  EXPECT_EQ(arrived->id, "ada-1");
  EXPECT_TRUE(arrived->receipt_requested);
  EXPECT_EQ(arrived->chat_state, "active");
  // The library's client acknowledged it by itself (auto_receipts).
  const auto receipt = ada_.wait_for_receipt("ada-1");
  ASSERT_TRUE(receipt);
  EXPECT_EQ(receipt->from, library_.jid());

  ada_.send_chat_state("ask@library.example", "composing");
  const auto typing = library_.wait_for_chat_state("composing");
  ASSERT_TRUE(typing);
  EXPECT_EQ(typing->from, ada_.jid());

  // An answer without a request gets no receipt; a bare receipt and an error (to the full
  // JID: Prosody drops an error sent to a bare JID) arrive as sent.
  library_.send_message("ada@library.example", "Yes, from noon to five.", {.id = "lib-1"});
  ASSERT_TRUE(ada_.wait_for_message("Yes, from noon to five."));
  library_.send_receipt(ada_.jid(), "ada-0");
  ASSERT_TRUE(ada_.wait_for_receipt("ada-0"));
  library_.send_error(ada_.jid(), "ada-7", "item-not-found", "cancel", "No such conversation");
  const auto error = ada_.wait_for([](const xmpp_event& e) { return e.type == "message_error"; });
  ASSERT_TRUE(error);
  EXPECT_EQ(error->id, "ada-7");
  EXPECT_EQ(error->condition, "item-not-found");
  EXPECT_EQ(error->error_type, "cancel");
  EXPECT_EQ(error->text, "No such conversation");
  EXPECT_EQ(library_.count([](const xmpp_event& e) { return e.type == "receipt"; }), 0u);
}

TEST_F(ProsodyPeer, ArchivesTheConversationForEachAccount) {
  ASSERT_TRUE(library_.connect(login_for(server_, "ask", "library-secret")).ok());
  ASSERT_TRUE(ada_.connect(login_for(server_, "ada", "patron-secret")).ok());
  // MAM answers for the account's own bare JID.
  EXPECT_TRUE(contains(library_.disco_features("ask@library.example"), "urn:xmpp:mam:2"));
  library_.ping();

  ada_.send_message("ask@library.example", "First question", {.id = "q-1"});
  ada_.send_message("ask@library.example", "Second question", {.id = "q-2"});
  ASSERT_TRUE(library_.wait_for_message("Second question"));
  const auto archived = library_.archive("ada@library.example");
  ASSERT_EQ(archived.size(), 2u);
  EXPECT_EQ(archived[0].body, "First question");
  EXPECT_EQ(archived[0].id, "q-1");
  EXPECT_EQ(archived[1].body, "Second question");
  EXPECT_FALSE(archived[1].archive_id.empty());
  EXPECT_FALSE(archived[1].stamp.empty());
}

TEST_F(ProsodyPeer, DirectTlsVerifiesTheSameCertificateAndAStrangerIsRefused) {
  const auto direct =
      ada_.connect(login_for(server_, "ada", "patron-secret", xmpp_login::tls_mode::direct));
  ASSERT_TRUE(direct.ok()) << direct.err().message;

  auto unverified = login_for(server_, "ask", "library-secret");
  unverified.ca_file.clear();  // the system's CAs do not know the test certificate
  const auto refused = library_.connect(unverified);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.err().message.find("certificate"), std::string::npos) << refused.err().message;

  const auto wrong = library_.connect(login_for(server_, "ask", "not-the-password"));
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.err().message.find("authentication failed"), std::string::npos)
      << wrong.err().message;

  // Encryption is required: no login in plain text.
  auto plain = login_for(server_, "ask", "library-secret", xmpp_login::tls_mode::none);
  const auto no_plain = library_.connect(plain, std::chrono::seconds(10));
  ASSERT_FALSE(no_plain.ok());
}

TEST(ProsodyPeerPlainText, LogsInWithoutTlsWhenTheServerAllowsIt) {
  prosody_server server({.require_encryption = false});
  server.add_user("ask", "library-secret");
  xmpp_patron library("library");
  const auto plain =
      library.connect(login_for(server, "ask", "library-secret", xmpp_login::tls_mode::none));
  ASSERT_TRUE(plain.ok()) << plain.err().message;
}

TEST_F(ProsodyPeer, TwoHundredMessagesInABurstAllArrive) {
  ASSERT_TRUE(library_.connect(login_for(server_, "ask", "library-secret")).ok());
  ASSERT_TRUE(ada_.connect(login_for(server_, "ada", "patron-secret")).ok());
  ada_.send_burst("ask@library.example", 200, "question ", "burst-", true);
  const auto is_question = [](const xmpp_event& e) {
    return e.type == "message" && e.body.rfind("question ", 0) == 0;
  };
  ASSERT_TRUE(library_.wait_for_count(is_question, 200, std::chrono::seconds(30)));
  EXPECT_TRUE(ada_.wait_for_receipt("burst-200"));
  EXPECT_EQ(library_.count(is_question), 200u);
}

TEST_F(ProsodyPeer, AClientLogsInAgainAfterARestartAndTheArchiveIsKept) {
  ASSERT_TRUE(library_.connect(login_for(server_, "ask", "library-secret")).ok());
  ASSERT_TRUE(ada_.connect(login_for(server_, "ada", "patron-secret")).ok());
  ada_.send_message("ask@library.example", "Before the restart");
  ASSERT_TRUE(library_.wait_for_message("Before the restart"));

  const int port = server_.port();
  server_.restart();
  EXPECT_EQ(server_.port(), port);
  // Prosody sends <system-shutdown/> on SIGTERM, but a client that was just sent a stanza
  // often sees only the connection close (4 restarts in 10 on a busy machine): the
  // disconnection is the fact to wait for, not the stream error.
  ASSERT_TRUE(library_.wait_for([](const xmpp_event& e) { return e.type == "disconnected"; }));

  const auto again = library_.connect(login_for(server_, "ask", "library-secret"));
  ASSERT_TRUE(again.ok()) << again.err().message;
  ASSERT_TRUE(ada_.connect(login_for(server_, "ada", "patron-secret")).ok());
  ada_.send_message("ask@library.example", "After the restart");
  ASSERT_TRUE(library_.wait_for_message("After the restart"));
  const auto archived = library_.archive("ada@library.example");
  ASSERT_EQ(archived.size(), 2u);
  EXPECT_EQ(archived[0].body, "Before the restart");
  EXPECT_EQ(archived[1].body, "After the restart");

  // Without a word, as in a crash: the client only sees the connection drop.
  const auto is_disconnected = [](const xmpp_event& e) { return e.type == "disconnected"; };
  const std::size_t drops = library_.count(is_disconnected);
  server_.kill();
  ASSERT_TRUE(library_.wait_for_count(is_disconnected, drops + 1));
  server_.start();
  ASSERT_TRUE(library_.connect(login_for(server_, "ask", "library-secret")).ok());
}

}  // namespace
}  // namespace askdesk::testing
