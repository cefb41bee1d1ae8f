#include "runtablemodel.h"

#include "workspace/workspace.h"

#include <QColor>
#include <QFont>
#include <QIcon>
#include <QLocale>
#include <QPainter>
#include <QPixmap>
#include <QRegularExpression>
#include <QSet>

#include <algorithm>
#include <cmath>

namespace keel::ui {

namespace {

constexpr int kCheckEvery = 1024;

const QString kParamsPrefix = QStringLiteral("params.");


/// A sortable value of one cell: numbers before text, missing values apart.
struct SortKey {
    bool missing = true;
    bool numeric = false;
    double number = 0;
    QString text;
};

SortKey numberKey(double v)
{
    SortKey k;
    if (std::isnan(v))
        return k;
    k.missing = false;
    k.numeric = true;
    k.number = v;
    return k;
}

SortKey textKey(const QString &s)
{
    SortKey k;
    if (s.isNull())
        return k;
    k.missing = false;
    k.text = s;
    return k;
}

SortKey sortKey(const RunSet &set, int index, const RunColumn &column)
{
    const tracking::RunRecord &r = set.runs[size_t(index)].run;
    switch (column.kind) {
    case RunColumn::Kind::Name: return textKey(runCellText(set, index, column).toLower());
    case RunColumn::Kind::Status: return textKey(tracking::runStatusName(r.status));
    case RunColumn::Kind::Started: return r.start.isValid() ? numberKey(double(r.start.toMSecsSinceEpoch())) : SortKey{};
    case RunColumn::Kind::Duration:
        return r.start.isValid() && r.end.isValid() ? numberKey(double(r.start.msecsTo(r.end))) : SortKey{};
    case RunColumn::Kind::User: return textKey(r.user);
    case RunColumn::Kind::Id: return textKey(r.id);
    case RunColumn::Kind::Param: {
        const QString v = set.param(index, column.key);
        bool ok = false;
        const double d = v.toDouble(&ok);
        return ok ? numberKey(d) : textKey(v);
    }
    case RunColumn::Kind::Metric: {
        const auto m = set.metric(index, column.key);
        return m ? numberKey(*m) : SortKey{};
    }
    }
    return {};
}

/// Strict weak order on present values (missing handled by the caller): numbers before text.
bool valueLess(const SortKey &a, const SortKey &b)
{
    if (a.numeric != b.numeric)
        return a.numeric;
    if (a.numeric)
        return a.number < b.number;
    return a.text < b.text;
}

/// A parsed filter: a condition on one column, or free text.
struct ParsedFilter {
    enum class Op { None, Eq, Ne, Lt, Le, Gt, Ge };
    Op op = Op::None;
    bool experiment = false;     ///< the condition is on the experiment name
    RunColumn column;
    QString value;
    bool valueNumeric = false;
    double number = 0;
    QString needle;              ///< free text (op == None)
};

ParsedFilter parseFilter(const RunSet &set, const RunFilter &filter)
{
    ParsedFilter f;
    const QString text = filter.text.trimmed();
    static const QRegularExpression condition(QStringLiteral("^([A-Za-z0-9_.:\\-]+)\\s*(<=|>=|!=|=|<|>)\\s*(.*)$"));
    const QRegularExpressionMatch m = condition.match(text);
    if (m.hasMatch()) {
        const QString key = m.captured(1);
        std::optional<RunColumn> column;
        bool experiment = false;
        if (key == u"experiment")
            experiment = true;
        else if (set.metricKeys.contains(key))
            column = RunColumn{RunColumn::Kind::Metric, key};
        else if (set.paramKeys.contains(key))
            column = RunColumn{RunColumn::Kind::Param, key};
        else if (set.paramKeys.contains(kParamsPrefix + key))
            column = RunColumn{RunColumn::Kind::Param, kParamsPrefix + key};
        else
            column = RunColumn::fromId(key);
        if (experiment || column) {
            const QString op = m.captured(2);
            f.op = op == u"=" ? ParsedFilter::Op::Eq
                 : op == u"!=" ? ParsedFilter::Op::Ne
                 : op == u"<" ? ParsedFilter::Op::Lt
                 : op == u"<=" ? ParsedFilter::Op::Le
                 : op == u">" ? ParsedFilter::Op::Gt
                              : ParsedFilter::Op::Ge;
            f.experiment = experiment;
            if (column)
                f.column = *column;
            f.value = m.captured(3).trimmed();
            f.number = f.value.toDouble(&f.valueNumeric);
            return f;
        }
    }
    f.needle = text;
    return f;
}

template <class T>
bool compare(ParsedFilter::Op op, const T &a, const T &b)
{
    switch (op) {
    case ParsedFilter::Op::Eq: return a == b;
    case ParsedFilter::Op::Ne: return a != b;
    case ParsedFilter::Op::Lt: return a < b;
    case ParsedFilter::Op::Le: return a <= b;
    case ParsedFilter::Op::Gt: return a > b;
    case ParsedFilter::Op::Ge: return a >= b;
    case ParsedFilter::Op::None: return true;
    }
    return false;
}

bool matches(const RunSet &set, int index, const ParsedFilter &f)
{
    const tracking::RunSummary &s = set.runs[size_t(index)];
    if (f.op == ParsedFilter::Op::None) {
        if (f.needle.isEmpty())
            return true;
        const auto has = [&](const QString &v) { return v.contains(f.needle, Qt::CaseInsensitive); };
        if (has(s.run.name) || has(s.run.id) || has(s.run.experiment) || has(tracking::runStatusName(s.run.status))
            || has(s.run.user))
            return true;
        return std::any_of(s.params.begin(), s.params.end(), [&](const auto &p) { return has(p.second); });
    }
    if (f.experiment)
        return compare(f.op, s.run.experiment, f.value);
    // Numbers compare numerically (metrics, durations in seconds, numeric params); the rest as text.
    std::optional<double> number;
    QString text;
    switch (f.column.kind) {
    case RunColumn::Kind::Metric: {
        number = set.metric(index, f.column.key);
        if (!number || std::isnan(*number))
            return false;
        break;
    }
    case RunColumn::Kind::Duration:
        if (!s.run.start.isValid() || !s.run.end.isValid())
            return false;
        number = double(s.run.start.msecsTo(s.run.end)) / 1000.0;
        break;
    case RunColumn::Kind::Param: {
        text = set.param(index, f.column.key);
        if (text.isNull())
            return false;
        bool ok = false;
        const double d = text.toDouble(&ok);
        if (ok && f.valueNumeric)
            number = d;
        break;
    }
    default:
        text = runCellText(set, index, f.column);
        break;
    }
    if (number) {
        if (!f.valueNumeric)
            return false;
        return compare(f.op, *number, f.number);
    }
    return compare(f.op, text, f.value);
}

QIcon statusIcon(tracking::RunStatus status)
{
    QPixmap pm(12, 12);
    pm.fill(Qt::transparent);
    QPainter p(&pm);
    p.setRenderHint(QPainter::Antialiasing);
    p.setPen(Qt::NoPen);
    p.setBrush(runStatusColor(status));
    p.drawEllipse(QRectF(1.5, 1.5, 9, 9));
    p.end();
    return QIcon(pm);
}

} // namespace

// ---- RunSet ----

const tracking::RunSummary *RunSet::find(const QString &id) const
{
    const auto it = indexOfId.constFind(id);
    return it == indexOfId.constEnd() ? nullptr : &runs[size_t(*it)];
}

QString RunSet::param(int index, const QString &key) const
{
    const auto &params = runs[size_t(index)].params;
    const auto it = std::lower_bound(params.begin(), params.end(), key,
                                     [](const auto &p, const QString &k) { return p.first < k; });
    return it != params.end() && it->first == key ? it->second : QString();
}

std::optional<double> RunSet::metric(int index, const QString &key) const
{
    const auto &metrics = runs[size_t(index)].metrics;
    const auto find = [&](const QString &k) -> std::optional<double> {
        const auto it = std::lower_bound(metrics.begin(), metrics.end(), k,
                                         [](const auto &m, const QString &x) { return m.first < x; });
        if (it != metrics.end() && it->first == k)
            return it->second;
        return std::nullopt;
    };
    if (auto v = find(key))
        return v;
    const tracking::RunRecord &r = runs[size_t(index)].run;
    if (!r.sweepId.isEmpty() && r.sweepId == r.id && !key.startsWith(QLatin1String("best.")))
        return find(QStringLiteral("best.") + key);
    return std::nullopt;
}

std::shared_ptr<const RunSet> makeRunSet(QString root, std::vector<tracking::RunSummary> runs)
{
    auto set = std::make_shared<RunSet>();
    set->root = std::move(root);
    set->runs = std::move(runs);
    QSet<QString> params, metrics, experiments;
    set->indexOfId.reserve(qsizetype(set->runs.size()));
    for (size_t i = 0; i < set->runs.size(); ++i) {
        const tracking::RunSummary &s = set->runs[i];
        set->indexOfId.insert(s.run.id, int(i));
        experiments.insert(s.run.experiment);
        for (const auto &p : s.params)
            params.insert(p.first);
        for (const auto &m : s.metrics)
            metrics.insert(m.first);
        if (!s.run.parentRunId.isEmpty())
            set->childrenOf[s.run.parentRunId].push_back(int(i));
    }
    set->paramKeys = QStringList(params.begin(), params.end());
    set->metricKeys = QStringList(metrics.begin(), metrics.end());
    set->experiments = QStringList(experiments.begin(), experiments.end());
    set->paramKeys.sort();
    set->metricKeys.sort();
    set->experiments.sort();
    return set;
}

Expected<std::shared_ptr<const RunSet>> loadRunSet(const QString &root, Feedback *feedback)
{
    auto ws = workspace::Workspace::open(root);
    if (!ws)
        return ws.error();
    auto store = (*ws)->tracking();
    if (!store)
        return store.error();
    if (auto killed = (*store)->markDeadRunsKilled(); !killed)
        return killed.error();
    auto summaries = (*store)->runSummaries({}, feedback);
    if (!summaries)
        return summaries.error();
    return makeRunSet(root, std::move(*summaries));
}

// ---- columns ----

QString RunColumn::id() const
{
    switch (kind) {
    case Kind::Name: return QStringLiteral("name");
    case Kind::Status: return QStringLiteral("status");
    case Kind::Started: return QStringLiteral("started");
    case Kind::Duration: return QStringLiteral("duration");
    case Kind::User: return QStringLiteral("user");
    case Kind::Id: return QStringLiteral("id");
    case Kind::Param: return QStringLiteral("param:") + key;
    case Kind::Metric: return QStringLiteral("metric:") + key;
    }
    return {};
}

std::optional<RunColumn> RunColumn::fromId(const QString &id)
{
    if (id.startsWith(QLatin1String("param:")) && id.size() > 6)
        return RunColumn{Kind::Param, id.mid(6)};
    if (id.startsWith(QLatin1String("metric:")) && id.size() > 7)
        return RunColumn{Kind::Metric, id.mid(7)};
    for (const RunColumn &c : runFieldColumns())
        if (c.id() == id)
            return c;
    return std::nullopt;
}

QString RunColumn::title() const
{
    switch (kind) {
    case Kind::Name: return QStringLiteral("Name");
    case Kind::Status: return QStringLiteral("Status");
    case Kind::Started: return QStringLiteral("Started");
    case Kind::Duration: return QStringLiteral("Duration");
    case Kind::User: return QStringLiteral("User");
    case Kind::Id: return QStringLiteral("Run id");
    case Kind::Param: return key.startsWith(kParamsPrefix) ? key.mid(kParamsPrefix.size()) : key;
    case Kind::Metric: return key;
    }
    return {};
}

std::vector<RunColumn> runFieldColumns()
{
    using K = RunColumn::Kind;
    return {{K::Name, {}}, {K::Status, {}}, {K::Started, {}}, {K::Duration, {}}, {K::User, {}}, {K::Id, {}}};
}

std::vector<RunColumn> defaultRunColumns(const RunSet &runs)
{
    using K = RunColumn::Kind;
    std::vector<RunColumn> out = {{K::Name, {}}, {K::Status, {}}};
    for (const char *m : {"test.accuracy", "test.roc_auc", "test.rmse", "test.r2"})
        if (runs.metricKeys.contains(QLatin1String(m)))
            out.push_back({K::Metric, QLatin1String(m)});
    for (const char *p : {"learner", "data"})
        if (runs.paramKeys.contains(QLatin1String(p)))
            out.push_back({K::Param, QLatin1String(p)});
    out.push_back({K::Started, {}});
    out.push_back({K::Duration, {}});
    return out;
}

QString runCellText(const RunSet &runs, int index, const RunColumn &column)
{
    const tracking::RunRecord &r = runs.runs[size_t(index)].run;
    switch (column.kind) {
    case RunColumn::Kind::Name: return r.name.isEmpty() ? r.id.left(8) : r.name;
    case RunColumn::Kind::Status: return tracking::runStatusName(r.status);
    case RunColumn::Kind::Started:
        return r.start.isValid() ? r.start.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm")) : QString();
    case RunColumn::Kind::Duration: return formatRunDuration(r);
    case RunColumn::Kind::User: return r.user;
    case RunColumn::Kind::Id: return r.id;
    case RunColumn::Kind::Param: return runs.param(index, column.key);
    case RunColumn::Kind::Metric: {
        const auto m = runs.metric(index, column.key);
        return m ? formatMetric(*m) : QString();
    }
    }
    return {};
}

bool runMatches(const RunSet &runs, int index, const RunFilter &filter)
{
    return matches(runs, index, parseFilter(runs, filter));
}

// ---- layout ----

Expected<std::shared_ptr<const RunLayout>> layoutRuns(const RunSet &set, const RunColumn &sortColumn,
                                                      Qt::SortOrder order, const RunFilter &filter, Feedback *feedback)
{
    const QString stage = QStringLiteral("sort");
    const int n = int(set.runs.size());
    const ParsedFilter parsed = parseFilter(set, filter);
    std::vector<char> matched(static_cast<size_t>(n));
    std::vector<SortKey> keys(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
        if (i % kCheckEvery == 0) {
            if (isCancelled(feedback))
                return cancelledError();
            reportProgress(feedback, i, n, stage);
        }
        matched[size_t(i)] = matches(set, i, parsed);
        keys[size_t(i)] = sortKey(set, i, sortColumn);
    }
    const bool descending = order == Qt::DescendingOrder;
    const auto less = [&](int a, int b) {
        const SortKey &ka = keys[size_t(a)], &kb = keys[size_t(b)];
        if (ka.missing || kb.missing)
            return !ka.missing && kb.missing;
        return descending ? valueLess(kb, ka) : valueLess(ka, kb);
    };

    auto layout = std::make_shared<RunLayout>();
    layout->totalRuns = n;
    layout->nodeOfRun.assign(size_t(n), -1);
    layout->nodes.push_back(RunNode{});

    // Runs per experiment, in start order.
    QHash<QString, std::vector<int>> byExperiment;
    for (int i = 0; i < n; ++i)
        byExperiment[set.runs[size_t(i)].run.experiment].push_back(i);

    struct Entry {
        int run = -1;                 ///< -1: a sweep whose run is not in this experiment
        QString sweep;
        std::vector<int> trials;      ///< shown trials, sorted
        int sortRun = -1;             ///< run whose key orders the entry
    };
    for (const QString &experiment : set.experiments) {
        if (isCancelled(feedback))
            return cancelledError();
        const std::vector<int> &members = byExperiment[experiment];
        std::vector<Entry> entries;
        QHash<QString, std::vector<int>> trialsBySweep;
        QHash<QString, size_t> entryOfRun;
        for (int i : members) {
            const tracking::RunRecord &r = set.runs[size_t(i)].run;
            if (!r.sweepId.isEmpty() && r.sweepId != r.id) {
                trialsBySweep[r.sweepId].push_back(i);
            } else {
                entryOfRun.insert(r.id, entries.size());
                entries.push_back(Entry{i, r.sweepId, {}, i});
            }
        }
        QStringList sweeps = trialsBySweep.keys();
        sweeps.sort();
        for (const QString &sweep : sweeps) {
            std::vector<int> shown;
            for (int t : trialsBySweep[sweep])
                if (matched[size_t(t)])
                    shown.push_back(t);
            std::stable_sort(shown.begin(), shown.end(), less);
            const auto it = entryOfRun.constFind(sweep);
            if (it != entryOfRun.constEnd()) {
                entries[*it].trials = std::move(shown);
            } else if (!shown.empty()) {
                Entry e;
                e.sweep = sweep;
                e.sortRun = shown.front();
                e.trials = std::move(shown);
                entries.push_back(std::move(e));
            }
        }
        std::erase_if(entries, [&](const Entry &e) {
            return e.trials.empty() && (e.run < 0 || !matched[size_t(e.run)]);
        });
        if (entries.empty())
            continue;
        std::stable_sort(entries.begin(), entries.end(),
                         [&](const Entry &a, const Entry &b) { return less(a.sortRun, b.sortRun); });

        const int experimentNode = int(layout->nodes.size());
        RunNode en;
        en.kind = RunNode::Kind::Experiment;
        en.label = experiment;
        en.parent = 0;
        en.row = int(layout->nodes[0].children.size());
        layout->nodes[0].children.push_back(experimentNode);
        layout->nodes.push_back(en);
        int experimentRuns = 0;
        for (const Entry &e : entries) {
            const int node = int(layout->nodes.size());
            RunNode rn;
            rn.kind = e.run >= 0 ? RunNode::Kind::Run : RunNode::Kind::Sweep;
            rn.run = e.run;
            rn.label = e.sweep;
            rn.parent = experimentNode;
            rn.row = int(layout->nodes[size_t(experimentNode)].children.size());
            rn.shownRuns = (e.run >= 0 ? 1 : 0) + int(e.trials.size());
            layout->nodes[size_t(experimentNode)].children.push_back(node);
            layout->nodes.push_back(rn);
            if (e.run >= 0)
                layout->nodeOfRun[size_t(e.run)] = node;
            for (int t : e.trials) {
                const int tn = int(layout->nodes.size());
                RunNode trial;
                trial.kind = RunNode::Kind::Run;
                trial.run = t;
                trial.parent = node;
                trial.row = int(layout->nodes[size_t(node)].children.size());
                trial.shownRuns = 1;
                layout->nodes[size_t(node)].children.push_back(tn);
                layout->nodes.push_back(trial);
                layout->nodeOfRun[size_t(t)] = tn;
            }
            experimentRuns += layout->nodes[size_t(node)].shownRuns;
        }
        layout->nodes[size_t(experimentNode)].shownRuns = experimentRuns;
        layout->shownRuns += experimentRuns;
    }
    layout->nodes[0].shownRuns = layout->shownRuns;
    reportProgress(feedback, n, n, stage);
    return std::shared_ptr<const RunLayout>(std::move(layout));
}

// ---- model ----

RunTableModel::RunTableModel(QObject *parent) : QAbstractItemModel(parent) {}

void RunTableModel::setRuns(std::shared_ptr<const RunSet> runs, std::shared_ptr<const RunLayout> layout)
{
    beginResetModel();
    m_runs = std::move(runs);
    m_layout = std::move(layout);
    endResetModel();
}

void RunTableModel::setLayout(std::shared_ptr<const RunLayout> layout)
{
    beginResetModel();
    m_layout = std::move(layout);
    endResetModel();
}

void RunTableModel::setColumns(std::vector<RunColumn> columns)
{
    beginResetModel();
    m_columns = std::move(columns);
    endResetModel();
}

const RunNode *RunTableModel::nodeOf(const QModelIndex &index) const
{
    if (!m_layout)
        return nullptr;
    const size_t id = index.isValid() ? size_t(index.internalId()) : 0;
    return id < m_layout->nodes.size() ? &m_layout->nodes[id] : nullptr;
}

QModelIndex RunTableModel::indexOfRun(const QString &runId) const
{
    if (!m_runs || !m_layout)
        return {};
    const auto it = m_runs->indexOfId.constFind(runId);
    if (it == m_runs->indexOfId.constEnd() || size_t(*it) >= m_layout->nodeOfRun.size())
        return {};
    const int node = m_layout->nodeOfRun[size_t(*it)];
    if (node <= 0)
        return {};
    return createIndex(m_layout->nodes[size_t(node)].row, 0, quintptr(node));
}

QModelIndex RunTableModel::indexOfExperiment(const QString &name) const
{
    if (!m_layout)
        return {};
    for (int node : m_layout->nodes[0].children)
        if (m_layout->nodes[size_t(node)].label == name)
            return createIndex(m_layout->nodes[size_t(node)].row, 0, quintptr(node));
    return {};
}

const tracking::RunSummary *RunTableModel::runAt(const QModelIndex &index) const
{
    const RunNode *node = index.isValid() ? nodeOf(index) : nullptr;
    if (!node || node->kind != RunNode::Kind::Run || !m_runs)
        return nullptr;
    return &m_runs->runs[size_t(node->run)];
}

QModelIndex RunTableModel::index(int row, int column, const QModelIndex &parent) const
{
    if (row < 0 || column < 0 || column >= columnCount(parent))
        return {};
    if (parent.isValid() && parent.column() != 0)
        return {};
    const RunNode *p = nodeOf(parent);
    if (!p || size_t(row) >= p->children.size())
        return {};
    return createIndex(row, column, quintptr(p->children[size_t(row)]));
}

QModelIndex RunTableModel::parent(const QModelIndex &child) const
{
    const RunNode *node = child.isValid() ? nodeOf(child) : nullptr;
    if (!node || node->parent <= 0)
        return {};
    return createIndex(m_layout->nodes[size_t(node->parent)].row, 0, quintptr(node->parent));
}

int RunTableModel::rowCount(const QModelIndex &parent) const
{
    if (parent.isValid() && parent.column() != 0)
        return 0;
    const RunNode *node = nodeOf(parent);
    return node ? int(node->children.size()) : 0;
}

int RunTableModel::columnCount(const QModelIndex &) const { return int(m_columns.size()); }

QVariant RunTableModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid) || !m_runs)
        return {};
    const RunNode *node = nodeOf(index);
    if (!node)
        return {};
    const RunColumn &column = m_columns[size_t(index.column())];
    if (role == NodeKindRole)
        return int(node->kind);
    if (role == Qt::SizeHintRole)
        return m_rowHeight > 0 ? QVariant(QSize(-1, m_rowHeight)) : QVariant();

    if (node->kind != RunNode::Kind::Run) {
        const bool experiment = node->kind == RunNode::Kind::Experiment;
        switch (role) {
        case Qt::DisplayRole:
            if (index.column() != 0)
                return {};
            if (experiment)
                return QStringLiteral("%1 \u2014 %2 %3")
                    .arg(node->label, QLocale().toString(node->shownRuns),
                         node->shownRuns == 1 ? QStringLiteral("run") : QStringLiteral("runs"));
            return QStringLiteral("sweep %1 \u2014 %2 trials").arg(node->label.left(8)).arg(node->shownRuns);
        case Qt::FontRole:
            if (experiment) {
                QFont f;
                f.setBold(true);
                return f;
            }
            return {};
        case Qt::ToolTipRole:
            return experiment ? QStringLiteral("Experiment %1").arg(node->label)
                              : QStringLiteral("Sweep %1 (its parent run is not in this experiment)").arg(node->label);
        case ExperimentRole:
            return experiment ? node->label : QVariant();
        case RunIdRole: return QString();
        default: return {};
        }
    }

    const int run = node->run;
    const tracking::RunRecord &r = m_runs->runs[size_t(run)].run;
    switch (role) {
    case Qt::DisplayRole: {
        QString text = runCellText(*m_runs, run, column);
        if (column.kind == RunColumn::Kind::Name && !node->children.empty())
            text += QStringLiteral("  (sweep, %1 trials)").arg(node->children.size());
        else if (column.kind == RunColumn::Kind::Status && r.status == tracking::RunStatus::Running)
            text = QStringLiteral("running\u2026");
        return text;
    }
    case Qt::DecorationRole:
        if (column.kind == RunColumn::Kind::Status) {
            auto it = m_icons.find(int(r.status));
            if (it == m_icons.end())
                it = m_icons.insert(int(r.status), statusIcon(r.status));
            return *it;
        }
        return {};
    case Qt::ToolTipRole:
        switch (column.kind) {
        case RunColumn::Kind::Name: {
            QString tip = QStringLiteral("Run %1\nexperiment %2").arg(r.id, r.experiment);
            if (!r.parentRunId.isEmpty()) {
                const tracking::RunSummary *p = m_runs->find(r.parentRunId);
                tip += QStringLiteral("\nbranched from %1").arg(p && !p->run.name.isEmpty() ? p->run.name : r.parentRunId.left(8));
            }
            if (!r.sweepId.isEmpty())
                tip += QStringLiteral("\nsweep %1").arg(r.sweepId.left(8));
            return tip;
        }
        case RunColumn::Kind::Metric: {
            const auto m = m_runs->metric(run, column.key);
            if (!m)
                return {};
            const auto &own = m_runs->runs[size_t(run)].metrics;
            const bool best = std::none_of(own.begin(), own.end(), [&](const auto &x) { return x.first == column.key; });
            return QStringLiteral("%1 = %2%3").arg(column.key, QString::number(*m, 'g', 17),
                                                   best ? QStringLiteral(" (the sweep's best trial)") : QString());
        }
        case RunColumn::Kind::Param: {
            const QString v = m_runs->param(run, column.key);
            return v.isNull() ? QVariant() : QVariant(column.key + QStringLiteral(" = ") + v);
        }
        case RunColumn::Kind::Started: return r.start.toLocalTime().toString(Qt::ISODate);
        default: return {};
        }
    case Qt::TextAlignmentRole:
        if (column.kind == RunColumn::Kind::Metric || column.kind == RunColumn::Kind::Duration)
            return int(Qt::AlignRight | Qt::AlignVCenter);
        return int(Qt::AlignLeft | Qt::AlignVCenter);
    case RunIdRole: return r.id;
    case StatusRole: return int(r.status);
    case ExperimentRole: return r.experiment;
    default: return {};
    }
}

QVariant RunTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || section < 0 || section >= int(m_columns.size()))
        return {};
    const RunColumn &c = m_columns[size_t(section)];
    if (role == Qt::DisplayRole)
        return c.title();
    if (role == Qt::ToolTipRole) {
        if (c.kind == RunColumn::Kind::Param)
            return QStringLiteral("parameter %1").arg(c.key);
        if (c.kind == RunColumn::Kind::Metric)
            return QStringLiteral("final metric %1").arg(c.key);
        return c.title();
    }
    if (role == Qt::TextAlignmentRole && (c.kind == RunColumn::Kind::Metric || c.kind == RunColumn::Kind::Duration))
        return int(Qt::AlignRight | Qt::AlignVCenter);
    return {};
}

Qt::ItemFlags RunTableModel::flags(const QModelIndex &index) const
{
    if (!index.isValid())
        return Qt::NoItemFlags;
    const RunNode *node = nodeOf(index);
    if (node && node->kind == RunNode::Kind::Run)
        return Qt::ItemIsEnabled | Qt::ItemIsSelectable;
    return Qt::ItemIsEnabled;
}

// ---- formatting ----

QString formatRunDuration(const tracking::RunRecord &run)
{
    if (!run.start.isValid() || !run.end.isValid())
        return {};
    const qint64 ms = std::max<qint64>(0, run.start.msecsTo(run.end));
    if (ms < 60'000)
        return QLocale::c().toString(double(ms) / 1000.0, 'f', 1) + QStringLiteral(" s");
    const qint64 s = ms / 1000;
    if (s < 3600)
        return QStringLiteral("%1 min %2 s").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
    return QStringLiteral("%1 h %2 min").arg(s / 3600).arg((s % 3600) / 60, 2, 10, QLatin1Char('0'));
}

QString formatMetric(double value)
{
    if (std::isnan(value))
        return QStringLiteral("NaN");
    return QLocale::c().toString(value, 'g', 4);
}

QColor runStatusColor(tracking::RunStatus status)
{
    switch (status) {
    case tracking::RunStatus::Running: return QColor(0x3d, 0x8e, 0xe6);
    case tracking::RunStatus::Finished: return QColor(0x2e, 0xa0, 0x5a);
    case tracking::RunStatus::Failed: return QColor(0xdb, 0x44, 0x4e);
    case tracking::RunStatus::Killed: return QColor(0x9a, 0x9d, 0xa3);
    }
    return {};
}

} // namespace keel::ui
