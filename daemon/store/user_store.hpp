// Staff accounts, their sessions and API tokens in Redis. Secrets are never stored: sessions
// and tokens are kept under the SHA-256 of the random value the browser or the integration
// holds, and passwords only as Argon2id strings (net/crypto.hpp). Used by the daemon's login
// and API, and by the `askdesk user` / `askdesk token` commands.
//
// Single-threaded, like the connection it uses.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "daemon/core/result.hpp"
#include "daemon/store/redis_connection.hpp"
#include "daemon/store/scripts.hpp"

namespace askdesk::store {

struct user {
  std::string name;          // login name, [a-z0-9][a-z0-9._-]*
  std::string display_name;  // shown to colleagues and patrons
  std::string role;          // "staff", "supervisor" or "admin"
  std::vector<std::string> teams;
  bool disabled = false;
  std::string password_hash;  // Argon2id string; empty when read for display

  // What colleagues and patrons see: the display name, else the login name.
  const std::string& shown_name() const { return display_name.empty() ? name : display_name; }
};

// Who a session or a token belongs to, for one request.
struct authenticated {
  user who;
  std::string csrf;  // the session's CSRF token; "" for API tokens
};

struct login_failures {
  std::int64_t count = 0;
  std::chrono::seconds retry_after{0};
};

class user_store {
 public:
  template <class T>
  using handler = std::function<void(core::result<T>)>;
  using done_handler = std::function<void(core::status)>;

  user_store(redis_connection& redis, const script_set& scripts)
      : redis_(redis), scripts_(scripts) {}

  // "conflict" when the name is taken.
  void add(const user& u, done_handler done);
  // nullopt when there is no such user.
  void get(const std::string& name, handler<std::optional<user>> done);
  void list(handler<std::vector<user>> done);
  // These end the user's sessions; "not_found" for an unknown user.
  void set_password(const std::string& name, const std::string& password_hash, done_handler done);
  void set_disabled(const std::string& name, bool disabled, done_handler done);

  void create_session(const std::string& name, const std::string& digest, const std::string& csrf,
                      std::chrono::seconds lifetime, done_handler done);
  void end_session(const std::string& digest, done_handler done);
  void create_token(const std::string& name, const std::string& digest, done_handler done);
  // "not_found" when no token has that digest.
  void revoke_token(const std::string& digest, done_handler done);

  // The user of a session (refreshing its lifetime) or a token; "unauthenticated" otherwise.
  // An answer from Redis is trusted for `cache_for` without asking again (most API requests
  // then cost no script); a logout here and forget_user() drop what they concern at once.
  void authenticate(bool session, const std::string& digest, std::chrono::seconds lifetime,
                    handler<authenticated> done);
  static constexpr std::chrono::seconds cache_for{5};

  // Drops what authenticate() remembers of `name`: the `staff.changed` event (a password
  // change, a disabled user or a revoked token, on any daemon or from the command line).
  void forget_user(std::string_view name);

  // Failed logins per user and per address within `window`; `fail` counts one more.
  void login_attempts(const std::string& name, const std::string& address,
                      std::chrono::seconds window, bool fail, handler<login_failures> done);

 private:
  void exists(const std::string& name, std::function<void(core::status)> then);
  void end_all_sessions(const std::string& name, redis_connection::reply_handler done,
                        int tries = 0);

  struct cached {
    authenticated who;
    std::chrono::steady_clock::time_point until;
  };

  redis_connection& redis_;
  const script_set& scripts_;
  std::unordered_map<std::string, cached> cache_;  // "s:" or "t:" + digest
};

// ",a,b," for the Lua scripts' team checks.
std::string team_list(const std::vector<std::string>& teams);
std::vector<std::string> split_team_list(std::string_view text);

}  // namespace askdesk::store
