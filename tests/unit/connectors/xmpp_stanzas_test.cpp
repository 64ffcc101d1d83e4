#include "connectors/xmpp/stanzas.hpp"

#include <gtest/gtest.h>
#include <strophe.h>

namespace askdesk::connectors::xmpp {
namespace {

const std::string own = "ask@library.example";

// Parses `xml` with libstrophe, as the session thread receives it, and reads it.
class Stanzas : public ::testing::Test {
 protected:
  Stanzas() {
    xmpp_initialize();
    ctx_ = xmpp_ctx_new(nullptr, nullptr);
  }
  ~Stanzas() override { xmpp_ctx_free(ctx_); }

  event read(const std::string& xml) {
    xmpp_stanza_t* s = xmpp_stanza_new_from_string(ctx_, xml.c_str());
    EXPECT_NE(s, nullptr) << xml;
    if (!s) return {};
    event e = read_stanza(s, own);
    xmpp_stanza_release(s);
    return e;
  }

  xmpp_ctx_t* ctx_;
};

TEST_F(Stanzas, APatronsChatMessageWithItsArchiveIdNickAndReceiptRequest) {
  const auto e = read(
      "<message xmlns='jabber:client' type='chat' from='Ada@Example.org/phone' id='m1' "
      "to='ask@library.example'><body>Do you have the 1901 census?</body>"
      "<nick xmlns='http://jabber.org/protocol/nick'>Ada</nick>"
      "<request xmlns='urn:xmpp:receipts'/>"
      "<stanza-id xmlns='urn:xmpp:sid:0' by='ask@library.example' id='arch-7'/></message>");
  EXPECT_EQ(e.what, event::kind::message);
  EXPECT_EQ(e.from, "ada@example.org");
  EXPECT_EQ(e.id, "m1");
  EXPECT_EQ(e.body, "Do you have the 1901 census?");
  EXPECT_EQ(e.nick, "Ada");
  EXPECT_TRUE(e.receipt_requested);
  EXPECT_EQ(e.archive_id, "arch-7");
}

TEST_F(Stanzas, AnOutOfBandUrlIsAnAttachmentEvenWithoutText) {
  const auto e = read(
      "<message type='chat' from='ada@example.org/a'><body>https://up.example.org/scan.pdf</body>"
      "<x xmlns='jabber:x:oob'><url>https://up.example.org/scan.pdf</url></x></message>");
  EXPECT_EQ(e.what, event::kind::message);
  ASSERT_EQ(e.urls.size(), 1u);
  EXPECT_EQ(e.urls[0], "https://up.example.org/scan.pdf");
  const auto bare = read(
      "<message type='chat' from='ada@example.org/a'>"
      "<x xmlns='jabber:x:oob'><url>https://up.example.org/photo.jpg</url></x></message>");
  EXPECT_EQ(bare.what, event::kind::message);
}

TEST_F(Stanzas, AStanzaIdSomeoneElseWroteIsNotTrusted) {
  const auto e = read(
      "<message type='chat' from='ada@example.org/a'><body>Hi</body>"
      "<stanza-id xmlns='urn:xmpp:sid:0' by='ada@example.org' id='forged'/></message>");
  EXPECT_EQ(e.what, event::kind::message);
  EXPECT_EQ(e.archive_id, "");
}

TEST_F(Stanzas, ErrorsOurOwnEchoesAndBodilessMessagesAreNotMessages) {
  EXPECT_EQ(read("<message type='error' from='ada@example.org'><body>x</body></message>").what,
            event::kind::ignored);
  EXPECT_EQ(
      read("<message type='chat' from='ask@library.example/askdesk'><body>x</body></message>").what,
      event::kind::ignored);
  EXPECT_EQ(
      read("<message type='groupchat' from='room@muc.example/ada'><body>x</body></message>").what,
      event::kind::ignored);
  EXPECT_EQ(read("<message type='chat' from='ada@example.org'><request xmlns='urn:xmpp:receipts'/>"
                 "</message>")
                .what,
            event::kind::ignored);
  EXPECT_EQ(read("<message type='chat' from='ada@example.org'><body>  </body></message>").what,
            event::kind::ignored);
}

TEST_F(Stanzas, ChatStatesAndReceiptsWithoutABody) {
  const auto typing = read(
      "<message type='chat' from='ada@example.org/a'>"
      "<composing xmlns='http://jabber.org/protocol/chatstates'/></message>");
  EXPECT_EQ(typing.what, event::kind::chat_state);
  EXPECT_EQ(typing.state, "composing");
  const auto receipt = read(
      "<message from='ada@example.org/a'><received xmlns='urn:xmpp:receipts' id='askdesk-12'/>"
      "</message>");
  EXPECT_EQ(receipt.what, event::kind::receipt);
  EXPECT_EQ(receipt.id, "askdesk-12");
}

TEST_F(Stanzas, ABodyOver64KiBIsCutAtACharacterBoundary) {
  std::string body;
  while (body.size() < max_body_bytes + 10) body += "\xC3\xA9";  // é, two bytes
  body += "x";
  const auto e =
      read("<message type='chat' from='ada@example.org'><body>" + body + "</body></message>");
  EXPECT_EQ(e.what, event::kind::message);
  EXPECT_EQ(e.cut_from, body.size());
  EXPECT_LE(e.body.size(), max_body_bytes);
  EXPECT_EQ(e.body.size() % 2, 0u);  // no half character
}

TEST_F(Stanzas, OurArchivesPagesAndTheirEnd) {
  const auto result = read(
      "<message to='ask@library.example/askdesk'><result xmlns='urn:xmpp:mam:2' queryid='q1' "
      "id='arch-9'><forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' "
      "stamp='2026-12-07T10:00:00Z'/><message type='chat' from='ada@example.org/a' id='m9'>"
      "<body>Sent while you were away</body><request xmlns='urn:xmpp:receipts'/></message>"
      "</forwarded></result></message>");
  EXPECT_EQ(result.what, event::kind::message);
  EXPECT_EQ(result.archive_id, "arch-9");
  EXPECT_EQ(result.query_id, "q1");
  EXPECT_EQ(result.from, "ada@example.org");
  EXPECT_FALSE(result.receipt_requested);
  // A "result" pushed by someone else is forged.
  EXPECT_EQ(read("<message from='mallory@example.org/x'><result xmlns='urn:xmpp:mam:2' "
                 "queryid='q1' id='arch-1'><forwarded xmlns='urn:xmpp:forward:0'><message "
                 "type='chat' from='ada@example.org'><body>x</body></message></forwarded>"
                 "</result></message>")
                .what,
            event::kind::ignored);
  const auto fin = read(
      "<iq type='result' id='q1'><fin xmlns='urn:xmpp:mam:2' complete='true'>"
      "<set xmlns='http://jabber.org/protocol/rsm'><first>arch-1</first><last>arch-9</last></set>"
      "</fin></iq>");
  EXPECT_EQ(fin.what, event::kind::archive_done);
  EXPECT_EQ(fin.id, "q1");
  EXPECT_TRUE(fin.complete);
  EXPECT_EQ(fin.last, "arch-9");
}

TEST_F(Stanzas, AnswersCountOnlyFromOurServerOrAccount) {
  const auto forged = read(
      "<iq type='result' id='mam-1-x' from='mallory@example.org/x'><fin xmlns='urn:xmpp:mam:2' "
      "complete='true'/></iq>");
  EXPECT_EQ(forged.what, event::kind::ignored);
  const auto pong = read("<iq type='result' id='ack-1' from='library.example'/>");
  EXPECT_EQ(pong.what, event::kind::answered);
  EXPECT_EQ(pong.id, "ack-1");
  EXPECT_EQ(read("<iq type='result' id='ack-2'/>").what, event::kind::answered);
  EXPECT_EQ(read("<iq type='result' id='roster' from='mallory@example.org'><query "
                 "xmlns='jabber:iq:roster'><item jid='ada@example.org' name='Evil'/></query></iq>")
                .what,
            event::kind::ignored);
}

TEST_F(Stanzas, RosterNamesAndSubscriptionRequests) {
  const auto roster = read(
      "<iq type='result' id='roster'><query xmlns='jabber:iq:roster'>"
      "<item jid='ada@example.org' name='Ada Lovelace'/><item "
      "jid='bob@example.org'/></query></iq>");
  EXPECT_EQ(roster.what, event::kind::roster);
  ASSERT_EQ(roster.roster.size(), 2u);
  EXPECT_EQ(roster.roster[0].second, "Ada Lovelace");
  EXPECT_EQ(read("<presence type='subscribe' from='ada@example.org'/>").what,
            event::kind::subscribe);
}

TEST_F(Stanzas, WhatWeSendIsWellFormedWhateverTheTextHolds) {
  const std::string hostile = "<b>&'\"</message><message to='x'>\x01";
  const auto sent = chat_message("ada@example.org", "askdesk-1", hostile);
  xmpp_stanza_t* s = xmpp_stanza_new_from_string(ctx_, sent.c_str());
  ASSERT_NE(s, nullptr) << sent;
  char* body = xmpp_message_get_body(s);
  ASSERT_NE(body, nullptr);
  EXPECT_EQ(std::string(body), "<b>&'\"</message><message to='x'>");  // the control char goes
  xmpp_free(ctx_, body);
  EXPECT_STREQ(xmpp_stanza_get_attribute(s, "id"), "askdesk-1");
  xmpp_stanza_release(s);
  for (const auto& stanza :
       {archive_query("q2", "q2", archive_page::after, "arch-9", 100),
        archive_query("q3", "q3", archive_page::newest, "", 100),
        archive_query("q4", "q4", archive_page::from_start, "", 100),
        archive_query("q5", "q5", archive_page::newest_before, "arch-9", 100),
        presence("away", "Closed; we open Monday at 9:00 AM"),
        chat_state("ada@example.org", "composing"), receipt("ada@example.org", "m1"),
        roster_query("roster"), subscribed("ada@example.org"), ping("ack-1")}) {
    xmpp_stanza_t* parsed = xmpp_stanza_new_from_string(ctx_, stanza.c_str());
    EXPECT_NE(parsed, nullptr) << stanza;
    if (parsed) xmpp_stanza_release(parsed);
  }
}

}  // namespace
}  // namespace askdesk::connectors::xmpp
