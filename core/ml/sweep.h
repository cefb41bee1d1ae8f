#pragma once
// Hyperparameter search: the `sweep:` section of a training config names the metric to optimise and the values
// or ranges of each parameter; grid and random search turn it into a list of trials, each a set of config
// overrides ("params.max_depth=6") that `keel sweep` runs as child `keel train` processes under one parent run.
//
//   sweep:
//     metric: test.roc_auc          # a final metric of the trials (test.*, or cv.*.mean for k-fold configs)
//     goal: maximize                # or minimize; default from the metric's name (loss, error, rmse, mae... minimize)
//     params:
//       max_depth: [3, 5, 7]                                         # values: the grid's axis, random picks one
//       learning_rate: {min: 0.03, max: 0.3, log: true, steps: 4}    # range: random draws in it (log-uniform with
//                                                                    # log: true); the grid takes `steps` points

#include "ml/model.h"
#include "util/result.h"

#include <QString>
#include <QStringList>

#include <vector>

namespace keel::ml {

/// One searched parameter: a list of values, or a numeric range.
struct SweepDimension {
    QString param;              ///< learner parameter name (without "params.")
    QStringList values;         ///< list form; empty for a range
    double min = 0, max = 0;    ///< range form, inclusive
    bool log = false;           ///< range: sample / space log-uniformly
    int steps = 0;              ///< range: grid points (0 = not usable in a grid)
    bool integer = false;       ///< the learner declares the parameter as an integer (values are rounded)
};

/// A parsed `sweep:` section. Plain value.
struct SweepSpec {
    QString metric;                 ///< validation.<metric>, or cv.<metric>.mean with a k-fold split
    bool maximize = true;
    bool kfold = false;             ///< the config's split is k-fold
    std::vector<SweepDimension> dims;

    /// Reads the `sweep:` section of a training config and checks every parameter against the learner's declared
    /// specs (name, type, range, choices). Errors name `sourceName`, the line and the field (e.g.
    /// "sweep.params.max_depth"). A config without a `sweep:` section is an error saying so.
    static Expected<SweepSpec> fromConfig(const QString &yaml, const QString &sourceName);
};

/// Checks that a sweep selects on rows no trial's reported test score comes from: validation.<metric> (holdout and
/// time splits) or cv.<metric>.mean (k-fold). A test.* metric is refused with the reason.
Status checkSweepMetric(const QString &metric, bool kfold);

/// Every combination of the dimensions (lists in order; ranges at `steps` evenly spaced points, log-spaced when
/// `log`). Each trial is a list of "params.NAME=VALUE" overrides. A range without `steps` is an error naming it.
Expected<std::vector<QStringList>> gridTrials(const SweepSpec &spec);
/// `count` trials drawn with a seeded generator (lists: uniform choice; ranges: uniform or log-uniform, rounded for
/// integer parameters). The same seed gives the same trials.
std::vector<QStringList> randomTrials(const SweepSpec &spec, int count, quint64 seed);

/// Default goal for a metric name: false (minimise) for losses and errors (log_loss, brier, rmse, mae, mape, *loss*,
/// *error*), true otherwise.
bool metricIsMaximized(const QString &metric);

/// Applies "a.b.c=VALUE" overrides to a YAML mapping and returns the new YAML text (comments are not kept).
/// VALUE is read as YAML (numbers, booleans, lists, mappings); missing intermediate mappings are created.
/// Errors name the override at fault.
Expected<QString> applyConfigOverrides(const QString &yaml, const QStringList &overrides, const QString &sourceName);

} // namespace keel::ml
