#include "daemon/core/local_format.hpp"

#include <unicode/dtptngen.h>
#include <unicode/smpdtfmt.h>
#include <unicode/timezone.h>

#include <chrono>
#include <cstdio>
#include <memory>

namespace askdesk::core {

std::string format_day_and_time(const local_time_fields& when, std::string_view language) {
  // The fields are already local: format them as if they were UTC, so the zone rules come
  // from one place (the system tz database through date/tz), not also from ICU's copy.
  using namespace std::chrono;
  const sys_days day{year(when.year) / month(when.month) / std::chrono::day(when.day)};
  const auto millis = (day + hours(when.hour) + minutes(when.minute)).time_since_epoch();
  const double udate = static_cast<double>(duration_cast<milliseconds>(millis).count());

  UErrorCode status = U_ZERO_ERROR;
  icu::Locale locale = icu::Locale::forLanguageTag(std::string(language), status);
  if (U_FAILURE(status) || locale.isBogus()) {
    status = U_ZERO_ERROR;
    locale = icu::Locale::getEnglish();
  }
  std::unique_ptr<icu::DateTimePatternGenerator> generator(
      icu::DateTimePatternGenerator::createInstance(locale, status));
  icu::UnicodeString pattern;
  if (U_SUCCESS(status)) pattern = generator->getBestPattern("EEEEMMMMdjmm", status);
  std::string out;
  if (U_SUCCESS(status)) {
    icu::SimpleDateFormat format(pattern, locale, status);
    if (U_SUCCESS(status)) {
      format.adoptTimeZone(icu::TimeZone::createTimeZone("Etc/UTC"));
      icu::UnicodeString text;
      format.format(udate, text);
      text.findAndReplace(icu::UnicodeString(static_cast<UChar>(0x202F)), " ");  // narrow nbsp
      text.findAndReplace(icu::UnicodeString(static_cast<UChar>(0x00A0)), " ");
      text.toUTF8String(out);
    }
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
