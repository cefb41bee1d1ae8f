// Fuzz target: the JSON Lines reader (same invariants as the CSV target).
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
        options.format = data::FileFormat::Jsonl;
        options.threads = threads;
        auto t = data::readTableFromBytes(bytes, options, nullptr, nullptr, QStringLiteral("fuzz.jsonl"));
        if (t) {
            for (int c = 0; c < t->columnCount(); ++c)
                FUZZ_CHECK(t->column(c).size() == t->rowCount(), "every column has every row");
        } else {
            FUZZ_CHECK(!t.error().message.isEmpty(), "an error says what");
            FUZZ_CHECK(t.error().file == QStringLiteral("fuzz.jsonl"), "an error names the file");
            const qint64 lines = qint64(bytes.count('\n')) + qint64(bytes.count('\r')) + 1;
            FUZZ_CHECK(t.error().line <= lines, "an error names a line that exists");
        }
    }
    return 0;
}
