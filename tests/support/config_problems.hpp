// What the config loader, with the built-in connectors' checks, says of a config: its problems
// as text, each with its JSON path ("" when there are none). For unit tests of config blocks.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "connectors/registry.hpp"
#include "daemon/config/config.hpp"

namespace askdesk::testing {

inline std::string config_problems(std::string_view text) {
  connectors::registry r;
  EXPECT_TRUE(connectors::register_builtin_connectors(r));
  json::problems out;
  const auto env = json::no_environment();
  config::parse(text, config::defaults{}, env, out,
                [&](const config::daemon_config& c, json::problems& p) { r.parse_all(c, env, p); });
  return out.to_string();
}

// The same for a config whose only connector is `block` (a JSON object).
inline std::string connector_problems(std::string_view block) {
  return config_problems(R"({"connectors": [)" + std::string(block) + "]}");
}

}  // namespace askdesk::testing
