#pragma once
// An honest empty state: a title, a sentence or two about what will appear here, and optional actions.

#include <QWidget>

class QLabel;
class QVBoxLayout;
class QPushButton;

namespace keel::ui {

/// Centered title and explanation, with buttons added by the caller. UI thread only.
class EmptyState : public QWidget {
    Q_OBJECT
public:
    EmptyState(const QString &title, const QString &text, QWidget *parent = nullptr);

    void setTitle(const QString &title);
    void setText(const QString &text);
    QString title() const;
    QString text() const;
    /// Adds a button under the text; returns it (owned by this widget).
    QPushButton *addButton(const QString &label);

private:
    QLabel *m_title;
    QLabel *m_text;
    QWidget *m_buttons;
};

} // namespace keel::ui
