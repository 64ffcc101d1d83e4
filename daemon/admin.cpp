// `askdesk user ...` and `askdesk token ...`: staff accounts and API tokens, managed from the
// shell. They talk to the same Redis as the daemon (from --config, else the environment)
// through the same asynchronous connection, run on a private io_context until done.

#include <unistd.h>

#include <iostream>
#include <optional>
#include <string>

#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>

#include "daemon/cli.hpp"
#include "daemon/net/crypto.hpp"
#include "daemon/store/privacy.hpp"
#include "daemon/store/redis_connection.hpp"
#include "daemon/store/scripts.hpp"
#include "daemon/store/user_store.hpp"

namespace askdesk {

namespace {

constexpr std::size_t min_password = 10;

bool valid_user_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (const char c : name) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
    if (!ok) return false;
  }
  return (name.front() >= 'a' && name.front() <= 'z') ||
         (name.front() >= '0' && name.front() <= '9');
}

// One line from stdin, without its line end: passwords never appear in argv or the shell history.
std::optional<std::string> read_password() {
  if (isatty(STDIN_FILENO)) std::cerr << "password: " << std::flush;
  std::string line;
  if (!std::getline(std::cin, line)) return std::nullopt;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

// Redis, the scripts and a user store, alive while a command runs.
class admin_session {
 public:
  explicit admin_session(const cli::loaded_config& loaded)
      : scripts_(loaded.config.redis),
        redis_(store::redis_connection::create(
            io_, store::connection_options(loaded.config.redis, "admin", scripts_.library()))),
        users_(*redis_, scripts_),
        describe_(loaded.config.redis.describe()) {
    spdlog::set_level(spdlog::level::warn);  // the command's own output is what matters
  }

  store::redis_connection& redis() { return *redis_; }
  const store::script_set& scripts() const { return scripts_; }

  // Runs `work` once Redis is ready; fails after a few seconds without it.
  int run(std::function<void(store::user_store&, std::function<void(int)>)> work) {
    int exit_code = 1;
    bool started = false;
    const auto finish = [this, &exit_code](int code) {
      exit_code = code;
      redis_->stop();
      io_.stop();
    };
    redis_->on_ready([&] {
      if (started) return;
      started = true;
      work(users_, finish);
    });
    redis_->start();
    io_.run_for(std::chrono::minutes(10));  // a purge of years of conversations takes a while
    if (!started) {
      std::cerr << "askdesk: cannot reach Redis at " << describe_ << ": " << redis_->last_error()
                << "\n";
      return 1;
    }
    return exit_code;
  }

 private:
  boost::asio::io_context io_;
  store::script_set scripts_;
  std::unique_ptr<store::redis_connection> redis_;
  store::user_store users_;
  std::string describe_;
};

int fail(const core::error& e) {
  std::cerr << "askdesk: " << e.message << "\n";
  return 1;
}

int usage_error(std::string_view usage) {
  std::cerr << "usage: " << usage << "\n";
  return 2;
}

}  // namespace

int run_user(const cli::arguments& args) {
  const auto& p = args.positional;
  if (p.empty())
    return usage_error("askdesk user add|list|disable|enable|passwd ... (see askdesk help)");
  const std::string& verb = p[0];
  auto loaded = cli::load_config(args.option("--config"));
  if (!loaded) return 2;

  if (verb == "list") {
    if (p.size() != 1) return usage_error("askdesk user list");
    return admin_session(*loaded).run([](store::user_store& users, std::function<void(int)> done) {
      users.list([done](core::result<std::vector<store::user>> r) {
        if (!r) {
          done(fail(r.err()));
          return;
        }
        for (const auto& u : r.value()) {
          std::string teams;
          for (const auto& t : u.teams) teams += (teams.empty() ? "" : ",") + t;
          std::cout << u.name << "\t" << u.role << "\t" << (teams.empty() ? "-" : teams) << "\t"
                    << (u.disabled ? "disabled" : "active") << "\t" << u.display_name << "\n";
        }
        done(0);
      });
    });
  }

  if (p.size() != 2) return usage_error("askdesk user " + verb + " NAME ...");
  const std::string name = p[1];
  if (!valid_user_name(name)) {
    std::cerr << "askdesk: user names are 1 to 64 of a-z, 0-9, '.', '-', '_'\n";
    return 2;
  }

  if (verb == "add" || verb == "passwd") {
    if (!args.has_flag("--password-stdin")) {
      return usage_error("askdesk user " + verb +
                         " NAME ... --password-stdin (the password is read from stdin)");
    }
    store::user u;
    u.name = name;
    if (verb == "add") {
      u.role = args.option("--role");
      if (u.role != "staff" && u.role != "supervisor" && u.role != "admin") {
        std::cerr << "askdesk: --role must be staff, supervisor or admin, not '" << u.role << "'\n";
        return 2;
      }
      const auto teams = args.options.find("--team");
      if (teams != args.options.end()) {
        for (const auto& t : teams->second) {
          if (!loaded->config.find_team(t)) {
            std::cerr << "askdesk: --team " << t << ": no such team in the configuration\n";
            return 2;
          }
          u.teams.push_back(t);
        }
      }
      if (u.teams.empty() && u.role == "staff") {
        std::cerr << "askdesk: staff need at least one --team\n";
        return 2;
      }
      u.display_name = args.option("--name", name);
    }
    const auto password = read_password();
    if (!password || password->size() < min_password) {
      std::cerr << "askdesk: the password must be at least " << min_password << " characters\n";
      return 2;
    }
    auto hash = net::hash_password(*password);
    if (!hash) return fail(hash.err());
    u.password_hash = std::move(hash.value());
    return admin_session(*loaded).run(
        [u, verb](store::user_store& users, std::function<void(int)> done) {
          const auto answer = [done, u, verb](core::status s) {
            if (!s) {
              done(fail(s.err()));
              return;
            }
            std::cout << (verb == "add" ? "added " : "changed the password of ") << u.name << "\n";
            done(0);
          };
          if (verb == "add") {
            users.add(u, answer);
          } else {
            users.set_password(u.name, u.password_hash, answer);
          }
        });
  }

  if (verb == "disable" || verb == "enable") {
    const bool disable = verb == "disable";
    return admin_session(*loaded).run(
        [name, disable](store::user_store& users, std::function<void(int)> done) {
          users.set_disabled(name, disable, [done, name, disable](core::status s) {
            if (!s) {
              done(fail(s.err()));
              return;
            }
            std::cout << (disable ? "disabled " : "enabled ") << name << "\n";
            done(0);
          });
        });
  }
  return usage_error("askdesk user add|list|disable|enable|passwd ... (see askdesk help)");
}

int run_token(const cli::arguments& args) {
  const auto& p = args.positional;
  auto loaded = cli::load_config(args.option("--config"));
  if (!loaded) return 2;
  if (p.size() == 1 && p[0] == "create") {
    const std::string name = args.option("--user");
    if (name.empty()) return usage_error("askdesk token create --user NAME");
    return admin_session(*loaded).run(
        [name](store::user_store& users, std::function<void(int)> done) {
          users.get(name, [&users, done, name](core::result<std::optional<store::user>> u) {
            if (!u) {
              done(fail(u.err()));
              return;
            }
            if (!u.value() || u.value()->disabled) {
              done(fail({"not_found", "user " + name + " does not exist or is disabled"}));
              return;
            }
            const std::string token = net::random_token();
            users.create_token(name, net::sha256_hex(token), [done, token](core::status s) {
              if (!s) {
                done(fail(s.err()));
                return;
              }
              std::cout << token << "\n";
              done(0);
            });
          });
        });
  }
  if (p.size() == 2 && p[0] == "revoke") {
    const std::string digest = net::sha256_hex(p[1]);
    return admin_session(*loaded).run(
        [digest](store::user_store& users, std::function<void(int)> done) {
          users.revoke_token(digest, [done](core::status s) {
            if (!s) {
              done(fail(s.err()));
              return;
            }
            std::cout << "revoked\n";
            done(0);
          });
        });
  }
  return usage_error("askdesk token create --user NAME | askdesk token revoke TOKEN");
}

// `askdesk privacy purge [--dry-run] [--as-of TIME]`: the scheduled purge, on demand.
int run_privacy(const cli::arguments& args) {
  const auto& p = args.positional;
  constexpr std::string_view usage =
      "askdesk privacy purge [--dry-run] [--as-of TIME] --config FILE";
  if (p.size() != 1 || p[0] != "purge") return usage_error(usage);
  auto loaded = cli::load_config(args.option("--config"));
  if (!loaded) return 2;
  auto now = core::wall_clock().now();
  if (const std::string as_of = args.option("--as-of"); !as_of.empty()) {
    const auto at = core::parse_iso8601(as_of);
    if (!at) {
      std::cerr << "askdesk: --as-of must be an RFC 3339 time, like 2027-01-31T00:00:00Z\n";
      return 2;
    }
    now = *at;
  }
  const bool dry = args.has_flag("--dry-run");
  admin_session session(*loaded);
  const auto policy = cli::privacy_retention(loaded->config, *loaded->registry);
  return session.run(
      [&session, policy, dry, now](store::user_store&, std::function<void(int)> done) {
        store::privacy::purge(session.redis(), session.scripts(), core::to_millis(now), policy, dry,
                              [done](core::result<store::privacy::report> r) {
                                if (!r) return done(fail(r.err()));
                                std::cout << r.value().text();
                                done(0);
                              });
      });
}

// `askdesk patron erase ID` and `askdesk patron export ID`: a patron's request, from the
// shell (as POST /api/v1/patrons/{id}/erase and GET …/export).
int run_patron(const cli::arguments& args) {
  const auto& p = args.positional;
  constexpr std::string_view usage = "askdesk patron erase|export ID --config FILE";
  if (p.size() != 2 || (p[0] != "erase" && p[0] != "export")) return usage_error(usage);
  const std::string id = p[1];
  if (id.empty() || id.find_first_not_of("0123456789") != std::string::npos) {
    return usage_error(usage);
  }
  auto loaded = cli::load_config(args.option("--config"));
  if (!loaded) return 2;
  admin_session session(*loaded);
  if (p[0] == "export") {
    return session.run([&session, id](store::user_store&, std::function<void(int)> done) {
      store::privacy::export_patron(session.redis(), id, [done](core::result<std::string> r) {
        if (!r) return done(fail(r.err()));
        std::cout << r.value() << "\n";
        done(0);
      });
    });
  }
  const auto policy = cli::privacy_retention(loaded->config, *loaded->registry);
  return session.run([&session, id, policy](store::user_store&, std::function<void(int)> done) {
    store::privacy::erase(session.redis(), session.scripts(),
                          core::to_millis(core::wall_clock().now()), id, policy,
                          [done](core::result<store::privacy::report> r) {
                            if (!r) return done(fail(r.err()));
                            std::cout << r.value().text();
                            done(0);
                          });
  });
}

}  // namespace askdesk
