#pragma once
// Batch scoring with a run's stored model and recipe: what `keel predict` runs, and what `keel serve` will share. The
// recipe stored with the model transforms the raw rows, so a row scores the same here, in the run and in serving.

#include "data/reader.h"
#include "util/feedback.h"
#include "util/result.h"

#include <QByteArray>
#include <QString>

#include <optional>
#include <vector>

namespace keel::workspace { class Workspace; }

namespace keel::serve {

/// What to score and what to write.
struct BatchRequest {
    QString run;                    ///< run id or unique prefix
    QString data;                   ///< dataset ref NAME@REF; or
    QString file;                   ///< a CSV/JSONL file (read with `readOptions`)
    data::ReadOptions readOptions;
    /// 1-based row numbers of the data to score (in that order); empty: every row.
    std::vector<qint64> rows;
    /// Score the run's own test rows (from its split artifact) on the data they came from; `data` may be left
    /// empty. The output then equals the run's predictions artifact byte for byte (holdout and time splits, or any
    /// split tested on an `evaluate` dataset; k-fold out-of-fold predictions come from models that are not kept).
    bool testRows = false;
    bool explain = false;           ///< add the base value and one contribution per feature (shap_<feature>)
    bool featuresOnly = false;      ///< write the encoded design matrix (what the model reads) instead
};

/// The output: a CSV document and what was scored.
struct BatchResult {
    QByteArray csv;                 ///< ml::predictionsCsv() format (plus contribution columns with explain)
    qint64 rows = 0;
    QString source;                 ///< the dataset ref (NAME@vN) or file scored
    QString runId;
};

/// Scores `request`. Errors: unknown run, artifacts failing their hash check, data without the model's input
/// columns (naming them), row numbers outside the data, --rows test on a k-fold run without evaluate data.
Expected<BatchResult> predictBatch(workspace::Workspace &ws, const BatchRequest &request, Feedback *feedback = nullptr);

} // namespace keel::serve
