#pragma once
// The run table of the Experiments area. All runs of a workspace are read in bulk (TrackingStore::runSummaries: a
// few queries, not one per run and column) into an immutable RunSet; grouping by experiment and sweep, filtering and
// sorting produce a RunLayout, computed off the UI thread; the model only maps tree positions to runs and formats a
// cell when a view asks for it. Stays fast at tens of thousands of runs.

#include "tracking/trackingstore.h"
#include "util/feedback.h"
#include "util/result.h"

#include <QAbstractItemModel>
#include <QHash>
#include <QIcon>
#include <QStringList>

#include <memory>
#include <optional>
#include <vector>

namespace keel::ui {

/// Every run of a workspace with its params and final metrics, plus indexes. Immutable once built, shared between
/// the UI thread and layout jobs.
struct RunSet {
    QString root;                                   ///< workspace root the runs were read from
    std::vector<tracking::RunSummary> runs;         ///< oldest start first
    QStringList paramKeys;                          ///< every param key of any run, sorted
    QStringList metricKeys;                         ///< every final metric key of any run, sorted
    QStringList experiments;                        ///< experiment names with runs, sorted
    QHash<QString, int> indexOfId;                  ///< run id -> index into runs
    QHash<QString, std::vector<int>> childrenOf;    ///< run id -> runs whose parent it is (branches, sweep trials)

    const tracking::RunSummary *find(const QString &id) const;
    /// Value of a param of run `index`, or a null QString.
    QString param(int index, const QString &key) const;
    /// Final metric of run `index`, or nullopt. A sweep's run without the key answers with its "best.KEY" (the best
    /// trial's value), so sweeps sort and filter with their trials.
    std::optional<double> metric(int index, const QString &key) const;
};

/// Builds the indexes of a RunSet around `runs`. Pure function.
std::shared_ptr<const RunSet> makeRunSet(QString root, std::vector<tracking::RunSummary> runs);

/// Reads every run of the workspace at `root` (first marking runs whose process died as killed). Any thread.
Expected<std::shared_ptr<const RunSet>> loadRunSet(const QString &root, Feedback *feedback = nullptr);

/// A column of the run table: a run field, a param or a final metric.
struct RunColumn {
    enum class Kind { Name, Status, Started, Duration, User, Id, Param, Metric };
    Kind kind = Kind::Name;
    QString key;   ///< Param and Metric: the param or metric key

    /// Stable text id for settings: "name", "status", "started", "duration", "user", "id", "param:KEY", "metric:KEY".
    QString id() const;
    /// Inverse of id(); nullopt for unknown text.
    static std::optional<RunColumn> fromId(const QString &id);
    /// Header text: "Name", "learner", "max_depth", "test.accuracy"...
    QString title() const;
    bool operator==(const RunColumn &other) const { return kind == other.kind && key == other.key; }
};

/// The fixed (non-param, non-metric) columns, in menu order.
std::vector<RunColumn> runFieldColumns();
/// The columns shown before the user picks any: name, status, learner, data, start, duration and the headline
/// metrics (accuracy, ROC AUC, RMSE, R²) that `runs` has.
std::vector<RunColumn> defaultRunColumns(const RunSet &runs);

/// The text a run shows in a column ("" when it has no value there).
QString runCellText(const RunSet &runs, int index, const RunColumn &column);

/// Which runs the table shows. Text either "KEY OP VALUE" (OP one of = != < <= > >=, KEY a column id, a param or
/// metric key, or a param name without "params.") comparing numbers numerically and text exactly, or free text
/// matched case-insensitively against name, id, experiment, status, user and every param value.
struct RunFilter {
    QString text;
};

/// True if run `index` passes `filter` (empty text: every run). Any thread.
bool runMatches(const RunSet &runs, int index, const RunFilter &filter);

/// One node of the run tree: an experiment, a run, or a sweep whose parent run is not in the set.
struct RunNode {
    enum class Kind { Root, Experiment, Run, Sweep };
    Kind kind = Kind::Root;
    int run = -1;                 ///< Run: index into RunSet::runs
    QString label;                ///< Experiment: its name; Sweep: the sweep id
    int parent = -1;              ///< node index; -1 for the root
    int row = 0;                  ///< position among the parent's children
    int shownRuns = 0;            ///< runs shown at or below this node
    std::vector<int> children;    ///< node indexes in view order
};

/// The tree the run table shows: experiments (by name), their runs in the requested order, sweep trials under their
/// sweep's run. Node 0 is the invisible root. Plain value.
struct RunLayout {
    std::vector<RunNode> nodes;
    std::vector<int> nodeOfRun;   ///< per run: its node, or -1 when filtered out
    int shownRuns = 0;
    int totalRuns = 0;
};

/// Groups, filters and sorts `runs`: runs by experiment; a sweep's trials (same sweepId, id != sweepId) under the run
/// whose id is the sweepId, or under a Sweep node when that run is absent; siblings ordered by `sortColumn` (numbers
/// numerically, text by code point, missing values last in both orders, ties in start order). A run is shown when
/// it matches, a sweep when it or a trial matches. Progress stage "sort"; cancel gives "cancelled". Any thread.
Expected<std::shared_ptr<const RunLayout>> layoutRuns(const RunSet &runs, const RunColumn &sortColumn,
                                                      Qt::SortOrder order, const RunFilter &filter,
                                                      Feedback *feedback = nullptr);

/// Tree model over a RunSet and a RunLayout, columns chosen by the user. Cells are formatted on request. UI thread.
class RunTableModel : public QAbstractItemModel {
    Q_OBJECT
public:
    enum Role {
        RunIdRole = Qt::UserRole + 1,   ///< QString run id ("" for group rows)
        NodeKindRole,                   ///< int(RunNode::Kind)
        StatusRole,                     ///< int(tracking::RunStatus) for runs
        ExperimentRole,                 ///< experiment name (runs and experiment rows)
    };

    explicit RunTableModel(QObject *parent = nullptr);

    /// Shows `runs` arranged by `layout` (built from the same set).
    void setRuns(std::shared_ptr<const RunSet> runs, std::shared_ptr<const RunLayout> layout);
    /// Re-arranges the same runs.
    void setLayout(std::shared_ptr<const RunLayout> layout);
    void setColumns(std::vector<RunColumn> columns);
    /// Height of every row (Qt::SizeHintRole); 0 leaves it to the view.
    void setRowHeight(int height) { m_rowHeight = height; }
    const std::vector<RunColumn> &columns() const { return m_columns; }
    std::shared_ptr<const RunSet> runSet() const { return m_runs; }
    std::shared_ptr<const RunLayout> runLayout() const { return m_layout; }

    /// Column-0 index of the run's row; invalid when absent or filtered out.
    QModelIndex indexOfRun(const QString &runId) const;
    /// The run behind a row, or null for group rows.
    const tracking::RunSummary *runAt(const QModelIndex &index) const;
    /// Column-0 index of an experiment's row; invalid when absent.
    QModelIndex indexOfExperiment(const QString &name) const;

    QModelIndex index(int row, int column, const QModelIndex &parent = {}) const override;
    QModelIndex parent(const QModelIndex &child) const override;
    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    Qt::ItemFlags flags(const QModelIndex &index) const override;

private:
    const RunNode *nodeOf(const QModelIndex &index) const;

    std::shared_ptr<const RunSet> m_runs;
    std::shared_ptr<const RunLayout> m_layout;
    std::vector<RunColumn> m_columns;
    int m_rowHeight = 0;
    mutable QHash<int, QIcon> m_icons;   ///< status dots, made on first use
};

/// "12.3 s", "4 min 05 s", "2 h 10 min"; "" when the run has not ended.
QString formatRunDuration(const tracking::RunRecord &run);
/// A metric value with 4 significant digits ("0.8731", "1.235e+04"); "NaN" for NaN.
QString formatMetric(double value);
/// A colour for a run status that reads on light and dark backgrounds.
QColor runStatusColor(tracking::RunStatus status);

} // namespace keel::ui
