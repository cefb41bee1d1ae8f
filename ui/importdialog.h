#pragma once
// The import dialog: pick a CSV/TSV/JSONL file, see the first rows as parsed with what was detected (delimiter,
// header, date order, types), override any of it, name the dataset and describe the version. The dialog only
// gathers an ImportRequest; the import itself is a task (jobs::importDataset, the same core call as
// `keel data add`).

#include "data/reader.h"
#include "workspacejobs.h"

#include <QDialog>
#include <QHash>

class QCheckBox;
class QComboBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QTableView;
class QTableWidget;
class QTimer;

namespace keel::ui {

class TableModel;
class TaskManager;

/// Gathers an ImportRequest with a live preview (parsed on the task manager's pool). UI thread only; `tasks`
/// must outlive the dialog.
class ImportDialog : public QDialog {
    Q_OBJECT
public:
    /// Rows the preview parses.
    static constexpr qint64 kPreviewRows = 200;

    explicit ImportDialog(TaskManager *tasks, QWidget *parent = nullptr);
    ~ImportDialog() override;

    /// Sets the file; fills in a dataset name (from the file name) and a message unless the user typed one,
    /// and starts a preview.
    void setFile(const QString &path);
    void setDatasetName(const QString &name);
    void setMessage(const QString &message);
    /// nullopt: detect.
    void setDelimiter(std::optional<char> delimiter);
    /// nullopt: detect.
    void setHeader(std::optional<bool> header);
    void setDateOrder(data::DateOrder order);
    /// Tokens read as missing (the empty token means an empty field).
    void setMissingTokens(const QStringList &tokens);
    /// Forces a column's type (nullopt: as detected).
    void setTypeOverride(const QString &column, std::optional<data::ColumnType> type);

    /// The read options the controls describe (maxRows unset).
    data::ReadOptions readOptions() const;
    /// What to import.
    jobs::ImportRequest request() const;

    /// The parsed preview rows (empty until the first preview arrives).
    TableModel *previewModel() const { return m_previewModel; }
    /// What the last successful preview detected.
    const data::ReadInfo &detected() const { return m_info; }
    /// The last preview's error text (empty when it succeeded).
    QString previewError() const { return m_error; }
    /// True when the last requested preview has arrived.
    bool previewReady() const { return m_previewReady; }
    /// Why the request cannot be imported yet (empty when it can).
    QString problem() const;

signals:
    /// A preview (or preview error) arrived.
    void previewUpdated();

protected:
    void dragEnterEvent(QDragEnterEvent *event) override;
    void dropEvent(QDropEvent *event) override;

private:
    void schedulePreview();
    void startPreview();
    void updateTypes(const data::Table &preview);
    void updateDetected();
    void updateState();
    void browse();

    TaskManager *m_tasks;
    QLineEdit *m_file;
    QLineEdit *m_name;
    QLineEdit *m_message;
    QComboBox *m_delimiter;
    QComboBox *m_header;
    QComboBox *m_dateOrder;
    QCheckBox *m_emptyMissing;
    QLineEdit *m_missing;
    QLabel *m_detected;
    QLabel *m_status;
    QTableView *m_preview;
    QTableWidget *m_types;
    QDialogButtonBox *m_buttons;
    TableModel *m_previewModel;
    QTimer *m_debounce;

    QHash<QString, data::ColumnType> m_overrides;
    data::ReadInfo m_info;
    QString m_error;
    bool m_previewReady = false;
    bool m_nameEdited = false;
    bool m_messageEdited = false;
    bool m_updatingTypes = false;
};

/// True for files the workbench can import (.csv, .tsv, .txt, .jsonl, .ndjson; case-insensitive).
bool isImportableFile(const QString &path);
/// A valid dataset name derived from a file name ("Adult Train (2).csv" -> "Adult_Train_2").
QString datasetNameForFile(const QString &path);

} // namespace keel::ui
