// The email connector as the hub sees it: the traits of its channel, what a mail becomes
// (inbound_of: the dedup key, the references that thread it, the loop headers as the facts
// that traits().automated_senders describes), and the connector that ties its two halves
// together: the IMAP poller (imap_poller.cpp) brings mail in, the SMTP sender
// (smtp_sender.cpp) sends replies and records their bounces, both on the settings read once
// (settings.cpp) and the connector_context the daemon lends. health() is the later success
// and the later problem of the two.
#include "connectors/email/email.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "connectors/email/email_parts.hpp"
#include "connectors/email/mail_text.hpp"
#include "daemon/core/auto_reply.hpp"
#include "daemon/core/text.hpp"
#include "daemon/net/crypto.hpp"

namespace askdesk::connectors {

namespace email {

void note_problem(connector_health& health, core::timestamp now, std::string_view connector,
                  std::string message) {
  spdlog::warn("email {}: {}", connector, message);
  health.last_error = std::move(message);
  health.last_error_at = now;
}

connector_health latest_of(connector_health a, const connector_health& b) {
  if (b.last_success > a.last_success) a.last_success = b.last_success;
  if (b.last_error_at > a.last_error_at) {
    a.last_error_at = b.last_error_at;
    a.last_error = b.last_error;
  }
  return a;
}

core::inbound_message inbound_of(const std::string& raw, parsed_mail mail, core::timestamp now) {
  core::inbound_message m;
  m.external_id = mail.message_id.empty() ? "sha256:" + net::sha256_hex(raw) : mail.message_id;
  m.thread = m.external_id;
  for (const auto& id : mail.in_reply_to) {
    m.references.push_back({"In-Reply-To", id});
  }
  for (auto id = mail.references.rbegin(); id != mail.references.rend(); ++id) {
    const bool known = std::any_of(m.references.begin(), m.references.end(),
                                   [&](const auto& r) { return r.key == *id; });
    if (!known) m.references.push_back({"References", *id});
  }
  if (m.references.size() > core::max_references) m.references.resize(core::max_references);
  m.sender_address = core::ascii_lower(mail.from_address);
  if (!core::plausible_email(m.sender_address)) {
    const auto rp = mail.facts.find(std::string(core::fact_return_path));
    // No address to answer: a patron of its own (never joined to another's thread), whom the
    // sender will not try to write to.
    m.sender_address = rp != mail.facts.end() && core::plausible_email(rp->second)
                           ? core::ascii_lower(rp->second)
                           : "unknown-sender." + net::sha256_hex(m.external_id).substr(0, 16) +
                                 std::string(no_sender_suffix);
  }
  m.sender_name = core::truncate_utf8(mail.from_name, core::max_name_bytes);
  m.text = std::move(mail.text);
  if (m.text.empty() && mail.attachments.empty()) m.text = "[This email has no text.]";
  m.attachments = std::move(mail.attachments);
  m.received_at = now;
  m.sent_at = m.received_at;
  if (mail.date && *mail.date < m.received_at + std::chrono::hours(24) &&
      *mail.date > m.received_at - std::chrono::hours(24 * 365)) {
    m.sent_at = *mail.date;
  }
  m.facts = std::move(mail.facts);
  m.facts["subject"] = core::truncate_utf8(mail.subject, 1000);
  if (!mail.message_id.empty()) {
    m.facts["message_id"] = mail.message_id;
    std::string refs;
    const auto& chain = mail.references;
    for (auto it = chain.size() > reply_references ? chain.end() - reply_references : chain.begin();
         it != chain.end(); ++it) {
      refs += (refs.empty() ? "" : " ") + *it;
    }
    m.facts["references"] = refs;
    m.reply_facts = {
        {"subject", m.facts["subject"]}, {"in_reply_to", mail.message_id}, {"references", refs}};
  }
  if (const auto fold = fold_line(m.text);
      fold < static_cast<std::size_t>(std::count(m.text.begin(), m.text.end(), '\n')) + 1) {
    m.facts["fold_line"] = std::to_string(fold);
  }
  return m;
}

}  // namespace email

namespace {

core::channel_traits email_traits() {
  core::channel_traits t;
  t.channel = "email";
  t.display_name = "Email";
  t.unit = core::length_unit::characters;
  t.max_length = 100000;  // a librarian's long research answer must fit
  // What the poller reads into facts from the headers (mime.hpp, core::loop_headers).
  t.automated_senders =
      "RFC 3834: Auto-Submitted, Precedence bulk/list/junk, List-Id, an empty Return-Path, "
      "X-Auto-Response-Suppress";
  t.public_replies = false;
  t.delivery_reports = true;  // bounces mark a reply failed
  return t;
}

class email_connector final : public connector {
 public:
  email_connector(email::email_settings settings, connector_context& context)
      : settings_(std::move(settings)),
        traits_(email_traits()),
        sender_(settings_, context),
        poller_(settings_, context, sender_) {}

  const std::string& id() const override { return settings_.id; }
  std::string_view type() const override { return "email"; }
  const core::channel_traits& traits() const override { return traits_; }
  std::chrono::milliseconds reopen_window() const override { return settings_.reopen_window; }

  void start() override { poller_.start(); }
  void stop() override { poller_.stop(); }

  void send(const outbound_message& m, std::function<void(send_result)> done) override {
    sender_.send(m, std::move(done));
  }

  connector_health health() const override {
    return email::latest_of(poller_.health(), sender_.health());
  }

 private:
  const email::email_settings settings_;  // borrowed by the two below
  const core::channel_traits traits_;
  email::smtp_sender sender_;
  email::imap_poller poller_;
};

class email_factory final : public connector_factory {
 public:
  std::string_view type() const override { return "email"; }

  lane_settings lane_defaults() const override {
    return {.concurrency = 2,
            .per_second = 0,
            .send_timeout = std::chrono::seconds(60),
            .max_attempts = 8};
  }

  std::unique_ptr<connector_settings> parse(json::object_reader& block) const override {
    return email::parse_settings(block);
  }

  std::unique_ptr<connector> create(std::unique_ptr<connector_settings> settings,
                                    connector_context& context) const override {
    return std::make_unique<email_connector>(
        std::move(static_cast<email::email_settings&>(*settings)), context);
  }
};

}  // namespace

std::unique_ptr<connector_factory> make_email_factory() {
  return std::make_unique<email_factory>();
}

}  // namespace askdesk::connectors
