#include "daemon/store/conversation_store.hpp"

#include <cstdio>
#include <memory>

#include "daemon/core/report.hpp"
#include "daemon/core/text.hpp"
#include "daemon/store/calls.hpp"
#include "daemon/store/inbound_codec.hpp"
#include "daemon/store/inbound_store.hpp"
#include "daemon/store/keys.hpp"

namespace askdesk::store {

namespace {

constexpr std::size_t preview_bytes = 160;

}  // namespace

namespace {

// The conversation an "askdesk.<id>." reference names (our own email Message-IDs), or "".
std::string own_reference(std::string_view key) {
  constexpr std::string_view prefix = "askdesk.";
  if (!key.starts_with(prefix)) return "";
  const auto digits = key.substr(prefix.size());
  const auto end = digits.find_first_not_of("0123456789");
  if (end == 0 || end == std::string_view::npos || digits[end] != '.') return "";
  return std::string(digits.substr(0, end));
}

// One inbound message on its way into its conversation: what the daemon reads (phase A: the
// dedup record, the address's patron, the thread and the references; phase B: the
// candidates' state) decides the keys apply_inbound.lua declares and checks.
struct applying {
  redis_connection& redis;
  const script_set& scripts;
  core::inbound_message m;
  placement where;
  std::string now, short_text, attachments, facts, reply_facts, sent_at, received_at, confidence;
  std::optional<core::csat_answer> csat;  // the text read as a satisfaction score
  std::function<void(core::result<applied_message>)> done;
  std::string what;
  conversation_store::thread_guesses& guesses;
  std::string guess_key;  // connector, thread, channel, address
  bool guessed = false;   // this try went by the guess
  int tries = 0;

  struct candidate {
    std::string id, joined_by;
  };
};

void apply_once(std::shared_ptr<applying> a);

void finish(const std::shared_ptr<applying>& a, reply r) {
  if (r.is_array() && r.size() >= 1 && r[0].is_string() && r[0].str() == "stale" &&
      ++a->tries < 8) {
    if (a->guessed) a->guesses.erase(a->guess_key);  // the next try reads
    apply_once(a);
    return;
  }
  if (!r.is_array() || r.size() != 5) {
    a->done(redis_error(r, a->what));
    return;
  }
  applied_message out;
  const std::string& outcome = r[0].str();
  out.what = outcome == "created"    ? applied_message::outcome::created
             : outcome == "reopened" ? applied_message::outcome::reopened
             : outcome == "rated"    ? applied_message::outcome::rated
                                     : applied_message::outcome::continued;
  out.conversation = r[1].str();
  out.message = r[2].str();
  out.patron = r[3].str();
  out.team = r[4].str();
  if (!a->guess_key.empty()) {
    if (a->guesses.size() >= conversation_store::thread_guesses_kept) a->guesses.clear();
    a->guesses[a->guess_key] = {out.patron, out.conversation, out.team};
  }
  a->done(std::move(out));
}

void call_function(const std::shared_ptr<applying>& a, calls::apply_inbound in) {
  run(a->redis, a->scripts, calls::make(in), [a](reply r) { finish(a, std::move(r)); });
}

// The arguments every try shares; what was read or guessed comes on top.
calls::apply_inbound arguments(const applying& a) {
  const auto& m = a.m;
  return calls::apply_inbound{
      .now = a.now,
      .team = a.where.team,
      .topic = a.where.topic,
      .reopen_ms = std::to_string(a.where.reopen_window.count()),
      .connector = m.connector,
      .channel = m.channel,
      .external_id = m.external_id,
      .thread = m.thread,
      .sender = m.sender_address,
      .sender_name = m.sender_name,
      .text = m.text,
      .preview = a.short_text,
      .attachments = a.attachments,
      .facts = a.facts,
      .sent_at = a.sent_at,
      .received_at = a.received_at,
      .topic_confidence = a.confidence,
      .topic_source = a.where.topic_source,
      .topic_why = a.where.topic_why,
      .after_hours = a.where.after_hours ? "1" : "",
      .consent = a.where.consent,
      .reply_facts = a.reply_facts,
      .automated = a.where.automated ? "1" : "",
      .csat_score = a.csat ? std::to_string(a.csat->score) : "",
      .csat_comment = a.csat ? a.csat->comment : "",
  };
}

// The message continues the open conversation its thread went to last (as this daemon saw
// it): no reads, only a new id. The function answers 'stale' when the guess is wrong.
bool apply_guessed(const std::shared_ptr<applying>& a) {
  if (a->guess_key.empty()) return false;
  const auto it = a->guesses.find(a->guess_key);
  if (it == a->guesses.end()) return false;
  auto in = arguments(*a);
  in.patron = it->second.patron;
  in.thread_seen = it->second.conversation;
  in.candidates = {it->second.conversation};
  in.conversation = it->second.conversation;
  in.outcome = "continued";
  in.its_team = it->second.team;
  a->guessed = true;
  a->redis.command({"INCR", keys::seq("message")}, [a, in = std::move(in)](reply id) mutable {
    if (!id.is_integer()) {
      a->done(redis_error(id, a->what));
      return;
    }
    in.message = std::to_string(id.integer());
    call_function(a, std::move(in));
  });
  return true;
}

void apply_once(std::shared_ptr<applying> a) {
  if (a->tries == 0 && apply_guessed(a)) return;
  a->guessed = false;
  const auto& m = a->m;
  std::vector<std::vector<std::string>> reads = {
      {"HMGET", keys::dedup(m.connector, m.external_id), "conversation", "message"},
      {"GET", keys::address(m.channel, m.sender_address)},
      {"GET", keys::thread(m.connector, m.thread)}};
  std::vector<std::size_t> ref_at;  // the read of each reference's thread, or none
  for (const auto& ref : m.references) {
    if (own_reference(ref.key).empty()) {
      ref_at.push_back(reads.size());
      reads.push_back({"GET", keys::thread(m.connector, ref.key)});
    } else {
      ref_at.push_back(0);
    }
  }
  pipeline(a->redis, std::move(reads), [a, ref_at](std::vector<reply> r) {
    for (const auto& one : r) {
      if (one.failed()) {
        a->done(redis_error(one, a->what));
        return;
      }
    }
    const auto& m = a->m;
    if (r[0].size() == 2 && r[0][1].is_string()) {  // applied before: what it became
      const std::string conversation = text_of(r[0][0]), message = r[0][1].str();
      a->redis.command({"HMGET", keys::conversation(conversation), "patron", "team"},
                       [a, conversation, message](reply c) {
                         if (c.failed()) {
                           a->done(redis_error(c, a->what));
                           return;
                         }
                         applied_message out;
                         out.what = applied_message::outcome::duplicate;
                         out.conversation = conversation;
                         out.message = message;
                         out.patron = c.size() == 2 ? text_of(c[0]) : "";
                         out.team = c.size() == 2 ? text_of(c[1]) : "";
                         a->done(std::move(out));
                       });
      return;
    }
    auto in = arguments(*a);
    in.patron = text_of(r[1]);
    in.new_patron = in.patron.empty();
    in.thread_seen = text_of(r[2]);
    // The candidates in order: what the references name, then the thread.
    std::vector<applying::candidate> candidates;
    for (std::size_t i = 0; i < m.references.size(); ++i) {
      const auto& ref = m.references[i];
      std::string id = ref_at[i] ? text_of(r[ref_at[i]]) : own_reference(ref.key);
      if (!id.empty()) candidates.push_back({id, ref.header + " <" + ref.key + ">"});
    }
    if (!in.thread_seen.empty()) candidates.push_back({in.thread_seen, ""});
    for (const auto& c : candidates) in.candidates.push_back(c.id);

    std::vector<std::vector<std::string>> more;
    for (const auto& c : candidates) {
      more.push_back({"HMGET", keys::conversation(c.id), "status", "closed_at", "patron",
                      "connector", "team", "csat_asked_at", "csat"});
    }
    more.push_back({"INCR", keys::seq("message")});  // not for a duplicate
    const std::size_t message_at = more.size() - 1;
    const std::size_t new_patron_at = more.size();
    if (in.new_patron) more.push_back({"INCR", keys::seq("patron")});
    const std::size_t new_conversation_at = more.size();
    if (candidates.empty()) more.push_back({"INCR", keys::seq("conversation")});
    pipeline(
        a->redis, std::move(more),
        [a, in = std::move(in), candidates, message_at, new_patron_at,
         new_conversation_at](std::vector<reply> b) mutable {
          for (const auto& one : b) {
            if (one.failed()) {
              a->done(redis_error(one, a->what));
              return;
            }
          }
          in.message = std::to_string(b[message_at].integer());
          if (in.new_patron) in.patron = std::to_string(b[new_patron_at].integer());
          // The first candidate that is this patron's on this connector, open or closed
          // within the reopen window, or closed and asking for a satisfaction score this
          // message gives (apply_inbound.lua checks the same).
          const auto now = std::stoll(a->now);
          const auto window = a->where.reopen_window.count();
          for (std::size_t i = 0; i < candidates.size() && in.outcome.empty(); ++i) {
            const reply& c = b[i];
            if (c.size() != 7 || text_of(c[2]) != in.patron || text_of(c[3]) != a->m.connector) {
              continue;
            }
            const std::string status = text_of(c[0]);
            std::int64_t closed_at = 0;
            if (const auto v = c[1].as_integer()) closed_at = *v;
            if (status == "closed" && a->csat && !text_of(c[5]).empty() && text_of(c[6]).empty()) {
              in.outcome = "rated";  // the answer to its satisfaction question
            } else if (status != "closed") {
              in.outcome = "continued";
            } else if (window > 0 && now - closed_at <= window) {
              in.outcome = "reopened";
            } else {
              continue;
            }
            in.conversation = candidates[i].id;
            in.joined_by = candidates[i].joined_by;
            in.its_team = text_of(c[4]);
          }
          if (!in.outcome.empty()) {
            call_function(a, std::move(in));
            return;
          }
          in.outcome = "created";
          if (candidates.empty()) {
            in.conversation = std::to_string(b[new_conversation_at].integer());
            call_function(a, std::move(in));
            return;
          }
          a->redis.command({"INCR", keys::seq("conversation")},
                           [a, in = std::move(in)](reply id) mutable {
                             if (!id.is_integer()) {
                               a->done(redis_error(id, a->what));
                               return;
                             }
                             in.conversation = std::to_string(id.integer());
                             call_function(a, std::move(in));
                           });
        });
  });
}

}  // namespace

void conversation_store::apply_inbound(const core::inbound_message& m, const placement& where,
                                       handler<applied_message> done) {
  char confidence[16];
  std::snprintf(confidence, sizeof confidence, "%.3f", where.topic_confidence);
  auto a = std::make_shared<applying>(applying{
      .redis = redis_,
      .scripts = scripts_,
      .m = m,
      .where = where,
      .now = std::to_string(core::to_millis(clock_.now())),
      .short_text = core::preview(m.text, preview_bytes),
      .attachments = attachments_json(m.attachments),
      .facts = facts_json(m.facts),
      .reply_facts = m.reply_facts.empty() ? "" : facts_json(m.reply_facts),
      .sent_at = std::to_string(core::to_millis(m.sent_at)),
      .received_at = std::to_string(core::to_millis(m.received_at)),
      .confidence = confidence,
      .csat = core::csat_answer_of(m.text),
      .done = std::move(done),
      .what = "applying message " + m.external_id + " from " + m.connector,
      .guesses = guesses_,
      // A message with references (email) may join another conversation than its thread's.
      .guess_key = m.references.empty()
                       ? m.connector + '\n' + m.thread + '\n' + m.channel + '\n' + m.sender_address
                       : "",
  });
  apply_once(std::move(a));
}

void conversation_store::acknowledge(const std::string& id, const std::string& period,
                                     const std::string& text, handler<acknowledged> done) {
  const std::string now = std::to_string(core::to_millis(clock_.now()));
  const std::string short_text = core::preview(text, preview_bytes);
  const bool busy = period.starts_with("busy:");
  std::vector<std::vector<std::string>> extra = {{"INCR", keys::seq("message")}};
  if (busy) extra.push_back({"SMEMBERS", std::string(keys::users)});
  run_on_conversation(
      redis_, scripts_, id, std::move(extra),
      [now, period, text, short_text](const conversation_state& s, const std::vector<reply>& r) {
        calls::acknowledge in{.now = now,
                              .state = s,
                              .period = period,
                              .text = text,
                              .preview = short_text,
                              .message = std::to_string(r[0].integer()),
                              .users = {}};
        if (r.size() > 1) {
          for (const auto& u : r[1].elements()) in.users.push_back(u.str());
        }
        return calls::make(in);
      },
      [done = std::move(done), what = "acknowledging conversation " + id](reply r) {
        if (r.is_array() && r.size() == 2 && r[0].str() == "not_found") {
          done(acknowledged{.sent = false, .message = {}, .skipped = "gone", .why = r[1].str()});
          return;
        }
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
