#include "daemon/core/auto_reply.hpp"

#include <gtest/gtest.h>

namespace askdesk::core {
namespace {

inbound_message mail(std::string from, std::map<std::string, std::string> facts = {}) {
  inbound_message m;
  m.channel = "email";
  m.sender_address = std::move(from);
  m.facts = std::move(facts);
  return m;
}

TEST(AutoReply, APersonsMailMayBeAnswered) {
  EXPECT_FALSE(automated_sender(mail("ada@example.org")));
  EXPECT_FALSE(automated_sender(mail("ada@example.org", {{"auto_submitted", "no"}})));
  EXPECT_FALSE(automated_sender(mail("ada@example.org", {{"return_path", "ada@example.org"}})));
  EXPECT_FALSE(automated_sender(mail("ada@example.org", {{"precedence", "first-class"}})));
}

TEST(AutoReply, MachinesAndListsAreNeverAnswered) {
  EXPECT_TRUE(automated_sender(mail("ada@example.org", {{"auto_submitted", "auto-replied"}})));
  EXPECT_TRUE(automated_sender(
      mail("ada@example.org", {{"auto_submitted", "auto-generated; owner-email=x@y"}})));
  EXPECT_TRUE(automated_sender(mail("ada@example.org", {{"auto_submitted", "No-thanks"}})));
  for (const char* p : {"bulk", "list", "junk", " Bulk "}) {
    EXPECT_TRUE(automated_sender(mail("ada@example.org", {{"precedence", p}}))) << p;
  }
  EXPECT_TRUE(automated_sender(mail("ada@example.org", {{"list_id", "<books.lists.example>"}})));
  EXPECT_TRUE(automated_sender(mail("ada@example.org", {{"return_path", ""}})));
  EXPECT_TRUE(automated_sender(mail("ada@example.org", {{"return_path", "<>"}})));
  EXPECT_TRUE(automated_sender(mail("ada@example.org", {{"return_path", "<MAILER-DAEMON@mx>"}})));
  EXPECT_TRUE(automated_sender(mail("ada@example.org", {{"auto_response_suppress", "OOF"}})));
  for (const char* from : {"MAILER-DAEMON@mx.example.org", "listserv@lists.example.org",
                           "books-request@lists.example.org", "owner-books@lists.example.org",
                           "no-reply@shop.example", "postmaster@example.org", ""}) {
    EXPECT_TRUE(automated_sender(mail(from))) << from;
  }
}

TEST(AutoReply, MailHeadersNameTheirFacts) {
  EXPECT_EQ(fact_for_header("Auto-Submitted"), "auto_submitted");
  EXPECT_EQ(fact_for_header("list-id"), "list_id");
  EXPECT_EQ(fact_for_header("RETURN-PATH"), "return_path");
  EXPECT_EQ(fact_for_header("Content-Language"), "language");
  EXPECT_EQ(fact_for_header("Subject"), "");
}

TEST(AutoReply, SmsKeywordsAreWholeMessages) {
  for (const char* w :
       {"STOP", "stop", " Stop. ", "UNSUBSCRIBE", "cancel", "END", "quit", "STOPALL"}) {
    EXPECT_EQ(sms_keyword_of(w), sms_keyword::opt_out) << w;
  }
  EXPECT_EQ(sms_keyword_of("START"), sms_keyword::opt_in);
  EXPECT_EQ(sms_keyword_of("unstop"), sms_keyword::opt_in);
  EXPECT_EQ(sms_keyword_of("HELP"), sms_keyword::help);
  EXPECT_EQ(sms_keyword_of("Please stop by the desk"), sms_keyword::none);
  EXPECT_EQ(sms_keyword_of("When do you end today?"), sms_keyword::none);
}

TEST(AutoReply, LanguagesAreBcp47Tags) {
  EXPECT_EQ(normalize_language("fr-CA"), "fr-ca");
  EXPECT_EQ(normalize_language("en_GB"), "en-gb");
  EXPECT_EQ(normalize_language("zh-Hant-TW"), "zh-hant-tw");
  EXPECT_FALSE(normalize_language("english"));
  EXPECT_FALSE(normalize_language("fr-"));
  EXPECT_FALSE(normalize_language("<script>"));
}

TEST(AutoReply, TemplatesByChannelThenLanguage) {
  const message_templates t = {{"sms", {{"en", "sms en"}}},
                               {"*", {{"en", "any en"}, {"fr", "any fr"}, {"fr-ca", "any qc"}}}};
  EXPECT_EQ(choose_template(t, "sms", "fr", "en")->text, "sms en");
  EXPECT_EQ(choose_template(t, "email", "fr-CA", "en")->text, "any qc");
  EXPECT_EQ(choose_template(t, "email", "fr-BE", "en")->text, "any fr");
  EXPECT_EQ(choose_template(t, "email", "fr-BE", "en")->language, "fr");
  EXPECT_EQ(choose_template(t, "webchat", "", "fr")->text, "any fr");
  EXPECT_EQ(choose_template(t, "webchat", "de", "es")->text, "any en");
  EXPECT_FALSE(choose_template({{"sms", {{"en", "x"}}}}, "email", "en", "en"));
  EXPECT_EQ(choose_template({{"*", {{"es", "hola"}}}}, "email", "de", "fr")->text, "hola");
}

TEST(AutoReply, TemplatesFillTheirPlaceholders) {
  const template_values v = {{"patron_name", "Ada"}, {"team", "Reference"}, {"next_open", "9:00"}};
  EXPECT_EQ(fill_template("Hello {patron_name}, {team} opens {next_open}. {{ok}}", v),
            "Hello Ada, Reference opens 9:00. {ok}");
  EXPECT_EQ(fill_template("Hello {patron_name}, thanks", {{"patron_name", ""}}), "Hello, thanks");
  EXPECT_EQ(fill_template("{unknown} stays", v), "{unknown} stays");
}

TEST(AutoReply, TemplateProblemsAreNamed) {
  const std::string_view known[] = {"patron_name", "team", "next_open"};
  EXPECT_FALSE(template_problem("Hi {patron_name}, {{braces}} are fine", known));
  EXPECT_EQ(template_problem("Hi {name}", known),
            "unknown placeholder {name}; use {patron_name}, {team}, {next_open}");
  EXPECT_TRUE(template_problem("Hi {patron_name", known));
  EXPECT_TRUE(template_problem("Hi }", known));
}

}  // namespace
}  // namespace askdesk::core
