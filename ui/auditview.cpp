#include "auditview.h"

#include "taskmanager.h"
#include "workspacejobs.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QVBoxLayout>

namespace keel::ui {

AuditModel::AuditModel(QObject *parent) : QAbstractTableModel(parent) {}

void AuditModel::setEvents(std::vector<tracking::AuditEvent> events)
{
    beginResetModel();
    m_events = std::move(events);
    endResetModel();
}

int AuditModel::rowCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : int(m_events.size()); }

int AuditModel::columnCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant AuditModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const tracking::AuditEvent &e = m_events[size_t(index.row())];
    if (role == Qt::DisplayRole || role == Qt::ToolTipRole) {
        switch (index.column()) {
        case TimeColumn:
            return role == Qt::ToolTipRole ? e.time.toString(Qt::ISODateWithMs)
                                           : e.time.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"));
        case UserColumn: return e.user;
        case ActionColumn: return e.action;
        case SubjectColumn: return e.subject;
        case CommitColumn: return role == Qt::ToolTipRole ? e.commit : e.commit.left(10);
        case DetailColumn:
            return QString::fromUtf8(QJsonDocument(e.detail).toJson(role == Qt::ToolTipRole ? QJsonDocument::Indented
                                                                                            : QJsonDocument::Compact));
        }
    }
    if (role == Qt::UserRole && index.column() == TimeColumn)
        return e.time;
    return {};
}

QVariant AuditModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case TimeColumn: return QStringLiteral("Time");
    case UserColumn: return QStringLiteral("User");
    case ActionColumn: return QStringLiteral("Action");
    case SubjectColumn: return QStringLiteral("Subject");
    case CommitColumn: return QStringLiteral("Commit");
    case DetailColumn: return QStringLiteral("Detail");
    }
    return {};
}

AuditView::AuditView(TaskManager *tasks, QWidget *parent)
    : QWidget(parent), m_tasks(tasks), m_model(new AuditModel(this)), m_filter(new QSortFilterProxyModel(this)),
      m_view(new QTableView(this)), m_search(new QLineEdit(this)), m_summary(new QLabel(this))
{
    auto *title = new QLabel(QStringLiteral("<b>Audit trail</b>"), this);
    m_search->setPlaceholderText(QStringLiteral("Filter by user, action, subject or commit"));
    m_search->setClearButtonEnabled(true);
    auto *reload = new QPushButton(QStringLiteral("Refresh"), this);
    connect(reload, &QPushButton::clicked, this, &AuditView::refresh);
    auto *bar = new QHBoxLayout;
    bar->addWidget(title);
    bar->addSpacing(12);
    bar->addWidget(m_search, 1);
    bar->addWidget(reload);

    m_filter->setSourceModel(m_model);
    m_filter->setFilterKeyColumn(-1);
    m_filter->setFilterCaseSensitivity(Qt::CaseInsensitive);
    connect(m_search, &QLineEdit::textChanged, m_filter, &QSortFilterProxyModel::setFilterFixedString);
    m_view->setObjectName(QStringLiteral("auditTable"));
    m_view->setModel(m_filter);
    m_view->setAlternatingRowColors(true);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->verticalHeader()->hide();
    m_view->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 6);
    m_view->horizontalHeader()->setStretchLastSection(true);
    m_view->setWordWrap(false);
    m_summary->setForegroundRole(QPalette::PlaceholderText);
    m_summary->setText(QStringLiteral("Every change to the workspace (imports, checkouts, remotes, pushes) is recorded "
                                      "here with who made it and the commit it produced."));
    m_summary->setWordWrap(true);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(8, 8, 8, 8);
    layout->addLayout(bar);
    layout->addWidget(m_summary);
    layout->addWidget(m_view, 1);
}

AuditView::~AuditView() { m_tasks->cancelGroup(QStringLiteral("audit-%1").arg(quintptr(this), 0, 16)); }

void AuditView::setWorkspace(const QString &root)
{
    m_root = root;
    m_model->setEvents({});
    if (!root.isEmpty())
        refresh();
}

void AuditView::refresh()
{
    if (m_root.isEmpty())
        return;
    const QString root = m_root;
    m_tasks->start<std::vector<tracking::AuditEvent>>(
        QStringLiteral("Load audit trail"), QStringLiteral("audit-%1").arg(quintptr(this), 0, 16),
        [root](Feedback &) { return jobs::loadAudit(root); }, this,
        [this](Expected<std::vector<tracking::AuditEvent>> &&events) {
            if (!events) {
                m_summary->setText(QStringLiteral("\u26a0 ") + events.error().toString());
                return;
            }
            m_model->setEvents(std::move(*events));
            m_view->resizeColumnsToContents();
            m_view->horizontalHeader()->setStretchLastSection(true);
            m_summary->setText(QStringLiteral("%1 events, newest first. Every change to the workspace is recorded here "
                                              "with who made it and the commit it produced.")
                                   .arg(QLocale().toString(qint64(m_model->rowCount()))));
            emit loaded();
        });
}

} // namespace keel::ui
