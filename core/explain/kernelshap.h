#pragma once
// KernelSHAP for any model (Lundberg & Lee 2017, the sampling scheme of the shap package's KernelExplainer):
// Shapley values of the model's margin with an interventional value function over a weighted background,
//   v(S) = sum_b w_b f(x_S, b_notS),
// where the players are the recipe's features (a feature's design columns switch together, so a categorical's
// one-hot columns move as one) and attributions are reported per feature with the row's raw values alongside.

#include "explain/attribution.h"
#include "explain/explainer.h"

#include <QJsonObject>
#include <QString>
#include <QStringList>

#include <vector>

namespace keel::explain {

/// How to summarise background data.
struct BackgroundOptions {
    enum class Method {
        KMeans, ///< k-means on the design rows (columns scaled to unit variance); each cluster is represented by its
                ///< medoid (the real row nearest the centroid), weighted by the cluster's share of rows
        Sample  ///< a seeded uniform sample of rows without replacement, equal weights
    };
    Method method = Method::KMeans;
    int size = 50;                ///< clusters or sampled rows; tables with at most this many rows are used whole
    quint64 seed = 1;
    qint64 maxRows = 5000;        ///< k-means runs on a seeded sample of at most this many rows
    int maxIterations = 50;       ///< Lloyd iterations (stops earlier when no assignment changes)
};

/// Background data for KernelSHAP: design rows with weights summing to 1. Plain value; the design rows are kept
/// (and serialised) so a stored explanation can be recomputed without the table it was summarised from.
struct Background {
    QString method;                    ///< "kmeans", "sample" or "all"
    std::vector<qint64> sourceRows;    ///< row index in the summarised table of each background row
    std::vector<double> weights;       ///< per background row, summing to 1
    qint64 populationRows = 0;         ///< rows of the summarised table
    quint64 seed = 0;
    ml::DesignMatrix x;                ///< the background rows through the recipe (column names and source map too)

    qint64 size() const { return x.rows; }
    QJsonObject toJson() const;
    static Expected<Background> fromJson(const QJsonObject &json);
};

/// Summarises `table` (raw rows; any target column is ignored) into a Background. Cancel gives "cancelled".
Expected<Background> summariseBackground(const ModelContext &ctx, const data::Table &table,
                                         const BackgroundOptions &options, Feedback *feedback = nullptr);
/// The same on an already transformed design matrix (source rows index its rows).
Expected<Background> summariseBackground(const ml::DesignMatrix &x, const BackgroundOptions &options,
                                         Feedback *feedback = nullptr);

/// KernelSHAP settings.
struct KernelShapOptions {
    /// Coalitions evaluated per row. 0 = 2 M + 2048 (M = features that differ from the background). Raised to at
    /// least 2 M + 2 and capped at 2^M - 2; at the cap every coalition is enumerated and the values are exact.
    int samples = 0;
    quint64 seed = 1;                  ///< coalition sampling; row r uses stream r, so results do not depend on threads
    int jackknifeGroups = 10;          ///< groups of sampled coalitions left out in turn for the standard error
    int threads = 0;                   ///< 0 = QThread::idealThreadCount()
    qint64 maxBatchRows = 32768;       ///< model rows per predictMargin call
};

/// KernelSHAP attributions of some rows. Plain value.
struct KernelShapResult {
    /// Per recipe feature, method "kernel_shap", margin scale; parameters record background, samples and seed.
    Attribution attribution;
    /// rows x outputs x features (Attribution's index order): jackknife standard error of each value over the
    /// sampled coalitions; 0 where every coalition was enumerated. The convergence estimate.
    std::vector<double> standardError;
    /// Per row, per feature: the raw value as the user sees it (FeatureValues::display); empty when explained
    /// from a design matrix only.
    std::vector<QStringList> rawValues;
    int maxCoalitions = 0;             ///< most coalitions evaluated for one row
    bool exact = true;                 ///< every row enumerated all coalitions
    double maxStandardError = 0;       ///< largest standard error over all values

    double standardErrorOf(qint64 r, int k, int f) const
    {
        return standardError[size_t((r * attribution.outputs + k) * attribution.featureCount() + f)];
    }
    QJsonObject toJson() const;
    static Expected<KernelShapResult> fromJson(const QJsonObject &json);
};

/// Explains every row of `rows` (raw rows through ctx's recipe) against `background`, whose design columns must
/// match the recipe's. Additivity: base + sum of values = margin; the residual is reported per row and output.
/// Rows run in parallel; cancel gives "cancelled"; progress counts rows.
Expected<KernelShapResult> kernelShap(const ModelContext &ctx, const data::Table &rows, const Background &background,
                                      const KernelShapOptions &options = {}, Feedback *feedback = nullptr);

/// The same on design rows `x` for any model, with players grouped by x.sourceFeature (rawValues left empty).
/// `outputs` is the number of margin values per row the model returns.
Expected<KernelShapResult> kernelShap(const ml::Model &model, int outputs, const ml::DesignMatrix &x,
                                      const Background &background, const KernelShapOptions &options = {},
                                      Feedback *feedback = nullptr);

} // namespace keel::explain
