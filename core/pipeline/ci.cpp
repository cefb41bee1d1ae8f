#include "pipeline/ci.h"

#include "pipeline/pipeline.h"
#include "registry/registry.h"
#include "workspace/datasets.h"
#include "workspace/workspace.h"

#include <QDir>
#include <QFileInfo>

#include <algorithm>

namespace keel::pipeline {

namespace {

/// A shell word, single-quoted when it needs to be.
QString shellWord(const QString &w)
{
    static const QString safe = QStringLiteral("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./-_");
    if (!w.isEmpty() && std::all_of(w.begin(), w.end(), [](QChar c) { return safe.contains(c); }))
        return w;
    return QLatin1Char('\'') + QString(w).replace(QLatin1Char('\''), QStringLiteral("'\\''")) + QLatin1Char('\'');
}

QString yamlQuoted(const QString &s) { return QLatin1Char('"') + QString(s).replace(QLatin1Char('\\'), QStringLiteral("\\\\")).replace(QLatin1Char('"'), QStringLiteral("\\\"")) + QLatin1Char('"'); }

} // namespace

Expected<CiTemplate> ciTemplate(workspace::Workspace &ws, const QString &service)
{
    if (service != u"github" && service != u"gitlab")
        return makeError(ErrorKind::InvalidInput, QStringLiteral("'%1' is not a CI service Keel writes for (github, gitlab)").arg(service), {}, -1,
                         QStringLiteral("SERVICE"));
    CiTemplate t;
    t.service = service;
    t.path = service == u"github" ? QStringLiteral(".github/workflows/keel.yml") : QStringLiteral(".gitlab-ci.yml");
    CiJob check{QStringLiteral("check"), false, {}}, deployJob{QStringLiteral("deploy"), true, {}};
    // Data: the bytes come from the workspace's remote (git holds only pointers).
    auto remotes = ws.remotes();
    if (remotes && !remotes->empty()) {
        check.commands << QStringLiteral("keel pull");
        deployJob.commands << QStringLiteral("keel pull");
    }
    auto datasets = workspace::listDatasets(ws);
    if (!datasets)
        return datasets.error();
    for (const QString &d : *datasets) {
        const QString rules = QStringLiteral("rules/") + d + QStringLiteral(".yaml");
        if (QFileInfo::exists(ws.root() + QLatin1Char('/') + rules))
            check.commands << QStringLiteral("keel data validate %1 --rules %2").arg(shellWord(d), shellWord(rules));
    }
    for (const QString &name : listPipelines(ws)) {
        auto p = loadPipeline(ws, name);
        if (!p)
            return p.error();
        const bool deploys = std::any_of(p->stages.begin(), p->stages.end(), [](const Stage &s) { return s.kind == u"deploy"; });
        check.commands << QStringLiteral("keel run %1 --dry-run").arg(shellWord(name));
        check.commands << (deploys ? QStringLiteral("keel run %1 --without deploy").arg(shellWord(name)) : QStringLiteral("keel run %1").arg(shellWord(name)));
        for (const Stage &s : p->stages) {
            const QString model = s.spec.value(QStringLiteral("model")).toString(), alias = s.spec.value(QStringLiteral("alias")).toString();
            if (s.kind != u"register" || alias.isEmpty() || alias == u"champion")
                continue;
            if (auto champion = registry::resolveVersion(ws, model + QStringLiteral("@champion")); champion)
                check.commands << QStringLiteral("keel models compare %1 %2").arg(shellWord(model + QStringLiteral("@champion")), shellWord(model + QLatin1Char('@') + alias));
        }
        if (deploys)
            deployJob.commands << QStringLiteral("keel run %1").arg(shellWord(name));
    }
    if (check.commands.isEmpty())
        check.commands << QStringLiteral("keel data list");
    t.jobs.push_back(check);
    if (!deployJob.commands.isEmpty() && deployJob.commands != QStringList{QStringLiteral("keel pull")})
        t.jobs.push_back(deployJob);

    QString text;
    const QString header = QStringLiteral(
        "# Written by `keel ci init %1`: validate the data, run the pipelines without deploying, compare candidates with\n"
        "# their champions; deploy only after a person approves. Every step is a keel command you can run locally.\n"
        "# Each job starts from a clean checkout: data bytes come from the workspace's remote (keel pull), and stages rerun\n"
        "# unless their tracking store is shared. Keel must be on the PATH (see the README for the package).\n").arg(service);
    text += header;
    if (service == u"github") {
        text += QStringLiteral("name: keel\non:\n  push:\n    branches: [main]\n  pull_request:\n  workflow_dispatch:\njobs:\n");
        for (const CiJob &job : t.jobs) {
            text += QStringLiteral("  %1:\n    runs-on: ubuntu-latest\n").arg(job.name);
            if (job.manual)
                text += QStringLiteral("    needs: check\n    if: github.event_name == 'push' || github.event_name == 'workflow_dispatch'\n"
                                       "    environment: production   # required reviewers approve the deploy\n");
            text += QStringLiteral("    steps:\n      - uses: actions/checkout@v4\n");
            for (const QString &c : job.commands)
                text += QStringLiteral("      - run: %1\n").arg(yamlQuoted(c));
        }
    } else {
        text += QStringLiteral("stages: [check, deploy]\n");
        for (const CiJob &job : t.jobs) {
            text += QStringLiteral("%1:\n  stage: %1\n").arg(job.name);
            if (job.manual)
                text += QStringLiteral("  when: manual          # a person starts the deploy\n  rules:\n    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH\n");
            text += QStringLiteral("  script:\n");
            for (const QString &c : job.commands)
                text += QStringLiteral("    - %1\n").arg(yamlQuoted(c));
        }
    }
    t.text = text.toUtf8();
    return t;
}

} // namespace keel::pipeline
