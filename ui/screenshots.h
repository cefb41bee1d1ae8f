#pragma once
// Renders each main view of the workbench, with an example workspace built from the bundled datasets, to PNG
// files: the screenshot tool behind `keel-workbench --screenshots DIR` and the screenshot test.

#include "util/result.h"

#include <QStringList>

namespace keel::ui {

/// Creates the example workspace in a temporary folder (adult_train with two versions, adult_test, diamonds,
/// bike), opens it in a main window of 1440x900 and writes datasets-table.png, datasets-columns.png,
/// datasets-diff.png, datasets-validation.png, import-dialog.png, audit.png, experiments.png (no runs yet), then trains
/// runs with the `keel` runner (see locateKeelBinary) as the New Run dialog does and writes experiments-live.png,
/// experiments-new-run.png, experiments-run.png, experiments-curves.png, experiments-evaluation.png,
/// experiments-sweep.png (a `keel sweep` grid), experiments-compare.png, models-global.png, models-prediction.png,
/// models-fairness.png (the boosted run explained on its test rows),
/// dark-datasets-table.png, dark-datasets-diff.png (training versus test file), experiments-dark-curves.png and
/// experiments-dark-evaluation.png into `outDir` (created if missing). Needs a QApplication;
/// runs on the UI thread and processes events while tasks run. `written` receives the file paths. Each view is
/// checked before it is saved: it shows what it should (rows, series, groups), no dialog covers it, and no chart
/// axis label is shortened by QtCharts (see truncatedAxisLabels); a failed check is an error naming the file.
Status renderScreenshots(const QString &outDir, const QString &examplesDir, QStringList *written = nullptr);

} // namespace keel::ui
