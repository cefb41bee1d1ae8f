#pragma once
// CI templates: a workflow that calls the runner for what a workspace holds — validate the datasets that have rules,
// run each pipeline without its deploy stages, compare each candidate with its champion — and a second job, run
// only on approval (GitHub: the "production" environment's required reviewers; GitLab: a manual job), that runs the
// pipelines in full, deploy stages included. The one place that decides the steps; `keel ci init` writes them.

#include "util/result.h"

#include <QString>
#include <QStringList>

#include <vector>

namespace keel::workspace { class Workspace; }

namespace keel::pipeline {

struct CiJob {
    QString name;                  ///< check, deploy
    bool manual = false;           ///< runs on approval
    QStringList commands;          ///< shell lines, in order, run in the workspace
};

struct CiTemplate {
    QString service;               ///< github, gitlab
    QString path;                  ///< where it goes, relative to the workspace: .github/workflows/keel.yml, .gitlab-ci.yml
    QByteArray text;               ///< the workflow file
    std::vector<CiJob> jobs;
};

/// The workflow for `service` (github or gitlab) from the workspace's datasets, rules/*.yaml, pipelines and registry.
/// Errors: an unknown service (field "SERVICE"), a pipeline that does not parse.
Expected<CiTemplate> ciTemplate(workspace::Workspace &ws, const QString &service);

} // namespace keel::pipeline
