#pragma once
// Versioned datasets: the original bytes in the object store, a pointer file datasets/NAME.yaml in git
// (content id, format, read options, schema, profile), and a memory-mapped columnar cache in .keel/cache.

#include "data/profile.h"
#include "data/reader.h"
#include "data/rules.h"
#include "data/table.h"
#include "util/feedback.h"
#include "util/fileutil.h"
#include "util/result.h"
#include "workspace/gitrepo.h"

#include <QSet>

#include <memory>

namespace keel::workspace {

class Workspace;

/// What datasets/NAME.yaml holds for one version.
struct DatasetRecord {
    QString name;
    QString contentId;          ///< object store id of the original bytes
    qint64 size = 0;            ///< bytes of the original file
    QString format;             ///< "csv" or "jsonl"
    QString source;             ///< file name it was added from
    qint64 rows = 0;
    char delimiter = ',';
    bool header = true;
    QStringList missingTokens;
    QString dateOrder;          ///< "auto", "day-first", "month-first"
    std::vector<data::Field> schema;
    data::TableProfile profile;
    /// False for a version added with `--no-parse`: only its bytes and read options are recorded (rows 0, no schema
    /// or profile); loadDataset parses it on first use.
    bool parsed = true;

    /// The options that re-parse the original bytes into exactly this schema.
    data::ReadOptions readOptions() const;
};

QByteArray datasetRecordToYaml(const DatasetRecord &record);
Expected<DatasetRecord> datasetRecordFromYaml(const QByteArray &yaml, const QString &sourceName);

/// One version of a dataset: its record plus the commit that made it.
struct DatasetVersion {
    DatasetRecord record;
    int version = 0;            ///< 1-based, in commit order
    CommitInfo commit;
    QString ref() const { return record.name + QStringLiteral("@v") + QString::number(version); }
};

/// Names of datasets, models and deployments: a letter or digit, then letters, digits, '.', '_' and '-', at most 128;
/// never '/', '\\' or '..'. Errors say which kind of name and the option that gives it.
Status validateName(const QString &name, const QString &kind, const QString &option);

/// Letters, digits, '.', '_', '-'; no '/', no "..", at most 128 characters.
Status validateDatasetName(const QString &name);

struct AddOutcome {
    DatasetVersion version;
    bool unchanged = false;     ///< the latest version already had these bytes and options: nothing committed
    qint64 newBytes = 0;        ///< bytes the object store had to write
    /// Wall time of each step in milliseconds: parse, profile, store (chunk + hash + write), cache, commit.
    qint64 parseMs = 0, profileMs = 0, storeMs = 0, cacheMs = 0, commitMs = 0;
};

/// Parses `file` while its bytes are stored (chunked, hashed and written on another thread), then profiles the table
/// while its columnar cache is written, and writes and commits datasets/NAME.yaml with an audit event. Nothing is
/// committed unless the parse accepted every row (a refused file leaves at most unreferenced chunks for `store gc`).
/// With `noParse`, only the first rows are read (for the delimiter and header): the bytes are stored and committed,
/// and the version is parsed on first use (DatasetRecord::parsed).
Expected<AddOutcome> addDataset(Workspace &ws, const QString &file, const QString &name, const QString &message,
                                const data::ReadOptions &options, Feedback *feedback = nullptr, bool noParse = false);

/// Names of all datasets at HEAD.
Expected<QStringList> listDatasets(Workspace &ws);
/// All versions of a dataset, oldest first.
Expected<std::vector<DatasetVersion>> datasetLog(Workspace &ws, const QString &name);
/// Resolves NAME, NAME@vN, NAME@<commit>, NAME@<tag>.
Expected<DatasetVersion> resolveDataset(Workspace &ws, const QString &ref);
/// Writes the original bytes of a version to `outPath` (verified; written beside it and renamed, so nothing partial
/// is ever visible) under the user-named-output `policy` (checkOutputPath), and records an audit event.
Status checkoutDataset(Workspace &ws, const DatasetVersion &version, const QString &outPath, const OutputPolicy &policy,
                       Feedback *feedback = nullptr);
/// Streams the original bytes of a version to an open descriptor (stdout), every chunk verified first.
Status checkoutDatasetTo(Workspace &ws, const DatasetVersion &version, int fd, Feedback *feedback = nullptr);
/// The typed table of a version, from the memory-mapped cache (rebuilt from the store when missing or damaged).
Expected<data::Table> loadDataset(Workspace &ws, const DatasetVersion &version, Feedback *feedback = nullptr);
/// Checks `table` (the loaded `version`) against `rules` (data::validateTable) and records the check in the audit trail
/// ("data.validate": version, rules source, rules checked and failed), whichever front door asked. Cancel gives an
/// error of kind Cancelled and records nothing.
Expected<data::ValidationReport> validateDataset(Workspace &ws, const DatasetVersion &version, const data::Table &table,
                                                 const data::RuleSet &rules, Feedback *feedback = nullptr);

/// Content ids that any dataset version in any commit of the history references (plus the history of `extraTips`,
/// commit ids such as a fetched but not yet accepted remote head).
Expected<QSet<QString>> referencedObjects(Workspace &ws, const QStringList &extraTips = {});
/// Object ids a registry card (models/NAME.yaml) references: its versions' bundles.
QSet<QString> registryCardObjects(const QByteArray &card);
/// Registered model bundles that models/*.yaml reference in any reachable commit (and in `extraTips`).
Expected<QSet<QString>> registryObjects(Workspace &ws, const QStringList &extraTips = {});
/// Everything git history references: dataset versions and registered bundles (what push, pull and clone copy).
Expected<QSet<QString>> historyObjects(Workspace &ws, const QStringList &extraTips = {});

/// What createExampleWorkspace() made.
struct ExampleWorkspace {
    std::unique_ptr<Workspace> workspace;
    std::vector<DatasetVersion> versions;   ///< in the order added
    QStringList configs;                    ///< workspace-relative paths of the training configs
};
/// The example workspace, the same whoever builds it (`keel init --example`, the workbench's New Example Workspace,
/// the screenshot tool): the bundled Adult (train and test), diamonds and bike rentals datasets, a second version of
/// adult_train (the first 1,000 people leave, 2,000 from the test file arrive), and the example training configs in
/// configs/ (one commit). `examplesDir` is Workspace::examplesDir() unless given. Progress per dataset; cancel.
Expected<ExampleWorkspace> createExampleWorkspace(const QString &dir, Feedback *feedback = nullptr,
                                                  const QString &examplesDir = {});

/// Copies missing objects for every reachable version to the remote, then pushes git history.
Status pushWorkspace(Workspace &ws, const QString &remoteName, Feedback *feedback = nullptr);
/// Fetches git history, copies the objects it needs, then fast-forwards or merges. Returns what happened.
Expected<QString> pullWorkspace(Workspace &ws, const QString &remoteName, Feedback *feedback = nullptr);
/// Makes a new workspace in `dir` from the remote folder `remotePath` (or an s3:// remote reached through `endpoint`
/// and `region`), with all objects of its history, every one verified.
Expected<std::unique_ptr<Workspace>> cloneWorkspace(const QString &remotePath, const QString &dir, Feedback *feedback = nullptr,
                                                    const QString &endpoint = {}, const QString &region = {});

} // namespace keel::workspace
