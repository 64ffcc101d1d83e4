#include "daemon/store/user_store.hpp"

#include "daemon/json/document.hpp"
#include "daemon/store/inbound_store.hpp"

namespace askdesk::store {

std::string team_list(const std::vector<std::string>& teams) {
  std::string out = ",";
  for (const auto& t : teams) out += t + ",";
  return out;
}

std::vector<std::string> split_team_list(std::string_view text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) out.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

namespace {

std::optional<user> to_user(const reply& r) {
  if (!r.is_array() || r.size() == 0) return std::nullopt;
  user u;
  for (std::size_t i = 0; i + 1 < r.size(); i += 2) {
    const auto& key = r[i].str();
    const auto& value = r[i + 1].str();
    if (key == "name")
      u.name = value;
    else if (key == "display_name")
      u.display_name = value;
    else if (key == "role")
      u.role = value;
    else if (key == "teams")
      u.teams = split_team_list(value);
    else if (key == "disabled")
      u.disabled = value == "1";
    else if (key == "password")
      u.password_hash = value;
  }
  if (u.name.empty()) return std::nullopt;
  return u;
}

// Runs `done` with success unless the reply failed.
redis_connection::reply_handler expect_ok(std::function<void(core::status)> done,
                                          std::string what) {
  return [done = std::move(done), what = std::move(what)](reply r) {
    if (r.failed()) {
      done(redis_error(r, what));
      return;
    }
    done(core::status{});
  };
}

}  // namespace

void user_store::add(const user& u, done_handler done) {
  redis_.command(
      {"HSETNX", "user:" + u.name, "name", u.name}, [this, u, done = std::move(done)](reply r) {
        if (r.failed()) {
          done(redis_error(r, "adding user " + u.name));
          return;
        }
        if (r.integer() == 0) {
          done(core::error{"conflict", "user " + u.name + " already exists"});
          return;
        }
        redis_.command(
            {"HSET", "user:" + u.name, "display_name", u.display_name, "role", u.role, "teams",
             team_list(u.teams), "disabled", u.disabled ? "1" : "0", "password", u.password_hash},
            [](reply) {});
        redis_.command({"SADD", "users", u.name}, expect_ok(done, "adding user " + u.name));
      });
}

void user_store::get(const std::string& name, handler<std::optional<user>> done) {
  redis_.command({"HGETALL", "user:" + name}, [name, done = std::move(done)](reply r) {
    if (r.failed()) {
      done(redis_error(r, "reading user " + name));
      return;
    }
    done(to_user(r));
  });
}

void user_store::list(handler<std::vector<user>> done) {
  redis_.command({"SORT", "users", "ALPHA"}, [this, done = std::move(done)](reply names) {
    if (names.failed()) {
      done(redis_error(names, "listing users"));
      return;
    }
    struct gathering {
      std::vector<user> users;
      std::size_t remaining;
      bool failed = false;
      handler<std::vector<user>> done;
    };
    auto g = std::make_shared<gathering>(gathering{{}, names.size(), false, std::move(done)});
    if (g->remaining == 0) {
      g->done(std::vector<user>{});
      return;
    }
    g->users.resize(names.size());
    for (std::size_t i = 0; i < names.size(); ++i) {
      redis_.command({"HGETALL", "user:" + names[i].str()}, [g, i](reply r) {
        if (r.failed() && !g->failed) {
          g->failed = true;
          g->done(redis_error(r, "listing users"));
        }
        if (auto u = to_user(r)) {
          u->password_hash.clear();
          g->users[i] = std::move(*u);
        }
        if (--g->remaining == 0 && !g->failed) {
          std::erase_if(g->users, [](const user& u) { return u.name.empty(); });
          g->done(std::move(g->users));
        }
      });
    }
  });
}

void user_store::exists(const std::string& name, std::function<void(core::status)> then) {
  redis_.command({"EXISTS", "user:" + name}, [name, then = std::move(then)](reply r) {
    if (r.failed()) {
      then(redis_error(r, "reading user " + name));
    } else if (r.integer() == 0) {
      then(core::error{"not_found", "user " + name + " does not exist"});
    } else {
      then(core::status{});
    }
  });
}

void user_store::set_password(const std::string& name, const std::string& password_hash,
                              done_handler done) {
  exists(name, [this, name, password_hash, done = std::move(done)](core::status s) {
    if (!s) {
      done(s);
      return;
    }
    redis_.command({"HSET", "user:" + name, "password", password_hash}, [](reply) {});
    const std::string_view args[] = {name, "all", ""};
    run(redis_, scripts_, script::end_sessions, args,
        expect_ok(done, "changing the password of " + name));
  });
}

void user_store::set_disabled(const std::string& name, bool disabled, done_handler done) {
  exists(name, [this, name, disabled, done = std::move(done)](core::status s) {
    if (!s) {
      done(s);
      return;
    }
    redis_.command({"HSET", "user:" + name, "disabled", disabled ? "1" : "0"}, [](reply) {});
    const std::string_view args[] = {name, "all", ""};
    run(redis_, scripts_, script::end_sessions, args, expect_ok(done, "disabling " + name));
  });
}

void user_store::create_session(const std::string& name, const std::string& digest,
                                const std::string& csrf, std::chrono::seconds lifetime,
                                done_handler done) {
  const std::string key = "session:" + digest;
  redis_.command({"HSET", key, "user", name, "csrf", csrf}, [](reply) {});
  redis_.command({"EXPIRE", key, std::to_string(lifetime.count())}, [](reply) {});
  redis_.command({"SADD", "user:" + name + ":sessions", digest},
                 expect_ok(std::move(done), "creating a session"));
}

void user_store::forget_user(std::string_view name) {
  std::erase_if(cache_, [&](const auto& e) { return e.second.who.who.name == name; });
}

void user_store::end_session(const std::string& digest, done_handler done) {
  cache_.erase("s:" + digest);
  redis_.command(
      {"HGET", "session:" + digest, "user"}, [this, digest, done = std::move(done)](reply r) {
        if (r.failed()) {
          done(redis_error(r, "ending a session"));
          return;
        }
        if (!r.is_string()) {
          done(core::status{});  // already over
          return;
        }
        const std::string_view args[] = {r.str(), "session", digest};
        run(redis_, scripts_, script::end_sessions, args, expect_ok(done, "ending a session"));
      });
}

void user_store::create_token(const std::string& name, const std::string& digest,
                              done_handler done) {
  redis_.command({"SET", "token:" + digest, name}, [](reply) {});
  redis_.command({"SADD", "user:" + name + ":tokens", digest},
                 expect_ok(std::move(done), "creating a token"));
}

void user_store::revoke_token(const std::string& digest, done_handler done) {
  redis_.command({"GET", "token:" + digest}, [this, digest, done = std::move(done)](reply r) {
    if (r.failed()) {
      done(redis_error(r, "revoking a token"));
      return;
    }
    if (!r.is_string()) {
      done(core::error{"not_found", "no such token"});
      return;
    }
    const std::string_view args[] = {r.str(), "token", digest};
    run(redis_, scripts_, script::end_sessions, args, expect_ok(done, "revoking a token"));
  });
}

void user_store::authenticate(bool session, const std::string& digest,
                              std::chrono::seconds lifetime, handler<authenticated> done) {
  const auto now = std::chrono::steady_clock::now();
  std::string key = (session ? "s:" : "t:") + digest;
  if (const auto at = cache_.find(key); at != cache_.end()) {
    if (at->second.until > now) {
      done(at->second.who);
      return;
    }
    cache_.erase(at);
  }
  if (cache_.size() >= 10000)
    std::erase_if(cache_, [&](const auto& e) { return e.second.until <= now; });
  const std::string ttl = std::to_string(lifetime.count());
  const std::string_view args[] = {session ? "session" : "token", digest, ttl};
  run(redis_, scripts_, script::authenticate, args,
      [this, key = std::move(key), done = std::move(done)](reply r) mutable {
        if (r.is_array() && r.size() == 2 && r[0].str() == "unauthenticated") {
          done(core::error{"unauthenticated", r[1].str()});
          return;
        }
        if (!r.is_array() || r.size() != 3 || r[0].str() != "ok") {
          done(redis_error(r, "checking a session"));
          return;
        }
        auto doc = json::document::parse(r[1].str());
        if (!doc) {
          done(core::error{"redis", "checking a session: " + doc.err().message});
          return;
        }
        const auto& root = doc->root();
        const auto text = [&](const char* key) {
          return std::string(json::string_member(root, key));
        };
        authenticated a;
        a.who.name = text("name");
        a.who.display_name = text("display_name");
        a.who.role = text("role");
        a.who.teams = split_team_list(text("teams"));
        a.csrf = r[2].str();
        cache_.insert_or_assign(std::move(key),
                                cached{a, std::chrono::steady_clock::now() + cache_for});
        done(std::move(a));
      });
}

void user_store::login_attempts(const std::string& name, const std::string& address,
                                std::chrono::seconds window, bool fail,
                                handler<login_failures> done) {
  const std::string seconds = std::to_string(window.count());
  const std::string_view args[] = {name, address, seconds, fail ? "fail" : "check"};
  run(redis_, scripts_, script::login_attempt, args, [done = std::move(done)](reply r) {
    if (!r.is_array() || r.size() != 2) {
      done(redis_error(r, "counting login attempts"));
      return;
    }
    done(login_failures{r[0].integer(),
                        std::chrono::seconds(std::max<std::int64_t>(r[1].integer(), 1))});
  });
}

}  // namespace askdesk::store
