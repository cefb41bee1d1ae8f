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

Expected<data::ValidationReport> validate(const QString &root, const workspace::DatasetVersion &version,
                                          const data::Table &table, const QByteArray &rulesYaml, const QString &source,
                                          Feedback *feedback)
{
    auto rules = data::parseRules(rulesYaml, source);
    if (!rules)
        return rules.error();
    auto ws = workspace::Workspace::open(root);
    if (!ws)
        return ws.error();
    return workspace::validateDataset(**ws, version, table, *rules, feedback);
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

Expected<workspace::AuditVerification> verifyAudit(const QString &root)
{
    auto ws = workspace::Workspace::open(root);
    if (!ws)
        return ws.error();
    return workspace::verifyAudit(**ws);
}

Expected<serve::Decision> explainDecision(const QString &root, const QString &id)
{
    auto ws = workspace::Workspace::open(root);
    if (!ws)
        return ws.error();
    return serve::explainDecision(**ws, id);
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
    auto example = workspace::createExampleWorkspace(dir, feedback, examplesDir);
    if (!example)
        return example.error();
    return example->workspace->root();
}

} // namespace keel::ui::jobs
