#include "validationview.h"

#include "taskmanager.h"
#include "util/fileutil.h"
#include "workspacejobs.h"

#include <QFileDialog>
#include <QFileInfo>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>

namespace keel::ui {

ViolationModel::ViolationModel(QObject *parent) : QAbstractTableModel(parent) {}

void ViolationModel::setReport(data::ValidationReport report)
{
    beginResetModel();
    m_report = std::move(report);
    endResetModel();
}

int ViolationModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_report.violations.size());
}

int ViolationModel::columnCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant ViolationModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const data::Violation &v = m_report.violations[size_t(index.row())];
    if (role == FirstExampleRowRole)
        return QVariant::fromValue(v.exampleRows.empty() ? qint64(-1) : v.exampleRows.front());
    if (role == Qt::DisplayRole || role == Qt::ToolTipRole) {
        switch (index.column()) {
        case ColumnColumn: return v.column;
        case RuleColumn: return v.rule;
        case CountColumn: return v.count > 0 ? QLocale().toString(v.count) : QString();
        case MessageColumn: return v.message;
        case ExamplesColumn: {
            QStringList parts;
            for (size_t i = 0; i < v.exampleRows.size(); ++i) {
                const QString value = qsizetype(i) < v.exampleValues.size() ? v.exampleValues[qsizetype(i)] : QString();
                parts << QStringLiteral("row %1: %2").arg(v.exampleRows[i] + 1).arg(value.isEmpty() ? QStringLiteral("(missing)") : value);
            }
            return parts.join(role == Qt::ToolTipRole ? QStringLiteral("\n") : QStringLiteral("; "));
        }
        }
    }
    if (role == Qt::TextAlignmentRole)
        return int((index.column() == CountColumn ? Qt::AlignRight : Qt::AlignLeft) | Qt::AlignVCenter);
    return {};
}

QVariant ViolationModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case ColumnColumn: return QStringLiteral("Column");
    case RuleColumn: return QStringLiteral("Rule");
    case CountColumn: return QStringLiteral("Rows");
    case MessageColumn: return QStringLiteral("Problem");
    case ExamplesColumn: return QStringLiteral("Examples (row: value)");
    }
    return {};
}

// ---------------------------------------------------------------------------------------------------------------

ValidationView::ValidationView(TaskManager *tasks, QWidget *parent)
    : QWidget(parent), m_tasks(tasks), m_editor(new QPlainTextEdit(this)), m_summary(new QLabel(this)),
      m_view(new QTableView(this)), m_model(new ViolationModel(this))
{
    auto *suggestButton = new QPushButton(QStringLiteral("Suggest from this version"), this);
    auto *load = new QPushButton(QStringLiteral("Load\u2026"), this);
    auto *save = new QPushButton(QStringLiteral("Save\u2026"), this);
    auto *runButton = new QPushButton(QStringLiteral("Validate"), this);
    runButton->setDefault(true);
    connect(suggestButton, &QPushButton::clicked, this, &ValidationView::suggest);
    connect(runButton, &QPushButton::clicked, this, &ValidationView::run);
    connect(load, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, QStringLiteral("Load rules"), QString(),
                                                          QStringLiteral("Rule files (*.yaml *.yml);;All files (*)"));
        if (!path.isEmpty())
            loadFile(path);
    });
    connect(save, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, QStringLiteral("Save rules"), m_source,
                                                          QStringLiteral("Rule files (*.yaml *.yml)"));
        if (!path.isEmpty())
            saveFile(path);
    });
    auto *bar = new QHBoxLayout;
    bar->addWidget(suggestButton);
    bar->addWidget(load);
    bar->addWidget(save);
    bar->addStretch();
    bar->addWidget(runButton);

    m_editor->setObjectName(QStringLiteral("rulesEditor"));
    m_editor->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_editor->setPlaceholderText(QStringLiteral("columns:\n  age: {type: int64, min: 17, max: 90, max_missing: 0.0}\n"
                                                "  workclass: {allowed: [Private, Local-gov], max_missing: 0.06}"));
    m_editor->setLineWrapMode(QPlainTextEdit::NoWrap);
    m_summary->setObjectName(QStringLiteral("validationSummary"));
    m_summary->setWordWrap(true);
    m_summary->setTextFormat(Qt::RichText);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_view->setModel(m_model);
    m_view->setAlternatingRowColors(true);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->verticalHeader()->hide();
    m_view->horizontalHeader()->setStretchLastSection(true);
    m_view->setWordWrap(false);
    m_view->setToolTip(QStringLiteral("Double-click a violation to see its first example row in the table"));
    connect(m_view, &QTableView::doubleClicked, this, [this](const QModelIndex &index) {
        const qint64 row = index.data(ViolationModel::FirstExampleRowRole).toLongLong();
        if (row >= 0)
            emit showRowRequested(row);
    });

    auto *left = new QWidget(this);
    auto *leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(0, 0, 0, 0);
    leftLayout->addLayout(bar);
    leftLayout->addWidget(m_editor, 1);
    auto *right = new QWidget(this);
    auto *rightLayout = new QVBoxLayout(right);
    rightLayout->setContentsMargins(0, 0, 0, 0);
    rightLayout->addWidget(m_summary);
    rightLayout->addWidget(m_view, 1);
    auto *split = new QSplitter(this);
    split->setObjectName(QStringLiteral("validationSplitter"));
    split->addWidget(left);
    split->addWidget(right);
    split->setSizes({380, 620});
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addWidget(split);
    clear();
}

ValidationView::~ValidationView()
{
    m_tasks->cancelGroup(group());
    m_tasks->cancelGroup(group() + QStringLiteral("-suggest"));
}

QString ValidationView::group() const { return QStringLiteral("validate-%1").arg(quintptr(this), 0, 16); }

void ValidationView::setVersion(const QString &root, const workspace::DatasetVersion &version, const data::Table &table)
{
    m_root = root;
    m_tasks->cancelGroup(group());
    m_version = version;
    m_table = table;
    m_model->setReport({});
    m_summary->setText(QStringLiteral("Rules run against <b>%1</b>. Suggest a starting set from this version, load a "
                                      "rule file, or write rules, then press Validate.")
                           .arg(version.ref().toHtmlEscaped()));
}

void ValidationView::clear()
{
    m_tasks->cancelGroup(group());
    m_version.reset();
    m_table = data::Table();
    m_model->setReport({});
    m_summary->setText(QStringLiteral("<i>Open a dataset version to validate it.</i>"));
}

QString ValidationView::rulesText() const { return m_editor->toPlainText(); }
void ValidationView::setRulesText(const QString &yaml) { m_editor->setPlainText(yaml); }
QString ValidationView::summaryText() const { return m_summary->text(); }

void ValidationView::suggest()
{
    if (!m_version)
        return;
    const data::Table table = m_table;
    const data::TableProfile profile = m_version->record.profile;
    const QString ref = m_version->ref();
    const QString name = m_version->record.name;
    m_tasks->start<QByteArray>(
        QStringLiteral("Suggest rules from %1").arg(ref), group() + QStringLiteral("-suggest"),
        [table, profile](Feedback &) -> Expected<QByteArray> { return data::suggestRules(table, profile); }, this,
        [this, ref, name](Expected<QByteArray> &&yaml) {
            setRulesText(QString::fromUtf8(*yaml));
            m_source = name + QStringLiteral(".rules.yaml");
            m_summary->setText(QStringLiteral("Rules suggested from <b>%1</b>: it passes them by construction. Open "
                                              "another version and press Validate to check it against them.")
                                   .arg(ref.toHtmlEscaped()));
            emit rulesSuggested();
        });
}

void ValidationView::loadFile(const QString &path)
{
    auto bytes = readFile(path);
    if (!bytes) {
        m_summary->setText(QStringLiteral("<b>\u26a0 %1</b>").arg(bytes.error().toString().toHtmlEscaped()));
        return;
    }
    m_source = path;
    setRulesText(QString::fromUtf8(*bytes));
    auto rules = data::parseRules(*bytes, path);
    if (!rules)
        m_summary->setText(QStringLiteral("<b>\u26a0 %1</b>").arg(rules.error().toString().toHtmlEscaped()));
    else
        m_summary->setText(QStringLiteral("Loaded %1 column rules from %2.").arg(rules->columns.size()).arg(path.toHtmlEscaped()));
}

bool ValidationView::saveFile(const QString &path)
{
    if (Status s = writeFileAtomic(path, rulesText().toUtf8()); !s) {
        m_summary->setText(QStringLiteral("<b>\u26a0 %1</b>").arg(s.error().toString().toHtmlEscaped()));
        return false;
    }
    m_source = path;
    emit statusMessage(QStringLiteral("Saved rules to %1").arg(path));
    return true;
}

void ValidationView::run()
{
    if (!m_version)
        return;
    const data::Table table = m_table;
    const QByteArray yaml = rulesText().toUtf8();
    const QString source = m_source.isEmpty() ? QStringLiteral("rules") : QFileInfo(m_source).fileName();
    const QString ref = m_version->ref();
    const workspace::DatasetVersion version = *m_version;
    const QString root = m_root;
    m_summary->setText(QStringLiteral("<i>Validating %1\u2026</i>").arg(ref.toHtmlEscaped()));
    m_tasks->start<data::ValidationReport>(
        QStringLiteral("Validate %1").arg(ref), group(),
        [root, version, table, yaml, source](Feedback &fb) { return jobs::validate(root, version, table, yaml, source, &fb); },
        this,
        [this, ref](Expected<data::ValidationReport> &&report) {
            if (!report) {
                m_model->setReport({});
                m_summary->setText(QStringLiteral("<b>\u26a0 %1</b>").arg(report.error().toString().toHtmlEscaped()));
                emit validationFinished(false);
                return;
            }
            const QLocale loc;
            const bool ok = report->ok();
            m_summary->setText(ok ? QStringLiteral("<b>%1 passes</b> all %2 rules (%3 rows).")
                                        .arg(ref.toHtmlEscaped()).arg(report->rulesChecked).arg(loc.toString(report->rows))
                                  : QStringLiteral("<b>%1 fails %2 of %3 rules</b> (%4 rows). Double-click a violation to see an example row.")
                                        .arg(ref.toHtmlEscaped()).arg(report->rulesFailed).arg(report->rulesChecked)
                                        .arg(loc.toString(report->rows)));
            m_model->setReport(std::move(*report));
            m_view->resizeColumnsToContents();
            emit validationFinished(true);
        });
}

} // namespace keel::ui
