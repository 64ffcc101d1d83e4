#include "daemon/hub/after_hours.hpp"

#include "daemon/config/team_hours.hpp"
#include "daemon/core/auto_reply.hpp"
#include "daemon/core/channel.hpp"
#include "daemon/core/local_format.hpp"

namespace askdesk::hub {

ack_plan plan_acknowledgement(const config::team_options& team, const core::inbound_message& m,
                              const std::string& conversation, core::timestamp now) {
  ack_plan plan;
  if (m.facts.contains(std::string(core::fact_keyword))) {
    plan.skipped = m.channel + "_keyword";
    plan.why = "the message is a " + m.channel + " keyword (" +
               m.facts.at(std::string(core::fact_keyword)) + ")";
    return plan;
  }
  if (m.facts.contains(std::string(core::fact_public))) {
    plan.skipped = "public";
    plan.why = "a reply would be public";
    return plan;
  }
  if (auto why = core::automated_sender(m)) {
    plan.skipped = "automated";
    plan.why = *why;
    return plan;
  }
  const auto language_fact = m.facts.find(std::string(core::fact_language));
  const std::string wanted = language_fact != m.facts.end() ? language_fact->second : "";
  const auto opening = config::opening_at(team, now);
  const bool closed = !opening.open;
  const auto& templates = closed ? team.auto_ack : team.busy_ack;
  if (!closed && templates.empty()) {
    plan.skipped = "open";
    return plan;
  }
  const auto chosen = core::choose_template(templates, m.channel, wanted, team.language);
  if (!chosen) {
    plan.skipped = "no_template";
    plan.why = "team " + team.id + " has no " + (closed ? "auto_ack" : "busy_ack") +
               " template for " + m.channel;
    return plan;
  }
  core::template_values values = {{"patron_name", m.sender_name}, {"team", team.name}};
  acknowledgement ack;
  ack.language = chosen->language;
  if (closed) {
    const auto& next = opening.next_open;
    // The date in the patron's own variant ("fr-ca") when the template is its language.
    const auto patron = core::normalize_language(wanted).value_or("");
    const bool variant = patron == chosen->language || patron.starts_with(chosen->language + "-");
    const auto& date_language = variant ? patron : chosen->language;
    values["next_open"] =
        next ? core::format_day_and_time(team.hours->local(*next), date_language) : "";
    ack.period = "closed:" + (next ? std::to_string(core::to_millis(*next)) : "never");
  } else {
    ack.period = "busy:" + conversation;
  }
  ack.text = core::fill_template(chosen->text, values);
  plan.ack = std::move(ack);
  return plan;
}

std::string consent_of(const core::inbound_message& m) {
  const auto keyword = m.facts.find(std::string(core::fact_keyword));
  if (keyword == m.facts.end()) return "";
  if (keyword->second == "opt_out") return "out";
  if (keyword->second == "opt_in") return "in";
  return "";
}

}  // namespace askdesk::hub
