// Fuzz target: everything that parses a human-edited YAML file — training configs (with their recipe and sweep),
// rule files and a --set override. No input crashes, hangs or grows without bound (the bounded YAML reader), and
// every error names the file.
#include "data/rules.h"
#include "fuzzcheck.h"
#include "ml/recipe.h"
#include "ml/sweep.h"
#include "ml/training.h"

#include <QByteArray>
#include <QString>

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace keel;
    const QByteArray bytes(reinterpret_cast<const char *>(data), qsizetype(size));
    const QString text = QString::fromUtf8(bytes);
    const QString source = QStringLiteral("fuzz.yaml");

    auto config = ml::TrainingConfig::fromYaml(text, source);
    if (!config)
        FUZZ_CHECK(config.error().file == source, "a config error names the file");
    auto sweep = ml::SweepSpec::fromConfig(text, source);
    if (!sweep)
        FUZZ_CHECK(!sweep.error().message.isEmpty(), "a sweep error says what");
    auto recipe = ml::RecipeSpec::fromYaml(text, source);
    if (!recipe)
        FUZZ_CHECK(!recipe.error().message.isEmpty(), "a recipe error says what");
    auto rules = data::parseRules(bytes, source);
    if (!rules)
        FUZZ_CHECK(rules.error().file == source, "a rules error names the file");
    auto changed = ml::applyConfigOverrides(QStringLiteral("data: d\ntarget: y\nlearner: ridge\n"),
                                            {QStringLiteral("params.alpha=") + text.left(200)}, source);
    (void)changed;
    return 0;
}
