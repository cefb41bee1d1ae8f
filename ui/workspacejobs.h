#pragma once
// The work behind the workbench's tasks. Each function opens its own Workspace from the root folder (a Workspace
// and its libgit2 repository belong to one thread), does one job through the core API and returns plain values,
// so it can run on any worker thread. Progress and cancel go through the Feedback.

#include "catalogmodel.h"
#include "data/diff.h"
#include "data/reader.h"
#include "data/rules.h"
#include "data/table.h"
#include "serve/decision.h"
#include "tracking/trackingstore.h"
#include "util/feedback.h"
#include "util/result.h"
#include "workspace/audittrail.h"
#include "workspace/datasets.h"
#include "workspace/workspace.h"

#include <QString>

#include <vector>

namespace keel::ui::jobs {

/// What the workbench needs to show a workspace: its datasets with their histories and its remotes.
struct Catalog {
    QString root;
    std::vector<DatasetHistory> datasets;
    std::vector<workspace::RemoteInfo> remotes;
};

/// Opens the workspace containing `dir` and lists every dataset's versions (oldest first) and the remotes.
Expected<Catalog> loadCatalog(const QString &dir, Feedback *feedback = nullptr);

/// Creates a new, empty workspace in `dir` and returns its root.
Expected<QString> createWorkspace(const QString &dir);

/// A dataset version and its table (memory-mapped from the workspace cache).
struct OpenedVersion {
    workspace::DatasetVersion version;
    data::Table table;
};

/// Resolves `ref` (name, name@vN, name@commit) and loads its table.
Expected<OpenedVersion> openVersion(const QString &root, const QString &ref, Feedback *feedback = nullptr);

/// Everything `keel data add` takes: the file, the dataset name, the commit message and the read options.
struct ImportRequest {
    QString file;
    QString name;
    QString message;
    data::ReadOptions options;
};

/// Adds a version exactly as `keel data add` does (workspace::addDataset). Cancel leaves nothing committed.
Expected<workspace::AddOutcome> importDataset(const QString &root, const ImportRequest &request,
                                              Feedback *feedback = nullptr);

/// Both sides of a diff: the versions, their tables (for distribution overlays) and the report.
struct VersionDiff {
    workspace::DatasetVersion a, b;
    data::Table tableA, tableB;
    data::DiffReport report;
};

/// Loads two versions and compares them with data::diffTables.
Expected<VersionDiff> diffVersions(const QString &root, const QString &refA, const QString &refB,
                                   const data::DiffOptions &options, Feedback *feedback = nullptr);

/// Validates `table` against rule YAML (`source` names it in errors). Cancel gives the error "cancelled".
Expected<data::ValidationReport> validate(const QString &root, const workspace::DatasetVersion &version,
                                          const data::Table &table, const QByteArray &rulesYaml, const QString &source,
                                          Feedback *feedback = nullptr);

/// The newest `limit` audit events of the workspace's tracking store (all when limit < 0).
Expected<std::vector<tracking::AuditEvent>> loadAudit(const QString &root, int limit = 2000);
/// workspace::verifyAudit of the workspace at `root`.
Expected<workspace::AuditVerification> verifyAudit(const QString &root);
/// serve::explainDecision of prediction `id` in the workspace at `root`.
Expected<serve::Decision> explainDecision(const QString &root, const QString &id);

/// Pushes to / pulls from a remote (empty name: origin or the only remote). Pull returns what happened.
Expected<QString> push(const QString &root, const QString &remote, Feedback *feedback = nullptr);
Expected<QString> pull(const QString &root, const QString &remote, Feedback *feedback = nullptr);

/// Makes a workspace in `dir` holding the bundled example data from `examplesDir`: adult_train, adult_test,
/// diamonds and bike, plus a second adult_train version (the first 1,000 rows dropped and 2,000 rows of the
/// test file, labels without their trailing dot, appended), as the headless tour does. Returns the root.
Expected<QString> createExampleWorkspace(const QString &dir, const QString &examplesDir, Feedback *feedback = nullptr);

} // namespace keel::ui::jobs
