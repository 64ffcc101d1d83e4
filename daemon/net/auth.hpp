// Staff authentication for the API and the dashboard socket. Two ways in: a session cookie
// set by POST /api/v1/login (HttpOnly, SameSite=Strict, Secure behind TLS), whose
// state-changing requests must also carry the session's CSRF token in X-CSRF-Token and come
// from an allowed Origin; or an API token in `Authorization: Bearer`, for integrations.
//
// Login is slowed against guessing: after auth.login_attempts failures per user or per
// address within the window, it answers 429 until the window ends. Password checks run on
// the worker thread (Argon2id is deliberately slow); a missing user costs the same time.
//
// Single-threaded: use on the io_context's thread.
#pragma once

#include <functional>
#include <string>

#include "daemon/config/config.hpp"
#include "daemon/core/result.hpp"
#include "daemon/net/http.hpp"
#include "daemon/net/worker.hpp"
#include "daemon/store/user_store.hpp"

namespace askdesk::net {

inline constexpr std::string_view session_cookie = "askdesk_session";

// Who is asking.
struct principal {
  store::user user;
  std::string csrf;  // "" for API tokens

  bool sees_every_team() const { return user.role == "supervisor" || user.role == "admin"; }
  // For the Lua scripts' checks: "*" or ",team,team,".
  std::string scope() const;
  bool in_team(std::string_view team) const;
  // {"name":…,"display_name":…,"role":…,"teams":[…]}
  std::string json() const;
};

class auth_service {
 public:
  auth_service(store::user_store& users, worker& cpu, const config::daemon_config& config);

  // POST /api/v1/login, POST /api/v1/logout, GET /api/v1/me.
  void add_routes(http_router& router);

  // The principal behind `request`. Cookie-authenticated POST, PUT, PATCH and DELETE must
  // also pass the CSRF and Origin checks.
  void authenticate(const http_request& request, std::function<void(core::result<principal>)> done);

  // For WebSocket upgrades: a session cookie and an allowed Origin.
  void authenticate_socket(const http_request& request,
                           std::function<void(core::result<principal>)> done);

 private:
  void login(const http_request& request, respond_fn respond);
  void verify(std::string name, std::string password, std::string address, bool secure,
              std::optional<store::user> user, respond_fn respond);
  bool secure(const http_request& request) const;
  std::chrono::seconds session_lifetime() const;

  store::user_store& users_;
  worker& cpu_;
  const config::daemon_config& config_;
  std::string dummy_hash_;  // checked for unknown users, so they take as long as known ones
};

// A route that authenticates its caller, then runs `action` with them; one who is not
// signed in (or fails the CSRF and Origin checks) gets that error.
using authed_handler =
    std::function<void(const http_request&, const route_params&, const principal&, respond_fn)>;
http_handler authenticated(auth_service& auth, authed_handler action);

}  // namespace askdesk::net
