#include "connectors/registry.hpp"

#include <algorithm>

namespace askdesk::connectors {

core::status registry::add(std::unique_ptr<connector_factory> factory) {
  if (find(factory->type())) {
    return core::error{"invalid",
                       "two connector factories for type '" + std::string(factory->type()) + "'"};
  }
  factories_.push_back(std::move(factory));
  return {};
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
    auto settings = factory->parse(*block);
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
