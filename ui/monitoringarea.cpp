#include "monitoringarea.h"

#include "charts.h"
#include "emptystate.h"
#include "explaincharts.h"
#include "taskmanager.h"

#include "data/diff.h"
#include "deploy/deployment.h"
#include "monitor/windows.h"
#include "serve/predictionlog.h"
#include "serve/server.h"
#include "util/fileutil.h"
#include "workspace/workspace.h"

#include <QtCharts/QAreaSeries>
#include <QtCharts/QCategoryAxis>
#include <QtCharts/QChart>
#include <QtCharts/QLegend>
#include <QtCharts/QLineSeries>
#include <QtCharts/QValueAxis>

#include <QComboBox>
#include <QDir>
#include <QFileInfo>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QHelpEvent>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QMouseEvent>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QPainter>
#include <QPushButton>
#include <QSplitter>
#include <QStackedLayout>
#include <QTabWidget>
#include <QTableWidget>
#include <QToolTip>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <map>

namespace keel::ui {

namespace {

QString num(double v, int decimals = 3) { return std::isfinite(v) ? QString::number(v, 'f', decimals) : QStringLiteral("–"); }

QString duration(qint64 seconds)
{
    if (seconds < 120)
        return QStringLiteral("%1 s").arg(seconds);
    if (seconds < 7200)
        return QStringLiteral("%1 min").arg(seconds / 60);
    if (seconds < 2 * 86400)
        return QStringLiteral("%1 h %2 min").arg(seconds / 3600).arg((seconds % 3600) / 60);
    return QStringLiteral("%1 d %2 h").arg(seconds / 86400).arg((seconds % 86400) / 3600);
}

/// The metric a performance chart follows: ROC AUC for binary models, accuracy for multiclass, RMSE for regression.
QString headlineMetric(const QString &task)
{
    return task == u"binary" ? QStringLiteral("roc_auc") : task == u"multiclass" ? QStringLiteral("accuracy") : QStringLiteral("rmse");
}

const monitor::MetricValue *findMetric(const std::vector<monitor::MetricValue> &values, const QString &metric)
{
    for (const monitor::MetricValue &m : values)
        if (m.metric == metric)
            return &m;
    return nullptr;
}

/// Window labels on a category axis at positions 1..n (every k-th when there are many).
QCategoryAxis *windowAxis(const QStringList &labels)
{
    auto *x = new QCategoryAxis;
    x->setLabelsPosition(QCategoryAxis::AxisLabelsPositionOnValue);
    const int n = int(labels.size());
    const int step = std::max(1, (n + 11) / 12);
    for (int i = 0; i < n; i += step)
        x->append(labels[i], i + 1);
    x->setRange(0.5, n + 0.5);
    x->setTitleText(QStringLiteral("window"));
    return x;
}

QColor levelColor(const QString &level)
{
    if (level == u"large")
        return QColor(214, 39, 40);
    if (level == u"moderate")
        return QColor(230, 150, 20);
    return QColor(46, 160, 67);
}

QTableWidgetItem *item(const QString &text)
{
    auto *i = new QTableWidgetItem(text);
    i->setToolTip(text);
    return i;
}

/// Whether process `pid` runs on this machine.
bool processAlive(qint64 pid) { return pid > 0 && QFileInfo::exists(QStringLiteral("/proc/%1").arg(pid)); }

} // namespace

Expected<MonitoringSnapshot> readMonitoring(const QString &root, const QString &deployment, const QString &window, Feedback *feedback)
{
    auto ws = workspace::Workspace::open(root);
    if (!ws)
        return ws.error();
    MonitoringSnapshot s;
    auto deployments = deploy::listDeployments(**ws);
    if (!deployments)
        return deployments.error();
    for (const deploy::Deployment &d : *deployments)
        s.deployments << d.name;
    if (s.deployments.isEmpty())
        return s;
    s.deployment = s.deployments.contains(deployment) ? deployment : s.deployments.front();

    auto log = serve::readPredictionLog(serve::predictionLogDir(root, s.deployment));
    if (!log)
        return log.error();
    s.predictions = qint64(log->size());
    if (auto names = monitor::listMonitors(**ws))
        for (const QString &name : *names)
            if (auto m = monitor::loadMonitor(**ws, name); m && m->deployment == s.deployment) {
                s.monitors << name;
                if (window == u"auto" && s.window.isEmpty()) {
                    s.window = m->window;
                    s.windowSource = QStringLiteral("from monitors/%1.yaml").arg(name);
                }
            }
    if (window != u"auto") {
        s.window = window;
        s.windowSource = QStringLiteral("chosen");
    } else if (s.window.isEmpty()) {
        const qint64 per = std::max<qint64>(10, (s.predictions + 11) / 12);
        s.window = QString::number(per);
        s.windowSource = QStringLiteral("automatic: about 12 windows of %1 predictions").arg(per);
    }
    auto windows = monitor::windowLog(*log, s.window);
    if (!windows)
        return windows.error();
    if (!windows->empty()) {
        const monitor::LogWindow &w = windows->back();
        s.newestWindow = w.label;
        s.newestCount = qint64(w.predictions.size());
        const double minutes = double(w.start.msecsTo(w.end)) / 60000.0;
        if (minutes > 0)
            s.perMinute = double(s.newestCount) / minutes;
        s.p50 = monitor::latencyQuantile(w, 0.5);
        s.p99 = monitor::latencyQuantile(w, 0.99);
    }
    if (s.predictions > 0) {
        monitor::DriftRequest dr;
        dr.deployment = s.deployment;
        dr.window = s.window;
        dr.log = &*log;   // read once above, for the snapshot and both reports
        if (auto d = monitor::driftReport(**ws, dr, feedback))
            s.drift = std::move(*d);
        else
            s.driftError = d.error().toString();
        monitor::PerformanceRequest pr;
        pr.deployment = s.deployment;
        pr.window = s.window;
        pr.log = &*log;
        if (auto p = monitor::performanceReport(**ws, pr, feedback))
            s.performance = std::move(*p);
        else
            s.performanceError = p.error().toString();
    }
    if (auto alerts = monitor::listAlerts(**ws)) {
        for (auto it = alerts->rbegin(); it != alerts->rend(); ++it)
            if (it->deployment == s.deployment)
                s.alerts.push_back(*it);
    }
    if (auto bytes = readFile(serve::serverInfoPath(root)); bytes) {
        const QJsonObject info = QJsonDocument::fromJson(*bytes).object();
        if (processAlive(info.value(QStringLiteral("pid")).toInteger())) {
            s.serverUrl = info.value(QStringLiteral("url")).toString();
            s.serverStarted = QDateTime::fromString(info.value(QStringLiteral("started")).toString(), Qt::ISODateWithMs);
        }
    }
    return s;
}

// ---- heat map -------------------------------------------------------------------------------------------------

DriftHeatMap::DriftHeatMap(QWidget *parent) : QWidget(parent)
{
    setObjectName(QStringLiteral("driftHeatMap"));
    setMouseTracking(true);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
}

void DriftHeatMap::setReport(const std::optional<monitor::DriftReport> &report)
{
    m_report = report;
    m_features.clear();
    m_windows.clear();
    m_cells.clear();
    if (m_report) {
        std::map<QString, double> worst;
        QStringList order;
        for (const monitor::DriftWindow &w : m_report->windows) {
            m_windows << w.label;
            for (const monitor::FeatureDrift &f : w.features) {
                if (!worst.count(f.feature))
                    order << f.feature;
                worst[f.feature] = std::max(worst[f.feature], std::isfinite(f.score) ? f.score : 0.0);
            }
        }
        std::stable_sort(order.begin(), order.end(), [&](const QString &a, const QString &b) { return worst[a] > worst[b]; });
        m_features = order;
        m_cells.assign(size_t(m_features.size()), std::vector<const monitor::FeatureDrift *>(size_t(m_windows.size()), nullptr));
        for (qsizetype w = 0; w < m_windows.size(); ++w)
            for (const monitor::FeatureDrift &f : m_report->windows[size_t(w)].features)
                m_cells[size_t(m_features.indexOf(f.feature))][size_t(w)] = &f;
    }
    m_selFeature = m_selWindow = -1;
    updateGeometry();
    update();
}

double DriftHeatMap::score(int feature, int window) const
{
    if (feature < 0 || window < 0 || feature >= int(m_cells.size()) || window >= int(m_windows.size()))
        return std::nan("");
    const monitor::FeatureDrift *f = m_cells[size_t(feature)][size_t(window)];
    return f ? f->score : std::nan("");
}

int DriftHeatMap::labelWidth() const
{
    int w = 60;
    for (const QString &f : m_features)
        w = std::max(w, fontMetrics().horizontalAdvance(f) + 12);
    return std::min(w, 220);
}

QSize DriftHeatMap::sizeHint() const
{
    return {labelWidth() + 60 * std::max(4, int(m_windows.size())), 5 * fontMetrics().height() + 40 + 22 * std::max(4, int(m_features.size()))};
}
QSize DriftHeatMap::minimumSizeHint() const { return {300, 160}; }

QRect DriftHeatMap::cellRect(int feature, int window) const
{
    const int left = labelWidth(), top = fontMetrics().height() + 10;
    const int n = std::max(1, int(m_windows.size())), m = std::max(1, int(m_features.size()));
    const int footer = 4 * fontMetrics().height() + 20;   // the legend and its note
    const double cw = double(width() - left - 4) / n, ch = std::clamp(double(height() - top - footer) / m, 12.0, 34.0);
    return QRect(QPoint(left + int(window * cw), top + int(feature * ch)), QPoint(left + int((window + 1) * cw) - 2, top + int((feature + 1) * ch) - 2));
}

std::pair<int, int> DriftHeatMap::cellAt(const QPoint &p) const
{
    for (int f = 0; f < int(m_features.size()); ++f)
        for (int w = 0; w < int(m_windows.size()); ++w)
            if (cellRect(f, w).contains(p))
                return {f, w};
    return {-1, -1};
}

void DriftHeatMap::paintEvent(QPaintEvent *)
{
    QPainter p(this);
    p.fillRect(rect(), palette().base());
    if (m_features.isEmpty()) {
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(rect(), Qt::AlignCenter | Qt::TextWordWrap, QStringLiteral("No windows yet: the log has no predictions"));
        return;
    }
    const QFontMetrics fm = fontMetrics();
    p.setPen(palette().color(QPalette::Text));
    // Window labels over the columns (every k-th when they do not fit).
    const QRect first = cellRect(0, 0);
    int step = 1;
    while (step < int(m_windows.size()) && first.width() * step < fm.horizontalAdvance(m_windows.value(0)) + 8)
        ++step;
    for (int w = 0; w < int(m_windows.size()); w += step) {
        const QRect c = cellRect(0, w);
        p.drawText(QRect(c.left(), 2, c.width() * step, fm.height() + 4), Qt::AlignLeft | Qt::AlignVCenter,
                   fm.elidedText(m_windows[w], Qt::ElideRight, c.width() * step));
    }
    for (int f = 0; f < int(m_features.size()); ++f) {
        const QRect row = cellRect(f, 0);
        p.setPen(palette().color(QPalette::Text));
        p.drawText(QRect(4, row.top(), labelWidth() - 8, row.height()), Qt::AlignRight | Qt::AlignVCenter,
                   fm.elidedText(m_features[f], Qt::ElideMiddle, labelWidth() - 8));
        for (int w = 0; w < int(m_windows.size()); ++w) {
            const QRect c = cellRect(f, w);
            const monitor::FeatureDrift *d = m_cells[size_t(f)][size_t(w)];
            if (!d || !std::isfinite(d->score) || d->diff.driftStatistic().isEmpty()) {
                p.fillRect(c, palette().color(QPalette::AlternateBase));
                continue;
            }
            QColor colour = levelColor(d->level);
            // Within a level, a stronger score is a fuller colour.
            const double threshold = d->diff.driftStatistic() == u"psi" ? 0.25 : std::sqrt(0.15);
            colour.setAlphaF(float(std::clamp(0.25 + 0.75 * d->score / threshold, 0.25, 1.0)));
            p.fillRect(c, colour);
            if (c.width() >= fm.horizontalAdvance(QStringLiteral("0.00")) + 6 && c.height() >= fm.height()) {
                p.setPen(colour.alphaF() > 0.6 ? QColor(Qt::white) : palette().color(QPalette::Text));
                p.drawText(c, Qt::AlignCenter, d->score >= 10 ? QString::number(d->score, 'f', 0) : QString::number(d->score, 'f', 2));
            }
        }
    }
    // The legend under the cells: what the colours mean.
    {
        const QRect last = cellRect(int(m_features.size()) - 1, 0);
        int x = last.left();
        const int y = last.bottom() + 10;
        for (const auto &[level, text] : {std::pair{QStringLiteral("small"), QStringLiteral("small: PSI < 0.1, JS distance < 0.22")},
                                          std::pair{QStringLiteral("moderate"), QStringLiteral("moderate: PSI 0.1-0.25, JS 0.22-0.39")},
                                          std::pair{QStringLiteral("large"), QStringLiteral("large: PSI >= 0.25, JS >= 0.39")}}) {
            p.fillRect(QRect(x, y + 2, 14, fm.height() - 4), levelColor(level));
            p.setPen(palette().color(QPalette::Text));
            p.drawText(QPoint(x + 20, y + fm.ascent()), text);
            x += 20 + fm.horizontalAdvance(text) + 24;
        }
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(QRect(last.left(), y + fm.height() + 6, width() - last.left() - 8, 3 * fm.height()), Qt::TextWordWrap,
                   QStringLiteral("Each cell compares a window's values with the rows the served model trained on (PSI for numbers, "
                                  "Jensen-Shannon distance for categories); a fuller colour is a larger score. Click a cell to see both "
                                  "distributions; hover for KS, Wasserstein, chi-square, missing values, unseen categories and values out of the rules."));
    }
    if (m_selFeature >= 0 && m_selWindow >= 0) {
        p.setPen(QPen(palette().color(QPalette::Highlight), 3));
        p.setBrush(Qt::NoBrush);
        p.drawRect(cellRect(m_selFeature, m_selWindow).adjusted(1, 1, -1, -1));
    }
}

void DriftHeatMap::selectCell(int feature, int window)
{
    if (feature < 0 || window < 0 || feature >= int(m_features.size()) || window >= int(m_windows.size()))
        return;
    m_selFeature = feature;
    m_selWindow = window;
    update();
    emit cellSelected(m_features[feature], m_windows[window]);
}

void DriftHeatMap::mousePressEvent(QMouseEvent *event)
{
    const auto [f, w] = cellAt(event->position().toPoint());
    selectCell(f, w);
}

bool DriftHeatMap::event(QEvent *event)
{
    if (event->type() == QEvent::ToolTip) {
        auto *help = static_cast<QHelpEvent *>(event);
        const auto [f, w] = cellAt(help->pos());
        const monitor::FeatureDrift *d = f >= 0 ? m_cells[size_t(f)][size_t(w)] : nullptr;
        if (!d) {
            QToolTip::hideText();
            return true;
        }
        QStringList lines{QStringLiteral("<b>%1</b> in window %2").arg(d->feature.toHtmlEscaped(), m_windows[w].toHtmlEscaped()),
                          QStringLiteral("%1 %2 (%3), velocity %4").arg(d->diff.driftStatistic(), num(d->score), d->level, num(d->velocity))};
        if (d->diff.ks)
            lines << QStringLiteral("KS D %1, p %2; Wasserstein %3").arg(num(*d->diff.ks), QString::number(d->diff.ksPValue.value_or(1), 'g', 3),
                                                                        QString::number(d->diff.wasserstein.value_or(0), 'g', 4));
        if (d->diff.chi2)
            lines << QStringLiteral("chi-square %1, p %2").arg(QString::number(*d->diff.chi2, 'g', 4), QString::number(d->diff.chi2PValue.value_or(1), 'g', 3));
        lines << QStringLiteral("missing %1%, unseen categories %2").arg(num(100 * d->missingShare, 1)).arg(d->unseenCategories);
        if (!m_report->rules.isEmpty())
            lines << QStringLiteral("%1 values outside %2").arg(d->outOfRules).arg(m_report->rules.toHtmlEscaped());
        QToolTip::showText(help->globalPos(), lines.join(QStringLiteral("<br>")), this);
        return true;
    }
    return QWidget::event(event);
}

// ---- the area --------------------------------------------------------------------------------------------------

MonitoringArea::MonitoringArea(TaskManager *tasks, QWidget *parent)
    : QWidget(parent), m_tasks(tasks), m_empty(new EmptyState(QStringLiteral("Nothing to monitor yet"), QString(), this)),
      m_deployment(new QComboBox(this)), m_window(new QComboBox(this)), m_source(new QLabel(this)), m_tabs(new QTabWidget(this)),
      m_heat(new DriftHeatMap(this)), m_distribution(new ExplainChartView(this)), m_velocity(new ExplainChartView(this)),
      m_performance(new ExplainChartView(this)), m_shadowText(new QLabel(this)), m_alerts(new QTableWidget(0, 7, this)),
      m_ack(new QPushButton(QStringLiteral("Acknowledge"), this)), m_net(new QNetworkAccessManager(this))
{
    setObjectName(QStringLiteral("monitoringArea"));
    auto *stack = new QStackedLayout(this);
    stack->addWidget(m_empty);
    auto *main = new QWidget(this);
    stack->addWidget(main);
    auto *layout = new QVBoxLayout(main);

    auto *bar = new QHBoxLayout;
    auto *title = new QLabel(QStringLiteral("<b>Monitoring</b>"), main);
    bar->addWidget(title);
    bar->addSpacing(12);
    bar->addWidget(new QLabel(QStringLiteral("Deployment:"), main));
    m_deployment->setObjectName(QStringLiteral("monitorDeployment"));
    m_deployment->setMinimumContentsLength(14);
    bar->addWidget(m_deployment);
    bar->addWidget(new QLabel(QStringLiteral("Windows:"), main));
    m_window->setObjectName(QStringLiteral("monitorWindow"));
    m_window->addItem(QStringLiteral("automatic"), QStringLiteral("auto"));
    for (const char *w : {"hour", "day", "week", "100", "500", "1000", "5000"})
        m_window->addItem(QString::fromLatin1(w).at(0).isDigit() ? QStringLiteral("every %1 predictions").arg(QLatin1String(w)) : QStringLiteral("by %1").arg(QLatin1String(w)),
                          QString::fromLatin1(w));
    bar->addWidget(m_window);
    auto *refreshButton = new QPushButton(QStringLiteral("Refresh"), main);
    bar->addWidget(refreshButton);
    m_source->setObjectName(QStringLiteral("monitorSource"));
    m_source->setTextInteractionFlags(Qt::TextSelectableByMouse);
    bar->addWidget(m_source, 1);
    layout->addLayout(bar);

    auto *tiles = new QHBoxLayout;
    for (int i = 0; i < 6; ++i) {
        auto *t = new QLabel(main);
        t->setObjectName(QStringLiteral("monitorTile%1").arg(i));
        t->setFrameShape(QFrame::StyledPanel);
        t->setMargin(8);
        t->setMinimumHeight(64);
        t->setTextFormat(Qt::RichText);
        t->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
        tiles->addWidget(t);
        m_tiles << t;
    }
    layout->addLayout(tiles);

    auto *driftPage = new QSplitter(Qt::Horizontal, main);
    driftPage->addWidget(m_heat);
    driftPage->addWidget(m_distribution);
    driftPage->setStretchFactor(0, 3);
    driftPage->setStretchFactor(1, 2);
    m_distribution->setMessage(QStringLiteral("Click a cell to compare the window with the training rows"));
    m_tabs->addTab(driftPage, QStringLiteral("Drift"));
    m_tabs->addTab(m_velocity, QStringLiteral("Drift Velocity"));
    auto *perfPage = new QWidget(main);
    auto *perfLayout = new QVBoxLayout(perfPage);
    perfLayout->setContentsMargins(0, 0, 0, 0);
    perfLayout->addWidget(m_performance, 1);
    m_shadowText->setObjectName(QStringLiteral("shadowComparison"));
    m_shadowText->setWordWrap(true);
    m_shadowText->setTextFormat(Qt::RichText);
    m_shadowText->setTextInteractionFlags(Qt::TextSelectableByMouse);
    perfLayout->addWidget(m_shadowText);
    m_tabs->addTab(perfPage, QStringLiteral("Performance"));
    auto *alertPage = new QWidget(main);
    auto *alertLayout = new QVBoxLayout(alertPage);
    alertLayout->setContentsMargins(0, 0, 0, 0);
    m_alerts->setObjectName(QStringLiteral("alertTable"));
    m_alerts->setHorizontalHeaderLabels({QStringLiteral("Alert"), QStringLiteral("Time (UTC)"), QStringLiteral("Monitor"), QStringLiteral("Rule"),
                                         QStringLiteral("What held"), QStringLiteral("Actions"), QStringLiteral("Acknowledged")});
    m_alerts->verticalHeader()->hide();
    m_alerts->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_alerts->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_alerts->setSelectionMode(QAbstractItemView::SingleSelection);
    m_alerts->horizontalHeader()->setStretchLastSection(false);
    m_alerts->horizontalHeader()->setSectionResizeMode(4, QHeaderView::Stretch);
    m_alerts->setWordWrap(false);
    alertLayout->addWidget(m_alerts, 1);
    auto *ackBar = new QHBoxLayout;
    ackBar->addStretch(1);
    m_ack->setObjectName(QStringLiteral("acknowledgeAlert"));
    m_ack->setEnabled(false);
    ackBar->addWidget(m_ack);
    alertLayout->addLayout(ackBar);
    m_tabs->addTab(alertPage, QStringLiteral("Alerts"));
    layout->addWidget(m_tabs, 1);

    connect(refreshButton, &QPushButton::clicked, this, &MonitoringArea::refresh);
    connect(m_deployment, &QComboBox::activated, this, [this] { refresh(); });
    connect(m_window, &QComboBox::activated, this, [this] { refresh(); });
    connect(m_heat, &DriftHeatMap::cellSelected, this, &MonitoringArea::showDistribution);
    connect(m_alerts, &QTableWidget::itemSelectionChanged, this, [this] {
        const int row = m_alerts->currentRow();
        m_ack->setEnabled(row >= 0 && row < int(m_snapshot.alerts.size()) && !m_snapshot.alerts[size_t(row)].acknowledged.isValid());
    });
    connect(m_ack, &QPushButton::clicked, this, &MonitoringArea::acknowledgeSelected);
    m_poll.setInterval(5000);
    // While shown: re-read only when the log, the alerts or the deployments changed (a cheap look at file sizes and
    // times); the live server's counters every time.
    connect(&m_poll, &QTimer::timeout, this, [this] {
        if (m_loading || m_root.isEmpty())
            return;
        const QString signature = changeSignature();
        if (signature != m_signature)
            refresh();
        else
            pollServer();
    });
    rebuild();
}

QString MonitoringArea::changeSignature() const
{
    QStringList parts;
    const auto add = [&parts](const QString &dir) {
        for (const QFileInfo &f : QDir(dir).entryInfoList(QDir::Files, QDir::Name))
            parts << f.fileName() + QLatin1Char(':') + QString::number(f.size()) + QLatin1Char(':') + QString::number(f.lastModified().toMSecsSinceEpoch());
    };
    add(serve::predictionLogDir(m_root, m_snapshot.deployment.isEmpty() ? m_deployment->currentText() : m_snapshot.deployment));
    add(m_root + QStringLiteral("/.keel/monitor"));
    add(m_root + QStringLiteral("/deployments"));
    add(m_root + QStringLiteral("/monitors"));
    return parts.join(QLatin1Char('|'));
}

void MonitoringArea::setWorkspaceRoot(const QString &root)
{
    m_root = root;
    m_snapshot = {};
    m_shownCell.clear();
    rebuild();
    if (!root.isEmpty())
        refresh();
}

void MonitoringArea::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    if (!m_root.isEmpty()) {
        refresh();
        m_poll.start();
    }
}

void MonitoringArea::hideEvent(QHideEvent *event)
{
    QWidget::hideEvent(event);
    m_poll.stop();
}

void MonitoringArea::refresh()
{
    if (m_root.isEmpty())
        return;
    const QString root = m_root, deployment = m_deployment->currentText(), window = m_window->currentData().toString();
    m_loading = true;
    m_signature = changeSignature();
    m_tasks->start<MonitoringSnapshot>(
        QStringLiteral("Read the monitoring of %1").arg(deployment.isEmpty() ? QStringLiteral("deployments") : deployment),
        QStringLiteral("monitoring"), [=](Feedback &fb) { return readMonitoring(root, deployment, window.isEmpty() ? QStringLiteral("auto") : window, &fb); },
        this, [this, root](Expected<MonitoringSnapshot> &&s) {
            m_loading = false;
            if (root != m_root)
                return;
            if (!s) {
                m_source->setText(QStringLiteral("could not be read: %1").arg(s.error().toString().toHtmlEscaped()));
                emit loaded();
                return;
            }
            m_snapshot = std::move(*s);
            rebuild();
            pollServer();
            emit loaded();
        });
}

void MonitoringArea::pollServer()
{
    if (m_snapshot.serverUrl.isEmpty()) {
        m_errorRate.reset();
        fillTiles();
        return;
    }
    QNetworkRequest request(QUrl(m_snapshot.serverUrl + QStringLiteral("/metrics")));
    request.setTransferTimeout(2000);
    QNetworkReply *reply = m_net->get(request);
    const QString deployment = m_snapshot.deployment;
    connect(reply, &QNetworkReply::finished, this, [this, reply, deployment] {
        reply->deleteLater();
        const auto metrics = serve::parseMetricsText(reply->readAll());
        if (reply->error() == QNetworkReply::NoError && metrics.contains(deployment) && deployment == m_snapshot.deployment) {
            const serve::DeploymentMetrics &m = metrics[deployment];
            m_serverRequests = m.requests;
            m_errorRate = m.requests > 0 ? std::optional<double>(double(m.errors) / double(m.requests)) : std::nullopt;
        } else {
            m_errorRate.reset();
            m_serverRequests = -1;
        }
        fillTiles();
    });
}

void MonitoringArea::fillTiles()
{
    const MonitoringSnapshot &s = m_snapshot;
    const auto tile = [this](int i, const QString &caption, const QString &value, const QString &note) {
        m_tiles[i]->setText(QStringLiteral("<span style='color:palette(placeholder-text)'>%1</span><br><span style='font-size:17pt'><b>%2</b></span><br><small>%3</small>")
                                .arg(caption.toHtmlEscaped(), value.toHtmlEscaped(), note.toHtmlEscaped()));
    };
    const QString rate = !std::isfinite(s.perMinute) ? QString::number(s.newestCount)
                         : s.perMinute >= 6000      ? QStringLiteral("%1/s").arg(num(s.perMinute / 60, 0))
                                                    : QStringLiteral("%1/min").arg(num(s.perMinute, s.perMinute >= 100 ? 0 : 1));
    tile(0, QStringLiteral("Load"), rate,
         s.newestWindow.isEmpty() ? QStringLiteral("no predictions logged") : QStringLiteral("%1 predictions in window %2").arg(s.newestCount).arg(s.newestWindow));
    tile(1, QStringLiteral("Uptime"), s.serverStarted.isValid() ? duration(s.serverStarted.secsTo(QDateTime::currentDateTimeUtc())) : QStringLiteral("not serving"),
         s.serverUrl.isEmpty() ? QStringLiteral("shown from the prediction log") : s.serverUrl);
    tile(2, QStringLiteral("Latency p50"), std::isfinite(s.p50) ? QStringLiteral("%1 ms").arg(num(s.p50, 2)) : QStringLiteral("–"),
         QStringLiteral("per record, newest window"));
    tile(3, QStringLiteral("Latency p99"), std::isfinite(s.p99) ? QStringLiteral("%1 ms").arg(num(s.p99, 2)) : QStringLiteral("–"),
         QStringLiteral("per record, newest window"));
    tile(4, QStringLiteral("Error rate"), m_errorRate ? QStringLiteral("%1%").arg(num(100 * *m_errorRate, 1)) : QStringLiteral("–"),
         m_errorRate ? QStringLiteral("of %1 requests since the server started").arg(m_serverRequests)
                     : s.serverUrl.isEmpty() ? QStringLiteral("measured by a running keel serve") : QStringLiteral("no request yet"));
    const qint64 open = std::count_if(s.alerts.begin(), s.alerts.end(), [](const monitor::Alert &a) { return !a.acknowledged.isValid(); });
    tile(5, QStringLiteral("Alerts"), QStringLiteral("%1 open").arg(open),
         s.monitors.isEmpty() ? QStringLiteral("no monitor watches it") : QStringLiteral("%1 in all · %2").arg(s.alerts.size()).arg(s.monitors.join(QStringLiteral(", "))));
}

void MonitoringArea::rebuild()
{
    auto *stack = static_cast<QStackedLayout *>(layout());
    const MonitoringSnapshot &s = m_snapshot;
    m_empty->setText(m_root.isEmpty() ? QStringLiteral("Open a workspace to monitor its deployments.")
                                      : QStringLiteral("Monitoring follows a deployment's traffic: keel deploy puts a model behind a name, keel serve "
                                                       "answers it and logs every prediction, and this area shows drift against the "
                                                       "training rows, performance from feedback and the alerts of monitors/NAME.yaml."));
    stack->setCurrentIndex(s.deployments.isEmpty() ? 0 : 1);
    if (s.deployments.isEmpty())
        return;
    {
        const QSignalBlocker block(m_deployment);
        m_deployment->clear();
        m_deployment->addItems(s.deployments);
        m_deployment->setCurrentText(s.deployment);
    }
    const QString reference = s.drift ? s.drift->reference : QString();
    m_source->setText(QStringLiteral("%1 predictions logged · windows %2 (%3)%4 · %5")
                          .arg(s.predictions)
                          .arg(s.window, s.windowSource, reference.isEmpty() ? QString() : QStringLiteral(" · against ") + reference,
                               s.serverUrl.isEmpty() ? QStringLiteral("no server running: from the log") : QStringLiteral("live from ") + s.serverUrl));
    fillTiles();

    // Drift.
    m_heat->setReport(s.drift);
    if (!s.driftError.isEmpty())
        m_distribution->setMessage(QStringLiteral("Drift could not be computed: ") + s.driftError);
    else if (s.predictions == 0)
        m_distribution->setMessage(QStringLiteral("No predictions logged yet"));
    else if (!m_shownCell.isEmpty()) {
        const QString feature = m_shownCell.section(QLatin1Char('\n'), 0, 0), window = m_shownCell.section(QLatin1Char('\n'), 1);
        const int f = m_heat->features().indexOf(feature);
        int w = -1;
        if (s.drift)
            for (size_t i = 0; i < s.drift->windows.size(); ++i)
                if (s.drift->windows[i].label == window)
                    w = int(i);
        if (f >= 0 && w >= 0)
            m_heat->selectCell(f, w);
    }

    // Drift velocity: the five features whose velocity moved most.
    if (!s.drift || s.drift->windows.size() < 2) {
        m_velocity->setMessage(s.drift ? QStringLiteral("Drift velocity needs two windows or more") : QStringLiteral("No drift report yet"));
    } else {
        const monitor::DriftReport report = *s.drift;
        m_velocity->setBuilder([report](const QPalette &palette) {
            std::map<QString, double> moved;
            QStringList labels;
            for (const monitor::DriftWindow &w : report.windows) {
                labels << w.label;
                for (const monitor::FeatureDrift &f : w.features)
                    moved[f.feature] = std::max(moved[f.feature], std::abs(f.velocity));
            }
            std::vector<std::pair<double, QString>> order;
            for (const auto &[f, v] : moved)
                order.push_back({v, f});
            std::sort(order.begin(), order.end(), [](const auto &a, const auto &b) { return a.first > b.first; });
            auto *chart = new QChart;
            chart->setTitle(QStringLiteral("Drift velocity: smoothed change of each feature's drift score per window (positive: drifting further)"));
            chart->setAnimationOptions(QChart::NoAnimation);
            chart->legend()->setAlignment(Qt::AlignRight);
            auto *x = windowAxis(labels);
            auto *y = new QValueAxis;
            y->setTitleText(QStringLiteral("velocity (score per window)"));
            chart->addAxis(x, Qt::AlignBottom);
            chart->addAxis(y, Qt::AlignLeft);
            double lo = 0, hi = 0;
            for (size_t k = 0; k < std::min<size_t>(5, order.size()); ++k) {
                auto *series = new QLineSeries;
                series->setName(order[k].second);
                series->setPen(QPen(seriesColor(palette, int(k)), 2.2));
                series->setPointsVisible(true);
                for (size_t i = 0; i < report.windows.size(); ++i)
                    for (const monitor::FeatureDrift &f : report.windows[i].features)
                        if (f.feature == order[k].second) {
                            series->append(double(i + 1), f.velocity);
                            lo = std::min(lo, f.velocity);
                            hi = std::max(hi, f.velocity);
                        }
                chart->addSeries(series);
                series->attachAxis(x);
                series->attachAxis(y);
            }
            auto *zero = new QLineSeries;
            zero->setName(QStringLiteral("no change"));
            zero->setPen(QPen(palette.color(QPalette::PlaceholderText), 1, Qt::DashLine));
            zero->append(0.5, 0);
            zero->append(double(report.windows.size()) + 0.5, 0);
            chart->addSeries(zero);
            zero->attachAxis(x);
            zero->attachAxis(y);
            const double pad = std::max(0.05, 0.08 * (hi - lo));
            y->setRange(lo - pad, hi + pad);
            applyPalette(chart, palette);
            return chart;
        });
    }

    // Performance over time.
    if (!s.performance || s.performance->windows.empty()) {
        m_performance->setMessage(s.performanceError.isEmpty() ? QStringLiteral("No predictions logged yet")
                                                               : QStringLiteral("Performance could not be computed: ") + s.performanceError);
        m_shadowText->clear();
    } else {
        const monitor::PerformanceReport report = *s.performance;
        const QString metric = headlineMetric(report.task);
        m_performance->setBuilder([report, metric](const QPalette &palette) {
            auto *chart = new QChart;
            chart->setAnimationOptions(QChart::NoAnimation);
            chart->legend()->setAlignment(Qt::AlignTop);
            QStringList labels;
            for (const monitor::PerformanceWindow &w : report.windows)
                labels << w.label;
            auto *x = windowAxis(labels);
            auto *y = new QValueAxis;
            y->setTitleText(metric);
            chart->addAxis(x, Qt::AlignBottom);
            chart->addAxis(y, Qt::AlignLeft);
            auto *realised = new QLineSeries, *low = new QLineSeries, *high = new QLineSeries, *expected = new QLineSeries, *shadow = new QLineSeries;
            realised->setName(QStringLiteral("realised (from feedback)"));
            expected->setName(QStringLiteral("expected before labels (CBPE)"));
            double lo = std::numeric_limits<double>::infinity(), hi = -lo;
            QString shadowVersion;
            int labelledWindows = 0;
            for (size_t i = 0; i < report.windows.size(); ++i) {
                const monitor::PerformanceWindow &w = report.windows[i];
                const double at = double(i + 1);
                if (const monitor::MetricValue *m = findMetric(w.realised, metric)) {
                    ++labelledWindows;
                    realised->append(at, m->value);
                    lo = std::min(lo, m->value);
                    hi = std::max(hi, m->value);
                    if (std::isfinite(m->low) && std::isfinite(m->high)) {
                        low->append(at, m->low);
                        high->append(at, m->high);
                        lo = std::min(lo, m->low);
                        hi = std::max(hi, m->high);
                    }
                }
                if (const monitor::MetricValue *m = findMetric(w.expected, metric)) {
                    expected->append(at, m->value);
                    lo = std::min(lo, m->value);
                    hi = std::max(hi, m->value);
                }
                if (w.shadow)
                    if (const monitor::MetricValue *m = findMetric(w.shadow->shadow, metric)) {
                        shadowVersion = w.shadow->version;
                        shadow->append(at, m->value);
                        lo = std::min(lo, m->value);
                        hi = std::max(hi, m->value);
                    }
            }
            chart->setTitle(labelledWindows ? QStringLiteral("%1 per window: realised with its 95% bootstrap interval, expected before labels, shadow on the same requests").arg(metric)
                                            : QStringLiteral("%1 per window: no feedback labels yet").arg(metric));
            if (low->count() > 0) {
                auto *band = new QAreaSeries(high, low);
                band->setName(QStringLiteral("95% interval"));
                QColor fill = seriesColor(palette, 0);
                fill.setAlphaF(0.18f);
                band->setBrush(fill);
                band->setPen(Qt::NoPen);
                chart->addSeries(band);
                band->attachAxis(x);
                band->attachAxis(y);
            } else {
                delete low;
                delete high;
            }
            realised->setPen(QPen(seriesColor(palette, 0), 2.5));
            realised->setPointsVisible(true);
            expected->setPen(QPen(seriesColor(palette, 1), 2, Qt::DashLine));
            shadow->setName(QStringLiteral("shadow %1 (realised)").arg(shadowVersion));
            shadow->setPen(QPen(seriesColor(palette, 2), 2));
            shadow->setPointsVisible(true);
            for (QLineSeries *series : {realised, expected, shadow}) {
                if (series->count() == 0) {
                    delete series;
                    continue;
                }
                chart->addSeries(series);
                series->attachAxis(x);
                series->attachAxis(y);
            }
            if (std::isfinite(lo)) {
                const double pad = std::max(1e-3, 0.1 * (hi - lo));
                y->setRange(lo - pad, hi + pad);
            }
            applyPalette(chart, palette);
            return chart;
        });
        // The newest window where the shadow met labelled requests: its paired tests.
        QString text;
        for (auto w = report.windows.rbegin(); w != report.windows.rend(); ++w) {
            if (!w->shadow)
                continue;
            const monitor::MetricValue *a = findMetric(w->shadow->served, metric), *b = findMetric(w->shadow->shadow, metric);
            text = QStringLiteral("<b>Shadow %1</b> against the served model on the same %2 labelled requests of window %3: %4 %5 served, %6 shadow.")
                       .arg(w->shadow->version.toHtmlEscaped())
                       .arg(w->shadow->paired)
                       .arg(w->label.toHtmlEscaped(), metric, a ? num(a->value) : QStringLiteral("–"), b ? num(b->value) : QStringLiteral("–"));
            for (const registry::PairedTestOutcome &t : w->shadow->tests)
                text += QStringLiteral("<br>%1: %2").arg(t.test.toHtmlEscaped(), QString(t.sentence).replace(QStringLiteral(" A "), QStringLiteral(" the served model ")).replace(QStringLiteral(" B"), QStringLiteral(" the shadow")).toHtmlEscaped());
            break;
        }
        m_shadowText->setText(text.isEmpty() ? QStringLiteral("No shadow challenger has scored labelled requests (keel deploy NAME --shadow MODEL@ALIAS).") : text);
    }

    // Alerts.
    m_alerts->setRowCount(int(s.alerts.size()));
    for (int r = 0; r < int(s.alerts.size()); ++r) {
        const monitor::Alert &a = s.alerts[size_t(r)];
        QStringList actions;
        for (const QJsonValue &v : a.actions) {
            const QJsonObject o = v.toObject();
            if (o.value(QStringLiteral("action")).toString() != u"alert")
                actions << o.value(QStringLiteral("action")).toString() + (o.value(QStringLiteral("ok")).toBool() ? QString() : QStringLiteral(" (failed)"));
        }
        m_alerts->setItem(r, 0, item(a.id));
        m_alerts->setItem(r, 1, item(a.time.toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"))));
        m_alerts->setItem(r, 2, item(a.monitor));
        m_alerts->setItem(r, 3, item(a.rule));
        m_alerts->setItem(r, 4, item(a.sentence));
        m_alerts->setItem(r, 5, item(actions.isEmpty() ? QStringLiteral("recorded") : actions.join(QStringLiteral(", "))));
        m_alerts->setItem(r, 6, item(a.acknowledged.isValid() ? QStringLiteral("by %1").arg(a.acknowledgedBy) : QStringLiteral("no")));
    }
    m_alerts->resizeColumnsToContents();
    m_alerts->horizontalHeader()->setSectionResizeMode(4, QHeaderView::Stretch);
    m_tabs->setTabText(AlertsTab, s.alerts.empty() ? QStringLiteral("Alerts") : QStringLiteral("Alerts (%1)").arg(s.alerts.size()));
}

void MonitoringArea::showDistribution(const QString &feature, const QString &window)
{
    m_shownCell = feature + QLatin1Char('\n') + window;
    const QString root = m_root, deployment = m_snapshot.deployment, windowing = m_snapshot.window;
    m_tasks->start<data::DistributionComparison>(
        QStringLiteral("Compare %1 in window %2 with the training rows").arg(feature, window), QStringLiteral("monitoring-distribution"),
        [=](Feedback &fb) -> Expected<data::DistributionComparison> {
            auto ws = workspace::Workspace::open(root);
            if (!ws)
                return ws.error();
            monitor::DriftRequest r;
            r.deployment = deployment;
            r.window = windowing;
            return monitor::windowDistribution(**ws, r, window, feature, &fb);
        },
        this, [this, feature, window](Expected<data::DistributionComparison> &&c) {
            if (m_shownCell != feature + QLatin1Char('\n') + window)
                return;
            if (!c) {
                m_distribution->setMessage(c.error().toString());
            } else {
                const data::DistributionComparison comparison = std::move(*c);
                m_distribution->setBuilder([comparison, feature, window](const QPalette &palette) {
                    return makeComparisonChart(comparison, QStringLiteral("training rows"), QStringLiteral("window %1").arg(window),
                                               QStringLiteral("%1: training rows against window %2").arg(feature, window), palette);
                });
            }
            emit distributionShown();
        });
}

void MonitoringArea::acknowledgeSelected()
{
    const int row = m_alerts->currentRow();
    if (row < 0 || row >= int(m_snapshot.alerts.size()))
        return;
    const QString id = m_snapshot.alerts[size_t(row)].id, root = m_root;
    m_ack->setEnabled(false);
    m_tasks->start<bool>(
        QStringLiteral("Acknowledge alert %1").arg(id), QStringLiteral("monitoring-ack"),
        [root, id](Feedback &) -> Expected<bool> {
            auto ws = workspace::Workspace::open(root);
            if (!ws)
                return ws.error();
            if (Status s = monitor::acknowledgeAlert(**ws, id); !s)
                return s.error();
            return true;
        },
        this, [this, id](Expected<bool> &&ok) {
            emit statusMessage(ok ? QStringLiteral("Acknowledged alert %1").arg(id) : ok.error().toString());
            refresh();
        });
}

} // namespace keel::ui
