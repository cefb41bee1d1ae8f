#pragma once
// Train/validation splits: random holdout (optionally stratified), k-fold cross-validation and a time-based
// split on a datetime column. Every random choice comes from std::mt19937_64 seeded by SplitSpec::seed and a
// hand-written Fisher-Yates shuffle with rejection sampling, so a split never depends on the standard
// library's distribution algorithms. Pure functions: safe from any thread.

#include "data/table.h"
#include "ml/model.h"
#include "util/result.h"

#include <QString>

#include <cstdint>
#include <optional>
#include <random>
#include <vector>

namespace keel::ml {

enum class SplitKind { Holdout, KFold, Time };

/// How to split. Plain value.
struct SplitSpec {
    SplitKind kind = SplitKind::Holdout;
    double testFraction = 0.2;       ///< holdout: share of rows held out; time without cutoff: latest share held out
    double validationFraction = 0.1; ///< share of the training part held back for early stopping and curves (0: none)
    int folds = 5;                   ///< kfold
    bool stratify = true;            ///< holdout/kfold: keep class shares when a classification target is given
    QString timeColumn;              ///< time: Datetime (or numeric) column
    std::optional<qint64> cutoff;    ///< time: rows with time >= cutoff (ms since epoch / column units) are held out
    quint64 seed = 42;
};

/// Row indices of one split, each list ascending; the three parts are disjoint.
struct Split {
    std::vector<qint64> train;
    std::vector<qint64> validation;  ///< early stopping and curves: never scored as test
    std::vector<qint64> test;        ///< the held-out part (the fold, for k-fold): what test.* is computed on
};

/// Uniform integer in [0, n) from `rng` by rejection sampling (n > 0).
quint64 uniformBelow(std::mt19937_64 &rng, quint64 n);

/// Fisher-Yates shuffle driven by uniformBelow().
void shuffleIndices(std::vector<qint64> &indices, std::mt19937_64 &rng);

/// Random holdout of round(rows * testFraction) rows. With a classification `stratifyBy`, each class
/// contributes within one row of its share (largest-remainder allocation). Errors for fractions outside (0, 1)
/// or a target of the wrong length.
Expected<Split> holdoutSplit(qint64 rows, double testFraction, quint64 seed, const Target *stratifyBy = nullptr);

/// k folds that partition the rows (fold sizes within one row of each other; with a classification
/// `stratifyBy`, per-class counts per fold within one too). Split i has fold i as test, the rest as train.
Expected<std::vector<Split>> kFoldSplits(qint64 rows, int folds, quint64 seed, const Target *stratifyBy = nullptr);

/// Time split on `column` (Datetime, Int64 or Float64). With `cutoff`, rows at or after it are held out;
/// otherwise the latest round(rows * testFraction) rows are held out, extended so rows sharing the boundary
/// time stay together (every train time is strictly before every test time). Missing times are an error
/// naming the column and row.
Expected<Split> timeSplit(const data::Table &table, const QString &column, std::optional<qint64> cutoff,
                          double testFraction);

/// Dispatches on spec.kind; holdout and time give one split, kfold gives spec.folds. `target` may be null
/// (no stratification); stratification applies only to classification targets. No validation part.
Expected<std::vector<Split>> makeSplits(const SplitSpec &spec, const data::Table &table, const Target *target);

/// Moves round(train rows * fraction) rows of `split.train` into `split.validation`: a random, stratified share
/// (seeded by `seed`), or with a `timeColumn` the latest share by time (rows sharing the boundary time stay
/// together, so every training time precedes every validation time). `target` is over all rows of `table`.
Expected<Split> carveValidation(Split split, double fraction, quint64 seed, const data::Table &table,
                                const Target *stratifyBy, const QString &timeColumn = {});

/// The evaluation plan of a training run: which rows train, which validate (early stopping and curves) and which
/// test, so that test.* never comes from rows a training step saw.
/// - holdout: test_fraction of the rows are the test part; validation_fraction of the rest validate.
/// - time: rows at or after the cutoff (or the latest test_fraction) test; the latest validation_fraction of the
///   earlier rows validate.
/// - kfold: each fold tests once; with `validateInFolds` (early stopping), validation_fraction of that fold's
///   training rows validate.
/// With `testElsewhere` (the config names an `evaluate` dataset) no test part is cut: one split whose test is empty
/// (kfold keeps its folds for the cv.* metrics).
Expected<std::vector<Split>> planSplits(const SplitSpec &spec, const data::Table &table, const Target *target,
                                        bool testElsewhere, bool validateInFolds);

/// "holdout", "kfold", "time".
QString splitKindName(SplitKind kind);

} // namespace keel::ml
