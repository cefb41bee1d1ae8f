#include "ml/metrics.h"

#include <QVariantList>

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <numeric>

namespace keel::ml {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

int label(double v) { return int(std::lround(v)); }

bool validLabel(int c, int numClasses) { return c >= 0 && c < numClasses; }

// Cumulative (false positives, true positives) after each group of tied scores, highest score first.
struct Steps {
    std::vector<double> thresholds;
    std::vector<double> fp, tp;
    double positives = 0, negatives = 0;
};

Steps rankSteps(std::span<const double> yTrue, std::span<const double> scores)
{
    assert(yTrue.size() == scores.size());
    Steps s;
    std::vector<size_t> order(scores.size());
    std::iota(order.begin(), order.end(), size_t(0));
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] > scores[b]; });
    double tp = 0, fp = 0;
    for (size_t i = 0; i < order.size();) {
        const double score = scores[order[i]];
        while (i < order.size() && scores[order[i]] == score) {
            if (yTrue[order[i]] != 0)
                tp += 1;
            else
                fp += 1;
            ++i;
        }
        s.thresholds.push_back(score);
        s.tp.push_back(tp);
        s.fp.push_back(fp);
    }
    s.positives = tp;
    s.negatives = fp;
    return s;
}

} // namespace

double accuracy(std::span<const double> yTrue, std::span<const double> yPred)
{
    assert(yTrue.size() == yPred.size());
    if (yTrue.empty())
        return kNaN;
    qint64 hits = 0;
    for (size_t i = 0; i < yTrue.size(); ++i)
        hits += label(yTrue[i]) == label(yPred[i]) ? 1 : 0;
    return double(hits) / double(yTrue.size());
}

std::vector<std::vector<qint64>> confusionMatrix(std::span<const double> yTrue, std::span<const double> yPred,
                                                 int numClasses)
{
    assert(yTrue.size() == yPred.size());
    std::vector<std::vector<qint64>> m(size_t(std::max(numClasses, 0)), std::vector<qint64>(size_t(std::max(numClasses, 0)), 0));
    for (size_t i = 0; i < yTrue.size(); ++i) {
        const int t = label(yTrue[i]);
        const int p = label(yPred[i]);
        if (validLabel(t, numClasses) && validLabel(p, numClasses))
            ++m[size_t(t)][size_t(p)];
    }
    return m;
}

ClassificationReport precisionRecallF1(std::span<const double> yTrue, std::span<const double> yPred, int numClasses)
{
    const auto cm = confusionMatrix(yTrue, yPred, numClasses);
    ClassificationReport r;
    const size_t k = size_t(std::max(numClasses, 0));
    r.precision.assign(k, 0);
    r.recall.assign(k, 0);
    r.f1.assign(k, 0);
    r.support.assign(k, 0);
    for (size_t c = 0; c < k; ++c) {
        qint64 predicted = 0, actual = 0;
        for (size_t o = 0; o < k; ++o) {
            predicted += cm[o][c];
            actual += cm[c][o];
        }
        const double tp = double(cm[c][c]);
        r.support[c] = actual;
        r.precision[c] = predicted > 0 ? tp / double(predicted) : 0.0;
        r.recall[c] = actual > 0 ? tp / double(actual) : 0.0;
        const double denom = r.precision[c] + r.recall[c];
        r.f1[c] = denom > 0 ? 2 * r.precision[c] * r.recall[c] / denom : 0.0;
    }
    if (k > 0) {
        for (size_t c = 0; c < k; ++c) {
            r.macroPrecision += r.precision[c];
            r.macroRecall += r.recall[c];
            r.macroF1 += r.f1[c];
        }
        r.macroPrecision /= double(k);
        r.macroRecall /= double(k);
        r.macroF1 /= double(k);
    }
    return r;
}

double balancedAccuracy(std::span<const double> yTrue, std::span<const double> yPred, int numClasses)
{
    const auto r = precisionRecallF1(yTrue, yPred, numClasses);
    double sum = 0;
    int present = 0;
    for (size_t c = 0; c < r.support.size(); ++c) {
        if (r.support[c] > 0) {
            sum += r.recall[c];
            ++present;
        }
    }
    return present > 0 ? sum / present : kNaN;
}

Curve rocCurve(std::span<const double> yTrue, std::span<const double> scores)
{
    const Steps s = rankSteps(yTrue, scores);
    Curve c;
    if (s.positives == 0 || s.negatives == 0)
        return c;
    c.x.push_back(0);
    c.y.push_back(0);
    c.thresholds.push_back(std::numeric_limits<double>::infinity());
    for (size_t i = 0; i < s.thresholds.size(); ++i) {
        c.x.push_back(s.fp[i] / s.negatives);
        c.y.push_back(s.tp[i] / s.positives);
        c.thresholds.push_back(s.thresholds[i]);
    }
    return c;
}

double rocAuc(std::span<const double> yTrue, std::span<const double> scores)
{
    const Curve c = rocCurve(yTrue, scores);
    if (c.x.empty())
        return kNaN;
    double area = 0;
    for (size_t i = 1; i < c.x.size(); ++i)
        area += (c.x[i] - c.x[i - 1]) * (c.y[i] + c.y[i - 1]) / 2;
    return area;
}

double rocAucOvr(std::span<const double> yTrue, std::span<const double> probabilities, int numClasses)
{
    const size_t n = yTrue.size();
    assert(probabilities.size() == n * size_t(std::max(numClasses, 0)));
    std::vector<double> isClass(n), score(n);
    double sum = 0;
    int scored = 0;
    for (int k = 0; k < numClasses; ++k) {
        for (size_t i = 0; i < n; ++i) {
            isClass[i] = label(yTrue[i]) == k ? 1.0 : 0.0;
            score[i] = probabilities[i * size_t(numClasses) + size_t(k)];
        }
        const double auc = rocAuc(isClass, score);
        if (!std::isnan(auc)) {
            sum += auc;
            ++scored;
        }
    }
    return scored > 0 ? sum / scored : kNaN;
}

std::vector<Confusion> largestConfusions(const std::vector<std::vector<qint64>> &matrix, int n)
{
    std::vector<Confusion> all;
    for (size_t a = 0; a < matrix.size(); ++a) {
        qint64 total = 0;
        for (qint64 v : matrix[a])
            total += v;
        for (size_t p = 0; p < matrix[a].size(); ++p)
            if (p != a && matrix[a][p] > 0)
                all.push_back({int(a), int(p), matrix[a][p], double(matrix[a][p]) / double(total)});
    }
    std::stable_sort(all.begin(), all.end(), [](const Confusion &x, const Confusion &y) { return x.count > y.count; });
    if (n >= 0 && all.size() > size_t(n))
        all.resize(size_t(n));
    return all;
}

OneVsRest oneVsRest(std::span<const double> yTrue, std::span<const double> probabilities, int numClasses)
{
    const size_t n = yTrue.size();
    const size_t k = size_t(std::max(numClasses, 0));
    assert(probabilities.size() == n * k);
    OneVsRest out;
    std::vector<double> isClass(n), score(n);
    double rocSum = 0, apSum = 0;
    int rocScored = 0, apScored = 0;
    for (size_t c = 0; c < k; ++c) {
        OneVsRestClass one;
        one.cls = int(c);
        for (size_t i = 0; i < n; ++i) {
            const bool is = label(yTrue[i]) == int(c);
            isClass[i] = is ? 1.0 : 0.0;
            one.support += is ? 1 : 0;
            score[i] = probabilities[i * k + c];
        }
        one.rocAuc = rocAuc(isClass, score);
        one.averagePrecision = prAuc(isClass, score);
        one.roc = rocCurve(isClass, score);
        one.pr = prCurve(isClass, score);
        one.calibration = calibrationCurve(isClass, score, 10);
        if (!std::isnan(one.rocAuc)) {
            rocSum += one.rocAuc;
            ++rocScored;
        }
        if (!std::isnan(one.averagePrecision)) {
            apSum += one.averagePrecision;
            ++apScored;
        }
        out.classes.push_back(std::move(one));
    }
    out.rocAucMacro = rocScored > 0 ? rocSum / rocScored : kNaN;
    out.averagePrecisionMacro = apScored > 0 ? apSum / apScored : kNaN;
    std::vector<double> flatTruth(n * k);
    for (size_t i = 0; i < n; ++i)
        for (size_t c = 0; c < k; ++c)
            flatTruth[i * k + c] = label(yTrue[i]) == int(c) ? 1.0 : 0.0;
    out.rocAucMicro = rocAuc(flatTruth, probabilities);
    out.averagePrecisionMicro = prAuc(flatTruth, probabilities);
    out.rocMicro = rocCurve(flatTruth, probabilities);
    out.prMicro = prCurve(flatTruth, probabilities);
    return out;
}

Curve prCurve(std::span<const double> yTrue, std::span<const double> scores)
{
    const Steps s = rankSteps(yTrue, scores);
    Curve c;
    if (s.positives == 0)
        return c;
    c.x.push_back(0);
    c.y.push_back(1);
    c.thresholds.push_back(std::numeric_limits<double>::infinity());
    for (size_t i = 0; i < s.thresholds.size(); ++i) {
        c.x.push_back(s.tp[i] / s.positives);
        c.y.push_back(s.tp[i] / (s.tp[i] + s.fp[i]));
        c.thresholds.push_back(s.thresholds[i]);
    }
    return c;
}

double prAuc(std::span<const double> yTrue, std::span<const double> scores)
{
    const Curve c = prCurve(yTrue, scores);
    if (c.x.empty())
        return kNaN;
    double ap = 0;
    for (size_t i = 1; i < c.x.size(); ++i)
        ap += (c.x[i] - c.x[i - 1]) * c.y[i];
    return ap;
}

double logLoss(std::span<const double> yTrue, std::span<const double> probabilities, int numClasses)
{
    constexpr double eps = 1e-15;
    const size_t n = yTrue.size();
    if (n == 0 || numClasses < 2)
        return kNaN;
    double sum = 0;
    if (numClasses == 2) {
        assert(probabilities.size() == n);
        for (size_t i = 0; i < n; ++i) {
            const double p = std::clamp(probabilities[i], eps, 1 - eps);
            sum += label(yTrue[i]) == 1 ? -std::log(p) : -std::log(1 - p);
        }
    } else {
        assert(probabilities.size() == n * size_t(numClasses));
        for (size_t i = 0; i < n; ++i) {
            const int c = label(yTrue[i]);
            if (!validLabel(c, numClasses))
                return kNaN;
            const double p = std::clamp(probabilities[i * size_t(numClasses) + size_t(c)], eps, 1 - eps);
            sum += -std::log(p);
        }
    }
    return sum / double(n);
}

double brier(std::span<const double> yTrue, std::span<const double> probabilities, int numClasses)
{
    const size_t n = yTrue.size();
    if (n == 0 || numClasses < 2)
        return kNaN;
    double sum = 0;
    if (numClasses == 2) {
        assert(probabilities.size() == n);
        for (size_t i = 0; i < n; ++i) {
            const double d = probabilities[i] - (label(yTrue[i]) == 1 ? 1.0 : 0.0);
            sum += d * d;
        }
    } else {
        assert(probabilities.size() == n * size_t(numClasses));
        for (size_t i = 0; i < n; ++i) {
            const int c = label(yTrue[i]);
            for (int k = 0; k < numClasses; ++k) {
                const double d = probabilities[i * size_t(numClasses) + size_t(k)] - (c == k ? 1.0 : 0.0);
                sum += d * d;
            }
        }
    }
    return sum / double(n);
}

CalibrationCurve calibrationCurve(std::span<const double> yTrue, std::span<const double> probabilities, int bins)
{
    assert(yTrue.size() == probabilities.size());
    CalibrationCurve out;
    if (bins < 1)
        return out;
    std::vector<double> sumP(size_t(bins), 0), sumY(size_t(bins), 0);
    std::vector<qint64> count(size_t(bins), 0);
    for (size_t i = 0; i < yTrue.size(); ++i) {
        const double p = probabilities[i];
        if (std::isnan(p))
            continue;
        const int b = std::clamp(int(std::floor(p * bins)), 0, bins - 1);
        sumP[size_t(b)] += p;
        sumY[size_t(b)] += yTrue[i] != 0 ? 1.0 : 0.0;
        ++count[size_t(b)];
    }
    for (size_t b = 0; b < size_t(bins); ++b) {
        if (count[b] == 0)
            continue;
        out.meanPredicted.push_back(sumP[b] / double(count[b]));
        out.fractionPositive.push_back(sumY[b] / double(count[b]));
        out.counts.push_back(count[b]);
    }
    return out;
}

double rmse(std::span<const double> yTrue, std::span<const double> yPred)
{
    assert(yTrue.size() == yPred.size());
    if (yTrue.empty())
        return kNaN;
    double sum = 0;
    for (size_t i = 0; i < yTrue.size(); ++i)
        sum += (yTrue[i] - yPred[i]) * (yTrue[i] - yPred[i]);
    return std::sqrt(sum / double(yTrue.size()));
}

double mae(std::span<const double> yTrue, std::span<const double> yPred)
{
    assert(yTrue.size() == yPred.size());
    if (yTrue.empty())
        return kNaN;
    double sum = 0;
    for (size_t i = 0; i < yTrue.size(); ++i)
        sum += std::fabs(yTrue[i] - yPred[i]);
    return sum / double(yTrue.size());
}

double r2(std::span<const double> yTrue, std::span<const double> yPred)
{
    assert(yTrue.size() == yPred.size());
    if (yTrue.empty())
        return kNaN;
    double mean = 0;
    for (double v : yTrue)
        mean += v;
    mean /= double(yTrue.size());
    double ssRes = 0, ssTot = 0;
    for (size_t i = 0; i < yTrue.size(); ++i) {
        ssRes += (yTrue[i] - yPred[i]) * (yTrue[i] - yPred[i]);
        ssTot += (yTrue[i] - mean) * (yTrue[i] - mean);
    }
    if (ssTot == 0)
        return kNaN;
    return 1 - ssRes / ssTot;
}

double mape(std::span<const double> yTrue, std::span<const double> yPred)
{
    assert(yTrue.size() == yPred.size());
    if (yTrue.empty())
        return kNaN;
    constexpr double eps = std::numeric_limits<double>::epsilon();
    double sum = 0;
    for (size_t i = 0; i < yTrue.size(); ++i)
        sum += std::fabs(yTrue[i] - yPred[i]) / std::max(std::fabs(yTrue[i]), eps);
    return sum / double(yTrue.size());
}

QVariantMap evaluate(Task task, const Target &target, const std::vector<double> &predictions, int numClasses)
{
    QVariantMap m;
    const std::span<const double> y(target.values);
    if (task == Task::Regression) {
        if (predictions.size() != y.size())
            return m;
        m.insert(QStringLiteral("rmse"), rmse(y, predictions));
        m.insert(QStringLiteral("mae"), mae(y, predictions));
        m.insert(QStringLiteral("r2"), r2(y, predictions));
        m.insert(QStringLiteral("mape"), mape(y, predictions));
        return m;
    }
    const size_t n = y.size();
    const bool binary = task == Task::BinaryClassification;
    const int k = binary ? 2 : numClasses;
    if (k < 2 || predictions.size() != (binary ? n : n * size_t(k)))
        return m;
    std::vector<double> predicted(n);
    for (size_t i = 0; i < n; ++i) {
        if (binary) {
            predicted[i] = predictions[i] >= 0.5 ? 1 : 0;
        } else {
            const auto row = predictions.begin() + std::ptrdiff_t(i * size_t(k));
            predicted[i] = double(std::max_element(row, row + k) - row);
        }
    }
    const auto report = precisionRecallF1(y, predicted, k);
    m.insert(QStringLiteral("accuracy"), accuracy(y, predicted));
    m.insert(QStringLiteral("balanced_accuracy"), balancedAccuracy(y, predicted, k));
    m.insert(QStringLiteral("precision_macro"), report.macroPrecision);
    m.insert(QStringLiteral("recall_macro"), report.macroRecall);
    m.insert(QStringLiteral("f1_macro"), report.macroF1);
    m.insert(QStringLiteral("log_loss"), logLoss(y, predictions, k));
    m.insert(QStringLiteral("brier"), brier(y, predictions, k));
    if (binary) {
        m.insert(QStringLiteral("roc_auc"), rocAuc(y, predictions));
        m.insert(QStringLiteral("pr_auc"), prAuc(y, predictions));
        m.insert(QStringLiteral("precision"), report.precision[1]);
        m.insert(QStringLiteral("recall"), report.recall[1]);
        m.insert(QStringLiteral("f1"), report.f1[1]);
    } else {
        m.insert(QStringLiteral("roc_auc"), rocAucOvr(y, predictions, k));
    }
    QVariantList cm;
    for (const auto &row : confusionMatrix(y, predicted, k)) {
        QVariantList r;
        for (qint64 v : row)
            r.append(v);
        cm.append(QVariant(r));
    }
    m.insert(QStringLiteral("confusion_matrix"), cm);
    return m;
}

} // namespace keel::ml
