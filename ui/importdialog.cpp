#include "importdialog.h"

#include "catalogmodel.h"
#include "datatablewidget.h"
#include "tablemodel.h"
#include "taskmanager.h"
#include "workspace/datasets.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMimeData>
#include <QPushButton>
#include <QRegularExpression>
#include <QSplitter>
#include <QTableView>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>

namespace keel::ui {

using data::ColumnType;

namespace {

const ColumnType kTypes[] = {ColumnType::Int64,       ColumnType::Float64, ColumnType::Bool, ColumnType::Datetime,
                             ColumnType::Categorical, ColumnType::String};

QString delimiterName(char d)
{
    switch (d) {
    case ',': return QStringLiteral("comma-separated");
    case '\t': return QStringLiteral("tab-separated");
    case ';': return QStringLiteral("semicolon-separated");
    case '|': return QStringLiteral("pipe-separated");
    default: return QStringLiteral("separated by '%1'").arg(QLatin1Char(d));
    }
}

struct Preview {
    data::Table table;
    data::ReadInfo info;
};

} // namespace

bool isImportableFile(const QString &path)
{
    const QString suffix = QFileInfo(path).suffix().toLower();
    return suffix == u"csv" || suffix == u"tsv" || suffix == u"txt" || suffix == u"jsonl" || suffix == u"ndjson";
}

QString datasetNameForFile(const QString &path)
{
    QString name = QFileInfo(path).completeBaseName();
    name.replace(QRegularExpression(QStringLiteral("[^A-Za-z0-9._-]+")), QStringLiteral("_"));
    while (name.contains(QStringLiteral("..")))
        name.replace(QStringLiteral(".."), QStringLiteral("."));
    while (name.startsWith(QLatin1Char('_')) || name.startsWith(QLatin1Char('.')))
        name.remove(0, 1);
    while (name.endsWith(QLatin1Char('_')))
        name.chop(1);
    if (name.isEmpty())
        name = QStringLiteral("dataset");
    return name.left(128);
}

ImportDialog::ImportDialog(TaskManager *tasks, QWidget *parent)
    : QDialog(parent), m_tasks(tasks), m_file(new QLineEdit(this)), m_name(new QLineEdit(this)),
      m_message(new QLineEdit(this)), m_delimiter(new QComboBox(this)), m_header(new QComboBox(this)),
      m_dateOrder(new QComboBox(this)), m_emptyMissing(new QCheckBox(QStringLiteral("empty field"), this)),
      m_missing(new QLineEdit(this)), m_detected(new QLabel(this)), m_status(new QLabel(this)),
      m_preview(new QTableView(this)), m_types(new QTableWidget(this)),
      m_buttons(new QDialogButtonBox(QDialogButtonBox::Cancel, this)), m_previewModel(new TableModel(this)),
      m_debounce(new QTimer(this))
{
    setWindowTitle(QStringLiteral("Import dataset"));
    setAcceptDrops(true);
    resize(1040, 680);

    auto *browseButton = new QPushButton(QStringLiteral("Browse\u2026"), this);
    connect(browseButton, &QPushButton::clicked, this, &ImportDialog::browse);
    auto *fileRow = new QHBoxLayout;
    fileRow->addWidget(m_file, 1);
    fileRow->addWidget(browseButton);
    m_file->setPlaceholderText(QStringLiteral("CSV, TSV or JSON Lines file (or drop one here)"));
    m_name->setPlaceholderText(QStringLiteral("letters, digits, '.', '_', '-'"));
    m_message->setPlaceholderText(QStringLiteral("what this version is"));

    m_delimiter->addItem(QStringLiteral("Detect"), 0);
    m_delimiter->addItem(QStringLiteral("Comma ,"), int(','));
    m_delimiter->addItem(QStringLiteral("Tab"), int('\t'));
    m_delimiter->addItem(QStringLiteral("Semicolon ;"), int(';'));
    m_delimiter->addItem(QStringLiteral("Pipe |"), int('|'));
    m_header->addItem(QStringLiteral("Detect"), -1);
    m_header->addItem(QStringLiteral("First row holds names"), 1);
    m_header->addItem(QStringLiteral("No header row"), 0);
    m_dateOrder->addItem(QStringLiteral("Detect"), int(data::DateOrder::Auto));
    m_dateOrder->addItem(QStringLiteral("Day first (d/m/y)"), int(data::DateOrder::DayFirst));
    m_dateOrder->addItem(QStringLiteral("Month first (m/d/y)"), int(data::DateOrder::MonthFirst));
    setMissingTokens(data::ReadOptions().missingTokens);
    m_missing->setToolTip(QStringLiteral("Whole-field values read as missing, separated by commas"));

    auto *form = new QFormLayout;
    form->addRow(QStringLiteral("File"), fileRow);
    form->addRow(QStringLiteral("Dataset name"), m_name);
    form->addRow(QStringLiteral("Message"), m_message);
    auto *options = new QGroupBox(QStringLiteral("How to read it"), this);
    auto *optionsForm = new QFormLayout(options);
    optionsForm->addRow(QStringLiteral("Delimiter"), m_delimiter);
    optionsForm->addRow(QStringLiteral("Header"), m_header);
    optionsForm->addRow(QStringLiteral("d/m/y dates"), m_dateOrder);
    auto *missingRow = new QHBoxLayout;
    missingRow->addWidget(m_emptyMissing);
    missingRow->addWidget(m_missing, 1);
    optionsForm->addRow(QStringLiteral("Missing values"), missingRow);

    m_types->setColumnCount(3);
    m_types->setHorizontalHeaderLabels({QStringLiteral("Column"), QStringLiteral("Detected"), QStringLiteral("Import as")});
    m_types->verticalHeader()->hide();
    m_types->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    m_types->horizontalHeader()->setSectionResizeMode(1, QHeaderView::ResizeToContents);
    m_types->horizontalHeader()->setSectionResizeMode(2, QHeaderView::ResizeToContents);
    m_types->setSelectionMode(QAbstractItemView::NoSelection);
    m_types->setEditTriggers(QAbstractItemView::NoEditTriggers);

    m_detected->setObjectName(QStringLiteral("importDetected"));
    m_detected->setWordWrap(true);
    m_status->setObjectName(QStringLiteral("importStatus"));
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);

    m_preview->setModel(m_previewModel);
    m_preview->setAlternatingRowColors(true);
    m_preview->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 6);
    m_preview->setWordWrap(false);

    auto *left = new QWidget(this);
    auto *leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(0, 0, 0, 0);
    leftLayout->addLayout(form);
    leftLayout->addWidget(options);
    leftLayout->addWidget(new QLabel(QStringLiteral("Column types"), this));
    leftLayout->addWidget(m_types, 1);

    auto *right = new QWidget(this);
    auto *rightLayout = new QVBoxLayout(right);
    rightLayout->setContentsMargins(0, 0, 0, 0);
    rightLayout->addWidget(m_detected);
    rightLayout->addWidget(m_preview, 1);

    auto *split = new QSplitter(this);
    split->setObjectName(QStringLiteral("importSplitter"));
    split->addWidget(left);
    split->addWidget(right);
    split->setStretchFactor(0, 0);
    split->setStretchFactor(1, 1);
    split->setSizes({400, 640});

    auto *importButton = m_buttons->addButton(QStringLiteral("Import"), QDialogButtonBox::AcceptRole);
    importButton->setDefault(true);
    connect(m_buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(split, 1);
    layout->addWidget(m_status);
    layout->addWidget(m_buttons);

    m_debounce->setSingleShot(true);
    m_debounce->setInterval(150);
    connect(m_debounce, &QTimer::timeout, this, &ImportDialog::startPreview);
    connect(m_file, &QLineEdit::editingFinished, this, [this] { setFile(m_file->text()); });
    connect(m_name, &QLineEdit::textEdited, this, [this] {
        m_nameEdited = true;
        updateState();
    });
    connect(m_message, &QLineEdit::textEdited, this, [this] { m_messageEdited = true; });
    for (QComboBox *box : {m_delimiter, m_header, m_dateOrder})
        connect(box, &QComboBox::currentIndexChanged, this, &ImportDialog::schedulePreview);
    connect(m_emptyMissing, &QCheckBox::toggled, this, &ImportDialog::schedulePreview);
    connect(m_missing, &QLineEdit::editingFinished, this, &ImportDialog::schedulePreview);
    updateState();
}

ImportDialog::~ImportDialog() { m_tasks->cancelGroup(QStringLiteral("import-preview-%1").arg(quintptr(this), 0, 16)); }

void ImportDialog::browse()
{
    const QString path = QFileDialog::getOpenFileName(
        this, QStringLiteral("Import dataset"), QFileInfo(m_file->text()).absolutePath(),
        QStringLiteral("Data files (*.csv *.tsv *.txt *.jsonl *.ndjson);;All files (*)"));
    if (!path.isEmpty())
        setFile(path);
}

void ImportDialog::setFile(const QString &path)
{
    const bool changed = path != m_file->text() || !m_previewReady;
    m_file->setText(path);
    if (!m_nameEdited)
        m_name->setText(datasetNameForFile(path));
    if (!m_messageEdited)
        m_message->setText(QStringLiteral("Import %1").arg(QFileInfo(path).fileName()));
    if (changed) {
        m_overrides.clear();
        schedulePreview();
    }
    updateState();
}

void ImportDialog::setDatasetName(const QString &name)
{
    m_nameEdited = true;
    m_name->setText(name);
    updateState();
}

void ImportDialog::setMessage(const QString &message)
{
    m_messageEdited = true;
    m_message->setText(message);
}

void ImportDialog::setDelimiter(std::optional<char> delimiter)
{
    const int i = m_delimiter->findData(delimiter ? int(*delimiter) : 0);
    if (i >= 0)
        m_delimiter->setCurrentIndex(i);
}

void ImportDialog::setHeader(std::optional<bool> header)
{
    m_header->setCurrentIndex(m_header->findData(header ? int(*header) : -1));
}

void ImportDialog::setDateOrder(data::DateOrder order) { m_dateOrder->setCurrentIndex(m_dateOrder->findData(int(order))); }

void ImportDialog::setMissingTokens(const QStringList &tokens)
{
    QStringList rest;
    for (const QString &t : tokens)
        if (!t.isEmpty())
            rest << t;
    m_emptyMissing->setChecked(tokens.contains(QString()));
    m_missing->setText(rest.join(QStringLiteral(", ")));
    schedulePreview();
}

void ImportDialog::setTypeOverride(const QString &column, std::optional<data::ColumnType> type)
{
    if (type)
        m_overrides.insert(column, *type);
    else
        m_overrides.remove(column);
    for (int r = 0; r < m_types->rowCount(); ++r) {
        if (m_types->item(r, 0)->text() != column)
            continue;
        if (auto *box = qobject_cast<QComboBox *>(m_types->cellWidget(r, 2))) {
            m_updatingTypes = true;
            box->setCurrentIndex(std::max(0, box->findData(type ? int(*type) : -1)));
            m_updatingTypes = false;
        }
    }
    schedulePreview();
}

data::ReadOptions ImportDialog::readOptions() const
{
    data::ReadOptions o;
    if (const int d = m_delimiter->currentData().toInt(); d != 0)
        o.delimiter = char(d);
    if (const int h = m_header->currentData().toInt(); h >= 0)
        o.header = h == 1;
    o.dateOrder = data::DateOrder(m_dateOrder->currentData().toInt());
    o.missingTokens.clear();
    if (m_emptyMissing->isChecked())
        o.missingTokens << QString();
    for (const QString &t : m_missing->text().split(QLatin1Char(','))) {
        const QString token = t.trimmed();
        if (!token.isEmpty())
            o.missingTokens << token;
    }
    o.typeOverrides = m_overrides;
    return o;
}

jobs::ImportRequest ImportDialog::request() const
{
    return jobs::ImportRequest{QFileInfo(m_file->text()).absoluteFilePath(), m_name->text().trimmed(),
                               m_message->text().trimmed(), readOptions()};
}

QString ImportDialog::problem() const
{
    const QString file = m_file->text();
    if (file.isEmpty())
        return QStringLiteral("Choose a file to import");
    if (!QFileInfo(file).isFile())
        return QStringLiteral("%1 is not a file").arg(file);
    if (Status s = workspace::validateDatasetName(m_name->text().trimmed()); !s)
        return QStringLiteral("Dataset name: %1").arg(s.error().message);
    if (!m_previewReady)
        return QStringLiteral("Reading the first rows\u2026");
    if (!m_error.isEmpty())
        return m_error;
    return {};
}

void ImportDialog::schedulePreview()
{
    m_previewReady = false;
    m_debounce->start();
    updateState();
}

void ImportDialog::startPreview()
{
    const QString file = m_file->text();
    const QString group = QStringLiteral("import-preview-%1").arg(quintptr(this), 0, 16);
    if (file.isEmpty() || !QFileInfo(file).isFile()) {
        m_tasks->cancelGroup(group);
        m_previewModel->setTable(data::Table());
        m_error.clear();
        m_previewReady = false;
        updateDetected();
        updateState();
        return;
    }
    data::ReadOptions options = readOptions();
    options.maxRows = kPreviewRows;
    options.threads = 1;
    m_tasks->start<Preview>(
        QStringLiteral("Preview %1").arg(QFileInfo(file).fileName()), group,
        [file, options](Feedback &fb) -> Expected<Preview> {
            Preview p;
            auto t = data::readTable(file, options, &fb, &p.info);
            if (!t)
                return t.error();
            p.table = std::move(*t);
            return p;
        },
        this,
        [this](Expected<Preview> &&p) {
            m_previewReady = true;
            if (!p) {
                m_error = p.error().toString();
                m_previewModel->setTable(data::Table());
            } else {
                m_error.clear();
                m_info = p->info;
                updateTypes(p->table);
                m_previewModel->setTable(std::move(p->table));
                fitColumnWidths(m_preview, m_previewModel->table(), 30);
            }
            updateDetected();
            updateState();
            emit previewUpdated();
        });
}

void ImportDialog::updateTypes(const data::Table &preview)
{
    m_updatingTypes = true;
    m_types->setRowCount(preview.columnCount());
    for (int c = 0; c < preview.columnCount(); ++c) {
        const data::Column &col = preview.column(c);
        auto *name = new QTableWidgetItem(col.name());
        m_types->setItem(c, 0, name);
        QString detected = data::columnTypeName(col.type());
        if (m_overrides.contains(col.name())) {
            // The preview was read with the override; keep what was detected before it.
            if (QTableWidgetItem *old = m_types->item(c, 1); old && old->data(Qt::UserRole).toString() == col.name())
                detected = old->text();
        }
        auto *det = new QTableWidgetItem(detected);
        det->setData(Qt::UserRole, col.name());
        m_types->setItem(c, 1, det);
        auto *box = qobject_cast<QComboBox *>(m_types->cellWidget(c, 2));
        if (!box) {
            box = new QComboBox(m_types);
            box->addItem(QStringLiteral("as detected"), -1);
            for (ColumnType t : kTypes)
                box->addItem(data::columnTypeName(t), int(t));
            m_types->setCellWidget(c, 2, box);
            connect(box, &QComboBox::currentIndexChanged, this, [this, box] {
                if (m_updatingTypes)
                    return;
                for (int r = 0; r < m_types->rowCount(); ++r) {
                    if (m_types->cellWidget(r, 2) != box)
                        continue;
                    const QString column = m_types->item(r, 0)->text();
                    const int t = box->currentData().toInt();
                    setTypeOverride(column, t < 0 ? std::nullopt : std::optional<ColumnType>(ColumnType(t)));
                }
            });
        }
        const auto it = m_overrides.constFind(col.name());
        box->setCurrentIndex(std::max(0, box->findData(it == m_overrides.cend() ? -1 : int(*it))));
    }
    m_updatingTypes = false;
}

void ImportDialog::updateDetected()
{
    if (!m_error.isEmpty()) {
        m_detected->setText(QStringLiteral("<b>\u26a0 The file cannot be read:</b> %1").arg(m_error.toHtmlEscaped()));
        return;
    }
    if (m_previewModel->columnCount() == 0) {
        m_detected->setText(QStringLiteral("<i>Choose a file to see its first rows as they will be read.</i>"));
        return;
    }
    QStringList parts;
    if (m_info.format == data::FileFormat::Jsonl)
        parts << QStringLiteral("JSON Lines");
    else
        parts << delimiterName(m_info.delimiter) << (m_info.header ? QStringLiteral("header row") : QStringLiteral("no header row"));
    parts << QStringLiteral("%1 columns").arg(m_previewModel->columnCount());
    if (m_info.dateOrder == data::DateOrder::DayFirst)
        parts << QStringLiteral("dates day-first");
    else if (m_info.dateOrder == data::DateOrder::MonthFirst)
        parts << QStringLiteral("dates month-first");
    parts << (m_info.truncated ? QStringLiteral("first %1 rows shown").arg(m_previewModel->rowCount())
                               : QStringLiteral("all %1 rows shown").arg(m_previewModel->rowCount()));
    parts << QStringLiteral("file %1").arg(formatBytes(QFileInfo(m_file->text()).size()));
    m_detected->setText(QStringLiteral("<b>Detected:</b> ") + parts.join(QStringLiteral(" \u00b7 ")).toHtmlEscaped());
}

void ImportDialog::updateState()
{
    const QString p = problem();
    m_status->setText(p);
    for (QAbstractButton *b : m_buttons->buttons())
        if (m_buttons->buttonRole(b) == QDialogButtonBox::AcceptRole)
            b->setEnabled(p.isEmpty());
}

void ImportDialog::dragEnterEvent(QDragEnterEvent *event)
{
    const auto urls = event->mimeData()->urls();
    if (urls.size() == 1 && urls.front().isLocalFile() && isImportableFile(urls.front().toLocalFile()))
        event->acceptProposedAction();
}

void ImportDialog::dropEvent(QDropEvent *event)
{
    const auto urls = event->mimeData()->urls();
    if (!urls.isEmpty() && urls.front().isLocalFile()) {
        setFile(urls.front().toLocalFile());
        event->acceptProposedAction();
    }
}

} // namespace keel::ui
