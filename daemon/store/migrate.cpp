#include "daemon/store/migrate.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>

#include "daemon/store/calls.hpp"
#include "daemon/store/inbound_store.hpp"
#include "daemon/store/keys.hpp"

namespace askdesk::store {

namespace {

constexpr std::string_view lease_ms = "30000";

bool digits(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

struct migration : std::enable_shared_from_this<migration> {
  migration(redis_connection& r, const script_set& s, std::string h,
            std::function<void(core::result<migration_outcome>)> d)
      : redis(r), scripts(s), holder(std::move(h)), done(std::move(d)) {}

  redis_connection& redis;
  const script_set& scripts;
  std::string holder;
  std::function<void(core::result<migration_outcome>)> done;
  std::int64_t moved = 0;

  void fail(const reply& r, std::string_view doing) { done(redis_error(r, doing)); }

  // SCAN for `pattern`; `each` gets a batch of keys and continues with `next`.
  using batch = std::function<void(std::vector<std::string> keys, std::function<void()> next)>;
  void scan(std::string cursor, std::string pattern, batch each, std::function<void()> finished) {
    redis.command({"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"},
                  [self = shared_from_this(), pattern, each, finished](reply r) {
                    if (r.failed() || r.size() != 2) return self->fail(r, "scanning keys");
                    const std::string next_cursor = r[0].str();
                    std::vector<std::string> keys;
                    for (const auto& k : r[1].elements()) keys.push_back(k.str());
                    each(std::move(keys), [self, next_cursor, pattern, each, finished] {
                      if (next_cursor == "0") return finished();
                      self->scan(next_cursor, pattern, each, finished);
                    });
                  });
  }

  // Reads `field` of each key's hash (`hashes`), then runs `act` with the answers.
  void read_field(std::vector<std::string> hashes, std::string field,
                  std::function<void(std::vector<reply>)> act) {
    std::vector<std::vector<std::string>> reads;
    for (const auto& h : hashes) reads.push_back({"HGET", h, field});
    pipeline(redis, std::move(reads), [self = shared_from_this(), act](std::vector<reply> r) {
      for (const auto& one : r) {
        if (one.failed()) return self->fail(one, "reading keys to migrate");
      }
      act(std::move(r));
    });
  }

  // The migration lease: held while moving (renewed with every batch, so a daemon stopped
  // halfway lets another take over soon), given up at the end ("0").
  call lease(std::string_view ms) const {
    return calls::make(calls::lease{
        .key = std::string(keys::migration_lease), .holder = holder, .ms = std::string(ms)});
  }

  // Sends `commands` (renames: a key gone meanwhile is no error), then `next`.
  void write(std::vector<std::vector<std::string>> commands, std::function<void()> next) {
    moved += static_cast<std::int64_t>(commands.size());
    run(redis, scripts, lease(lease_ms), [](reply) {});
    pipeline(redis, std::move(commands), [self = shared_from_this(), next](std::vector<reply> r) {
      for (const auto& one : r) {
        if (one.is_unavailable()) return self->fail(one, "migrating keys");
      }
      next();
    });
  }

  void start() {
    redis.command({"GET", std::string(keys::schema)}, [self = shared_from_this()](reply r) {
      if (r.failed()) return self->fail(r, "reading the schema version");
      if (r.is_string() && std::stoi(r.str()) >= schema_version) {
        return self->done(migration_outcome{.migrated = false, .busy = false, .moved = 0});
      }
      run(self->redis, self->scripts, self->lease(lease_ms), [self](reply lease) {
        if (!lease.is_integer()) return self->fail(lease, "taking the migration lease");
        if (lease.integer() <= 0) {
          return self->done(migration_outcome{.migrated = false, .busy = true, .moved = 0});
        }
        spdlog::info("redis: moving the data to schema {} (keys.hpp)", schema_version);
        self->providers();
      });
    });
  }

  // A channel id's record named the message; now "<conversation>:<message>" (read from the
  // message before it moves).
  void providers() {
    scan(
        "0", "provider:*",
        [self = shared_from_this()](std::vector<std::string> keys, auto next) {
          std::erase_if(keys, [](const std::string& k) { return k.ends_with(":early"); });
          std::vector<std::vector<std::string>> gets;
          for (const auto& k : keys) gets.push_back({"GET", k});
          pipeline(self->redis, std::move(gets), [self, keys, next](std::vector<reply> values) {
            std::vector<std::string> old_keys, messages;
            for (std::size_t i = 0; i < keys.size(); ++i) {
              if (values[i].is_string() && digits(values[i].str())) {
                old_keys.push_back(keys[i]);
                messages.push_back(values[i].str());
              }
            }
            std::vector<std::string> hashes;
            for (const auto& m : messages) hashes.push_back("message:" + m);
            self->read_field(hashes, "conversation", [self, old_keys, messages, next](auto c) {
              std::vector<std::vector<std::string>> sets;
              for (std::size_t i = 0; i < old_keys.size(); ++i) {
                if (!c[i].is_string()) continue;
                sets.push_back({"SET", old_keys[i], c[i].str() + ":" + messages[i], "KEEPTTL"});
              }
              self->write(std::move(sets), next);
            });
          });
        },
        [self = shared_from_this()] { self->messages(); });
  }

  void messages() {
    scan(
        "0", "message:[0-9]*",
        [self = shared_from_this()](std::vector<std::string> keys, auto next) {
          self->read_field(keys, "conversation", [self, keys, next](std::vector<reply> c) {
            std::vector<std::vector<std::string>> renames;
            for (std::size_t i = 0; i < keys.size(); ++i) {
              const std::string id = keys[i].substr(std::string_view("message:").size());
              if (!c[i].is_string() || !digits(id)) continue;
              renames.push_back({"RENAME", keys[i], keys::message(c[i].str(), id)});
            }
            self->write(std::move(renames), next);
          });
        },
        [self = shared_from_this()] { self->conversations(); });
  }

  void conversations() {
    scan(
        "0", "conversation:[0-9]*",
        [self = shared_from_this()](std::vector<std::string> keys, auto next) {
          std::vector<std::vector<std::string>> renames;
          std::vector<std::string> hashes, ids;
          for (const auto& k : keys) {
            const std::string_view rest =
                std::string_view(k).substr(std::string_view("conversation:").size());
            const auto colon = rest.find(':');
            const std::string id(rest.substr(0, colon));
            if (!digits(id)) continue;
            const std::string_view suffix =
                colon == std::string_view::npos ? "" : rest.substr(colon);
            if (suffix.empty()) {
              renames.push_back({"RENAME", k, keys::conversation(id)});
              hashes.push_back(keys::conversation(id));
              ids.push_back(id);
            } else {
              renames.push_back({"RENAME", k, keys::conversation(id) + std::string(suffix)});
            }
          }
          self->write(std::move(renames), [self, hashes, next] {
            // Each conversation shows its patron's name from its own hash now.
            self->read_field(hashes, "patron", [self, hashes, next](std::vector<reply> patrons) {
              std::vector<std::string> patron_keys;
              for (const auto& p : patrons)
                patron_keys.push_back(keys::patron(p.is_string() ? p.str() : ""));
              self->read_field(patron_keys, "name", [self, hashes, next](std::vector<reply> names) {
                std::vector<std::vector<std::string>> sets;
                for (std::size_t i = 0; i < hashes.size(); ++i) {
                  if (names[i].is_string())
                    sets.push_back({"HSET", hashes[i], "patron_name", names[i].str()});
                }
                self->write(std::move(sets), next);
              });
            });
          });
        },
        [self = shared_from_this()] { self->offers(); });
  }

  void offers() {
    scan(
        "0", "offer:[0-9]*",
        [self = shared_from_this()](std::vector<std::string> keys, auto next) {
          std::vector<std::vector<std::string>> renames;
          for (const auto& k : keys) {
            const std::string id = k.substr(std::string_view("offer:").size());
            if (digits(id)) renames.push_back({"RENAME", k, keys::offer(id)});
          }
          self->write(std::move(renames), next);
        },
        [self = shared_from_this()] { self->facts(); });
  }

  // Schema 3: the reports read each conversation's facts; those of older conversations come
  // from what their hash recorded (one wait, its first reply, the latest assignment).
  void facts() {
    scan(
        "0", "conversation:{c:*}",
        [self = shared_from_this()](std::vector<std::string> keys, auto next) {
          std::vector<std::vector<std::string>> reads;
          for (const auto& k : keys) {
            reads.push_back({"HMGET", k, "id", "channel", "connector", "team", "topic", "status",
                             "created_at", "closed_at", "first_response_at", "assigned_at",
                             "assignee", "after_hours", "read_level"});
            reads.push_back({"SMEMBERS", k + ":tags"});
          }
          pipeline(self->redis, std::move(reads), [self, next](std::vector<reply> r) {
            std::vector<std::vector<std::string>> writes;
            for (std::size_t at = 0; at + 1 < r.size(); at += 2) {
              const reply& c = r[at];
              if (c.failed()) return self->fail(c, "reading conversations to migrate");
              if (c.size() != 13) continue;
              const auto field = [&c](std::size_t i) { return c[i].is_string() ? c[i].str() : ""; };
              const std::string id = field(0), created = field(6);
              if (!digits(id) || !digits(created)) continue;
              std::vector<std::string> hset = {"HSET",
                                               keys::facts(id),
                                               "id",
                                               id,
                                               "channel",
                                               field(1),
                                               "connector",
                                               field(2),
                                               "team",
                                               field(3),
                                               "topic",
                                               field(4),
                                               "status",
                                               field(5) == "closed" ? "closed" : "open",
                                               "created_at",
                                               created,
                                               "closed_at",
                                               field(7),
                                               "read_level",
                                               field(12),
                                               "waits",
                                               "1",
                                               "wait.1.start",
                                               created,
                                               "wait.1.team",
                                               field(3),
                                               "wait.1.after_hours",
                                               field(11),
                                               "staff",
                                               field(10)};
              for (const auto& [name, value] : {std::pair{"wait.1.replied", field(8)},
                                                std::pair{"wait.1.assigned", field(9)}}) {
                if (!value.empty()) {
                  hset.push_back(name);
                  hset.push_back(value);
                }
              }
              std::vector<std::string> tags;
              for (const auto& t : r[at + 1].elements()) tags.push_back(t.str());
              std::sort(tags.begin(), tags.end());
              std::string joined;
              for (const auto& t : tags) joined += (joined.empty() ? "" : ",") + t;
              hset.push_back("tags");
              hset.push_back(joined);
              writes.push_back(std::move(hset));
              writes.push_back({"ZADD", std::string(keys::facts_by_arrival), created, id});
            }
            self->write(std::move(writes), next);
          });
        },
        [self = shared_from_this()] { self->finish(); });
  }

  void finish() {
    write({{"SET", std::string(keys::schema), std::to_string(schema_version)}},
          [self = shared_from_this()] {
            run(self->redis, self->scripts, self->lease("0"), [self](reply) {
              self->done(
                  migration_outcome{.migrated = true, .busy = false, .moved = self->moved - 1});
            });
          });
  }
};

}  // namespace

void migrate(redis_connection& redis, const script_set& scripts, std::string holder,
             std::function<void(core::result<migration_outcome>)> done) {
  auto m = std::make_shared<migration>(redis, scripts, std::move(holder), std::move(done));
  m->start();
}

}  // namespace askdesk::store
