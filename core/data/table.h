#pragma once
// The columnar, typed in-memory table: the one data model the rest of Keel uses.
// Columns are immutable values whose buffers are shared (owned vectors or a memory
// mapping of a cached materialisation), so copying a Column or Table is cheap and
// reading never copies data into Qt types. Safe to read from many threads at once.

#include "util/result.h"

#include <QString>
#include <QStringList>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace keel::data {

enum class ColumnType : uint8_t { Int64 = 0, Float64 = 1, Bool = 2, Datetime = 3, Categorical = 4, String = 5 };

/// "int64", "float64", "bool", "datetime", "categorical", "string".
QString columnTypeName(ColumnType t);
/// Inverse of columnTypeName (case-insensitive); nullopt for unknown names.
std::optional<ColumnType> columnTypeFromName(QStringView name);
/// Int64, Float64, Bool and Datetime columns have a numberAt().
bool isNumericType(ColumnType t);

/// A read-only typed buffer: a view plus whatever keeps the memory alive.
template <class T>
struct Buffer {
    std::span<const T> view;
    std::shared_ptr<const void> owner;

    static Buffer fromVector(std::vector<T> &&v)
    {
        auto holder = std::make_shared<const std::vector<T>>(std::move(v));
        return Buffer{std::span<const T>(holder->data(), holder->size()), holder};
    }
    static Buffer borrow(std::span<const T> v, std::shared_ptr<const void> keepAlive)
    {
        return Buffer{v, std::move(keepAlive)};
    }
    size_t size() const { return view.size(); }
    bool empty() const { return view.empty(); }
    const T &operator[](size_t i) const { return view[i]; }
};

/// Storage behind a Column. Which buffers are used depends on the type:
///  Int64:       i64 (values)
///  Float64:     f64 (values; NaN is a value, missing is the validity bit)
///  Bool:        u8 (0 or 1, one byte per row)
///  Datetime:    i64 (milliseconds since 1970-01-01T00:00:00Z)
///  Categorical: codes (int32 index into the dictionary), offsets + bytes (the dictionary:
///               dictionarySize()+1 offsets into UTF-8 bytes)
///  String:      offsets (rows+1 offsets) + bytes (UTF-8)
/// validity: LSB-first bitmask, bit set = value present; empty buffer = no missing values.
/// Values at missing positions are unspecified (0 by convention).
struct ColumnStorage {
    qint64 rows = 0;
    qint64 nullCount = 0;
    Buffer<int64_t> i64;
    Buffer<double> f64;
    Buffer<uint8_t> u8;
    Buffer<int32_t> codes;
    Buffer<int64_t> offsets;
    Buffer<char> bytes;
    Buffer<uint8_t> validity;
};

class Column {
public:
    Column() = default;
    Column(QString name, ColumnType type, ColumnStorage storage);

    const QString &name() const { return m_name; }
    ColumnType type() const { return m_type; }
    qint64 size() const { return m_s.rows; }
    qint64 nullCount() const { return m_s.nullCount; }

    bool isNull(qint64 row) const
    {
        if (m_s.validity.empty())
            return false;
        return !((m_s.validity.view[size_t(row >> 3)] >> (row & 7)) & 1u);
    }
    bool isValid(qint64 row) const { return !isNull(row); }

    int64_t int64At(qint64 row) const { return m_s.i64.view[size_t(row)]; }
    double float64At(qint64 row) const { return m_s.f64.view[size_t(row)]; }
    bool boolAt(qint64 row) const { return m_s.u8.view[size_t(row)] != 0; }
    int64_t datetimeAt(qint64 row) const { return m_s.i64.view[size_t(row)]; }
    int32_t codeAt(qint64 row) const { return m_s.codes.view[size_t(row)]; }
    /// String value (String) or dictionary value (Categorical), as UTF-8 bytes.
    std::string_view stringAt(qint64 row) const;
    /// Int64, Float64, Bool (0/1) and Datetime (ms) as double. Undefined for other types.
    double numberAt(qint64 row) const;

    qint64 dictionarySize() const;
    std::string_view dictionaryAt(qint64 code) const;

    /// Human-readable value: numbers in shortest round-trip form, datetimes ISO 8601,
    /// missing values as an empty string.
    QString displayAt(qint64 row) const;

    const ColumnStorage &storage() const { return m_s; }

private:
    QString m_name;
    ColumnType m_type = ColumnType::String;
    ColumnStorage m_s;
};

/// Name and type of a column.
struct Field {
    QString name;
    ColumnType type;
    bool operator==(const Field &) const = default;
};

/// A set of equally long named columns.
class Table {
public:
    Table() = default;
    explicit Table(std::vector<Column> columns);

    qint64 rowCount() const { return m_rows; }
    int columnCount() const { return int(m_columns.size()); }
    const Column &column(int i) const { return m_columns[size_t(i)]; }
    const std::vector<Column> &columns() const { return m_columns; }
    /// Index of the column with that name, or -1.
    int indexOf(QStringView name) const;
    std::vector<Field> schema() const;
    QStringList columnNames() const;
    /// A table of rows `rows` of this one, in that order (repeats allowed), same columns and types. Every index must
    /// be in [0, rowCount()); selectRows() checks that first.
    Table rows(std::span<const qint64> rows) const;

private:
    std::vector<Column> m_columns;
    qint64 m_rows = 0;
};

/// Helpers for building columns value by value (readers use them per thread, then concatenate).
class ColumnBuilder {
public:
    explicit ColumnBuilder(ColumnType type) : m_type(type) {}
    ColumnType type() const { return m_type; }
    qint64 size() const { return m_rows; }

    void appendNull();
    void appendInt64(int64_t v);
    void appendFloat64(double v);
    void appendBool(bool v);
    void appendDatetime(int64_t msSinceEpoch);
    /// String columns store the text; Categorical columns look it up in (or add it to) the dictionary.
    void appendString(std::string_view utf8);
    /// Appends row `row` of `c` (missing stays missing). `c` must have this builder's type, or be int64 going into a
    /// float64 builder.
    void appendFrom(const Column &c, qint64 row);

    /// Finishes the column; the builder is left empty.
    Column finish(const QString &name);

private:
    void markValid(bool valid);

    ColumnType m_type;
    qint64 m_rows = 0;
    qint64 m_nulls = 0;
    std::vector<int64_t> m_i64;
    std::vector<double> m_f64;
    std::vector<uint8_t> m_u8;
    std::vector<int32_t> m_codes;
    std::vector<int64_t> m_offsets;   ///< string and dictionary offsets; the leading 0 is added with the first entry
    std::vector<char> m_bytes;
    std::vector<uint8_t> m_validity;
    struct DictIndex;
    std::shared_ptr<DictIndex> m_dict;
};

/// Concatenates columns of the same type and name (categorical dictionaries are merged
/// and codes remapped). Used to join per-thread parse results.
Column concatColumns(const std::vector<Column> &parts);

/// Formats milliseconds since the epoch as ISO 8601 ("2011-01-01" for midnight, else "2011-01-01T05:00:00").
QString formatDatetime(int64_t ms);

/// Table::rows() of `t` after checking every index; an index outside the table is an error naming it (1-based).
Expected<Table> selectRows(const Table &t, std::span<const qint64> rows);

} // namespace keel::data
