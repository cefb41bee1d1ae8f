#pragma once
// What the explanation views work on: the runs that can be explained, and one run's model loaded together with the
// dataset version it is explained on (an ExplainSession). Everything here runs inside TaskManager tasks: each function
// opens its own Workspace from the root folder, so none of it touches a widget or the UI thread's workspace.

#include "data/table.h"
#include "explain/explainer.h"
#include "explain/kernelshap.h"
#include "explain/report.h"
#include "explain/treeshap.h"
#include "util/feedback.h"
#include "util/result.h"

#include <QDateTime>
#include <QString>
#include <QStringList>

#include <memory>
#include <optional>
#include <vector>

namespace keel::ui {

/// A finished run with a "model" artifact, as the model picker lists it. Plain value.
struct ExplainableRun {
    QString id;
    QString name;
    QString experiment;
    QString kind;          ///< the model artifact's kind (Model::kind(), e.g. "xgboost-gbdt")
    QDateTime started;
    QString trainedOn;     ///< the run's "data" param (NAME@vN)
    QString evaluatedOn;   ///< the run's "evaluate" param, if any
    /// The version explained by default: the evaluate dataset, else the training data.
    QString defaultData() const { return evaluatedOn.isEmpty() ? trainedOn : evaluatedOn; }
    /// "name — experiment — kind — 1a2b3c4d".
    QString label() const;
};

/// The runs that can be explained (newest first) and every dataset version of the workspace. Plain value.
struct ExplainCatalog {
    std::vector<ExplainableRun> runs;
    QStringList dataRefs;  ///< NAME@vN, by name, newest version first
};

/// Reads the catalog of the workspace at `root`. Cancel gives "cancelled". Safe from any thread.
Expected<ExplainCatalog> readExplainCatalog(const QString &root, Feedback *feedback = nullptr);

/// One run's model with the dataset version it is explained on. Immutable once loaded; shared between the views and
/// their tasks through shared_ptr<const ExplainSession>, so it is safe to read from any thread.
struct ExplainSession {
    QString root;                          ///< workspace root (tasks open their own Workspace)
    explain::RunModel model;               ///< model, recipe and their identities
    QString experiment;
    QString dataRef;                       ///< the explained version, NAME@vN
    data::Table table;                     ///< its rows (all of them: rows are picked by their data row number)
    bool testRows = false;                 ///< global views and fairness look at the run's test rows only
    std::vector<qint64> population;        ///< those rows (0-based indices into `table`); empty = every row
    QString populationText;                ///< e.g. "the run's 6,513 test rows of adult_train@v1"
    QString referenceRef;                  ///< the training data (counterfactual candidates)
    data::Table reference;
    QString method;                        ///< "tree", "linear" or "kernel", as explainRun() chooses for this model
    std::optional<explain::RowAttributor> attributor; ///< what-if attributions, prepared on `table` as explainRun() does
    /// Raw values over `table` of the recipe's input features (editors use the categories).
    std::vector<explain::FeatureValues> inputs;
    QStringList sensitiveCandidates;       ///< categorical, string and bool columns of `table` other than the target
    QString targetColumn;

    /// The input FeatureValues named `feature`, or null.
    const explain::FeatureValues *input(const QString &feature) const;
};

/// Loads run `runId` and the version `dataRef` (empty: the run's default) from the workspace at `root`. Cancel gives
/// "cancelled"; progress by stage. Safe from any thread.
Expected<std::shared_ptr<const ExplainSession>> loadExplainSession(const QString &root, const QString &runId,
                                                                   const QString &dataRef, Feedback *feedback = nullptr);

/// explainRun() in a workspace opened from `session.root`, on the session's data version. Safe from any thread.
Expected<explain::ExplainResult> runExplainRequest(const ExplainSession &session, explain::ExplainRequest request,
                                                   Feedback *feedback = nullptr);

/// Attributions of raw rows `rows` on the recipe's features, on the margin, by the same method and background
/// explainRun() uses for this session (TreeSHAP; exact linear SHAP against the table's design means; KernelSHAP
/// against the k-means background). Safe from any thread.
Expected<explain::Attribution> attributeRows(const ExplainSession &session, const data::Table &rows,
                                             Feedback *feedback = nullptr);

/// Table rows whose displayed values contain every whitespace-separated term of `text` (case-insensitive; each
/// term in some column), in table order, at most `limit`. Cancel gives "cancelled". Safe from any thread.
Expected<std::vector<qint64>> searchRows(const data::Table &table, const QString &text, qint64 limit,
                                         Feedback *feedback = nullptr);

} // namespace keel::ui
