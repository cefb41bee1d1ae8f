#pragma once
// The learner registry: every learner Keel knows, found by config name, and loading of saved models by kind.

#include "ml/model.h"

#include <QByteArray>
#include <QString>
#include <QVariant>

#include <memory>
#include <vector>

namespace keel::ml {

/// All registered learners ("linear", "ridge", "logistic", "gbdt", "random_forest"), in that order.
/// The pointers refer to process-lifetime singletons (not owned by the caller); thread-safe.
std::vector<const Learner *> allLearners();

/// The learner with that config name (case-sensitive), or null. Thread-safe.
const Learner *findLearner(const QString &name);

/// Restores a model from Model::serialize() bytes. `kind` is Model::kind() of the saved model
/// ("linear", "logistic", "xgboost-gbdt", "xgboost-rf"). Errors name the kind or the field at fault.
Expected<std::unique_ptr<Model>> loadModel(const QString &kind, const QByteArray &bytes);

/// Value of parameter `name` from `params`, or its declared default in `specs` when absent
/// (lets learners work on parameter maps that skipped validateParams). Invalid QVariant if undeclared.
QVariant paramValue(const Params &params, const std::vector<ParamSpec> &specs, const QString &name);

} // namespace keel::ml
