#pragma once
// The Audit area: the workspace's audit trail in words (who did what to which subject, when, and the commit it made),
// filtered by subject, text and time; the hash chain verified on request with a visible result; and a decision view
// that explains a past served prediction from its id (the waterfall, the model's lineage, the deployment revision
// that was live). Everything it shows comes from core (tracking store, workspace/audittrail.h, serve/decision.h).

#include "serve/decision.h"
#include "tracking/trackingstore.h"
#include "workspace/audittrail.h"

#include <QAbstractTableModel>
#include <QDateTime>
#include <QSortFilterProxyModel>
#include <QWidget>

#include <optional>
#include <vector>

class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QTabWidget;
class QTableView;
class QTableWidget;

namespace keel::ui {

class ExplainChartView;
class TaskManager;

/// One row per audit event, newest first: Time, User, Event (in words, from core), Action, Subject, Commit. The
/// detail's JSON is only the Event column's tooltip. UI thread only.
class AuditModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { TimeColumn, UserColumn, EventColumn, ActionColumn, SubjectColumn, CommitColumn, ColumnCount };

    explicit AuditModel(QObject *parent = nullptr);
    void setEvents(std::vector<tracking::AuditEvent> events);
    const std::vector<tracking::AuditEvent> &events() const { return m_events; }

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    std::vector<tracking::AuditEvent> m_events;
    std::vector<QString> m_text;   ///< auditEventText of each event, computed once
};

/// Keeps the events of one subject (empty: all), at or after a time (invalid: any), whose row text contains a string.
class AuditFilter : public QSortFilterProxyModel {
    Q_OBJECT
public:
    using QSortFilterProxyModel::QSortFilterProxyModel;
    void setSubject(const QString &subject);
    void setSince(const QDateTime &since);
    void setText(const QString &text);

protected:
    bool filterAcceptsRow(int row, const QModelIndex &parent) const override;

private:
    QString m_subject, m_text;
    QDateTime m_since;
};

/// The audit trail of the open workspace, loaded as a task. UI thread only; `tasks` must outlive the view.
class AuditView : public QWidget {
    Q_OBJECT
public:
    enum Tab { TrailTab, DecisionTab };

    explicit AuditView(TaskManager *tasks, QWidget *parent = nullptr);
    ~AuditView() override;

    /// Shows the trail of the workspace at `root` (empty: nothing).
    void setWorkspace(const QString &root);
    /// Reloads the events.
    void refresh();
    /// Verifies the hash chain against git (a task); the banner shows the result.
    void verify();
    /// Opens the decision tab and explains the served prediction `id` (a task).
    void showDecision(const QString &id);

    AuditModel *model() const { return m_model; }
    AuditFilter *filter() const { return m_filter; }
    QTableView *table() const { return m_view; }
    QComboBox *subjectBox() const { return m_subject; }
    QComboBox *sinceBox() const { return m_since; }
    QLabel *banner() const { return m_banner; }
    QTabWidget *tabs() const { return m_tabs; }
    ExplainChartView *waterfall() const { return m_waterfall; }
    QLabel *decisionText() const { return m_decisionText; }
    const std::optional<workspace::AuditVerification> &verification() const { return m_verification; }
    const std::optional<serve::Decision> &decision() const { return m_decisionResult; }

signals:
    void loaded();
    void verified(bool ok);
    void decisionShown(bool ok);

private:
    QString taskGroup(const char *kind) const;
    void applySince();
    void showDecisionResult(const serve::Decision &d);

    TaskManager *m_tasks;
    QString m_root;
    AuditModel *m_model;
    AuditFilter *m_filter;
    QTabWidget *m_tabs;
    QTableView *m_view;
    QLineEdit *m_search;
    QComboBox *m_subject;
    QComboBox *m_since;
    QPushButton *m_verify;
    QLabel *m_banner;
    QLabel *m_summary;
    // Decision tab.
    QLineEdit *m_predictionId;
    QLabel *m_decisionText;
    ExplainChartView *m_waterfall;
    QTableWidget *m_inputs;
    std::optional<workspace::AuditVerification> m_verification;
    std::optional<serve::Decision> m_decisionResult;
};

} // namespace keel::ui
