#pragma once
// The Deployments area: every deployment with the model version it serves (and its shadow and canary), its revision
// history on a timeline and in a table, a deploy dialog that runs the gates before asking to switch, rollback to a
// revision, and live request rate, latency and errors read from a running keel serve's /metrics (or "not serving").
// Everything it decides comes from core/deploy and core/serve.

#include "deploy/deployment.h"
#include "serve/server.h"

#include <QDialog>
#include <QElapsedTimer>
#include <QTimer>
#include <QWidget>

#include <optional>
#include <vector>

QT_BEGIN_NAMESPACE
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QNetworkAccessManager;
class QPushButton;
class QTableWidget;
QT_END_NAMESPACE

namespace keel::ui {

class ExplainChartView;
class EmptyState;
class TaskManager;

/// The deployments of a workspace and each one's revisions, read off the UI thread. Plain value.
struct DeploymentsSnapshot {
    std::vector<deploy::Deployment> deployments;
    std::map<QString, std::vector<deploy::Deployment>> history;   ///< by name, oldest first
    QStringList modelRefs;                                         ///< NAME@ALIAS and NAME@vN of every registered version
};
Expected<DeploymentsSnapshot> readDeployments(const QString &root, Feedback *feedback = nullptr);

/// Deploy dialog: the deployment, the model (and optional shadow) from the registry, the tolerance; "Check Gates" runs
/// the gates without switching and shows each; "Deploy" is enabled once they all pass.
class DeployDialog : public QDialog {
    Q_OBJECT
public:
    DeployDialog(TaskManager *tasks, const QString &root, const DeploymentsSnapshot &snapshot, const QString &deployment,
                 QWidget *parent = nullptr);
    QLineEdit *nameEdit() const { return m_name; }
    QComboBox *modelBox() const { return m_model; }
    QComboBox *shadowBox() const { return m_shadow; }
    QTableWidget *gatesTable() const { return m_gates; }
    QPushButton *checkButton() const { return m_check; }
    QPushButton *deployButton() const { return m_deploy; }
    /// The outcome of the last gate check or deploy (empty before one ended).
    const std::optional<deploy::DeployOutcome> &outcome() const { return m_outcome; }
    deploy::DeployRequest request() const;

signals:
    void checked();
    void deployed(const QString &text);

private:
    void run(bool dryRun);
    void showGates(const deploy::DeployOutcome &out);

    TaskManager *m_tasks;
    QString m_root;
    QLineEdit *m_name;
    QComboBox *m_model;
    QComboBox *m_shadow;
    QDoubleSpinBox *m_tolerance;
    QLineEdit *m_message;
    QTableWidget *m_gates;
    QLabel *m_verdict;
    QPushButton *m_check;
    QPushButton *m_deploy;
    std::optional<deploy::DeployOutcome> m_outcome;
};

class DeploymentsArea : public QWidget {
    Q_OBJECT
public:
    explicit DeploymentsArea(TaskManager *tasks, QWidget *parent = nullptr);

    void setWorkspaceRoot(const QString &root);
    void refresh();
    const DeploymentsSnapshot &snapshot() const { return m_snapshot; }
    /// Selects a deployment by name (once loaded).
    bool selectDeployment(const QString &name);
    QString currentDeployment() const;
    /// Rolls the current deployment back to `revision` (a task; the area refreshes when it ends).
    void rollbackTo(int revision, const QString &message);
    /// Reads `url`/metrics now (the area also polls every two seconds while shown).
    void pollServer();
    /// Opens the Deploy dialog for the current deployment (deleted when closed).
    DeployDialog *openDeployDialog();

    QTableWidget *deploymentsTable() const { return m_list; }
    QTableWidget *historyTable() const { return m_history; }
    QLabel *serverLabel() const { return m_serverState; }
    QLineEdit *serverUrl() const { return m_url; }
    QPushButton *deployButton() const { return m_deployButton; }
    QPushButton *rollbackButton() const { return m_rollbackButton; }
    ExplainChartView *timelineChart() const { return m_timeline; }

signals:
    void statusMessage(const QString &text);
    void loaded();
    void serverPolled();
    void changeFinished(bool ok, const QString &text);

protected:
    void showEvent(QShowEvent *event) override;
    void hideEvent(QHideEvent *event) override;

private:
    void rebuild();
    void showDeployment();


    TaskManager *m_tasks;
    QString m_root;
    DeploymentsSnapshot m_snapshot;
    EmptyState *m_empty;
    QWidget *m_main;
    QLabel *m_summary;
    QTableWidget *m_list;
    QLabel *m_detail;
    QTableWidget *m_history;
    ExplainChartView *m_timeline;
    QLineEdit *m_url;
    QLabel *m_serverState;
    QPushButton *m_deployButton;
    QPushButton *m_rollbackButton;
    QNetworkAccessManager *m_net;
    QTimer m_poll;
    std::optional<QMap<QString, serve::DeploymentMetrics>> m_lastMetrics;
    QElapsedTimer m_lastPoll;
};

} // namespace keel::ui
