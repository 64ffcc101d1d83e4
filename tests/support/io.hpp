// Runs an io_context in a test until a condition holds or time runs out.
#pragma once

#include <chrono>
#include <functional>

#include <boost/asio/io_context.hpp>

namespace askdesk::testing {

// True when `done` became true within `timeout`.
inline bool run_until(boost::asio::io_context& io, const std::function<bool()>& done,
                      std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    io.restart();
    io.run_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace askdesk::testing
