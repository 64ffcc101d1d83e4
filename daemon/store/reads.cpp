#include "daemon/store/reads.hpp"

#include <algorithm>
#include <charconv>
#include <memory>

#include "daemon/core/message.hpp"
#include "daemon/json/writer.hpp"
#include "daemon/store/calls.hpp"
#include "daemon/store/inbound_store.hpp"
#include "daemon/store/keys.hpp"
#include "daemon/store/records.hpp"
#include "daemon/store/user_store.hpp"

namespace askdesk::store::reads {

namespace {

using fields = std::vector<field_pair>;

// An HGETALL reply as (field, value) views into it.
fields fields_of(const reply& r) {
  fields out;
  for (std::size_t i = 0; i + 1 < r.size(); i += 2) out.emplace_back(r[i].str(), r[i + 1].str());
  return out;
}

std::string_view field(const fields& f, std::string_view name) {
  for (const auto& [k, v] : f) {
    if (k == name) return v;
  }
  return {};
}

std::string tags_json(const reply& members) {
  std::vector<std::string> tags;
  for (const auto& t : members.elements()) tags.push_back(t.str());
  std::sort(tags.begin(), tags.end());
  json::writer w;
  w.start_array();
  for (const auto& t : tags) w.string(t);
  w.end_array();
  return w.str();
}

bool in_scope(std::string_view scope, std::string_view team) {
  return scope == "*" || scope.find("," + std::string(team) + ",") != std::string_view::npos;
}

void fail(const json_handler& done, const reply& r, std::string_view doing) {
  done(redis_error(r, doing));
}

// A conversation read for a list: its hash and tags.
struct conversation_read {
  reply hash, tags;
  bool exists() const { return hash.size() > 0; }
};

// Reads the conversations `ids` (hash and tags each), pipelined.
void read_conversations(redis_connection& redis, const std::vector<std::string>& ids,
                        std::function<void(core::result<std::vector<conversation_read>>)> done) {
  std::vector<std::vector<std::string>> commands;
  for (const auto& id : ids) {
    commands.push_back({"HGETALL", keys::conversation(id)});
    commands.push_back({"SMEMBERS", keys::conversation_tags(id)});
  }
  pipeline(redis, std::move(commands), [done = std::move(done)](std::vector<reply> r) {
    if (const auto* bad = first_failure(r)) {
      done(redis_error(*bad, "reading conversations"));
      return;
    }
    std::vector<conversation_read> out;
    for (std::size_t i = 0; i + 1 < r.size(); i += 2) {
      out.push_back({std::move(r[i]), std::move(r[i + 1])});
    }
    done(std::move(out));
  });
}

void write(json::writer& w, const conversation_read& c) {
  write_conversation_json(w, fields_of(c.hash), tags_json(c.tags));
}

// A patron's JSON: id, name, email, phone, created_at and addresses with their opt-outs.
void write_patron_members(json::writer& w, const fields& p, const fields& addresses,
                          const std::vector<reply>& optouts) {
  const auto opt = [&](std::string_view key, std::string_view value) {
    w.key(key);
    value.empty() ? w.null() : w.string(value);
  };
  w.field("id", field(p, "id"));
  opt("name", field(p, "name"));
  for (std::string_view contact : core::patron_contact_fields) opt(contact, field(p, contact));
  w.key("created_at");
  write_time(w, field(p, "created_at"));
  w.key("addresses").start_array();
  for (std::size_t i = 0; i < addresses.size(); ++i) {
    const auto [channel_address, seen] = addresses[i];
    const auto colon = channel_address.find(':');
    w.start_object()
        .field("channel", channel_address.substr(0, colon))
        .field("address", colon == std::string_view::npos ? std::string_view()
                                                          : channel_address.substr(colon + 1))
        .key("last_seen");
    write_time(w, seen);
    w.key("opted_out_at");
    write_time(w, i < optouts.size() && optouts[i].is_string() ? optouts[i].str() : "");
    w.end_object();
  }
  w.end_array();
}

// The patron `id` with their addresses' opt-outs: `then` gets the patron's and addresses'
// replies and the opt-outs.
void read_patron(redis_connection& redis, const std::string& id,
                 std::function<void(core::result<std::vector<reply>>)> then) {
  pipeline(redis, {{"HGETALL", keys::patron(id)}, {"HGETALL", keys::patron_addresses(id)}},
           [&redis, then = std::move(then)](std::vector<reply> r) mutable {
             if (const auto* bad = first_failure(r)) {
               then(redis_error(*bad, "reading a patron"));
               return;
             }
             std::vector<std::vector<std::string>> optouts;
             const auto addresses = fields_of(r[1]);
             for (const auto& [channel_address, seen] : addresses) {
               const auto colon = channel_address.find(':');
               optouts.push_back({"GET", keys::optout(channel_address.substr(0, colon),
                                                      channel_address.substr(colon + 1))});
             }
             pipeline(redis, std::move(optouts),
                      [r = std::move(r), then = std::move(then)](std::vector<reply> o) mutable {
                        if (const auto* bad = first_failure(o)) {
                          then(redis_error(*bad, "reading a patron"));
                          return;
                        }
                        r.insert(r.end(), std::make_move_iterator(o.begin()),
                                 std::make_move_iterator(o.end()));
                        then(std::move(r));
                      });
           });
}

}  // namespace

void conversation(redis_connection& redis, std::string id, std::string scope, json_handler done) {
  pipeline(
      redis,
      {{"HGETALL", keys::conversation(id)},
       {"SMEMBERS", keys::conversation_tags(id)},
       {"LRANGE", keys::conversation_messages(id), "0", "-1"}},
      [&redis, id, scope, done = std::move(done)](std::vector<reply> c) mutable {
        if (const auto* bad = first_failure(c)) return fail(done, *bad, "reading a conversation");
        const auto hash = fields_of(c[0]);
        if (hash.empty()) {
          done(core::error{"not_found", "conversation " + id + " does not exist"});
          return;
        }
        const std::string team(field(hash, "team"));
        if (!in_scope(scope, team)) {
          done(core::error{"forbidden", "conversation " + id + " belongs to team " + team});
          return;
        }
        std::vector<std::vector<std::string>> messages;
        for (const auto& m : c[2].elements()) {
          messages.push_back({"HGETALL", keys::message(id, m.str())});
        }
        const std::string patron(field(hash, "patron"));
        pipeline(
            redis, std::move(messages),
            [&redis, c = std::move(c), patron,
             done = std::move(done)](std::vector<reply> m) mutable {
              if (const auto* bad = first_failure(m)) return fail(done, *bad, "reading messages");
              read_patron(
                  redis, patron,
                  [c = std::move(c), m = std::move(m),
                   done = std::move(done)](core::result<std::vector<reply>> p) {
                    if (!p) {
                      done(p.err());
                      return;
                    }
                    const auto& replies = p.value();
                    const std::vector<reply> optouts(replies.begin() + 2, replies.end());
                    json::writer w;
                    // The conversation with its messages and its patron in full, in place of
                    // its own message count and patron summary.
                    write_conversation_json(
                        w, fields_of(c[0]), tags_json(c[1]), {"messages", "patron"},
                        [&](json::writer& w) {
                          w.key("messages").start_array();
                          std::int64_t count = 0;
                          for (const auto& one : m) {
                            if (one.size() == 0) continue;
                            write_message_json(w, fields_of(one));
                            ++count;
                          }
                          w.end_array().field("message_count", count).key("patron").start_object();
                          write_patron_members(w, fields_of(replies[0]), fields_of(replies[1]),
                                               optouts);
                          w.end_object();
                        });
                    done(w.str());
                  });
            });
      });
}

namespace {

// One page of conversations being gathered.
struct paging {
  redis_connection& redis;
  conversation_filter filter;
  json_handler done;
  std::vector<std::string> ids;  // the ordered source, when it is small enough to hold
  bool from_index = false;       // else: the `conversations` index, read in chunks
  std::size_t position = 0, scanned = 0, total = 0;
  std::vector<conversation_read> items;
};

constexpr std::size_t scan_limit = 5000, chunk = 200;

bool matches(const conversation_filter& f, const conversation_read& c) {
  if (!c.exists()) return false;
  const auto h = fields_of(c.hash);
  if (!in_scope(f.scope, field(h, "team"))) return false;
  if (!f.status.empty() && field(h, "status") != f.status) return false;
  if (!f.team.empty() && field(h, "team") != f.team) return false;
  if (!f.channel.empty() && field(h, "channel") != f.channel) return false;
  if (!f.assignee.empty() && field(h, "assignee") != f.assignee) return false;
  return true;
}

void answer(const std::shared_ptr<paging>& p, bool more) {
  json::writer w;
  w.start_object().key("items").start_array();
  for (const auto& c : p->items) write(w, c);
  w.end_array().key("next_cursor");
  more ? w.string(std::to_string(p->position)) : w.null();
  w.end_object();
  p->done(w.str());
}

void next_chunk(std::shared_ptr<paging> p);

void examine(std::shared_ptr<paging> p, const std::vector<std::string>& ids) {
  read_conversations(p->redis, ids,
                     [p, count = ids.size()](core::result<std::vector<conversation_read>> r) {
                       if (!r) {
                         p->done(r.err());
                         return;
                       }
                       for (auto& c : r.value()) {
                         ++p->position;
                         ++p->scanned;
                         if (matches(p->filter, c)) p->items.push_back(std::move(c));
                         if (p->items.size() >= p->filter.limit) break;
                       }
                       if (!p->from_index) {
                         const bool more = p->position < p->ids.size();
                         if (p->items.size() >= p->filter.limit || !more) return answer(p, more);
                       } else {
                         const bool more = p->position < p->total;
                         if (p->items.size() >= p->filter.limit || p->scanned >= scan_limit ||
                             !more || count < chunk) {
                           return answer(p, more);
                         }
                       }
                       next_chunk(p);
                     });
}

void next_chunk(std::shared_ptr<paging> p) {
  if (!p->from_index) {
    const std::size_t end = std::min(p->ids.size(), p->position + chunk);
    const std::vector<std::string> ids(p->ids.begin() + static_cast<long>(p->position),
                                       p->ids.begin() + static_cast<long>(end));
    if (ids.empty()) return answer(p, false);
    examine(p, ids);
    return;
  }
  pipeline(p->redis,
           {{"ZREVRANGE", std::string(keys::conversations), std::to_string(p->position),
             std::to_string(p->position + chunk - 1)},
            {"ZCARD", std::string(keys::conversations)}},
           [p](std::vector<reply> r) {
             if (const auto* bad = first_failure(r))
               return fail(p->done, *bad, "listing conversations");
             p->total = static_cast<std::size_t>(r[1].integer());
             std::vector<std::string> ids;
             for (const auto& id : r[0].elements()) ids.push_back(id.str());
             if (ids.empty()) return answer(p, false);
             examine(p, ids);
           });
}

}  // namespace

void conversations(redis_connection& redis, conversation_filter filter, json_handler done) {
  if (!filter.team.empty() && !in_scope(filter.scope, filter.team)) {
    done(core::error{"forbidden", "team " + filter.team + " is not one of yours"});
    return;
  }
  auto p = std::make_shared<paging>(paging{redis, std::move(filter), std::move(done)});
  p->position = p->filter.cursor;
  const auto& f = p->filter;
  if (f.status == "queued") {
    // Queues are short: merge them by waiting time, then page.
    std::vector<std::vector<std::string>> queues;
    if (!f.team.empty()) {
      queues.push_back({"ZRANGE", keys::queue(f.team), "0", "-1", "WITHSCORES"});
    } else {
      for (const auto& t : f.teams) {
        queues.push_back({"ZRANGE", keys::queue(t), "0", "-1", "WITHSCORES"});
      }
    }
    pipeline(redis, std::move(queues), [p](std::vector<reply> r) {
      if (const auto* bad = first_failure(r)) return fail(p->done, *bad, "listing conversations");
      std::vector<std::pair<double, std::string>> all;
      for (const auto& q : r) {
        for (std::size_t i = 0; i + 1 < q.size(); i += 2) {
          all.emplace_back(std::stod(q[i + 1].str()), q[i].str());
        }
      }
      std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
        return a.first < b.first || (a.first == b.first && number(a.second) < number(b.second));
      });
      for (auto& [score, id] : all) p->ids.push_back(std::move(id));
      next_chunk(p);
    });
  } else if (!f.assignee.empty() && f.status == "assigned") {
    // A staff member's open conversations: a small set, newest first.
    redis.command({"SMEMBERS", keys::assigned(f.assignee)}, [p](reply r) {
      if (r.failed()) return fail(p->done, r, "listing conversations");
      for (const auto& id : r.elements()) p->ids.push_back(id.str());
      std::sort(p->ids.begin(), p->ids.end(),
                [](const auto& a, const auto& b) { return number(a) > number(b); });
      next_chunk(p);
    });
  } else {
    p->from_index = true;
    next_chunk(p);
  }
}

void patron(redis_connection& redis, std::string id, json_handler done) {
  read_patron(redis, id, [&redis, id, done = std::move(done)](core::result<std::vector<reply>> p) {
    if (!p) {
      done(p.err());
      return;
    }
    if (p.value()[0].size() == 0) {
      done(core::error{"not_found", "patron " + id + " does not exist"});
      return;
    }
    pipeline(
        redis,
        {{"ZREVRANGE", keys::patron_conversations(id), "0", "199"},
         {"HGETALL", keys::patron_links(id)}},
        [&redis, p = std::move(p.value()), done = std::move(done)](std::vector<reply> r) mutable {
          if (const auto* bad = first_failure(r)) return fail(done, *bad, "reading a patron");
          std::vector<std::string> list;
          for (const auto& i : r[0].elements()) list.push_back(i.str());
          read_conversations(
              redis, list,
              [p = std::move(p), links = std::move(r[1]),
               done = std::move(done)](core::result<std::vector<conversation_read>> c) {
                if (!c) {
                  done(c.err());
                  return;
                }
                const std::vector<reply> optouts(p.begin() + 2, p.end());
                json::writer w;
                w.start_object();
                write_patron_members(w, fields_of(p[0]), fields_of(p[1]), optouts);
                // Other records of the same person, linked by staff with consent.
                w.key("links").start_array();
                for (const auto& [other, record] : fields_of(links)) {
                  w.start_object().field("patron", other).key("consent").raw(record).end_object();
                }
                w.end_array();
                w.key("conversations").start_array();
                for (const auto& one : c.value()) {
                  if (one.exists()) write(w, one);
                }
                w.end_array().end_object();
                done(w.str());
              });
        });
  });
}

void staff(redis_connection& redis, std::int64_t now_ms, std::string user, int capacity,
           json_handler done) {
  const std::string now = std::to_string(now_ms);
  pipeline(redis,
           {{"HGET", keys::staff(user), "presence"},
            {"ZCOUNT", keys::sockets(user), "(" + now, "+inf"},
            {"SCARD", keys::assigned(user)},
            {"SMEMBERS", keys::offers(user)}},
           [&redis, now_ms, capacity, done = std::move(done)](std::vector<reply> r) mutable {
             if (const auto* bad = first_failure(r))
               return fail(done, *bad, "reading routing state");
             std::vector<std::string> ids;
             std::vector<std::vector<std::string>> offers;
             for (const auto& id : r[3].elements()) {
               ids.push_back(id.str());
               offers.push_back({"HGET", keys::offer(id.str()), "expires"});
             }
             pipeline(redis, std::move(offers),
                      [&redis, r = std::move(r), ids, now_ms, capacity,
                       done = std::move(done)](std::vector<reply> expires) mutable {
                        if (const auto* bad = first_failure(expires))
                          return fail(done, *bad, "reading offers");
                        std::vector<std::string> live, until;
                        for (std::size_t i = 0; i < ids.size(); ++i) {
                          const auto at = expires[i].as_integer();
                          if (at && *at > now_ms) {
                            live.push_back(ids[i]);
                            until.push_back(std::to_string(*at));
                          }
                        }
                        read_conversations(
                            redis, live,
                            [r = std::move(r), until, capacity, done = std::move(done)](
                                core::result<std::vector<conversation_read>> c) {
                              if (!c) {
                                done(c.err());
                                return;
                              }
                              json::writer w;
                              w.start_object()
                                  .field("presence", r[0].is_string() ? r[0].str() : "available")
                                  .field("dashboards", r[1].integer())
                                  .field("open", r[2].integer())
                                  .field("capacity", static_cast<std::int64_t>(capacity))
                                  .key("offers")
                                  .start_array();
                              for (std::size_t i = 0; i < c.value().size(); ++i) {
                                if (!c.value()[i].exists()) continue;
                                w.start_object().key("conversation");
                                write(w, c.value()[i]);
                                w.key("expires");
                                write_time(w, until[i]);
                                w.end_object();
                              }
                              w.end_array().end_object();
                              done(w.str());
                            });
                      });
           });
}

void social_items(redis_connection& redis, std::string scope, std::string state, std::string team,
                  std::size_t limit, std::vector<std::string> teams, json_handler done) {
  if (!team.empty() && !in_scope(scope, team)) {
    done(core::error{"forbidden", "team " + team + " is not one of yours"});
    return;
  }
  if (!team.empty()) teams = {team};
  std::vector<std::vector<std::string>> lists;
  for (const auto& t : teams) {
    lists.push_back(
        {"ZREVRANGE", keys::social(state, t), "0", std::to_string(limit - 1), "WITHSCORES"});
  }
  pipeline(
      redis, std::move(lists),
      [&redis, state, limit, done = std::move(done)](std::vector<reply> r) mutable {
        if (const auto* bad = first_failure(r)) return fail(done, *bad, "reading social items");
        std::vector<std::pair<double, std::string>> all;
        for (const auto& l : r) {
          for (std::size_t i = 0; i + 1 < l.size(); i += 2) {
            all.emplace_back(std::stod(l[i + 1].str()), l[i].str());
          }
        }
        std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
          return a.first > b.first || (a.first == b.first && number(a.second) > number(b.second));
        });
        if (all.size() > limit) all.resize(limit);
        std::vector<std::string> ids;
        std::vector<std::vector<std::string>> first;
        for (const auto& [score, id] : all) {
          ids.push_back(id);
          first.push_back({"LINDEX", keys::conversation_messages(id), "0"});
        }
        pipeline(redis, std::move(first),
                 [&redis, ids, state, done = std::move(done)](std::vector<reply> f) mutable {
                   if (const auto* bad = first_failure(f))
                     return fail(done, *bad, "reading social items");
                   std::vector<std::vector<std::string>> posts;
                   for (std::size_t i = 0; i < ids.size(); ++i) {
                     posts.push_back(
                         {"HGETALL", keys::message(ids[i], f[i].is_string() ? f[i].str() : "")});
                   }
                   pipeline(
                       redis, std::move(posts),
                       [&redis, ids, state, done = std::move(done)](std::vector<reply> m) mutable {
                         if (const auto* bad = first_failure(m))
                           return fail(done, *bad, "reading social items");
                         read_conversations(
                             redis, ids,
                             [m = std::move(m), state, done = std::move(done)](
                                 core::result<std::vector<conversation_read>> c) {
                               if (!c) {
                                 done(c.err());
                                 return;
                               }
                               json::writer w;
                               w.start_object().field("state", state).key("items").start_array();
                               for (std::size_t i = 0; i < c.value().size(); ++i) {
                                 if (!c.value()[i].exists()) continue;
                                 w.start_object().key("conversation");
                                 write(w, c.value()[i]);
                                 w.key("post");
                                 m[i].size() > 0 ? write_message_json(w, fields_of(m[i]))
                                                 : void(w.null());
                                 w.end_object();
                               }
                               w.end_array().end_object();
                               done(w.str());
                             });
                       });
                 });
      });
}

void patron_transcript(redis_connection& redis, std::string connector, std::string thread,
                       std::int64_t after, json_handler done) {
  const auto none = [](const json_handler& done) {
    done(std::string(R"({"conversation":null,"messages":[]})"));
  };
  redis.command({"GET", keys::thread(connector, thread)}, [&redis, after, none,
                                                           done = std::move(done)](reply id) {
    if (id.failed()) return fail(done, id, "reading a transcript");
    if (!id.is_string()) return none(done);
    const std::string conversation = id.str();
    pipeline(redis,
             {{"HGET", keys::conversation(conversation), "status"},
              {"LRANGE", keys::conversation_messages(conversation), "0", "-1"}},
             [&redis, conversation, after, none, done = std::move(done)](std::vector<reply> r) {
               if (const auto* bad = first_failure(r))
                 return fail(done, *bad, "reading a transcript");
               if (!r[0].is_string() || r[0].str() == "closed") return none(done);
               std::vector<std::vector<std::string>> messages;
               for (const auto& m : r[1].elements()) {
                 if (number(m.str()) > after) {
                   messages.push_back({"HGETALL", keys::message(conversation, m.str())});
                 }
               }
               pipeline(redis, std::move(messages),
                        [conversation, status = r[0].str(),
                         done = std::move(done)](std::vector<reply> m) {
                          if (const auto* bad = first_failure(m)) {
                            return fail(done, *bad, "reading a transcript");
                          }
                          json::writer w;
                          w.start_object()
                              .key("conversation")
                              .start_object()
                              .field("id", conversation)
                              .field("status", status)
                              .end_object()
                              .key("messages")
                              .start_array();
                          for (const auto& one : m) {
                            const auto f = fields_of(one);
                            if (f.empty() || field(f, "direction") == "note") continue;
                            write_message_json(w, f);
                          }
                          w.end_array().end_object();
                          done(w.str());
                        });
             });
  });
}

void dead_letters(redis_connection& redis, std::vector<std::string> connectors, json_handler done) {
  std::vector<std::vector<std::string>> lists;
  for (const auto& c : connectors) lists.push_back({"LRANGE", keys::outbound_dead(c), "0", "-1"});
  pipeline(redis, std::move(lists), [done = std::move(done)](std::vector<reply> r) {
    if (const auto* bad = first_failure(r)) return fail(done, *bad, "reading dead letters");
    json::writer w;
    w.start_object().key("dead_letters").start_array();
    for (const auto& lane : r) {
      for (const auto& letter : lane.elements()) w.raw(letter.str());
    }
    w.end_array().end_object();
    done(w.str());
  });
}

}  // namespace askdesk::store::reads

namespace askdesk::store::reads {

namespace {

struct snapshot {
  redis_connection& redis;
  std::int64_t now;
  std::vector<std::string> teams;
  std::size_t most;
  bool with_held;
  json_handler done;
  std::vector<std::string> users;
  std::vector<std::vector<std::string>> queued;  // per team: conversation ids
  std::vector<reply> user_state;                 // per user: 5 replies
  std::vector<reply> queue_state;                // per queued conversation: 4 replies
  std::vector<reply> last;                       // held conversations, then patrons
};

std::int64_t integer_of(const reply& r) { return r.as_integer().value_or(0); }

void write_snapshot(const std::shared_ptr<snapshot>& s) {
  json::writer w;
  w.start_object().key("staff").start_array();
  std::size_t held_at = 0;
  for (std::size_t u = 0; u < s->users.size(); ++u) {
    const reply* r = &s->user_state[u * 5];
    const reply& user = r[0];
    const reply& staff = r[1];
    const auto field_of = [](const reply& a, std::size_t i) {
      return i < a.size() ? text_of(a[i]) : std::string();
    };
    w.start_object()
        .field("name", s->users[u])
        .field("teams", field_of(user, 0))
        // A disabled user is listed as offline, so what they held goes back to the queue.
        .field("presence", field_of(user, 1) == "1" ? "offline" : field_of(staff, 0))
        .field("left_at", std::int64_t{number(field_of(staff, 1))})
        .field("last_assigned", std::int64_t{number(field_of(staff, 2))})
        .field("sockets", integer_of(r[2]))
        .field("offers", integer_of(r[3]));
    w.key("held").start_array();
    std::int64_t holds = 0;
    if (s->with_held) {
      for (const auto& id : r[4].elements()) {
        const reply& c = s->last[held_at++];
        w.start_object()
            .field("id", id.str())
            .field("status", field_of(c, 0))
            .field("last_direction", field_of(c, 1))
            .field("last_at", std::int64_t{number(field_of(c, 2))})
            .field("assigned_at", std::int64_t{number(field_of(c, 3))})
            .field("team", field_of(c, 4))
            .end_object();
        ++holds;
      }
    } else {
      holds = integer_of(r[4]);
    }
    w.end_array().field("holds", holds).end_object();
  }
  w.end_array().key("queues").start_object();
  std::size_t q = 0, patron_at = held_at;
  for (std::size_t t = 0; t < s->teams.size(); ++t) {
    w.key(s->teams[t]).start_array();
    for (const auto& id : s->queued[t]) {
      const reply* r = &s->queue_state[q++ * 4];
      const reply& c = r[0];
      const auto at = [&](std::size_t i) { return i < c.size() ? text_of(c[i]) : std::string(); };
      if (at(3) != "queued") continue;
      const reply& p = s->last[patron_at++];
      const auto strings = [&w](std::string_view key, const reply& set) {
        w.key(key).start_array();
        for (const auto& e : set.elements()) w.string(e.str());
        w.end_array();
      };
      const std::int64_t waiting = at(0).empty() ? s->now : number(at(0));
      w.start_object()
          .field("id", id)
          .field("waiting_since", waiting)
          .field("channel", at(1))
          .field("priority", std::int64_t{number(at(4))})
          .field("team_since", at(5).empty() ? waiting : number(at(5)))
          .field("after_hours", at(6) == "1");
      strings("tags", r[1]);
      w.field("last_helper", p.size() > 0 ? text_of(p[0]) : "")
          .field("last_helped_at", std::int64_t{p.size() > 1 ? number(text_of(p[1])) : 0});
      strings("declined", r[2]);
      w.field("offer_to", r[3].size() > 0 ? text_of(r[3][0]) : "")
          .field("offer_expires", std::int64_t{r[3].size() > 1 ? number(text_of(r[3][1])) : 0})
          .end_object();
    }
    w.end_array();
  }
  w.end_object().end_object();
  s->done(w.str());
}

}  // namespace

void route_snapshot(redis_connection& redis, std::int64_t now_ms, std::vector<std::string> teams,
                    std::size_t most, bool with_held, json_handler done) {
  auto s = std::make_shared<snapshot>(
      snapshot{redis, now_ms, std::move(teams), most, with_held, std::move(done)});
  std::vector<std::vector<std::string>> first = {{"SMEMBERS", std::string(keys::users)}};
  for (const auto& t : s->teams) {
    first.push_back({"ZRANGE", keys::queue(t), "0", std::to_string(most - 1)});
  }
  pipeline(redis, std::move(first), [s](std::vector<reply> r) {
    if (const auto* bad = first_failure(r))
      return fail(s->done, *bad, "reading the routing snapshot");
    for (const auto& u : r[0].elements()) s->users.push_back(u.str());
    std::sort(s->users.begin(), s->users.end());
    for (std::size_t t = 1; t < r.size(); ++t) {
      std::vector<std::string> ids;
      for (const auto& id : r[t].elements()) ids.push_back(id.str());
      s->queued.push_back(std::move(ids));
    }
    const std::string after = "(" + std::to_string(s->now);
    std::vector<std::vector<std::string>> second;
    for (const auto& name : s->users) {
      second.push_back({"HMGET", keys::user(name), "teams", "disabled"});
      second.push_back({"HMGET", keys::staff(name), "presence", "left_at", "last_assigned"});
      second.push_back({"ZCOUNT", keys::sockets(name), after, "+inf"});
      second.push_back({"SCARD", keys::offers(name)});
      second.push_back({s->with_held ? "SMEMBERS" : "SCARD", keys::assigned(name)});
    }
    for (const auto& ids : s->queued) {
      for (const auto& id : ids) {
        second.push_back({"HMGET", keys::conversation(id), "waiting_since", "channel", "patron",
                          "status", "priority", "team_since", "after_hours"});
        second.push_back({"SMEMBERS", keys::conversation_tags(id)});
        second.push_back({"SMEMBERS", keys::conversation_declined(id)});
        second.push_back({"HMGET", keys::offer(id), "to", "expires"});
      }
    }
    pipeline(s->redis, std::move(second), [s](std::vector<reply> r) {
      if (const auto* bad = first_failure(r))
        return fail(s->done, *bad, "reading the routing snapshot");
      const auto users_end = r.begin() + static_cast<long>(s->users.size() * 5);
      s->user_state.assign(std::make_move_iterator(r.begin()), std::make_move_iterator(users_end));
      s->queue_state.assign(std::make_move_iterator(users_end), std::make_move_iterator(r.end()));
      // The held conversations' state, then the waiting ones' patrons (who helped them last).
      std::vector<std::vector<std::string>> third;
      if (s->with_held) {
        for (std::size_t u = 0; u < s->users.size(); ++u) {
          for (const auto& id : s->user_state[u * 5 + 4].elements()) {
            third.push_back({"HMGET", keys::conversation(id.str()), "status", "last_direction",
                             "last_at", "assigned_at", "team"});
          }
        }
      }
      for (std::size_t q = 0; q * 4 < s->queue_state.size(); ++q) {
        const reply& c = s->queue_state[q * 4];
        if (c.size() < 4 || text_of(c[3]) != "queued") continue;
        third.push_back({"HMGET", keys::patron(text_of(c[2])), "last_helper", "last_helped_at"});
      }
      pipeline(s->redis, std::move(third), [s](std::vector<reply> r) {
        if (const auto* bad = first_failure(r)) {
          return fail(s->done, *bad, "reading the routing snapshot");
        }
        s->last = std::move(r);
        write_snapshot(s);
      });
    });
  });
}

namespace {

struct desk_reading {
  redis_connection& redis;
  std::int64_t now;
  std::vector<std::string> teams;
  std::function<void(core::result<desk_state>)> done;
  desk_state out;
  std::vector<std::vector<std::string>> queued;  // per team: the first ids of its queue
};

core::error desk_failure(const reply& r) { return redis_error(r, "reading the desk"); }

}  // namespace

// Three round trips: the users and the queues; each user's state and each waiting
// conversation's start; nothing more.
void desk(redis_connection& redis, std::int64_t now_ms, std::vector<std::string> teams,
          std::function<void(core::result<desk_state>)> done) {
  auto d = std::make_shared<desk_reading>(
      desk_reading{redis, now_ms, std::move(teams), std::move(done), {}, {}});
  const std::string after = "(" + std::to_string(now_ms);
  std::vector<std::vector<std::string>> first = {{"SMEMBERS", std::string(keys::users)}};
  for (const auto& t : d->teams) {
    first.push_back({"ZCARD", keys::queue(t)});
    first.push_back({"ZRANGE", keys::queue(t), "0", std::to_string(desk_queue_most - 1)});
    first.push_back({"ZCOUNT", keys::presence(t), after, "+inf"});
  }
  pipeline(redis, std::move(first), [d, after](std::vector<reply> r) {
    if (const auto* bad = first_failure(r)) return d->done(desk_failure(*bad));
    for (const auto& u : r[0].elements()) d->out.staff.push_back({.name = u.str()});
    std::sort(d->out.staff.begin(), d->out.staff.end(),
              [](const desk_member& a, const desk_member& b) { return a.name < b.name; });
    std::vector<std::vector<std::string>> second;
    for (const auto& m : d->out.staff) {
      second.push_back({"HMGET", keys::user(m.name), "display_name", "role", "teams", "disabled"});
      second.push_back({"HGET", keys::staff(m.name), "presence"});
      second.push_back({"ZCOUNT", keys::sockets(m.name), after, "+inf"});
      second.push_back({"SCARD", keys::assigned(m.name)});
    }
    for (std::size_t t = 0; t < d->teams.size(); ++t) {
      desk_queue q{.waiting = r[1 + t * 3].integer(), .online = r[3 + t * 3].integer()};
      std::vector<std::string> ids;
      for (const auto& id : r[2 + t * 3].elements()) {
        ids.push_back(id.str());
        second.push_back({"HGET", keys::conversation(id.str()), "waiting_since"});
      }
      d->out.queues.push_back(std::move(q));
      d->queued.push_back(std::move(ids));
    }
    pipeline(d->redis, std::move(second), [d](std::vector<reply> r) {
      if (const auto* bad = first_failure(r)) return d->done(desk_failure(*bad));
      std::size_t at = 0;
      for (auto& m : d->out.staff) {
        const reply& user = r[at];
        const auto field = [&](std::size_t i) {
          return i < user.size() ? text_of(user[i]) : std::string();
        };
        m.display_name = field(0);
        m.role = field(1);
        m.teams = split_team_list(field(2));
        m.disabled = field(3) == "1";
        m.presence = text_of(r[at + 1]);
        m.dashboards = integer_of(r[at + 2]);
        m.holds = integer_of(r[at + 3]);
        at += 4;
      }
      for (std::size_t t = 0; t < d->queued.size(); ++t) {
        for (std::size_t i = 0; i < d->queued[t].size(); ++i) {
          const std::string since = text_of(r[at++]);
          d->out.queues[t].waiting_since.push_back(since.empty() ? d->now : number(since));
        }
      }
      d->done(std::move(d->out));
    });
  });
}

namespace {

struct facts_reading {
  redis_connection& redis;
  std::vector<std::string> ids;
  std::size_t next = 0;
  std::vector<core::conversation_facts> out;
  std::function<void(core::result<std::vector<core::conversation_facts>>)> done;
};

// A batch of conversations' facts at a time (the fields the reports read), pipelined: a year
// of a busy library's conversations is fifty round trips.
void read_facts_batch(const std::shared_ptr<facts_reading>& r) {
  constexpr std::size_t batch = 2000;
  if (r->next >= r->ids.size()) {
    r->done(std::move(r->out));
    return;
  }
  // HMGETs pipelined: cheaper for Redis than one function reading a batch (measured).
  std::vector<std::vector<std::string>> commands;
  for (; r->next < r->ids.size() && commands.size() < batch; ++r->next) {
    std::vector<std::string> hmget = {"HMGET", keys::facts(r->ids[r->next])};
    hmget.insert(hmget.end(), std::begin(core::report_fields), std::end(core::report_fields));
    commands.push_back(std::move(hmget));
  }
  pipeline(r->redis, std::move(commands), [r](std::vector<reply> replies) {
    std::array<std::string_view, core::report_field_count> values{};
    for (const auto& one : replies) {
      if (one.failed()) {
        r->done(redis_error(one, "reading the reports' facts"));
        return;
      }
      if (one.size() != values.size()) continue;
      for (std::size_t i = 0; i < values.size(); ++i) values[i] = one[i].str();
      if (auto f = core::facts_from_values(values)) r->out.push_back(std::move(*f));
    }
    read_facts_batch(r);
  });
}

}  // namespace

void conversation_facts(
    redis_connection& redis, std::int64_t from_ms, std::int64_t to_ms,
    std::function<void(core::result<std::vector<core::conversation_facts>>)> done) {
  redis.command({"ZRANGEBYSCORE", std::string(keys::facts_by_arrival), std::to_string(from_ms),
                 std::to_string(to_ms)},
                [&redis, done = std::move(done)](reply ids) mutable {
                  if (!ids.is_array()) {
                    done(redis_error(ids, "reading the reports' conversations"));
                    return;
                  }
                  auto r = std::make_shared<facts_reading>(
                      facts_reading{.redis = redis, .ids = {}, .out = {}, .done = std::move(done)});
                  for (auto& id : ids.elements()) r->ids.push_back(id.take_str());
                  r->out.reserve(r->ids.size());
                  read_facts_batch(r);
                });
}

}  // namespace askdesk::store::reads
