#pragma once
// What-if analysis on one row: edit raw values and see the new prediction and explanation, and search for the
// smallest change that flips a classification (a counterfactual).
//
// Counterfactual search, deterministic:
//   Candidates per changeable feature (input columns only; derived columns follow their inputs): numeric and
//   datetime columns take quantileGrid() values of the reference column (so values stay within its observed
//   min..max), bool and categorical columns take the other observed values.
//   Distance of a change: numeric |new - old| / (max - min of the reference column) (range-scaled L1); a
//   categorical or bool change, or a change from a missing value, counts 1. A counterfactual's distance is the sum.
//   "Smallest" means fewest features changed first, then smallest distance (ties: feature order, then value order).
//   Level 1 tries every single-feature candidate. If none flips, the `beamWidth` single changes that moved the
//   prediction furthest toward the target seed level 2 (each combined with every candidate of another feature),
//   and so on up to `maxChanges`. The flipping combinations of the first level that has any are then shrunk (at
//   level 1 the nearest flip on each side of the original value per feature; above, the 4 x beamWidth nearest):
//   each numeric change in turn is moved back toward the original value by a batched bisection (`refineRounds`
//   rounds of 8 points) while the flip holds, and dropped when the flip holds without it. A beam can miss combinations, so the result is the smallest
//   counterfactual found within these limits, not a proven minimum; when nothing flips the result says so.

#include "explain/explainer.h"
#include "explain/kernelshap.h"

#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <QVariant>
#include <QVariantMap>

#include <cmath>
#include <vector>

namespace keel::explain {

/// The outcome of editing one row. Plain value.
struct WhatIfResult {
    qint64 row = -1;                         ///< row of the source table
    QVariantMap edits;                       ///< column -> new raw value, as applied
    QVariantMap original;                    ///< column -> raw value before the edit (invalid = missing)
    std::vector<double> originalPrediction;  ///< Model::predict of the row (1 value, or one per class)
    std::vector<double> editedPrediction;
    std::vector<double> originalMargin;      ///< Model::predictMargin of the row
    std::vector<double> editedMargin;
    int originalClass = -1;                  ///< classifiers: predicted class before and after (-1 for regression)
    int editedClass = -1;
    QStringList classes;
    bool explained = false;
    KernelShapResult explanation;            ///< KernelSHAP of row 0 = original, row 1 = edited (when explained)

    QJsonObject toJson() const;
    static Expected<WhatIfResult> fromJson(const QJsonObject &json);
};

/// Applies `edits` (column -> raw value, see editedRows()) to row `row` of `rows` and predicts both versions. With a
/// `background`, both versions are explained with KernelSHAP (`shapOptions`). Binary classes use `threshold` on
/// P(class 1). Errors name the column at fault.
Expected<WhatIfResult> whatIf(const ModelContext &ctx, const data::Table &rows, qint64 row, const QVariantMap &edits,
                              const Background *background = nullptr, const KernelShapOptions &shapOptions = {},
                              double threshold = 0.5, Feedback *feedback = nullptr);

struct CounterfactualOptions {
    QStringList features;        ///< features the user allows to change; empty = every input column of the recipe
    int maxChanges = 2;          ///< at most this many features changed together (1..4)
    int gridPoints = 20;         ///< quantile grid per numeric feature
    int beamWidth = 8;           ///< partial combinations carried to the next level
    int refineRounds = 3;        ///< bisection rounds when shrinking a numeric change
    int targetClass = -1;        ///< -1: any class but the current one; else that class
    double threshold = 0.5;      ///< binary: class 1 when P(class 1) >= threshold
};

/// One changed feature.
struct CounterfactualChange {
    QString feature;
    QVariant from;               ///< raw value before (invalid = missing)
    QVariant to;                 ///< raw value after
    double distance = 0;         ///< this change's share of the distance
};

/// Result of a counterfactual search. Plain value.
struct Counterfactual {
    bool found = false;
    QString message;                         ///< what was found, or "no counterfactual found within limits"
    int originalClass = -1;
    int newClass = -1;                       ///< -1 when not found
    QStringList classes;
    double originalProbability = std::nan(""); ///< P(newClass) before the change (P(target) when not found)
    double newProbability = std::nan("");    ///< P(newClass) after the change (best P(target) reached when not found)
    std::vector<CounterfactualChange> changes;
    double distance = 0;                     ///< sum of the changes' distances
    qint64 evaluated = 0;                    ///< candidate rows scored

    /// The changes as what-if edits (feature -> new value).
    QVariantMap edits() const;
    QJsonObject toJson() const;
    static Expected<Counterfactual> fromJson(const QJsonObject &json);
};

/// Searches for the smallest change to row `row` of `rows` that changes a classifier's prediction (to
/// `targetClass` when given), with candidate values taken from `reference` (e.g. the training rows). Regression
/// models, unknown or derived features and features missing from `reference` are errors naming the field.
/// Cancel gives "cancelled".
Expected<Counterfactual> findCounterfactual(const ModelContext &ctx, const data::Table &rows, qint64 row,
                                            const data::Table &reference, const CounterfactualOptions &options = {},
                                            Feedback *feedback = nullptr);

} // namespace keel::explain
