// Exponential backoff with jitter, for everything that tries again (outbound lanes, pollers,
// XMPP reconnects): `first` doubled for each failure in a row, at most `max`, then a random
// wait between half and all of it, so many daemons or connections that failed together do
// not come back together. Pure function of its arguments and the generator.
#pragma once

#include <algorithm>
#include <chrono>
#include <random>

namespace askdesk::core {

// The wait after the `failures`-th failure in a row (1 for the first). REQUIRES: failures >= 1.
inline std::chrono::milliseconds backoff(std::chrono::milliseconds first,
                                         std::chrono::milliseconds max, int failures,
                                         std::minstd_rand& random) {
  std::chrono::milliseconds delay = first * (1LL << std::clamp(failures - 1, 0, 20));
  delay = std::min<std::chrono::milliseconds>(delay, max);
  std::uniform_int_distribution<long long> jitter(delay.count() / 2, delay.count());
  return std::chrono::milliseconds(jitter(random));
}

}  // namespace askdesk::core
