#pragma once
// Row orders for the table view, computed off the UI thread: a sort permutation, a filtered row index and a
// value search. Pure functions over a keel::data::Table (read only, so safe from any thread); the view model
// maps its rows through the vector they return instead of touching the data.

#include "data/table.h"
#include "util/feedback.h"
#include "util/result.h"

#include <QString>

#include <optional>
#include <vector>

namespace keel::ui {

/// Table row numbers in view order.
using RowIndex = std::vector<qint64>;

/// All rows ordered by `column`, stable (ties keep table order), ascending or descending by value: numbers
/// numerically, datetimes by time, false before true, text and categories by Unicode code point. NaN values
/// follow the other values and missing values come last, in both orders. Progress stage "sort"; cancel gives
/// the error "cancelled". Safe from any thread.
Expected<RowIndex> sortRows(const data::Table &table, int column, Qt::SortOrder order, Feedback *feedback = nullptr);

/// A condition on one column for filtering the table view.
struct RowFilter {
    enum class Op { Contains, Equals, NotEquals, Less, LessOrEqual, Greater, GreaterOrEqual, IsMissing, IsPresent };
    int column = -1;
    Op op = Op::Contains;
    QString value;   ///< text to compare with; numbers, ISO datetimes or true/false for typed comparisons
};

/// Human label of a filter operation ("contains", "=", "≠", "<", "≤", ">", "≥", "is missing", "is present").
QString filterOpLabel(RowFilter::Op op);

/// The rows of `rows` (all rows in table order when null) that satisfy `filter`, in the same order. Missing
/// values (and NaN) only satisfy IsMissing. Contains is case-insensitive on the displayed text; Equals and
/// NotEquals compare values (numbers numerically, text exactly); ordering operations compare numbers,
/// datetimes and, for text, code points. An error names the column when `value` does not fit its type.
/// Progress stage "filter"; cancel gives "cancelled". Safe from any thread.
Expected<RowIndex> filterRows(const data::Table &table, const RowIndex *rows, const RowFilter &filter,
                              Feedback *feedback = nullptr);

/// A cell found by findValue: view position (index into `rows`, or table row) and column.
struct FoundCell {
    qint64 position = 0;
    int column = 0;
};

/// The first cell whose displayed text contains `text` (case-insensitive), scanning view positions from
/// `fromPosition` onwards and wrapping around, columns left to right (only `column` when >= 0).
/// nullopt when nothing matches. Progress stage "find"; cancel gives "cancelled". Safe from any thread.
Expected<std::optional<FoundCell>> findValue(const data::Table &table, const RowIndex *rows, qint64 fromPosition,
                                             int column, const QString &text, Feedback *feedback = nullptr);

} // namespace keel::ui
