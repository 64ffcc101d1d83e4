#include "daemon/store/privacy.hpp"

#include <algorithm>
#include <charconv>
#include <memory>
#include <set>
#include <sstream>

#include "daemon/json/document.hpp"
#include "daemon/json/writer.hpp"
#include "daemon/store/calls.hpp"
#include "daemon/store/inbound_store.hpp"
#include "daemon/store/keys.hpp"
#include "daemon/store/reads.hpp"

namespace askdesk::store::privacy {

namespace {

constexpr std::size_t page = 1000;  // entries, ids or conversations read at a time
constexpr std::size_t calls_at_once = 200;

std::string field(const reply& hmget, std::size_t i) {
  return i < hmget.size() ? text_of(hmget[i]) : std::string();
}

// The catalogue's name for the family of `key`.
std::string family(const std::string& key) {
  const auto* f = family_of(key);
  return f ? std::string(f->pattern) : key;
}

bool terminal(std::string_view status) {
  return status == "closed" || status == "dismissed" || status == "abuse";
}

// The millisecond part of a stream entry id.
std::int64_t entry_ms(std::string_view id) { return number(id.substr(0, id.find('-'))); }

struct conversation_to_redact {
  std::string id, connector, thread;
};

struct patron_to_redact {
  std::string id;
  std::vector<std::string> addresses;  // "channel:address"
  std::vector<std::string> linked;     // patrons linked to them
};

// The streams rebuilt without patron text, and how an entry is judged.
enum class rule { redacted_conversation, old_or_erased_sender };
struct stream_rule {
  std::string_view key;
  rule how;
};
constexpr stream_rule rebuilt_streams[] = {
    {keys::events, rule::redacted_conversation},
    {keys::topic_examples, rule::redacted_conversation},
    {keys::inbound_dead, rule::old_or_erased_sender},
};

class job : public std::enable_shared_from_this<job> {
 public:
  job(redis_connection& redis, const script_set& scripts, std::int64_t now, retention policy,
      bool dry_run, report_handler done)
      : redis_(redis),
        scripts_(scripts),
        now_(now),
        policy_(std::move(policy)),
        done_(std::move(done)) {
    report_.dry_run = dry_run;
  }

  void purge() { scan_conversations(0); }

  void erase(std::string patron) {
    erasing_ = std::move(patron);
    auto self = shared_from_this();
    pipeline(
        redis_,
        {{"EXISTS", keys::patron(erasing_)},
         {"ZRANGE", keys::patron_conversations(erasing_), "0", "-1"}},
        [self](std::vector<reply> r) {
          if (const auto* bad = first_failure(r)) return self->fail(*bad, "reading the patron");
          if (r[0].integer() == 0) {
            return self->finish(core::error{"not_found", "no patron " + self->erasing_});
          }
          std::vector<std::string> ids;
          for (const auto& id : r[1].elements()) ids.push_back(id.str());
          self->judge_conversations(ids, [self, ids] {
            if (self->open_ > 0) {
              return self->finish(core::error{
                  "conflict", "patron " + self->erasing_ + " has " + std::to_string(self->open_) +
                                  " open conversation(s): close them first"});
            }
            self->check_sending(std::set<std::string>(ids.begin(), ids.end()));
          });
        });
  }

 private:
  // A message to the patron still on its way (the satisfaction question sent on closing, say)
  // would be copied into the files Redis rewrites: the erasure waits for it (409).
  void check_sending(std::set<std::string> conversations) {
    std::vector<std::vector<std::string>> reads;
    for (const auto& c : policy_.connectors) {
      reads.push_back({"XRANGE", keys::outbound(c), "-", "+"});
    }
    auto self = shared_from_this();
    pipeline(redis_, std::move(reads), [self, conversations](std::vector<reply> r) {
      if (const auto* bad = first_failure(r)) return self->fail(*bad, "reading the outbound lanes");
      for (const auto& lane : r) {
        for (const auto& e : lane.elements()) {
          const reply& fields = e[1];
          for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
            if (fields[i].str() == "conversation" && conversations.contains(fields[i + 1].str())) {
              return self->finish(
                  core::error{"conflict", "a message to patron " + self->erasing_ +
                                              " is still being sent: try again in a moment"});
            }
          }
        }
      }
      self->redact_conversations(0);
    });
  }

  // ---- conversations ---------------------------------------------------------------------

  // The conversations updated before the shortest transcript window, a page at a time.
  void scan_conversations(std::size_t offset) {
    const std::int64_t before = now_ - policy_.shortest_transcript_ms();
    auto self = shared_from_this();
    pipeline(redis_,
             {{"ZRANGEBYSCORE", std::string(keys::conversations), "-inf", std::to_string(before),
               "LIMIT", std::to_string(offset), std::to_string(page)}},
             [self, offset](std::vector<reply> r) {
               if (const auto* bad = first_failure(r))
                 return self->fail(*bad, "listing conversations");
               std::vector<std::string> ids;
               for (const auto& id : r[0].elements()) ids.push_back(id.str());
               const bool more = ids.size() == page;
               self->judge_conversations(std::move(ids), [self, offset, more] {
                 if (more) return self->scan_conversations(offset + page);
                 self->redact_conversations(0);
               });
             });
  }

  // Reads `ids`' state; those past their window (or all of them, erasing) are to be redacted.
  void judge_conversations(std::vector<std::string> ids, std::function<void()> then) {
    std::vector<std::vector<std::string>> reads;
    for (const auto& id : ids) {
      reads.push_back({"HMGET", keys::conversation(id), "status", "closed_at", "updated_at",
                       "channel", "connector", "thread", "redacted_at"});
    }
    auto self = shared_from_this();
    pipeline(redis_, std::move(reads),
             [self, ids = std::move(ids), then = std::move(then)](std::vector<reply> r) {
               if (const auto* bad = first_failure(r))
                 return self->fail(*bad, "reading conversations");
               for (std::size_t i = 0; i < ids.size(); ++i) {
                 const reply& c = r[i];
                 const std::string status = field(c, 0);
                 if (status.empty() || !field(c, 6).empty()) continue;  // gone, or done
                 if (!terminal(status)) {
                   ++self->open_;
                   continue;
                 }
                 if (self->erasing_.empty()) {
                   const std::string closed = field(c, 1);
                   const std::int64_t at = number(closed.empty() ? field(c, 2) : closed);
                   if (self->now_ - at < self->policy_.transcript_ms_of(field(c, 3))) continue;
                 }
                 self->conversations_.push_back({ids[i], field(c, 4), field(c, 5)});
               }
               then();
             });
  }

  void redact_conversations(std::size_t from) {
    if (from >= conversations_.size()) return next_patrons();
    const std::size_t to = std::min(conversations_.size(), from + calls_at_once);
    std::vector<std::vector<std::string>> lists;
    for (std::size_t i = from; i < to; ++i) {
      lists.push_back({"LRANGE", keys::conversation_messages(conversations_[i].id), "0", "-1"});
    }
    auto self = shared_from_this();
    pipeline(redis_, std::move(lists), [self, from, to](std::vector<reply> r) {
      if (const auto* bad = first_failure(r)) return self->fail(*bad, "reading messages");
      // Each message's channel ids, whose keys go with it.
      std::vector<calls::redact_conversation> ins;
      std::vector<std::vector<std::string>> ids;
      for (std::size_t i = from; i < to; ++i) {
        const auto& c = self->conversations_[i];
        calls::redact_conversation in{.id = c.id,
                                      .now = std::to_string(self->now_),
                                      .connector = c.connector,
                                      .thread = c.thread,
                                      .messages = {},
                                      .external_ids = {},
                                      .provider_ids = {}};
        for (const auto& m : r[i - from].elements()) {
          in.messages.push_back(m.str());
          ids.push_back(
              {"HMGET", keys::message(c.id, m.str()), "connector", "external_id", "provider_id"});
        }
        ins.push_back(std::move(in));
      }
      pipeline(self->redis_, std::move(ids),
               [self, to, ins = std::move(ins)](std::vector<reply> m) mutable {
                 if (const auto* bad = first_failure(m))
                   return self->fail(*bad, "reading messages");
                 std::size_t at = 0;
                 for (auto& in : ins) {
                   for (std::size_t k = 0; k < in.messages.size(); ++k, ++at) {
                     const std::string connector = field(m[at], 0);
                     if (!field(m[at], 1).empty())
                       in.external_ids.emplace_back(connector, field(m[at], 1));
                     if (!field(m[at], 2).empty())
                       in.provider_ids.emplace_back(connector, field(m[at], 2));
                   }
                 }
                 auto left = std::make_shared<std::size_t>(ins.size());
                 const auto one_done = [self, left, to] {
                   if (--*left == 0) self->redact_conversations(to);
                 };
                 for (auto& in : ins) self->redact_one(std::move(in), one_done);
               });
    });
  }

  void redact_one(calls::redact_conversation in, const std::function<void()>& one_done) {
    const auto counted = [this, in] {
      ++report_.conversations;
      redacted_.insert(in.id);
      add(family(keys::conversation(in.id)), 1);
      if (!in.messages.empty()) {
        add(family(keys::message(in.id, in.messages.front())),
            static_cast<std::int64_t>(in.messages.size()));
      }
      if (!in.thread.empty()) add(family(keys::thread(in.connector, in.thread)), 1);
      for (const auto& [connector, id] : in.external_ids)
        add(family(keys::dedup(connector, id)), 1);
      for (const auto& [connector, id] : in.provider_ids) {
        add(family(keys::provider(connector, id)), 1);
      }
    };
    if (report_.dry_run) {
      counted();
      one_done();
      return;
    }
    auto self = shared_from_this();
    run(redis_, scripts_, calls::make(in), [self, counted, one_done](reply r) {
      if (r.failed()) return self->fail(r, "redacting a conversation");
      if (r.is_integer()) counted();  // else stale: the next purge sees it again
      one_done();
    });
  }

  // ---- patrons ---------------------------------------------------------------------------

  void next_patrons() {
    if (!erasing_.empty()) return read_patrons({erasing_});
    auto self = shared_from_this();
    redis_.command({"GET", keys::seq("patron")}, [self](reply r) {
      if (r.failed()) return self->fail(r, "reading the patron counter");
      self->scan_patrons(1, number(text_of(r)));
    });
  }

  // Patrons `next`..`last`, a page at a time: those silent past the shortest window.
  void scan_patrons(std::int64_t next, std::int64_t last) {
    if (next > last) return redact_patrons(0);
    std::vector<std::string> ids;
    std::vector<std::vector<std::string>> reads;
    for (std::int64_t id = next; id <= last && ids.size() < page; ++id) {
      ids.push_back(std::to_string(id));
      reads.push_back({"HMGET", keys::patron(ids.back()), "updated_at", "redacted_at"});
    }
    std::int64_t shortest = policy_.identifier_ms;
    for (const auto& [channel, ms] : policy_.identifier_ms_by_channel) {
      shortest = std::min(shortest, ms);
    }
    auto self = shared_from_this();
    pipeline(redis_, std::move(reads), [self, ids, next, last, shortest](std::vector<reply> r) {
      if (const auto* bad = first_failure(r)) return self->fail(*bad, "reading patrons");
      std::vector<std::string> silent;
      for (std::size_t i = 0; i < ids.size(); ++i) {
        const std::string updated = field(r[i], 0);
        if (updated.empty() || !field(r[i], 1).empty()) continue;
        if (self->now_ - number(updated) >= shortest) silent.push_back(ids[i]);
      }
      const std::int64_t after = next + static_cast<std::int64_t>(ids.size());
      self->read_patrons(std::move(silent),
                         [self, after, last] { self->scan_patrons(after, last); });
    });
  }

  // Reads `ids`' addresses and conversations; a patron with none open, silent past the
  // longest window of their channels (or being erased), is to be redacted.
  void read_patrons(std::vector<std::string> ids, std::function<void()> then = {}) {
    if (ids.empty()) {
      if (then) return then();
      return redact_patrons(0);
    }
    std::vector<std::vector<std::string>> reads;
    for (const auto& id : ids) {
      reads.push_back({"HGET", keys::patron(id), "updated_at"});
      reads.push_back({"HKEYS", keys::patron_addresses(id)});
      reads.push_back({"ZRANGE", keys::patron_conversations(id), "0", "-1"});
      reads.push_back({"HKEYS", keys::patron_links(id)});
    }
    auto self = shared_from_this();
    pipeline(
        redis_, std::move(reads),
        [self, ids, then = std::move(then)](std::vector<reply> r) mutable {
          if (const auto* bad = first_failure(r)) return self->fail(*bad, "reading patrons");
          std::vector<std::vector<std::string>> statuses;
          std::vector<std::size_t> counts;
          for (std::size_t i = 0; i < ids.size(); ++i) {
            counts.push_back(r[i * 4 + 2].size());
            for (const auto& c : r[i * 4 + 2].elements()) {
              statuses.push_back({"HGET", keys::conversation(c.str()), "status"});
            }
          }
          pipeline(
              self->redis_, std::move(statuses),
              [self, ids, r = std::move(r), counts, then = std::move(then)](std::vector<reply> s) {
                if (const auto* bad = first_failure(s)) {
                  return self->fail(*bad, "reading patrons' conversations");
                }
                std::size_t at = 0;
                for (std::size_t i = 0; i < ids.size(); ++i) {
                  bool open = false;
                  for (std::size_t k = 0; k < counts[i]; ++k) {
                    const std::string status = text_of(s[at++]);
                    if (!status.empty() && !terminal(status)) open = true;
                  }
                  // The longest window of the channels they wrote on.
                  std::vector<std::string> addresses;
                  std::int64_t window = 0;
                  for (const auto& a : r[i * 4 + 1].elements()) {
                    addresses.push_back(a.str());
                    const std::string channel = a.str().substr(0, a.str().find(':'));
                    window = std::max(window, self->policy_.identifier_ms_of(channel));
                  }
                  if (addresses.empty()) window = self->policy_.identifier_ms;
                  const bool due = self->now_ - number(text_of(r[i * 4])) >= window;
                  if (open || (self->erasing_.empty() && !due)) continue;
                  std::vector<std::string> linked;
                  for (const auto& l : r[i * 4 + 3].elements()) linked.push_back(l.str());
                  self->patrons_.push_back({ids[i], std::move(addresses), std::move(linked)});
                }
                if (then) return then();
                self->redact_patrons(0);
              });
        });
  }

  void redact_patrons(std::size_t from) {
    if (from >= patrons_.size()) return rebuild_stream(0);
    const std::size_t to = std::min(patrons_.size(), from + calls_at_once);
    auto left = std::make_shared<std::size_t>(to - from);
    auto self = shared_from_this();
    const auto one_done = [self, left, to] {
      if (--*left == 0) self->redact_patrons(to);
    };
    for (std::size_t i = from; i < to; ++i) {
      const auto& p = patrons_[i];
      const auto counted = [this, p] {
        ++report_.patrons;
        add(family(keys::patron(p.id)), 1);
        if (!p.addresses.empty()) {
          add(family(keys::patron_addresses(p.id)), 1);
          const std::string& a = p.addresses.front();
          const auto colon = a.find(':');
          add(family(keys::address(a.substr(0, colon), a.substr(colon + 1))),
              static_cast<std::int64_t>(p.addresses.size()));
        }
        for (const auto& a : p.addresses) erased_addresses_.insert(a);
      };
      if (report_.dry_run) {
        counted();
        one_done();
        continue;
      }
      calls::redact_patron in{.id = p.id,
                              .now = std::to_string(now_),
                              .addresses = p.addresses,
                              .records = {},
                              .linked = p.linked};
      for (const auto& a : p.addresses) {
        const auto colon = a.find(':');
        for (const auto& [channel, prefix] : policy_.address_records) {
          if (a.compare(0, colon, channel) == 0) in.records.push_back(prefix + a.substr(colon + 1));
        }
      }
      run(redis_, scripts_, calls::make(in), [self, counted, one_done](reply r) {
        if (r.failed()) return self->fail(r, "redacting a patron");
        if (r.is_integer()) counted();
        one_done();
      });
    }
  }

  // ---- streams ---------------------------------------------------------------------------

  // Pass 1 over stream `which`: which entries hold text that must go.
  // The streams that copy conversations only after redacting some: reading a busy events
  // stream costs, and it holds nothing of conversations redacted before (a purge that failed
  // half-way is mended by the next one that redacts). inbound:dead ages on its own.
  void rebuild_stream(std::size_t which) {
    if (which >= std::size(rebuilt_streams)) return dead_letters(0);
    if (rebuilt_streams[which].how == rule::redacted_conversation && redacted_.empty() &&
        report_.patrons == 0) {
      return rebuild_stream(which + 1);
    }
    scanned_.clear();
    drop_.clear();
    scan_stream(which, "-");
  }

  void scan_stream(std::size_t which, std::string from) {
    const auto& s = rebuilt_streams[which];
    auto self = shared_from_this();
    pipeline(redis_, {{"XRANGE", std::string(s.key), from, "+", "COUNT", std::to_string(page)}},
             [self, which](std::vector<reply> r) {
               if (const auto* bad = first_failure(r)) return self->fail(*bad, "reading a stream");
               const auto& entries = r[0].elements();
               for (const auto& e : entries) self->judge_entry(which, e);
               if (entries.size() == page) {
                 return self->scan_stream(which, "(" + entries.back()[0].str());
               }
               self->check_scanned(which);
             });
  }

  void judge_entry(std::size_t which, const reply& e) {
    if (e.size() < 2) return;
    const std::string id = e[0].str();
    const auto value = [&e](std::string_view name) {
      const reply& fields = e[1];
      for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
        if (fields[i].str() == name) return fields[i + 1].str();
      }
      return std::string();
    };
    if (rebuilt_streams[which].how == rule::redacted_conversation) {
      const std::string conversation = value("conversation");
      if (!conversation.empty()) scanned_.emplace_back(id, conversation);
      return;
    }
    const bool old = now_ - entry_ms(id) >= policy_.shortest_transcript_ms();
    const bool erased = erased_addresses_.contains(value("channel") + ":" + value("from"));
    if (old || erased) drop_.insert(id);
  }

  // Entries of a redacted conversation (this time or before) go.
  void check_scanned(std::size_t which) {
    std::set<std::string> conversations;
    for (const auto& [id, conversation] : scanned_) conversations.insert(conversation);
    std::vector<std::string> ids(conversations.begin(), conversations.end());
    std::vector<std::vector<std::string>> checks;
    for (const auto& id : ids) checks.push_back({"HEXISTS", keys::conversation(id), "redacted_at"});
    auto self = shared_from_this();
    pipeline(redis_, std::move(checks), [self, which, ids](std::vector<reply> r) {
      if (const auto* bad = first_failure(r)) return self->fail(*bad, "reading conversations");
      std::set<std::string> gone =
          self->report_.dry_run ? self->redacted_ : std::set<std::string>{};
      for (std::size_t i = 0; i < ids.size(); ++i) {
        if (r[i].integer() == 1) gone.insert(ids[i]);
      }
      for (const auto& [entry, conversation] : self->scanned_) {
        if (gone.contains(conversation)) self->drop_.insert(entry);
      }
      if (self->drop_.empty()) return self->rebuild_stream(which + 1);
      self->add(family(std::string(rebuilt_streams[which].key)),
                static_cast<std::int64_t>(self->drop_.size()));
      if (self->report_.dry_run) return self->rebuild_stream(which + 1);
      const std::string copy = keys::stream_copy(rebuilt_streams[which].key);
      self->redis_.command({"DEL", copy}, [self, which](reply d) {
        if (d.failed()) return self->fail(d, "clearing a stream's copy");
        self->copy_stream(which, "-", "0-0");
      });
    });
  }

  // Pass 2: the kept entries into the copy, a page at a time, then the swap.
  void copy_stream(std::size_t which, std::string from, std::string last) {
    const std::string stream(rebuilt_streams[which].key);
    auto self = shared_from_this();
    pipeline(redis_, {{"XRANGE", stream, from, "+", "COUNT", std::to_string(page)}},
             [self, which, stream, last](std::vector<reply> r) {
               if (const auto* bad = first_failure(r)) return self->fail(*bad, "copying a stream");
               const auto& entries = r[0].elements();
               const std::string copy = keys::stream_copy(stream);
               std::vector<std::vector<std::string>> adds;
               std::string seen = last;
               for (const auto& e : entries) {
                 seen = e[0].str();
                 if (self->drop_.contains(seen)) continue;
                 std::vector<std::string> add = {"XADD", copy, seen};
                 for (const auto& f : e[1].elements()) add.push_back(f.str());
                 adds.push_back(std::move(add));
               }
               const bool more = entries.size() == page;
               pipeline(self->redis_, std::move(adds),
                        [self, which, stream, copy, seen, more](std::vector<reply> a) {
                          if (const auto* bad = first_failure(a))
                            return self->fail(*bad, "copying a stream");
                          if (more) return self->copy_stream(which, "(" + seen, seen);
                          calls::swap_stream in{.stream = stream, .copy = copy, .after = seen};
                          run(self->redis_, self->scripts_, calls::make(in),
                              [self, which](reply s) {
                                if (s.failed()) return self->fail(s, "swapping a stream");
                                self->rebuild_stream(which + 1);
                              });
                        });
             });
  }

  // ---- dead letters ----------------------------------------------------------------------

  void dead_letters(std::size_t which) {
    if (which >= policy_.connectors.size()) return compact(0);
    const std::string key = keys::outbound_dead(policy_.connectors[which]);
    auto self = shared_from_this();
    redis_.command({"LRANGE", key, "0", "-1"}, [self, which, key](reply r) {
      if (r.failed()) return self->fail(r, "reading dead letters");
      std::vector<std::pair<std::string, std::string>> letters;  // letter, conversation
      for (const auto& l : r.elements()) {
        auto doc = json::document::parse(l.str());
        if (!doc || !doc->root().IsObject()) continue;
        const auto& root = doc->root();
        const auto entry = root.FindMember("entry");
        if (entry == root.MemberEnd() || !entry->value.IsObject()) continue;
        const auto c = entry->value.FindMember("conversation");
        if (c == entry->value.MemberEnd() || !c->value.IsString()) continue;
        letters.emplace_back(l.str(), c->value.GetString());
      }
      std::vector<std::vector<std::string>> checks;
      for (const auto& [letter, c] : letters) {
        checks.push_back({"HEXISTS", keys::conversation(c), "redacted_at"});
      }
      pipeline(self->redis_, std::move(checks), [self, which, key, letters](std::vector<reply> h) {
        if (const auto* bad = first_failure(h)) return self->fail(*bad, "reading dead letters");
        std::vector<std::vector<std::string>> removals;
        for (std::size_t i = 0; i < letters.size(); ++i) {
          const bool gone = h[i].integer() == 1 ||
                            (self->report_.dry_run && self->redacted_.contains(letters[i].second));
          if (gone) removals.push_back({"LREM", key, "0", letters[i].first});
        }
        if (!removals.empty()) {
          self->add(family(key), static_cast<std::int64_t>(removals.size()));
        }
        if (self->report_.dry_run) removals.clear();
        pipeline(self->redis_, std::move(removals), [self, which](std::vector<reply> d) {
          if (const auto* bad = first_failure(d)) {
            return self->fail(*bad, "removing dead letters");
          }
          self->dead_letters(which + 1);
        });
      });
    });
  }

  // ---- the streams read by consumer groups -----------------------------------------------

  // inbound, then each outbound lane: an idle one frees the node its last entries left.
  void compact(std::size_t which) {
    if (report_.dry_run || which > policy_.connectors.size()) return files();
    const std::string stream =
        which == 0 ? std::string(keys::inbound) : keys::outbound(policy_.connectors[which - 1]);
    auto self = shared_from_this();
    run(redis_, scripts_, calls::make(calls::compact_stream{.stream = stream}),
        [self, which](reply r) {
          if (r.failed()) return self->fail(r, "compacting a stream");
          self->compact(which + 1);
        });
  }

  // ---- the files -------------------------------------------------------------------------

  // Redis rewrites its append-only file (and saves a new RDB file where it saves one), so
  // that what was removed leaves the disk too. A Redis that refuses CONFIG (a managed one)
  // is noted: its provider's backups age out by their own policy.
  void files() {
    std::int64_t total = 0;
    for (const auto& [f, n] : report_.removed) total += n;
    if (report_.dry_run || total == 0 || !policy_.aof_rewrite) return finish(std::move(report_));
    auto self = shared_from_this();
    pipeline(redis_, {{"CONFIG", "GET", "appendonly"}, {"CONFIG", "GET", "save"}},
             [self](std::vector<reply> r) {
               if (first_failure(r)) {
                 self->report_.notes.push_back(
                     "Redis refused CONFIG GET: ask its administrator to rewrite its "
                     "append-only file and to let old backups age out");
                 return self->finish(std::move(self->report_));
               }
               std::vector<std::vector<std::string>> asks;
               if (field(r[0], 1) == "yes") asks.push_back({"BGREWRITEAOF"});
               if (!field(r[1], 1).empty()) asks.push_back({"BGSAVE", "SCHEDULE"});
               pipeline(self->redis_, asks, [self, asks](std::vector<reply> a) {
                 for (std::size_t i = 0; i < a.size(); ++i) {
                   const bool aof = asks[i][0] == "BGREWRITEAOF";
                   self->report_.notes.push_back(a[i].failed() ? "Redis refused " + asks[i][0] +
                                                                     ": " + a[i].str()
                                                 : aof ? "Redis is rewriting its append-only file"
                                                       : "Redis is saving a new RDB file");
                 }
                 self->finish(std::move(self->report_));
               });
             });
  }

  // ---- helpers ---------------------------------------------------------------------------

  void add(const std::string& family, std::int64_t n) { report_.removed[family] += n; }

  void fail(const reply& r, std::string_view doing) { finish(redis_error(r, doing)); }

  void finish(core::result<report> r) {
    if (!done_) return;
    auto done = std::move(done_);
    done_ = nullptr;
    done(std::move(r));
  }

  redis_connection& redis_;
  const script_set& scripts_;
  std::int64_t now_;
  retention policy_;
  report report_;
  report_handler done_;
  std::string erasing_;  // the patron being erased, or "" for a purge
  std::int64_t open_ = 0;
  std::vector<conversation_to_redact> conversations_;
  std::vector<patron_to_redact> patrons_;
  std::set<std::string> redacted_;          // conversations redacted (or, dry, to be)
  std::set<std::string> erased_addresses_;  // "channel:address" of redacted patrons
  std::vector<std::pair<std::string, std::string>> scanned_;  // entry id, conversation
  std::set<std::string> drop_;                                // entry ids
};

}  // namespace

namespace {

constexpr family_handling handled[] = {
    {"<stream*>:copy", "replaces its stream within the purge (swap_stream)"},
    {"inbound", "entries deleted once applied; freed when idle (compact_stream)"},
    {"inbound:dead",
     "rebuilt without entries past the shortest transcript window or from an "
     "erased patron's addresses"},
    {"events", "rebuilt without a redacted conversation's entries"},
    {"outbound:<connector>",
     "entries deleted once sent; freed when idle (compact_stream); an erasure waits for the "
     "patron's"},
    {"outbound:<connector>:dead", "a redacted conversation's letters removed"},
    {"outbound", "moved onto the lanes on start (older versions)"},
    {"outbound:retry", "moved onto the lanes on start (older versions)"},
    {"topic:examples", "rebuilt without a redacted conversation's examples"},
    {"dedup:<connector>:<external id*>", "removed with its conversation (redact_conversation)"},
    {"conversation:{c:<id>}", "its patron text and address removed (redact_conversation)"},
    {"message:{c:<conversation>}:<id>", "removed (redact_conversation)"},
    {"thread:<connector>:<thread*>", "removed (redact_conversation)"},
    {"provider:<connector>:<provider id>", "removed with its conversation (redact_conversation)"},
    {"provider:<connector>:<provider id>:early",
     "removed with its conversation (redact_conversation)"},
    {"patron:<id>", "name and contact fields removed; the id stays (redact_patron)"},
    {"patron:<id>:addresses", "removed (redact_patron)"},
    {"patron:<id>:links", "removed on both sides (redact_patron)"},
    {"address:<channel>:<address*>", "removed (redact_patron)"},
    {"optout:<channel>:<address*>", "removed (redact_patron)"},
    {"transcripts:to:<address*>", "removed (redact_patron)"},
    {"<type>:<connector>:<name*>",
     "the records a connector keeps per address (its factory's address_records) removed "
     "(redact_patron); its cursors and sessions name no patron, or only for a short time"},
};

}  // namespace

std::span<const family_handling> handling() { return handled; }

std::int64_t retention::transcript_ms_of(const std::string& channel) const {
  const auto it = transcript_ms_by_channel.find(channel);
  return it == transcript_ms_by_channel.end() ? transcript_ms : it->second;
}

std::int64_t retention::identifier_ms_of(const std::string& channel) const {
  const auto it = identifier_ms_by_channel.find(channel);
  return it == identifier_ms_by_channel.end() ? identifier_ms : it->second;
}

std::int64_t retention::shortest_transcript_ms() const {
  std::int64_t shortest = transcript_ms;
  for (const auto& [channel, ms] : transcript_ms_by_channel) shortest = std::min(shortest, ms);
  return shortest;
}

std::string report::text() const {
  std::ostringstream out;
  out << (dry_run ? "would redact " : "redacted ") << conversations << " conversation(s) and "
      << patrons << " patron(s)\n";
  for (const auto& [family, n] : removed) {
    out << "  " << family << ": " << n << (dry_run ? " would go\n" : " removed\n");
  }
  for (const auto& note : notes) out << note << "\n";
  return out.str();
}

std::string report::json() const {
  json::writer w;
  w.start_object()
      .field("dry_run", dry_run)
      .field("conversations", conversations)
      .field("patrons", patrons)
      .key("removed")
      .start_object();
  for (const auto& [family, n] : removed) w.field(family, n);
  w.end_object().key("notes").start_array();
  for (const auto& note : notes) w.string(note);
  w.end_array().end_object();
  return w.str();
}

void purge(redis_connection& redis, const script_set& scripts, std::int64_t now_ms,
           retention policy, bool dry_run, report_handler done) {
  std::make_shared<job>(redis, scripts, now_ms, std::move(policy), dry_run, std::move(done))
      ->purge();
}

void erase(redis_connection& redis, const script_set& scripts, std::int64_t now_ms, std::string id,
           retention policy, report_handler done) {
  std::make_shared<job>(redis, scripts, now_ms, std::move(policy), false, std::move(done))
      ->erase(std::move(id));
}

void export_patron(redis_connection& redis, std::string id,
                   std::function<void(core::result<std::string>)> done) {
  reads::patron(redis, id, [&redis, id, done = std::move(done)](core::result<std::string> p) {
    if (!p) {
      done(p.err());
      return;
    }
    redis.command(
        {"ZRANGE", keys::patron_conversations(id), "0", "-1"},
        [&redis, patron = std::move(p.value()), done](reply r) {
          if (r.failed()) {
            done(redis_error(r, "listing the patron's conversations"));
            return;
          }
          struct gathering {
            std::string patron;
            std::vector<std::string> ids, conversations, facts;
            std::size_t left = 0;
            bool failed = false;
            std::function<void(core::result<std::string>)> done;
          };
          auto g = std::make_shared<gathering>();
          g->patron = patron;
          g->done = done;
          for (const auto& c : r.elements()) g->ids.push_back(c.str());
          g->conversations.resize(g->ids.size());
          g->facts.resize(g->ids.size());
          const auto write = [](const std::shared_ptr<gathering>& g) {
            std::string out = "{\"patron\":" + g->patron + ",\"conversations\":[";
            for (std::size_t i = 0; i < g->ids.size(); ++i) {
              if (i > 0) out += ",";
              out += "{\"conversation\":" + g->conversations[i] + ",\"facts\":" + g->facts[i] + "}";
            }
            g->done(out + "]}");
          };
          if (g->ids.empty()) return write(g);
          g->left = g->ids.size() * 2;
          for (std::size_t i = 0; i < g->ids.size(); ++i) {
            const auto one = [g, write] {
              if (--g->left == 0 && !g->failed) write(g);
            };
            reads::conversation(redis, g->ids[i], "*", [g, i, one](core::result<std::string> c) {
              if (!c && !g->failed) {
                g->failed = true;
                g->done(c.err());
              }
              if (c) g->conversations[i] = std::move(c.value());
              one();
            });
            redis.command({"HGETALL", keys::facts(g->ids[i])}, [g, i, one](reply f) {
              json::writer w;
              w.start_object();
              for (std::size_t k = 0; k + 1 < f.size(); k += 2) w.field(f[k].str(), f[k + 1].str());
              w.end_object();
              g->facts[i] = w.str();
              one();
            });
          }
        });
  });
}

}  // namespace askdesk::store::privacy
