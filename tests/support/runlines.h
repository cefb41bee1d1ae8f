#pragma once
// TrackingStore::forEachRunLine() against an independent reading of the same store: runs() for the records, and
// each run's metrics() with its headline picked here by hand (the newest step-0 test.accuracy, else the newest
// step-0 test.rmse). Shared by the SQLite and the live PostgreSQL tests; fails the calling test through QTest.

#include "tracking/trackingstore.h"

#include <QTest>

#include <cmath>
#include <cstring>
#include <optional>
#include <vector>

namespace keel::testsupport {

inline void compareRunLines(const tracking::TrackingStore &store, const QString &experiment)
{
    struct Line {
        QString id, experiment, name, parent, sweep;
        tracking::RunStatus status;
        std::optional<qint64> start, end;
        QString headlineKey;
        double headlineValue;
    };
    std::vector<Line> lines;
    const Status listed = store.forEachRunLine(experiment, nullptr, [&](const tracking::RunLine &r) {
        const auto text = [](QUtf8StringView v) { return QString::fromUtf8(v.data(), v.size()); };
        lines.push_back({text(r.id), text(r.experiment), text(r.name), text(r.parentRunId), text(r.sweepId), r.status,
                         r.startMs, r.endMs, r.headlineKey.toString(), r.headlineValue});
    });
    QVERIFY2(listed, qPrintable(listed ? QString() : listed.error().message));
    auto runs = store.runs(experiment);
    QVERIFY(runs);
    QCOMPARE(lines.size(), runs->size());
    for (size_t i = 0; i < lines.size(); ++i) {
        const Line &got = lines[i];
        const tracking::RunRecord &want = (*runs)[i];
        QCOMPARE(got.id, want.id);
        QCOMPARE(got.experiment, want.experiment);
        QCOMPARE(got.name, want.name);
        QCOMPARE(got.parent, want.parentRunId);
        QCOMPARE(got.sweep, want.sweepId);
        QCOMPARE(got.status, want.status);
        QCOMPARE(got.start, want.start.isValid() ? std::optional<qint64>(want.start.toMSecsSinceEpoch()) : std::nullopt);
        QCOMPARE(got.end, want.end.isValid() ? std::optional<qint64>(want.end.toMSecsSinceEpoch()) : std::nullopt);
        auto points = store.metrics(want.id);   // sorted by key, step, then time: the newest of a key comes last
        QVERIFY(points);
        QString key;
        double value = 0;
        for (const QString &candidate : {QStringLiteral("test.accuracy"), QStringLiteral("test.rmse")}) {
            for (const tracking::MetricPoint &p : *points)
                if (p.key == candidate && p.step == 0) {
                    key = candidate;
                    value = p.value;
                }
            if (!key.isEmpty())
                break;
        }
        QCOMPARE(got.headlineKey, key);
        if (!key.isEmpty())
            QVERIFY2(std::memcmp(&got.headlineValue, &value, sizeof value) == 0 || (std::isnan(value) && std::isnan(got.headlineValue)),
                     qPrintable(QStringLiteral("%1 %2: %3 vs %4").arg(got.name, key).arg(got.headlineValue).arg(value)));
    }
}

} // namespace keel::testsupport
