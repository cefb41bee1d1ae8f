#include "data/calendar.h"

namespace keel::data {

int64_t daysFromCivil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = unsigned(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + int64_t(doe) - 719468;
}

CivilDate civilFromDays(int64_t z)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const int64_t doe = z - era * 146097;
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153;
    const int day = int(doy - (153 * mp + 2) / 5 + 1);
    const int month = int(mp < 10 ? mp + 3 : mp - 9);
    return {yoe + era * 400 + (month <= 2 ? 1 : 0), month, day};
}

bool formatUtcMillis(int64_t ms, char (&out)[24])
{
    const int64_t dayMs = 86400000;
    const int64_t days = (ms >= 0 ? ms : ms - (dayMs - 1)) / dayMs;
    int64_t rest = ms - days * dayMs;
    const CivilDate d = civilFromDays(days);
    if (d.year < 1 || d.year > 9999)
        return false;
    const auto put = [&](int at, int64_t value, int width) {
        for (int i = width - 1; i >= 0; --i, value /= 10)
            out[at + i] = char('0' + value % 10);
    };
    put(0, d.year, 4);
    out[4] = '-';
    put(5, d.month, 2);
    out[7] = '-';
    put(8, d.day, 2);
    out[10] = 'T';
    put(11, rest / 3600000, 2);
    rest %= 3600000;
    out[13] = ':';
    put(14, rest / 60000, 2);
    rest %= 60000;
    out[16] = ':';
    put(17, rest / 1000, 2);
    out[19] = '.';
    put(20, rest % 1000, 3);
    out[23] = 'Z';
    return true;
}

std::optional<int64_t> parseUtcMillis(std::string_view text)
{
    if (text.size() != 24 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' || text[16] != ':' ||
        text[19] != '.' || text[23] != 'Z')
        return std::nullopt;
    bool digits = true;
    const auto number = [&](size_t at, size_t n) {
        int value = 0;
        for (size_t i = at; i < at + n; ++i) {
            const char c = text[i];
            digits = digits && c >= '0' && c <= '9';
            value = value * 10 + int(c - '0');
        }
        return value;
    };
    const int year = number(0, 4), month = number(5, 2), day = number(8, 2);
    const int hour = number(11, 2), minute = number(14, 2), second = number(17, 2), ms = number(20, 3);
    static constexpr int kMonthDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (!digits || year < 1 || month < 1 || month > 12 || day < 1 || day > kMonthDays[month - 1] || hour > 23 ||
        minute > 59 || second > 59)
        return std::nullopt;
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (month == 2 && day == 29 && !leap)
        return std::nullopt;
    const int64_t days = daysFromCivil(year, unsigned(month), unsigned(day));
    return ((days * 24 + hour) * 60 + minute) * 60000 + int64_t(second) * 1000 + ms;
}

} // namespace keel::data
