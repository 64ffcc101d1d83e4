#include "daemon/core/metrics.hpp"

#include <algorithm>
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

void metrics::declare_histogram(std::string name, std::string help, std::vector<double> buckets) {
  family f{std::move(help), false, {}};
  f.buckets = std::move(buckets);
  families_[std::move(name)] = std::move(f);
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

void metrics::observe(std::string_view name, metric_labels labels, double value) {
  auto& f = find(name);
  if (f.buckets.empty()) throw std::logic_error("not a histogram: " + std::string(name));
  auto& h = f.histograms[label_key(labels)];
  h.counts.resize(f.buckets.size() + 1);
  const auto at = std::lower_bound(f.buckets.begin(), f.buckets.end(), value) - f.buckets.begin();
  ++h.counts[static_cast<std::size_t>(at)];
  h.sum += value;
}

double metrics::value(std::string_view name, metric_labels labels) const {
  const auto it = families_.find(name);
  if (it == families_.end()) return 0;
  const auto sample = it->second.samples.find(label_key(labels));
  return sample == it->second.samples.end() ? 0 : sample->second;
}

namespace {

std::string number_text(double value) {
  char number[64];
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    std::snprintf(number, sizeof number, "%.0f", value);
  } else {
    std::snprintf(number, sizeof number, "%.9g", value);
  }
  return number;
}

// `labels` ("{a=\"b\"}" or "") with one more label.
std::string with_label(const std::string& labels, std::string_view name, const std::string& v) {
  const std::string more = std::string(name) + "=\"" + v + "\"";
  return labels.empty() ? "{" + more + "}" : labels.substr(0, labels.size() - 1) + "," + more + "}";
}

}  // namespace

std::string metrics::render() const {
  std::string out;
  for (const auto& [name, f] : families_) {
    const bool histogram = !f.buckets.empty();
    out += "# HELP " + name + " " + f.help + "\n";
    out += "# TYPE " + name + (histogram ? " histogram\n" : f.counter ? " counter\n" : " gauge\n");
    for (const auto& [labels, value] : f.samples) {
      out += name + labels + " " + number_text(value) + "\n";
    }
    for (const auto& [labels, h] : f.histograms) {
      std::int64_t cumulative = 0;
      for (std::size_t i = 0; i < h.counts.size(); ++i) {
        cumulative += h.counts[i];
        const std::string le = i < f.buckets.size() ? number_text(f.buckets[i]) : "+Inf";
        out += name + "_bucket" + with_label(labels, "le", le) + " " + std::to_string(cumulative) +
               "\n";
      }
      out += name + "_sum" + labels + " " + number_text(h.sum) + "\n";
      out += name + "_count" + labels + " " + std::to_string(cumulative) + "\n";
    }
  }
  return out;
}

}  // namespace askdesk::core
