#include "data/diff.h"
#include "data/stats.h"

#include <QJsonArray>
#include <QThread>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <string>
#include <thread>
#include <unordered_map>

namespace keel::data {

namespace {

constexpr int kMaxExamples = 10;
constexpr qint64 kCancelStride = qint64(1) << 16;


bool isNumberKind(ColumnType t) { return t == ColumnType::Int64 || t == ColumnType::Float64 || t == ColumnType::Datetime; }
bool isCategoryKind(ColumnType t)
{
    return t == ColumnType::Categorical || t == ColumnType::String || t == ColumnType::Bool;
}

// Counts per category value, indexed 0 (A) and 1 (B).
void countCategories(const Column &c, int side, std::unordered_map<std::string, std::pair<qint64, qint64>> &counts)
{
    auto add = [&](std::string_view v, qint64 n) {
        auto &slot = counts[std::string(v)];
        (side == 0 ? slot.first : slot.second) += n;
    };
    if (c.type() == ColumnType::Categorical) {
        std::vector<qint64> perCode(size_t(c.dictionarySize()), 0);
        for (qint64 r = 0; r < c.size(); ++r) {
            const int32_t code = c.codeAt(r);
            if (!c.isNull(r) && code >= 0 && code < c.dictionarySize())
                ++perCode[size_t(code)];
        }
        for (qint64 code = 0; code < c.dictionarySize(); ++code)
            if (perCode[size_t(code)] > 0)
                add(c.dictionaryAt(code), perCode[size_t(code)]);
    } else if (c.type() == ColumnType::Bool) {
        qint64 n[2] = {0, 0};
        for (qint64 r = 0; r < c.size(); ++r)
            if (!c.isNull(r))
                ++n[c.boolAt(r) ? 1 : 0];
        if (n[0])
            add("false", n[0]);
        if (n[1])
            add("true", n[1]);
    } else {
        for (qint64 r = 0; r < c.size(); ++r)
            if (!c.isNull(r))
                add(c.stringAt(r), 1);
    }
}

// Cell equality across two columns: typed when the types agree, by display text otherwise.
bool cellEqual(const Column &a, qint64 ra, const Column &b, qint64 rb)
{
    const bool na = a.isNull(ra), nb = b.isNull(rb);
    if (na || nb)
        return na == nb;
    if (a.type() != b.type())
        return a.displayAt(ra) == b.displayAt(rb);
    switch (a.type()) {
    case ColumnType::Int64: return a.int64At(ra) == b.int64At(rb);
    case ColumnType::Datetime: return a.datetimeAt(ra) == b.datetimeAt(rb);
    case ColumnType::Bool: return a.boolAt(ra) == b.boolAt(rb);
    case ColumnType::Float64: {
        const double x = a.float64At(ra), y = b.float64At(rb);
        return x == y || (std::isnan(x) && std::isnan(y));
    }
    case ColumnType::Categorical:
    case ColumnType::String: return a.stringAt(ra) == b.stringAt(rb);
    }
    return false;
}

// Same rows, cell for cell; false when cancelled too (the caller checks cancel).
bool columnsIdentical(const Column &a, const Column &b, const Feedback *feedback)
{
    if (a.type() != b.type() || a.size() != b.size() || a.nullCount() != b.nullCount())
        return false;
    for (qint64 r = 0; r < a.size(); ++r) {
        if ((r % kCancelStride) == 0 && isCancelled(feedback))
            return false;
        if (!cellEqual(a, r, b, r))
            return false;
    }
    return true;
}

std::string keyText(const Column &c, qint64 row)
{
    if (c.type() == ColumnType::String || c.type() == ColumnType::Categorical)
        return std::string(c.stringAt(row));
    return c.displayAt(row).toStdString();
}

QString qstr(const std::string &s) { return QString::fromUtf8(s.data(), qsizetype(s.size())); }

Expected<KeyDiff> diffKeys(const Table &a, const Table &b, const QString &key, Feedback *feedback)
{
    const Column &ka = a.column(a.indexOf(key));
    const Column &kb = b.column(b.indexOf(key));
    KeyDiff out;
    out.key = key;

    auto index = [feedback](const Column &k, qint64 &duplicates, std::vector<char> &first)
        -> std::optional<std::unordered_map<std::string, qint64>> {
        std::unordered_map<std::string, qint64> map;
        map.reserve(size_t(k.size()));
        first.assign(size_t(k.size()), 0);
        for (qint64 r = 0; r < k.size(); ++r) {
            if ((r % kCancelStride) == 0 && isCancelled(feedback))
                return std::nullopt;
            if (k.isNull(r))
                continue;
            if (map.try_emplace(keyText(k, r), r).second)
                first[size_t(r)] = 1;
            else
                ++duplicates;
        }
        return map;
    };
    std::vector<char> firstA, firstB;
    auto mapA = index(ka, out.duplicateKeysA, firstA);
    if (!mapA)
        return cancelledError();
    auto mapB = index(kb, out.duplicateKeysB, firstB);
    if (!mapB)
        return cancelledError();

    for (qint64 r = 0; r < kb.size(); ++r) {
        if (!firstB[size_t(r)])
            continue;
        const std::string k = keyText(kb, r);
        if (!mapA->count(k)) {
            ++out.added;
            if (out.addedExamples.size() < kMaxExamples)
                out.addedExamples << qstr(k);
        }
    }

    std::vector<std::pair<const Column *, const Column *>> common;
    for (const Column &c : a.columns()) {
        if (c.name() == key)
            continue;
        const int j = b.indexOf(c.name());
        if (j >= 0)
            common.emplace_back(&c, &b.column(j));
    }
    std::vector<qint64> perColumn(common.size(), 0);
    for (qint64 r = 0; r < ka.size(); ++r) {
        if ((r % kCancelStride) == 0) {
            if (isCancelled(feedback))
                return cancelledError();
            reportProgress(feedback, r, ka.size(), QStringLiteral("keys"));
        }
        if (!firstA[size_t(r)])
            continue;
        const std::string k = keyText(ka, r);
        const auto it = mapB->find(k);
        if (it == mapB->end()) {
            ++out.removed;
            if (out.removedExamples.size() < kMaxExamples)
                out.removedExamples << qstr(k);
            continue;
        }
        bool changed = false;
        for (size_t c = 0; c < common.size(); ++c) {
            if (!cellEqual(*common[c].first, r, *common[c].second, it->second)) {
                ++perColumn[c];
                changed = true;
            }
        }
        if (changed) {
            ++out.changed;
            if (out.changedExamples.size() < kMaxExamples)
                out.changedExamples << qstr(k);
        } else {
            ++out.unchanged;
        }
    }
    for (size_t c = 0; c < common.size(); ++c)
        if (perColumn[c] > 0)
            out.changedByColumn.emplace_back(common[c].first->name(), perColumn[c]);
    return out;
}

/// `sortedA`/`sortedB`: the columns' present values in ascending order (what the profile sorted).
void compareColumn(ColumnDiff &d, const Column &a, const Column &b, int bins, const std::vector<double> &sortedA,
                   const std::vector<double> &sortedB)
{
    if (isNumberKind(a.type()) && isNumberKind(b.type())) {
        if (sortedA.empty() || sortedB.empty())
            return;
        const NumericDrift drift = numericDriftSorted(sortedA, sortedB, bins);
        d.psi = drift.psi;
        d.ks = drift.ks.statistic;
        d.ksPValue = drift.ks.pValue;
        d.wasserstein = drift.wasserstein;
    } else if (isCategoryKind(a.type()) && isCategoryKind(b.type())) {
        std::unordered_map<std::string, std::pair<qint64, qint64>> counts;
        countCategories(a, 0, counts);
        countCategories(b, 1, counts);
        std::vector<qint64> ca, cb;
        qint64 totalA = 0, totalB = 0;
        for (const auto &[value, n] : counts) {
            ca.push_back(n.first);
            cb.push_back(n.second);
            totalA += n.first;
            totalB += n.second;
        }
        if (totalA == 0 || totalB == 0)
            return;
        const TestResult chi = chiSquare(ca, cb);
        d.chi2 = chi.statistic;
        d.chi2PValue = chi.pValue;
        d.jensenShannonDistance = jensenShannonDistance(ca, cb);
    }
}

QString formatStat(double v)
{
    if (!std::isfinite(v))
        return QString::number(v);
    if (v != 0 && std::abs(v) < 1e-4)
        return QString::number(v, 'e', 2);
    return QString::number(v, 'f', 4);
}

QString formatP(double p)
{
    if (p < 1e-4)
        return QStringLiteral("<1e-4");
    return QString::number(p, 'f', 4);
}

QString meanText(const std::optional<ColumnProfile> &p)
{
    if (!p || !p->mean)
        return {};
    if (p->type == ColumnType::Datetime)
        return formatDatetime(std::llround(*p->mean));
    return QString::number(*p->mean, 'g', 6);
}

QString shareText(const std::optional<ColumnProfile> &p)
{
    return p ? QString::number(p->missingShare() * 100.0, 'f', 1) + QLatin1Char('%') : QStringLiteral("-");
}

} // namespace

double ColumnDiff::driftScore() const
{
    if (psi && std::isfinite(*psi))
        return *psi;
    if (jensenShannonDistance && std::isfinite(*jensenShannonDistance))
        return *jensenShannonDistance;
    return 0.0;
}

QString ColumnDiff::driftStatistic() const
{
    if (psi && std::isfinite(*psi))
        return QStringLiteral("psi");
    if (jensenShannonDistance && std::isfinite(*jensenShannonDistance))
        return QStringLiteral("js_distance");
    return {};
}

QString driftLevel(double score, const QString &statistic)
{
    const bool psi = statistic == u"psi";
    const double moderate = psi ? 0.1 : std::sqrt(0.05), large = psi ? 0.25 : std::sqrt(0.15);
    if (score >= large)
        return QStringLiteral("large");
    if (score >= moderate)
        return QStringLiteral("moderate");
    return QStringLiteral("small");
}

QString changeName(ColumnDiff::Change change)
{
    switch (change) {
    case ColumnDiff::Change::Unchanged: return QStringLiteral("unchanged");
    case ColumnDiff::Change::Added: return QStringLiteral("added");
    case ColumnDiff::Change::Removed: return QStringLiteral("removed");
    case ColumnDiff::Change::Retyped: return QStringLiteral("retyped");
    case ColumnDiff::Change::Changed: return QStringLiteral("changed");
    }
    return {};
}

Expected<DiffReport> diffTables(const Table &a, const Table &b, const DiffOptions &options, Feedback *feedback)
{
    if (!options.key.isEmpty()) {
        if (a.indexOf(options.key) < 0)
            return makeError(QStringLiteral("key column not found in the first table"), {}, -1, options.key);
        if (b.indexOf(options.key) < 0)
            return makeError(QStringLiteral("key column not found in the second table"), {}, -1, options.key);
    }
    DiffReport report;
    report.rowsA = a.rowCount();
    report.rowsB = b.rowCount();
    QStringList names = a.columnNames();
    for (const QString &n : b.columnNames())
        if (!names.contains(n))
            names << n;
    // One column at a time on every core: profile it on each side (keeping the sorted values the profile makes) and
    // compare, so each side of a numeric column is sorted once and at most two sorted columns per thread are alive.
    report.columns.resize(size_t(names.size()));
    std::atomic<qsizetype> next{0};
    std::atomic<int> done{0};
    std::atomic<bool> failed{false};
    const auto worker = [&] {
        std::vector<double> sortedA, sortedB;
        for (qsizetype t = next++; t < names.size(); t = next++) {
            if (failed || isCancelled(feedback))
                return;
            ColumnDiff &d = report.columns[size_t(t)];
            d.name = names[t];
            const int ia = a.indexOf(d.name), ib = b.indexOf(d.name);
            sortedA.clear();
            sortedB.clear();
            if (ia >= 0) {
                auto p = profileColumn(a.column(ia), nullptr, &sortedA);
                if (!p) {
                    failed = true;
                    return;
                }
                d.typeA = a.column(ia).type();
                d.a = std::move(*p);
            }
            if (ib >= 0) {
                auto p = profileColumn(b.column(ib), nullptr, &sortedB);
                if (!p) {
                    failed = true;
                    return;
                }
                d.typeB = b.column(ib).type();
                d.b = std::move(*p);
            }
            if (ia < 0) {
                d.change = ColumnDiff::Change::Added;
            } else if (ib < 0) {
                d.change = ColumnDiff::Change::Removed;
            } else {
                const Column &ca = a.column(ia), &cb = b.column(ib);
                if (ca.type() != cb.type())
                    d.change = ColumnDiff::Change::Retyped;
                else if (columnsIdentical(ca, cb, feedback))
                    d.change = ColumnDiff::Change::Unchanged;
                else
                    d.change = ColumnDiff::Change::Changed;
                compareColumn(d, ca, cb, options.bins, sortedA, sortedB);
            }
            reportProgress(feedback, ++done, names.size(), QStringLiteral("compare"));
        }
    };
    const int threads = std::clamp(QThread::idealThreadCount(), 1, std::max<int>(1, int(names.size())));
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t)
        pool.emplace_back(worker);
    worker();
    for (std::thread &t : pool)
        t.join();
    if (failed || isCancelled(feedback))
        return cancelledError();
    if (!options.key.isEmpty()) {
        auto keys = diffKeys(a, b, options.key, feedback);
        if (!keys)
            return keys.error();
        report.keyDiff = std::move(keys.value());
    }
    return report;
}

QJsonObject diffToJson(const DiffReport &report)
{
    QJsonObject o;
    o.insert(QStringLiteral("rowsA"), report.rowsA);
    o.insert(QStringLiteral("rowsB"), report.rowsB);
    QJsonArray cols;
    for (const ColumnDiff &d : report.columns) {
        QJsonObject c;
        c.insert(QStringLiteral("name"), d.name);
        c.insert(QStringLiteral("change"), changeName(d.change));
        if (d.typeA)
            c.insert(QStringLiteral("typeA"), columnTypeName(*d.typeA));
        if (d.typeB)
            c.insert(QStringLiteral("typeB"), columnTypeName(*d.typeB));
        if (!d.driftStatistic().isEmpty())
            c.insert(QStringLiteral("driftStatistic"), d.driftStatistic());
        c.insert(QStringLiteral("driftScore"), d.driftScore());
        const std::pair<const char *, const std::optional<double> *> stats[] = {
            {"psi", &d.psi}, {"ks", &d.ks}, {"ksPValue", &d.ksPValue}, {"wasserstein", &d.wasserstein},
            {"chi2", &d.chi2}, {"chi2PValue", &d.chi2PValue}, {"jensenShannonDistance", &d.jensenShannonDistance}};
        for (const auto &[key, value] : stats)
            if (*value && std::isfinite(**value))
                c.insert(QLatin1String(key), **value);
        if (d.a)
            c.insert(QStringLiteral("a"), profileToJson(*d.a));
        if (d.b)
            c.insert(QStringLiteral("b"), profileToJson(*d.b));
        cols.append(c);
    }
    o.insert(QStringLiteral("columns"), cols);
    if (report.keyDiff) {
        const KeyDiff &k = *report.keyDiff;
        QJsonArray byColumn;
        for (const auto &[column, rows] : k.changedByColumn)
            byColumn.append(QJsonObject{{QStringLiteral("column"), column}, {QStringLiteral("rows"), rows}});
        o.insert(QStringLiteral("keyDiff"),
                 QJsonObject{{QStringLiteral("key"), k.key},
                             {QStringLiteral("added"), k.added},
                             {QStringLiteral("removed"), k.removed},
                             {QStringLiteral("changed"), k.changed},
                             {QStringLiteral("unchanged"), k.unchanged},
                             {QStringLiteral("duplicateKeysA"), k.duplicateKeysA},
                             {QStringLiteral("duplicateKeysB"), k.duplicateKeysB},
                             {QStringLiteral("addedExamples"), QJsonArray::fromStringList(k.addedExamples)},
                             {QStringLiteral("removedExamples"), QJsonArray::fromStringList(k.removedExamples)},
                             {QStringLiteral("changedExamples"), QJsonArray::fromStringList(k.changedExamples)},
                             {QStringLiteral("changedByColumn"), byColumn}});
    }
    return o;
}

QString diffToText(const DiffReport &report, const QString &labelA, const QString &labelB)
{
    QString out;
    const qint64 delta = report.rowsB - report.rowsA;
    out += QStringLiteral("%1: %2 rows\n%3: %4 rows (%5%6)\n")
               .arg(labelA)
               .arg(report.rowsA)
               .arg(labelB)
               .arg(report.rowsB)
               .arg(delta >= 0 ? QStringLiteral("+") : QString())
               .arg(delta);

    QStringList added, removed, retyped;
    for (const ColumnDiff &d : report.columns) {
        if (d.change == ColumnDiff::Change::Added)
            added << d.name + QStringLiteral(" (") + columnTypeName(*d.typeB) + QLatin1Char(')');
        else if (d.change == ColumnDiff::Change::Removed)
            removed << d.name;
        else if (d.change == ColumnDiff::Change::Retyped)
            retyped << d.name + QStringLiteral(" (") + columnTypeName(*d.typeA) + QStringLiteral(" -> ")
                    + columnTypeName(*d.typeB) + QLatin1Char(')');
    }
    if (!added.isEmpty())
        out += QStringLiteral("added columns: ") + added.join(QStringLiteral(", ")) + QLatin1Char('\n');
    if (!removed.isEmpty())
        out += QStringLiteral("removed columns: ") + removed.join(QStringLiteral(", ")) + QLatin1Char('\n');
    if (!retyped.isEmpty())
        out += QStringLiteral("retyped columns: ") + retyped.join(QStringLiteral(", ")) + QLatin1Char('\n');

    std::vector<const ColumnDiff *> sorted;
    for (const ColumnDiff &d : report.columns)
        sorted.push_back(&d);
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const ColumnDiff *x, const ColumnDiff *y) { return x->driftScore() > y->driftScore(); });
    qsizetype width = 6;
    for (const ColumnDiff *d : sorted)
        width = std::max(width, std::min<qsizetype>(d->name.size(), 32));
    out += QLatin1Char('\n') + QStringLiteral("column").leftJustified(width + 2) + QStringLiteral("change").leftJustified(11)
        + QStringLiteral("drift").leftJustified(15) + QStringLiteral("test").leftJustified(18)
        + QStringLiteral("missing").leftJustified(17) + QStringLiteral("mean\n");
    for (const ColumnDiff *d : sorted) {
        QString drift, test;
        if (d->driftStatistic() == u"psi")
            drift = QStringLiteral("psi ") + formatStat(d->driftScore());
        else if (d->driftStatistic() == u"js_distance")
            drift = QStringLiteral("js ") + formatStat(d->driftScore());
        if (d->ksPValue)
            test = QStringLiteral("ks p=") + formatP(*d->ksPValue);
        else if (d->chi2PValue)
            test = QStringLiteral("chi2 p=") + formatP(*d->chi2PValue);
        QString missing = shareText(d->a) + QStringLiteral(" -> ") + shareText(d->b);
        QString mean;
        if ((d->a && d->a->mean) || (d->b && d->b->mean))
            mean = (meanText(d->a).isEmpty() ? QStringLiteral("-") : meanText(d->a)) + QStringLiteral(" -> ")
                + (meanText(d->b).isEmpty() ? QStringLiteral("-") : meanText(d->b));
        const QString line = d->name.leftJustified(width + 1) + QLatin1Char(' ') + changeName(d->change).leftJustified(10)
            + QLatin1Char(' ') + drift.leftJustified(14) + QLatin1Char(' ') + test.leftJustified(17) + QLatin1Char(' ')
            + missing.leftJustified(16) + QLatin1Char(' ') + mean;
        out += line.trimmed() + QLatin1Char('\n');
    }

    if (report.keyDiff) {
        const KeyDiff &k = *report.keyDiff;
        out += QStringLiteral("\nrows by key '%1': %2 added, %3 removed, %4 changed, %5 unchanged\n")
                   .arg(k.key)
                   .arg(k.added)
                   .arg(k.removed)
                   .arg(k.changed)
                   .arg(k.unchanged);
        if (k.duplicateKeysA || k.duplicateKeysB)
            out += QStringLiteral("duplicate keys: %1 in %2, %3 in %4 (only the first row of each key is compared)\n")
                       .arg(k.duplicateKeysA)
                       .arg(labelA)
                       .arg(k.duplicateKeysB)
                       .arg(labelB);
        auto examples = [&out](const char *what, const QStringList &keys, qint64 total) {
            if (keys.isEmpty())
                return;
            out += QStringLiteral("  %1: ").arg(QLatin1String(what)) + keys.join(QStringLiteral(", "));
            if (total > keys.size())
                out += QStringLiteral(", ...");
            out += QLatin1Char('\n');
        };
        examples("added", k.addedExamples, k.added);
        examples("removed", k.removedExamples, k.removed);
        examples("changed", k.changedExamples, k.changed);
        if (!k.changedByColumn.empty()) {
            QStringList parts;
            for (const auto &[column, rows] : k.changedByColumn)
                parts << column + QLatin1Char(' ') + QString::number(rows);
            out += QStringLiteral("  changed by column: ") + parts.join(QStringLiteral(", ")) + QLatin1Char('\n');
        }
    }
    return out;
}

} // namespace keel::data
