#include "daemon/net/auth.hpp"

#include <spdlog/spdlog.h>

#include "daemon/json/writer.hpp"
#include "daemon/net/crypto.hpp"
#include "daemon/net/json_body.hpp"

namespace askdesk::net {

namespace {

bool changes_state(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

std::optional<std::string> bearer(const http_request& r) {
  const std::string_view h = r.header("authorization");
  if (h.size() > 7 && (h.starts_with("Bearer ") || h.starts_with("bearer "))) {
    return std::string(h.substr(7));
  }
  return std::nullopt;
}

http_response too_many(std::chrono::seconds retry_after) {
  auto r = http_response::error(
      429, "too_many_attempts",
      "too many failed logins; try again in " + std::to_string(retry_after.count()) + " s");
  r.header("Retry-After", std::to_string(retry_after.count()));
  return r;
}

}  // namespace

std::string principal::scope() const {
  return sees_every_team() ? "*" : store::team_list(user.teams);
}

bool principal::in_team(std::string_view team) const {
  if (sees_every_team()) return true;
  for (const auto& t : user.teams) {
    if (t == team) return true;
  }
  return false;
}

std::string principal::json() const {
  json::writer w;
  w.start_object()
      .field("name", user.name)
      .field("display_name", user.shown_name())
      .field("role", user.role)
      .key("teams")
      .start_array();
  for (const auto& t : user.teams) w.string(t);
  w.end_array().end_object();
  return w.str();
}

auth_service::auth_service(store::user_store& users, worker& cpu,
                           const config::daemon_config& config)
    : users_(users), cpu_(cpu), config_(config) {
  cpu_.run<std::string>([] { return hash_password(random_token()).value(); },
                        [this](std::string hash) { dummy_hash_ = std::move(hash); });
}

std::chrono::seconds auth_service::session_lifetime() const {
  return std::chrono::hours(config_.auth.session_hours);
}

bool auth_service::secure(const http_request& request) const {
  return config_.http.trust_forwarded_proto && request.header("x-forwarded-proto") == "https";
}

void auth_service::authenticate(const http_request& request,
                                std::function<void(core::result<principal>)> done) {
  if (auto token = bearer(request)) {
    users_.authenticate(false, sha256_hex(*token), session_lifetime(),
                        [done = std::move(done)](core::result<store::authenticated> a) {
                          if (!a) {
                            done(a.err());
                            return;
                          }
                          done(principal{std::move(a->who), {}});
                        });
    return;
  }
  const auto cookie = request.cookie(session_cookie);
  if (!cookie) {
    done(core::error{"unauthenticated", "log in first (POST /api/v1/login) or send an API token"});
    return;
  }
  const bool check_csrf = changes_state(request.method);
  if (check_csrf && !config_.http.origin_allowed(request.header("origin")) &&
      !request.header("origin").empty()) {
    done(core::error{"forbidden", "requests from origin " + std::string(request.header("origin")) +
                                      " are not allowed"});
    return;
  }
  users_.authenticate(true, sha256_hex(*cookie), session_lifetime(),
                      [check_csrf, sent = std::string(request.header("x-csrf-token")),
                       done = std::move(done)](core::result<store::authenticated> a) {
                        if (!a) {
                          done(a.err());
                          return;
                        }
                        if (check_csrf && !constant_time_equal(sent, a->csrf)) {
                          done(core::error{"csrf", "missing or wrong X-CSRF-Token header"});
                          return;
                        }
                        done(principal{std::move(a->who), std::move(a->csrf)});
                      });
}

void auth_service::authenticate_socket(const http_request& request,
                                       std::function<void(core::result<principal>)> done) {
  if (!config_.http.origin_allowed(request.header("origin"))) {
    done(core::error{
        "origin_not_allowed",
        "WebSocket from origin '" + std::string(request.header("origin")) + "' refused"});
    return;
  }
  authenticate(request, std::move(done));
}

void auth_service::add_routes(http_router& router) {
  router.add("POST", "/api/v1/login",
             [this](const http_request& r, const route_params&, respond_fn respond) {
               login(r, std::move(respond));
             });
  router.add("POST", "/api/v1/logout",
             [this](const http_request& r, const route_params&, respond_fn respond) {
               authenticate(r, [this, cookie = r.cookie(session_cookie), secure = secure(r),
                                respond = std::move(respond)](core::result<principal> p) {
                 if (!p) {
                   respond(http_response::from(p.err()));
                   return;
                 }
                 const auto answer = [secure, respond](core::status s) {
                   if (!s) {
                     respond(http_response::from(s.err()));
                     return;
                   }
                   http_response out = http_response::text(204, "");
                   out.header("Set-Cookie", std::string(session_cookie) +
                                                "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0" +
                                                (secure ? "; Secure" : ""));
                   respond(std::move(out));
                 };
                 if (cookie) {
                   users_.end_session(sha256_hex(*cookie), answer);
                 } else {
                   answer(core::status{});
                 }
               });
             });
  router.add(
      "GET", "/api/v1/me", [this](const http_request& r, const route_params&, respond_fn respond) {
        authenticate(r, [respond = std::move(respond)](core::result<principal> p) {
          if (!p) {
            respond(http_response::from(p.err()));
            return;
          }
          json::writer w;
          w.start_object().key("user").raw(p->json()).field("csrf_token", p->csrf).end_object();
          respond(http_response::json(200, w.str()));
        });
      });
}

void auth_service::login(const http_request& request, respond_fn respond) {
  if (!request.header("origin").empty() && !config_.http.origin_allowed(request.header("origin"))) {
    respond(http_response::error(403, "forbidden", "logins from this origin are not allowed"));
    return;
  }
  auto body = json_body::parse(request.body);
  if (!body) {
    respond(http_response::from(body.err()));
    return;
  }
  auto name = body->text("username", 64);
  auto password = body->text("password", 1024);
  if (!name || !password) {
    respond(http_response::from(!name ? name.err() : password.err()));
    return;
  }
  const std::string address = request.remote_address;
  const std::chrono::minutes window(config_.auth.login_window_minutes);
  users_.login_attempts(
      name.value(), address, window, false,
      [this, name = name.value(), password = password.value(), address, secure = secure(request),
       respond = std::move(respond)](core::result<store::login_failures> f) mutable {
        if (!f) {
          respond(http_response::from(f.err()));
          return;
        }
        if (f->count >= config_.auth.login_attempts) {
          respond(too_many(f->retry_after));
          return;
        }
        users_.get(name, [this, name, password = std::move(password), address, secure,
                          respond = std::move(respond)](
                             core::result<std::optional<store::user>> u) mutable {
          if (!u) {
            respond(http_response::from(u.err()));
            return;
          }
          verify(std::move(name), std::move(password), address, secure, std::move(u.value()),
                 std::move(respond));
        });
      });
}

void auth_service::verify(std::string name, std::string password, std::string address, bool secure,
                          std::optional<store::user> user, respond_fn respond) {
  const bool usable = user && !user->disabled && !user->password_hash.empty();
  std::string hash = usable ? user->password_hash : dummy_hash_;
  cpu_.run<bool>(
      [hash = std::move(hash), password = std::move(password)] {
        return !hash.empty() && verify_password(hash, password);
      },
      [this, name, address, secure, usable, user = std::move(user),
       respond = std::move(respond)](bool matches) mutable {
        if (!usable || !matches) {
          spdlog::info("login: failed for '{}' from {}", name, address);
          users_.login_attempts(
              name, address, std::chrono::minutes(config_.auth.login_window_minutes), true,
              [respond = std::move(respond)](core::result<store::login_failures>) {
                respond(http_response::error(401, "invalid_login", "wrong user name or password"));
              });
          return;
        }
        const std::string cookie = random_token();
        principal p{std::move(*user), random_token()};
        p.user.password_hash.clear();
        users_.create_session(
            p.user.name, sha256_hex(cookie), p.csrf, session_lifetime(),
            [this, p, cookie, secure, respond = std::move(respond)](core::status s) {
              if (!s) {
                respond(http_response::from(s.err()));
                return;
              }
              spdlog::info("login: {} ({})", p.user.name, p.user.role);
              json::writer w;
              w.start_object().key("user").raw(p.json()).field("csrf_token", p.csrf).end_object();
              auto out = http_response::json(200, w.str());
              out.header("Set-Cookie", std::string(session_cookie) + "=" + cookie +
                                           "; Path=/; HttpOnly; SameSite=Strict" +
                                           (secure ? "; Secure" : ""));
              respond(std::move(out));
            });
      });
}

http_handler authenticated(auth_service& auth, authed_handler action) {
  return [&auth, action = std::move(action)](const http_request& r, const route_params& params,
                                             respond_fn respond) {
    auth.authenticate(
        r, [&r, params, action, respond = std::move(respond)](core::result<principal> who) {
          if (!who) {
            respond(http_response::from(who.err()));
            return;
          }
          action(r, params, who.value(), respond);
        });
  };
}

}  // namespace askdesk::net
