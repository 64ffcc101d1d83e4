#include "connectors/registry.hpp"

#include <algorithm>

namespace askdesk::connectors {

namespace {

// The block's "outbound" object: how its lane sends (docs/connectors.md).
lane_settings parse_lane(json::object_reader& block, lane_settings lane) {
  auto outbound = block.object("outbound");
  if (!outbound) return lane;
  lane.concurrency = static_cast<int>(outbound->integer("concurrency", lane.concurrency, 1, 64));
  lane.per_second = outbound->optional_number("per_second", 0, 1000).value_or(lane.per_second);
  lane.send_timeout = std::chrono::seconds(outbound->integer(
      "send_timeout_seconds",
      std::chrono::duration_cast<std::chrono::seconds>(lane.send_timeout).count(), 1, 600));
  lane.max_attempts =
      static_cast<int>(outbound->integer("max_attempts", lane.max_attempts, 1, 100));
  outbound->finish();
  return lane;
}

}  // namespace

core::status registry::add(std::unique_ptr<connector_factory> factory) {
  if (!factory) return core::error{"invalid", "a connector factory could not be made"};
  if (factory->type().empty() || !config::is_valid_id(factory->type())) {
    return core::error{"invalid", "a connector factory has an invalid type '" +
                                      std::string(factory->type()) + "'"};
  }
  if (find(factory->type())) {
    return core::error{"invalid",
                       "two connector factories for type '" + std::string(factory->type()) + "'"};
  }
  factories_.push_back(std::move(factory));
  return {};
}

std::unique_ptr<connector_settings> parse_block(const connector_factory& factory,
                                                json::object_reader& block) {
  const lane_settings lane = parse_lane(block, factory.lane_defaults());
  const auto lease = std::chrono::seconds(block.integer("lease_seconds", 0, 0, 3600));
  if (lease.count() != 0 && lease < std::chrono::seconds(3)) {
    block.out().add(block.child_path("lease_seconds"), "must be 0 (the default) or at least 3");
  }
  auto settings = factory.parse(block);
  if (settings) {
    settings->lane = lane;
    settings->lease = lease;
  }
  return settings;
}

const connector_factory* registry::find(std::string_view type) const {
  for (const auto& f : factories_) {
    if (f->type() == type) return f.get();
  }
  return nullptr;
}

std::string registry::known_types() const {
  std::vector<std::string> types;
  for (const auto& f : factories_) types.emplace_back(f->type());
  std::sort(types.begin(), types.end());
  std::string out;
  for (const auto& t : types) out += (out.empty() ? "" : ", ") + t;
  return out;
}

std::vector<std::unique_ptr<connector_settings>> registry::parse_all(
    const config::daemon_config& config, const json::environment& env, json::problems& out) const {
  std::vector<std::unique_ptr<connector_settings>> all;
  const std::size_t before = out.size();
  for (const auto& spec : config.connectors) {
    if (spec.type.empty()) continue;  // already reported by the config loader
    const connector_factory* factory = find(spec.type);
    if (!factory) {
      out.add(spec.path + ".type",
              "unknown connector type '" + spec.type + "' (known: " + known_types() + ")");
      continue;
    }
    auto block = json::object_reader::open(*spec.json, spec.path, out, env);
    if (!block) continue;
    block->has("id");
    block->has("type");
    auto settings = parse_block(*factory, *block);
    block->finish();
    if (settings) {
      settings->id = spec.id;
      all.push_back(std::move(settings));
    }
  }
  if (out.size() != before) all.clear();
  return all;
}

}  // namespace askdesk::connectors
