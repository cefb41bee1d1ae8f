#include "ml/split.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace keel::ml {

quint64 uniformBelow(std::mt19937_64 &rng, quint64 n)
{
    // Reject the top partial block so every residue is equally likely.
    const quint64 limit = std::numeric_limits<quint64>::max() - std::numeric_limits<quint64>::max() % n;
    for (;;) {
        const quint64 x = rng();
        if (x < limit)
            return x % n;
    }
}

void shuffleIndices(std::vector<qint64> &indices, std::mt19937_64 &rng)
{
    for (size_t i = indices.size(); i > 1; --i) {
        const size_t j = size_t(uniformBelow(rng, quint64(i)));
        std::swap(indices[i - 1], indices[j]);
    }
}

namespace {

bool isClassification(const Target *t) { return t && t->task != Task::Regression; }

// Row indices grouped by class (a single group when not stratifying), each group in row order.
std::vector<std::vector<qint64>> groups(qint64 rows, const Target *stratifyBy)
{
    if (!isClassification(stratifyBy)) {
        std::vector<qint64> all(static_cast<size_t>(rows));
        std::iota(all.begin(), all.end(), qint64(0));
        return {std::move(all)};
    }
    std::vector<std::vector<qint64>> g(static_cast<size_t>(std::max(stratifyBy->numClasses(), 1)));
    for (qint64 r = 0; r < rows; ++r) {
        const int c = int(std::lround(stratifyBy->values[size_t(r)]));
        if (c >= 0 && size_t(c) >= g.size())
            g.resize(size_t(c) + 1);
        g[size_t(std::max(c, 0))].push_back(r);
    }
    return g;
}

Status checkTarget(qint64 rows, const Target *t)
{
    if (t && qint64(t->values.size()) != rows)
        return makeError(QStringLiteral("target has %1 rows but the split is over %2 rows").arg(t->values.size()).arg(rows));
    return {};
}

} // namespace

Expected<Split> holdoutSplit(qint64 rows, double testFraction, quint64 seed, const Target *stratifyBy)
{
    if (!(testFraction > 0 && testFraction < 1))
        return makeError(QStringLiteral("test fraction must be between 0 and 1 (exclusive), got %1").arg(testFraction),
                         {}, -1, QStringLiteral("test_fraction"));
    if (rows < 2)
        return makeError(QStringLiteral("a holdout split needs at least 2 rows, got %1").arg(rows));
    if (Status s = checkTarget(rows, stratifyBy); !s)
        return s.error();
    std::mt19937_64 rng(seed);
    auto g = groups(rows, stratifyBy);
    const qint64 total = std::clamp<qint64>(std::llround(double(rows) * testFraction), 1, rows - 1);

    // Largest-remainder allocation of `total` test rows over the groups.
    std::vector<qint64> take(g.size());
    std::vector<std::pair<double, size_t>> remainders;
    qint64 assigned = 0;
    for (size_t i = 0; i < g.size(); ++i) {
        const double exact = double(g[i].size()) * double(total) / double(rows);
        take[i] = qint64(std::floor(exact));
        assigned += take[i];
        remainders.push_back({exact - std::floor(exact), i});
    }
    std::stable_sort(remainders.begin(), remainders.end(), [](auto a, auto b) { return a.first > b.first; });
    for (size_t i = 0; assigned < total && i < remainders.size(); ++i) {
        ++take[remainders[i].second];
        ++assigned;
    }

    Split s;
    for (size_t i = 0; i < g.size(); ++i) {
        shuffleIndices(g[i], rng);
        s.test.insert(s.test.end(), g[i].begin(), g[i].begin() + std::ptrdiff_t(take[i]));
        s.train.insert(s.train.end(), g[i].begin() + std::ptrdiff_t(take[i]), g[i].end());
    }
    std::sort(s.train.begin(), s.train.end());
    std::sort(s.test.begin(), s.test.end());
    return s;
}

Expected<std::vector<Split>> kFoldSplits(qint64 rows, int folds, quint64 seed, const Target *stratifyBy)
{
    if (folds < 2)
        return makeError(QStringLiteral("k-fold needs at least 2 folds, got %1").arg(folds), {}, -1, QStringLiteral("folds"));
    if (rows < folds)
        return makeError(QStringLiteral("k-fold with %1 folds needs at least %1 rows, got %2").arg(folds).arg(rows),
                         {}, -1, QStringLiteral("folds"));
    if (Status s = checkTarget(rows, stratifyBy); !s)
        return s.error();
    std::mt19937_64 rng(seed);
    auto g = groups(rows, stratifyBy);
    std::vector<std::vector<qint64>> members(static_cast<size_t>(folds));
    // Deal each shuffled group round-robin, continuing where the previous group stopped so fold sizes stay balanced.
    size_t next = 0;
    for (auto &group : g) {
        shuffleIndices(group, rng);
        for (qint64 r : group) {
            members[next].push_back(r);
            next = (next + 1) % size_t(folds);
        }
    }
    std::vector<int> foldOf(static_cast<size_t>(rows));
    for (size_t f = 0; f < members.size(); ++f)
        for (qint64 r : members[f])
            foldOf[size_t(r)] = int(f);
    std::vector<Split> out(static_cast<size_t>(folds));
    for (qint64 r = 0; r < rows; ++r) {
        for (int f = 0; f < folds; ++f) {
            if (foldOf[size_t(r)] == f)
                out[size_t(f)].test.push_back(r);
            else
                out[size_t(f)].train.push_back(r);
        }
    }
    return out;
}

Expected<Split> timeSplit(const data::Table &table, const QString &column, std::optional<qint64> cutoff,
                          double testFraction)
{
    const int ci = table.indexOf(column);
    if (ci < 0)
        return makeError(QStringLiteral("time column not found"), {}, -1, column);
    const data::Column &col = table.column(ci);
    if (col.type() != data::ColumnType::Datetime && col.type() != data::ColumnType::Int64
        && col.type() != data::ColumnType::Float64)
        return makeError(QStringLiteral("time column must be datetime or numeric, not %1").arg(data::columnTypeName(col.type())),
                         {}, -1, column);
    const qint64 rows = table.rowCount();
    std::vector<double> t(static_cast<size_t>(rows));
    for (qint64 r = 0; r < rows; ++r) {
        if (col.isNull(r) || std::isnan(col.numberAt(r)))
            return makeError(QStringLiteral("row %1: missing time value").arg(r + 1), {}, -1, column);
        t[size_t(r)] = col.numberAt(r);
    }
    double boundary;
    if (cutoff) {
        boundary = double(*cutoff);
    } else {
        if (!(testFraction > 0 && testFraction < 1))
            return makeError(QStringLiteral("test fraction must be between 0 and 1 (exclusive), got %1").arg(testFraction),
                             {}, -1, QStringLiteral("test_fraction"));
        if (rows < 2)
            return makeError(QStringLiteral("a time split needs at least 2 rows, got %1").arg(rows));
        std::vector<double> sorted = t;
        std::sort(sorted.begin(), sorted.end());
        const qint64 nTest = std::clamp<qint64>(std::llround(double(rows) * testFraction), 1, rows - 1);
        boundary = sorted[size_t(rows - nTest)];
    }
    Split s;
    for (qint64 r = 0; r < rows; ++r)
        (t[size_t(r)] >= boundary ? s.test : s.train).push_back(r);
    if (s.train.empty() || s.test.empty())
        return makeError(QStringLiteral("time split leaves an empty %1 set").arg(s.train.empty() ? QStringLiteral("training")
                                                                                             : QStringLiteral("validation")),
                         {}, -1, column);
    return s;
}

Expected<std::vector<Split>> makeSplits(const SplitSpec &spec, const data::Table &table, const Target *target)
{
    const Target *strat = spec.stratify && isClassification(target) ? target : nullptr;
    switch (spec.kind) {
    case SplitKind::Holdout: {
        auto s = holdoutSplit(table.rowCount(), spec.testFraction, spec.seed, strat);
        if (!s)
            return s.error();
        return std::vector<Split>{std::move(*s)};
    }
    case SplitKind::KFold:
        return kFoldSplits(table.rowCount(), spec.folds, spec.seed, strat);
    case SplitKind::Time: {
        auto s = timeSplit(table, spec.timeColumn, spec.cutoff, spec.testFraction);
        if (!s)
            return s.error();
        return std::vector<Split>{std::move(*s)};
    }
    }
    return makeError(QStringLiteral("unknown split kind"));
}

namespace {

/// The target restricted to `rows` (for stratifying a subset).
Target subTarget(const Target &t, const std::vector<qint64> &rows)
{
    Target out;
    out.task = t.task;
    out.classes = t.classes;
    out.values.reserve(rows.size());
    for (qint64 r : rows)
        out.values.push_back(t.values[size_t(r)]);
    return out;
}

} // namespace

Expected<Split> carveValidation(Split split, double fraction, quint64 seed, const data::Table &table,
                                const Target *stratifyBy, const QString &timeColumn)
{
    if (!(fraction >= 0 && fraction < 1))
        return makeError(ErrorKind::InvalidInput,
                         QStringLiteral("validation fraction must be at least 0 and below 1, got %1").arg(fraction), {}, -1,
                         QStringLiteral("validation_fraction"));
    if (fraction == 0 || split.train.empty())
        return split;
    const qint64 n = qint64(split.train.size());
    if (n < 2)
        return makeError(ErrorKind::InvalidInput,
                         QStringLiteral("%1 training row is too few to hold back a validation part").arg(n), {}, -1,
                         QStringLiteral("validation_fraction"));
    std::vector<qint64> keep, held;
    if (!timeColumn.isEmpty()) {
        const data::Table part = [&] {
            std::vector<data::Column> cols;
            const int ci = table.indexOf(timeColumn);
            if (ci >= 0) {
                const data::Column &c = table.column(ci);
                data::ColumnBuilder b(data::ColumnType::Float64);
                for (qint64 r : split.train)
                    if (c.isNull(r))
                        b.appendNull();
                    else
                        b.appendFloat64(c.numberAt(r));
                cols.push_back(b.finish(timeColumn));
            }
            return data::Table(std::move(cols));
        }();
        auto s = timeSplit(part, timeColumn, std::nullopt, fraction);
        if (!s)
            return s.error();
        for (qint64 i : s->train)
            keep.push_back(split.train[size_t(i)]);
        for (qint64 i : s->test)
            held.push_back(split.train[size_t(i)]);
    } else {
        const Target sub = stratifyBy ? subTarget(*stratifyBy, split.train) : Target();
        // A seed of its own, so the validation rows do not mirror the test rows' draw.
        auto s = holdoutSplit(n, fraction, seed ^ 0x9e3779b97f4a7c15ULL, stratifyBy ? &sub : nullptr);
        if (!s)
            return s.error();
        for (qint64 i : s->train)
            keep.push_back(split.train[size_t(i)]);
        for (qint64 i : s->test)
            held.push_back(split.train[size_t(i)]);
    }
    std::sort(keep.begin(), keep.end());
    std::sort(held.begin(), held.end());
    split.train = std::move(keep);
    split.validation.insert(split.validation.end(), held.begin(), held.end());
    std::sort(split.validation.begin(), split.validation.end());
    return split;
}

Expected<std::vector<Split>> planSplits(const SplitSpec &spec, const data::Table &table, const Target *target,
                                        bool testElsewhere, bool validateInFolds)
{
    const Target *strat = spec.stratify && isClassification(target) ? target : nullptr;
    const QString timeColumn = spec.kind == SplitKind::Time ? spec.timeColumn : QString();
    std::vector<Split> base;
    if (testElsewhere && spec.kind != SplitKind::KFold) {
        Split all;
        all.train.resize(size_t(table.rowCount()));
        std::iota(all.train.begin(), all.train.end(), qint64(0));
        base.push_back(std::move(all));
        if (spec.kind == SplitKind::Time) {
            // The time column must exist and be complete, as for a time split with a test part.
            const int ci = table.indexOf(spec.timeColumn);
            if (ci < 0)
                return makeError(ErrorKind::InvalidInput, QStringLiteral("time column not found"), {}, -1, spec.timeColumn);
        }
    } else {
        auto s = makeSplits(spec, table, target);
        if (!s)
            return s.error();
        base = std::move(*s);
    }
    if (spec.kind == SplitKind::KFold && !validateInFolds)
        return base;
    for (size_t i = 0; i < base.size(); ++i) {
        auto carved = carveValidation(std::move(base[i]), spec.validationFraction, spec.seed + i, table, strat, timeColumn);
        if (!carved)
            return carved.error();
        base[i] = std::move(*carved);
    }
    return base;
}

QString splitKindName(SplitKind kind)
{
    switch (kind) {
    case SplitKind::Holdout: return QStringLiteral("holdout");
    case SplitKind::KFold: return QStringLiteral("kfold");
    case SplitKind::Time: return QStringLiteral("time");
    }
    return QStringLiteral("unknown");
}

} // namespace keel::ml
