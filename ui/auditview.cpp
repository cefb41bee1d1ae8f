#include "auditview.h"

#include "explaincharts.h"
#include "taskmanager.h"
#include "workspacejobs.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPushButton>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QTableWidget>
#include <QVBoxLayout>

#include <set>

namespace keel::ui {

namespace {

QString localTime(const QDateTime &t)
{
    return t.isValid() ? t.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")) : QStringLiteral("?");
}

QString escaped(const QString &s) { return s.toHtmlEscaped(); }

} // namespace

AuditModel::AuditModel(QObject *parent) : QAbstractTableModel(parent) {}

void AuditModel::setEvents(std::vector<tracking::AuditEvent> events)
{
    beginResetModel();
    m_events = std::move(events);
    m_text.clear();
    m_text.reserve(m_events.size());
    for (const tracking::AuditEvent &e : m_events)
        m_text.push_back(workspace::auditEventText(e));
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
        case TimeColumn: return role == Qt::ToolTipRole ? e.time.toString(Qt::ISODateWithMs) : localTime(e.time);
        case UserColumn: return e.user;
        case EventColumn:
            if (role == Qt::ToolTipRole)
                return QString(m_text[size_t(index.row())] + QStringLiteral("\n\nAs recorded (event #%1):\n").arg(e.id) +
                               QString::fromUtf8(QJsonDocument(e.detail).toJson(QJsonDocument::Indented)));
            return m_text[size_t(index.row())];
        case ActionColumn: return e.action;
        case SubjectColumn: return e.subject;
        case CommitColumn: return role == Qt::ToolTipRole ? e.commit : e.commit.left(10);
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
    case UserColumn: return QStringLiteral("Who");
    case EventColumn: return QStringLiteral("What happened");
    case ActionColumn: return QStringLiteral("Action");
    case SubjectColumn: return QStringLiteral("Subject");
    case CommitColumn: return QStringLiteral("Commit");
    }
    return {};
}

void AuditFilter::setSubject(const QString &subject)
{
    m_subject = subject;
    invalidateFilter();
}

void AuditFilter::setSince(const QDateTime &since)
{
    m_since = since;
    invalidateFilter();
}

void AuditFilter::setText(const QString &text)
{
    m_text = text;
    invalidateFilter();
}

bool AuditFilter::filterAcceptsRow(int row, const QModelIndex &parent) const
{
    const QAbstractItemModel *m = sourceModel();
    if (!m_subject.isEmpty() && m->index(row, AuditModel::SubjectColumn, parent).data().toString() != m_subject)
        return false;
    if (m_since.isValid() && m->index(row, AuditModel::TimeColumn, parent).data(Qt::UserRole).toDateTime() < m_since)
        return false;
    if (m_text.isEmpty())
        return true;
    for (int c = 0; c < AuditModel::ColumnCount; ++c)
        if (m->index(row, c, parent).data().toString().contains(m_text, Qt::CaseInsensitive))
            return true;
    return false;
}

AuditView::AuditView(TaskManager *tasks, QWidget *parent)
    : QWidget(parent), m_tasks(tasks), m_model(new AuditModel(this)), m_filter(new AuditFilter(this)), m_tabs(new QTabWidget(this)),
      m_view(new QTableView(this)), m_search(new QLineEdit(this)), m_subject(new QComboBox(this)), m_since(new QComboBox(this)),
      m_verify(new QPushButton(QStringLiteral("Verify chain"), this)), m_banner(new QLabel(this)), m_summary(new QLabel(this)),
      m_predictionId(new QLineEdit(this)), m_decisionText(new QLabel(this)), m_waterfall(new ExplainChartView(this)),
      m_inputs(new QTableWidget(this))
{
    // ---- the trail ----
    m_search->setPlaceholderText(QStringLiteral("Search who, what, subject or commit"));
    m_search->setClearButtonEnabled(true);
    m_subject->setObjectName(QStringLiteral("auditSubject"));
    m_subject->addItem(QStringLiteral("All subjects"), QString());
    m_subject->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_since->setObjectName(QStringLiteral("auditSince"));
    m_since->addItem(QStringLiteral("All time"), 0);
    m_since->addItem(QStringLiteral("Last 24 hours"), 1);
    m_since->addItem(QStringLiteral("Last 7 days"), 7);
    m_since->addItem(QStringLiteral("Last 30 days"), 30);
    m_verify->setToolTip(QStringLiteral("Recompute the hash chain and check it against the heads recorded in every commit"));
    auto *reload = new QPushButton(QStringLiteral("Refresh"), this);
    connect(reload, &QPushButton::clicked, this, &AuditView::refresh);
    connect(m_verify, &QPushButton::clicked, this, &AuditView::verify);
    connect(m_search, &QLineEdit::textChanged, m_filter, &AuditFilter::setText);
    connect(m_subject, &QComboBox::currentIndexChanged, this, [this] { m_filter->setSubject(m_subject->currentData().toString()); });
    connect(m_since, &QComboBox::currentIndexChanged, this, &AuditView::applySince);
    auto *bar = new QHBoxLayout;
    bar->addWidget(new QLabel(QStringLiteral("<b>Audit trail</b>"), this));
    bar->addSpacing(12);
    bar->addWidget(m_search, 1);
    bar->addWidget(m_subject);
    bar->addWidget(m_since);
    bar->addWidget(m_verify);
    bar->addWidget(reload);

    m_banner->setObjectName(QStringLiteral("auditBanner"));
    m_banner->setWordWrap(true);
    m_banner->setTextFormat(Qt::RichText);
    m_banner->setMargin(6);
    m_banner->hide();

    m_filter->setSourceModel(m_model);
    m_view->setObjectName(QStringLiteral("auditTable"));
    m_view->setModel(m_filter);
    m_view->setAlternatingRowColors(true);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->verticalHeader()->hide();
    m_view->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 6);
    m_view->horizontalHeader()->setStretchLastSection(true);
    m_view->setWordWrap(false);
    m_summary->setForegroundRole(QPalette::PlaceholderText);
    m_summary->setWordWrap(true);
    m_summary->setText(QStringLiteral("Every change to the workspace is recorded here with who made it and the commit it produced."));

    auto *trail = new QWidget(this);
    auto *trailLayout = new QVBoxLayout(trail);
    trailLayout->setContentsMargins(0, 4, 0, 0);
    trailLayout->addWidget(m_summary);
    trailLayout->addWidget(m_view, 1);

    // ---- a past decision ----
    auto *decision = new QWidget(this);
    m_predictionId->setObjectName(QStringLiteral("predictionId"));
    m_predictionId->setPlaceholderText(QStringLiteral("Prediction id, as keel serve returned it (e.g. 3f9a2c-1b), or "
                                                      "RUN@NAME@vN#ROW for a row of a keel predict batch"));
    m_predictionId->setClearButtonEnabled(true);
    auto *explain = new QPushButton(QStringLiteral("Explain decision"), decision);
    connect(explain, &QPushButton::clicked, this, [this] { showDecision(m_predictionId->text().trimmed()); });
    connect(m_predictionId, &QLineEdit::returnPressed, this, [this] { showDecision(m_predictionId->text().trimmed()); });
    auto *search = new QHBoxLayout;
    search->addWidget(new QLabel(QStringLiteral("Why did the model decide this, back then?"), decision));
    search->addWidget(m_predictionId, 1);
    search->addWidget(explain);
    m_decisionText->setObjectName(QStringLiteral("decisionText"));
    m_decisionText->setWordWrap(true);
    m_decisionText->setTextFormat(Qt::RichText);
    m_decisionText->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    m_decisionText->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_decisionText->setText(QStringLiteral("Enter the id of a prediction that keel serve made: the model version that "
                                           "answered, its lineage, the revision that was live, the inputs and the "
                                           "explanation computed with that exact version appear here."));
    m_waterfall->setMessage(QStringLiteral("No decision shown yet"));
    m_inputs->setColumnCount(2);
    m_inputs->setHorizontalHeaderLabels({QStringLiteral("Input"), QStringLiteral("Value as received")});
    m_inputs->verticalHeader()->hide();
    m_inputs->horizontalHeader()->setStretchLastSection(true);
    m_inputs->setEditTriggers(QAbstractItemView::NoEditTriggers);
    auto *left = new QWidget(decision);
    auto *leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(0, 0, 0, 0);
    leftLayout->addWidget(m_decisionText);
    leftLayout->addWidget(m_inputs, 1);
    auto *split = new QSplitter(Qt::Horizontal, decision);
    split->addWidget(left);
    split->addWidget(m_waterfall);
    split->setStretchFactor(0, 2);
    split->setStretchFactor(1, 3);
    auto *decisionLayout = new QVBoxLayout(decision);
    decisionLayout->setContentsMargins(0, 4, 0, 0);
    decisionLayout->addLayout(search);
    decisionLayout->addWidget(split, 1);

    m_tabs->addTab(trail, QStringLiteral("Trail"));
    m_tabs->addTab(decision, QStringLiteral("Decision"));

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(8, 8, 8, 8);
    layout->addLayout(bar);
    layout->addWidget(m_banner);
    layout->addWidget(m_tabs, 1);
}

AuditView::~AuditView()
{
    for (const char *kind : {"trail", "verify", "decision"})
        m_tasks->cancelGroup(taskGroup(kind));
}

QString AuditView::taskGroup(const char *kind) const
{
    // One group per kind of work: a newer load supersedes an older one, but never a verification or a decision.
    return QStringLiteral("audit-%1-%2").arg(quintptr(this), 0, 16).arg(QLatin1String(kind));
}

void AuditView::setWorkspace(const QString &root)
{
    m_root = root;
    m_model->setEvents({});
    m_banner->hide();
    m_verification.reset();
    m_decisionResult.reset();
    if (!root.isEmpty())
        refresh();
}

void AuditView::applySince()
{
    const int days = m_since->currentData().toInt();
    m_filter->setSince(days > 0 ? QDateTime::currentDateTimeUtc().addDays(-days) : QDateTime());
}

void AuditView::refresh()
{
    if (m_root.isEmpty())
        return;
    const QString root = m_root;
    m_tasks->start<std::vector<tracking::AuditEvent>>(
        QStringLiteral("Load audit trail"), taskGroup("trail"), [root](Feedback &) { return jobs::loadAudit(root); }, this,
        [this](Expected<std::vector<tracking::AuditEvent>> &&events) {
            if (!events) {
                m_summary->setText(QStringLiteral("\u26a0 ") + events.error().toString());
                return;
            }
            std::set<QString> subjects;
            for (const tracking::AuditEvent &e : *events)
                if (!e.subject.isEmpty())
                    subjects.insert(e.subject);
            m_model->setEvents(std::move(*events));
            const QString current = m_subject->currentData().toString();
            m_subject->blockSignals(true);
            m_subject->clear();
            m_subject->addItem(QStringLiteral("All subjects"), QString());
            for (const QString &s : subjects)
                m_subject->addItem(s.size() > 48 ? QString(QStringLiteral("\u2026") + s.right(47)) : s, s);
            m_subject->setCurrentIndex(std::max(0, m_subject->findData(current)));
            m_subject->blockSignals(false);
            m_filter->setSubject(m_subject->currentData().toString());   // the subject may be gone: show all then
            applySince();
            m_view->resizeColumnsToContents();
            m_view->setColumnWidth(AuditModel::EventColumn, std::min(m_view->columnWidth(AuditModel::EventColumn), 640));
            m_view->horizontalHeader()->setStretchLastSection(true);
            m_summary->setText(QStringLiteral("%1 events, newest first; hover an event for what was recorded. Every change "
                                              "to the workspace is recorded with who made it and the commit it produced.")
                                   .arg(QLocale().toString(qint64(m_model->rowCount()))));
            emit loaded();
        });
}

void AuditView::verify()
{
    if (m_root.isEmpty())
        return;
    const QString root = m_root;
    m_verify->setEnabled(false);
    m_tasks->start<workspace::AuditVerification>(
        QStringLiteral("Verify the audit chain"), taskGroup("verify"), [root](Feedback &) { return jobs::verifyAudit(root); }, this,
        [this](Expected<workspace::AuditVerification> &&v) {
            m_verify->setEnabled(true);
            m_banner->show();
            if (!v) {
                m_verification.reset();
                m_banner->setStyleSheet(QStringLiteral("background:#fdecea; color:#8a1c1c; border-radius:4px;"));
                m_banner->setText(QStringLiteral("\u26a0 Could not verify: ") + escaped(v.error().toString()));
                emit verified(false);
                return;
            }
            m_verification = *v;
            if (v->ok) {
                QString text = QStringLiteral("\u2714 <b>Audit trail intact</b>: %1 events in an unbroken hash chain, matching "
                                              "the chain heads recorded in %2 commits.")
                                   .arg(QLocale().toString(v->events))
                                   .arg(QLocale().toString(v->anchors));
                if (v->unsealed)
                    text += QStringLiteral(" %1 newest events are not sealed yet.").arg(v->unsealed);
                m_banner->setStyleSheet(QStringLiteral("background:#e7f5ea; color:#1e5a2b; border-radius:4px;"));
                m_banner->setText(text);
            } else {
                m_banner->setStyleSheet(QStringLiteral("background:#fdecea; color:#8a1c1c; border-radius:4px;"));
                m_banner->setText(QStringLiteral("\u2716 <b>Audit trail BROKEN</b>: ") + escaped(v->problem));
            }
            emit verified(v->ok);
        });
}

void AuditView::showDecision(const QString &id)
{
    m_tabs->setCurrentIndex(DecisionTab);
    if (m_root.isEmpty() || id.isEmpty())
        return;
    if (m_predictionId->text().trimmed() != id)
        m_predictionId->setText(id);
    const QString root = m_root;
    m_decisionText->setText(QStringLiteral("Looking for prediction %1 in the prediction logs\u2026").arg(escaped(id)));
    m_tasks->start<serve::Decision>(
        QStringLiteral("Explain decision %1").arg(id), taskGroup("decision"), [root, id](Feedback &) { return jobs::explainDecision(root, id); },
        this, [this](Expected<serve::Decision> &&d) {
            if (!d) {
                m_decisionResult.reset();
                m_decisionText->setText(QStringLiteral("\u26a0 ") + escaped(d.error().toString()));
                m_waterfall->setMessage(QStringLiteral("No decision to explain"));
                m_inputs->setRowCount(0);
                emit decisionShown(false);
                return;
            }
            m_decisionResult = *d;
            showDecisionResult(*d);
            emit decisionShown(true);
        });
}

void AuditView::showDecisionResult(const serve::Decision &d)
{
    const registry::ModelVersion &m = d.model;
    QString html = d.kind == u"batch"
                       ? QStringLiteral("<p><b>Prediction %1</b>: row %2 of %3, scored by run %4 as <i>keel predict "
                                        "--explain</i> scores it.</p>")
                             .arg(escaped(d.id))
                             .arg(d.row)
                             .arg(escaped(d.data), escaped(d.runId.left(8)))
                       : QStringLiteral("<p><b>Prediction %1</b>, served %2 by deployment <b>%3</b> (revision %4).</p>")
                             .arg(escaped(d.id), escaped(localTime(d.time)), escaped(d.deployment))
                             .arg(d.revision);
    html += QStringLiteral("<p><b>Output</b> %1").arg(escaped(QString::fromUtf8(QJsonDocument(d.output).toJson(QJsonDocument::Compact))));
    html += d.feedback.isEmpty() ? QStringLiteral("; no feedback yet.</p>")
                                 : QStringLiteral("; feedback: the true label is <b>%1</b>.</p>")
                                       .arg(escaped(d.feedback.value(QStringLiteral("label")).toVariant().toString()));
    html += QStringLiteral("<p><b>Model</b> %1 (%2), trained by run %3 (%4) on %5")
                .arg(escaped(m.ref()), escaped(m.modelKind), escaped(m.runId.left(8)), escaped(m.runName), escaped(m.data.train));
    if (!m.data.evaluate.isEmpty())
        html += QStringLiteral(", tested on %1").arg(escaped(m.data.evaluate));
    html += QStringLiteral("; registered %1 by %2.").arg(escaped(localTime(m.registered)), escaped(m.by));
    if (m.approvals.empty())
        html += QStringLiteral(" Not approved by anyone.");
    for (const registry::Approval &a : m.approvals)
        html += QStringLiteral(" Approved by %1 on %2: \u201c%3\u201d.").arg(escaped(a.by), escaped(localTime(a.at)), escaped(a.message));
    html += QStringLiteral("</p>");
    if (d.live)
        html += QStringLiteral("<p><b>Live revision</b> %1, deployed by %2 on %3 as %4%5.</p>")
                    .arg(d.live->revision)
                    .arg(escaped(d.live->author), escaped(localTime(d.live->time)), escaped(d.live->model.requested),
                         d.live->message.isEmpty() ? QString() : QStringLiteral(": \u201c%1\u201d").arg(escaped(d.live->message)));
    html += d.reproduced ? QStringLiteral("<p>\u2714 %1 (bundle verified by hash) gives the logged output again; the "
                                          "explanation is the one /explain returned.</p>").arg(escaped(m.ref()))
                         : QStringLiteral("<p>\u2716 %1 does <b>not</b> reproduce the logged output for these inputs.</p>").arg(escaped(m.ref()));
    m_decisionText->setText(html);

    m_inputs->setRowCount(int(d.inputs.size()));
    int row = 0;
    for (auto it = d.inputs.begin(); it != d.inputs.end(); ++it, ++row) {
        m_inputs->setItem(row, 0, new QTableWidgetItem(it.key()));
        m_inputs->setItem(row, 1, new QTableWidgetItem(it.value().isNull() ? QStringLiteral("(missing)") : it.value().toVariant().toString()));
    }
    m_inputs->resizeColumnToContents(0);

    const QJsonObject e = QJsonDocument::fromJson(d.explanation).object();
    const QJsonObject contributions = e.value(QStringLiteral("contributions")).toObject();
    QStringList features, values;
    std::vector<double> deltas;
    for (auto it = contributions.begin(); it != contributions.end(); ++it) {
        features << it.key();
        const QJsonValue raw = d.inputs.value(it.key());
        values << (raw.isUndefined() || raw.isNull() ? QString() : raw.toVariant().toString());
        deltas.push_back(it.value().toDouble());
    }
    Waterfall w = makeWaterfall(features, deltas, values, e.value(QStringLiteral("base_value")).toDouble());
    w.title = QStringLiteral("Why %1 answered this for %2").arg(m.ref(), d.id);
    w.axisTitle = e.value(QStringLiteral("explained")).toString();
    m_waterfall->setBuilder([w](const QPalette &p) { return makeWaterfallChart(w, p); });
}

} // namespace keel::ui
