#pragma once
// The Prediction tab of the explanation area: pick a row (from the dataset table, by number or by search), see the
// waterfall from the base value through each feature's contribution to the row's output, edit the row's values in the
// what-if editor beside it (prediction and waterfall follow as you type), and search for a counterfactual among the
// features you allow to change.

#include "explain/whatif.h"
#include "explaincharts.h"
#include "explainsession.h"

#include <QTimer>
#include <QVariantMap>
#include <QWidget>

#include <map>
#include <memory>
#include <optional>

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;
class QTableView;
class QVBoxLayout;
class QFormLayout;

namespace keel::ui {

class TableModel;
class TaskManager;

/// One row's explanation as the report's "local" part gives it, for the output shown. Plain value.
struct LocalExplanation {
    qint64 row = -1;                    ///< table row (0-based)
    QString method;                     ///< the attribution's method, e.g. "tree_shap"
    int output = 0;                     ///< margin output shown
    QStringList features;
    std::vector<double> contributions;  ///< per feature, on the margin of `output`
    QStringList values;                 ///< per feature, the raw value as the user sees it
    double base = 0;
    double margin = 0;                  ///< the model's margin for `output`
    std::vector<double> prediction;     ///< Model::predict of the row
    QString actual;                     ///< the row's target value, if the data has it
    double residual = 0;                ///< margin - (base + sum of contributions)
    /// The row's attribution for every output, so that another class can be shown without recomputing.
    std::shared_ptr<const explain::Attribution> attribution;
    std::vector<double> margins;        ///< per output

    /// Shows output `k` (contributions, base, margin and residual of that output).
    void selectOutput(int k);
};

/// The Prediction tab. UI thread only; `tasks` must outlive it.
class ExplainPredictionView : public QWidget {
    Q_OBJECT
public:
    /// Delay between the last what-if edit and the new prediction.
    static constexpr int kWhatIfDelayMs = 150;
    /// Most rows a search lists.
    static constexpr qint64 kSearchLimit = 5000;

    ExplainPredictionView(TaskManager *tasks, const QString &taskGroup, QWidget *parent = nullptr);
    ~ExplainPredictionView() override;

    /// Works on `session` (null: nothing); the first row is explained once the view is shown or a row is picked.
    void setSession(std::shared_ptr<const ExplainSession> session);
    /// Shows `message` instead of an explanation (loading, errors).
    void setMessage(const QString &message);
    /// Picks table row `row` (0-based): fills the what-if editor with its values and explains it (a task; instant
    /// when explained before). False when out of range or without a session.
    bool pickRow(qint64 row);
    qint64 currentRow() const { return m_row; }
    /// Lists the rows whose values contain every term of `text` in the row table (empty: every row); a task.
    void search(const QString &text);
    /// Sets the what-if value of input feature `feature` through its editor, as a user would (an invalid QVariant
    /// means missing). False when the feature has no editor or the value does not fit it.
    bool setEdit(const QString &feature, const QVariant &value);
    /// Puts every editor back to the row's value.
    void resetEdits();
    /// The edits in effect: feature -> raw value (invalid = missing), only where it differs from the row.
    QVariantMap edits() const;
    /// Whether the counterfactual search may change `feature`.
    void setChangeable(const QString &feature, bool changeable);
    QStringList changeableFeatures() const;
    /// Starts the counterfactual search for the current row over the changeable features.
    void findCounterfactual();
    /// Copies the counterfactual's changes into the what-if editor.
    void applyCounterfactual();

    /// The current row's explanation (nullopt while it is computed).
    const std::optional<LocalExplanation> &local() const { return m_local; }
    /// The waterfall on screen (the edited row's once a what-if result arrived, else the row's).
    const Waterfall &waterfall() const { return m_waterfall; }
    /// The latest what-if result for the current edits (nullopt without edits).
    const std::optional<explain::WhatIfResult> &whatIfResult() const { return m_whatIf; }
    /// Attribution of the edited row (what the edited waterfall draws).
    const std::optional<explain::Attribution> &whatIfAttribution() const { return m_whatIfAttribution; }
    const std::optional<explain::Counterfactual> &counterfactual() const { return m_counterfactual; }

    QSpinBox *rowSpin() const { return m_rowSpin; }
    /// Multiclass: the class whose probability the waterfall explains (first item: the predicted class).
    QComboBox *classPicker() const { return m_classPicker; }
    QLineEdit *searchEdit() const { return m_search; }
    QTableView *rowTable() const { return m_rowTable; }
    TableModel *rowModel() const { return m_rowModel; }
    ExplainChartView *waterfallChart() const { return m_waterfallChart; }
    QLabel *predictionLabel() const { return m_prediction; }
    QPushButton *counterfactualButton() const { return m_cfButton; }
    QLabel *counterfactualLabel() const { return m_cfResult; }
    /// The editor widget of input feature `feature` (QComboBox, QDoubleSpinBox or QDateTimeEdit), or null.
    QWidget *editor(const QString &feature) const;

signals:
    /// The current row's explanation arrived and is drawn.
    void rowExplained(qint64 row);
    /// A what-if result for the current edits (or their removal) is shown.
    void whatIfShown();
    /// A counterfactual search ended (result or error shown).
    void counterfactualShown();
    /// A row search ended with `matches` rows listed.
    void searchFinished(qint64 matches);
    void taskStarted(quint64 id);
    void statusMessage(const QString &text);

protected:
    void showEvent(QShowEvent *event) override;

private:
    struct Editor {
        QString feature;
        int column = -1;
        data::ColumnType type = data::ColumnType::Float64;
        QCheckBox *changeable = nullptr;
        QWidget *widget = nullptr;
        int decimals = 0;
    };
    struct WhatIfOutcome {
        explain::WhatIfResult result;
        explain::Attribution attribution;
        QStringList values;
    };

    void buildEditors();
    void fillEditors();
    QVariant editorValue(const Editor &e) const;
    bool setEditorValue(const Editor &e, const QVariant &value);
    bool sameValue(const Editor &e, const QVariant &a, const QVariant &b) const;
    void selectInTable(qint64 row);
    void explainRow(qint64 row);
    void onEdited();
    void runWhatIf();
    void showLocal();
    void showWaterfall(const Waterfall &w);
    void updatePredictionLabel();
    void updateEditedMarks();
    void showCounterfactual();
    QString probabilityText(const std::vector<double> &prediction) const;
    /// What the waterfall adds up to for `output`: "log-odds of >50K", "score of setosa", "prediction".
    QString outputName(int output) const;
    /// The output to show for `e`: the picked class, else the predicted one.
    int shownOutput(const LocalExplanation &e) const;

    TaskManager *m_tasks;
    QString m_group;
    std::shared_ptr<const ExplainSession> m_session;
    qint64 m_row = -1;
    quint64 m_generation = 0;          ///< bumps with every row or session change; stale results are dropped
    bool m_filling = false;
    bool m_started = false;
    quint64 m_rowTask = 0;             ///< the running row explanation
    quint64 m_whatIfTask = 0;
    quint64 m_cfTask = 0;
    std::optional<LocalExplanation> m_local;
    std::optional<explain::WhatIfResult> m_whatIf;
    std::optional<explain::Attribution> m_whatIfAttribution;
    QStringList m_whatIfValues;
    std::optional<explain::Counterfactual> m_counterfactual;
    Waterfall m_waterfall;
    std::vector<Editor> m_editors;
    QTimer m_whatIfTimer;
    QTimer m_searchTimer;

    QSpinBox *m_rowSpin;
    QComboBox *m_classPicker;
    QLabel *m_classLabel;
    QLineEdit *m_search;
    QLabel *m_searchCount;
    QTableView *m_rowTable;
    TableModel *m_rowModel;
    QLabel *m_prediction;
    QLabel *m_otherValues;
    ExplainChartView *m_waterfallChart;
    QWidget *m_editorBox;
    QFormLayout *m_editorForm;
    QPushButton *m_resetButton;
    QPushButton *m_cfButton;
    QPushButton *m_cfApply;
    QLabel *m_cfResult;
};

} // namespace keel::ui
