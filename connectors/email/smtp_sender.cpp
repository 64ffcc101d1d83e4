// Replies go out as RFC 5322 mail (mime.hpp's compose_mail: From, Reply-To, To, Subject
// "Re: …", Date, our Message-ID, In-Reply-To the patron's last message and References its
// chain, the body as quoted-printable UTF-8) submitted by SMTP on the daemon's curl client.
// Automatic acknowledgements carry Auto-Submitted: auto-replied and go out with the null
// envelope sender MAIL FROM:<> (RFC 3834), so a bounce of one never comes back to askdesk.
//
// What happened decides what the outbound lane does with the reply:
// - the server refused it with 4xx (it says: try later): retry; with 5xx: permanent, its code
//   and words shown to staff;
// - the exchange failed before any of the mail was handed over (resolving, connecting, TLS and
//   STARTTLS, the login, a server that never greets: a changed password is fixed and the
//   waiting replies go): retry;
// - the connection broke or timed out while or after the mail was sent: the server may have
//   taken it (once it has the final "." it may deliver it even though its 250 never came,
//   RFC 1047), so it is not sent again, which could send it twice: permanent, saying it may
//   not have arrived. The curl client tells the two apart: "uncertain" once some of the mail
//   was uploaded.
//
// The whole submission is bounded by the lane's send timeout, less a margin, so `done` always
// comes from here, with the reason, before the lane gives up on it.
//
// Our Message-IDs ("askdesk.<conversation>.<message>.<random>@<domain of address>") are made
// here, and recognised here when a delivery status notification the poller read names one: a
// reply that bounced (Action: failed) gets the delivery report "failed" with the status
// (5.1.1) and the server's diagnostic (record_bounce).
#include <spdlog/spdlog.h>

#include <algorithm>

#include "connectors/email/email_parts.hpp"
#include "daemon/core/text.hpp"
#include "daemon/net/crypto.hpp"

namespace askdesk::connectors::email {

namespace {

constexpr std::string_view our_id_prefix = "askdesk.";

// What the submission of the mail with Message-ID `id` comes to for the lane.
send_result outcome_of(const core::result<net::incoming_response>& answer, const std::string& id) {
  if (!answer) {
    // Only a mail that was being handed over when the connection failed may have arrived.
    if (answer.err().code != "uncertain") return send_result::retry(answer.err().message);
    return send_result::permanent(
        "the mail may have reached the mail server, so it is not sent again (it could arrive "
        "twice): " +
        answer.err().message);
  }
  const long code = answer->status;
  if (code >= 400) {
    const std::string why =
        "the mail server answered " + std::to_string(code) + ": " + answer->body;
    return code < 500 ? send_result::retry(why, std::to_string(code))
                      : send_result::permanent(why, std::to_string(code));
  }
  return send_result::sent(id);
}

// The curl timeout for a lane that waits `lane` for a send: a second less, or half as long.
std::chrono::milliseconds submit_timeout(std::chrono::milliseconds lane) {
  return std::max<std::chrono::milliseconds>(lane - std::chrono::seconds(1), lane / 2);
}

// "<a@x> <b@y>" as the facts keep References -> {"<a@x>", "<b@y>"}.
std::vector<std::string> split_ids(std::string_view text) {
  std::vector<std::string> ids;
  while (!text.empty()) {
    const auto space = text.find(' ');
    if (space != 0) ids.emplace_back(text.substr(0, space));
    if (space == std::string_view::npos) break;
    text.remove_prefix(space + 1);
  }
  return ids;
}

outgoing_mail compose(const email_settings& settings, const outbound_message& m,
                      core::timestamp now) {
  const auto fact = [&](const char* name) -> std::string {
    const auto it = m.facts.find(name);
    return it == m.facts.end() ? std::string() : it->second;
  };
  outgoing_mail mail;
  mail.from_address = settings.address;
  mail.from_name = settings.from_name;
  mail.reply_to = settings.reply_to;
  mail.to_address = m.to;
  mail.to_name = m.patron_name;
  mail.in_reply_to = fact("in_reply_to");
  mail.subject = mail.in_reply_to.empty()
                     ? (fact("subject").empty() ? settings.subject : fact("subject"))
                     : reply_subject(fact("subject"), settings.subject);
  mail.references = split_ids(fact("references"));
  if (!mail.in_reply_to.empty() &&
      (mail.references.empty() || mail.references.back() != mail.in_reply_to)) {
    mail.references.push_back(mail.in_reply_to);
  }
  if (mail.references.size() > reply_references) {
    mail.references.erase(mail.references.begin(),
                          mail.references.end() - static_cast<long>(reply_references));
  }
  const auto domain = settings.address.substr(settings.address.find('@') + 1);
  mail.message_id = std::string(our_id_prefix) + m.conversation + "." + m.message + "." +
                    net::random_token().substr(0, 12) + "@" + domain;
  mail.date = now;
  mail.text = m.text;
  mail.automatic = m.automatic;
  return mail;
}

// What a delivery status notification says about one of our replies: its failure, to record;
// nullopt for anything else.
std::optional<connectors::delivery_report> failed_delivery(const email::delivery_report& dsn) {
  if (!dsn.original_message_id.starts_with(our_id_prefix) || dsn.action != "failed") {
    return std::nullopt;
  }
  const std::string why =
      "bounced: " +
      (dsn.diagnostic.empty() ? "the mail server could not deliver it" : dsn.diagnostic) +
      (dsn.recipient.empty() ? "" : " (" + dsn.recipient + ")");
  return connectors::delivery_report{dsn.original_message_id, "failed", dsn.status, why};
}

}  // namespace

smtp_sender::smtp_sender(const email_settings& settings, connector_context& context)
    : settings_(settings), state_(std::make_shared<state>(state{context, settings.id, {}})) {
  context.metrics().declare_counter("askdesk_email_bounces_total",
                                    "Delivery status notifications read, by action.");
}

void smtp_sender::send(const outbound_message& m, std::function<void(send_result)> done) {
  if (m.to.ends_with(no_sender_suffix)) {
    done(send_result::permanent("this email came without a sender address to answer"));
    return;
  }
  if (!core::plausible_email(m.to)) {
    done(send_result::permanent("'" + m.to + "' is not an email address"));
    return;
  }
  auto& context = state_->context;
  const auto mail = compose(settings_, m, context.clock().now());

  auto r = settings_.login_request(settings_.smtp);
  r.url = settings_.smtp_url;
  r.mail_from = m.automatic ? "" : settings_.address;  // automatic: MAIL FROM:<> (RFC 3834)
  r.mail_to = {m.to};
  r.body = compose_mail(mail);
  r.timeout = submit_timeout(settings_.lane.send_timeout);
  auto finished = [weak = std::weak_ptr<state>(state_), done = std::move(done),
                   id = mail.message_id](core::result<net::incoming_response> answer) {
    auto outcome = outcome_of(answer, id);
    if (auto s = weak.lock()) {
      const auto now = s->context.clock().now();
      if (outcome.what == send_result::outcome::sent) {
        s->health.last_success = now;
      } else {
        note_problem(s->health, now, s->connector, outcome.error);
      }
    }
    done(std::move(outcome));
  };
  context.http().send(std::move(r), std::move(finished));
}

void smtp_sender::record_bounce(const email::delivery_report& dsn,
                                std::function<void(core::status)> done) {
  auto& context = state_->context;
  context.metrics().add("askdesk_email_bounces_total",
                        {{"action", dsn.action.empty() ? "unknown" : dsn.action}});
  auto report = failed_delivery(dsn);
  if (!report) {
    spdlog::info("email {}: a delivery report ({}) for {}: nothing to mark", settings_.id,
                 dsn.action,
                 dsn.original_message_id.empty() ? "an unknown message" : dsn.original_message_id);
    done({});
    return;
  }
  context.report_delivery(std::move(*report), std::move(done));
}

}  // namespace askdesk::connectors::email
