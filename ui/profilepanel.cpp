#include "profilepanel.h"

#include "charts.h"

#include <QtCharts/QChart>
#include <QtCharts/QChartView>

#include <QEvent>
#include <QGridLayout>
#include <QLabel>
#include <QLocale>
#include <QVBoxLayout>

#include <cmath>

namespace keel::ui {

using data::ColumnType;

QString statText(double value, ColumnType type)
{
    if (!std::isfinite(value))
        return QLocale::c().toString(value);
    if (type == ColumnType::Datetime)
        return data::formatDatetime(int64_t(std::llround(value)));
    if ((type == ColumnType::Int64 || type == ColumnType::Bool) && value == std::floor(value) && std::abs(value) < 9e15)
        return QString::number(qint64(value));
    return QLocale::c().toString(value, 'g', 6);
}

namespace {

QString countText(qint64 n) { return QLocale().toString(n); }

QString shareText(qint64 part, qint64 whole)
{
    if (whole == 0)
        return QStringLiteral("0%");
    const double p = 100.0 * double(part) / double(whole);
    return QLocale::c().toString(p, 'f', (p > 0 && p < 0.1) ? 3 : 1) + QLatin1Char('%');
}

bool drawsHistogram(ColumnType t) { return t == ColumnType::Int64 || t == ColumnType::Float64 || t == ColumnType::Datetime; }

} // namespace

ProfilePanel::ProfilePanel(QWidget *parent)
    : QWidget(parent), m_title(new QLabel(this)), m_stats(new QWidget(this)), m_grid(new QGridLayout(m_stats)),
      m_chartView(new QChartView(this))
{
    m_title->setObjectName(QStringLiteral("profileTitle"));
    m_title->setTextFormat(Qt::RichText);
    m_title->setWordWrap(true);
    m_grid->setContentsMargins(0, 0, 0, 0);
    m_grid->setHorizontalSpacing(10);
    m_grid->setVerticalSpacing(2);
    m_chartView->setRenderHint(QPainter::Antialiasing);
    m_chartView->setMinimumSize(240, 200);
    m_chartView->setFrameShape(QFrame::NoFrame);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addWidget(m_title);
    layout->addWidget(m_stats);
    layout->addWidget(m_chartView, 1);
    rebuild();
}

void ProfilePanel::setProfile(std::optional<data::ColumnProfile> profile)
{
    m_profile = std::move(profile);
    rebuild();
}

QString ProfilePanel::valueText(const QString &key) const { return m_values.value(key); }

void ProfilePanel::changeEvent(QEvent *event)
{
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange)
        rebuild();
}

void ProfilePanel::addRow(const QString &key, const QString &label, const QString &value)
{
    m_values.insert(key, value);
    const int r = m_row / 2, c = (m_row % 2) * 2;
    auto *l = new QLabel(label, m_stats);
    l->setForegroundRole(QPalette::PlaceholderText);
    auto *v = new QLabel(value, m_stats);
    v->setObjectName(QStringLiteral("stat_") + key);
    v->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_grid->addWidget(l, r, c);
    m_grid->addWidget(v, r, c + 1);
    ++m_row;
}

void ProfilePanel::rebuild()
{
    while (QLayoutItem *item = m_grid->takeAt(0)) {
        delete item->widget();
        delete item;
    }
    m_values.clear();
    m_row = 0;
    QChart *chart = nullptr;
    if (!m_profile) {
        m_title->setText(QStringLiteral("<i>Select a column to see its profile</i>"));
        chart = makeMessageChart(QString(), palette());
    } else {
        const data::ColumnProfile &p = *m_profile;
        const QString type = data::columnTypeName(p.type);
        m_title->setText(QStringLiteral("<b style='font-size:large'>%1</b> &nbsp; <span>%2</span>")
                             .arg(p.name.toHtmlEscaped(), type));
        m_values.insert(QStringLiteral("type"), type);
        addRow(QStringLiteral("rows"), QStringLiteral("Rows"), countText(p.count));
        addRow(QStringLiteral("missing"), QStringLiteral("Missing"),
               QStringLiteral("%1 (%2)").arg(countText(p.missing), shareText(p.missing, p.count)));
        addRow(QStringLiteral("distinct"), QStringLiteral("Distinct"), countText(p.distinct));
        if (p.min)
            addRow(QStringLiteral("min"), QStringLiteral("Min"), statText(*p.min, p.type));
        if (p.max)
            addRow(QStringLiteral("max"), QStringLiteral("Max"), statText(*p.max, p.type));
        if (p.mean)
            addRow(QStringLiteral("mean"), QStringLiteral("Mean"), statText(*p.mean, p.type == ColumnType::Int64 ? ColumnType::Float64 : p.type));
        if (p.std)
            addRow(QStringLiteral("std"), QStringLiteral("Std. dev."),
                   p.type == ColumnType::Datetime ? QStringLiteral("%1 days").arg(QLocale::c().toString(*p.std / 86400000.0, 'g', 4))
                                                  : statText(*p.std, ColumnType::Float64));
        for (const data::Quantile &q : p.quantiles) {
            const QString key = QStringLiteral("p") + QString::number(int(std::lround(q.p * 100)));
            addRow(key, key == u"p50" ? QStringLiteral("Median") : key.toUpper(), statText(q.value, p.type));
        }
        if (drawsHistogram(p.type)) {
            chart = makeHistogramChart(p.histogram, p.type == ColumnType::Datetime,
                                       QStringLiteral("Distribution of %1").arg(p.name), palette());
        } else {
            QString title = QStringLiteral("Most frequent values");
            if (p.distinct > qint64(p.topCategories.size()))
                title = QStringLiteral("Top %1 of %2 values").arg(p.topCategories.size()).arg(countText(p.distinct));
            chart = makeCategoryChart(p.topCategories, p.count, title, palette());
        }
    }
    QChart *old = m_chartView->chart();
    m_chartView->setChart(chart);
    delete old;
    m_chartView->setBackgroundBrush(palette().brush(QPalette::Base));
}

// ---------------------------------------------------------------------------------------------------------------

ColumnSummaryModel::ColumnSummaryModel(QObject *parent) : QAbstractTableModel(parent) {}

void ColumnSummaryModel::setProfile(data::TableProfile profile)
{
    beginResetModel();
    m_profile = std::move(profile);
    endResetModel();
}

int ColumnSummaryModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_profile.columns.size());
}

int ColumnSummaryModel::columnCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant ColumnSummaryModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const data::ColumnProfile &p = m_profile.columns[size_t(index.row())];
    const auto optNumber = [](const std::optional<double> &v) { return v ? QVariant(*v) : QVariant(); };
    if (role == RawRole) {
        switch (index.column()) {
        case NameColumn: return p.name;
        case TypeColumn: return data::columnTypeName(p.type);
        case MissingColumn: return p.missingShare();
        case DistinctColumn: return double(p.distinct);
        case MinColumn: return optNumber(p.min);
        case MaxColumn: return optNumber(p.max);
        case MeanColumn: return optNumber(p.mean);
        case StdColumn: return optNumber(p.std);
        case TopColumn: return p.topCategories.empty() ? QVariant() : QVariant(p.topCategories.front().value);
        }
        return {};
    }
    if (role == Qt::DisplayRole) {
        const auto num = [&](const std::optional<double> &v, ColumnType t) { return v ? statText(*v, t) : QString(); };
        switch (index.column()) {
        case NameColumn: return p.name;
        case TypeColumn: return data::columnTypeName(p.type);
        case MissingColumn: return shareText(p.missing, p.count);
        case DistinctColumn: return countText(p.distinct);
        case MinColumn: return num(p.min, p.type);
        case MaxColumn: return num(p.max, p.type);
        case MeanColumn: return num(p.mean, p.type == ColumnType::Datetime ? p.type : ColumnType::Float64);
        case StdColumn:
            if (p.type == ColumnType::Datetime && p.std)
                return QStringLiteral("%1 d").arg(QLocale::c().toString(*p.std / 86400000.0, 'g', 4));
            return num(p.std, ColumnType::Float64);
        case TopColumn:
            if (p.topCategories.empty())
                return QString();
            return QStringLiteral("%1 (%2)").arg(p.topCategories.front().value, shareText(p.topCategories.front().count, p.count));
        }
        return {};
    }
    if (role == Qt::TextAlignmentRole) {
        if (index.column() >= MissingColumn && index.column() <= StdColumn)
            return int(Qt::AlignRight | Qt::AlignVCenter);
        return int(Qt::AlignLeft | Qt::AlignVCenter);
    }
    return {};
}

QVariant ColumnSummaryModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case NameColumn: return QStringLiteral("Column");
    case TypeColumn: return QStringLiteral("Type");
    case MissingColumn: return QStringLiteral("Missing");
    case DistinctColumn: return QStringLiteral("Distinct");
    case MinColumn: return QStringLiteral("Min");
    case MaxColumn: return QStringLiteral("Max");
    case MeanColumn: return QStringLiteral("Mean");
    case StdColumn: return QStringLiteral("Std. dev.");
    case TopColumn: return QStringLiteral("Most frequent");
    }
    return {};
}

} // namespace keel::ui
