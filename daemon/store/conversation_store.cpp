#include "daemon/store/conversation_store.hpp"

#include <cstdio>

#include "daemon/core/text.hpp"
#include "daemon/store/inbound_codec.hpp"
#include "daemon/store/inbound_store.hpp"

namespace askdesk::store {

namespace {

constexpr std::size_t preview_bytes = 160;

}  // namespace

void conversation_store::apply_inbound(const core::inbound_message& m, const placement& where,
                                       handler<applied_message> done) {
  const std::string now = std::to_string(core::to_millis(clock_.now()));
  const std::string reopen = std::to_string(where.reopen_window.count());
  const std::string short_text = core::preview(m.text, preview_bytes);
  const std::string attachments = attachments_json(m.attachments);
  const std::string facts = facts_json(m.facts);
  const std::string references = references_json(m.references);
  const std::string reply_facts = m.reply_facts.empty() ? "" : facts_json(m.reply_facts);
  const std::string sent_at = std::to_string(core::to_millis(m.sent_at));
  const std::string received_at = std::to_string(core::to_millis(m.received_at));
  char confidence[16];
  std::snprintf(confidence, sizeof confidence, "%.3f", where.topic_confidence);
  const std::string_view args[] = {now,
                                   where.team,
                                   where.topic,
                                   reopen,
                                   m.connector,
                                   m.channel,
                                   m.external_id,
                                   m.thread,
                                   m.sender_address,
                                   m.sender_name,
                                   m.text,
                                   short_text,
                                   attachments,
                                   facts,
                                   sent_at,
                                   received_at,
                                   confidence,
                                   where.topic_source,
                                   where.topic_why,
                                   where.after_hours ? "1" : "",
                                   where.consent,
                                   references,
                                   reply_facts};
  run(redis_, scripts_, script::apply_inbound, args,
      [done = std::move(done),
       what = "applying message " + m.external_id + " from " + m.connector](reply r) {
        if (!r.is_array() || r.size() != 5) {
          done(redis_error(r, what));
          return;
        }
        applied_message a;
        const std::string& outcome = r[0].str();
        a.what = outcome == "created"     ? applied_message::outcome::created
                 : outcome == "continued" ? applied_message::outcome::continued
                 : outcome == "reopened"  ? applied_message::outcome::reopened
                                          : applied_message::outcome::duplicate;
        a.conversation = r[1].str();
        a.message = r[2].str();
        a.patron = r[3].str();
        a.team = r[4].str();
        done(std::move(a));
      });
}

void conversation_store::acknowledge(const std::string& id, const std::string& period,
                                     const std::string& text, handler<acknowledged> done) {
  const std::string now = std::to_string(core::to_millis(clock_.now()));
  const std::string short_text = core::preview(text, preview_bytes);
  const std::string_view args[] = {now, id, period, text, short_text};
  run(redis_, scripts_, script::acknowledge, args,
      [done = std::move(done), what = "acknowledging conversation " + id](reply r) {
        if (!r.is_array() || r.size() < 2) {
          done(redis_error(r, what));
          return;
        }
        acknowledged a;
        a.sent = r[0].str() == "sent";
        if (a.sent) {
          a.message = r[1].str();
        } else {
          a.skipped = r[1].str();
          if (r.size() > 2) a.why = r[2].str();
        }
        done(std::move(a));
      });
}

}  // namespace askdesk::store
