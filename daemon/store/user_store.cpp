#include "daemon/store/user_store.hpp"

#include "daemon/json/document.hpp"
#include "daemon/store/calls.hpp"
#include "daemon/store/inbound_store.hpp"
#include "daemon/store/keys.hpp"

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
      {"HSETNX", keys::user(u.name), "name", u.name}, [this, u, done = std::move(done)](reply r) {
        if (r.failed()) {
          done(redis_error(r, "adding user " + u.name));
          return;
        }
        if (r.integer() == 0) {
          done(core::error{"conflict", "user " + u.name + " already exists"});
          return;
        }
        redis_.command(
            {"HSET", keys::user(u.name), "display_name", u.display_name, "role", u.role, "teams",
             team_list(u.teams), "disabled", u.disabled ? "1" : "0", "password", u.password_hash},
            [](reply) {});
        redis_.command({"SADD", keys::users, u.name}, expect_ok(done, "adding user " + u.name));
      });
}

void user_store::get(const std::string& name, handler<std::optional<user>> done) {
  redis_.command({"HGETALL", keys::user(name)}, [name, done = std::move(done)](reply r) {
    if (r.failed()) {
      done(redis_error(r, "reading user " + name));
      return;
    }
    done(to_user(r));
  });
}

void user_store::list(handler<std::vector<user>> done) {
  redis_.command({"SORT", keys::users, "ALPHA"}, [this, done = std::move(done)](reply names) {
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
      redis_.command({"HGETALL", keys::user(names[i].str())}, [g, i](reply r) {
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
  redis_.command({"EXISTS", keys::user(name)}, [name, then = std::move(then)](reply r) {
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
    redis_.command({"HSET", keys::user(name), "password", password_hash}, [](reply) {});
    end_all_sessions(name, expect_ok(done, "changing the password of " + name));
  });
}

void user_store::set_disabled(const std::string& name, bool disabled, done_handler done) {
  exists(name, [this, name, disabled, done = std::move(done)](core::status s) {
    if (!s) {
      done(s);
      return;
    }
    redis_.command({"HSET", keys::user(name), "disabled", disabled ? "1" : "0"}, [](reply) {});
    end_all_sessions(name, expect_ok(done, "disabling " + name));
  });
}

void user_store::create_session(const std::string& name, const std::string& digest,
                                const std::string& csrf, std::chrono::seconds lifetime,
                                done_handler done) {
  const std::string key = keys::session(digest);
  redis_.command({"HSET", key, "user", name, "csrf", csrf}, [](reply) {});
  redis_.command({"EXPIRE", key, std::to_string(lifetime.count())}, [](reply) {});
  redis_.command({"SADD", keys::user_sessions(name), digest},
                 expect_ok(std::move(done), "creating a session"));
}

void user_store::forget_user(std::string_view name) {
  std::erase_if(cache_, [&](const auto& e) { return e.second.who.who.name == name; });
}

void user_store::end_session(const std::string& digest, done_handler done) {
  cache_.erase("s:" + digest);
  redis_.command({"HGET", keys::session(digest), "user"},
                 [this, digest, done = std::move(done)](reply r) {
                   if (r.failed()) {
                     done(redis_error(r, "ending a session"));
                     return;
                   }
                   if (!r.is_string()) {
                     done(core::status{});  // already over
                     return;
                   }
                   run(redis_, scripts_,
                       calls::make(calls::end_sessions{
                           .user = r.str(), .what = "session", .digest = digest, .sessions = {}}),
                       expect_ok(done, "ending a session"));
                 });
}

void user_store::create_token(const std::string& name, const std::string& digest,
                              done_handler done) {
  redis_.command({"SET", keys::token(digest), name}, [](reply) {});
  redis_.command({"SADD", keys::user_tokens(name), digest},
                 expect_ok(std::move(done), "creating a token"));
}

void user_store::revoke_token(const std::string& digest, done_handler done) {
  redis_.command({"GET", keys::token(digest)}, [this, digest, done = std::move(done)](reply r) {
    if (r.failed()) {
      done(redis_error(r, "revoking a token"));
      return;
    }
    if (!r.is_string()) {
      done(core::error{"not_found", "no such token"});
      return;
    }
    run(redis_, scripts_,
        calls::make(calls::end_sessions{
            .user = r.str(), .what = "token", .digest = digest, .sessions = {}}),
        expect_ok(done, "revoking a token"));
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
  // The session (renewed: it lives session_hours after its last use) or the token, then its
  // user; read in order, with no function: nothing changes but the session's expiry.
  auto found = [this, key = std::move(key), done](std::string name, std::string csrf) {
    redis_.command(
        {"HMGET", keys::user(name), "name", "display_name", "role", "teams", "disabled"},
        [this, key, name, csrf, done](reply u) {
          if (u.failed() || u.size() != 5) {
            done(redis_error(u, "checking a session"));
            return;
          }
          if (!u[0].is_string() || u[4].str() == "1") {
            done(core::error{"unauthenticated", "user " + name + " is disabled"});
            return;
          }
          authenticated a;
          a.who.name = u[0].str();
          a.who.display_name = u[1].str();
          a.who.role = u[2].str();
          a.who.teams = split_team_list(u[3].str());
          a.csrf = csrf;
          cache_.insert_or_assign(key, cached{a, std::chrono::steady_clock::now() + cache_for});
          done(std::move(a));
        });
  };
  if (!session) {
    redis_.command({"GET", keys::token(digest)}, [found, done](reply t) {
      if (t.failed()) {
        done(redis_error(t, "checking a token"));
      } else if (!t.is_string()) {
        done(core::error{"unauthenticated", "unknown or revoked API token"});
      } else {
        found(t.str(), "");
      }
    });
    return;
  }
  const std::string at = keys::session(digest);
  redis_.command({"HMGET", at, "user", "csrf"}, [found, done](reply s) {
    if (s.failed() || s.size() != 2) {
      done(redis_error(s, "checking a session"));
    } else if (!s[0].is_string()) {
      done(core::error{"unauthenticated", "not logged in, or the session expired"});
    } else {
      found(s[0].str(), s[1].str());
    }
  });
  redis_.command({"EXPIRE", at, std::to_string(lifetime.count()), "XX"}, [](reply) {});
}

// Logs `name` out everywhere: every session as read now (end_sessions.lua checks the set
// did not change meanwhile, else reads again).
void user_store::end_all_sessions(const std::string& name, redis_connection::reply_handler done,
                                  int tries) {
  redis_.command({"SMEMBERS", keys::user_sessions(name)}, [this, name, done = std::move(done),
                                                           tries](reply r) mutable {
    if (r.failed()) {
      done(std::move(r));
      return;
    }
    calls::end_sessions in{.user = name, .what = "all", .digest = "", .sessions = {}};
    for (const auto& d : r.elements()) in.sessions.push_back(d.str());
    run(redis_, scripts_, calls::make(in),
        [this, name, done = std::move(done), tries](reply ended) mutable {
          if (ended.is_array() && tries < 8) {  // {'stale'}: a new session came
            end_all_sessions(name, std::move(done), tries + 1);
            return;
          }
          done(std::move(ended));
        });
  });
}

void user_store::login_attempts(const std::string& name, const std::string& address,
                                std::chrono::seconds window, bool fail,
                                handler<login_failures> done) {
  run(redis_, scripts_,
      calls::make(calls::login_attempt{.user = name,
                                       .address = address,
                                       .window_seconds = std::to_string(window.count()),
                                       .op = fail ? "fail" : "check"}),
      [done = std::move(done)](reply r) {
        if (!r.is_array() || r.size() != 2) {
          done(redis_error(r, "counting login attempts"));
          return;
        }
        done(login_failures{r[0].integer(),
                            std::chrono::seconds(std::max<std::int64_t>(r[1].integer(), 1))});
      });
}

}  // namespace askdesk::store
