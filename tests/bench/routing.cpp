// Routing: one routing decision with 500 staff and 10,000 open conversations, how long
// core::route() takes, as percentiles over a bounded number of decisions (the three team
// modes in turn, over 1,000 waiting conversations of ten teams).
#include <numeric>
#include <random>

#include "daemon/core/routing.hpp"
#include "tests/bench/scenarios.hpp"

namespace askdesk::bench {

void routing(results& out, const options& o) {
  using namespace core;
  constexpr int staff_count = 500, teams = 10, open_conversations = 10'000;
  const int decisions = o.quick ? 20'000 : 200'000;
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
    const auto start = steady::now();
    const auto d = route(c, policy, staff, now);
    const auto end = steady::now();
    offered += d.to.size();
    micros[i] = std::chrono::duration<double, std::micro>(end - start).count();
  }
  const double per_s =
      1e6 / (std::accumulate(micros.begin(), micros.end(), 0.0) / static_cast<double>(decisions));
  const percentiles p(std::move(micros));
  out.set("routing_p50_us", p.at(0.5));
  out.set("routing_p99_us", p.at(0.99));
  out.set("routing_p999_us", p.at(0.999));
  out.set("routing_decisions_per_s", per_s);
  out.row("routing", "decision p50 / p99 / p99.9 us (500 staff, 10,000 open conversations)",
          fixed(p.at(0.5), 1) + " / " + fixed(p.at(0.99), 1) + " / " + fixed(p.at(0.999), 1));
  out.row("routing", "decisions per second (one core)", fixed(per_s));
  out.note("routing: " + std::to_string(decisions) + " decisions, " + std::to_string(offered) +
           " offers made.");
}

}  // namespace askdesk::bench
