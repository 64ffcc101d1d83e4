#include "daemon/core/metrics.hpp"

#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace askdesk::core {

void metrics::declare_counter(std::string name, std::string help) {
  families_[std::move(name)] = family{std::move(help), true, {}};
}

void metrics::declare_gauge(std::string name, std::string help) {
  families_[std::move(name)] = family{std::move(help), false, {}};
}

std::string metrics::label_key(metric_labels labels) {
  if (labels.size() == 0) return {};
  std::string out = "{";
  bool first = true;
  for (const auto& [key, value] : labels) {
    if (!first) out += ',';
    first = false;
    out += key;
    out += "=\"";
    for (const char c : value) {
      if (c == '\\' || c == '"') {
        out += '\\';
        out += c;
      } else if (c == '\n') {
        out += "\\n";
      } else {
        out += c;
      }
    }
    out += '"';
  }
  return out + "}";
}

metrics::family& metrics::find(std::string_view name) {
  const auto it = families_.find(name);
  if (it == families_.end()) throw std::logic_error("metric not declared: " + std::string(name));
  return it->second;
}

void metrics::add(std::string_view name, metric_labels labels, double amount) {
  find(name).samples[label_key(labels)] += amount;
}

void metrics::set(std::string_view name, metric_labels labels, double value) {
  find(name).samples[label_key(labels)] = value;
}

double metrics::value(std::string_view name, metric_labels labels) const {
  const auto it = families_.find(name);
  if (it == families_.end()) return 0;
  const auto sample = it->second.samples.find(label_key(labels));
  return sample == it->second.samples.end() ? 0 : sample->second;
}

std::string metrics::render() const {
  std::string out;
  char number[64];
  for (const auto& [name, f] : families_) {
    out += "# HELP " + name + " " + f.help + "\n";
    out += "# TYPE " + name + (f.counter ? " counter\n" : " gauge\n");
    for (const auto& [labels, value] : f.samples) {
      if (value == std::floor(value) && std::fabs(value) < 1e15) {
        std::snprintf(number, sizeof number, "%.0f", value);
      } else {
        std::snprintf(number, sizeof number, "%.9g", value);
      }
      out += name + labels + " " + number + "\n";
    }
  }
  return out;
}

}  // namespace askdesk::core
