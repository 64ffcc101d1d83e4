// Connections: 10,000 idle patron widget sockets (connected, said hello, got their welcome).
// Reports the daemon's resident memory per socket and the time to accept them all. The load
// generator keeps at most 500 handshakes in flight, as browsers arriving together would.
#include <atomic>

#include "tests/bench/clients.hpp"
#include "tests/bench/scenarios.hpp"
#include "tests/support/askdesk_daemon.hpp"

namespace askdesk::bench {

void connections(results& out, const options& o) {
  const int count = o.quick ? 2000 : 10'000;
  constexpr int in_flight = 500;
  testing::redis_server redis("everysec");
  testing::askdesk_daemon daemon(redis, R"({"teams": [{"id": "reference"}]})",
                                 {"--log-level", "warn"});
  const pid_t pid = daemon.process().pid();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const double before = resident_bytes(pid);

  io_thread loop;
  std::vector<std::shared_ptr<ws_connection>> patrons;
  std::atomic<int> ready{0}, failed{0};
  int started = 0;
  std::function<void()> open_next = [&] {
    if (started == count) return;
    const int i = started++;
    ws_connection::handlers h;
    h.opened = [&, i](bool ok) {
      if (!ok) {
        ++failed;
        open_next();
        return;
      }
      patrons[i]->send(R"({"type":"hello","team":"reference","name":"Patron )" + std::to_string(i) +
                       "\"}");
    };
    h.frame = [&](std::string_view frame) {
      if (frame.find(R"("type":"welcome")") == std::string_view::npos) return;
      ++ready;
      open_next();
    };
    h.closed = [] {};
    patrons.push_back(ws_connection::open(loop.io(), daemon.port(), "/ws/patron",
                                          {{"Origin", daemon.origin()}}, h));
  };
  const auto start = steady::now();
  loop.run([&] {
    patrons.reserve(count);
    for (int i = 0; i < in_flight; ++i) open_next();
  });
  wait_for([&] { return ready + failed == count; }, std::chrono::seconds(120));
  const double accept_s = std::chrono::duration<double>(steady::now() - start).count();
  std::this_thread::sleep_for(std::chrono::seconds(2));  // let the allocator settle
  const double after = resident_bytes(pid);
  loop.run([&] {
    for (auto& p : patrons) p->close();
  });
  loop.stop();
  if (ready != count) {
    throw std::runtime_error("connections: " + std::to_string(ready.load()) + " of " +
                             std::to_string(count) + " patrons welcomed, " +
                             std::to_string(failed.load()) + " failed");
  }
  const double per_connection = (after - before) / count;
  out.set("ws_idle_bytes_per_conn", per_connection);
  out.set("ws_idle_accept_all_s", accept_s);
  out.set("ws_idle_connections", count);
  out.row("connections",
          "resident memory per idle patron WebSocket (" + std::to_string(count) + ")",
          fixed(per_connection / 1024, 1) + " KiB");
  out.row("connections", "time to accept and welcome them all",
          fixed(accept_s, 2) + " s (" + fixed(count / accept_s) + "/s)");
  out.note("connections: the daemon's resident memory went from " + fixed(before / 1048576, 1) +
           " MiB to " + fixed(after / 1048576, 1) + " MiB.");
}

}  // namespace askdesk::bench
