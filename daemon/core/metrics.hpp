// The numbers /metrics shows, in Prometheus text format: counters that only grow (messages
// received, routed, sent, failed by channel), gauges that are set (queue depth, open
// WebSockets, Redis round trip) and histograms of observed values (waits, first responses).
// Families are declared once with their help text; samples are keyed by their labels. Not
// thread-safe: the daemon touches it from its one I/O thread.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace askdesk::core {

using metric_labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

class metrics {
 public:
  void declare_counter(std::string name, std::string help);
  void declare_gauge(std::string name, std::string help);
  // `buckets`: the upper bounds, ascending (+Inf is added).
  void declare_histogram(std::string name, std::string help, std::vector<double> buckets);

  // REQUIRES: `name` was declared.
  void add(std::string_view name, metric_labels labels, double amount = 1);
  void set(std::string_view name, metric_labels labels, double value);
  // REQUIRES: `name` was declared as a histogram.
  void observe(std::string_view name, metric_labels labels, double value);
  // The current value, 0 when never set.
  double value(std::string_view name, metric_labels labels) const;

  std::string render() const;

 private:
  struct histogram_sample {
    std::vector<std::int64_t> counts;  // per bucket, not cumulative; the last is +Inf
    double sum = 0;
  };
  struct family {
    std::string help;
    bool counter = true;
    std::map<std::string, double> samples;  // by rendered label set: {channel="sms"}
    std::vector<double> buckets;            // a histogram's; empty for the others
    std::map<std::string, histogram_sample> histograms;
  };
  static std::string label_key(metric_labels labels);
  family& find(std::string_view name);

  std::map<std::string, family, std::less<>> families_;
};

}  // namespace askdesk::core
