#pragma once
// The task dock: every running and recent task with its progress, time or ETA, state and a Cancel button.

#include <QWidget>

class QTreeView;
class QPushButton;

namespace keel::ui {

class TaskManager;

/// Lists the tasks of a TaskManager (not owned; must outlive the widget). UI thread only.
class TaskDockWidget : public QWidget {
    Q_OBJECT
public:
    explicit TaskDockWidget(TaskManager *manager, QWidget *parent = nullptr);

    QTreeView *view() const { return m_view; }

private:
    void onClicked(const QModelIndex &index);

    TaskManager *m_manager;
    QTreeView *m_view;
    QPushButton *m_cancelAll;
    QPushButton *m_clear;
};

} // namespace keel::ui
