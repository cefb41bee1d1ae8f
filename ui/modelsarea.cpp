#include "modelsarea.h"

#include "explainarea.h"
#include "modelcompareview.h"
#include "registryview.h"

#include <QTabWidget>
#include <QVBoxLayout>

namespace keel::ui {

ModelsArea::ModelsArea(TaskManager *tasks, QWidget *parent)
    : QWidget(parent), m_tabs(new QTabWidget(this)), m_registry(new RegistryView(tasks, this)),
      m_compare(new ModelCompareView(tasks, this)), m_explain(new ExplainArea(tasks, this))
{
    setObjectName(QStringLiteral("modelsArea"));
    m_tabs->addTab(m_registry, QStringLiteral("Registry"));
    m_tabs->addTab(m_compare, QStringLiteral("Compare"));
    m_tabs->addTab(m_explain, QStringLiteral("Explain"));
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_tabs);
    connect(m_registry, &RegistryView::loaded, this, [this] {
        m_compare->setChoices(m_registry->snapshot().versionRefs(), m_registry->snapshot().datasetRefs);
    });
    connect(m_registry, &RegistryView::compareRequested, this, &ModelsArea::compare);
    connect(m_registry, &RegistryView::statusMessage, this, &ModelsArea::statusMessage);
    connect(m_registry, &RegistryView::runLinkActivated, this, [this](const QString &runId) {
        m_tabs->setCurrentWidget(m_explain);
        m_explain->showRun(runId);
    });
    connect(m_explain, &ExplainArea::statusMessage, this, &ModelsArea::statusMessage);
}

void ModelsArea::setWorkspaceRoot(const QString &root)
{
    m_registry->setWorkspaceRoot(root);
    m_compare->setWorkspaceRoot(root);
    m_explain->setWorkspaceRoot(root);
}

void ModelsArea::refresh()
{
    m_registry->refresh();
    m_explain->refresh();
}

void ModelsArea::compare(const QString &a, const QString &b)
{
    m_tabs->setCurrentWidget(m_compare);
    m_compare->compare(a, b);
}

} // namespace keel::ui
