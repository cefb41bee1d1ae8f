#include "emptystate.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QVBoxLayout>

namespace keel::ui {

EmptyState::EmptyState(const QString &title, const QString &text, QWidget *parent)
    : QWidget(parent), m_title(new QLabel(this)), m_text(new QLabel(this)), m_buttons(new QWidget(this))
{
    QFont f = m_title->font();
    f.setPointSizeF(f.pointSizeF() * 1.6);
    f.setBold(true);
    m_title->setFont(f);
    m_title->setAlignment(Qt::AlignCenter);
    m_title->setObjectName(QStringLiteral("emptyTitle"));
    m_text->setAlignment(Qt::AlignCenter);
    m_text->setWordWrap(true);
    m_text->setMaximumWidth(620);
    m_text->setSizePolicy(QSizePolicy::Preferred, QSizePolicy::MinimumExpanding);
    m_text->setForegroundRole(QPalette::PlaceholderText);
    m_text->setObjectName(QStringLiteral("emptyText"));
    m_text->setTextFormat(Qt::RichText);
    auto *buttons = new QHBoxLayout(m_buttons);
    buttons->setContentsMargins(0, 8, 0, 0);
    buttons->addStretch();
    buttons->addStretch();
    auto *layout = new QVBoxLayout(this);
    layout->addStretch(2);
    layout->addWidget(m_title);
    layout->addSpacing(6);
    auto *textRow = new QHBoxLayout;
    textRow->addStretch(1);
    textRow->addWidget(m_text, 4);
    textRow->addStretch(1);
    layout->addLayout(textRow);
    layout->addWidget(m_buttons);
    layout->addStretch(3);
    setTitle(title);
    setText(text);
}

void EmptyState::setTitle(const QString &title) { m_title->setText(title); }
void EmptyState::setText(const QString &text) { m_text->setText(text); }
QString EmptyState::title() const { return m_title->text(); }
QString EmptyState::text() const { return m_text->text(); }

QPushButton *EmptyState::addButton(const QString &label)
{
    auto *b = new QPushButton(label, m_buttons);
    auto *layout = static_cast<QHBoxLayout *>(m_buttons->layout());
    layout->insertWidget(layout->count() - 1, b);
    return b;
}

} // namespace keel::ui
