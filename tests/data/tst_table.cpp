#include "data/table.h"
#include <QTest>
using namespace keel::data;
class TstTable : public QObject {
    Q_OBJECT
private slots:
    void builderRoundTrip()
    {
        ColumnBuilder b(ColumnType::Categorical);
        b.appendString("a"); b.appendNull(); b.appendString("b"); b.appendString("a");
        Column c = b.finish(QStringLiteral("x"));
        QCOMPARE(c.size(), 4);
        QCOMPARE(c.nullCount(), 1);
        QVERIFY(c.isNull(1));
        QCOMPARE(c.dictionarySize(), 2);
        QCOMPARE(c.displayAt(3), QStringLiteral("a"));
        ColumnBuilder b2(ColumnType::Categorical);
        b2.appendString("c"); b2.appendString("a");
        Column c2 = b2.finish(QStringLiteral("x"));
        Column all = concatColumns({c, c2});
        QCOMPARE(all.size(), 6);
        QCOMPARE(all.dictionarySize(), 3);
        QCOMPARE(all.displayAt(4), QStringLiteral("c"));
        QCOMPARE(all.displayAt(5), QStringLiteral("a"));
        QVERIFY(all.isNull(1));
        QVERIFY(!all.isNull(5));
    }
};
QTEST_GUILESS_MAIN(TstTable)
#include "tst_table.moc"
