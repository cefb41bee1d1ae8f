#pragma once
// Writing CSV (RFC 4180): the one quoting rule behind predictions, exports and the registry's background samples.

#include "data/table.h"

#include <QByteArray>
#include <QString>
#include <QStringList>

namespace keel::data {

/// `s` as one CSV field: quoted (with doubled quotes) when it holds a comma, a quote or a line break.
QString csvField(const QString &s);

/// `table` as CSV with a header row, LF line ends; values as Column::displayAt shows them (numbers in shortest
/// round-trip form, datetimes in ISO 8601), missing values as empty fields. `columns` picks and orders the columns
/// (empty: all); an unknown name is an error naming it.
Expected<QByteArray> tableToCsv(const Table &table, const QStringList &columns = {});

} // namespace keel::data
