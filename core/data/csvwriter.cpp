#include "data/csvwriter.h"

namespace keel::data {

QString csvField(const QString &s)
{
    if (!s.contains(QLatin1Char(',')) && !s.contains(QLatin1Char('"')) && !s.contains(QLatin1Char('\n'))
        && !s.contains(QLatin1Char('\r')))
        return s;
    QString q = s;
    q.replace(QLatin1Char('"'), QStringLiteral("\"\""));
    return QLatin1Char('"') + q + QLatin1Char('"');
}

Expected<QByteArray> tableToCsv(const Table &table, const QStringList &columns)
{
    std::vector<int> picked;
    if (columns.isEmpty()) {
        for (int c = 0; c < table.columnCount(); ++c)
            picked.push_back(c);
    } else {
        for (const QString &name : columns) {
            const int c = table.indexOf(name);
            if (c < 0)
                return makeError(ErrorKind::InvalidInput, QStringLiteral("no column '%1'").arg(name), {}, -1, name);
            picked.push_back(c);
        }
    }
    QString out;
    for (size_t i = 0; i < picked.size(); ++i)
        out += (i ? QStringLiteral(",") : QString()) + csvField(table.column(picked[i]).name());
    out += QLatin1Char('\n');
    for (qint64 r = 0; r < table.rowCount(); ++r) {
        for (size_t i = 0; i < picked.size(); ++i)
            out += (i ? QStringLiteral(",") : QString()) + csvField(table.column(picked[i]).displayAt(r));
        out += QLatin1Char('\n');
    }
    return out.toUtf8();
}

} // namespace keel::data
