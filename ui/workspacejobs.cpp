#include "workspacejobs.h"

#include "util/fileutil.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>

namespace keel::ui::jobs {

namespace {


} // namespace

Expected<Catalog> loadCatalog(const QString &dir, Feedback *feedback)
{
    auto ws = workspace::Workspace::open(dir);
    if (!ws)
        return ws.error();
    Catalog c;
    c.root = (*ws)->root();
    auto names = workspace::listDatasets(**ws);
    if (!names)
        return names.error();
    qint64 done = 0;
    for (const QString &name : *names) {
        if (isCancelled(feedback))
            return cancelledError();
        reportProgress(feedback, done++, names->size(), QStringLiteral("history"));
        auto log = workspace::datasetLog(**ws, name);
        if (!log)
            return log.error();
        c.datasets.push_back(DatasetHistory{name, std::move(*log)});
    }
    auto remotes = (*ws)->remotes();
    if (remotes)
        c.remotes = std::move(*remotes);
    return c;
}

Expected<QString> createWorkspace(const QString &dir)
{
    auto ws = workspace::Workspace::init(dir);
    if (!ws)
        return ws.error();
    return (*ws)->root();
}

Expected<OpenedVersion> openVersion(const QString &root, const QString &ref, Feedback *feedback)
{
    auto ws = workspace::Workspace::open(root);
    if (!ws)
        return ws.error();
    auto version = workspace::resolveDataset(**ws, ref);
    if (!version)
        return version.error();
    auto table = workspace::loadDataset(**ws, *version, feedback);
    if (!table)
        return table.error();
    return OpenedVersion{std::move(*version), std::move(*table)};
}

Expected<workspace::AddOutcome> importDataset(const QString &root, const ImportRequest &request, Feedback *feedback)
{
    auto ws = workspace::Workspace::open(root);
    if (!ws)
        return ws.error();
    if (isCancelled(feedback))
        return cancelledError();
    return workspace::addDataset(**ws, QFileInfo(request.file).absoluteFilePath(), request.name, request.message,
                                 request.options, feedback);
}

Expected<VersionDiff> diffVersions(const QString &root, const QString &refA, const QString &refB,
                                   const data::DiffOptions &options, Feedback *feedback)
{
    auto ws = workspace::Workspace::open(root);
    if (!ws)
        return ws.error();
    VersionDiff d;
    auto a = workspace::resolveDataset(**ws, refA);
    if (!a)
        return a.error();
    auto b = workspace::resolveDataset(**ws, refB);
    if (!b)
        return b.error();
    d.a = std::move(*a);
    d.b = std::move(*b);
    auto ta = workspace::loadDataset(**ws, d.a, feedback);
    if (!ta)
        return ta.error();
    auto tb = workspace::loadDataset(**ws, d.b, feedback);
    if (!tb)
        return tb.error();
    d.tableA = std::move(*ta);
    d.tableB = std::move(*tb);
    auto report = data::diffTables(d.tableA, d.tableB, options, feedback);
    if (!report)
        return report.error();
    d.report = std::move(*report);
    return d;
}

Expected<data::ValidationReport> validate(const data::Table &table, const QByteArray &rulesYaml, const QString &source,
                                          Feedback *feedback)
{
    auto rules = data::parseRules(rulesYaml, source);
    if (!rules)
        return rules.error();
    data::ValidationReport report = data::validateTable(table, *rules, feedback);
    if (isCancelled(feedback))
        return cancelledError();
    return report;
}

Expected<std::vector<tracking::AuditEvent>> loadAudit(const QString &root, int limit)
{
    auto ws = workspace::Workspace::open(root);
    if (!ws)
        return ws.error();
    auto store = (*ws)->tracking();
    if (!store)
        return store.error();
    return (*store)->auditEvents({}, limit);
}

Expected<QString> push(const QString &root, const QString &remote, Feedback *feedback)
{
    auto ws = workspace::Workspace::open(root);
    if (!ws)
        return ws.error();
    auto info = (*ws)->remote(remote);
    if (!info)
        return info.error();
    if (Status s = workspace::pushWorkspace(**ws, info->name, feedback); !s)
        return s.error();
    return QStringLiteral("pushed to %1").arg(info->name);
}

Expected<QString> pull(const QString &root, const QString &remote, Feedback *feedback)
{
    auto ws = workspace::Workspace::open(root);
    if (!ws)
        return ws.error();
    auto info = (*ws)->remote(remote);
    if (!info)
        return info.error();
    auto what = workspace::pullWorkspace(**ws, info->name, feedback);
    if (!what)
        return what.error();
    return QStringLiteral("pulled from %1: %2").arg(info->name, *what);
}

Expected<QString> createExampleWorkspace(const QString &dir, const QString &examplesDir, Feedback *feedback)
{
    struct Example {
        const char *file;
        const char *name;
        const char *message;
    };
    const Example examples[] = {
        {"adult_train.csv", "adult_train", "Adult census income, training part (UCI)"},
        {"adult_test.csv", "adult_test", "Adult census income, test part (UCI)"},
        {"diamonds.csv", "diamonds", "Diamond prices and cuts (ggplot2)"},
        {"bike_hour.csv", "bike", "Hourly bike rentals, Washington D.C. 2011-2012 (UCI)"},
    };
    for (const Example &e : examples)
        if (!QFileInfo::exists(examplesDir + QLatin1Char('/') + QLatin1String(e.file)))
            return makeError(QStringLiteral("example data not found"), examplesDir + QLatin1Char('/') + QLatin1String(e.file));

    auto ws = workspace::Workspace::init(dir);
    if (!ws)
        return ws.error();
    const int steps = 5;
    int step = 0;
    for (const Example &e : examples) {
        if (isCancelled(feedback))
            return cancelledError();
        reportProgress(feedback, step++, steps, QStringLiteral("add ") + QLatin1String(e.name));
        auto added = workspace::addDataset(**ws, examplesDir + QLatin1Char('/') + QLatin1String(e.file),
                                           QLatin1String(e.name), QLatin1String(e.message), {}, nullptr);
        if (!added)
            return added.error();
    }

    // A second adult_train version: the first 1,000 people leave, 2,000 from the test file arrive.
    auto train = readFile(examplesDir + QStringLiteral("/adult_train.csv"));
    if (!train)
        return train.error();
    auto test = readFile(examplesDir + QStringLiteral("/adult_test.csv"));
    if (!test)
        return test.error();
    const QList<QByteArray> trainLines = train->split('\n');
    const QList<QByteArray> testLines = test->split('\n');
    QByteArray v2;
    v2 += trainLines.value(0) + '\n';
    for (qsizetype i = 1001; i < trainLines.size(); ++i)
        if (!trainLines[i].isEmpty())
            v2 += trainLines[i] + '\n';
    for (qsizetype i = 1; i < testLines.size() && i <= 2000; ++i) {
        QByteArray line = testLines[i];
        if (line.endsWith("K.\""))
            line = line.left(line.size() - 3) + "K\"";
        v2 += line + '\n';
    }
    const QString v2Path = (*ws)->tmpDir() + QStringLiteral("/adult_train_refresh.csv");
    QDir().mkpath((*ws)->tmpDir());
    if (Status s = writeFileAtomic(v2Path, v2); !s)
        return s.error();
    reportProgress(feedback, step++, steps, QStringLiteral("add adult_train v2"));
    auto added = workspace::addDataset(**ws, v2Path, QStringLiteral("adult_train"),
                                       QStringLiteral("Refresh: drop 1,000 old rows, add 2,000 new ones"), {}, nullptr);
    QFile::remove(v2Path);
    if (!added)
        return added.error();
    reportProgress(feedback, steps, steps, QStringLiteral("done"));
    return (*ws)->root();
}

} // namespace keel::ui::jobs
