#pragma once
// The model registry: named models whose versions are immutable records of a trained run, with aliases that move by
// commits and approvals that record a reviewer. A model NAME is one card in git, models/NAME.yaml, holding its
// versions, aliases and approvals; every change is one commit plus one audit event, so "what was champion at that
// time" is a question to git history. A version's bytes (model, recipe, split, background sample, card) are one
// bundle in the object store (bundle.h), verified by hash whenever it is loaded.

#include "explain/explainer.h"
#include "ml/model.h"
#include "registry/bundle.h"
#include "util/feedback.h"
#include "util/result.h"

#include <QDateTime>
#include <QJsonObject>
#include <QMap>
#include <QString>
#include <QStringList>

#include <optional>
#include <vector>

namespace keel::workspace { class Workspace; }

namespace keel::registry {

/// One input column the model reads, as training saw it (from the training version's profile and the fitted recipe).
struct FeatureSchema {
    QString name;
    QString type;                  ///< the column type: int64, float64, bool, datetime, categorical, string
    QString kind;                  ///< how the recipe reads it: numeric, categorical, datetime
    QStringList categories;        ///< categorical: the categories the model knows
    std::optional<double> min, max;///< numeric and datetime: the training range
    double missingShare = 0;       ///< share of missing values in the training version
};

struct Approval {
    QString by;                    ///< "Name <email>"
    QDateTime at;
    QString message;
};

/// The datasets a version was trained and tested on.
struct DataLineage {
    QString train, trainContentId;
    QString evaluate, evaluateContentId;   ///< empty when the test rows were a split of the training data
};

struct FeatureWeight {
    QString feature;
    double meanAbsShap = 0;
};

/// One registered version. Everything but `approvals` is fixed when it is registered.
struct ModelVersion {
    QString name;                  ///< the model's name
    int version = 0;               ///< 1, 2, ... in registration order
    QDateTime registered;
    QString by;                    ///< "Name <email>" of who registered it
    QString message;
    QString runId, runName, experiment;
    QString modelKind;             ///< ml::Model::kind()
    ml::Task task = ml::Task::Regression;
    QStringList classes;
    QString bundle;                ///< object id of the bundle in the store
    QString bundleSha256;          ///< SHA-256 of the bundle's bytes
    DataLineage data;
    std::vector<std::pair<QString, QString>> params;   ///< the run's params (learner, params.*, split.*, ...)
    std::vector<std::pair<QString, double>> metrics;   ///< the run's final metrics (test.*, validation.*, cv.*)
    std::vector<FeatureSchema> schema;
    std::vector<FeatureWeight> importance;             ///< mean |SHAP| on the test rows, largest first
    QJsonObject recipeSpec;        ///< the recipe section of the training config, as fitted (for lineage diffs)
    QJsonObject importedFrom;      ///< set for imported versions: {name, version, bundle_sha256, registered, by}
    std::vector<Approval> approvals;

    QString ref() const { return name + QStringLiteral("@v") + QString::number(version); }
    std::optional<double> metric(const QString &key) const;
    /// The facts a bundle carries (card.json): everything except the bundle's own identity and the approvals.
    QJsonObject cardJson() const;
    static Expected<ModelVersion> fromCardJson(const QJsonObject &json);
};

/// A model: its versions, oldest first, and its aliases (alias -> version).
struct RegisteredModel {
    QString name;
    std::vector<ModelVersion> versions;
    QMap<QString, int> aliases;

    const ModelVersion *find(int version) const;
    const ModelVersion *latest() const { return versions.empty() ? nullptr : &versions.back(); }
    /// Aliases pointing at `version`.
    QStringList aliasesOf(int version) const;
    /// The card file's content (models/NAME.yaml), and back; errors name `source` and the field.
    QByteArray toYaml() const;
    static Expected<RegisteredModel> fromYaml(const QByteArray &yaml, const QString &source);
};

/// Names of the registered models, sorted.
Expected<QStringList> listModels(workspace::Workspace &ws);
/// The model called `name` (NotFound when it has no card).
Expected<RegisteredModel> loadModel(workspace::Workspace &ws, const QString &name);
/// A version by reference: NAME (the latest), NAME@vN, NAME@ALIAS. Errors say which versions and aliases exist.
Expected<ModelVersion> resolveVersion(workspace::Workspace &ws, const QString &ref);

/// Registers run `runIdOrPrefix` as the next version of `name` (created if new): checks the run finished and its
/// artifacts against their hashes, computes the schema from the training version's profile and the fitted recipe,
/// samples the background (up to 200 training rows, seeded) and the global importance (mean |SHAP| on up to 1,000 of
/// the run's test rows), writes the bundle to the object store, then commits models/NAME.yaml and records the
/// "models.register" audit event in one step. Progress by stage; cancel leaves nothing committed.
Expected<ModelVersion> registerRun(workspace::Workspace &ws, const QString &runIdOrPrefix, const QString &name,
                                   const QString &message, Feedback *feedback = nullptr);

/// What keel.yaml's `registry:` section asks of alias moves.
struct RegistryPolicy {
    QStringList requireApproval;   ///< aliases that may only point at an approved version
};
Expected<RegistryPolicy> registryPolicy(workspace::Workspace &ws);

/// Points `alias` of the model at the version `versionRef` names (NAME@vN or NAME@OTHERALIAS): one commit, whose
/// message is `message`, and a "models.alias" audit event. Refused (Conflict) when the policy requires approval for
/// this alias and the version has none. Alias names follow the rules of dataset names; "latest" and names of the
/// form vN are reserved. Returns the commit id.
Expected<QString> moveAlias(workspace::Workspace &ws, const QString &versionRef, const QString &alias,
                            const QString &message);
/// Removes `alias` from model `name` (one commit, audit event "models.alias" with no version).
Expected<QString> removeAlias(workspace::Workspace &ws, const QString &name, const QString &alias, const QString &message);
/// Records the current git user's approval of a version: one commit and a "models.approve" audit event.
Expected<QString> approveVersion(workspace::Workspace &ws, const QString &versionRef, const QString &message);

/// One move of an alias, read from git history.
struct AliasMove {
    QString alias;
    int from = 0;                  ///< version before the move; 0 = the alias did not exist
    int to = 0;                    ///< version after; 0 = the alias was removed
    QDateTime time;
    QString author;                ///< "Name <email>" of the commit
    QString message;               ///< why (the commit message)
    QString commit;
};
/// Every move of the model's aliases (or of `alias` only), oldest first.
Expected<std::vector<AliasMove>> aliasHistory(workspace::Workspace &ws, const QString &name, const QString &alias = {});
/// The aliases as they were at time `at`: from the last commit of the card at or before it (empty before the model
/// existed).
Expected<QMap<QString, int>> aliasesAt(workspace::Workspace &ws, const QString &name, const QDateTime &at);

/// A version's bytes, read from its bundle and verified: the model and recipe ready to score, the split and the
/// background sample.
struct LoadedVersion {
    ModelVersion version;
    explain::ModelContext ctx;
    QByteArray modelBytes;
    QJsonObject split;
    QByteArray backgroundCsv;
};
Expected<LoadedVersion> loadVersion(workspace::Workspace &ws, const ModelVersion &version);

/// Writes the version's bundle to `outPath` (never over an existing file unless `overwrite`), verified first;
/// signed with `privateKeyPem` when given (the stored bundle stays unsigned).
Status exportVersion(workspace::Workspace &ws, const QString &versionRef, const QString &outPath, bool overwrite,
                     const QByteArray &privateKeyPem = {});
/// Verifies the bundle in `file` (every member's hash; the signature when there is one; with `trustedPublicPem`, that
/// this key signed it) and registers it as the next version of `name` (empty: the name it was registered under),
/// keeping its original lineage and recording where it came from. One commit and a "models.import" audit event.
Expected<ModelVersion> importBundle(workspace::Workspace &ws, const QString &file, const QString &name,
                                    const QString &message, const QByteArray &trustedPublicPem = {});

} // namespace keel::registry
