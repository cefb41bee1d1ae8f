// A drift report over two large tables, Keel against SciPy (not part of the test run). Generates a reference and a
// current table of ROWS rows x 20 columns from a fixed seed (15 numeric: normal, lognormal, uniform, a mixture,
// rounded values and integer columns with mass points; 5 categorical with 10-50 levels; several columns with a
// planted shift in the current table), times data::diffTables on them (the whole report: profiles, identity check,
// statistics) and, separately, Keel's statistics alone (data/stats.h, the same work the Python peer does), and
// prints one JSON line. bench/run-drift.sh runs it and bench/drift_peer.py, and prints the ratio.
//
//   keel-bench-drift [ROWS] [OUTDIR]        # default 1000000 rows
//
// With OUTDIR the tables are also written there for the peer, so it computes on identical numbers without parsing
// text: ref_NAME.f64 / cur_NAME.f64 (little-endian float64, integer columns converted) for numeric columns,
// ref_NAME.i32 / cur_NAME.i32 (int32 level codes, the same levels in both tables) for categorical ones, and
// columns.json naming the columns in table order with their kind and level count.
#include "data/diff.h"
#include "data/stats.h"
#include "data/table.h"
#include "util/random.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <functional>
#include <numbers>
#include <optional>
#include <span>
#include <string>
#include <vector>

using namespace keel;

namespace {

constexpr quint64 kSeed = 20261201;

int fail(const QString &message)
{
    std::fprintf(stderr, "keel-bench-drift: %s\n", qPrintable(message));
    return 1;
}

/// CPU seconds of the whole process (all threads): diffTables profiles columns on several threads.
double processCpuSeconds()
{
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

bool writeBytes(const QString &path, const void *data, qint64 size)
{
    QFile f(path);
    return f.open(QIODevice::WriteOnly | QIODevice::Truncate)
        && f.write(static_cast<const char *>(data), size) == size;
}

/// Uniform and standard normal deviates from keel::Rng (Box-Muller), the same numbers on every platform.
class Source {
public:
    explicit Source(Rng rng) : m_rng(rng) {}
    double uniform() { return m_rng.uniform(); }
    quint64 below(quint64 n) { return m_rng.below(n); }
    double normal()
    {
        if (m_haveSpare) {
            m_haveSpare = false;
            return m_spare;
        }
        const double u1 = 1.0 - m_rng.uniform();   // (0, 1]: the logarithm is finite
        const double u2 = m_rng.uniform();
        const double r = std::sqrt(-2.0 * std::log(u1));
        const double t = 2.0 * std::numbers::pi * u2;
        m_spare = r * std::sin(t);
        m_haveSpare = true;
        return r * std::cos(t);
    }

private:
    Rng m_rng;
    double m_spare = 0;
    bool m_haveSpare = false;
};

/// A numeric column: how one value is drawn for the reference (current = false) or the current table.
struct NumericSpec {
    const char *name;
    bool integer;          ///< stored as an int64 column (draw returns whole numbers)
    const char *planted;   ///< what changes in the current table
    std::function<double(Source &, bool current)> draw;
};

/// A categorical column: the relative weight of each level in the reference or the current table.
struct CategoricalSpec {
    const char *name;
    int levels;
    const char *planted;
    std::function<double(int level, bool current)> weight;
};

std::vector<NumericSpec> numericSpecs()
{
    return {
        {"normal", false, "none", [](Source &s, bool) { return s.normal(); }},
        {"normal_wide", false, "none", [](Source &s, bool) { return 10.0 + 2.0 * s.normal(); }},
        {"normal_mean_shift", false, "mean +0.3 sd",
         [](Source &s, bool current) { return 50.0 + 8.0 * (s.normal() + (current ? 0.3 : 0.0)); }},
        {"normal_scale", false, "sd x1.5", [](Source &s, bool current) { return 5.0 + (current ? 1.5 : 1.0) * s.normal(); }},
        {"normal_slight_shift", false, "mean +0.02 sd",
         [](Source &s, bool current) { return s.normal() + (current ? 0.02 : 0.0); }},
        {"lognormal", false, "none", [](Source &s, bool) { return std::exp(0.75 * s.normal()); }},
        {"lognormal_shift", false, "log mean +0.3",
         [](Source &s, bool current) { return std::exp(1.0 + 0.5 * s.normal() + (current ? 0.3 : 0.0)); }},
        {"lognormal_heavy", false, "none", [](Source &s, bool) { return std::exp(1.5 * s.normal()); }},
        {"uniform", false, "none", [](Source &s, bool) { return 100.0 * s.uniform(); }},
        {"mixture", false, "none",
         [](Source &s, bool) { return s.uniform() < 0.3 ? 4.0 + s.normal() : s.normal(); }},
        {"rounded_half", false, "none", [](Source &s, bool) { return std::round(6.0 * s.normal()) / 2.0; }},
        {"count", true, "none", [](Source &s, bool) { return std::floor(std::exp(1.0 + 1.2 * s.normal())); }},
        {"zero_inflated", true, "zeros 90% -> 80%",
         [](Source &s, bool current) {
             return s.uniform() < (current ? 0.8 : 0.9) ? 0.0 : 1.0 + double(s.below(20));
         }},
        {"age", true, "mean +0.3 sd",
         [](Source &s, bool current) {
             return std::clamp(std::round(40.0 + 12.0 * (s.normal() + (current ? 0.3 : 0.0))), 18.0, 90.0);
         }},
        {"rating", true, "none",
         [](Source &s, bool) {
             const double u = s.uniform();
             return u < 0.05 ? 1.0 : u < 0.15 ? 2.0 : u < 0.35 ? 3.0 : u < 0.7 ? 4.0 : 5.0;
         }},
    };
}

std::vector<CategoricalSpec> categoricalSpecs()
{
    return {
        {"cat_uniform10", 10, "none", [](int, bool) { return 1.0; }},
        {"cat_zipf20", 20, "none", [](int k, bool) { return 1.0 / double(k + 1); }},
        {"cat_zipf30_swap", 30, "top two levels swap shares",
         [](int k, bool current) {
             if (current && k < 2)
                 k = 1 - k;
             return 1.0 / double(k + 1);
         }},
        {"cat_zipf50_new", 50, "level 49 appears only in current (~3%)",
         [](int k, bool current) { return k == 49 ? (current ? 0.1 : 0.0) : std::pow(double(k + 1), -1.2); }},
        {"cat_uniform12_slight", 12, "level 0 share x1.1", [](int k, bool current) { return k == 0 && current ? 1.1 : 1.0; }},
    };
}

std::vector<double> drawNumbers(const NumericSpec &spec, qint64 rows, quint64 stream, bool current)
{
    Source s(Rng::forStream(kSeed, stream));
    std::vector<double> v(static_cast<size_t>(rows));
    for (double &x : v)
        x = spec.draw(s, current);
    return v;
}

std::vector<int32_t> drawCodes(const CategoricalSpec &spec, qint64 rows, quint64 stream, bool current)
{
    std::vector<double> cumulative;
    double total = 0;
    for (int k = 0; k < spec.levels; ++k) {
        total += spec.weight(k, current);
        cumulative.push_back(total);
    }
    Source s(Rng::forStream(kSeed, stream));
    std::vector<int32_t> codes(static_cast<size_t>(rows));
    for (int32_t &c : codes) {
        const double u = s.uniform() * total;
        const auto k = std::upper_bound(cumulative.begin(), cumulative.end(), u) - cumulative.begin();
        c = int32_t(std::min<qsizetype>(k, spec.levels - 1));
    }
    return codes;
}

data::Column floatColumn(const QString &name, std::vector<double> values)
{
    data::ColumnStorage s;
    s.rows = qint64(values.size());
    s.f64 = data::Buffer<double>::fromVector(std::move(values));
    return data::Column(name, data::ColumnType::Float64, std::move(s));
}

data::Column intColumn(const QString &name, const std::vector<double> &values)
{
    std::vector<int64_t> ints(values.size());
    std::transform(values.begin(), values.end(), ints.begin(), [](double v) { return int64_t(std::llround(v)); });
    data::ColumnStorage s;
    s.rows = qint64(ints.size());
    s.i64 = data::Buffer<int64_t>::fromVector(std::move(ints));
    return data::Column(name, data::ColumnType::Int64, std::move(s));
}

/// A categorical column whose dictionary is level_0 .. level_{levels-1} in that order, so its codes are the
/// generated codes in both tables (a level may be absent from a table).
data::Column categoricalColumn(const QString &name, int levels, std::vector<int32_t> codes)
{
    std::vector<int64_t> offsets{0};
    std::vector<char> bytes;
    for (int k = 0; k < levels; ++k) {
        const std::string label = "level_" + std::to_string(k);
        bytes.insert(bytes.end(), label.begin(), label.end());
        offsets.push_back(int64_t(bytes.size()));
    }
    data::ColumnStorage s;
    s.rows = qint64(codes.size());
    s.codes = data::Buffer<int32_t>::fromVector(std::move(codes));
    s.offsets = data::Buffer<int64_t>::fromVector(std::move(offsets));
    s.bytes = data::Buffer<char>::fromVector(std::move(bytes));
    return data::Column(name, data::ColumnType::Categorical, std::move(s));
}

/// The statistics of one column, as the report or the direct calls give them.
struct ColumnStats {
    std::optional<double> psi, ks, ksPValue, wasserstein, chi2, chi2PValue, js;
    double seconds = 0;
};

QJsonValue jsonNumber(const std::optional<double> &v)
{
    return v && std::isfinite(*v) ? QJsonValue(*v) : QJsonValue();
}

double relativeDifference(const std::optional<double> &x, const std::optional<double> &y)
{
    if (!x || !y)
        return x.has_value() == y.has_value() ? 0.0 : 1.0;
    if (std::abs(*x - *y) <= 1e-15)   // p-values near 0: an absolute difference this small is no disagreement
        return 0.0;
    const double scale = std::max(std::abs(*x), std::abs(*y));
    return scale > 0 ? std::abs(*x - *y) / scale : 0.0;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments();
    if (args.contains(QStringLiteral("--help")))
        return fail(QStringLiteral("usage: keel-bench-drift [ROWS] [OUTDIR]"));
    bool okRows = true;
    const qint64 rows = args.size() > 1 ? args.at(1).toLongLong(&okRows) : 1000000;
    if (!okRows || rows < 1)
        return fail(QString(QStringLiteral("ROWS must be a positive number, not ") + args.at(1)));
    const QString outDir = args.size() > 2 ? args.at(2) : QString();
    if (!outDir.isEmpty() && !QDir().mkpath(outDir))
        return fail(QString(QStringLiteral("cannot create ") + outDir));
    const QDir out(outDir);

    // Generate both tables, one random stream per column and table.
    const std::vector<NumericSpec> numeric = numericSpecs();
    const std::vector<CategoricalSpec> categorical = categoricalSpecs();
    QElapsedTimer clock;
    clock.start();
    std::vector<data::Column> refColumns, curColumns;
    std::vector<std::vector<double>> integerValues;   // int64 columns as doubles: written for the peer, used below
    integerValues.reserve(2 * numeric.size());
    std::vector<std::span<const double>> refNumbers, curNumbers;
    QJsonArray manifest;
    quint64 stream = 0;
    for (const NumericSpec &spec : numeric) {
        const QString name = QString::fromLatin1(spec.name);
        std::vector<double> ref = drawNumbers(spec, rows, stream++, false);
        std::vector<double> cur = drawNumbers(spec, rows, stream++, true);
        if (spec.integer) {
            refColumns.push_back(intColumn(name, ref));
            curColumns.push_back(intColumn(name, cur));
            integerValues.push_back(std::move(ref));
            refNumbers.emplace_back(integerValues.back());
            integerValues.push_back(std::move(cur));
            curNumbers.emplace_back(integerValues.back());
        } else {
            refColumns.push_back(floatColumn(name, std::move(ref)));
            curColumns.push_back(floatColumn(name, std::move(cur)));
            refNumbers.push_back(refColumns.back().storage().f64.view);
            curNumbers.push_back(curColumns.back().storage().f64.view);
        }
        manifest.append(QJsonObject{{QStringLiteral("name"), name},
                                    {QStringLiteral("kind"), QStringLiteral("numeric")},
                                    {QStringLiteral("type"), spec.integer ? QStringLiteral("int64") : QStringLiteral("float64")},
                                    {QStringLiteral("planted"), QString::fromLatin1(spec.planted)}});
    }
    for (const CategoricalSpec &spec : categorical) {
        const QString name = QString::fromLatin1(spec.name);
        refColumns.push_back(categoricalColumn(name, spec.levels, drawCodes(spec, rows, stream++, false)));
        curColumns.push_back(categoricalColumn(name, spec.levels, drawCodes(spec, rows, stream++, true)));
        manifest.append(QJsonObject{{QStringLiteral("name"), name},
                                    {QStringLiteral("kind"), QStringLiteral("categorical")},
                                    {QStringLiteral("type"), QStringLiteral("categorical")},
                                    {QStringLiteral("levels"), spec.levels},
                                    {QStringLiteral("planted"), QString::fromLatin1(spec.planted)}});
    }
    const double generateSeconds = double(clock.nsecsElapsed()) / 1e9;
    const int columnCount = int(refColumns.size());
    const int numericCount = int(numeric.size());

    if (!outDir.isEmpty()) {
        for (int i = 0; i < columnCount; ++i) {
            const QString name = refColumns[size_t(i)].name();
            bool written = true;
            if (i < numericCount) {
                const std::span<const double> r = refNumbers[size_t(i)], c = curNumbers[size_t(i)];
                written = writeBytes(out.filePath(QString(QStringLiteral("ref_") + name + QStringLiteral(".f64"))),
                                     r.data(), qint64(r.size_bytes()))
                    && writeBytes(out.filePath(QString(QStringLiteral("cur_") + name + QStringLiteral(".f64"))),
                                  c.data(), qint64(c.size_bytes()));
            } else {
                const std::span<const int32_t> r = refColumns[size_t(i)].storage().codes.view;
                const std::span<const int32_t> c = curColumns[size_t(i)].storage().codes.view;
                written = writeBytes(out.filePath(QString(QStringLiteral("ref_") + name + QStringLiteral(".i32"))),
                                     r.data(), qint64(r.size_bytes()))
                    && writeBytes(out.filePath(QString(QStringLiteral("cur_") + name + QStringLiteral(".i32"))),
                                  c.data(), qint64(c.size_bytes()));
            }
            if (!written)
                return fail(QString(QStringLiteral("cannot write column ") + name + QStringLiteral(" to ") + outDir));
        }
        const QJsonObject columnsJson{{QStringLiteral("rows"), rows}, {QStringLiteral("columns"), manifest}};
        const QByteArray bytes = QJsonDocument(columnsJson).toJson(QJsonDocument::Indented);
        if (!writeBytes(out.filePath(QStringLiteral("columns.json")), bytes.constData(), bytes.size()))
            return fail(QString(QStringLiteral("cannot write columns.json to ") + outDir));
    }

    const data::Table reference(std::move(refColumns)), current(std::move(curColumns));
    const data::DiffOptions options;

    // The whole report, as `keel data diff` and the drift monitor compute it.
    double cpu0 = processCpuSeconds();
    clock.restart();
    auto report = data::diffTables(reference, current, options);
    const double reportSeconds = double(clock.nsecsElapsed()) / 1e9;
    const double reportCpuSeconds = processCpuSeconds() - cpu0;
    if (!report)
        return fail(report.message());
    if (int(report->columns.size()) != columnCount)
        return fail(QString(QStringLiteral("the report has ") + QString::number(report->columns.size())
                            + QStringLiteral(" columns")));

    // The statistics alone (data::numericDrift, chiSquare, jensenShannonDistance), one column after the other on this
    // thread: the work the Python peer does.
    std::vector<ColumnStats> alone(static_cast<size_t>(columnCount));
    cpu0 = processCpuSeconds();
    clock.restart();
    QElapsedTimer columnClock;
    for (int i = 0; i < columnCount; ++i) {
        columnClock.start();
        ColumnStats &s = alone[size_t(i)];
        if (i < numericCount) {
            const std::span<const double> x = refNumbers[size_t(i)], y = curNumbers[size_t(i)];
            const data::NumericDrift drift = data::numericDrift(x, y, options.bins);   // each side sorted once
            s.psi = drift.psi;
            s.ks = drift.ks.statistic;
            s.ksPValue = drift.ks.pValue;
            s.wasserstein = drift.wasserstein;
        } else {
            const int levels = categorical[size_t(i - numericCount)].levels;
            std::vector<qint64> countsA(size_t(levels), 0), countsB(size_t(levels), 0);
            for (const int32_t code : reference.column(i).storage().codes.view)
                ++countsA[size_t(code)];
            for (const int32_t code : current.column(i).storage().codes.view)
                ++countsB[size_t(code)];
            const data::TestResult chi = data::chiSquare(countsA, countsB);
            s.chi2 = chi.statistic;
            s.chi2PValue = chi.pValue;
            s.js = data::jensenShannonDistance(countsA, countsB);
        }
        s.seconds = double(columnClock.nsecsElapsed()) / 1e9;
    }
    const double statsSeconds = double(clock.nsecsElapsed()) / 1e9;
    const double statsCpuSeconds = processCpuSeconds() - cpu0;

    QJsonArray detail;
    double aloneVsReport = 0;
    for (int i = 0; i < columnCount; ++i) {
        const data::ColumnDiff &d = report->columns[size_t(i)];
        const ColumnStats &s = alone[size_t(i)];
        for (const double r : {relativeDifference(d.psi, s.psi), relativeDifference(d.ks, s.ks),
                               relativeDifference(d.ksPValue, s.ksPValue), relativeDifference(d.wasserstein, s.wasserstein),
                               relativeDifference(d.chi2, s.chi2), relativeDifference(d.chi2PValue, s.chi2PValue),
                               relativeDifference(d.jensenShannonDistance, s.js)})
            aloneVsReport = std::max(aloneVsReport, r);
        const QJsonObject planted = manifest.at(i).toObject();
        detail.append(QJsonObject{{QStringLiteral("name"), d.name},
                                  {QStringLiteral("type"), d.typeA ? data::columnTypeName(*d.typeA) : QString()},
                                  {QStringLiteral("planted"), planted.value(QStringLiteral("planted"))},
                                  {QStringLiteral("psi"), jsonNumber(d.psi)},
                                  {QStringLiteral("ks"), jsonNumber(d.ks)},
                                  {QStringLiteral("ks_p"), jsonNumber(d.ksPValue)},
                                  {QStringLiteral("wasserstein"), jsonNumber(d.wasserstein)},
                                  {QStringLiteral("chi2"), jsonNumber(d.chi2)},
                                  {QStringLiteral("chi2_p"), jsonNumber(d.chi2PValue)},
                                  {QStringLiteral("js"), jsonNumber(d.jensenShannonDistance)},
                                  {QStringLiteral("seconds"), s.seconds}});
    }

    const QJsonObject result{{QStringLiteral("rows"), rows},
                             {QStringLiteral("columns"), columnCount},
                             {QStringLiteral("seconds"), reportSeconds},
                             {QStringLiteral("cpu_seconds"), reportCpuSeconds},
                             {QStringLiteral("stats_seconds"), statsSeconds},
                             {QStringLiteral("stats_cpu_seconds"), statsCpuSeconds},
                             {QStringLiteral("generate_seconds"), generateSeconds},
                             {QStringLiteral("stats_vs_report_max_rel_diff"), aloneVsReport},
                             {QStringLiteral("columns_detail"), detail}};
    std::printf("%s\n", QJsonDocument(result).toJson(QJsonDocument::Compact).constData());
    // The direct calls and the report run the same code; only the order categories are summed in differs.
    return aloneVsReport <= 1e-9
        ? 0
        : fail(QString(QStringLiteral("the report and the direct calls disagree by ") + QString::number(aloneVsReport)));
}
