// Dates and times written for people, in their language, from CLDR through ICU: "Tuesday,
// November 24 at 9:00 AM", "mardi 24 novembre à 09:00". Used for {next_open} in automatic
// acknowledgements.
//
// Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "daemon/core/schedule.hpp"

namespace askdesk::core {

// The weekday, date and time of `when` (already on the team's wall clock) in `language`
// (BCP 47; unknown languages fall back to English). Spaces are plain ASCII spaces, so an SMS
// stays in GSM-7.
std::string format_day_and_time(const local_time_fields& when, std::string_view language);

}  // namespace askdesk::core
