#pragma once
// Proleptic Gregorian calendar arithmetic on days since 1970-01-01 (UTC), after Howard Hinnant's civil algorithms:
// the one copy the readers (parsing dates) and the recipe (date parts) share.

#include <cstdint>
#include <optional>
#include <string_view>

namespace keel::data {

/// A calendar date.
struct CivilDate {
    int64_t year = 1970;
    int month = 1;   ///< 1..12
    int day = 1;     ///< 1..31
};

/// Days since 1970-01-01 of the date y-m-d (any year; m in 1..12, d in 1..31).
int64_t daysFromCivil(int64_t y, unsigned m, unsigned d);
/// The date `days` after 1970-01-01 (negative: before).
CivilDate civilFromDays(int64_t days);
/// `ms` since the epoch as "YYYY-MM-DDTHH:MM:SS.mmmZ" (24 characters, UTC), as QDateTime writes Qt::ISODateWithMs,
/// without a time-zone lookup or allocation; false for years outside 1 to 9999 (Qt has no year 0).
bool formatUtcMillis(int64_t ms, char (&out)[24]);
/// The inverse for exactly that form ("YYYY-MM-DDTHH:MM:SS.mmmZ", a valid date and time of day): milliseconds
/// since the epoch; nullopt for anything else (callers with other ISO forms fall back to a general parser).
std::optional<int64_t> parseUtcMillis(std::string_view text);

} // namespace keel::data
