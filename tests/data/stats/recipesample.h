#pragma once
// The sample a recipe in the frozen reference files stands for: SplitMix64, exactly as tests/data/stats/recipes.py
// draws it, so the C++ tests see the very doubles SciPy saw.

#include <QJsonObject>
#include <QString>

#include <vector>

inline std::vector<double> sampleOf(const QJsonObject &spec)
{
    quint64 state = quint64(spec.value(QStringLiteral("seed")).toInteger());
    auto next = [&state] {
        state += 0x9E3779B97F4A7C15ULL;
        quint64 z = state;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    };
    auto uniform = [&] { return double(next() >> 11) * 0x1p-53; };
    const QString kind = spec.value(QStringLiteral("kind")).toString();
    const double shift = spec.value(QStringLiteral("shift")).toDouble();
    std::vector<double> out;
    for (qint64 i = 0; i < spec.value(QStringLiteral("n")).toInteger(); ++i) {
        double v;
        if (kind == u"uniform") {
            v = uniform() + shift;
        } else if (kind == u"bell") {
            const double a = uniform(), b = uniform(), c = uniform();
            v = ((a + b) + c) + shift;
        } else if (kind == u"skewed") {
            const double u = uniform();
            v = u * u + shift;
        } else {
            v = double(qint64(uniform() * 100.0)) + shift;
        }
        out.push_back(v);
    }
    return out;
}

