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
                                   where.topic_why};
  run(redis_, scripts_, script::apply_inbound, args,
      [done = std::move(done),
       what = "applying message " + m.external_id + " from " + m.connector](reply r) {
        if (!r.is_array() || r.size() != 4) {
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
        done(std::move(a));
      });
}

}  // namespace askdesk::store
