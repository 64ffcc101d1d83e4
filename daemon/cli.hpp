// The askdesk command line: parsing of subcommands and options, the defaults that come from
// the environment, and the small commands (help, version, check-config). `serve` lives in
// serve.cpp. Used only by main.cpp.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <functional>
#include <memory>

#include "connectors/registry.hpp"
#include "daemon/config/config.hpp"
#include "daemon/core/result.hpp"
#include "daemon/store/privacy.hpp"

namespace askdesk::cli {

struct arguments {
  std::string command;  // "serve", "check-config", ...; "help" when none
  std::vector<std::string> positional;
  std::map<std::string, std::vector<std::string>> options;  // "--config" -> {"FILE"}
  std::vector<std::string> flags;                           // "--password-stdin"

  bool has_flag(std::string_view flag) const;
  // The last value given for `option`, or `fallback`.
  std::string option(const std::string& option, std::string fallback = {}) const;
};

// Unknown options and missing option values are errors that name them.
core::result<arguments> parse(int argc, char** argv);

std::string usage();

// Defaults for what a config file leaves out, from the environment and the install layout.
config::defaults environment_defaults();

struct loaded_config {
  config::daemon_config config;
  std::unique_ptr<connectors::registry> registry;  // the factories that read the blocks
  // Each connector's block, read by its factory; in config order.
  std::vector<std::unique_ptr<connectors::connector_settings>> connectors;
};

// Fills the connector registry; a refused registration is an error.
using registration = std::function<core::status(connectors::registry&)>;

// Registers the connectors (`add`), then loads the file at `path` (the built-in
// configuration when empty) and each connector's block. Prints every problem, and a refused
// registration, to stderr; nullopt when there was any.
std::optional<loaded_config> load_config(
    const std::string& path, const config::defaults& defaults = environment_defaults(),
    const registration& add = connectors::register_builtin_connectors);

int run_check_config(const arguments& args);

// The retention `config` asks for (privacy.*), with the records its connectors keep per
// patron address (their factories say which), as the store applies it.
store::privacy::retention privacy_retention(const config::daemon_config& config,
                                            const connectors::registry& registry);

// askdesk keys: the Redis key catalogue (store/keys.hpp).
int run_keys(const arguments& args);

}  // namespace askdesk::cli
