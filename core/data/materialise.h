#pragma once
// Binary columnar materialisation of a Table: written once after parsing, then memory-mapped so
// reopening a large dataset version costs O(columns), not a re-parse.
//
// Layout (little-endian):
//   "KEELTAB1" | u32 format version | u32 header length H | header (H bytes) | SHA-256 of header (32 bytes)
//   | buffers, each starting at a 64-byte aligned file offset.
// Header: u32 column count, i64 row count, then per column: u32 name length, UTF-8 name, u8 ColumnType,
// i64 null count, and (u64 offset, u64 length) for each ColumnStorage buffer in the order
// i64, f64, u8, codes, offsets, bytes, validity (length 0 = unused).

#include "data/table.h"
#include "util/result.h"

#include <QString>

namespace keel::data {

/// Current version written to and accepted from materialisation files.
inline constexpr quint32 kMaterialisationVersion = 1;

/// Writes the table as a binary columnar file (atomic: temp, fsync, rename). Creates missing folders.
/// Reads the table only; safe to call while other threads read the same table.
Status writeMaterialisation(const Table &table, const QString &path);

/// Memory-maps a file written by writeMaterialisation; columns borrow the mapping (no copy), and the
/// mapping lives as long as any column (or copy of one) does. O(columns), not O(rows): the header is
/// verified (magic, version, SHA-256, every buffer inside the file, buffer sizes matching the types)
/// but buffer contents are trusted. A truncated, corrupt or foreign file gives an Error, never a crash.
Expected<Table> openMaterialisation(const QString &path);

} // namespace keel::data
