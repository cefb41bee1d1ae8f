// Every item model of the workbench under QAbstractItemModelTester, plus the values they show checked against
// the data behind them.
#include "auditview.h"
#include "catalogmodel.h"
#include "data/diff.h"
#include "data/profile.h"
#include "data/rules.h"
#include "diffview.h"
#include "profilepanel.h"
#include "tablemodel.h"
#include "taskmanager.h"
#include "validationview.h"

#include <QAbstractItemModelTester>
#include <QtTest>

#include <cmath>

using namespace keel;
using namespace keel::data;
using namespace keel::ui;

namespace {

Table sampleTable()
{
    ColumnBuilder id(ColumnType::Int64), score(ColumnType::Float64), flag(ColumnType::Bool), when(ColumnType::Datetime),
        city(ColumnType::Categorical), note(ColumnType::String);
    const char *cities[] = {"Lisbon", "Oslo", "Graz"};
    for (int i = 0; i < 50; ++i) {
        id.appendInt64(i * 10);
        if (i % 7 == 3)
            score.appendNull();
        else
            score.appendFloat64(i * 0.5 - 3.25);
        flag.appendBool(i % 3 == 0);
        if (i % 5 == 4)
            when.appendNull();
        else
            when.appendDatetime(int64_t(1293840000000LL) + int64_t(i) * 3600000LL * 5);
        city.appendString(cities[i % 3]);
        if (i % 4 == 1)
            note.appendNull();
        else
            note.appendString(std::string("note ") + std::to_string(i));
    }
    return Table({id.finish(QStringLiteral("id")), score.finish(QStringLiteral("score")), flag.finish(QStringLiteral("flag")),
                  when.finish(QStringLiteral("when")), city.finish(QStringLiteral("city")), note.finish(QStringLiteral("note"))});
}

workspace::DatasetVersion makeVersion(const QString &name, int v, qint64 rows)
{
    workspace::DatasetVersion dv;
    dv.record.name = name;
    dv.record.rows = rows;
    dv.record.size = rows * 100;
    dv.record.source = name + QStringLiteral(".csv");
    dv.version = v;
    dv.commit.id = QStringLiteral("%1").arg(v, 40, 10, QLatin1Char('0'));
    dv.commit.author = QStringLiteral("Ada Analyst <ada@example.org>");
    dv.commit.time = QDateTime(QDate(2024, 3, v), QTime(10, 0), Qt::UTC);
    dv.commit.message = QStringLiteral("version %1\n\nmore text").arg(v);
    return dv;
}

} // namespace

class TestUiModels : public QObject {
    Q_OBJECT
private slots:
    void tableModel();
    void tableModelRowIndex();
    void tableModelCellText();
    void catalogModel();
    void columnSummaryModel();
    void driftModel();
    void violationModel();
    void auditModel();
    void taskModel();
};

void TestUiModels::tableModel()
{
    TableModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    const Table t = sampleTable();
    model.setTable(t);
    QCOMPARE(model.rowCount(), 50);
    QCOMPARE(model.columnCount(), 6);
    // Numbers right-aligned, text left-aligned.
    QCOMPARE(model.index(0, 0).data(Qt::TextAlignmentRole).toInt(), int(Qt::AlignRight | Qt::AlignVCenter));
    QCOMPARE(model.index(0, 1).data(Qt::TextAlignmentRole).toInt(), int(Qt::AlignRight | Qt::AlignVCenter));
    QCOMPARE(model.index(0, 4).data(Qt::TextAlignmentRole).toInt(), int(Qt::AlignLeft | Qt::AlignVCenter));
    // Values through the typed role match the table.
    QCOMPARE(model.index(7, 0).data(TableModel::ValueRole).toLongLong(), 70LL);
    QCOMPARE(model.index(8, 1).data(TableModel::ValueRole).toDouble(), 8 * 0.5 - 3.25);
    QCOMPARE(model.index(2, 4).data().toString(), QStringLiteral("Graz"));
    // Missing cells are marked: text, italic font, placeholder colour, MissingRole, no value.
    const QModelIndex missing = model.index(3, 1);
    QCOMPARE(missing.data().toString(), QStringLiteral("missing"));
    QVERIFY(missing.data(TableModel::MissingRole).toBool());
    QVERIFY(missing.data(Qt::FontRole).value<QFont>().italic());
    QVERIFY(missing.data(Qt::ForegroundRole).isValid());
    QVERIFY(!missing.data(TableModel::ValueRole).isValid());
    QVERIFY(!model.index(0, 1).data(TableModel::MissingRole).toBool());
    // Datetimes formatted with a space, midnight as a date.
    QCOMPARE(model.index(0, 3).data().toString(), QStringLiteral("2011-01-01"));
    QCOMPARE(model.index(1, 3).data().toString(), QStringLiteral("2011-01-01 05:00:00"));
    QCOMPARE(model.index(1, 3).data(TableModel::ValueRole).toDateTime(),
             QDateTime(QDate(2011, 1, 1), QTime(5, 0), Qt::UTC));
    // Header tooltip: type and missing share (score: rows 3, 10, 17, 24, 31, 38, 45 = 7 of 50 = 14%).
    const QString tip = model.headerData(1, Qt::Horizontal, Qt::ToolTipRole).toString();
    QVERIFY2(tip.contains(QStringLiteral("float64")), qPrintable(tip));
    QVERIFY2(tip.contains(QStringLiteral("14.0%")), qPrintable(tip));
    QCOMPARE(model.headerData(4, Qt::Horizontal).toString(), QStringLiteral("city"));
    QCOMPARE(model.headerData(9, Qt::Vertical).toString(), QStringLiteral("10"));
    QVERIFY(!(model.flags(model.index(0, 0)) & Qt::ItemIsEditable));
    model.setTable(Table());
    QCOMPARE(model.rowCount(), 0);
}

void TestUiModels::tableModelRowIndex()
{
    TableModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    const Table t = sampleTable();
    model.setTable(t);
    auto sorted = sortRows(t, 1, Qt::DescendingOrder);
    QVERIFY(sorted);
    model.setRowIndex(std::make_shared<const RowIndex>(*sorted));
    QCOMPARE(model.rowCount(), 50);
    // First shown row is the largest score (row 49: 21.25); missing scores at the end.
    QCOMPARE(model.index(0, 1).data(TableModel::ValueRole).toDouble(), 49 * 0.5 - 3.25);
    QCOMPARE(model.headerData(0, Qt::Vertical).toString(), QStringLiteral("50"));
    QCOMPARE(model.index(49, 1).data().toString(), QStringLiteral("missing"));
    for (int r = 1; r < 43; ++r)
        QVERIFY(model.index(r - 1, 1).data(TableModel::ValueRole).toDouble() >= model.index(r, 1).data(TableModel::ValueRole).toDouble());
    auto filtered = filterRows(t, &*sorted, RowFilter{4, RowFilter::Op::Equals, QStringLiteral("Oslo")});
    QVERIFY(filtered);
    model.setRowIndex(std::make_shared<const RowIndex>(*filtered));
    QCOMPARE(model.rowCount(), 17);
    for (int r = 0; r < model.rowCount(); ++r)
        QCOMPARE(model.index(r, 4).data().toString(), QStringLiteral("Oslo"));
    model.setRowIndex(nullptr);
    QCOMPARE(model.rowCount(), 50);
    QCOMPARE(model.index(3, 0).data(TableModel::SourceRowRole).toLongLong(), 3LL);
}

void TestUiModels::tableModelCellText()
{
    const Table t = sampleTable();
    QCOMPARE(TableModel::copyText(t.column(1), 3), QString());
    QCOMPARE(TableModel::copyText(t.column(1), 0), QStringLiteral("-3.25"));
    QCOMPARE(TableModel::cellText(t.column(5), 1), QStringLiteral("missing"));
    QCOMPARE(TableModel::cellText(t.column(5), 2), QStringLiteral("note 2"));
    QCOMPARE(TableModel::cellText(t.column(2), 0), QStringLiteral("true"));
}

void TestUiModels::catalogModel()
{
    DatasetCatalogModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    std::vector<DatasetHistory> ds;
    ds.push_back({QStringLiteral("adult"), {makeVersion(QStringLiteral("adult"), 1, 100), makeVersion(QStringLiteral("adult"), 2, 120),
                                            makeVersion(QStringLiteral("adult"), 3, 90)}});
    ds.push_back({QStringLiteral("bike"), {makeVersion(QStringLiteral("bike"), 1, 17379)}});
    model.setDatasets(ds);
    QCOMPARE(model.rowCount(), 2);
    const QModelIndex adult = model.index(0, 0);
    QCOMPARE(model.rowCount(adult), 3);
    // Newest version first.
    QCOMPARE(model.index(0, 0, adult).data().toString(), QStringLiteral("v3"));
    QCOMPARE(model.index(2, 0, adult).data(DatasetCatalogModel::RefRole).toString(), QStringLiteral("adult@v1"));
    QCOMPARE(model.version(model.index(1, 0, adult))->version, 2);
    QVERIFY(!model.version(adult));
    QCOMPARE(model.index(0, DatasetCatalogModel::AuthorColumn, adult).data().toString(), QStringLiteral("Ada Analyst"));
    QCOMPARE(model.index(0, DatasetCatalogModel::MessageColumn, adult).data().toString(), QStringLiteral("version 3"));
    QCOMPARE(model.index(0, DatasetCatalogModel::MessageColumn).data().toString(), QStringLiteral("3 versions"));
    QCOMPARE(model.index(0, DatasetCatalogModel::RowsColumn, adult).data().toString(), QLocale().toString(90));
    QCOMPARE(model.indexOfRef(QStringLiteral("adult@v2")), model.index(1, 0, adult));
    QCOMPARE(model.indexOfRef(QStringLiteral("bike")), model.index(1, 0));
    QVERIFY(!model.indexOfRef(QStringLiteral("adult@v9")).isValid());
    QVERIFY(!model.indexOfRef(QStringLiteral("nope")).isValid());
    QCOMPARE(model.parent(model.index(0, 3, adult)), adult);
    model.setDatasets({});
    QCOMPARE(model.rowCount(), 0);
    QCOMPARE(formatBytes(999), QStringLiteral("999 B"));
    QCOMPARE(formatBytes(3'974'305), QStringLiteral("4.0 MB"));
    QCOMPARE(formatBytes(12'400), QStringLiteral("12 kB"));
    QCOMPARE(formatBytes(1'234'567'890), QStringLiteral("1.2 GB"));
}

void TestUiModels::columnSummaryModel()
{
    const Table t = sampleTable();
    auto profile = profileTable(t);
    QVERIFY(profile);
    ColumnSummaryModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setProfile(*profile);
    QCOMPARE(model.rowCount(), 6);
    // Mean of id = 10 * mean(0..49) = 245; missing share of score = 7/50.
    QCOMPARE(model.index(0, ColumnSummaryModel::MeanColumn).data(ColumnSummaryModel::RawRole).toDouble(), 245.0);
    QCOMPARE(model.index(1, ColumnSummaryModel::MissingColumn).data(ColumnSummaryModel::RawRole).toDouble(), 7.0 / 50.0);
    QCOMPARE(model.index(1, ColumnSummaryModel::MissingColumn).data().toString(), QStringLiteral("14.0%"));
    QCOMPARE(model.index(4, ColumnSummaryModel::DistinctColumn).data(ColumnSummaryModel::RawRole).toDouble(), 3.0);
    QCOMPARE(model.index(0, ColumnSummaryModel::MinColumn).data().toString(), QStringLiteral("0"));
    QCOMPARE(model.index(0, ColumnSummaryModel::MaxColumn).data().toString(), QStringLiteral("490"));
    QCOMPARE(model.index(3, ColumnSummaryModel::MinColumn).data().toString(), QStringLiteral("2011-01-01"));
    QVERIFY(!model.index(4, ColumnSummaryModel::MeanColumn).data(ColumnSummaryModel::RawRole).isValid());
    QVERIFY(model.index(4, ColumnSummaryModel::TopColumn).data().toString().startsWith(QStringLiteral("Lisbon")));
}

void TestUiModels::driftModel()
{
    const Table a = sampleTable();
    // B: scores shifted, flag/when/note dropped, one column added.
    ColumnBuilder score50(ColumnType::Float64), extra50(ColumnType::Int64);
    for (int i = 0; i < 50; ++i) {
        score50.appendFloat64(i * 0.5 + 40);
        extra50.appendInt64(i);
    }
    const Table b50({a.column(0), score50.finish(QStringLiteral("score")), a.column(4), extra50.finish(QStringLiteral("extra"))});
    auto report = diffTables(a, b50);
    QVERIFY2(report, qPrintable(report.message()));
    DriftModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setReport(*report);
    QCOMPARE(model.rowCount(), int(report->columns.size()));
    int scoreRow = -1, extraRow = -1, flagRow = -1;
    for (int r = 0; r < model.rowCount(); ++r) {
        const QString name = model.index(r, DriftModel::NameColumn).data().toString();
        if (name == u"score")
            scoreRow = r;
        if (name == u"extra")
            extraRow = r;
        if (name == u"flag")
            flagRow = r;
    }
    QVERIFY(scoreRow >= 0 && extraRow >= 0 && flagRow >= 0);
    QCOMPARE(model.index(extraRow, DriftModel::ChangeColumn).data().toString(), QStringLiteral("added"));
    QCOMPARE(model.index(flagRow, DriftModel::ChangeColumn).data().toString(), QStringLiteral("removed"));
    const ColumnDiff &sd = report->columns[size_t(scoreRow)];
    QCOMPARE(model.index(scoreRow, DriftModel::DriftColumn).data(DriftModel::RawRole).toDouble(), sd.driftScore());
    QVERIFY(sd.driftScore() > 0.25);
    QVERIFY(model.index(scoreRow, DriftModel::DriftColumn).data().toString().endsWith(QStringLiteral("large")));
    QCOMPARE(model.index(scoreRow, DriftModel::MeasureColumn).data().toString(), QStringLiteral("PSI"));
    QVERIFY(model.index(scoreRow, DriftModel::PValueColumn).data().toString().startsWith(QStringLiteral("KS")));
    QCOMPARE(model.index(extraRow, DriftModel::DriftColumn).data(DriftModel::RawRole).toDouble(), -1.0);
    QCOMPARE(data::driftLevel(0.3, QStringLiteral("psi")), QStringLiteral("large"));
    QCOMPARE(data::driftLevel(0.12, QStringLiteral("psi")), QStringLiteral("moderate"));
    QCOMPARE(data::driftLevel(0.01, QStringLiteral("js_distance")), QStringLiteral("small"));
    QCOMPARE(data::driftLevel(0.3, QStringLiteral("js_distance")), QStringLiteral("moderate"));
}

void TestUiModels::violationModel()
{
    const Table t = sampleTable();
    auto rules = parseRules("columns:\n  id: {max: 100}\n  city: {allowed: [Lisbon, Oslo]}\n  missing_col: {}\n",
                            QStringLiteral("test.yaml"));
    QVERIFY2(rules, qPrintable(rules.message()));
    const ValidationReport report = validateTable(t, *rules);
    QVERIFY(!report.ok());
    ViolationModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setReport(report);
    QCOMPARE(model.rowCount(), int(report.violations.size()));
    bool sawMax = false;
    for (int r = 0; r < model.rowCount(); ++r) {
        if (model.index(r, ViolationModel::RuleColumn).data().toString() != u"max")
            continue;
        sawMax = true;
        // ids 110..490 exceed 100: 39 rows, the first at row 11.
        QCOMPARE(model.index(r, ViolationModel::CountColumn).data().toString(), QLocale().toString(39));
        QCOMPARE(model.index(r, 0).data(ViolationModel::FirstExampleRowRole).toLongLong(), 11LL);
        QVERIFY(model.index(r, ViolationModel::ExamplesColumn).data().toString().startsWith(QStringLiteral("row 12: 110")));
    }
    QVERIFY(sawMax);
}

void TestUiModels::auditModel()
{
    AuditModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    std::vector<tracking::AuditEvent> events(3);
    for (int i = 0; i < 3; ++i) {
        events[size_t(i)].id = i + 1;
        events[size_t(i)].time = QDateTime(QDate(2024, 1, 1 + i), QTime(12, 0), Qt::UTC);
        events[size_t(i)].user = QStringLiteral("ada");
        events[size_t(i)].action = QStringLiteral("data.add");
        events[size_t(i)].subject = QStringLiteral("adult");
        events[size_t(i)].commit = QStringLiteral("0123456789abcdef");
        events[size_t(i)].detail = QJsonObject{{QStringLiteral("version"), i + 1}};
    }
    model.setEvents(events);
    QCOMPARE(model.rowCount(), 3);
    QCOMPARE(model.index(1, AuditModel::ActionColumn).data().toString(), QStringLiteral("data.add"));
    QCOMPARE(model.index(1, AuditModel::CommitColumn).data().toString(), QStringLiteral("0123456789"));
    // In words from core's one wording, with the recorded JSON only in the tooltip.
    QCOMPARE(model.index(2, AuditModel::EventColumn).data().toString(), QStringLiteral("added a version of dataset adult (version 3)"));
    QVERIFY(model.index(2, AuditModel::EventColumn).data(Qt::ToolTipRole).toString().contains(QStringLiteral("\"version\": 3")));
}

void TestUiModels::taskModel()
{
    TaskModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    TaskInfo a;
    a.id = 1;
    a.title = QStringLiteral("Import");
    a.state = TaskState::Running;
    a.done = 25;
    a.total = 100;
    a.etaMs = 61000;
    TaskInfo b = a;
    b.id = 2;
    b.state = TaskState::Finished;
    model.setTasks({a});
    QCOMPARE(model.rowCount(), 1);
    model.setTasks({a, b});
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(model.index(0, TaskModel::ProgressColumn).data().toString(), QStringLiteral("25%"));
    QCOMPARE(model.index(0, TaskModel::ProgressColumn).data(TaskModel::FractionRole).toDouble(), 0.25);
    QCOMPARE(model.index(0, TaskModel::TimeColumn).data().toString(), QStringLiteral("ETA 1:01"));
    QCOMPARE(model.index(0, TaskModel::CancelColumn).data().toString(), QStringLiteral("Cancel"));
    QCOMPARE(model.index(1, TaskModel::CancelColumn).data().toString(), QString());
    QCOMPARE(model.index(1, TaskModel::StateColumn).data().toString(), QStringLiteral("done"));
    model.setTasks({b});
    QCOMPARE(model.rowCount(), 1);
    QCOMPARE(model.index(0, 0).data(TaskModel::IdRole).value<quint64>(), quint64(2));
    model.setTasks({});
    QCOMPARE(model.rowCount(), 0);
}

QTEST_MAIN(TestUiModels)
#include "tst_uimodels.moc"
