#pragma once
// Online scoring of registered model versions: JSON records in, predictions (and explanations) out, with every
// input checked against the version's input schema. What `keel serve` answers; the HTTP layer (serve/server.h) only
// parses, calls these and writes responses.

#include "data/table.h"
#include "deploy/deployment.h"
#include "explain/report.h"
#include "explain/treeshap.h"
#include "ml/model.h"
#include "registry/registry.h"
#include "serve/request.h"
#include "util/result.h"
#include "util/textmap.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QString>

#include <atomic>
#include <memory>
#include <vector>

namespace keel::workspace { class Workspace; }

namespace keel::serve {

/// One registered version, loaded from its bundle (verified by hash) and ready to score. Immutable after load(), so
/// any thread may use it.
class ModelRuntime {
public:
    static Expected<std::shared_ptr<const ModelRuntime>> load(workspace::Workspace &ws, const QString &versionRef);

    const registry::ModelVersion &version() const { return m_version; }
    QString ref() const { return m_version.ref(); }
    /// The column the model predicts and the label map its recipe applies to raw labels.
    QString target() const;
    QString mapLabel(const QString &raw) const;

    /// Counts of what the records held that the model had not seen (scored as the recipe says).
    struct InputNotes {
        qint64 unseenCategories = 0;
        qint64 missingValues = 0;
    };
    /// The records as a table of the input schema's columns. Errors (kind InvalidInput) name the field:
    /// "records[3].age: expected a number", a missing or unknown feature, a non-object record.
    Expected<data::Table> toTable(const RequestRecords &records, InputNotes *notes = nullptr) const;
    Expected<data::Table> toTable(const QJsonArray &records, InputNotes *notes = nullptr) const;
    /// Model::predict of the table's rows (binary: P(class 1); multiclass: rows x classes; regression: values).
    Expected<std::vector<double>> predict(const data::Table &rows) const;
    /// One row's prediction as the response shows it: {"label", "probabilities": {class: p}} or {"value"}.
    QJsonObject outputJson(const std::vector<double> &predictions, qint64 row) const;
    /// The same members written straight into a JSON object being built (no braces): the fast path for responses.
    void appendOutput(QByteArray &out, const std::vector<double> &predictions, qint64 row) const;
    /// One record of a /predict or /explain response, braces included: id, the answering model, the output and, with
    /// an attribution, base_value, contributions and what they explain. The one writer of that form, so a decision
    /// explained later (serve/decision.h) is byte for byte what /explain returned.
    /// `outputSpan`, when given, receives where the output members (appendOutput's bytes) sit in `out`.
    void appendRecord(QByteArray &out, const QString &id, const std::vector<double> &predictions, qint64 row,
                      const explain::Attribution *attribution, std::pair<qsizetype, qsizetype> *outputSpan = nullptr) const;
    /// The predicted class index of a row (classification), for comparing with a shadow.
    int predictedClass(const std::vector<double> &predictions, qint64 row) const;
    /// Per-row attributions (tree SHAP for tree models, linear SHAP for linear ones; background: the bundle's sample).
    Expected<explain::Attribution> explain(const data::Table &rows) const;

    /// Whether predict() evaluates the trees itself (see below) rather than through XGBoost.
    bool compiledTrees() const { return bool(m_trees); }

private:
    Expected<std::vector<double>> evaluateTrees(const data::Table &rows) const;

    registry::ModelVersion m_version;
    explain::RunModel m_model;
    std::shared_ptr<const explain::RowAttributor> m_attributor;
    /// Tree models: the trees walked directly (float sums and links as XGBoost computes them), used only when
    /// load() found them equal to XGBoost's own predictions, bit for bit, on the bundle's background sample. Serving
    /// one record then costs no DMatrix and no thread pool.
    std::shared_ptr<const explain::TreeEnsemble> m_trees;
    /// Per input, in schema order, fixed at load: where a record's member goes, the column type and the known
    /// categories, so scoring a record makes no lookup structure of its own.
    std::vector<QByteArray> m_inputNames;   ///< UTF-8
    std::vector<data::ColumnType> m_inputTypes;
    std::vector<TextSet> m_knownCategories;   ///< UTF-8
};

/// A deployment as served: its revision and loaded models. Immutable; a switch replaces the whole value.
struct DeploymentRuntime {
    deploy::Deployment spec;
    std::shared_ptr<const ModelRuntime> model, shadow, canary;

    /// Loads every model the deployment names (bundles verified).
    static Expected<std::shared_ptr<const DeploymentRuntime>> load(workspace::Workspace &ws, const deploy::Deployment &spec);
    /// The model that answers a request with `key`: the canary for a stable share of keys, else the main model.
    const ModelRuntime &answering(const QString &key) const;
};

/// Row `r` of `t` as a request record of `schema` (numbers as numbers, dates and categories as text, missing as null).
QJsonObject recordOf(const data::Table &t, qint64 r, const std::vector<registry::FeatureSchema> &schema);

/// `s` as a JSON string literal, appended to `out`.
void appendJson(QByteArray &out, const QString &s);
/// `v` as compact JSON appended to `out`: what QJsonDocument::toJson(Compact) writes for it (members in the object's
/// order, whole numbers without a fraction, non-finite numbers as null), without building a document.
void appendJson(QByteArray &out, const QJsonValue &v);

/// Stable share of `key` in [0, 1) (FNV-1a 64): the canary split.
double keyShare(const QString &key);

} // namespace keel::serve
