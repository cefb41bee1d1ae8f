#pragma once
// The validation view: load or suggest a rule file for the open version, edit it, run it, and list the
// violations with example rows.

#include "data/rules.h"
#include "workspace/datasets.h"

#include <QAbstractTableModel>
#include <QWidget>

#include <optional>

class QLabel;
class QPlainTextEdit;
class QTableView;

namespace keel::ui {

class TaskManager;

/// One row per violation: Column, Rule, Rows at fault, Message, Examples. UI thread only.
class ViolationModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { ColumnColumn, RuleColumn, CountColumn, MessageColumn, ExamplesColumn, ColumnCount };
    static constexpr int FirstExampleRowRole = Qt::UserRole + 1; ///< qint64 0-based row of the first example, or -1

    explicit ViolationModel(QObject *parent = nullptr);
    void setReport(data::ValidationReport report);
    const data::ValidationReport &report() const { return m_report; }

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    data::ValidationReport m_report;
};

/// Rules for the open version. UI thread only; `tasks` must outlive the view.
class ValidationView : public QWidget {
    Q_OBJECT
public:
    explicit ValidationView(TaskManager *tasks, QWidget *parent = nullptr);
    ~ValidationView() override;

    /// The version the rules run against (its table is shared, not copied).
    void setVersion(const QString &root, const workspace::DatasetVersion &version, const data::Table &table);
    void clear();

    /// Replaces the rules with ones suggested from the open version's data and stored profile (a task; emits
    /// rulesSuggested when the editor holds them).
    void suggest();
    /// Loads a rule file into the editor (errors show in the summary).
    void loadFile(const QString &path);
    /// Saves the editor's rules to a file.
    bool saveFile(const QString &path);
    /// Runs the editor's rules against the open version as a task.
    void run();

    QString rulesText() const;
    void setRulesText(const QString &yaml);
    ViolationModel *model() const { return m_model; }
    QString summaryText() const;

signals:
    void validationFinished(bool ok);
    void rulesSuggested();
    /// The user asked to see a row of the open version (0-based table row).
    void showRowRequested(qint64 row);
    void statusMessage(const QString &text);

private:
    QString group() const;

    TaskManager *m_tasks;
    std::optional<workspace::DatasetVersion> m_version;
    QString m_root;   ///< the workspace (validation runs are recorded in its audit trail)
    data::Table m_table;
    QString m_source;
    QPlainTextEdit *m_editor;
    QLabel *m_summary;
    QTableView *m_view;
    ViolationModel *m_model;
};

} // namespace keel::ui
