// Deterministic CSV generator for the benchmarks: 20 mixed columns (ints, floats, categories, dates, bools,
// free text with quoted commas, some missing values). Variants produce the "1% changed" second versions.
//
//   keel-bench-gencsv OUT.csv SIZE_MB [base|append|edit|insert]
//
// Rows are a pure function of their index, so variants share every unchanged row byte for byte with base.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

const char *kCities[] = {"Lisbon", "Porto", "Oslo", "Bergen", "Lyon", "Nice", "Graz", "Linz", "Cork", "Galway"};
const char *kPlans[] = {"free", "basic", "plus", "pro", "enterprise"};
const char *kWords[] = {"late", "delivery", "great", "support", "refund", "price", "quality", "slow", "fast", "broken"};

void row(std::string &out, uint64_t i, uint64_t salt)
{
    uint64_t r[20];
    for (int k = 0; k < 20; ++k)
        r[k] = mix(i * 131 + uint64_t(k) + salt * 0x51ed2701ULL);
    char buf[512];
    const int day = int(r[4] % 1096);
    const int y = 2021 + day / 365, doy = day % 365, m = doy / 31 + 1, d = doy % 28 + 1;
    int n = std::snprintf(buf, sizeof buf,
                          "%llu,%lld,%.4f,%s,%s,%04d-%02d-%02d,%s,%lld,%.6f,%s,",
                          (unsigned long long)i, (long long)(r[1] % 100000) - 5000, double(r[2] % 10000000) / 1000.0,
                          kCities[r[3] % 10], kPlans[r[5] % 5], y, m > 12 ? 12 : m, d, (r[6] & 1) ? "true" : "false",
                          (long long)(r[7] % 1000), double(r[8] % 1000000) / 1e6, (r[9] % 20 == 0) ? "" : "NA");
    out.append(buf, size_t(n));
    // Free text, sometimes quoted with a comma inside.
    if (r[10] % 4 == 0)
        n = std::snprintf(buf, sizeof buf, "\"%s, %s\",", kWords[r[10] % 10], kWords[r[11] % 10]);
    else
        n = std::snprintf(buf, sizeof buf, "%s %s,", kWords[r[10] % 10], kWords[r[11] % 10]);
    out.append(buf, size_t(n));
    n = std::snprintf(buf, sizeof buf, "%.2f,%lld,%s,%.3f,%lld,%s,%.5f,%lld,%s\n", double(r[12] % 100000) / 100.0,
                      (long long)(r[13] % 50), (r[14] % 10 == 0) ? "" : kCities[r[14] % 10], double(r[15] % 1000) / 7.0,
                      (long long)(r[16] % 1000000000), kPlans[r[17] % 5], double(r[18] % 100000) / 3.0,
                      (long long)(r[19] % 7), (r[0] % 3) ? "yes" : "no");
    out.append(buf, size_t(n));
}

} // namespace

int main(int argc, char **argv)
{
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s OUT.csv SIZE_MB [base|append|edit|insert]\n", argv[0]);
        return 2;
    }
    const double targetBytes = std::atof(argv[2]) * 1024.0 * 1024.0;
    const std::string variant = argc > 3 ? argv[3] : "base";
    std::FILE *f = std::fopen(argv[1], "wb");
    if (!f) {
        std::perror(argv[1]);
        return 1;
    }
    std::string out =
        "id,amount,balance,city,plan,signup,active,visits,score,note_flag,comment,spend,tenure,region,ratio,"
        "bignum,tier,weight,weekday,churn\n";
    // Count rows of the base file first so variants can place their 1% precisely.
    std::string probe;
    uint64_t rows = 0;
    double bytes = double(out.size());
    while (bytes < targetBytes) {
        probe.clear();
        row(probe, rows, 0);
        bytes += double(probe.size());
        ++rows;
    }
    const uint64_t onePercent = rows / 100;
    const uint64_t mid = rows / 2;
    for (uint64_t i = 0; i < rows; ++i) {
        if (variant == "insert" && i == mid)
            for (uint64_t j = 0; j < onePercent; ++j)
                row(out, rows + j, 7);
        if (variant == "edit" && i >= mid && i < mid + onePercent)
            row(out, i, 3); // same id, other values
        else
            row(out, i, 0);
        if (out.size() > (8u << 20)) {
            std::fwrite(out.data(), 1, out.size(), f);
            out.clear();
        }
    }
    if (variant == "append")
        for (uint64_t j = 0; j < onePercent; ++j)
            row(out, rows + j, 0);
    std::fwrite(out.data(), 1, out.size(), f);
    std::fclose(f);
    std::fprintf(stderr, "%s: %llu base rows, variant %s\n", argv[1], (unsigned long long)rows, variant.c_str());
    return 0;
}
