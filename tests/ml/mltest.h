#pragma once
// Shared by the learner tests: a test-local design-matrix encoder and small helpers, independent of core/ml/recipe
// so that learner tests do not depend on the recipe they are not testing.

#include "data/reader.h"
#include "ml/model.h"

#include <QTest>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

namespace keel::mltest {

using namespace keel::ml;
// Test-local design matrix builder: numeric columns as floats (optionally mean-imputed and standardised with
// training statistics), text columns one-hot over the training categories (missing/unseen: all zeros).
struct Encoder {
    struct Feature {
        QString name;
        bool numeric = true;
        double mean = 0;
        double sd = 1;
        std::vector<std::string> categories;
    };
    std::vector<Feature> features;
    bool standardise = false;
    bool impute = false;

    static Encoder fit(const keel::data::Table &t, const QStringList &exclude, bool standardise, bool impute)
    {
        Encoder e;
        e.standardise = standardise;
        e.impute = impute;
        for (const keel::data::Column &c : t.columns()) {
            if (exclude.contains(c.name()))
                continue;
            Feature f;
            f.name = c.name();
            f.numeric = keel::data::isNumericType(c.type());
            if (f.numeric) {
                double s = 0, ss = 0;
                qint64 m = 0;
                for (qint64 r = 0; r < c.size(); ++r) {
                    if (c.isNull(r))
                        continue;
                    const double v = c.numberAt(r);
                    s += v;
                    ss += v * v;
                    ++m;
                }
                f.mean = m ? s / double(m) : 0.0;
                const double var = m ? ss / double(m) - f.mean * f.mean : 0.0;
                f.sd = var > 1e-12 ? std::sqrt(var) : 1.0;
            } else {
                std::set<std::string> cats;
                for (qint64 r = 0; r < c.size(); ++r) {
                    if (!c.isNull(r))
                        cats.insert(std::string(c.stringAt(r)));
                }
                f.categories.assign(cats.begin(), cats.end());
            }
            e.features.push_back(std::move(f));
        }
        return e;
    }

    keel::ml::DesignMatrix apply(const keel::data::Table &t) const
    {
        keel::ml::DesignMatrix x;
        x.rows = t.rowCount();
        for (const Feature &f : features) {
            x.sourceFeatureNames.append(f.name);
            if (f.numeric) {
                x.columnNames.append(f.name);
                x.sourceFeature.push_back(int(x.sourceFeatureNames.size()) - 1);
            } else {
                for (const std::string &cat : f.categories) {
                    x.columnNames.append(f.name + QLatin1Char('=') + QString::fromStdString(cat));
                    x.sourceFeature.push_back(int(x.sourceFeatureNames.size()) - 1);
                }
            }
        }
        x.cols = int(x.columnNames.size());
        x.values.assign(size_t(x.rows) * size_t(x.cols), 0.0f);
        int col = 0;
        for (const Feature &f : features) {
            const keel::data::Column &c = t.column(t.indexOf(f.name));
            if (f.numeric) {
                for (qint64 r = 0; r < x.rows; ++r) {
                    double v = c.isNull(r) ? (impute ? f.mean : std::nan("")) : c.numberAt(r);
                    if (standardise)
                        v = (v - f.mean) / f.sd;
                    x.at(r, col) = float(v);
                }
                ++col;
            } else {
                for (qint64 r = 0; r < x.rows; ++r) {
                    if (c.isNull(r))
                        continue;
                    const auto it = std::lower_bound(f.categories.begin(), f.categories.end(),
                                                     std::string(c.stringAt(r)));
                    if (it != f.categories.end() && *it == c.stringAt(r))
                        x.at(r, col + int(it - f.categories.begin())) = 1.0f;
                }
                col += int(f.categories.size());
            }
        }
        return x;
    }
};

inline keel::data::Table readExample(const char *name)
{
    auto t = keel::data::readTable(QStringLiteral(KEEL_SOURCE_DIR "/resources/examples/") + QLatin1String(name));
    if (!t)
        qFatal("cannot read %s: %s", name, qPrintable(t.message()));
    return std::move(t).value();
}

/// Class target from a text column; a trailing '.' is stripped (adult_test writes ">50K.").
inline keel::ml::Target classTarget(const keel::data::Table &t, const QString &column, const QStringList &classes)
{
    keel::ml::Target y;
    y.task = classes.size() == 2 ? keel::ml::Task::BinaryClassification : keel::ml::Task::MulticlassClassification;
    y.classes = classes;
    const keel::data::Column &c = t.column(t.indexOf(column));
    for (qint64 r = 0; r < c.size(); ++r) {
        QString v = QString::fromUtf8(c.stringAt(r).data(), qsizetype(c.stringAt(r).size())).trimmed();
        if (v.endsWith(QLatin1Char('.')))
            v.chop(1);
        const qsizetype k = classes.indexOf(v);
        if (k < 0)
            qFatal("unexpected class value");
        y.values.push_back(double(k));
    }
    return y;
}

inline keel::ml::Target numericTarget(const keel::data::Table &t, const QString &column)
{
    keel::ml::Target y;
    const keel::data::Column &c = t.column(t.indexOf(column));
    for (qint64 r = 0; r < c.size(); ++r)
        y.values.push_back(c.numberAt(r));
    return y;
}

/// Rows of `x`/`y` where (row % k == 0) == holdout.
inline keel::ml::DesignMatrix rowsOf(const keel::ml::DesignMatrix &x, int k, bool holdout)
{
    keel::ml::DesignMatrix out = x;
    out.values.clear();
    out.rows = 0;
    for (qint64 r = 0; r < x.rows; ++r) {
        if ((r % k == 0) != holdout)
            continue;
        out.values.insert(out.values.end(), x.values.begin() + r * x.cols, x.values.begin() + (r + 1) * x.cols);
        ++out.rows;
    }
    return out;
}

inline keel::ml::Target rowsOf(const keel::ml::Target &y, int k, bool holdout)
{
    keel::ml::Target out = y;
    out.values.clear();
    for (size_t r = 0; r < y.values.size(); ++r) {
        if ((r % size_t(k) == 0) == holdout)
            out.values.push_back(y.values[r]);
    }
    return out;
}

inline double rSquared(const std::vector<double> &y, const std::vector<double> &pred)
{
    double mean = 0;
    for (double v : y)
        mean += v;
    mean /= double(y.size());
    double ssRes = 0, ssTot = 0;
    for (size_t i = 0; i < y.size(); ++i) {
        ssRes += (y[i] - pred[i]) * (y[i] - pred[i]);
        ssTot += (y[i] - mean) * (y[i] - mean);
    }
    return 1.0 - ssRes / ssTot;
}

/// AUC by the Mann-Whitney rank statistic (ties get average ranks).
inline double aucOf(const std::vector<double> &y, const std::vector<double> &score)
{
    std::vector<size_t> idx(y.size());
    std::iota(idx.begin(), idx.end(), size_t(0));
    std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return score[a] < score[b]; });
    double rankSumPos = 0;
    double pos = 0;
    for (size_t i = 0; i < idx.size();) {
        size_t j = i;
        while (j < idx.size() && score[idx[j]] == score[idx[i]])
            ++j;
        const double avgRank = (double(i) + double(j - 1)) / 2.0 + 1.0;
        for (size_t k = i; k < j; ++k) {
            if (y[idx[k]] == 1.0) {
                rankSumPos += avgRank;
                pos += 1;
            }
        }
        i = j;
    }
    const double neg = double(y.size()) - pos;
    return (rankSumPos - pos * (pos + 1) / 2.0) / (pos * neg);
}

inline double binaryAccuracy(const std::vector<double> &y, const std::vector<double> &prob)
{
    size_t ok = 0;
    for (size_t i = 0; i < y.size(); ++i)
        ok += ((prob[i] >= 0.5) == (y[i] == 1.0)) ? 1 : 0;
    return double(ok) / double(y.size());
}

} // namespace keel::mltest
