#include "ml/learners.h"

#include "ml/linear.h"
#include "ml/logistic.h"
#include "ml/xgboost.h"

namespace keel::ml {

std::vector<const Learner *> allLearners()
{
    static const LinearLearner linear(LinearLearner::Variant::Ols);
    static const LinearLearner ridge(LinearLearner::Variant::Ridge);
    static const LogisticLearner logistic;
    static const XgbLearner gbdt(XgbLearner::Mode::Gbdt);
    static const XgbLearner forest(XgbLearner::Mode::RandomForest);
    return {&linear, &ridge, &logistic, &gbdt, &forest};
}

const Learner *findLearner(const QString &name)
{
    for (const Learner *l : allLearners()) {
        if (l->name() == name)
            return l;
    }
    return nullptr;
}

Expected<std::unique_ptr<Model>> loadModel(const QString &kind, const QByteArray &bytes)
{
    if (kind == QLatin1String("linear")) {
        auto m = LinearModel::fromJson(bytes);
        if (!m)
            return m.error();
        return std::unique_ptr<Model>(std::move(m).value());
    }
    if (kind == QLatin1String("logistic")) {
        auto m = LogisticModel::fromJson(bytes);
        if (!m)
            return m.error();
        return std::unique_ptr<Model>(std::move(m).value());
    }
    if (kind == QLatin1String("xgboost-gbdt") || kind == QLatin1String("xgboost-rf")) {
        auto m = XgbModel::fromJson(bytes, kind == QLatin1String("xgboost-rf") ? XgbLearner::Mode::RandomForest
                                                                               : XgbLearner::Mode::Gbdt);
        if (!m)
            return m.error();
        return std::unique_ptr<Model>(std::move(m).value());
    }
    return makeError(QStringLiteral("unknown model kind '") + kind + QLatin1Char('\''), {}, -1,
                     QStringLiteral("kind"));
}

QVariant paramValue(const Params &params, const std::vector<ParamSpec> &specs, const QString &name)
{
    const auto it = params.constFind(name);
    if (it != params.constEnd())
        return it.value();
    for (const ParamSpec &s : specs) {
        if (s.name == name)
            return s.defaultValue;
    }
    return {};
}

} // namespace keel::ml
