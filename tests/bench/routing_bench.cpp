// One routing decision with 500 staff and 10,000 open conversations: how long route() takes,
// as p50/p99/p99.9 over a bounded number of decisions. Build Release (./tests/bench/run.sh
// or cmake -DCMAKE_BUILD_TYPE=Release) and run build/release/tests/bench/askdesk_routing_bench.
// Prints one line of JSON for the suite's results file.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "daemon/core/routing.hpp"

using namespace askdesk::core;
using clock_type = std::chrono::steady_clock;

int main() {
  constexpr int staff_count = 500, teams = 10, open_conversations = 10'000, decisions = 200'000;
  std::mt19937 random(42);
  const timestamp now = timestamp(std::chrono::milliseconds(1'763'845'500'000));

  std::vector<staff_state> staff(staff_count);
  for (int i = 0; i < staff_count; ++i) {
    auto& s = staff[i];
    s.name = "staff" + std::to_string(i);
    s.status = i % 5 == 0 ? presence::away : presence::available;
    s.teams = {"team" + std::to_string(i % teams), "team" + std::to_string((i + 3) % teams)};
    s.last_assigned = now - std::chrono::seconds(random() % 3600);
  }
  for (int i = 0; i < open_conversations; ++i) ++staff[random() % staff_count].open;

  const team_mode modes[] = {team_mode::broadcast, team_mode::least_busy, team_mode::round_robin};
  std::vector<waiting_conversation> waiting(1000);
  for (std::size_t i = 0; i < waiting.size(); ++i) {
    auto& c = waiting[i];
    c.id = std::to_string(i);
    c.team = "team" + std::to_string(i % teams);
    c.waiting_since = now - std::chrono::seconds(random() % 600);
    if (i % 7 == 0) c.last_helper = "staff" + std::to_string(random() % staff_count);
    if (i % 3 == 0) c.declined = {"staff" + std::to_string(random() % staff_count)};
  }

  std::vector<double> micros(decisions);
  std::size_t offered = 0;
  for (int i = 0; i < decisions; ++i) {
    const auto& c = waiting[i % waiting.size()];
    const team_policy policy{.id = c.team, .mode = modes[i % 3], .capacity = 25};
    const auto start = clock_type::now();
    const auto d = route(c, policy, staff, now);
    const auto end = clock_type::now();
    offered += d.to.size();
    micros[i] = std::chrono::duration<double, std::micro>(end - start).count();
  }
  std::sort(micros.begin(), micros.end());
  const auto at = [&](double q) { return micros[static_cast<std::size_t>(q * (decisions - 1))]; };
  std::printf(
      "{\"routing_decisions\": %d, \"staff\": %d, \"open_conversations\": %d, "
      "\"routing_p50_us\": %.2f, \"routing_p99_us\": %.2f, \"routing_p999_us\": %.2f, "
      "\"routing_decisions_per_s\": %.0f, \"offers\": %zu}\n",
      decisions, staff_count, open_conversations, at(0.5), at(0.99), at(0.999),
      1e6 / (std::accumulate(micros.begin(), micros.end(), 0.0) / decisions), offered);
}
