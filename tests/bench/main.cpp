// askdesk_bench: the scenarios of tests/bench/run.sh, one after another, in a Release build.
// Prints a table, and writes the numbers to bench-results.json (or --out FILE).
//
//   askdesk_bench [--only ingest,chat,connections,routing,recovery,reports] [--seconds N] [--quick]
//                 [--out FILE]
#include <sys/resource.h>

#include <fstream>
#include <iostream>

#include "tests/bench/scenarios.hpp"

namespace {

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("model name")) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

}  // namespace

int main(int argc, char** argv) {
  using namespace askdesk::bench;
  const std::vector<std::pair<std::string, void (*)(results&, const options&)>> scenarios = {
      {"ingest", ingest},   {"chat", chat},         {"connections", connections},
      {"routing", routing}, {"recovery", recovery}, {"reports", reports},
  };
  options o;
  std::string only, out_file = "bench-results.json";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--only" && has_value) {
      only = "," + std::string(argv[++i]) + ",";
    } else if (arg == "--seconds" && has_value) {
      o.seconds = std::stod(argv[++i]);
    } else if (arg == "--out" && has_value) {
      out_file = argv[++i];
    } else if (arg == "--quick") {
      o.quick = true;
    } else {
      std::cerr << "usage: askdesk_bench [--only ingest,chat,connections,routing,recovery,reports] "
                   "[--seconds N] [--quick] [--out FILE]\n";
      return 2;
    }
  }
  // 10,000 sockets on each side: the open-file limit up to its maximum, which the daemon and
  // redis-server inherit.
  rlimit files{};
  getrlimit(RLIMIT_NOFILE, &files);
  files.rlim_cur = files.rlim_max;
  setrlimit(RLIMIT_NOFILE, &files);

  results r;
  int failed = 0;
  for (const auto& [name, run] : scenarios) {
    if (!only.empty() && only.find("," + name + ",") == std::string::npos) continue;
    std::cerr << "askdesk_bench: " << name << "...\n";
    try {
      run(r, o);
    } catch (const std::exception& e) {
      std::cerr << "askdesk_bench: " << name << " failed: " << e.what() << "\n";
      r.note(name + " failed: " + e.what());
      ++failed;
    }
  }
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  const std::string cpu = cpu_model();
  std::cout << "\nMachine: " << cpu << ", " << cores << " cores\n\n" << r.table();
  std::ofstream(out_file) << r.json(cpu, cores);
  std::cout << "\nWrote " << out_file << "\n";
  return failed == 0 ? 0 : 1;
}
