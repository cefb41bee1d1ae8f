#include "pipelinesarea.h"

#include "emptystate.h"
#include "taskmanager.h"

#include "workspace/workspace.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonObject>
#include <QLabel>
#include <QListWidget>
#include <QPainter>
#include <QPainterPath>
#include <QPointer>
#include <QPushButton>
#include <QSplitter>
#include <QStackedLayout>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>

namespace keel::ui {

namespace {

QColor statusColor(const QString &status)
{
    if (status == u"ran")
        return QColor(46, 160, 67);
    if (status == u"cached")
        return QColor(31, 119, 180);
    if (status == u"failed")
        return QColor(214, 39, 40);
    if (status == u"blocked" || status == u"left out")
        return QColor(230, 150, 20);
    if (status == u"running")
        return QColor(148, 103, 189);
    return QColor(127, 127, 127);
}

/// A stage's outputs in words: the ids and values a reader looks for (metrics left to the run's view).
QString outputsText(const QJsonObject &o)
{
    QStringList parts;
    for (auto it = o.begin(); it != o.end(); ++it) {
        if (it.value().isString())
            parts << QStringLiteral("%1 %2").arg(it.key(), it.key() == u"run" ? it.value().toString().left(8) : it.value().toString());
        else if (it.value().isDouble())
            parts << QStringLiteral("%1 %2").arg(it.key()).arg(it.value().toDouble(), 0, 'g', 6);
        else if (it.value().isBool())
            parts << QStringLiteral("%1 %2").arg(it.key(), it.value().toBool() ? QStringLiteral("yes") : QStringLiteral("no"));
    }
    return parts.join(QStringLiteral(", "));
}

QTableWidgetItem *cell(const QString &text)
{
    auto *i = new QTableWidgetItem(text);
    i->setToolTip(text);
    return i;
}

} // namespace

Expected<PipelineSnapshot> readPipeline(const QString &root, const QString &name, Feedback *feedback)
{
    auto ws = workspace::Workspace::open(root);
    if (!ws)
        return ws.error();
    PipelineSnapshot s;
    s.pipelines = pipeline::listPipelines(**ws);
    if (s.pipelines.isEmpty())
        return s;
    s.name = s.pipelines.contains(name) ? name : s.pipelines.front();
    auto p = pipeline::loadPipeline(**ws, s.name);
    if (!p) {
        s.error = p.error().toString();
        return s;
    }
    s.pipeline = std::move(*p);
    if (auto last = pipeline::lastStageStates(**ws, s.name))
        s.last = std::move(*last);
    pipeline::RunRequest dry;
    dry.pipeline = s.name;
    dry.dryRun = true;
    if (auto plan = pipeline::runPipeline(**ws, dry, feedback))
        for (const pipeline::StageResult &r : plan->stages) {
            s.plan[r.stage] = r.status;
            s.planReason[r.stage] = r.error.isEmpty() ? r.reason : r.reason + QStringLiteral(": ") + r.error;
        }
    return s;
}

// ---- graph ----------------------------------------------------------------------------------------------------

PipelineGraph::PipelineGraph(QWidget *parent) : QWidget(parent)
{
    setObjectName(QStringLiteral("pipelineGraph"));
    setMinimumHeight(220);
}

void PipelineGraph::setSnapshot(const PipelineSnapshot &snapshot)
{
    m_snapshot = snapshot;
    m_live.clear();
    updateGeometry();
    update();
}

void PipelineGraph::setLive(const QString &stage, const QString &status)
{
    m_live[stage] = status;
    update();
}

QString PipelineGraph::statusShown(const QString &stage) const
{
    if (const auto it = m_live.find(stage); it != m_live.end())
        return it->second;
    const auto it = m_snapshot.last.find(stage);
    return it == m_snapshot.last.end() ? QString() : it->second.status;
}

QSize PipelineGraph::sizeHint() const { return {900, 260}; }

void PipelineGraph::paintEvent(QPaintEvent *)
{
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    p.fillRect(rect(), palette().base());
    if (!m_snapshot.pipeline) {
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(rect().adjusted(12, 12, -12, -12), Qt::AlignCenter | Qt::TextWordWrap,
                   m_snapshot.error.isEmpty() ? QStringLiteral("No pipeline selected") : m_snapshot.error);
        return;
    }
    const auto &stages = m_snapshot.pipeline->stages;
    // Depth: one more than the deepest stage a stage needs (stages come in dependency order).
    std::map<QString, int> depth;
    int columns = 0;
    for (const pipeline::Stage &s : stages) {
        int d = 0;
        for (const QString &n : s.needs)
            d = std::max(d, depth[n] + 1);
        depth[s.name] = d;
        columns = std::max(columns, d + 1);
    }
    std::map<int, int> rowsIn;
    std::map<QString, int> row;
    for (const pipeline::Stage &s : stages)
        row[s.name] = rowsIn[depth[s.name]]++;
    int rows = 1;
    for (const auto &[c, n] : rowsIn)
        rows = std::max(rows, n);
    const QFontMetrics fm = fontMetrics();
    const int boxW = std::min(200, (width() - 40) / std::max(1, columns) - 36), boxH = 4 * fm.height() + 16;
    const int gapX = (width() - columns * boxW) / (columns + 1);
    const int gapY = std::max(10, (height() - rows * boxH) / (rows + 1));
    std::map<QString, QRect> box;
    for (const pipeline::Stage &s : stages)
        box[s.name] = QRect(gapX + depth[s.name] * (boxW + gapX), gapY + row[s.name] * (boxH + gapY), boxW, boxH);
    // Arrows first.
    p.setPen(QPen(palette().color(QPalette::PlaceholderText), 1.6));
    for (const pipeline::Stage &s : stages)
        for (const QString &n : s.needs) {
            const QRect a = box[n], b = box[s.name];
            const QPointF from(a.right(), a.center().y()), to(b.left(), b.center().y());
            QPainterPath path(from);
            path.cubicTo(QPointF((from.x() + to.x()) / 2, from.y()), QPointF((from.x() + to.x()) / 2, to.y()), to);
            p.setBrush(Qt::NoBrush);
            p.drawPath(path);
            QPolygonF head;
            head << to << to + QPointF(-8, -4) << to + QPointF(-8, 4);
            p.setBrush(palette().color(QPalette::PlaceholderText));
            p.drawPolygon(head);
        }
    for (const pipeline::Stage &s : stages) {
        const QRect r = box[s.name];
        const QString status = statusShown(s.name);
        const QColor colour = statusColor(status);
        p.setPen(QPen(colour, 2));
        QColor fill = colour;
        fill.setAlphaF(0.14f);
        p.setBrush(palette().base());   // opaque: an arrow passing behind a box does not show through it
        p.drawRoundedRect(r, 6, 6);
        p.setBrush(fill);
        p.drawRoundedRect(r, 6, 6);
        p.setPen(palette().color(QPalette::Text));
        QFont bold = font();
        bold.setBold(true);
        p.setFont(bold);
        p.drawText(r.adjusted(8, 6, -8, 0), Qt::AlignLeft | Qt::AlignTop, fm.elidedText(s.name, Qt::ElideRight, r.width() - 16));
        p.setFont(font());
        const QString last = status.isEmpty() ? QStringLiteral("never ran") : QStringLiteral("last: ") + status;
        const auto plan = m_snapshot.plan.find(s.name);
        const QString now = m_live.count(s.name) ? QString()
                            : plan == m_snapshot.plan.end() ? QString()
                            : plan->second == u"would skip" ? QStringLiteral("current (cached)")
                                                            : QStringLiteral("would run");
        const QStringList lines{s.kind, last, now};
        for (int i = 0; i < int(lines.size()); ++i) {
            p.setPen(i == 2 && now == u"would run" ? QColor(230, 150, 20) : palette().color(i == 0 ? QPalette::PlaceholderText : QPalette::Text));
            p.drawText(QRect(r.left() + 8, r.top() + 6 + (i + 1) * fm.height(), r.width() - 16, fm.height()), Qt::AlignLeft,
                       fm.elidedText(lines[i], Qt::ElideRight, r.width() - 16));
        }
    }
}

// ---- area -----------------------------------------------------------------------------------------------------

PipelinesArea::PipelinesArea(TaskManager *tasks, QWidget *parent)
    : QWidget(parent), m_tasks(tasks), m_empty(new EmptyState(QStringLiteral("No pipelines yet"), QString(), this)), m_list(new QListWidget(this)),
      m_title(new QLabel(this)), m_graph(new PipelineGraph(this)), m_table(new QTableWidget(0, 5, this)),
      m_run(new QPushButton(QStringLiteral("Run"), this)), m_dry(new QPushButton(QStringLiteral("Dry Run"), this))
{
    setObjectName(QStringLiteral("pipelinesArea"));
    auto *stack = new QStackedLayout(this);
    stack->addWidget(m_empty);
    auto *main = new QWidget(this);
    stack->addWidget(main);
    auto *layout = new QHBoxLayout(main);
    auto *split = new QSplitter(Qt::Horizontal, main);
    m_list->setObjectName(QStringLiteral("pipelineList"));
    split->addWidget(m_list);
    auto *right = new QWidget(split);
    auto *rl = new QVBoxLayout(right);
    rl->setContentsMargins(0, 0, 0, 0);
    auto *bar = new QHBoxLayout;
    m_title->setTextFormat(Qt::RichText);
    bar->addWidget(m_title, 1);
    m_run->setObjectName(QStringLiteral("runPipeline"));
    m_run->setToolTip(QStringLiteral("Run the stages whose inputs changed (keel run); Cancel in the Tasks dock stops it"));
    m_dry->setToolTip(QStringLiteral("Say what would run and why, running nothing (keel run --dry-run)"));
    bar->addWidget(m_dry);
    bar->addWidget(m_run);
    rl->addLayout(bar);
    rl->addWidget(m_graph, 2);
    m_table->setObjectName(QStringLiteral("pipelineStages"));
    m_table->setHorizontalHeaderLabels({QStringLiteral("Stage"), QStringLiteral("Status"), QStringLiteral("Time"), QStringLiteral("Why"),
                                        QStringLiteral("Outputs")});
    m_table->verticalHeader()->hide();
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->horizontalHeader()->setStretchLastSection(true);
    rl->addWidget(m_table, 1);
    split->addWidget(right);
    split->setStretchFactor(1, 5);
    split->setSizes({180, 1100});
    layout->addWidget(split);
    connect(m_list, &QListWidget::currentTextChanged, this, [this](const QString &name) {
        if (!name.isEmpty() && name != m_snapshot.name)
            refresh();
    });
    connect(m_run, &QPushButton::clicked, this, [this] { run(false); });
    connect(m_dry, &QPushButton::clicked, this, [this] { run(true); });
    rebuild();
}

void PipelinesArea::setWorkspaceRoot(const QString &root)
{
    m_root = root;
    m_snapshot = {};
    rebuild();
    if (!root.isEmpty())
        refresh();
}

void PipelinesArea::refresh()
{
    if (m_root.isEmpty())
        return;
    const QString root = m_root, name = m_list->currentItem() ? m_list->currentItem()->text() : QString();
    m_tasks->start<PipelineSnapshot>(
        QStringLiteral("Read the pipelines"), QStringLiteral("pipelines"), [=](Feedback &fb) { return readPipeline(root, name, &fb); }, this,
        [this, root](Expected<PipelineSnapshot> &&s) {
            if (root != m_root)
                return;
            if (!s) {
                m_title->setText(QStringLiteral("could not be read: %1").arg(s.error().toString().toHtmlEscaped()));
            } else {
                m_snapshot = std::move(*s);
                rebuild();
            }
            emit loaded();
        });
}

void PipelinesArea::rebuild()
{
    auto *stack = static_cast<QStackedLayout *>(layout());
    m_empty->setText(m_root.isEmpty() ? QStringLiteral("Open a workspace to see its pipelines.")
                                      : QStringLiteral("A pipeline (pipelines/NAME.yaml) runs stages — validate, train, gate, register, deploy, "
                                                       "explain, command — in the order their inputs need, skipping those whose inputs did not "
                                                       "change. keel run --help shows the format."));
    stack->setCurrentIndex(m_snapshot.pipelines.isEmpty() ? 0 : 1);
    {
        const QSignalBlocker block(m_list);
        m_list->clear();
        m_list->addItems(m_snapshot.pipelines);
        const auto found = m_list->findItems(m_snapshot.name, Qt::MatchExactly);
        if (!found.isEmpty())
            m_list->setCurrentItem(found.front());
    }
    int wouldRun = 0;
    for (const auto &[stage, plan] : m_snapshot.plan)
        wouldRun += plan == u"would run" ? 1 : 0;
    m_title->setText(m_snapshot.pipeline ? QStringLiteral("<b>%1</b> · %2 stages · %3").arg(m_snapshot.name.toHtmlEscaped())
                                                                                   .arg(m_snapshot.pipeline->stages.size())
                                                                                   .arg(wouldRun ? QStringLiteral("%1 would run now").arg(wouldRun)
                                                                                                 : QStringLiteral("every stage is current"))
                                         : QStringLiteral("<b>%1</b>").arg(m_snapshot.name.toHtmlEscaped()));
    m_graph->setSnapshot(m_snapshot);
    m_run->setEnabled(m_snapshot.pipeline.has_value() && !m_busy);
    m_dry->setEnabled(m_snapshot.pipeline.has_value() && !m_busy);
    if (!m_busy && m_snapshot.pipeline) {
        // The plan, until a run replaces it.
        m_table->setRowCount(int(m_snapshot.pipeline->stages.size()));
        int r = 0;
        for (const pipeline::Stage &s : m_snapshot.pipeline->stages) {
            const auto last = m_snapshot.last.find(s.name);
            m_table->setItem(r, 0, cell(s.name));
            m_table->setItem(r, 1, cell(last == m_snapshot.last.end() ? QStringLiteral("never ran")
                                                                      : QStringLiteral("%1 %2").arg(last->second.status, last->second.when.toString(Qt::ISODate))));
            m_table->setItem(r, 2, cell(QString()));
            m_table->setItem(r, 3, cell(m_snapshot.plan.count(s.name) ? m_snapshot.plan.at(s.name) + QStringLiteral(": ") + m_snapshot.planReason.at(s.name) : QString()));
            m_table->setItem(r, 4, cell(QString()));
            ++r;
        }
        m_table->resizeColumnsToContents();
    }
}

void PipelinesArea::showReport(const pipeline::RunReport &report)
{
    m_table->setRowCount(int(report.stages.size()));
    for (int r = 0; r < int(report.stages.size()); ++r) {
        const pipeline::StageResult &s = report.stages[size_t(r)];
        m_table->setItem(r, 0, cell(s.stage));
        auto *status = cell(s.status);
        status->setForeground(statusColor(s.status));
        m_table->setItem(r, 1, status);
        m_table->setItem(r, 2, cell(s.status == u"ran" || s.status == u"failed" ? QStringLiteral("%1 s").arg(double(s.ms) / 1000.0, 0, 'f', 1) : QString()));
        m_table->setItem(r, 3, cell(s.error.isEmpty() ? s.reason : s.error));
        m_table->setItem(r, 4, cell(outputsText(s.outputs)));
    }
    m_table->resizeColumnsToContents();
}

void PipelinesArea::run(bool dryRun)
{
    if (!m_snapshot.pipeline || m_busy)
        return;
    m_busy = true;
    m_run->setEnabled(false);
    m_dry->setEnabled(false);
    const QString root = m_root, name = m_snapshot.name;
    QPointer<PipelinesArea> self(this);
    m_tasks->start<pipeline::RunReport>(
        dryRun ? QStringLiteral("Plan pipeline %1").arg(name) : QStringLiteral("Run pipeline %1").arg(name), QStringLiteral("pipeline-run"),
        [=](Feedback &fb) -> Expected<pipeline::RunReport> {
            auto ws = workspace::Workspace::open(root);
            if (!ws)
                return ws.error();
            pipeline::RunRequest r;
            r.pipeline = name;
            r.dryRun = dryRun;
            return pipeline::runPipeline(**ws, r, &fb, [self](const pipeline::StageResult &s) {
                QMetaObject::invokeMethod(
                    self.data(), [self, stage = s.stage, status = s.status] {
                        if (self)
                            self->m_graph->setLive(stage, status);
                    },
                    Qt::QueuedConnection);
            });
        },
        this, [this, dryRun](Expected<pipeline::RunReport> &&report) {
            m_busy = false;
            if (!report) {
                emit statusMessage(report.error().toString());
                emit runFinished(false);
                refresh();
                return;
            }
            showReport(*report);
            emit statusMessage(dryRun ? QStringLiteral("Planned %1").arg(report->pipeline)
                                      : QStringLiteral("%1: %2").arg(report->pipeline, report->ok() ? QStringLiteral("done") : QStringLiteral("a stage failed")));
            const bool ok = report->ok();
            const pipeline::RunReport kept = *report;
            // Re-read the states, then show this run's table again (rebuild shows the plan).
            connect(this, &PipelinesArea::loaded, this, [this, kept] { showReport(kept); }, Qt::SingleShotConnection);
            refresh();
            emit runFinished(ok);
        });
}

} // namespace keel::ui
