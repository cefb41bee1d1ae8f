#pragma once
// Everything the run view and the compare view show about one run, read off the UI thread from the workspace's
// tracking store and object store: the record, params, every metric point, tags, artifacts, lineage (with the dataset
// versions it names) and the evaluation curves of a classification run (artifact "curves").

#include "tracking/metrickeys.h"
#include "tracking/trackingstore.h"
#include "util/feedback.h"
#include "util/result.h"

#include <QPointF>
#include <QStringList>

#include <cmath>
#include <map>
#include <optional>
#include <vector>

namespace keel::ui {

/// ROC, precision-recall and calibration points of one score against one class. Plain value.
struct CurveSet {
    std::vector<double> rocFpr, rocTpr;
    std::vector<double> prRecall, prPrecision;
    std::vector<double> calibrationPredicted, calibrationObserved;
    std::vector<qint64> calibrationCount;
};

/// One class of a multiclass run against the rest (ml::oneVsRest). Plain value.
struct ClassCurves : CurveSet {
    qint64 support = 0;
    double rocAuc = std::nan(""), prAuc = std::nan("");
};

/// The "curves" artifact of a classification run: confusion matrix for any number of classes; ROC, PR and
/// calibration of P(class 1) for binary tasks (the CurveSet base), and one-vs-rest per class with macro and micro
/// averages for multiclass tasks. Plain value.
struct EvaluationCurves : CurveSet {
    QStringList classes;
    std::vector<std::vector<qint64>> confusion;   ///< [actual][predicted]
    std::vector<ClassCurves> perClass;            ///< multiclass: one per class, in class order
    CurveSet micro;                               ///< multiclass: micro-average ROC and PR
    double rocAucMacro = std::nan(""), rocAucMicro = std::nan("");
    double prAucMacro = std::nan(""), prAucMicro = std::nan("");

    bool isBinary() const { return !rocFpr.empty(); }
    bool isMulticlass() const { return !perClass.empty(); }
};

/// Parses the curves JSON ({"classes", "confusion_matrix", "roc": {fpr, tpr}, "pr": {recall, precision},
/// "calibration": {predicted, observed, count}}). Errors name the field at fault (a ragged or non-square matrix,
/// curves of unequal lengths). Pure function.
Expected<EvaluationCurves> parseEvaluationCurves(const QByteArray &json);

/// A JSON array of equally long integer arrays (tag "test.confusion_matrix"). Pure function.
Expected<std::vector<std::vector<qint64>>> parseConfusionMatrix(const QString &json);

/// A dataset version a run used, from its lineage: the relation ("trained_on", "evaluated_on"), the content id and,
/// when the run's params name it, the version ref ("adult_train@v2").
struct RunDatasetLink {
    QString relation;
    QString contentId;
    QString ref;
};

/// One run in full. Plain value.
struct RunDetails {
    tracking::RunRecord run;
    std::vector<std::pair<QString, QString>> params;   ///< sorted by key
    std::vector<std::pair<QString, QString>> tags;     ///< sorted by key
    std::vector<tracking::MetricPoint> metrics;        ///< every point, by key, step, time
    std::vector<tracking::ArtifactRecord> artifacts;
    std::vector<tracking::LineageEdge> lineage;
    std::vector<RunDatasetLink> datasets;              ///< dataset versions the run used, in lineage order
    std::optional<EvaluationCurves> evaluation;        ///< from the "curves" artifact, or the confusion-matrix tag
    QString evaluationError;                           ///< why `evaluation` is missing although the run has one

    /// Value of a param or tag; null QString when absent.
    QString param(const QString &key) const;
    QString tag(const QString &key) const;
    /// Final metrics: step-0 points of "test.*", "cv.*.mean" / "cv.*.std" and (sweeps) "best.*" keys (last logged
    /// per key), by key.
    std::vector<std::pair<QString, double>> finalMetrics() const;
    /// Per-iteration series ("train.*", "validation.*"): key -> (step, value) points by step.
    std::map<QString, std::vector<QPointF>> series() const;
};

using tracking::isCurveKey;        // what a metric key means lives in core (tracking/metrickeys.h)
using tracking::isFinalMetricKey;

/// Reads one run of the workspace at `root`. Cancel gives "cancelled". Any thread.
Expected<RunDetails> loadRunDetails(const QString &root, const QString &runId, Feedback *feedback = nullptr);
/// Reads several runs (for the compare view), in the order given. Any thread.
Expected<std::vector<RunDetails>> loadRunDetailsList(const QString &root, const QStringList &runIds,
                                                     Feedback *feedback = nullptr);

} // namespace keel::ui
