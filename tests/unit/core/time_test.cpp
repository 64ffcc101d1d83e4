#include "daemon/core/time.hpp"

#include <gtest/gtest.h>

namespace askdesk::core {
namespace {

TEST(Time, FormatsUtcWithMilliseconds) {
  EXPECT_EQ(format_iso8601(from_millis(0)), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_iso8601(from_millis(1763803800250)), "2025-11-22T09:30:00.250Z");
}

TEST(Time, ParsesWhatItFormats) {
  const auto t = from_millis(1763803800250);
  EXPECT_EQ(parse_iso8601(format_iso8601(t)), t);
}

TEST(Time, ParsesOffsetsAndFractions) {
  EXPECT_EQ(parse_iso8601("2025-11-22T04:30:00-05:00"), parse_iso8601("2025-11-22T09:30:00Z"));
  EXPECT_EQ(parse_iso8601("2025-11-22T09:30:00.1Z"), from_millis(1763803800100));
  EXPECT_EQ(parse_iso8601("2025-11-22T09:30:00.123456Z"), from_millis(1763803800123));
}

TEST(Time, RejectsWhatIsNotRfc3339) {
  for (const char* bad :
       {"", "2025-11-22", "2025-11-22T09:30:00", "2025-13-01T00:00:00Z", "2025-02-30T00:00:00Z",
        "2025-11-22T24:00:00Z", "2025-11-22T09:30:00Zjunk", "2025-11-22T09:30:00.Z",
        "2025-11-22T09:30:00+0500"}) {
    EXPECT_FALSE(parse_iso8601(bad)) << bad;
  }
}

TEST(Time, FakeClockMovesOnlyWhenTold) {
  fake_clock clock(from_millis(1000));
  EXPECT_EQ(clock.now(), from_millis(1000));
  clock.advance(std::chrono::seconds(2));
  EXPECT_EQ(clock.now(), from_millis(3000));
}

}  // namespace
}  // namespace askdesk::core
