// Fuzz target: the CSV reader. Any input either reads into a consistent table or fails with an error that names
// the source and, when it names a line, a line that exists.
#include "data/reader.h"
#include "fuzzcheck.h"

#include <QByteArrayView>
#include <QString>

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace keel;
    const QByteArrayView bytes(reinterpret_cast<const char *>(data), qsizetype(size));
    for (int threads : {1, 2}) {
        data::ReadOptions options;
        options.format = data::FileFormat::Csv;
        options.threads = threads;
        data::ReadInfo info;
        auto t = data::readTableFromBytes(bytes, options, nullptr, &info, QStringLiteral("fuzz.csv"));
        if (t) {
            FUZZ_CHECK(t->columnCount() > 0, "a table has columns");
            for (int c = 0; c < t->columnCount(); ++c)
                FUZZ_CHECK(t->column(c).size() == t->rowCount(), "every column has every row");
            FUZZ_CHECK(info.rows == t->rowCount(), "ReadInfo counts the rows");
        } else {
            FUZZ_CHECK(!t.error().message.isEmpty(), "an error says what");
            FUZZ_CHECK(t.error().file == QStringLiteral("fuzz.csv"), "an error names the file");
            const qint64 lines = qint64(bytes.count('\n')) + qint64(bytes.count('\r')) + 1;
            FUZZ_CHECK(t.error().line <= lines, "an error names a line that exists");
        }
    }
    return 0;
}
