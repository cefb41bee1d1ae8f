// A libFuzzer-compatible driver for builds without libFuzzer (g++, CI): runs every file of a seed corpus through
// LLVMFuzzerTestOneInput, then a fixed number of mutations of them (byte flips, inserts, deletes, repeats, splices
// and tokens that readers treat specially), from a fixed seed so every run tries the same inputs. A crash, a
// sanitizer report or a failed invariant (abort) fails the CTest case; the input that did it is written to
// fuzz-crash-<target> first.
//
// Usage: fuzz_<target> CORPUS_DIR [ITERATIONS] [SEED]
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

namespace {

std::string g_current;
std::string g_name;

// On a crash or abort: keep the input that did it, then die with the same signal.
extern "C" void onFatalSignal(int sig)
{
    const std::string path = "fuzz-crash-" + g_name;
    if (FILE *f = std::fopen(path.c_str(), "wb")) {
        std::fwrite(g_current.data(), 1, g_current.size(), f);
        std::fclose(f);
    }
    std::fprintf(stderr, "%s: signal %d; the input is in %s\n", g_name.c_str(), sig, path.c_str());
    std::signal(sig, SIG_DFL);
    std::raise(sig);
}

void runOne(const std::string &input)
{
    g_current = input;
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t *>(input.data()), input.size());
}

const char *const kTokens[] = {"\"", "\"\"", ",", ";", "\t", "\n", "\r", "\r\n", "\0", "NA", "1e400", "-1e309",
                               "9223372036854775808", "-9223372036854775809", "0042", "nan", "inf", "true",
                               "2020-02-30", "31/12/2020", "{", "}", "[", "]", ":", "&a", "*a", "<<: *a", "- ",
                               "\xEF\xBB\xBF", "\xC3", "\xFF", "null", "{\"a\":", "}\n"};

std::string mutate(std::string s, std::mt19937_64 &rng, const std::vector<std::string> &corpus)
{
    const int edits = 1 + int(rng() % 4);
    for (int e = 0; e < edits; ++e) {
        const size_t pos = s.empty() ? 0 : size_t(rng() % (s.size() + 1));
        switch (rng() % 7) {
        case 0:   // flip a bit
            if (!s.empty())
                s[pos % s.size()] = char(s[pos % s.size()] ^ char(1u << (rng() % 8)));
            break;
        case 1:   // random byte
            s.insert(pos, 1, char(rng() % 256));
            break;
        case 2: { // delete a span
            if (s.empty())
                break;
            const size_t at = pos % s.size();
            s.erase(at, 1 + size_t(rng() % std::min<size_t>(64, s.size() - at)));
            break;
        }
        case 3: { // repeat a span
            if (s.empty())
                break;
            const size_t at = pos % s.size();
            const std::string span = s.substr(at, 1 + size_t(rng() % 32));
            const int times = 1 + int(rng() % 8);
            for (int t = 0; t < times; ++t)
                s.insert(at, span);
            break;
        }
        case 4: { // a token readers treat specially
            const char *tok = kTokens[rng() % std::size(kTokens)];
            s.insert(pos, tok, std::max<size_t>(1, std::strlen(tok)));
            break;
        }
        case 5: { // splice with another corpus entry
            const std::string &other = corpus[rng() % corpus.size()];
            if (!other.empty())
                s = s.substr(0, pos) + other.substr(rng() % other.size());
            break;
        }
        default: // truncate
            s.resize(pos);
            break;
        }
    }
    if (s.size() > (1u << 16))
        s.resize(1u << 16);
    return s;
}

} // namespace

int main(int argc, char **argv)
{
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s CORPUS_DIR [ITERATIONS] [SEED]\n", argv[0]);
        return 2;
    }
    g_name = std::filesystem::path(argv[0]).filename().string();
    const long iterations = argc > 2 ? std::atol(argv[2]) : 2000;
    const unsigned long long seed = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 20261201ULL;
    std::vector<std::string> corpus;
    for (const auto &entry : std::filesystem::directory_iterator(argv[1])) {
        if (!entry.is_regular_file())
            continue;
        std::ifstream in(entry.path(), std::ios::binary);
        corpus.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    if (corpus.empty()) {
        std::fprintf(stderr, "no seed files in %s\n", argv[1]);
        return 2;
    }
    for (int sig : {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL})
        std::signal(sig, onFatalSignal);
    for (const std::string &c : corpus)
        runOne(c);
    std::mt19937_64 rng(seed);
    for (long i = 0; i < iterations; ++i)
        runOne(mutate(corpus[rng() % corpus.size()], rng, corpus));
    std::printf("%s: %zu seeds and %ld mutations, no failure\n", g_name.c_str(), corpus.size(), iterations);
    return 0;
}
