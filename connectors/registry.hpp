// The connector factories the daemon knows, by config `type`. Filled explicitly at start by
// register_builtin_connectors() (builtin.cpp), never by static initialisers, which a static
// library may silently drop. Refuses two factories for one type. Not thread-safe; fill it
// once, then only read.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/connector.hpp"

namespace askdesk::connectors {

class registry {
 public:
  // Refuses a null factory, an invalid type or a type already registered.
  core::status add(std::unique_ptr<connector_factory> factory);
  const connector_factory* find(std::string_view type) const;
  // "email, replay, twilio, webchat"
  std::string known_types() const;

  // Parses every connector block of `config`; problems (unknown type included) go to `out`
  // with their JSON path. The result has one entry per connector, in config order, when
  // there was no problem.
  std::vector<std::unique_ptr<connector_settings>> parse_all(const config::daemon_config& config,
                                                             const json::environment& env,
                                                             json::problems& out) const;

 private:
  std::vector<std::unique_ptr<connector_factory>> factories_;
};

// Reads a connector's block with `factory`, the common "outbound" block included; problems go
// to the reader's list. The caller calls block.finish() and sets the id.
std::unique_ptr<connector_settings> parse_block(const connector_factory& factory,
                                                json::object_reader& block);

// Adds every channel askdesk ships with (builtin.cpp: one entry per channel). A failed or
// duplicate registration is an error that stops start-up.
core::status register_builtin_connectors(registry& r);

}  // namespace askdesk::connectors
