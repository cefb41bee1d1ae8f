#include "data/distribution.h"

#include <QHash>

#include <algorithm>
#include <cmath>
#include <limits>

namespace keel::data {

namespace {

constexpr qint64 kCheckEvery = qint64(1) << 16;

bool isBinnable(ColumnType t) { return t == ColumnType::Int64 || t == ColumnType::Float64 || t == ColumnType::Datetime; }

bool missingOrNan(const Column &c, qint64 r)
{
    return c.isNull(r) || (c.type() == ColumnType::Float64 && std::isnan(c.float64At(r)));
}

} // namespace

std::vector<double> equalWidthEdges(double lo, double hi, int bins, bool datetime)
{
    if (!(hi > lo))
        return {lo, lo};
    const int n = std::max(1, bins);
    std::vector<double> edges(size_t(n) + 1);
    for (int i = 0; i < n; ++i) {
        const double e = lo + (hi - lo) * double(i) / double(n);
        edges[size_t(i)] = datetime ? double(std::llround(e)) : e;
    }
    edges[size_t(n)] = hi;
    return edges;
}

int binOf(const std::vector<double> &edges, double v)
{
    const int n = int(edges.size()) - 1;
    // The first edge above v, minus one: bins are closed on the left; the last bin also holds the maximum.
    const auto it = std::upper_bound(edges.begin() + 1, edges.end() - 1, v);
    return std::clamp(int(it - edges.begin()) - 1, 0, n - 1);
}

Expected<DistributionComparison> compareDistributions(const Column *a, const Column *b, int bins, int maxCategories,
                                                      Feedback *feedback)
{
    DistributionComparison out;
    const Column *cols[2] = {a, b};
    const qint64 total = (a ? a->size() : 0) + (b ? b->size() : 0);
    qint64 done = 0;
    const auto tick = [&](qint64 r) -> bool {
        if ((r & (kCheckEvery - 1)) == 0) {
            reportProgress(feedback, done + r, total, QStringLiteral("distribution"));
            return !isCancelled(feedback);
        }
        return true;
    };
    const auto cancelled = [] { return cancelledError(); };

    bool numeric = (a || b);
    bool datetime = false, number = false;
    for (const Column *c : cols) {
        if (!c)
            continue;
        numeric = numeric && isBinnable(c->type());
        (c->type() == ColumnType::Datetime ? datetime : number) = true;
    }
    numeric = numeric && !(datetime && number);

    if (numeric) {
        out.numeric = true;
        out.datetime = datetime;
        double lo = std::numeric_limits<double>::infinity(), hi = -lo;
        for (const Column *c : cols) {
            if (!c)
                continue;
            for (qint64 r = 0; r < c->size(); ++r) {
                if (!missingOrNan(*c, r)) {
                    const double v = c->numberAt(r);
                    if (std::isfinite(v)) {
                        lo = std::min(lo, v);
                        hi = std::max(hi, v);
                    }
                }
            }
        }
        if (!(lo <= hi)) {
            lo = 0;
            hi = 0;
        }
        out.edges = equalWidthEdges(lo, hi, bins, datetime);
        const int n = int(out.edges.size()) - 1;
        out.countsA.assign(size_t(n), 0);
        out.countsB.assign(size_t(n), 0);
        for (int side = 0; side < 2; ++side) {
            const Column *c = cols[side];
            if (!c)
                continue;
            auto &counts = side == 0 ? out.countsA : out.countsB;
            qint64 &values = side == 0 ? out.valuesA : out.valuesB;
            qint64 &missing = side == 0 ? out.missingA : out.missingB;
            for (qint64 r = 0; r < c->size(); ++r) {
                if (!tick(r))
                    return cancelled();
                if (missingOrNan(*c, r)) {
                    ++missing;
                    continue;
                }
                const double v = c->numberAt(r);
                if (!std::isfinite(v)) {
                    ++missing;
                    continue;
                }
                ++counts[size_t(binOf(out.edges, v))];
                ++values;
            }
            done += c->size();
        }
        reportProgress(feedback, total, total, QStringLiteral("distribution"));
        return out;
    }

    // Categories: count by displayed text (dictionary codes first for categorical columns).
    QHash<QString, std::pair<qint64, qint64>> counts;
    for (int side = 0; side < 2; ++side) {
        const Column *c = cols[side];
        if (!c)
            continue;
        qint64 &values = side == 0 ? out.valuesA : out.valuesB;
        qint64 &missing = side == 0 ? out.missingA : out.missingB;
        const auto add = [&](const QString &key, qint64 n) {
            auto &p = counts[key];
            (side == 0 ? p.first : p.second) += n;
        };
        if (c->type() == ColumnType::Categorical) {
            std::vector<qint64> byCode(size_t(c->dictionarySize()), 0);
            for (qint64 r = 0; r < c->size(); ++r) {
                if (!tick(r))
                    return cancelled();
                if (c->isNull(r)) {
                    ++missing;
                    continue;
                }
                ++byCode[size_t(c->codeAt(r))];
                ++values;
            }
            for (size_t code = 0; code < byCode.size(); ++code) {
                if (byCode[code] > 0) {
                    const std::string_view s = c->dictionaryAt(qint64(code));
                    add(QString::fromUtf8(s.data(), qsizetype(s.size())), byCode[code]);
                }
            }
        } else {
            for (qint64 r = 0; r < c->size(); ++r) {
                if (!tick(r))
                    return cancelled();
                if (missingOrNan(*c, r)) {
                    ++missing;
                    continue;
                }
                add(c->displayAt(r), 1);
                ++values;
            }
        }
        done += c->size();
    }
    struct Entry {
        QString value;
        qint64 a, b;
    };
    std::vector<Entry> entries;
    entries.reserve(size_t(counts.size()));
    for (auto it = counts.cbegin(); it != counts.cend(); ++it)
        entries.push_back({it.key(), it.value().first, it.value().second});
    std::sort(entries.begin(), entries.end(), [](const Entry &x, const Entry &y) {
        const qint64 sx = x.a + x.b, sy = y.a + y.b;
        return sx != sy ? sx > sy : x.value < y.value;
    });
    const size_t keep = std::min(entries.size(), size_t(std::max(1, maxCategories)));
    for (size_t i = 0; i < keep; ++i) {
        out.categories << entries[i].value;
        out.countsA.push_back(entries[i].a);
        out.countsB.push_back(entries[i].b);
    }
    if (entries.size() > keep) {
        qint64 oa = 0, ob = 0;
        for (size_t i = keep; i < entries.size(); ++i) {
            oa += entries[i].a;
            ob += entries[i].b;
        }
        out.categories << QStringLiteral("(other)");
        out.countsA.push_back(oa);
        out.countsB.push_back(ob);
        out.hasOther = true;
    }
    reportProgress(feedback, total, total, QStringLiteral("distribution"));
    return out;
}

} // namespace keel::data
