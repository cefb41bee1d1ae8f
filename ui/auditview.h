#pragma once
// The Audit area: the workspace's audit trail (who did what to which subject, when, and the commit it made),
// read from the tracking store.

#include "tracking/trackingstore.h"

#include <QAbstractTableModel>
#include <QWidget>

#include <vector>

class QLabel;
class QLineEdit;
class QSortFilterProxyModel;
class QTableView;

namespace keel::ui {

class TaskManager;

/// One row per audit event, newest first: Time, User, Action, Subject, Commit, Detail. UI thread only.
class AuditModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { TimeColumn, UserColumn, ActionColumn, SubjectColumn, CommitColumn, DetailColumn, ColumnCount };

    explicit AuditModel(QObject *parent = nullptr);
    void setEvents(std::vector<tracking::AuditEvent> events);
    const std::vector<tracking::AuditEvent> &events() const { return m_events; }

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    std::vector<tracking::AuditEvent> m_events;
};

/// The audit trail of the open workspace, loaded as a task. UI thread only; `tasks` must outlive the view.
class AuditView : public QWidget {
    Q_OBJECT
public:
    explicit AuditView(TaskManager *tasks, QWidget *parent = nullptr);
    ~AuditView() override;

    /// Shows the trail of the workspace at `root` (empty: nothing).
    void setWorkspace(const QString &root);
    /// Reloads the events.
    void refresh();
    AuditModel *model() const { return m_model; }

signals:
    void loaded();

private:
    TaskManager *m_tasks;
    QString m_root;
    AuditModel *m_model;
    QSortFilterProxyModel *m_filter;
    QTableView *m_view;
    QLineEdit *m_search;
    QLabel *m_summary;
};

} // namespace keel::ui
