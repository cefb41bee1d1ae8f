#include "data/diff.h"
#include "data/reader.h"
#include "data/stats.h"

#include <QJsonArray>
#include <QRandomGenerator>
#include <QTest>

#include <cmath>
#include <functional>
#include <map>

using namespace keel;
using namespace keel::data;

namespace {

Column ints(const QString &name, std::initializer_list<std::optional<int64_t>> values)
{
    ColumnBuilder b(ColumnType::Int64);
    for (const auto &v : values) {
        if (v)
            b.appendInt64(*v);
        else
            b.appendNull();
    }
    return b.finish(name);
}

Column texts(const QString &name, ColumnType type, std::initializer_list<const char *> values)
{
    ColumnBuilder b(type);
    for (const char *v : values) {
        if (v)
            b.appendString(v);
        else
            b.appendNull();
    }
    return b.finish(name);
}

Column floats(const QString &name, const std::vector<double> &values)
{
    ColumnBuilder b(ColumnType::Float64);
    for (double v : values)
        b.appendFloat64(v);
    return b.finish(name);
}

// Copies the given rows of a table; `edit` may replace an Int64 cell (column name, source row, value) -> value.
Table copyRows(const Table &t, const std::vector<qint64> &rows,
               const std::function<int64_t(const QString &, qint64, int64_t)> &edit = {})
{
    std::vector<Column> cols;
    for (const Column &c : t.columns()) {
        ColumnBuilder b(c.type());
        for (qint64 r : rows) {
            if (c.isNull(r)) {
                b.appendNull();
                continue;
            }
            switch (c.type()) {
            case ColumnType::Int64: b.appendInt64(edit ? edit(c.name(), r, c.int64At(r)) : c.int64At(r)); break;
            case ColumnType::Float64: b.appendFloat64(c.float64At(r)); break;
            case ColumnType::Bool: b.appendBool(c.boolAt(r)); break;
            case ColumnType::Datetime: b.appendDatetime(c.datetimeAt(r)); break;
            default: b.appendString(c.stringAt(r)); break;
            }
        }
        cols.push_back(b.finish(c.name()));
    }
    return Table(std::move(cols));
}

Table withRowId(const Table &t)
{
    ColumnBuilder id(ColumnType::Int64);
    for (qint64 r = 0; r < t.rowCount(); ++r)
        id.appendInt64(r);
    std::vector<Column> cols{id.finish(QStringLiteral("id"))};
    for (const Column &c : t.columns())
        cols.push_back(c);
    return Table(std::move(cols));
}

const ColumnDiff *findDiff(const DiffReport &r, const QString &name)
{
    for (const ColumnDiff &d : r.columns)
        if (d.name == name)
            return &d;
    return nullptr;
}

} // namespace

class TstDiff : public QObject {
    Q_OBJECT
private slots:
    void totalShiftSortsFirst()
    {
        // A year that moves entirely (2010 -> 2011) beside columns with small drift: it must read as a large drift
        // and sort first (with edge bins that swallowed it, it used to read PSI 0 and sort last).
        std::vector<double> yearA(400, 2010.0), yearB(400, 2011.0), xA, xB;
        for (int i = 0; i < 400; ++i) {
            xA.push_back(i % 37);
            xB.push_back((i * 7) % 37 + 1);
        }
        const Table a({floats(QStringLiteral("x"), xA), floats(QStringLiteral("year"), yearA)});
        const Table b({floats(QStringLiteral("x"), xB), floats(QStringLiteral("year"), yearB)});
        auto r = diffTables(a, b);
        QVERIFY(r);
        const ColumnDiff *year = findDiff(*r, QStringLiteral("year"));
        QVERIFY(*year->psi >= 0.25);
        QCOMPARE(driftLevel(year->driftScore(), year->driftStatistic()), QStringLiteral("large"));
        QCOMPARE(*year->wasserstein, 1.0);   // every value moved by one year
        QCOMPARE(*year->ks, 1.0);
        QVERIFY(year->driftScore() > findDiff(*r, QStringLiteral("x"))->driftScore());
        const QString text = diffToText(*r, QStringLiteral("A"), QStringLiteral("B"));
        QVERIFY2(text.indexOf(QLatin1String("\nyear")) < text.indexOf(QLatin1String("\nx ")), qPrintable(text));
    }
    void columnChanges()
    {
        const Table a({ints(QStringLiteral("id"), {1, 2, 3}), floats(QStringLiteral("x"), {1.5, 2.5, 3.5}),
                       texts(QStringLiteral("c"), ColumnType::Categorical, {"p", "q", "p"}),
                       texts(QStringLiteral("gone"), ColumnType::String, {"a", "b", "c"}),
                       ints(QStringLiteral("n"), {1, 2, 3})});
        const Table b({ints(QStringLiteral("id"), {1, 2, 3}), floats(QStringLiteral("x"), {1.5, 2.5, 3.5}),
                       texts(QStringLiteral("c"), ColumnType::String, {"p", "q", "p"}),
                       texts(QStringLiteral("new"), ColumnType::Categorical, {"u", "v", nullptr}),
                       ints(QStringLiteral("n"), {1, 2, 4})});
        auto r = diffTables(a, b);
        QVERIFY2(r.hasValue(), qPrintable(r.message()));
        QCOMPARE(r->rowsA, qint64(3));
        QCOMPARE(r->rowsB, qint64(3));
        QStringList order;
        for (const ColumnDiff &d : r->columns)
            order << d.name + QLatin1Char(':') + changeName(d.change);
        QCOMPARE(order, (QStringList{QStringLiteral("id:unchanged"), QStringLiteral("x:unchanged"),
                                     QStringLiteral("c:retyped"), QStringLiteral("gone:removed"),
                                     QStringLiteral("n:changed"), QStringLiteral("new:added")}));
        const ColumnDiff *c = findDiff(*r, QStringLiteral("c"));
        QCOMPARE(c->typeA, std::optional<ColumnType>(ColumnType::Categorical));
        QCOMPARE(c->typeB, std::optional<ColumnType>(ColumnType::String));
        QVERIFY(c->a && c->b);
        QCOMPARE(c->jensenShannonDistance, std::optional<double>(0.0)); // same values, comparable kinds
        const ColumnDiff *gone = findDiff(*r, QStringLiteral("gone"));
        QVERIFY(gone->a && !gone->b && !gone->typeB);
        QCOMPARE(gone->driftScore(), 0.0);
        QVERIFY(gone->driftStatistic().isEmpty());
        const ColumnDiff *added = findDiff(*r, QStringLiteral("new"));
        QVERIFY(!added->a && added->b && !added->typeA);
        QCOMPARE(added->b->missing, qint64(1));
        QCOMPARE(findDiff(*r, QStringLiteral("n"))->driftStatistic(), QStringLiteral("psi"));
        QCOMPARE(findDiff(*r, QStringLiteral("c"))->driftStatistic(), QStringLiteral("js_distance"));
    }

    void identicalTablesHaveNoDrift()
    {
        QRandomGenerator rng(3);
        std::vector<double> v;
        for (int i = 0; i < 3000; ++i)
            v.push_back(rng.generateDouble());
        const Table t({floats(QStringLiteral("x"), v)});
        auto r = diffTables(t, t);
        QVERIFY(r.hasValue());
        const ColumnDiff &d = r->columns.front();
        QCOMPARE(d.change, ColumnDiff::Change::Unchanged);
        QCOMPARE(*d.psi, 0.0);
        QCOMPARE(*d.ks, 0.0);
        QCOMPARE(*d.ksPValue, 1.0);
        QCOMPARE(d.driftScore(), 0.0);
        QVERIFY(!r->keyDiff);
    }

    void shiftedDistribution()
    {
        QRandomGenerator rng(11);
        std::vector<double> x, y;
        for (int i = 0; i < 2000; ++i) {
            x.push_back(rng.generateDouble());
            y.push_back(rng.generateDouble() + 0.5);
        }
        // Categories: A 50/30/20 of p/q/r, B 20/30/50.
        ColumnBuilder ca(ColumnType::Categorical), cb(ColumnType::Categorical);
        for (int i = 0; i < 2000; ++i) {
            const int k = i % 10;
            ca.appendString(k < 5 ? "p" : k < 8 ? "q" : "r");
            cb.appendString(k < 2 ? "p" : k < 5 ? "q" : "r");
        }
        const Table a({floats(QStringLiteral("x"), x), ca.finish(QStringLiteral("c")), floats(QStringLiteral("same"), x)});
        const Table b({floats(QStringLiteral("x"), y), cb.finish(QStringLiteral("c")), floats(QStringLiteral("same"), x)});
        auto r = diffTables(a, b);
        QVERIFY(r.hasValue());
        const ColumnDiff *dx = findDiff(*r, QStringLiteral("x"));
        QCOMPARE(dx->change, ColumnDiff::Change::Changed);
        QVERIFY2(*dx->psi > 1.0, qPrintable(QString::number(*dx->psi)));
        QCOMPARE(*dx->psi, populationStabilityIndex(x, y, 10));
        QVERIFY(*dx->ksPValue < 1e-10);
        QVERIFY(std::abs(*dx->ks - 0.5) < 0.1); // uniform shifted by half its width
        QVERIFY(dx->wasserstein && *dx->wasserstein > 0);
        const ColumnDiff *dc = findDiff(*r, QStringLiteral("c"));
        // JS between (.5,.3,.2) and (.2,.3,.5), M = (.35,.3,.35).
        const double js = 0.5 * (0.5 * std::log2(0.5 / 0.35) + 0.2 * std::log2(0.2 / 0.35))
            + 0.5 * (0.2 * std::log2(0.2 / 0.35) + 0.5 * std::log2(0.5 / 0.35));
        QVERIFY(std::abs(*dc->jensenShannonDistance - std::sqrt(js)) < 1e-12);   // the distance: √ of the divergence
        // Chi-square: column totals 1400/1200/1400, expected 700/600/700 per row.
        const double chi = 2 * (300.0 * 300.0 / 700.0) * 2;
        QVERIFY(std::abs(*dc->chi2 - chi) < 1e-9);
        QVERIFY(*dc->chi2PValue < 1e-10);
        QCOMPARE(findDiff(*r, QStringLiteral("same"))->change, ColumnDiff::Change::Unchanged);

        // Text lists columns by drift, largest first.
        const QString text = diffToText(*r, QStringLiteral("v1"), QStringLiteral("v2"));
        const qsizetype px = text.indexOf(QStringLiteral("\nx ")), pc = text.indexOf(QStringLiteral("\nc ")),
                        ps = text.indexOf(QStringLiteral("\nsame "));
        QVERIFY(px > 0 && pc > px && ps > pc);
        QVERIFY(text.startsWith(QStringLiteral("v1: 2000 rows\nv2: 2000 rows (+0)")));

        const QJsonObject json = diffToJson(*r);
        QCOMPARE(json.value(QStringLiteral("rowsA")).toInteger(), qint64(2000));
        const QJsonObject jx = json.value(QStringLiteral("columns")).toArray().at(0).toObject();
        QCOMPARE(jx.value(QStringLiteral("name")).toString(), QStringLiteral("x"));
        QCOMPARE(jx.value(QStringLiteral("change")).toString(), QStringLiteral("changed"));
        QCOMPARE(jx.value(QStringLiteral("psi")).toDouble(), *dx->psi);
        QCOMPARE(jx.value(QStringLiteral("driftStatistic")).toString(), QStringLiteral("psi"));
        QCOMPARE(jx.value(QStringLiteral("a")).toObject().value(QStringLiteral("count")).toInteger(), qint64(2000));
    }

    void keyDiff()
    {
        const Table a({ints(QStringLiteral("id"), {1, 2, 3, 4, 5, 6, std::nullopt}),
                       ints(QStringLiteral("val"), {10, 20, 30, 40, 50, 60, 70}),
                       texts(QStringLiteral("name"), ColumnType::String, {"a", "b", "c", "d", "e", "f", "g"}),
                       ints(QStringLiteral("onlyA"), {0, 0, 0, 0, 0, 0, 0})});
        const Table b({texts(QStringLiteral("name"), ColumnType::Categorical, {"b", "c", "d", "E", "x", "y", "z", nullptr}),
                       ints(QStringLiteral("id"), {2, 3, 4, 5, 7, 8, 7, 4}),
                       ints(QStringLiteral("val"), {20, 31, 40, 50, 70, 80, 71, 99})});
        auto r = diffTables(a, b, DiffOptions{QStringLiteral("id"), 10});
        QVERIFY2(r.hasValue(), qPrintable(r.message()));
        QVERIFY(r->keyDiff);
        const KeyDiff &k = *r->keyDiff;
        QCOMPARE(k.key, QStringLiteral("id"));
        QCOMPARE(k.added, qint64(2));        // 7, 8
        QCOMPARE(k.removed, qint64(2));      // 1, 6 (the null key is not matched)
        QCOMPARE(k.changed, qint64(2));      // 3 (val), 5 (name)
        QCOMPARE(k.unchanged, qint64(2));    // 2, 4 (first row of 4 in B)
        QCOMPARE(k.duplicateKeysA, qint64(0));
        QCOMPARE(k.duplicateKeysB, qint64(2)); // second 7, second 4
        QCOMPARE(k.addedExamples, (QStringList{QStringLiteral("7"), QStringLiteral("8")}));
        QCOMPARE(k.removedExamples, (QStringList{QStringLiteral("1"), QStringLiteral("6")}));
        QCOMPARE(k.changedExamples, (QStringList{QStringLiteral("3"), QStringLiteral("5")}));
        QCOMPARE(k.changedByColumn.size(), size_t(2));
        QCOMPARE(k.changedByColumn[0], std::make_pair(QStringLiteral("val"), qint64(1)));
        QCOMPARE(k.changedByColumn[1], std::make_pair(QStringLiteral("name"), qint64(1)));

        const QString text = diffToText(*r, QStringLiteral("a"), QStringLiteral("b"));
        QVERIFY(text.contains(QStringLiteral("rows by key 'id': 2 added, 2 removed, 2 changed, 2 unchanged")));
        QVERIFY(text.contains(QStringLiteral("changed by column: val 1, name 1")));
        const QJsonObject kj = diffToJson(*r).value(QStringLiteral("keyDiff")).toObject();
        QCOMPARE(kj.value(QStringLiteral("removed")).toInteger(), qint64(2));
        QCOMPARE(kj.value(QStringLiteral("changedExamples")).toArray().size(), 2);
    }

    void missingKey_data()
    {
        QTest::addColumn<bool>("inA");
        QTest::newRow("not in A") << false;
        QTest::newRow("not in B") << true;
    }
    void missingKey()
    {
        QFETCH(bool, inA);
        const Table with({ints(QStringLiteral("id"), {1})});
        const Table without({ints(QStringLiteral("other"), {1})});
        auto r = inA ? diffTables(with, without, DiffOptions{QStringLiteral("id")})
                     : diffTables(without, with, DiffOptions{QStringLiteral("id")});
        QVERIFY(!r.hasValue());
        QCOMPARE(r.error().field, QStringLiteral("id"));
    }

    void cancel()
    {
        Feedback fb;
        fb.cancel();
        const Table t({ints(QStringLiteral("id"), {1, 2})});
        auto r = diffTables(t, t, {}, &fb);
        QVERIFY(!r.hasValue());
        QVERIFY(r.error().is(keel::ErrorKind::Cancelled));
    }

    void adultModifiedCopy()
    {
        auto read = readTable(QStringLiteral(KEEL_SOURCE_DIR "/resources/examples/adult_train.csv"));
        QVERIFY2(read.hasValue(), qPrintable(read.message()));
        const Table a = withRowId(*read);
        const qint64 n = a.rowCount();
        // B: the first 1000 rows dropped, age + 1 on every 97th remaining row, 5 rows appended (copies with new ids).
        std::vector<qint64> keep;
        for (qint64 r = 1000; r < n; ++r)
            keep.push_back(r);
        qint64 expectedChanged = 0;
        for (qint64 r : keep)
            expectedChanged += (r % 97 == 0) ? 1 : 0;
        Table kept = copyRows(a, keep, [](const QString &col, qint64 row, int64_t v) {
            return col == u"age" && row % 97 == 0 ? v + 1 : v;
        });
        const Table extra = copyRows(a, {0, 1, 2, 3, 4}, [n](const QString &col, qint64 row, int64_t v) {
            return col == u"id" ? n + row : v;
        });
        std::vector<Column> joined;
        for (int i = 0; i < kept.columnCount(); ++i)
            joined.push_back(concatColumns({kept.column(i), extra.column(i)}));
        const Table b(std::move(joined));

        auto r = diffTables(a, b, DiffOptions{QStringLiteral("id")});
        QVERIFY2(r.hasValue(), qPrintable(r.message()));
        QCOMPARE(r->rowsA, n);
        QCOMPARE(r->rowsB, n - 1000 + 5);
        const KeyDiff &k = *r->keyDiff;
        QCOMPARE(k.removed, qint64(1000));
        QCOMPARE(k.added, qint64(5));
        QCOMPARE(k.changed, expectedChanged);
        QCOMPARE(k.unchanged, n - 1000 - expectedChanged);
        QCOMPARE(k.changedByColumn.size(), size_t(1));
        QCOMPARE(k.changedByColumn[0].first, QStringLiteral("age"));
        QCOMPARE(k.changedByColumn[0].second, expectedChanged);
        QCOMPARE(k.removedExamples.front(), QStringLiteral("0"));
        QCOMPARE(k.addedExamples.front(), QString::number(n));
        QCOMPARE(k.changedExamples.front(), QString::number(((1000 + 96) / 97) * 97));
        QCOMPARE(r->columns.size(), size_t(a.columnCount()));
        for (const ColumnDiff &d : r->columns)
            QCOMPARE(d.change, ColumnDiff::Change::Changed); // row counts differ
        const ColumnDiff *age = findDiff(*r, QStringLiteral("age"));
        QVERIFY(*age->psi < 0.01);       // a small change, not a drift
        QVERIFY(*age->ksPValue > 0.05);
        const ColumnDiff *wc = findDiff(*r, QStringLiteral("workclass"));
        QVERIFY(wc->jensenShannonDistance && *wc->jensenShannonDistance < 0.1);
    }
};

QTEST_GUILESS_MAIN(TstDiff)
#include "tst_diff.moc"
