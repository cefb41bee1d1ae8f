// sha256Many: the sixteen-lane AVX-512 hashing must give exactly OpenSSL's SHA-256 for every input, whatever its
// length (every padding case), alignment and position in a batch, and match the published NIST vectors.

#include "util/hash.h"
#include "util/sha256many.h"

#include <QTest>

#include <random>
#include <vector>

using namespace keel;

namespace {

std::vector<uint8_t> randomBytes(size_t size, uint64_t seed)
{
    std::mt19937_64 rng(seed);
    std::vector<uint8_t> out(size);
    for (uint8_t &b : out)
        b = uint8_t(rng());
    return out;
}

// Hashes `inputs` with sha256Many and compares every digest with OpenSSL's one-shot SHA-256.
void compareWithOpenSsl(const std::vector<ByteSpan> &inputs)
{
    std::vector<Sha256> got(inputs.size());
    sha256Many(inputs.data(), inputs.size(), got.data());
    for (size_t i = 0; i < inputs.size(); ++i)
        QVERIFY2(got[i] == sha256(inputs[i].data, inputs[i].size),
                 qPrintable(QStringLiteral("input %1 of %2, %3 bytes").arg(i).arg(inputs.size()).arg(inputs[i].size)));
}

} // namespace

class TstSha256Many : public QObject {
    Q_OBJECT

private slots:
    void publishedVectors()
    {
        // FIPS 180-2 appendix B: "abc", the 448-bit message, and one million 'a'; plus the empty string.
        const QByteArray abc("abc");
        const QByteArray two("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq");
        const QByteArray million(1000000, 'a');
        const QByteArray empty;
        // Twice each, so the batch is wide enough for the sixteen-lane path.
        std::vector<ByteSpan> in;
        for (int rep = 0; rep < 2; ++rep)
            for (const QByteArray *b : {&abc, &two, &million, &empty})
                in.push_back(ByteSpan{b->constData(), size_t(b->size())});
        std::vector<Sha256> out(in.size());
        sha256Many(in.data(), in.size(), out.data());
        const char *expected[] = {"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                                  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
                                  "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
                                  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"};
        for (size_t i = 0; i < out.size(); ++i)
            QCOMPARE(toHex(out[i]), QString::fromLatin1(expected[i % 4]));
    }

    void everyPaddingCase()
    {
        if (!sha256ManyIsWide())
            QSKIP("this CPU has no AVX-512: sha256Many hashes one input at a time through OpenSSL, as sha256() does");
        // Lengths 0..1100 cover every tail length (and the one- and two-block padding) over up to 17 blocks, each
        // starting at a different alignment.
        const std::vector<uint8_t> bytes = randomBytes(1200 * 1101, 1);
        std::vector<ByteSpan> in;
        size_t offset = 0;
        for (size_t len = 0; len <= 1100; ++len) {
            in.push_back(ByteSpan{bytes.data() + offset, len});
            offset += len + 1 + len % 7;
        }
        compareWithOpenSsl(in);
    }

    void batchesOfEverySize()
    {
        if (!sha256ManyIsWide())
            QSKIP("this CPU has no AVX-512: sha256Many hashes one input at a time through OpenSSL, as sha256() does");
        // Chunk-sized inputs of mixed lengths, in batches of 1..40: lanes idle, refill and finish out of order.
        const std::vector<uint8_t> bytes = randomBytes(24 << 20, 2);
        std::mt19937_64 rng(3);
        for (size_t count = 1; count <= 40; ++count) {
            std::vector<ByteSpan> in;
            for (size_t i = 0; i < count; ++i) {
                const size_t len = rng() % 300000;
                const size_t at = rng() % (bytes.size() - len);
                in.push_back(ByteSpan{bytes.data() + at, len});
            }
            compareWithOpenSsl(in);
            if (QTest::currentTestFailed())
                return;
        }
    }

    void oneAtATimeIsTheSame()
    {
        const std::vector<uint8_t> bytes = randomBytes(1 << 20, 4);
        std::vector<ByteSpan> in;
        for (size_t i = 0; i < 20; ++i)
            in.push_back(ByteSpan{bytes.data() + i * 1000, 50000 + i * 777});
        std::vector<Sha256> wide(in.size()), narrow(in.size());
        sha256Many(in.data(), in.size(), wide.data(), true);
        sha256Many(in.data(), in.size(), narrow.data(), false);
        QVERIFY(wide == narrow);
    }
};

QTEST_GUILESS_MAIN(TstSha256Many)
#include "tst_sha256many.moc"
