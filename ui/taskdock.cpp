#include "taskdock.h"

#include "taskmanager.h"

#include <QApplication>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QPainter>
#include <QPushButton>
#include <QStyledItemDelegate>
#include <QTreeView>
#include <QVBoxLayout>

namespace keel::ui {

namespace {

/// Draws the Progress column as a progress bar and the Cancel column as a push button, in the widget's style.
class TaskDelegate : public QStyledItemDelegate {
public:
    using QStyledItemDelegate::QStyledItemDelegate;

    void paint(QPainter *painter, const QStyleOptionViewItem &option, const QModelIndex &index) const override
    {
        const QWidget *w = option.widget;
        QStyle *style = w ? w->style() : QApplication::style();
        if (index.column() == TaskModel::ProgressColumn) {
            style->drawPrimitive(QStyle::PE_PanelItemViewItem, &option, painter, w);
            QStyleOptionProgressBar bar;
            bar.rect = option.rect.adjusted(2, 3, -2, -3);
            bar.palette = option.palette;
            bar.state = option.state | QStyle::State_Horizontal;
            bar.minimum = 0;
            bar.maximum = 1000;
            const double fraction = index.data(TaskModel::FractionRole).toDouble();
            bar.progress = fraction < 0 ? 0 : int(fraction * 1000.0);
            bar.text = index.data(Qt::DisplayRole).toString();
            bar.textVisible = true;
            bar.textAlignment = Qt::AlignCenter;
            style->drawControl(QStyle::CE_ProgressBar, &bar, painter, w);
            return;
        }
        if (index.column() == TaskModel::CancelColumn) {
            style->drawPrimitive(QStyle::PE_PanelItemViewItem, &option, painter, w);
            const QString text = index.data(Qt::DisplayRole).toString();
            if (text.isEmpty())
                return;
            QStyleOptionButton button;
            button.rect = option.rect.adjusted(2, 1, -2, -1);
            button.palette = option.palette;
            button.state = QStyle::State_Enabled | QStyle::State_Raised;
            button.text = text;
            style->drawControl(QStyle::CE_PushButton, &button, painter, w);
            return;
        }
        QStyledItemDelegate::paint(painter, option, index);
    }

    QSize sizeHint(const QStyleOptionViewItem &option, const QModelIndex &index) const override
    {
        QSize s = QStyledItemDelegate::sizeHint(option, index);
        s.setHeight(std::max(s.height(), option.fontMetrics.height() + 10));
        if (index.column() == TaskModel::ProgressColumn)
            s.setWidth(std::max(s.width(), 140));
        if (index.column() == TaskModel::CancelColumn)
            s.setWidth(option.fontMetrics.horizontalAdvance(QStringLiteral("Cancel")) + 28);
        return s;
    }
};

} // namespace

TaskDockWidget::TaskDockWidget(TaskManager *manager, QWidget *parent)
    : QWidget(parent), m_manager(manager), m_view(new QTreeView(this)),
      m_cancelAll(new QPushButton(QStringLiteral("Cancel all"), this)),
      m_clear(new QPushButton(QStringLiteral("Clear finished"), this))
{
    m_view->setObjectName(QStringLiteral("taskView"));
    m_view->setModel(manager->model());
    m_view->setRootIsDecorated(false);
    m_view->setUniformRowHeights(true);
    m_view->setItemDelegate(new TaskDelegate(m_view));
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->header()->setStretchLastSection(false);
    m_view->header()->setSectionResizeMode(TaskModel::TitleColumn, QHeaderView::Stretch);
    m_view->header()->setSectionResizeMode(TaskModel::ProgressColumn, QHeaderView::Interactive);
    m_view->header()->resizeSection(TaskModel::ProgressColumn, 160);
    m_view->header()->setSectionResizeMode(TaskModel::TimeColumn, QHeaderView::ResizeToContents);
    m_view->header()->setSectionResizeMode(TaskModel::StateColumn, QHeaderView::ResizeToContents);
    m_view->header()->setSectionResizeMode(TaskModel::CancelColumn, QHeaderView::Fixed);
    m_view->header()->resizeSection(TaskModel::CancelColumn, fontMetrics().horizontalAdvance(QStringLiteral("Cancel")) + 32);
    connect(m_view, &QTreeView::clicked, this, &TaskDockWidget::onClicked);
    connect(manager->model(), &QAbstractItemModel::rowsInserted, m_view, [this] { m_view->scrollToBottom(); });
    connect(m_cancelAll, &QPushButton::clicked, manager, &TaskManager::cancelAll);
    connect(m_clear, &QPushButton::clicked, manager, &TaskManager::clearEnded);
    const auto updateButtons = [this] {
        const int active = m_manager->activeCount();
        m_cancelAll->setEnabled(active > 0);
        m_clear->setEnabled(m_manager->model()->rowCount() > active);
    };
    connect(manager, &TaskManager::tasksChanged, this, updateButtons);
    updateButtons();

    auto *buttons = new QHBoxLayout;
    buttons->addStretch();
    buttons->addWidget(m_cancelAll);
    buttons->addWidget(m_clear);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(m_view);
    layout->addLayout(buttons);
}

void TaskDockWidget::onClicked(const QModelIndex &index)
{
    if (index.column() != TaskModel::CancelColumn || !index.data(TaskModel::ActiveRole).toBool())
        return;
    m_manager->cancel(index.data(TaskModel::IdRole).value<quint64>());
}

} // namespace keel::ui
