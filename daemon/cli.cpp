#include "daemon/cli.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <iostream>

#include "connectors/registry.hpp"
#include "daemon/net/privacy.hpp"
#include "daemon/store/keys.hpp"

namespace askdesk::cli {

namespace {

// Options that take a value; every other --option is a flag from this list.
const std::vector<std::string> valued = {"--config", "--log-level",   "--listen",
                                         "--role",   "--team",        "--user",
                                         "--name",   "--clock-start", "--as-of"};
const std::vector<std::string> known_flags = {"--password-stdin", "--help", "--dry-run"};

std::string executable_dir() {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : self.parent_path().string();
}

}  // namespace

bool arguments::has_flag(std::string_view flag) const {
  return std::find(flags.begin(), flags.end(), flag) != flags.end();
}

std::string arguments::option(const std::string& name, std::string fallback) const {
  const auto it = options.find(name);
  return it == options.end() || it->second.empty() ? fallback : it->second.back();
}

core::result<arguments> parse(int argc, char** argv) {
  arguments args;
  for (int i = 1; i < argc; ++i) {
    std::string word = argv[i];
    if (!word.starts_with("--")) {
      if (args.command.empty()) {
        args.command = word;
      } else {
        args.positional.push_back(word);
      }
      continue;
    }
    std::string value;
    bool has_value = false;
    if (const std::size_t eq = word.find('='); eq != std::string::npos) {
      value = word.substr(eq + 1);
      word = word.substr(0, eq);
      has_value = true;
    }
    if (std::find(valued.begin(), valued.end(), word) != valued.end()) {
      if (!has_value) {
        if (i + 1 >= argc) return core::error{"invalid", word + " needs a value"};
        value = argv[++i];
      }
      args.options[word].push_back(value);
    } else if (std::find(known_flags.begin(), known_flags.end(), word) != known_flags.end() &&
               !has_value) {
      args.flags.push_back(word);
    } else {
      return core::error{"invalid", "unknown option " + word + " (see askdesk help)"};
    }
  }
  if (args.command.empty() || args.has_flag("--help")) {
    if (!args.command.empty() && args.command != "help")
      args.positional.insert(args.positional.begin(), args.command);
    args.command = "help";
  }
  return args;
}

std::string usage() {
  return R"(askdesk: one hub for a library's patron conversations (web chat, SMS, email, ...).

Usage:
  askdesk serve [--config FILE] [--log-level LEVEL] [--listen HOST:PORT] [--clock-start TIME]
      Runs the daemon. Without --config it runs a local hub: HTTP on 127.0.0.1:8080,
      Redis from $ASKDESK_REDIS_URL (or the private server ./deploy/quickstart.sh starts,
      or redis://127.0.0.1:6379/0), web chat on, one team "reference".
      LEVEL is trace, debug, info, warn, error, critical or off (default: the config's
      log_level, else info). --listen overrides the config's http.listen.
      --clock-start runs the daemon's clock from TIME (RFC 3339, e.g.
      2026-11-23T23:00:00-05:00) instead of now, to try opening hours on a test
      instance; never on the live one.
      SIGTERM or SIGINT stops it cleanly.
  askdesk user add NAME --role staff|supervisor|admin [--team T]... [--name "Display Name"]
                   --password-stdin
      Adds a staff account; the password (10 characters or more) is read from stdin.
      Staff act on their teams' conversations; supervisors and admins on all.
  askdesk user list
  askdesk user disable NAME | enable NAME
      Disabling ends the user's sessions and stops their API tokens.
  askdesk user passwd NAME --password-stdin
      Sets a new password and ends the user's sessions.
  askdesk token create --user NAME
      Prints a new API token (only the token) for Authorization: Bearer TOKEN.
  askdesk token revoke TOKEN
      The user and token commands take --config FILE to find Redis (else as serve does).
  askdesk check-config FILE
      Checks FILE and prints every problem with its JSON path, or "ok".
  askdesk keys
      Prints every family of Redis keys askdesk writes: its pattern, type, whether it
      holds patron text or identifiers, how long it lives, and what it holds.
  askdesk privacy purge [--dry-run] [--as-of TIME]
      Redacts what is past the config's privacy retention now (as the daemons do every
      privacy.purge_minutes) and prints what it removed by key family; --dry-run prints
      what it would remove; --as-of purges as if it were TIME (RFC 3339).
  askdesk patron erase ID | export ID
      A patron's request: erase removes their identifiers and everything they wrote now,
      keeping the statistics (their conversations must be closed); export prints
      everything held about them as JSON. The privacy and patron commands take --config
      FILE like the user commands; docs/privacy.md says what is kept and for how long.
  askdesk version
      Prints the version.
  askdesk help
      Prints this text.

Environment:
  ASKDESK_REDIS_URL   Redis when the config has no redis.url (redis://host:port/db or
                      unix:///path/to/redis.sock)
  ASKDESK_WEB_ROOT    the web/ folder when the config has no http.web_root

Exit status: 0 on success, 1 on a runtime failure, 2 on bad usage or bad configuration.
The manual: README.md and docs/ in the source tree.
)";
}

config::defaults environment_defaults() {
  config::defaults d;
  namespace fs = std::filesystem;
  std::error_code ec;
  if (const char* url = std::getenv("ASKDESK_REDIS_URL"); url && *url) {
    d.redis_url = url;
  } else if (const std::string socket = std::string(ASKDESK_SOURCE_DIR) + "/var/redis/redis.sock";
             fs::exists(socket, ec)) {
    d.redis_url = "unix://" + socket;
  }
  if (const char* web = std::getenv("ASKDESK_WEB_ROOT"); web && *web) {
    d.web_root = web;
  } else if (const std::string installed = executable_dir() + "/../share/askdesk/web";
             fs::is_directory(installed, ec)) {
    d.web_root = fs::weakly_canonical(installed, ec).string();
  } else {
    d.web_root = std::string(ASKDESK_SOURCE_DIR) + "/web";
  }
  return d;
}

std::optional<loaded_config> load_config(const std::string& path, const config::defaults& defaults,
                                         const registration& add) {
  const auto env = json::process_environment();
  json::problems problems;
  auto registry = std::make_unique<connectors::registry>();
  if (auto added = add(*registry); !added) {
    std::cerr << "askdesk: cannot start: registering the connectors: " << added.err().message
              << "\n";
    return std::nullopt;
  }
  std::vector<std::unique_ptr<connectors::connector_settings>> settings;
  const auto read_connectors = [&](const config::daemon_config& c, json::problems& out) {
    settings = registry->parse_all(c, env, out);
  };
  std::optional<config::daemon_config> c;
  if (path.empty()) {
    c = config::builtin(defaults);
    read_connectors(*c, problems);
  } else {
    c = config::load_file(path, defaults, env, problems, read_connectors);
  }
  if (!problems.empty()) {
    const std::string where = path.empty() ? "built-in configuration" : path;
    for (const auto& p : problems.list()) {
      std::cerr << where << ": " << (p.path.empty() ? "" : p.path + ": ") << p.message << "\n";
    }
    return std::nullopt;
  }
  return loaded_config{std::move(*c), std::move(registry), std::move(settings)};
}

int run_keys(const arguments& args) {
  if (!args.positional.empty()) {
    std::cerr << "usage: askdesk keys\n";
    return 2;
  }
  std::size_t widths[3] = {7, 4, 11};
  for (const auto& f : store::key_catalogue()) {
    widths[0] = std::max(widths[0], f.pattern.size());
    widths[1] = std::max(widths[1], f.type.size());
  }
  const auto row = [&](std::string_view a, std::string_view b, std::string_view c,
                       std::string_view d, std::string_view e) {
    std::cout << a << std::string(widths[0] + 2 - a.size(), ' ') << b
              << std::string(widths[1] + 2 - b.size(), ' ') << c
              << std::string(widths[2] + 2 - c.size(), ' ') << d << "\n"
              << std::string(widths[0] + 2, ' ') << e << "\n";
  };
  row("PATTERN", "TYPE", "PATRON DATA", "RETENTION", "HOLDS (WRITTEN BY)");
  for (const auto& f : store::key_catalogue()) {
    row(f.pattern, f.type, store::name(f.data), f.retention,
        std::string(f.holds) + " (" + std::string(f.owner) + ")");
  }
  return 0;
}

int run_check_config(const arguments& args) {
  if (args.positional.size() != 1) {
    std::cerr << "usage: askdesk check-config FILE\n";
    return 2;
  }
  if (!load_config(args.positional[0])) return 2;
  std::cout << "ok\n";
  return 0;
}

store::privacy::retention privacy_retention(const config::daemon_config& config,
                                            const connectors::registry& registry) {
  auto r = net::retention_of(config);
  for (const auto& spec : config.connectors) {
    const auto* factory = registry.find(spec.type);
    if (!factory) continue;
    for (const auto& record : factory->address_records()) {
      r.address_records.emplace_back(
          record.channel, store::keys::connector_record(spec.type, spec.id, record.prefix));
    }
  }
  return r;
}

}  // namespace askdesk::cli
