#pragma once
// Exact TreeSHAP for tree ensembles, computed by Keel itself from the ensemble's trees (read from XGBoost's
// standard JSON model): path-dependent (the expectation over the trees' training covers), interventional
// (against a background sample), and SHAP interaction values for selected rows among the top-k features.
// All values are on the margin (log-odds, raw multiclass scores, regression value).

#include "explain/attribution.h"
#include "ml/model.h"
#include "util/feedback.h"
#include "util/result.h"

#include <QByteArray>
#include <QString>
#include <QStringList>

#include <vector>

namespace keel::explain {

/// One node of a regression tree. A node whose `left` is negative is a leaf.
struct TreeNode {
    int left = -1;              ///< index of the left child in Tree::nodes, -1 for a leaf
    int right = -1;             ///< index of the right child, -1 for a leaf
    int feature = -1;           ///< split column (design-matrix column index)
    float threshold = 0;        ///< `x < threshold` goes left (compared in float, as XGBoost does)
    bool defaultLeft = false;   ///< where a missing (NaN) value goes
    double value = 0;           ///< leaf value added to the margin; unused on internal nodes
    /// Training weight reaching the node (XGBoost: sum of hessians), >= 0. A child's share of its parent is
    /// child cover / parent cover (an internal node of zero cover gives each child one half).
    double cover = 0;
};

/// One tree; node 0 is the root. Plain value.
struct Tree {
    std::vector<TreeNode> nodes;
    int output = 0;             ///< output (class) whose margin this tree adds to
};

/// A sum-of-trees model: margin(row)[k] = baseMargin[k] + sum of the leaf values that `row` reaches in the trees
/// of output k. Plain value; const member functions are safe from several threads.
struct TreeEnsemble {
    std::vector<Tree> trees;
    int numFeatures = 0;                ///< columns a row must have
    int numOutputs = 1;                 ///< 1, or K for a multiclass model
    std::vector<double> baseMargin;     ///< per output (binary:logistic: logit(base_score))
    QString objective;                  ///< e.g. "binary:logistic" (informational)

    /// Checks the structure: every tree reachable from node 0 without cycles, children in range, features below
    /// numFeatures, covers finite and >= 0, outputs below numOutputs, baseMargin sized numOutputs.
    /// Errors name the tree and node.
    Status validate() const;
    /// Margins of one row of numFeatures floats (NaN = missing), in double: numOutputs values into `out`.
    void margin(const float *row, double *out) const;
    /// Same, returned as a vector of numOutputs values.
    std::vector<double> margin(const float *row) const;
    /// Margins of every row of `x`, row-major rows x numOutputs. Errors when x has the wrong column count.
    Expected<std::vector<double>> margins(const ml::DesignMatrix &x) const;
};

/// Parses XGBoost's standard JSON model (XgbModel::serialize(), Booster.save_model("*.json")): gbtree boosters
/// with numerical splits. Leaf values come from split_conditions, covers from sum_hessian, the output of each tree
/// from tree_info; base_score is turned into a margin by the objective's link (logit for binary:logistic and
/// reg:logistic, log for count:poisson, reg:gamma and reg:tweedie, identity otherwise). When the learner has a
/// "best_iteration" attribute only the trees of rounds 0..best_iteration are kept (times num_parallel_tree and
/// the number of outputs), exactly as XgbModel::predict() uses them. Errors name the JSON field at fault.
Expected<TreeEnsemble> parseXgboostJson(const QByteArray &json);

/// How treeShap() and treeShapInteractions() run.
struct TreeShapOptions {
    int threads = 0;                                ///< worker threads; 0 = all cores
    /// Null: path-dependent TreeSHAP (expectations under the trees' covers). Otherwise interventional
    /// TreeSHAP: the Shapley values of v(S) = mean over background rows z of margin(x_S, z_rest), exact.
    /// Not owned; must outlive the call; needs the ensemble's column count.
    const ml::DesignMatrix *background = nullptr;
    /// Path-dependent kernels: use AVX2/FMA when the CPU has them (false: the portable kernels; the values
    /// agree to rounding). For comparisons and tests.
    bool wideVectors = true;
};

/// Exact SHAP values of every row of `x` on the margin. Path-dependent: base[k] is the ensemble's expected
/// margin under the covers; interventional: the mean margin of the background rows. residual(r, k) is the
/// ensemble's own margin (computed in double) minus base + sum of values, a diagnostic of rounding only.
/// Attribution::features are x.columnNames (or "f0", "f1", ... when absent), method "tree_shap" or
/// "tree_shap_interventional", parameters hold trees, threads, feature_perturbation and background_rows.
/// Progress counts rows and is reported from the worker threads; cancel gives an Error "cancelled".
/// Path-dependent cost per tree and row is O(nodes x depth / 2) (Gauss-Legendre quadrature of the Shapley
/// weights, vectorised, no exponential tables); interventional cost grows with rows x background rows x the
/// nodes where a row and a background row part ways. Thread-safe: the inputs are only read.
Expected<Attribution> treeShap(const TreeEnsemble &ensemble, const ml::DesignMatrix &x,
                               const TreeShapOptions &options = {}, Feedback *feedback = nullptr);

/// SHAP interaction values of selected rows among the k features with the largest mean |SHAP value| over those
/// rows (summed over outputs; ties: lower column first). Never an F x F matrix unless F <= k.
/// For the k features: value(r, o, i, j), i != j, is the interaction Phi_ij (symmetric, split half and half
/// between (i, j) and (j, i)); value(r, o, i, i) is the main effect Phi_ii = phi_i - sum over all j != i of
/// Phi_ij; rest(r, o, i) is the sum of Phi_ij over the features j outside the k, so that
/// sum_j value(r, o, i, j) + rest(r, o, i) = shap.value(r, o, columns[i]). Plain value.
struct ShapInteractions {
    QString method;                     ///< "tree_shap_interactions" or "tree_shap_interactions_interventional"
    QStringList features;               ///< the k features, most important first
    std::vector<int> columns;           ///< their design-matrix column indices
    std::vector<qint64> rows;           ///< the explained rows (indices into the input matrix)
    int outputs = 1;
    std::vector<double> values;         ///< rows x outputs x k x k, index (((r * outputs) + o) * k + i) * k + j
    std::vector<double> rest;           ///< rows x outputs x k, index ((r * outputs) + o) * k + i
    Attribution shap;                   ///< SHAP values of the same rows over all features (row r = rows[r])

    int k() const { return int(columns.size()); }
    double value(qint64 r, int o, int i, int j) const
    {
        return values[size_t(((r * outputs + o) * k() + i) * k() + j)];
    }
    double restOf(qint64 r, int o, int i) const { return rest[size_t((r * outputs + o) * k() + i)]; }
};

/// Exact SHAP interaction values (path-dependent, or interventional when options.background is set) of the
/// rows `rows` of `x` among the `topK` (>= 1) most important features; see ShapInteractions. Each selected
/// feature costs two conditioned TreeSHAP passes over the trees that split on it. Progress counts rows;
/// cancel gives an Error "cancelled"; a row index out of range is an error.
Expected<ShapInteractions> treeShapInteractions(const TreeEnsemble &ensemble, const ml::DesignMatrix &x,
                                                const std::vector<qint64> &rows, int topK,
                                                const TreeShapOptions &options = {}, Feedback *feedback = nullptr);

} // namespace keel::explain
