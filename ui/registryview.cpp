#include "registryview.h"

#include "emptystate.h"
#include "explaincharts.h"
#include "registrycharts.h"
#include "taskmanager.h"
#include "tracking/metrickeys.h"
#include "workspace/datasets.h"
#include "workspace/workspace.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSplitter>
#include <QTableWidget>
#include <QTextBrowser>
#include <QTreeWidget>
#include <QVBoxLayout>

#include <cmath>

namespace keel::ui {

namespace {

constexpr int kRefRole = Qt::UserRole + 1;

QString when(const QDateTime &t) { return t.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm")); }
QString num(double v) { return std::isnan(v) ? QStringLiteral("\u2013") : QLocale::c().toString(v, 'g', 4); }

QString headline(const registry::ModelVersion &v)
{
    QStringList parts;
    for (const QString &key : tracking::summaryMetricKeys())
        if (auto m = v.metric(key))
            parts << QStringLiteral("%1 %2").arg(key.mid(5), num(*m));
    return parts.join(QStringLiteral(", "));
}

QString cardHtml(const registry::ModelVersion &v, const QStringList &aliases)
{
    auto esc = [](const QString &s) { return s.toHtmlEscaped(); };
    QString h = QStringLiteral("<h3>%1%2</h3>").arg(esc(v.ref()), aliases.isEmpty() ? QString()
                                                                                   : QStringLiteral(" <span>[%1]</span>").arg(esc(aliases.join(QStringLiteral(", ")))));
    h += QStringLiteral("<p>Registered %1 by %2%3</p>")
             .arg(esc(when(v.registered)), esc(v.by), v.message.isEmpty() ? QString() : QStringLiteral(": <i>%1</i>").arg(esc(v.message)));
    h += QStringLiteral("<table cellspacing='4'>");
    auto row = [&](const QString &k, const QString &value) { h += QStringLiteral("<tr><td><b>%1</b></td><td>%2</td></tr>").arg(k, value); };
    row(QStringLiteral("Run"), QStringLiteral("<a href='run:%1'>%2</a> (%3, experiment %4)")
                                   .arg(v.runId, v.runId.left(8), esc(v.runName), esc(v.experiment)));
    row(QStringLiteral("Model"), esc(v.modelKind + QStringLiteral(", ") + ml::taskName(v.task)
                                     + (v.classes.isEmpty() ? QString() : QStringLiteral(" (") + v.classes.join(QStringLiteral(", ")) + QLatin1Char(')'))));
    row(QStringLiteral("Trained on"), QStringLiteral("%1 <small>%2</small>").arg(esc(v.data.train), v.data.trainContentId.left(12)));
    if (!v.data.evaluate.isEmpty())
        row(QStringLiteral("Tested on"), QStringLiteral("%1 <small>%2</small>").arg(esc(v.data.evaluate), v.data.evaluateContentId.left(12)));
    row(QStringLiteral("Bundle"), QStringLiteral("<small>%1</small>").arg(v.bundle));
    if (!v.importedFrom.isEmpty())
        row(QStringLiteral("Imported"), QStringLiteral("from %1@v%2%3")
                                            .arg(esc(v.importedFrom.value(QStringLiteral("name")).toString()))
                                            .arg(v.importedFrom.value(QStringLiteral("version")).toInt())
                                            .arg(v.importedFrom.value(QStringLiteral("signed")).toBool() ? QStringLiteral(", signed") : QString()));
    for (const registry::Approval &a : v.approvals)
        row(QStringLiteral("Approved"), QStringLiteral("%1 by %2: %3").arg(esc(when(a.at)), esc(a.by), esc(a.message)));
    if (v.approvals.empty())
        row(QStringLiteral("Approved"), QStringLiteral("not yet"));
    h += QStringLiteral("</table><h4>Final metrics</h4><table cellspacing='4'>");
    for (const auto &[k, val] : v.metrics)
        if (k.startsWith(u"test.") || k.startsWith(u"validation.") || k.endsWith(u".mean"))
            h += QStringLiteral("<tr><td>%1</td><td align='right'>%2</td></tr>").arg(esc(k), num(val));
    h += QStringLiteral("</table><h4>Input schema</h4><table cellspacing='4'><tr><th align='left'>column</th><th align='left'>type</th>"
                        "<th align='left'>range or categories</th><th align='right'>missing</th></tr>");
    for (const registry::FeatureSchema &f : v.schema)
        h += QStringLiteral("<tr><td>%1</td><td>%2</td><td>%3</td><td align='right'>%4%</td></tr>")
                 .arg(esc(f.name), esc(f.type),
                      f.categories.isEmpty() ? (f.min && f.max ? QStringLiteral("%1 \u2026 %2").arg(num(*f.min), num(*f.max)) : QString())
                                             : esc(QStringList(f.categories.mid(0, 6)).join(QStringLiteral(", "))
                                                   + (f.categories.size() > 6 ? QStringLiteral(", \u2026 (%1)").arg(f.categories.size()) : QString())),
                      QString::number(f.missingShare * 100, 'f', 1));
    h += QStringLiteral("</table><h4>Global importance (mean |SHAP| on the test rows)</h4><table cellspacing='4'>");
    for (size_t i = 0; i < std::min<size_t>(v.importance.size(), 10); ++i)
        h += QStringLiteral("<tr><td>%1</td><td>%2</td><td align='right'>%3</td></tr>")
                 .arg(i + 1)
                 .arg(esc(v.importance[i].feature), num(v.importance[i].meanAbsShap));
    h += QStringLiteral("</table>");
    return h;
}

} // namespace

Expected<RegistrySnapshot> readRegistry(const QString &root, Feedback *feedback)
{
    auto ws = workspace::Workspace::open(root);
    if (!ws)
        return ws.error();
    auto names = registry::listModels(**ws);
    if (!names)
        return names.error();
    RegistrySnapshot s;
    for (const QString &name : *names) {
        if (isCancelled(feedback))
            return cancelledError();
        auto m = registry::loadModel(**ws, name);
        if (!m)
            return m.error();
        auto history = registry::aliasHistory(**ws, name);
        if (!history)
            return history.error();
        s.history[name] = std::move(*history);
        s.models.push_back(std::move(*m));
    }
    auto datasets = workspace::listDatasets(**ws);
    if (!datasets)
        return datasets.error();
    for (const QString &d : *datasets) {
        auto log = workspace::datasetLog(**ws, d);
        if (!log)
            return log.error();
        for (auto it = log->rbegin(); it != log->rend(); ++it)
            s.datasetRefs << it->ref();
    }
    return s;
}

QStringList RegistrySnapshot::versionRefs() const
{
    QStringList refs;
    for (const registry::RegisteredModel &m : models)
        for (auto it = m.versions.rbegin(); it != m.versions.rend(); ++it)
            refs << it->ref();
    return refs;
}

// ---- dialogs -------------------------------------------------------------------------------------------------------

RegisterDialog::RegisterDialog(const QString &runLabel, const QStringList &models, QWidget *parent)
    : QDialog(parent), m_name(new QComboBox(this)), m_message(new QLineEdit(this))
{
    setWindowTitle(QStringLiteral("Register as Model Version"));
    m_name->setEditable(true);
    m_name->addItems(models);
    m_name->setCurrentText(models.value(0));
    m_name->setToolTip(QStringLiteral("An existing model gets its next version; a new name starts a model"));
    m_message->setPlaceholderText(QStringLiteral("why (recorded in the commit)"));
    auto *form = new QFormLayout;
    form->addRow(QStringLiteral("Run"), new QLabel(runLabel.toHtmlEscaped(), this));
    form->addRow(QStringLiteral("Model"), m_name);
    form->addRow(QStringLiteral("Why"), m_message);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    buttons->button(QDialogButtonBox::Ok)->setText(QStringLiteral("Register"));
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(new QLabel(QStringLiteral("The run's model, recipe and split are packed into a verified bundle with its "
                                                "schema, metrics, lineage and importance, as the next version of the model."),
                                 this));
    layout->addLayout(form);
    layout->addWidget(buttons);
}

QString RegisterDialog::name() const { return m_name->currentText().trimmed(); }
QString RegisterDialog::message() const { return m_message->text().trimmed(); }

MoveAliasDialog::MoveAliasDialog(const QString &versionRef, const QStringList &aliases, QWidget *parent)
    : QDialog(parent), m_alias(new QComboBox(this)), m_message(new QLineEdit(this))
{
    setWindowTitle(QStringLiteral("Move Alias"));
    m_alias->setEditable(true);
    QStringList offered = aliases;
    for (const QString &a : {QStringLiteral("champion"), QStringLiteral("challenger")})
        if (!offered.contains(a))
            offered << a;
    m_alias->addItems(offered);
    m_message->setPlaceholderText(QStringLiteral("why (recorded in the commit)"));
    auto *form = new QFormLayout;
    form->addRow(QStringLiteral("Point"), new QLabel(QStringLiteral("<b>%1</b>").arg(versionRef.toHtmlEscaped()), this));
    form->addRow(QStringLiteral("Alias"), m_alias);
    form->addRow(QStringLiteral("Why"), m_message);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(buttons);
}

QString MoveAliasDialog::alias() const { return m_alias->currentText().trimmed(); }
QString MoveAliasDialog::message() const { return m_message->text().trimmed(); }

ApproveDialog::ApproveDialog(const QString &versionRef, QWidget *parent)
    : QDialog(parent), m_message(new QPlainTextEdit(this))
{
    setWindowTitle(QStringLiteral("Approve %1").arg(versionRef));
    m_message->setPlaceholderText(QStringLiteral("What did you review? (e.g. the comparison with the champion, fairness by sex)"));
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    m_ok = buttons->button(QDialogButtonBox::Ok);
    m_ok->setText(QStringLiteral("Approve"));
    m_ok->setEnabled(false);
    connect(m_message, &QPlainTextEdit::textChanged, this, [this] { m_ok->setEnabled(!message().isEmpty()); });
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(new QLabel(QStringLiteral("Your approval of <b>%1</b> is recorded with your git identity and the time.")
                                     .arg(versionRef.toHtmlEscaped()),
                                 this));
    layout->addWidget(m_message);
    layout->addWidget(buttons);
}

QString ApproveDialog::message() const { return m_message->toPlainText().trimmed(); }

// ---- the view ------------------------------------------------------------------------------------------------------

RegistryView::RegistryView(TaskManager *tasks, QWidget *parent)
    : QWidget(parent), m_tasks(tasks), m_summary(new QLabel(this)), m_tree(new QTreeWidget(this)), m_details(new QTextBrowser(this)),
      m_timeline(new QTableWidget(this)), m_timelineChart(new ExplainChartView(this)),
      m_alias(new QPushButton(QStringLiteral("Move Alias\u2026"), this)), m_approve(new QPushButton(QStringLiteral("Approve\u2026"), this)),
      m_compare(new QPushButton(QStringLiteral("Compare with\u2026"), this))
{
    setObjectName(QStringLiteral("registryView"));
    m_tree->setColumnCount(5);
    m_tree->setHeaderLabels({QStringLiteral("Model / version"), QStringLiteral("Aliases"), QStringLiteral("Registered"),
                             QStringLiteral("Test metrics"), QStringLiteral("Approved")});
    m_tree->setRootIsDecorated(true);
    m_tree->setUniformRowHeights(true);
    m_tree->header()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_details->setOpenLinks(false);
    connect(m_details, &QTextBrowser::anchorClicked, this, [this](const QUrl &url) {
        const QString s = url.toString();
        if (s.startsWith(u"run:"))
            emit runLinkActivated(s.mid(4));
    });
    m_timeline->setColumnCount(6);
    m_timeline->setHorizontalHeaderLabels({QStringLiteral("When"), QStringLiteral("Alias"), QStringLiteral("From"), QStringLiteral("To"),
                                           QStringLiteral("Why"), QStringLiteral("Who")});
    m_timeline->horizontalHeader()->setStretchLastSection(true);
    m_timeline->verticalHeader()->hide();
    m_timeline->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_timeline->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_timelineChart->setMessage(QStringLiteral("No model selected"));
    m_timelineChart->setMinimumHeight(200);
    for (QPushButton *b : {m_alias, m_approve, m_compare})
        b->setEnabled(false);
    m_alias->setToolTip(QStringLiteral("Point an alias (champion, challenger, ...) at the selected version: one commit"));
    m_approve->setToolTip(QStringLiteral("Record your approval of the selected version"));
    m_compare->setToolTip(QStringLiteral("Compare the selected version with another on the same rows, with paired tests"));
    connect(m_alias, &QPushButton::clicked, this, [this] { showMoveAliasDialog(); });
    connect(m_approve, &QPushButton::clicked, this, [this] { showApproveDialog(); });
    connect(m_compare, &QPushButton::clicked, this, [this] {
        const auto v = currentVersion();
        if (!v)
            return;
        // The other side: the champion if there is one (and it is not this version), else the previous version.
        QString other;
        for (const registry::RegisteredModel &m : m_snapshot.models)
            if (m.name == v->name) {
                const int champion = m.aliases.value(QStringLiteral("champion"), 0);
                const int pick = champion && champion != v->version ? champion : (v->version > 1 ? v->version - 1 : v->version + 1);
                if (m.find(pick))
                    other = QStringLiteral("%1@v%2").arg(m.name).arg(pick);
            }
        emit compareRequested(other.isEmpty() ? v->ref() : other, v->ref());
    });
    connect(m_tree, &QTreeWidget::currentItemChanged, this, [this] { showSelection(); });

    m_summary->setText(QStringLiteral("<b>Model registry</b>"));
    auto *bar = new QHBoxLayout;
    bar->addWidget(m_summary, 1);
    bar->addWidget(m_alias);
    bar->addWidget(m_approve);
    bar->addWidget(m_compare);
    auto *right = new QSplitter(Qt::Vertical, this);
    right->addWidget(m_details);
    auto *history = new QWidget(this);
    auto *hl = new QVBoxLayout(history);
    hl->setContentsMargins(0, 0, 0, 0);
    hl->addWidget(m_timelineChart, 3);
    hl->addWidget(m_timeline, 2);
    right->addWidget(history);
    right->setStretchFactor(0, 3);
    right->setStretchFactor(1, 2);
    auto *split = new QSplitter(Qt::Horizontal, this);
    split->addWidget(m_tree);
    split->addWidget(right);
    split->setStretchFactor(0, 2);
    split->setStretchFactor(1, 3);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(bar);
    layout->addWidget(split, 1);
}

void RegistryView::setWorkspaceRoot(const QString &root)
{
    m_root = root;
    m_snapshot = {};
    rebuild();
    if (!root.isEmpty())
        refresh();
}

void RegistryView::refresh()
{
    if (m_root.isEmpty())
        return;
    m_busy = true;
    const QString root = m_root;
    m_tasks->start<RegistrySnapshot>(
        QStringLiteral("Read the model registry"), QStringLiteral("registry"),
        [root](Feedback &fb) { return readRegistry(root, &fb); }, this,
        [this, root](Expected<RegistrySnapshot> &&s) {
            if (root != m_root)
                return;
            m_busy = false;
            if (!s) {
                m_summary->setText(QStringLiteral("<b>Model registry</b> \u00b7 could not be read: %1").arg(s.error().toString().toHtmlEscaped()));
                emit loaded();
                return;
            }
            m_snapshot = std::move(*s);
            rebuild();
            emit loaded();
        });
}

void RegistryView::rebuild()
{
    const QString keep = m_pendingSelection.isEmpty() ? (currentVersion() ? currentVersion()->ref() : QString()) : m_pendingSelection;
    m_tree->clear();
    int versions = 0;
    for (const registry::RegisteredModel &m : m_snapshot.models) {
        auto *top = new QTreeWidgetItem(m_tree, {m.name, QString(), QString(), QString(), QString()});
        QStringList aliases;
        for (auto it = m.aliases.begin(); it != m.aliases.end(); ++it)
            aliases << QStringLiteral("%1\u2192v%2").arg(it.key()).arg(it.value());
        top->setText(1, aliases.join(QStringLiteral(" ")));
        top->setText(2, QStringLiteral("%1 version%2").arg(m.versions.size()).arg(m.versions.size() == 1 ? QString() : QStringLiteral("s")));
        top->setData(0, kRefRole, m.name);
        QFont bold = top->font(0);
        bold.setBold(true);
        top->setFont(0, bold);
        for (auto it = m.versions.rbegin(); it != m.versions.rend(); ++it) {
            auto *item = new QTreeWidgetItem(top, {QStringLiteral("v%1  %2").arg(it->version).arg(it->runName),
                                                   m.aliasesOf(it->version).join(QStringLiteral(", ")), when(it->registered),
                                                   headline(*it), it->approvals.empty() ? QString() : QStringLiteral("\u2713")});
            item->setData(0, kRefRole, it->ref());
            item->setToolTip(0, it->message);
            ++versions;
        }
        top->setExpanded(true);
    }
    m_summary->setText(m_snapshot.models.empty()
                           ? QStringLiteral("<b>Model registry</b> \u00b7 empty: register a finished run from the Experiments "
                                            "area (Register as Model\u2026) or with keel models register RUN --name NAME")
                           : QStringLiteral("<b>Model registry</b> \u00b7 %1 model%2, %3 version%4")
                                 .arg(m_snapshot.models.size())
                                 .arg(m_snapshot.models.size() == 1 ? QString() : QStringLiteral("s"))
                                 .arg(versions)
                                 .arg(versions == 1 ? QString() : QStringLiteral("s")));
    m_pendingSelection.clear();
    if (!keep.isEmpty() && selectVersion(keep))
        return;
    if (m_tree->topLevelItemCount() > 0)
        m_tree->setCurrentItem(m_tree->topLevelItem(0)->childCount() ? m_tree->topLevelItem(0)->child(0) : m_tree->topLevelItem(0));
    else
        showSelection();
}

bool RegistryView::selectVersion(const QString &ref)
{
    for (int i = 0; i < m_tree->topLevelItemCount(); ++i) {
        QTreeWidgetItem *top = m_tree->topLevelItem(i);
        for (int j = 0; j < top->childCount(); ++j)
            if (top->child(j)->data(0, kRefRole).toString() == ref) {
                m_tree->setCurrentItem(top->child(j));
                return true;
            }
    }
    if (m_busy)
        m_pendingSelection = ref;
    return false;
}

std::optional<registry::ModelVersion> RegistryView::currentVersion() const
{
    const QTreeWidgetItem *item = m_tree->currentItem();
    if (!item || !item->parent())
        return std::nullopt;
    const QString ref = item->data(0, kRefRole).toString();
    for (const registry::RegisteredModel &m : m_snapshot.models)
        for (const registry::ModelVersion &v : m.versions)
            if (v.ref() == ref)
                return v;
    return std::nullopt;
}

void RegistryView::showSelection()
{
    const QTreeWidgetItem *item = m_tree->currentItem();
    const auto v = currentVersion();
    for (QPushButton *b : {m_alias, m_approve, m_compare})
        b->setEnabled(v.has_value());
    QString modelName = item ? (item->parent() ? item->parent()->data(0, kRefRole).toString() : item->data(0, kRefRole).toString()) : QString();
    const registry::RegisteredModel *model = nullptr;
    for (const registry::RegisteredModel &m : m_snapshot.models)
        if (m.name == modelName)
            model = &m;
    if (!model) {
        m_details->setHtml(QStringLiteral("<p>%1</p>").arg(m_snapshot.models.empty() ? QStringLiteral("No registered models yet.")
                                                                                     : QStringLiteral("Select a version.")));
        m_timeline->setRowCount(0);
        m_timelineChart->setMessage(QStringLiteral("No model selected"));
        return;
    }
    m_details->setHtml(v ? cardHtml(*v, model->aliasesOf(v->version))
                         : QStringLiteral("<h3>%1</h3><p>%2 versions. Select one to see its card.</p>")
                               .arg(model->name.toHtmlEscaped())
                               .arg(model->versions.size()));
    const std::vector<registry::AliasMove> moves = m_snapshot.history[model->name];
    m_timeline->setRowCount(int(moves.size()));
    for (int r = 0; r < int(moves.size()); ++r) {
        const registry::AliasMove &m = moves[size_t(moves.size()) - 1 - size_t(r)];   // newest first
        const QStringList cells = {when(m.time), m.alias, m.from ? QStringLiteral("v%1").arg(m.from) : QStringLiteral("\u2013"),
                                   m.to ? QStringLiteral("v%1").arg(m.to) : QStringLiteral("(removed)"),
                                   m.message.section(QLatin1Char('\n'), 0, 0), m.author};
        for (int c = 0; c < cells.size(); ++c)
            m_timeline->setItem(r, c, new QTableWidgetItem(cells[c]));
    }
    m_timeline->resizeColumnsToContents();
    const int versions = int(model->versions.size());
    m_timelineChart->setBuilder([moves, versions](const QPalette &p) {
        return makeAliasTimelineChart(moves, versions, QDateTime::currentDateTimeUtc(), p);
    });
}

void RegistryView::moveAlias(const QString &versionRef, const QString &alias, const QString &message)
{
    const QString root = m_root;
    m_tasks->start<QString>(
        QStringLiteral("Point %1 at %2").arg(alias, versionRef), QStringLiteral("registry-change"),
        [root, versionRef, alias, message](Feedback &) -> Expected<QString> {
            auto ws = workspace::Workspace::open(root);
            if (!ws)
                return ws.error();
            return registry::moveAlias(**ws, versionRef, alias, message);
        },
        this,
        [this, versionRef, alias](Expected<QString> &&commit) {
            const QString text = commit ? QStringLiteral("%1 now points at %2 (commit %3)").arg(alias, versionRef, commit->left(10))
                                        : commit.error().toString();
            emit statusMessage(text);
            emit changeFinished(commit.hasValue(), text);
            refresh();
        });
}

void RegistryView::approve(const QString &versionRef, const QString &message)
{
    const QString root = m_root;
    m_tasks->start<QString>(
        QStringLiteral("Approve %1").arg(versionRef), QStringLiteral("registry-change"),
        [root, versionRef, message](Feedback &) -> Expected<QString> {
            auto ws = workspace::Workspace::open(root);
            if (!ws)
                return ws.error();
            return registry::approveVersion(**ws, versionRef, message);
        },
        this,
        [this, versionRef](Expected<QString> &&commit) {
            const QString text = commit ? QStringLiteral("Approved %1 (commit %2)").arg(versionRef, commit->left(10)) : commit.error().toString();
            emit statusMessage(text);
            emit changeFinished(commit.hasValue(), text);
            refresh();
        });
}

MoveAliasDialog *RegistryView::showMoveAliasDialog()
{
    const auto v = currentVersion();
    if (!v)
        return nullptr;
    QStringList aliases;
    for (const registry::RegisteredModel &m : m_snapshot.models)
        if (m.name == v->name)
            aliases = m.aliases.keys();
    auto *dialog = new MoveAliasDialog(v->ref(), aliases, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &QDialog::accepted, this, [this, dialog, ref = v->ref()] { moveAlias(ref, dialog->alias(), dialog->message()); });
    dialog->open();
    return dialog;
}

ApproveDialog *RegistryView::showApproveDialog()
{
    const auto v = currentVersion();
    if (!v)
        return nullptr;
    auto *dialog = new ApproveDialog(v->ref(), this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &QDialog::accepted, this, [this, dialog, ref = v->ref()] { approve(ref, dialog->message()); });
    dialog->open();
    return dialog;
}

} // namespace keel::ui
