#pragma once
// The Models area: the registry (versions, aliases and their history, approvals), the comparison of two versions,
// and the explanations of any trained run.

#include <QWidget>

class QTabWidget;

namespace keel::ui {

class ExplainArea;
class ModelCompareView;
class RegistryView;
class TaskManager;

class ModelsArea : public QWidget {
    Q_OBJECT
public:
    enum Tab { RegistryTab, CompareTab, ExplainTab };

    explicit ModelsArea(TaskManager *tasks, QWidget *parent = nullptr);

    void setWorkspaceRoot(const QString &root);
    /// Re-reads the registry and the explainable runs.
    void refresh();
    /// Opens the Compare tab on `a` against `b` and starts the comparison.
    void compare(const QString &a, const QString &b);

    QTabWidget *tabs() const { return m_tabs; }
    RegistryView *registry() const { return m_registry; }
    ModelCompareView *compareView() const { return m_compare; }
    ExplainArea *explain() const { return m_explain; }

signals:
    void statusMessage(const QString &text);
    void taskStarted(quint64 id);

private:
    QTabWidget *m_tabs;
    RegistryView *m_registry;
    ModelCompareView *m_compare;
    ExplainArea *m_explain;
};

} // namespace keel::ui
