#pragma once
// The New Run dialog: a training config built from a form. The dataset and version come from the workspace's
// catalog, the target from the chosen version's columns, the learner from ml::allLearners() and one form row per
// ParamSpec the learner declares (spin boxes with its range, a combo for choices, a check box for booleans, its help
// as tooltip). Before a run starts the form is validated (parameter ranges with ml::validateParams, then the
// generated YAML with TrainingConfig::fromYaml) and errors are shown next to the field at fault. Accepting writes
// the YAML to the workspace's configs/ folder (never over an existing file). "Branch from this run" opens it
// pre-filled from a past run's config; recipe and label_map sections are kept as they were.

#include "catalogmodel.h"
#include "rundetails.h"
#include "util/result.h"

#include <QDialog>
#include <QHash>
#include <QVariant>

#include <vector>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QFormLayout;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QSpinBox;

namespace keel::ui {

/// What an accepted New Run dialog asks for: the config it wrote and the parent to record.
struct NewRunRequest {
    QString configPath;    ///< absolute path of the written config (under configs/)
    QString yaml;          ///< its text
    QString parentRunId;   ///< the run this one branches from; empty for a fresh run
    QString runName;
};

/// Modal-or-not dialog; UI thread only. The catalog is a snapshot taken when the dialog opens.
class NewRunDialog : public QDialog {
    Q_OBJECT
public:
    /// `root` is the workspace; `datasets` its catalog; `experiments` names offered for the experiment field.
    NewRunDialog(const QString &root, std::vector<DatasetHistory> datasets, const QStringList &experiments,
                 QWidget *parent = nullptr);

    /// Pre-fills the form from a past run (its recorded config, else its params) and records it as the new run's
    /// parent. Returns an error when neither could be read; the form then keeps its defaults.
    Status branchFrom(const RunDetails &run);

    void setExperiment(const QString &name);
    void setRunName(const QString &name);
    /// The config file name without folder or extension (configs/NAME.yaml).
    void setFileName(const QString &name);
    /// Selects a dataset and version (0: the latest). False when the catalog has no such version.
    bool setDataset(const QString &name, int version = 0);
    /// Dataset version ref to evaluate on ("adult_test@v1"), or empty for the split's held-out part.
    bool setEvaluate(const QString &ref);
    bool setTarget(const QString &column);
    /// "auto", "regression", "binary" or "multiclass".
    bool setTask(const QString &task);
    bool setLearner(const QString &name);
    /// Sets a learner parameter's widget (numbers, bools, choice text). False for unknown names or values the
    /// widget cannot hold.
    bool setParam(const QString &name, const QVariant &value);
    /// "holdout", "kfold" or "time".
    bool setSplitKind(const QString &kind);
    void setTestFraction(double fraction);

    /// The value a parameter's widget holds (typed as the ParamSpec says), or invalid for unknown names.
    QVariant paramValue(const QString &name) const;
    /// The widget of a field ("data", "target", "learner", "params.max_depth", "split.test_fraction", "file"...).
    QWidget *fieldWidget(const QString &field) const;
    /// The error text shown next to a field ("" when none).
    QString fieldError(const QString &field) const;
    /// Every error shown, one per line.
    QString errorText() const;
    QString parentRunId() const { return m_parentRunId; }
    /// Where the config will be written.
    QString configPath() const;

    /// The YAML the form describes (what will be written).
    QString configText() const;
    /// Checks the form and shows each error next to its field; true when the run can start.
    bool validate();
    /// Validates, writes the config (refusing to overwrite) and returns what to start; the dialog stays open on
    /// errors. accept() calls this and closes on success.
    Expected<NewRunRequest> submit();
    /// What the last successful submit() produced.
    const NewRunRequest &request() const { return m_request; }

public slots:
    void accept() override;

private:
    struct ParamField {
        QString name;
        int type = 0;          ///< int(ml::ParamSpec::Type)
        QVariant defaultValue;
        QWidget *widget = nullptr;
    };

    void buildForm();
    void rebuildParams();
    void updateVersions();
    void updateColumns();
    void updateSplitRows();
    void updatePreview();
    void clearErrors();
    void showError(const QString &field, const QString &message);
    QWidget *withError(const QString &field, QWidget *widget);
    QString dataRef() const;
    const workspace::DatasetVersion *selectedVersion() const;
    QString uniqueFileName(const QString &base) const;

    QString m_root;
    std::vector<DatasetHistory> m_datasets;
    QString m_parentRunId;
    QString m_baseYaml;       ///< the branched run's config: its recipe and label_map are kept
    bool m_fileEdited = false;
    NewRunRequest m_request;

    QLabel *m_heading;
    QComboBox *m_experiment;
    QLineEdit *m_name;
    QLineEdit *m_file;
    QComboBox *m_dataset;
    QComboBox *m_version;
    QComboBox *m_evaluate;
    QComboBox *m_target;
    QComboBox *m_task;
    QComboBox *m_splitKind;
    QDoubleSpinBox *m_testFraction;
    QDoubleSpinBox *m_validationFraction;
    QSpinBox *m_folds;
    QCheckBox *m_stratify;
    QSpinBox *m_seed;
    QComboBox *m_timeColumn;
    QFormLayout *m_splitForm;
    QComboBox *m_learner;
    QLabel *m_learnerHelp;
    QFormLayout *m_paramsForm;
    QWidget *m_paramsBox;
    QPlainTextEdit *m_preview;
    QLabel *m_keptNote;
    QLabel *m_errors;
    std::vector<ParamField> m_params;
    QHash<QString, QWidget *> m_fields;
    QHash<QString, QLabel *> m_errorLabels;
    QHash<QString, QString> m_fieldErrors;
    QStringList m_generalErrors;
};

} // namespace keel::ui
