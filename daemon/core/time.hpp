// Time as askdesk sees it: UTC instants with millisecond precision, read through a clock
// interface so that core logic can be tested with a fake clock. Thread-safe: wall_clock has
// no state; fake_clock is for single-threaded tests.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace askdesk::core {

using timestamp = std::chrono::sys_time<std::chrono::milliseconds>;

class clock {
 public:
  virtual ~clock() = default;
  virtual timestamp now() const = 0;
};

// The system's real-time clock.
class wall_clock final : public clock {
 public:
  timestamp now() const override;
};

// The system's clock moved by a fixed offset: `askdesk serve --clock-start` runs a daemon
// as if it were another time, to try opening hours (and for the integration tests).
class offset_clock final : public clock {
 public:
  explicit offset_clock(std::chrono::milliseconds offset) : offset_(offset) {}
  timestamp now() const override { return wall_.now() + offset_; }

 private:
  const wall_clock wall_;
  const std::chrono::milliseconds offset_;
};

// A clock that moves only when told to.
class fake_clock final : public clock {
 public:
  explicit fake_clock(timestamp start) : now_(start) {}
  timestamp now() const override { return now_; }
  void set(timestamp t) { now_ = t; }
  void advance(std::chrono::milliseconds d) { now_ += d; }

 private:
  timestamp now_;
};

inline std::int64_t to_millis(timestamp t) { return t.time_since_epoch().count(); }
inline timestamp from_millis(std::int64_t ms) { return timestamp{std::chrono::milliseconds{ms}}; }

// "2026-11-22T09:30:00.250Z"
std::string format_iso8601(timestamp t);

// Accepts RFC 3339 date-times: "2026-11-22T09:30:00Z", fractional seconds, and "+hh:mm"
// offsets. Returns nullopt for anything else.
std::optional<timestamp> parse_iso8601(std::string_view text);

}  // namespace askdesk::core
