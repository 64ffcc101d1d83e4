#include "daemon/hub/after_hours.hpp"

#include <gtest/gtest.h>

#include "daemon/config/team_hours.hpp"
#include "daemon/core/auto_reply.hpp"

namespace askdesk::hub {
namespace {

// Reference, Monday to Friday 09:00-17:00 in Toronto, with the default templates.
config::team_options reference(core::message_templates busy = {}) {
  config::team_options t;
  t.id = "reference";
  t.name = "Reference";
  core::opening_hours::week week;
  for (int d = 0; d < 5; ++d) week[d] = {*core::parse_daily_range("09:00", "17:00")};
  t.hours.emplace("America/Toronto", week, core::opening_hours::exception_map{});
  t.auto_ack = config::default_auto_ack();
  t.busy_ack = std::move(busy);
  return t;
}

core::inbound_message from(std::string channel, std::string address, std::string text = "Hi") {
  core::inbound_message m;
  m.channel = std::move(channel);
  m.sender_address = std::move(address);
  m.sender_name = "Ada";
  m.text = std::move(text);
  return m;
}

// SMS's keywords as the Twilio connector declares them; other channels have none.
core::channel_traits traits_of(const core::inbound_message& m) {
  core::channel_traits t;
  t.channel = m.channel;
  t.display_name = m.channel;
  if (m.channel == "sms") {
    t.opt_out_keywords.assign(std::begin(core::sms_opt_out_words),
                              std::end(core::sms_opt_out_words));
    t.opt_in_keywords.assign(std::begin(core::sms_opt_in_words), std::end(core::sms_opt_in_words));
    t.help_keywords.assign(std::begin(core::sms_help_words), std::end(core::sms_help_words));
  }
  return t;
}

ack_plan plan_for(const config::team_options& team, const core::inbound_message& m,
                  const std::string& conversation, core::timestamp now) {
  auto marked = m;  // as the connector's host marks it
  core::mark_keyword(marked, traits_of(m));
  return plan_acknowledgement(team, marked, conversation, now);
}

std::string consent_for(const core::inbound_message& m) {
  auto marked = m;
  core::mark_keyword(marked, traits_of(m));
  return consent_of(marked);
}

const core::timestamp monday_2300 = *core::parse_iso8601("2026-11-24T04:00:00Z");
const core::timestamp tuesday_1000 = *core::parse_iso8601("2026-11-24T15:00:00Z");

TEST(AfterHours, ClosedTeamsAcknowledgeWithTheNextOpeningAsThePeriod) {
  const auto plan = plan_for(reference(), from("email", "ada@example.org"), "7", monday_2300);
  ASSERT_TRUE(plan.ack) << plan.why;
  EXPECT_EQ(plan.ack->period, "closed:1795528800000");  // Tuesday 09:00 EST
  EXPECT_EQ(plan.ack->text,
            "Thank you for your message. Reference is closed right now; a librarian will answer "
            "after we open on Tuesday, November 24 at 9:00 AM.");
}

TEST(AfterHours, ThePatronsLanguageChoosesTheTemplateAndTheDate) {
  auto m = from("webchat", "w:1");
  m.facts["language"] = "fr-CA";
  const auto plan = plan_for(reference(), m, "7", monday_2300);
  ASSERT_TRUE(plan.ack);
  EXPECT_EQ(plan.ack->language, "fr");
  EXPECT_NE(plan.ack->text.find("mardi 24 novembre à 09 h 00"), std::string::npos)
      << plan.ack->text;
}

TEST(AfterHours, OpenTeamsAcknowledgeOnlyWithABusyTemplate) {
  EXPECT_EQ(plan_for(reference(), from("sms", "+15550100"), "7", tuesday_1000).skipped, "open");
  const auto plan = plan_for(reference({{"*", {{"en", "Busy, {patron_name}."}}}}),
                             from("sms", "+15550100"), "7", tuesday_1000);
  ASSERT_TRUE(plan.ack);
  EXPECT_EQ(plan.ack->period, "busy:7");
  EXPECT_EQ(plan.ack->text, "Busy, Ada.");
}

TEST(AfterHours, MachinesKeywordsAndMissingTemplatesGetNothing) {
  auto bounce = from("email", "ada@example.org");
  bounce.facts["return_path"] = "";
  EXPECT_EQ(plan_for(reference(), bounce, "7", monday_2300).skipped, "automated");
  auto post = from("social", "@ada@social.example", "A public question");
  post.facts["public"] = "1";  // an answer would be seen by everyone
  EXPECT_EQ(plan_for(reference(), post, "7", monday_2300).skipped, "public");
  EXPECT_EQ(plan_for(reference(), from("sms", "+15550100", "STOP"), "7", monday_2300).skipped,
            "sms_keyword");
  auto team = reference();
  team.auto_ack = {{"sms", {{"en", "Closed"}}}};
  EXPECT_EQ(plan_for(team, from("email", "ada@example.org"), "7", monday_2300).skipped,
            "no_template");
}

TEST(AfterHours, SmsConsentWords) {
  EXPECT_EQ(consent_for(from("sms", "+15550100", "Stop")), "out");
  EXPECT_EQ(consent_for(from("sms", "+15550100", "START")), "in");
  EXPECT_EQ(consent_for(from("sms", "+15550100", "Can you stop by?")), "");
  EXPECT_EQ(consent_for(from("email", "ada@example.org", "STOP")), "");
  auto form = from("sms", "+15550100", "STOP");  // the widget's form naming someone's number
  form.facts["offline_form"] = "1";
  EXPECT_EQ(consent_for(form), "");
  EXPECT_TRUE(plan_for(reference(), form, "7", monday_2300).ack);
}

}  // namespace
}  // namespace askdesk::hub
