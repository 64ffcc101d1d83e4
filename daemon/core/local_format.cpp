#include "daemon/core/local_format.hpp"

#include <unicode/dtptngen.h>
#include <unicode/smpdtfmt.h>
#include <unicode/timezone.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>

namespace askdesk::core {

namespace {

// Making a formatter loads CLDR data (about 170 us); formatting with one takes a few. Each
// thread keeps one per language it has met, up to a bound (languages come from patrons).
icu::SimpleDateFormat* formatter_for(std::string_view language) {
  thread_local std::map<std::string, std::unique_ptr<icu::SimpleDateFormat>, std::less<>> made;
  if (const auto it = made.find(language); it != made.end()) return it->second.get();
  if (made.size() >= 64) made.clear();
  UErrorCode status = U_ZERO_ERROR;
  icu::Locale locale = icu::Locale::forLanguageTag(std::string(language), status);
  if (U_FAILURE(status) || locale.isBogus()) {
    status = U_ZERO_ERROR;
    locale = icu::Locale::getEnglish();
  }
  std::unique_ptr<icu::DateTimePatternGenerator> generator(
      icu::DateTimePatternGenerator::createInstance(locale, status));
  if (U_FAILURE(status)) return nullptr;
  const icu::UnicodeString pattern = generator->getBestPattern("EEEEMMMMdjmm", status);
  if (U_FAILURE(status)) return nullptr;
  auto format = std::make_unique<icu::SimpleDateFormat>(pattern, locale, status);
  if (U_FAILURE(status)) return nullptr;
  format->adoptTimeZone(icu::TimeZone::createTimeZone("Etc/UTC"));
  return made.emplace(std::string(language), std::move(format)).first->second.get();
}

}  // namespace

std::string format_day_and_time(const local_time_fields& when, std::string_view language) {
  // The fields are already local: format them as if they were UTC, so the zone rules come
  // from one place (the system tz database through date/tz), not also from ICU's copy.
  using namespace std::chrono;
  const sys_days day{year(when.year) / month(when.month) / std::chrono::day(when.day)};
  const auto millis = (day + hours(when.hour) + minutes(when.minute)).time_since_epoch();
  const double udate = static_cast<double>(duration_cast<milliseconds>(millis).count());

  std::string out;
  if (auto* format = formatter_for(language)) {
    icu::UnicodeString text;
    format->format(udate, text);
    text.findAndReplace(icu::UnicodeString(static_cast<UChar>(0x202F)), " ");  // narrow nbsp
    text.findAndReplace(icu::UnicodeString(static_cast<UChar>(0x00A0)), " ");
    text.toUTF8String(out);
  }
  if (out.empty()) {  // ICU without its data: still say when
    char fallback[32];
    std::snprintf(fallback, sizeof fallback, "%04d-%02u-%02u %02d:%02d", when.year, when.month,
                  when.day, when.hour, when.minute);
    out = fallback;
  }
  return out;
}

}  // namespace askdesk::core
