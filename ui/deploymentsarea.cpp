#include "deploymentsarea.h"

#include "emptystate.h"
#include "explaincharts.h"
#include "registrycharts.h"
#include "taskmanager.h"
#include "workspace/workspace.h"

#include <QtCharts/QChart>

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QMessageBox>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QPushButton>
#include <QSplitter>
#include <QStackedLayout>
#include <QTableWidget>
#include <QVBoxLayout>

namespace keel::ui {

namespace {

QTableWidget *makeTable(const QStringList &headers, const QString &name, QWidget *parent)
{
    auto *t = new QTableWidget(0, int(headers.size()), parent);
    t->setObjectName(name);
    t->setHorizontalHeaderLabels(headers);
    t->verticalHeader()->hide();
    t->setEditTriggers(QAbstractItemView::NoEditTriggers);
    t->setSelectionBehavior(QAbstractItemView::SelectRows);
    t->setSelectionMode(QAbstractItemView::SingleSelection);
    t->horizontalHeader()->setStretchLastSection(true);
    return t;
}

QTableWidgetItem *item(const QString &text)
{
    auto *i = new QTableWidgetItem(text);
    i->setToolTip(text);
    return i;
}

QString servedText(const deploy::Deployment &d)
{
    QString s = d.model.version;
    if (d.shadow.isSet())
        s += QStringLiteral(" · shadow %1").arg(d.shadow.version);
    if (d.canary.isSet())
        s += QStringLiteral(" · canary %1 (%2%)").arg(d.canary.version).arg(100 * d.canaryShare);
    return s;
}

int versionNumber(const QString &ref) { return ref.section(QStringLiteral("@v"), -1).toInt(); }

QString when(const QDateTime &t) { return t.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")); }

} // namespace

Expected<DeploymentsSnapshot> readDeployments(const QString &root, Feedback *)
{
    auto ws = workspace::Workspace::open(root);
    if (!ws)
        return ws.error();
    DeploymentsSnapshot s;
    auto list = deploy::listDeployments(**ws);
    if (!list)
        return list.error();
    s.deployments = std::move(*list);
    for (const deploy::Deployment &d : s.deployments) {
        auto h = deploy::deploymentHistory(**ws, d.name);
        if (!h)
            return h.error();
        s.history[d.name] = std::move(*h);
    }
    auto names = registry::listModels(**ws);
    if (!names)
        return names.error();
    for (const QString &n : *names) {
        auto m = registry::loadModel(**ws, n);
        if (!m)
            return m.error();
        for (auto it = m->aliases.begin(); it != m->aliases.end(); ++it)
            s.modelRefs << QStringLiteral("%1@%2").arg(n, it.key());
        for (auto v = m->versions.rbegin(); v != m->versions.rend(); ++v)
            s.modelRefs << v->ref();
    }
    return s;
}

// ---- deploy dialog ------------------------------------------------------------------------------------------------

DeployDialog::DeployDialog(TaskManager *tasks, const QString &root, const DeploymentsSnapshot &snapshot, const QString &deployment,
                           QWidget *parent)
    : QDialog(parent), m_tasks(tasks), m_root(root), m_name(new QLineEdit(deployment, this)), m_model(new QComboBox(this)),
      m_shadow(new QComboBox(this)), m_tolerance(new QDoubleSpinBox(this)), m_message(new QLineEdit(this)),
      m_gates(makeTable({QStringLiteral("Gate"), QStringLiteral("Result"), QStringLiteral("Detail")}, QStringLiteral("deployGates"), this)),
      m_verdict(new QLabel(this)), m_check(new QPushButton(QStringLiteral("Check Gates"), this)),
      m_deploy(new QPushButton(QStringLiteral("Deploy"), this))
{
    setWindowTitle(QStringLiteral("Deploy a Model"));
    m_name->setPlaceholderText(QStringLiteral("e.g. credit"));
    m_model->addItems(snapshot.modelRefs);
    m_shadow->addItem(QStringLiteral("(none)"), QString());
    for (const QString &r : snapshot.modelRefs)
        m_shadow->addItem(r, r);
    m_tolerance->setRange(0, 1);
    m_tolerance->setDecimals(3);
    m_tolerance->setSingleStep(0.005);
    m_tolerance->setValue(0.005);
    m_tolerance->setToolTip(QStringLiteral("How much worse than the served model the candidate may be (ROC AUC or accuracy; a share of RMSE)"));
    m_message->setPlaceholderText(QStringLiteral("why (recorded in the commit)"));
    m_gates->setColumnWidth(0, 110);
    m_gates->setColumnWidth(1, 80);
    m_gates->setWordWrap(true);
    m_verdict->setWordWrap(true);
    m_deploy->setEnabled(false);
    m_deploy->setDefault(true);
    auto *form = new QFormLayout;
    form->addRow(QStringLiteral("Deployment:"), m_name);
    form->addRow(QStringLiteral("Model:"), m_model);
    form->addRow(QStringLiteral("Shadow:"), m_shadow);
    form->addRow(QStringLiteral("Tolerance:"), m_tolerance);
    form->addRow(QStringLiteral("Why:"), m_message);
    auto *buttons = new QDialogButtonBox(this);
    buttons->addButton(m_check, QDialogButtonBox::ActionRole);
    buttons->addButton(m_deploy, QDialogButtonBox::AcceptRole);
    buttons->addButton(QDialogButtonBox::Cancel);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(new QLabel(QStringLiteral("<b>Gates</b> — all must pass before the switch"), this));
    layout->addWidget(m_gates, 1);
    layout->addWidget(m_verdict);
    layout->addWidget(buttons);
    resize(860, 460);
    // Any change invalidates the last check.
    const auto invalidate = [this] {
        m_deploy->setEnabled(false);
        m_verdict->setText(QStringLiteral("Check the gates to deploy."));
    };
    connect(m_name, &QLineEdit::textChanged, this, invalidate);
    connect(m_model, &QComboBox::currentTextChanged, this, invalidate);
    connect(m_shadow, &QComboBox::currentIndexChanged, this, invalidate);
    connect(m_tolerance, &QDoubleSpinBox::valueChanged, this, invalidate);
    connect(m_check, &QPushButton::clicked, this, [this] { run(true); });
    connect(m_deploy, &QPushButton::clicked, this, [this] { run(false); });
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    invalidate();
}

deploy::DeployRequest DeployDialog::request() const
{
    deploy::DeployRequest r;
    r.name = m_name->text().trimmed();
    r.model = m_model->currentText();
    r.shadow = m_shadow->currentData().toString();
    r.tolerance = m_tolerance->value();
    r.message = m_message->text().trimmed();
    return r;
}

void DeployDialog::run(bool dryRun)
{
    deploy::DeployRequest r = request();
    r.dryRun = dryRun;
    const QString root = m_root;
    m_check->setEnabled(false);
    m_deploy->setEnabled(false);
    m_verdict->setText(dryRun ? QStringLiteral("Checking the gates…") : QStringLiteral("Deploying…"));
    m_tasks->start<deploy::DeployOutcome>(
        dryRun ? QStringLiteral("Check the gates of %1 for %2").arg(r.model, r.name) : QStringLiteral("Deploy %1 to %2").arg(r.model, r.name),
        QStringLiteral("deploy"),
        [root, r](Feedback &fb) -> Expected<deploy::DeployOutcome> {
            auto ws = workspace::Workspace::open(root);
            if (!ws)
                return ws.error();
            return deploy::deployModel(**ws, r, &fb);
        },
        this,
        [this, dryRun](Expected<deploy::DeployOutcome> &&out) {
            m_check->setEnabled(true);
            if (!out) {
                m_outcome.reset();
                m_gates->setRowCount(0);
                m_verdict->setText(out.error().toString().toHtmlEscaped());
                emit checked();
                return;
            }
            m_outcome = *out;
            showGates(*out);
            if (!dryRun && out->deployed) {
                const QString text = QStringLiteral("%1 now serves %2 (revision %3)")
                                         .arg(out->deployment.name, servedText(out->deployment))
                                         .arg(out->deployment.revision);
                emit deployed(text);
                accept();
                return;
            }
            emit checked();
        });
}

void DeployDialog::showGates(const deploy::DeployOutcome &out)
{
    m_gates->setRowCount(int(out.gates.size()));
    for (int i = 0; i < int(out.gates.size()); ++i) {
        const deploy::GateResult &g = out.gates[size_t(i)];
        auto *state = item(g.skipped ? QStringLiteral("skipped") : g.passed ? QStringLiteral("passed") : QStringLiteral("FAILED"));
        state->setForeground(g.passed ? QColor(0x2e, 0x9d, 0x4f) : QColor(0xd0, 0x3a, 0x3a));
        m_gates->setItem(i, 0, item(g.gate));
        m_gates->setItem(i, 1, state);
        m_gates->setItem(i, 2, item(g.detail));
    }
    m_gates->resizeRowsToContents();
    if (out.unchanged) {
        m_verdict->setText(QStringLiteral("The deployment already serves exactly this; nothing to switch."));
        m_deploy->setEnabled(false);
    } else if (out.gatesPassed()) {
        m_verdict->setText(QStringLiteral("<b>Every gate passes.</b> Deploy switches %1 to %2 as one commit.").arg(request().name, request().model));
        m_deploy->setEnabled(true);
    } else {
        m_verdict->setText(QStringLiteral("<b>A gate failed</b>: nothing can be switched."));
        m_deploy->setEnabled(false);
    }
}

// ---- the area -----------------------------------------------------------------------------------------------------

DeploymentsArea::DeploymentsArea(TaskManager *tasks, QWidget *parent)
    : QWidget(parent), m_tasks(tasks),
      m_empty(new EmptyState(QStringLiteral("No deployments yet"),
                             QStringLiteral("A deployment serves a registered model version under a name. Deploy… (or keel deploy "
                                            "NAME --model MODEL@ALIAS) checks its gates and switches; keel serve answers it over HTTP."),
                             this)),
      m_main(new QWidget(this)), m_summary(new QLabel(this)),
      m_list(makeTable({QStringLiteral("Deployment"), QStringLiteral("Revision"), QStringLiteral("Serves"), QStringLiteral("Why")},
                       QStringLiteral("deploymentsList"), this)),
      m_detail(new QLabel(this)),
      m_history(makeTable({QStringLiteral("Revision"), QStringLiteral("When"), QStringLiteral("Serves"), QStringLiteral("Action"),
                           QStringLiteral("Who"), QStringLiteral("Why")},
                          QStringLiteral("deploymentHistory"), this)),
      m_timeline(new ExplainChartView(this)), m_url(new QLineEdit(QStringLiteral("http://127.0.0.1:8080"), this)),
      m_serverState(new QLabel(this)), m_deployButton(new QPushButton(QStringLiteral("Deploy…"), this)),
      m_rollbackButton(new QPushButton(QStringLiteral("Roll Back to Revision…"), this)), m_net(new QNetworkAccessManager(this))
{
    m_summary->setTextFormat(Qt::RichText);
    m_detail->setTextFormat(Qt::RichText);
    m_detail->setWordWrap(true);
    m_serverState->setObjectName(QStringLiteral("serverState"));
    m_serverState->setTextFormat(Qt::RichText);
    m_serverState->setWordWrap(true);
    m_url->setToolTip(QStringLiteral("Where keel serve runs; its /metrics page is read every two seconds"));
    m_url->setMinimumWidth(m_url->fontMetrics().horizontalAdvance(QStringLiteral("http://127.0.0.1:65535")) + 24);
    m_rollbackButton->setToolTip(QStringLiteral("Serve what the selected revision served again (a new revision)"));
    m_list->setColumnWidth(0, 110);
    m_list->setColumnWidth(1, 70);
    m_list->setColumnWidth(2, 260);
    m_history->setColumnWidth(0, 70);
    m_history->setColumnWidth(1, 140);
    m_history->setColumnWidth(2, 240);
    m_history->setColumnWidth(3, 110);
    m_history->setColumnWidth(4, 140);

    auto *top = new QHBoxLayout;
    top->addWidget(m_summary, 1);
    top->addWidget(m_deployButton);
    top->addWidget(m_rollbackButton);
    auto *server = new QHBoxLayout;
    server->addWidget(new QLabel(QStringLiteral("Server:"), this));
    server->addWidget(m_url);
    server->addWidget(m_serverState, 1);
    auto *right = new QSplitter(Qt::Vertical, this);
    auto *detailBox = new QWidget(this);
    auto *detailLayout = new QVBoxLayout(detailBox);
    detailLayout->setContentsMargins(0, 0, 0, 0);
    detailLayout->addWidget(m_detail);
    detailLayout->addWidget(m_timeline, 1);
    right->addWidget(detailBox);
    right->addWidget(m_history);
    right->setStretchFactor(0, 3);
    right->setStretchFactor(1, 2);
    auto *split = new QSplitter(Qt::Horizontal, this);
    split->addWidget(m_list);
    split->addWidget(right);
    split->setStretchFactor(0, 2);
    split->setStretchFactor(1, 3);
    auto *mainLayout = new QVBoxLayout(m_main);
    mainLayout->setContentsMargins(4, 4, 4, 4);
    mainLayout->addLayout(top);
    mainLayout->addLayout(server);
    mainLayout->addWidget(split, 1);
    auto *stack = new QStackedLayout(this);
    stack->addWidget(m_empty);
    stack->addWidget(m_main);

    connect(m_list, &QTableWidget::itemSelectionChanged, this, &DeploymentsArea::showDeployment);
    connect(m_history, &QTableWidget::itemSelectionChanged, this, [this] {
        m_rollbackButton->setEnabled(!m_history->selectedItems().isEmpty());
    });
    connect(m_deployButton, &QPushButton::clicked, this, &DeploymentsArea::openDeployDialog);
    connect(m_rollbackButton, &QPushButton::clicked, this, [this] {
        const auto rows = m_history->selectionModel()->selectedRows();
        if (rows.isEmpty())
            return;
        const int revision = m_history->item(rows.front().row(), 0)->text().toInt();
        bool ok = false;
        const QString why = QInputDialog::getText(this, QStringLiteral("Roll Back"),
                                                  QStringLiteral("Serve what revision %1 of %2 served again. Why?").arg(revision).arg(currentDeployment()),
                                                  QLineEdit::Normal, QString(), &ok);
        if (ok)
            rollbackTo(revision, why);
    });
    connect(m_url, &QLineEdit::editingFinished, this, [this] {
        m_lastMetrics.reset();
        pollServer();
    });
    m_poll.setInterval(2000);
    connect(&m_poll, &QTimer::timeout, this, &DeploymentsArea::pollServer);
    m_rollbackButton->setEnabled(false);
    m_deployButton->setEnabled(false);
    stack->setCurrentIndex(0);
}

void DeploymentsArea::setWorkspaceRoot(const QString &root)
{
    m_root = root;
    m_snapshot = {};
    rebuild();
    m_deployButton->setEnabled(!root.isEmpty());
    if (!root.isEmpty())
        refresh();
}

void DeploymentsArea::refresh()
{
    if (m_root.isEmpty())
        return;
    const QString root = m_root;
    m_tasks->start<DeploymentsSnapshot>(
        QStringLiteral("Read the deployments"), QStringLiteral("deployments"), [root](Feedback &fb) { return readDeployments(root, &fb); },
        this, [this, root](Expected<DeploymentsSnapshot> &&s) {
            if (root != m_root)
                return;
            if (!s) {
                m_summary->setText(QStringLiteral("<b>Deployments</b> · could not be read: %1").arg(s.error().toString().toHtmlEscaped()));
                emit loaded();
                return;
            }
            const QString keep = currentDeployment();
            m_snapshot = std::move(*s);
            rebuild();
            if (!keep.isEmpty())
                selectDeployment(keep);
            emit loaded();
        });
}

void DeploymentsArea::rebuild()
{
    auto *stack = static_cast<QStackedLayout *>(layout());
    m_empty->setText(m_root.isEmpty() ? QStringLiteral("Open a workspace to see its deployments.")
                                      : QStringLiteral("A deployment serves a registered model version under a name. Deploy… (or keel "
                                                       "deploy NAME --model MODEL@ALIAS) checks its gates and switches; keel serve "
                                                       "answers it over HTTP."));
    // The empty state has its own Deploy… entry through the main page: show the page as soon as a model exists.
    stack->setCurrentIndex(m_snapshot.deployments.empty() && m_snapshot.modelRefs.isEmpty() ? 0 : 1);
    m_summary->setText(QStringLiteral("<b>Deployments</b> · %1").arg(m_snapshot.deployments.empty()
                                                                          ? QStringLiteral("none yet — Deploy… puts a registered model behind a name")
                                                                          : QString::number(m_snapshot.deployments.size())));
    m_list->setRowCount(int(m_snapshot.deployments.size()));
    for (int i = 0; i < int(m_snapshot.deployments.size()); ++i) {
        const deploy::Deployment &d = m_snapshot.deployments[size_t(i)];
        m_list->setItem(i, 0, item(d.name));
        auto *rev = item(QString::number(d.revision));
        rev->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
        m_list->setItem(i, 1, rev);
        m_list->setItem(i, 2, item(servedText(d)));
        m_list->setItem(i, 3, item(d.message));
    }
    if (m_list->rowCount() > 0 && m_list->selectedItems().isEmpty())
        m_list->selectRow(0);
    showDeployment();
}

bool DeploymentsArea::selectDeployment(const QString &name)
{
    for (int i = 0; i < m_list->rowCount(); ++i)
        if (m_list->item(i, 0)->text() == name) {
            m_list->selectRow(i);
            return true;
        }
    return false;
}

QString DeploymentsArea::currentDeployment() const
{
    const auto rows = m_list->selectionModel() ? m_list->selectionModel()->selectedRows() : QModelIndexList();
    return rows.isEmpty() ? QString() : m_list->item(rows.front().row(), 0)->text();
}

void DeploymentsArea::showDeployment()
{
    const QString name = currentDeployment();
    const auto it = m_snapshot.history.find(name);
    m_history->setRowCount(0);
    m_rollbackButton->setEnabled(false);
    if (name.isEmpty() || it == m_snapshot.history.end()) {
        m_detail->setText(QString());
        m_timeline->setMessage(QStringLiteral("No deployment selected"));
        return;
    }
    const std::vector<deploy::Deployment> &history = it->second;
    const deploy::Deployment &d = history.back();
    QStringList gates;
    for (const deploy::GateResult &g : d.gates)
        gates << QStringLiteral("%1 %2").arg(g.gate, g.skipped ? QStringLiteral("skipped") : g.passed ? QStringLiteral("✓") : QStringLiteral("✗"));
    m_detail->setText(QStringLiteral("<b>%1</b> · revision %2 · serves <b>%3</b>%4%5<br>gates at the last switch: %6")
                          .arg(d.name.toHtmlEscaped())
                          .arg(d.revision)
                          .arg(d.model.version.toHtmlEscaped(),
                               d.model.requested != d.model.version ? QStringLiteral(" (%1)").arg(d.model.requested.toHtmlEscaped()) : QString(),
                               d.shadow.isSet() ? QStringLiteral(" · shadow %1").arg(d.shadow.version.toHtmlEscaped()) : QString(),
                               gates.join(QStringLiteral(" · ")).toHtmlEscaped()));
    m_history->setRowCount(int(history.size()));
    std::vector<registry::AliasMove> moves;
    int maxVersion = 1, lastModel = 0, lastShadow = 0;
    for (int i = 0; i < int(history.size()); ++i) {
        const deploy::Deployment &h = history[size_t(i)];
        const int row = int(history.size()) - 1 - i;   // newest first
        m_history->setItem(row, 0, item(QString::number(h.revision)));
        m_history->setItem(row, 1, item(when(h.time)));
        m_history->setItem(row, 2, item(servedText(h)));
        m_history->setItem(row, 3, item(h.rolledBackTo ? QStringLiteral("rollback to %1").arg(*h.rolledBackTo) : QStringLiteral("deploy")));
        m_history->setItem(row, 4, item(h.author.section(QLatin1Char('<'), 0, 0).trimmed()));
        m_history->setItem(row, 5, item(h.message));
        const int model = versionNumber(h.model.version), shadow = h.shadow.isSet() ? versionNumber(h.shadow.version) : 0;
        maxVersion = std::max({maxVersion, model, shadow});
        if (model != lastModel)
            moves.push_back({QStringLiteral("served"), lastModel, model, h.time, h.author, h.message, h.commit});
        if (shadow != lastShadow)
            moves.push_back({QStringLiteral("shadow"), lastShadow, shadow, h.time, h.author, h.message, h.commit});
        lastModel = model;
        lastShadow = shadow;
    }
    m_timeline->setBuilder([moves, maxVersion](const QPalette &p) {
        QChart *c = makeAliasTimelineChart(moves, maxVersion, QDateTime::currentDateTimeUtc(), p);
        c->setTitle(QStringLiteral("Served versions over time"));
        return c;
    });
}

DeployDialog *DeploymentsArea::openDeployDialog()
{
    auto *dialog = new DeployDialog(m_tasks, m_root, m_snapshot, currentDeployment(), this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &DeployDialog::deployed, this, [this](const QString &text) {
        emit statusMessage(text);
        emit changeFinished(true, text);
        refresh();
    });
    dialog->open();
    return dialog;
}

void DeploymentsArea::rollbackTo(int revision, const QString &message)
{
    const QString root = m_root, name = currentDeployment();
    if (name.isEmpty())
        return;
    m_tasks->start<deploy::DeployOutcome>(
        QStringLiteral("Roll %1 back to revision %2").arg(name).arg(revision), QStringLiteral("deploy"),
        [root, name, revision, message](Feedback &) -> Expected<deploy::DeployOutcome> {
            auto ws = workspace::Workspace::open(root);
            if (!ws)
                return ws.error();
            return deploy::rollback(**ws, name, revision, message);
        },
        this,
        [this, name](Expected<deploy::DeployOutcome> &&out) {
            const bool ok = out && out->deployed;
            const QString text = !out ? out.error().toString()
                                 : ok ? QStringLiteral("%1 now serves %2 (revision %3)").arg(name, servedText(out->deployment)).arg(out->deployment.revision)
                                      : QStringLiteral("%1 was not rolled back: a bundle failed its check").arg(name);
            emit statusMessage(text);
            emit changeFinished(ok, text);
            refresh();
        });
}

void DeploymentsArea::pollServer()
{
    const QUrl url(m_url->text().trimmed() + QStringLiteral("/metrics"));
    if (!url.isValid() || url.scheme().isEmpty()) {
        m_serverState->setText(QStringLiteral("not a server address"));
        return;
    }
    QNetworkRequest request(url);
    request.setTransferTimeout(1500);
    QNetworkReply *reply = m_net->get(request);
    connect(reply, &QNetworkReply::finished, this, [this, reply] {
        reply->deleteLater();
        if (reply->error() != QNetworkReply::NoError) {
            m_lastMetrics.reset();
            m_serverState->setText(QStringLiteral("<b>not serving</b> — %1 (start it with <tt>keel serve</tt>)").arg(reply->errorString().toHtmlEscaped()));
            emit serverPolled();
            return;
        }
        const auto metrics = serve::parseMetricsText(reply->readAll());
        const QString name = currentDeployment();
        const double seconds = m_lastPoll.isValid() ? double(m_lastPoll.restart()) / 1000.0 : 0.0;
        if (!m_lastPoll.isValid())
            m_lastPoll.start();
        if (!metrics.contains(name)) {
            m_serverState->setText(QStringLiteral("serving %1, not %2").arg(QStringList(metrics.keys()).join(QStringLiteral(", ")), name.toHtmlEscaped()));
        } else {
            const serve::DeploymentMetrics &m = metrics[name];
            QString rate = QStringLiteral("–");
            QString latency = m.requests > 0 ? QStringLiteral("%1 ms mean").arg(QLocale::c().toString(1000 * m.latencySum / double(m.requests), 'f', 2))
                                             : QStringLiteral("–");
            if (m_lastMetrics && m_lastMetrics->contains(name) && seconds > 0) {
                const serve::DeploymentMetrics &before = (*m_lastMetrics)[name];
                const qint64 n = m.requests - before.requests;
                rate = QLocale::c().toString(double(n) / seconds, 'f', 1);
                if (n > 0)
                    latency = QStringLiteral("%1 ms mean").arg(QLocale::c().toString(1000 * (m.latencySum - before.latencySum) / double(n), 'f', 2));
            }
            m_serverState->setText(QStringLiteral("<b>serving</b> revision %1 (%2) · %3 requests/s · %4 · %5 errors of %6 requests · "
                                                  "%7 feedback · shadow disagreed on %8 of %9")
                                       .arg(m.revision)
                                       .arg(m.version.toHtmlEscaped(), rate, latency)
                                       .arg(m.errors)
                                       .arg(m.requests)
                                       .arg(m.feedback)
                                       .arg(m.shadowDisagreed)
                                       .arg(m.shadowCompared));
        }
        m_lastMetrics = metrics;
        emit serverPolled();
    });
}

void DeploymentsArea::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    m_poll.start();
    pollServer();
}

void DeploymentsArea::hideEvent(QHideEvent *event)
{
    QWidget::hideEvent(event);
    m_poll.stop();
}

} // namespace keel::ui
