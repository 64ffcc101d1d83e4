// The `replay` connector: a generic JSON webhook through which another system (an export
// being replayed, an integration, the benchmarks) hands askdesk messages. Protocol in
// connectors/replay/README.md.
#pragma once

#include <memory>

#include "connectors/connector.hpp"

namespace askdesk::connectors {

std::unique_ptr<connector_factory> make_replay_factory();

}  // namespace askdesk::connectors
