#pragma once
// The Monitoring area, a control tower per deployment: tiles for load, uptime, p50/p99 latency, error rate and open
// alerts; a heat map of drift (features x windows; click a cell to overlay the training and window distributions);
// the drift-velocity chart; performance over time (realised from feedback with its interval, expected before labels,
// the shadow challenger on the same requests, with the paired tests); and the alert list with acknowledge. It reads
// the prediction log through core/monitor (so it works when no server runs) and, while `keel serve` runs on the
// workspace (.keel/serve/server.json), its /metrics page; it refreshes every five seconds while shown.

#include "monitor/alerts.h"
#include "monitor/drift.h"
#include "monitor/performance.h"

#include <QDateTime>
#include <QTimer>
#include <QWidget>

#include <optional>
#include <vector>

QT_BEGIN_NAMESPACE
class QComboBox;
class QLabel;
class QNetworkAccessManager;
class QPushButton;
class QTabWidget;
class QTableWidget;
QT_END_NAMESPACE

namespace keel::ui {

class EmptyState;
class ExplainChartView;
class TaskManager;

/// What the area shows for one deployment, read off the UI thread. Plain value.
struct MonitoringSnapshot {
    QStringList deployments;                 ///< every deployment of the workspace
    QString deployment;                      ///< the one read (empty when there is none)
    QString window;                          ///< the windowing used (hour, day, week or a count)
    QString windowSource;                    ///< why: "from monitors/NAME.yaml" or "automatic: ..."
    qint64 predictions = 0;                  ///< in the whole log
    std::optional<monitor::DriftReport> drift;
    QString driftError;
    std::optional<monitor::PerformanceReport> performance;
    QString performanceError;
    std::vector<monitor::Alert> alerts;      ///< of this deployment, newest first
    QStringList monitors;                    ///< monitors watching it
    // The newest window, from the log.
    QString newestWindow;
    qint64 newestCount = 0;
    double perMinute = std::nan("");
    double p50 = std::nan(""), p99 = std::nan("");
    // A running server (from .keel/serve/server.json and a live process).
    QString serverUrl;
    QDateTime serverStarted;
};

/// Reads the snapshot of `deployment` (the first one when empty) with windowing `window` ("auto": the monitor's, or
/// about twelve windows of equal count).
Expected<MonitoringSnapshot> readMonitoring(const QString &root, const QString &deployment, const QString &window,
                                            Feedback *feedback = nullptr);

/// Features x windows, each cell coloured by its drift score (green small, amber moderate, red large, as
/// data::driftLevel reads PSI and the Jensen-Shannon distance); click a cell for its distributions.
class DriftHeatMap : public QWidget {
    Q_OBJECT
public:
    explicit DriftHeatMap(QWidget *parent = nullptr);
    void setReport(const std::optional<monitor::DriftReport> &report);
    QStringList features() const { return m_features; }
    int windowCount() const { return int(m_windows.size()); }
    /// The score shown in a cell (NaN when none).
    double score(int feature, int window) const;
    /// Selects a cell as a click does.
    void selectCell(int feature, int window);
    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

signals:
    void cellSelected(const QString &feature, const QString &window);

protected:
    void paintEvent(QPaintEvent *event) override;
    void mousePressEvent(QMouseEvent *event) override;
    bool event(QEvent *event) override;

private:
    QRect cellRect(int feature, int window) const;
    std::pair<int, int> cellAt(const QPoint &p) const;
    int labelWidth() const;

    QStringList m_features;                  ///< most drifted first
    QStringList m_windows;
    std::vector<std::vector<const monitor::FeatureDrift *>> m_cells;   ///< [feature][window]
    std::optional<monitor::DriftReport> m_report;
    int m_selFeature = -1, m_selWindow = -1;
};

class MonitoringArea : public QWidget {
    Q_OBJECT
public:
    explicit MonitoringArea(TaskManager *tasks, QWidget *parent = nullptr);

    void setWorkspaceRoot(const QString &root);
    void refresh();
    const MonitoringSnapshot &snapshot() const { return m_snapshot; }
    bool isLoading() const { return m_loading; }
    /// Shows the overlay of training and window distributions for a heat-map cell.
    void showDistribution(const QString &feature, const QString &window);
    /// Acknowledges the alert selected in the alert table.
    void acknowledgeSelected();

    enum Tab { DriftTab, VelocityTab, PerformanceTab, AlertsTab };
    QTabWidget *tabs() const { return m_tabs; }
    QComboBox *deploymentBox() const { return m_deployment; }
    QComboBox *windowBox() const { return m_window; }
    DriftHeatMap *heatMap() const { return m_heat; }
    ExplainChartView *distributionChart() const { return m_distribution; }
    ExplainChartView *velocityChart() const { return m_velocity; }
    ExplainChartView *performanceChart() const { return m_performance; }
    QLabel *shadowLabel() const { return m_shadowText; }
    QTableWidget *alertTable() const { return m_alerts; }
    QLabel *tile(int i) const { return m_tiles.value(i); }
    /// The cell whose distributions are shown ("" before one was chosen).
    QString shownCell() const { return m_shownCell; }

signals:
    void loaded();
    void distributionShown();
    void statusMessage(const QString &text);

protected:
    void showEvent(QShowEvent *event) override;
    void hideEvent(QHideEvent *event) override;

private:
    void rebuild();
    void fillTiles();
    void pollServer();
    /// Sizes and times of the files a refresh reads: the log, the alerts, the deployments and the monitors.
    QString changeSignature() const;

    TaskManager *m_tasks;
    QString m_root;
    MonitoringSnapshot m_snapshot;
    bool m_loading = false;
    EmptyState *m_empty;
    QComboBox *m_deployment;
    QComboBox *m_window;
    QLabel *m_source;
    QList<QLabel *> m_tiles;
    QTabWidget *m_tabs;
    DriftHeatMap *m_heat;
    ExplainChartView *m_distribution;
    ExplainChartView *m_velocity;
    ExplainChartView *m_performance;
    QLabel *m_shadowText;
    QTableWidget *m_alerts;
    QPushButton *m_ack;
    QNetworkAccessManager *m_net;
    QTimer m_poll;
    QString m_shownCell;
    QString m_signature;                     ///< changeSignature() at the last refresh
    std::optional<double> m_errorRate;       ///< from the running server's /metrics
    qint64 m_serverRequests = -1;
};

} // namespace keel::ui
