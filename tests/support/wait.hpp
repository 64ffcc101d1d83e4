// Waiting on facts, not sleeps: a test that must show something did NOT happen first waits
// until the daemon shows it processed the thing (a counter, a stream length, an answer), and
// only then asserts the absence. wait_until polls such a fact.
#pragma once

#include <chrono>
#include <thread>

namespace askdesk::testing {

// True once `done()` is true, polling every 20 ms; false when `wait` passed first.
template <typename Condition>
bool wait_until(Condition&& done, std::chrono::milliseconds wait = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace askdesk::testing
