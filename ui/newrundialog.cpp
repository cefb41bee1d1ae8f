#include "newrundialog.h"

#include "ml/learners.h"
#include "ml/training.h"
#include "util/fileutil.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QScrollArea>
#include <QSpinBox>
#include <QSplitter>
#include <QVBoxLayout>


#include <climits>
#include <cmath>

namespace keel::ui {

namespace {

using ml::ParamSpec;

/// A double spin box that shows the shortest text of its value ("0.1", "1e-05") and accepts exponents.
class NumberSpinBox : public QDoubleSpinBox {
public:
    explicit NumberSpinBox(QWidget *parent) : QDoubleSpinBox(parent)
    {
        setDecimals(12);
        setStepType(QAbstractSpinBox::AdaptiveDecimalStepType);
        setKeyboardTracking(false);
    }
    QString textFromValue(double v) const override { return QLocale::c().toString(v, 'g', QLocale::FloatingPointShortest); }
    double valueFromText(const QString &text) const override { return QLocale::c().toDouble(text.trimmed()); }
    QValidator::State validate(QString &text, int &) const override
    {
        const QString t = text.trimmed();
        if (t.isEmpty() || t == u"-" || t == u"+" || t.endsWith(QLatin1Char('e')) || t.endsWith(QLatin1Char('E'))
            || t.endsWith(QLatin1String("e-")) || t.endsWith(QLatin1String("E-")) || t.endsWith(QLatin1Char('.')))
            return QValidator::Intermediate;
        bool ok = false;
        const double v = QLocale::c().toDouble(t, &ok);
        if (!ok)
            return QValidator::Invalid;
        return v >= minimum() && v <= maximum() ? QValidator::Acceptable : QValidator::Intermediate;
    }
};

QString numberText(double v) { return QLocale::c().toString(v, 'g', QLocale::FloatingPointShortest); }

QString boundText(double v)
{
    if (std::isinf(v))
        return v < 0 ? QStringLiteral("-\u221e") : QStringLiteral("\u221e");
    return numberText(v);
}

/// A parameter value as config text.
QString valueText(const QVariant &v)
{
    if (v.typeId() == QMetaType::Bool)
        return v.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    if (v.typeId() == QMetaType::Double)
        return numberText(v.toDouble());
    return v.toString();
}

bool sameValue(const QVariant &a, const QVariant &b)
{
    if (!a.isValid() || !b.isValid())
        return false;
    bool okA = false, okB = false;
    const double da = a.toDouble(&okA), db = b.toDouble(&okB);
    if (okA && okB && a.typeId() != QMetaType::QString && b.typeId() != QMetaType::QString)
        return da == db;
    return valueText(a) == valueText(b);
}

const QRegularExpression &fileNamePattern()
{
    static const QRegularExpression re(QRegularExpression::anchoredPattern(QStringLiteral("[A-Za-z0-9][A-Za-z0-9._-]{0,99}")));
    return re;
}

bool isDark(const QPalette &p) { return p.color(QPalette::Window).lightness() < 128; }

} // namespace

NewRunDialog::NewRunDialog(const QString &root, std::vector<DatasetHistory> datasets, const QStringList &experiments,
                           QWidget *parent)
    : QDialog(parent), m_root(root), m_datasets(std::move(datasets)), m_heading(new QLabel(this)),
      m_experiment(new QComboBox(this)), m_name(new QLineEdit(this)), m_file(new QLineEdit(this)),
      m_dataset(new QComboBox(this)), m_version(new QComboBox(this)), m_evaluate(new QComboBox(this)),
      m_target(new QComboBox(this)), m_task(new QComboBox(this)), m_splitKind(new QComboBox(this)),
      m_testFraction(new QDoubleSpinBox(this)), m_validationFraction(new QDoubleSpinBox(this)), m_folds(new QSpinBox(this)), m_stratify(new QCheckBox(this)),
      m_seed(new QSpinBox(this)), m_timeColumn(new QComboBox(this)), m_splitForm(nullptr), m_learner(new QComboBox(this)),
      m_learnerHelp(new QLabel(this)), m_paramsForm(nullptr), m_paramsBox(new QWidget(this)),
      m_preview(new QPlainTextEdit(this)), m_keptNote(new QLabel(this)), m_errors(new QLabel(this))
{
    setWindowTitle(QStringLiteral("New Run"));
    setObjectName(QStringLiteral("newRunDialog"));
    resize(1080, 760);
    m_experiment->setEditable(true);
    m_experiment->addItems(experiments);
    buildForm();

    QStringList names;
    for (const DatasetHistory &d : m_datasets)
        names << d.name;
    m_dataset->addItems(names);
    m_evaluate->addItem(QStringLiteral("held-out part of the training data"), QString());
    for (const DatasetHistory &d : m_datasets)
        for (auto it = d.versions.rbegin(); it != d.versions.rend(); ++it)
            m_evaluate->addItem(it->ref(), it->ref());
    for (const ml::Learner *l : ml::allLearners())
        m_learner->addItem(l->name(), l->name());

    const auto datasetChanged = [this] {
        updateVersions();
        if (!m_experiment->property("edited").toBool() && m_parentRunId.isEmpty())
            m_experiment->setEditText(m_dataset->currentText().section(QLatin1Char('_'), 0, 0));
        if (!m_name->isModified() && m_parentRunId.isEmpty())
            setRunName(m_dataset->currentText() + QLatin1Char('-') + m_learner->currentText());
    };
    connect(m_dataset, &QComboBox::currentIndexChanged, this, datasetChanged);
    connect(m_version, &QComboBox::currentIndexChanged, this, &NewRunDialog::updateColumns);
    connect(m_learner, &QComboBox::currentIndexChanged, this, [this] {
        rebuildParams();
        if (!m_name->isModified() && m_parentRunId.isEmpty())
            setRunName(m_dataset->currentText() + QLatin1Char('-') + m_learner->currentText());
    });
    connect(m_splitKind, &QComboBox::currentIndexChanged, this, &NewRunDialog::updateSplitRows);
    connect(m_experiment, &QComboBox::editTextChanged, this, [this] { updatePreview(); });
    connect(m_experiment->lineEdit(), &QLineEdit::textEdited, this, [this] { m_experiment->setProperty("edited", true); });
    connect(m_name, &QLineEdit::textChanged, this, [this](const QString &text) {
        if (!m_fileEdited)
            m_file->setText(uniqueFileName(text));
        updatePreview();
    });
    connect(m_file, &QLineEdit::textEdited, this, [this] { m_fileEdited = true; });
    connect(m_file, &QLineEdit::textChanged, this, [this] { updatePreview(); });
    for (QComboBox *c : {m_evaluate, m_target, m_task, m_timeColumn})
        connect(c, &QComboBox::currentIndexChanged, this, [this] { updatePreview(); });
    connect(m_testFraction, &QDoubleSpinBox::valueChanged, this, [this] { updatePreview(); });
    connect(m_validationFraction, &QDoubleSpinBox::valueChanged, this, [this] { updatePreview(); });
    connect(m_evaluate, &QComboBox::currentIndexChanged, this, &NewRunDialog::updateSplitRows);
    connect(m_folds, &QSpinBox::valueChanged, this, [this] { updatePreview(); });
    connect(m_seed, &QSpinBox::valueChanged, this, [this] { updatePreview(); });
    connect(m_stratify, &QCheckBox::toggled, this, [this] { updatePreview(); });

    setLearner(QStringLiteral("gbdt"));
    rebuildParams();
    if (!m_datasets.empty()) {
        m_dataset->setCurrentIndex(0);
        datasetChanged();
    } else {
        showError(QStringLiteral("data"), QStringLiteral("This workspace has no datasets yet: import one first."));
    }
    updateSplitRows();
    updatePreview();
}

QWidget *NewRunDialog::withError(const QString &field, QWidget *widget)
{
    auto *box = new QWidget(widget->parentWidget());
    auto *layout = new QVBoxLayout(box);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(1);
    layout->addWidget(widget);
    auto *error = new QLabel(box);
    error->setWordWrap(true);
    error->setObjectName(QStringLiteral("error_") + field);
    error->hide();
    layout->addWidget(error);
    m_fields.insert(field, widget);
    m_errorLabels.insert(field, error);
    return box;
}

void NewRunDialog::buildForm()
{
    QFont headingFont = m_heading->font();
    headingFont.setPointSizeF(headingFont.pointSizeF() * 1.3);
    headingFont.setBold(true);
    m_heading->setFont(headingFont);
    m_heading->setText(QStringLiteral("New training run"));

    auto *runBox = new QGroupBox(QStringLiteral("Run"), this);
    auto *runForm = new QFormLayout(runBox);
    runForm->addRow(QStringLiteral("Experiment"), withError(QStringLiteral("experiment"), m_experiment));
    m_name->setPlaceholderText(QStringLiteral("run name"));
    runForm->addRow(QStringLiteral("Name"), withError(QStringLiteral("name"), m_name));
    auto *fileRow = new QWidget(runBox);
    auto *fileLayout = new QHBoxLayout(fileRow);
    fileLayout->setContentsMargins(0, 0, 0, 0);
    fileLayout->addWidget(new QLabel(QStringLiteral("configs/"), fileRow));
    fileLayout->addWidget(m_file, 1);
    fileLayout->addWidget(new QLabel(QStringLiteral(".yaml"), fileRow));
    m_file->setToolTip(QStringLiteral("The config is written to the workspace's configs/ folder; an existing file is never replaced."));
    runForm->addRow(QStringLiteral("Config file"), withError(QStringLiteral("file"), fileRow));
    m_fields.insert(QStringLiteral("file"), m_file);

    auto *dataBox = new QGroupBox(QStringLiteral("Data"), this);
    auto *dataForm = new QFormLayout(dataBox);
    auto *dataRow = new QWidget(dataBox);
    auto *dataLayout = new QHBoxLayout(dataRow);
    dataLayout->setContentsMargins(0, 0, 0, 0);
    dataLayout->addWidget(m_dataset, 2);
    dataLayout->addWidget(m_version, 1);
    m_dataset->setToolTip(QStringLiteral("Dataset to train on"));
    m_version->setToolTip(QStringLiteral("Version: a fixed one, or the latest at the time the run starts"));
    dataForm->addRow(QStringLiteral("Train on"), withError(QStringLiteral("data"), dataRow));
    m_fields.insert(QStringLiteral("data"), m_dataset);
    m_evaluate->setToolTip(QStringLiteral("Dataset version the final test metrics are computed on"));
    dataForm->addRow(QStringLiteral("Evaluate on"), withError(QStringLiteral("evaluate"), m_evaluate));
    m_target->setToolTip(QStringLiteral("Column to predict"));
    dataForm->addRow(QStringLiteral("Target"), withError(QStringLiteral("target"), m_target));
    m_task->addItem(QStringLiteral("detect from the target"), QStringLiteral("auto"));
    m_task->addItem(QStringLiteral("regression"), QStringLiteral("regression"));
    m_task->addItem(QStringLiteral("binary classification"), QStringLiteral("binary"));
    m_task->addItem(QStringLiteral("multiclass classification"), QStringLiteral("multiclass"));
    dataForm->addRow(QStringLiteral("Task"), withError(QStringLiteral("task"), m_task));

    auto *splitBox = new QGroupBox(QStringLiteral("Validation split"), this);
    m_splitForm = new QFormLayout(splitBox);
    m_splitKind->addItem(QStringLiteral("holdout (random)"), QStringLiteral("holdout"));
    m_splitKind->addItem(QStringLiteral("k-fold cross-validation"), QStringLiteral("kfold"));
    m_splitKind->addItem(QStringLiteral("time (latest rows held out)"), QStringLiteral("time"));
    m_splitForm->addRow(QStringLiteral("Kind"), withError(QStringLiteral("split.kind"), m_splitKind));
    m_testFraction->setRange(0.01, 0.99);
    m_testFraction->setDecimals(2);
    m_testFraction->setSingleStep(0.05);
    m_testFraction->setValue(0.2);
    m_testFraction->setToolTip(QStringLiteral("Share of the rows held out as the test part: scored as test.*, seen by no "
                                              "training step (not used when an evaluation dataset is the test)"));
    m_splitForm->addRow(QStringLiteral("Test share"), withError(QStringLiteral("split.test_fraction"), m_testFraction));
    m_validationFraction->setRange(0.0, 0.9);
    m_validationFraction->setDecimals(2);
    m_validationFraction->setSingleStep(0.05);
    m_validationFraction->setValue(0.1);
    m_validationFraction->setToolTip(QStringLiteral("Share of the training part held back for early stopping and curves "
                                                    "(validation.* metrics; sweeps select on them)"));
    m_splitForm->addRow(QStringLiteral("Validation share"),
                        withError(QStringLiteral("split.validation_fraction"), m_validationFraction));
    m_folds->setRange(2, 100);
    m_folds->setValue(5);
    m_splitForm->addRow(QStringLiteral("Folds"), withError(QStringLiteral("split.folds"), m_folds));
    m_stratify->setChecked(true);
    m_stratify->setText(QStringLiteral("keep class shares (classification)"));
    m_splitForm->addRow(QStringLiteral("Stratify"), withError(QStringLiteral("split.stratify"), m_stratify));
    m_seed->setRange(0, INT_MAX);
    m_seed->setValue(42);
    m_splitForm->addRow(QStringLiteral("Seed"), withError(QStringLiteral("split.seed"), m_seed));
    m_timeColumn->setToolTip(QStringLiteral("Datetime or numeric column ordering the rows"));
    m_splitForm->addRow(QStringLiteral("Time column"), withError(QStringLiteral("split.time_column"), m_timeColumn));

    auto *learnerBox = new QGroupBox(QStringLiteral("Learner"), this);
    auto *learnerLayout = new QVBoxLayout(learnerBox);
    auto *learnerForm = new QFormLayout;
    learnerForm->addRow(QStringLiteral("Learner"), withError(QStringLiteral("learner"), m_learner));
    learnerLayout->addLayout(learnerForm);
    m_learnerHelp->setWordWrap(true);
    m_learnerHelp->setForegroundRole(QPalette::PlaceholderText);
    learnerLayout->addWidget(m_learnerHelp);
    m_paramsForm = new QFormLayout(m_paramsBox);
    m_paramsForm->setContentsMargins(0, 0, 0, 0);
    learnerLayout->addWidget(m_paramsBox);

    auto *form = new QWidget(this);
    auto *formLayout = new QVBoxLayout(form);
    formLayout->setContentsMargins(0, 0, 6, 0);
    formLayout->addWidget(runBox);
    formLayout->addWidget(dataBox);
    formLayout->addWidget(splitBox);
    formLayout->addWidget(learnerBox);
    formLayout->addStretch(1);
    auto *scroll = new QScrollArea(this);
    scroll->setWidget(form);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);

    auto *previewBox = new QWidget(this);
    auto *previewLayout = new QVBoxLayout(previewBox);
    previewLayout->setContentsMargins(6, 0, 0, 0);
    auto *previewTitle = new QLabel(QStringLiteral("<b>Config preview</b>"), previewBox);
    m_preview->setReadOnly(true);
    m_preview->setObjectName(QStringLiteral("configPreview"));
    m_preview->setLineWrapMode(QPlainTextEdit::NoWrap);
    QFont mono(QStringLiteral("monospace"));
    mono.setStyleHint(QFont::Monospace);
    m_preview->setFont(mono);
    m_keptNote->setWordWrap(true);
    m_keptNote->setForegroundRole(QPalette::PlaceholderText);
    m_keptNote->hide();
    previewLayout->addWidget(previewTitle);
    previewLayout->addWidget(m_preview, 1);
    previewLayout->addWidget(m_keptNote);

    auto *split = new QSplitter(this);
    split->addWidget(scroll);
    split->addWidget(previewBox);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    split->setSizes({560, 500});

    m_errors->setWordWrap(true);
    m_errors->setObjectName(QStringLiteral("newRunErrors"));
    m_errors->hide();
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, this);
    QPushButton *startButton = buttons->addButton(QStringLiteral("Start Run"), QDialogButtonBox::AcceptRole);
    startButton->setDefault(true);
    startButton->setObjectName(QStringLiteral("startRunButton"));
    connect(buttons, &QDialogButtonBox::accepted, this, &NewRunDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &NewRunDialog::reject);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_heading);
    layout->addWidget(split, 1);
    layout->addWidget(m_errors);
    layout->addWidget(buttons);
}

void NewRunDialog::rebuildParams()
{
    for (const ParamField &p : m_params) {
        m_fields.remove(QStringLiteral("params.") + p.name);
        m_errorLabels.remove(QStringLiteral("params.") + p.name);
    }
    m_params.clear();
    while (m_paramsForm->rowCount() > 0)
        m_paramsForm->removeRow(0);
    const ml::Learner *learner = ml::findLearner(m_learner->currentData().toString());
    if (!learner) {
        m_learnerHelp->clear();
        updatePreview();
        return;
    }
    m_learnerHelp->setText(learner->description());
    for (const ParamSpec &spec : learner->params()) {
        ParamField field;
        field.name = spec.name;
        field.type = int(spec.type);
        field.defaultValue = spec.defaultValue;
        QString tip = spec.help;
        switch (spec.type) {
        case ParamSpec::Type::Int: {
            const bool fitsInt = spec.min >= double(INT_MIN) && spec.max <= double(INT_MAX);
            if (fitsInt) {
                auto *box = new QSpinBox(m_paramsBox);
                box->setRange(int(spec.min), int(spec.max));
                box->setValue(spec.defaultValue.toInt());
                connect(box, &QSpinBox::valueChanged, this, [this] { updatePreview(); });
                field.widget = box;
            } else {
                auto *box = new NumberSpinBox(m_paramsBox);
                box->setDecimals(0);
                box->setRange(std::isinf(spec.min) ? -9.0e15 : spec.min, std::isinf(spec.max) ? 9.0e15 : spec.max);
                box->setValue(spec.defaultValue.toDouble());
                connect(box, &QDoubleSpinBox::valueChanged, this, [this] { updatePreview(); });
                field.widget = box;
            }
            tip += QStringLiteral("\nInteger from %1 to %2; default %3.")
                       .arg(boundText(spec.min), boundText(spec.max), valueText(spec.defaultValue));
            break;
        }
        case ParamSpec::Type::Double: {
            auto *box = new NumberSpinBox(m_paramsBox);
            box->setRange(std::isinf(spec.min) ? -1.0e300 : spec.min, std::isinf(spec.max) ? 1.0e300 : spec.max);
            box->setValue(spec.defaultValue.toDouble());
            connect(box, &QDoubleSpinBox::valueChanged, this, [this] { updatePreview(); });
            field.widget = box;
            tip += QStringLiteral("\nNumber from %1 to %2; default %3%4.")
                       .arg(boundText(spec.min), boundText(spec.max), valueText(spec.defaultValue),
                            spec.logScale ? QStringLiteral(" (usually searched on a log scale)") : QString());
            break;
        }
        case ParamSpec::Type::Bool: {
            auto *box = new QCheckBox(m_paramsBox);
            box->setChecked(spec.defaultValue.toBool());
            connect(box, &QCheckBox::toggled, this, [this] { updatePreview(); });
            field.widget = box;
            tip += QStringLiteral("\nDefault %1.").arg(valueText(spec.defaultValue));
            break;
        }
        case ParamSpec::Type::Choice: {
            auto *box = new QComboBox(m_paramsBox);
            box->addItems(spec.choices);
            box->setCurrentText(spec.defaultValue.toString());
            connect(box, &QComboBox::currentIndexChanged, this, [this] { updatePreview(); });
            field.widget = box;
            tip += QStringLiteral("\nOne of %1; default %2.").arg(spec.choices.join(QStringLiteral(", ")), spec.defaultValue.toString());
            break;
        }
        }
        field.widget->setToolTip(tip);
        field.widget->setObjectName(QStringLiteral("param_") + spec.name);
        auto *label = new QLabel(spec.name, m_paramsBox);
        label->setToolTip(tip);
        m_paramsForm->addRow(label, withError(QStringLiteral("params.") + spec.name, field.widget));
        m_params.push_back(field);
    }
    updatePreview();
}

const workspace::DatasetVersion *NewRunDialog::selectedVersion() const
{
    const int d = m_dataset->currentIndex();
    if (d < 0 || d >= int(m_datasets.size()) || m_datasets[size_t(d)].versions.empty())
        return nullptr;
    const auto &versions = m_datasets[size_t(d)].versions;
    const int v = m_version->currentData().toInt();
    if (v <= 0)
        return &versions.back();
    for (const auto &version : versions)
        if (version.version == v)
            return &version;
    return nullptr;
}

void NewRunDialog::updateVersions()
{
    QSignalBlocker block(m_version);
    m_version->clear();
    const int d = m_dataset->currentIndex();
    if (d >= 0 && d < int(m_datasets.size())) {
        const auto &versions = m_datasets[size_t(d)].versions;
        if (!versions.empty())
            m_version->addItem(QStringLiteral("latest (now v%1)").arg(versions.back().version), 0);
        for (auto it = versions.rbegin(); it != versions.rend(); ++it)
            m_version->addItem(QStringLiteral("v%1").arg(it->version), it->version);
        m_version->setCurrentIndex(versions.empty() ? -1 : 1);
    }
    updateColumns();
}

void NewRunDialog::updateColumns()
{
    const QString keepTarget = m_target->currentText();
    const QString keepTime = m_timeColumn->currentText();
    QSignalBlocker blockTarget(m_target);
    QSignalBlocker blockTime(m_timeColumn);
    m_target->clear();
    m_timeColumn->clear();
    if (const workspace::DatasetVersion *v = selectedVersion()) {
        for (const data::Field &f : v->record.schema) {
            m_target->addItem(f.name);
            if (f.type == data::ColumnType::Datetime || f.type == data::ColumnType::Int64 || f.type == data::ColumnType::Float64)
                m_timeColumn->addItem(f.name);
        }
    }
    const int keep = m_target->findText(keepTarget);
    m_target->setCurrentIndex(keep >= 0 ? keep : m_target->count() - 1);
    const int keepT = m_timeColumn->findText(keepTime);
    m_timeColumn->setCurrentIndex(keepT >= 0 ? keepT : 0);
    updatePreview();
}

void NewRunDialog::updateSplitRows()
{
    const QString kind = m_splitKind->currentData().toString();
    m_splitForm->setRowVisible(m_errorLabels.value(QStringLiteral("split.test_fraction"))->parentWidget(),
                               kind != u"kfold" && m_evaluate->currentData().toString().isEmpty());
    m_splitForm->setRowVisible(m_errorLabels.value(QStringLiteral("split.folds"))->parentWidget(), kind == u"kfold");
    m_splitForm->setRowVisible(m_errorLabels.value(QStringLiteral("split.stratify"))->parentWidget(), kind != u"time");
    m_splitForm->setRowVisible(m_errorLabels.value(QStringLiteral("split.seed"))->parentWidget(), kind != u"time");
    m_splitForm->setRowVisible(m_errorLabels.value(QStringLiteral("split.time_column"))->parentWidget(), kind == u"time");
    updatePreview();
}

QString NewRunDialog::dataRef() const
{
    const QString name = m_dataset->currentText();
    if (name.isEmpty())
        return {};
    const int v = m_version->currentData().toInt();
    return v > 0 ? QStringLiteral("%1@v%2").arg(name).arg(v) : name;
}

QString NewRunDialog::uniqueFileName(const QString &base) const
{
    QString clean = base;
    clean.replace(QRegularExpression(QStringLiteral("[^A-Za-z0-9._-]+")), QStringLiteral("-"));
    while (clean.startsWith(QLatin1Char('-')) || clean.startsWith(QLatin1Char('.')) || clean.startsWith(QLatin1Char('_')))
        clean.remove(0, 1);
    if (clean.isEmpty())
        clean = QStringLiteral("run");
    const QDir configs(m_root + QStringLiteral("/configs"));
    QString name = clean;
    for (int i = 2; QFileInfo::exists(configs.filePath(name + QStringLiteral(".yaml"))); ++i)
        name = QStringLiteral("%1-%2").arg(clean).arg(i);
    return name;
}

QString NewRunDialog::configPath() const
{
    return QDir(m_root + QStringLiteral("/configs")).filePath(m_file->text().trimmed() + QStringLiteral(".yaml"));
}

QVariant NewRunDialog::paramValue(const QString &name) const
{
    for (const ParamField &p : m_params) {
        if (p.name != name)
            continue;
        switch (ParamSpec::Type(p.type)) {
        case ParamSpec::Type::Int:
            if (auto *s = qobject_cast<QSpinBox *>(p.widget))
                return qlonglong(s->value());
            return qlonglong(std::llround(static_cast<QDoubleSpinBox *>(p.widget)->value()));
        case ParamSpec::Type::Double: return static_cast<QDoubleSpinBox *>(p.widget)->value();
        case ParamSpec::Type::Bool: return static_cast<QCheckBox *>(p.widget)->isChecked();
        case ParamSpec::Type::Choice: return static_cast<QComboBox *>(p.widget)->currentText();
        }
    }
    return {};
}

QString NewRunDialog::configText() const
{
    ml::TrainingConfigDraft d;
    d.experiment = m_experiment->currentText();
    d.name = m_name->text();
    d.data = dataRef();
    d.evaluate = m_evaluate->currentData().toString();
    d.target = m_target->currentText();
    if (const QString task = m_task->currentData().toString(); task != u"auto")
        d.task = task;
    d.baseYaml = m_baseYaml;   // the branched run's preprocessing travels unchanged
    const QString kind = m_splitKind->currentData().toString();
    d.split.kind = kind == u"kfold" ? ml::SplitKind::KFold : kind == u"time" ? ml::SplitKind::Time : ml::SplitKind::Holdout;
    d.split.folds = m_folds->value();
    d.split.testFraction = m_testFraction->value();
    d.split.validationFraction = m_validationFraction->value();
    d.split.timeColumn = m_timeColumn->currentText();
    d.split.stratify = m_stratify->isChecked();
    d.split.seed = quint64(m_seed->value());
    d.learner = m_learner->currentData().toString();
    for (const ParamField &p : m_params) {
        const QVariant v = paramValue(p.name);
        if (!sameValue(v, p.defaultValue))
            d.params.emplace_back(p.name, valueText(v));
    }
    d.headerComments << QStringLiteral("Written by the Keel workbench (New Run).");
    if (!m_parentRunId.isEmpty())
        d.headerComments << QStringLiteral("Branched from run %1.").arg(m_parentRunId);
    auto text = ml::writeTrainingConfig(d);
    return text ? *text : QStringLiteral("# ") + text.message() + QLatin1Char('\n');
}

void NewRunDialog::updatePreview()
{
    if (m_preview)
        m_preview->setPlainText(configText());
}

void NewRunDialog::clearErrors()
{
    for (QLabel *l : std::as_const(m_errorLabels)) {
        l->clear();
        l->hide();
    }
    m_fieldErrors.clear();
    m_generalErrors.clear();
    m_errors->hide();
}

void NewRunDialog::showError(const QString &field, const QString &message)
{
    const QString colour = isDark(palette()) ? QStringLiteral("#ff7b7b") : QStringLiteral("#c62828");
    if (QLabel *l = m_errorLabels.value(field)) {
        m_fieldErrors.insert(field, message);
        l->setText(QStringLiteral("<span style='color:%1'>\u26a0 %2</span>").arg(colour, message.toHtmlEscaped()));
        l->show();
    } else {
        m_generalErrors << (field.isEmpty() ? message : QStringLiteral("%1: %2").arg(field, message));
    }
    QStringList lines;
    for (const QString &line : errorText().split(QLatin1Char('\n')))
        lines << line.toHtmlEscaped();
    m_errors->setText(QStringLiteral("<span style='color:%1'>Cannot start the run:<br>%2</span>")
                          .arg(colour, lines.join(QStringLiteral("<br>"))));
    m_errors->show();
}

QString NewRunDialog::fieldError(const QString &field) const { return m_fieldErrors.value(field); }

QString NewRunDialog::errorText() const
{
    QStringList lines;
    for (auto it = m_fieldErrors.cbegin(); it != m_fieldErrors.cend(); ++it)
        lines << QStringLiteral("%1: %2").arg(it.key(), it.value());
    lines << m_generalErrors;
    lines.sort();
    return lines.join(QLatin1Char('\n'));
}

QWidget *NewRunDialog::fieldWidget(const QString &field) const { return m_fields.value(field); }

bool NewRunDialog::validate()
{
    clearErrors();
    if (m_experiment->currentText().trimmed().isEmpty())
        showError(QStringLiteral("experiment"), QStringLiteral("give the experiment a name"));
    if (m_name->text().trimmed().isEmpty())
        showError(QStringLiteral("name"), QStringLiteral("give the run a name"));
    const QString file = m_file->text().trimmed();
    if (!fileNamePattern().match(file).hasMatch())
        showError(QStringLiteral("file"),
                  QStringLiteral("use letters, digits, '.', '_' and '-' (starting with a letter or digit)"));
    else if (QFileInfo::exists(configPath()))
        showError(QStringLiteral("file"),
                  QStringLiteral("configs/%1.yaml already exists; choose another name (existing configs are never replaced)").arg(file));

    const workspace::DatasetVersion *version = selectedVersion();
    if (!version)
        showError(QStringLiteral("data"), m_datasets.empty() ? QStringLiteral("This workspace has no datasets yet: import one first.")
                                                             : QStringLiteral("choose a dataset version"));
    std::optional<data::ColumnType> targetType;
    if (version) {
        for (const data::Field &f : version->record.schema)
            if (f.name == m_target->currentText())
                targetType = f.type;
        if (!targetType)
            showError(QStringLiteral("target"), QStringLiteral("'%1' is not a column of %2").arg(m_target->currentText(), version->ref()));
    }

    // Parameter values against the learner's declared types and ranges.
    const ml::Learner *learner = ml::findLearner(m_learner->currentData().toString());
    if (!learner) {
        showError(QStringLiteral("learner"), QStringLiteral("choose a learner"));
    } else {
        ml::Params values;
        for (const ParamField &p : m_params)
            values.insert(p.name, paramValue(p.name));
        if (auto checked = ml::validateParams(learner->params(), values); !checked)
            showError(QStringLiteral("params.") + checked.error().field, checked.error().message);
        // The task the learner will face: as chosen, or as the target column's type says (integers can be either).
        const QString taskText = m_task->currentData().toString();
        std::optional<bool> classification;
        if (taskText == u"regression")
            classification = false;
        else if (taskText == u"binary" || taskText == u"multiclass")
            classification = true;
        else if (targetType && *targetType != data::ColumnType::Int64)
            classification = *targetType != data::ColumnType::Float64;
        bool fits = true;
        if (taskText == u"binary")
            fits = learner->supports(ml::Task::BinaryClassification);
        else if (taskText == u"multiclass")
            fits = learner->supports(ml::Task::MulticlassClassification);
        else if (classification)
            fits = *classification ? learner->supports(ml::Task::BinaryClassification)
                                         || learner->supports(ml::Task::MulticlassClassification)
                                   : learner->supports(ml::Task::Regression);
        if (!fits) {
            const QString kind = *classification ? QStringLiteral("classification") : QStringLiteral("regression");
            showError(QStringLiteral("learner"), QStringLiteral("%1 does not fit %2 targets, and '%3' is a %2 target")
                                                     .arg(learner->name(), kind, m_target->currentText()));
        }
    }
    if (m_splitKind->currentData().toString() == u"time" && m_timeColumn->currentText().isEmpty())
        showError(QStringLiteral("split.time_column"), QStringLiteral("the dataset has no datetime or numeric column to split on"));

    // The generated text as the runner will read it.
    if (m_fieldErrors.isEmpty() && m_generalErrors.isEmpty()) {
        auto parsed = ml::TrainingConfig::fromYaml(configText(), configPath());
        if (!parsed) {
            const Error &e = parsed.error();
            QString field = e.field;
            while (!field.isEmpty() && !m_errorLabels.contains(field) && field.contains(QLatin1Char('.')))
                field = field.section(QLatin1Char('.'), 0, -2);
            showError(m_errorLabels.contains(field) ? field : e.field, e.message);
        }
    }
    return m_fieldErrors.isEmpty() && m_generalErrors.isEmpty();
}

Expected<NewRunRequest> NewRunDialog::submit()
{
    if (!validate())
        return makeError(errorText().section(QLatin1Char('\n'), 0, 0));
    const QString path = configPath();
    if (!QDir().mkpath(QFileInfo(path).absolutePath()))
        return makeError(QStringLiteral("cannot create the configs folder"), QFileInfo(path).absolutePath());
    if (QFileInfo::exists(path)) {
        showError(QStringLiteral("file"), QStringLiteral("configs/%1 already exists").arg(QFileInfo(path).fileName()));
        return makeError(QStringLiteral("the config file already exists"), path);
    }
    NewRunRequest request;
    request.configPath = path;
    request.yaml = configText();
    request.parentRunId = m_parentRunId;
    request.runName = m_name->text().trimmed();
    if (Status s = writeFileAtomic(path, request.yaml.toUtf8()); !s) {
        showError(QStringLiteral("file"), s.error().toString());
        return s.error();
    }
    m_request = request;
    return request;
}

void NewRunDialog::accept()
{
    if (submit())
        QDialog::accept();
}

// ---- setters ----

void NewRunDialog::setExperiment(const QString &name)
{
    m_experiment->setEditText(name);
    m_experiment->setProperty("edited", true);
}

void NewRunDialog::setRunName(const QString &name)
{
    const bool modified = m_name->isModified();
    m_name->setText(name);
    m_name->setModified(modified);
}

void NewRunDialog::setFileName(const QString &name)
{
    m_file->setText(name);
    m_fileEdited = true;
}

bool NewRunDialog::setDataset(const QString &name, int version)
{
    const int d = m_dataset->findText(name);
    if (d < 0)
        return false;
    m_dataset->setCurrentIndex(d);
    const int v = m_version->findData(version);
    if (v < 0)
        return false;
    m_version->setCurrentIndex(v);
    return true;
}

bool NewRunDialog::setEvaluate(const QString &ref)
{
    const int i = m_evaluate->findData(ref);
    if (i < 0)
        return false;
    m_evaluate->setCurrentIndex(i);
    return true;
}

bool NewRunDialog::setTarget(const QString &column)
{
    const int i = m_target->findText(column);
    if (i < 0)
        return false;
    m_target->setCurrentIndex(i);
    return true;
}

bool NewRunDialog::setTask(const QString &task)
{
    const int i = m_task->findData(task.isEmpty() ? QStringLiteral("auto") : task);
    if (i < 0)
        return false;
    m_task->setCurrentIndex(i);
    return true;
}

bool NewRunDialog::setLearner(const QString &name)
{
    const int i = m_learner->findData(name);
    if (i < 0)
        return false;
    m_learner->setCurrentIndex(i);
    return true;
}

bool NewRunDialog::setParam(const QString &name, const QVariant &value)
{
    for (const ParamField &p : m_params) {
        if (p.name != name)
            continue;
        switch (ParamSpec::Type(p.type)) {
        case ParamSpec::Type::Int:
        case ParamSpec::Type::Double: {
            bool ok = false;
            const double v = value.toDouble(&ok);
            if (!ok)
                return false;
            if (auto *s = qobject_cast<QSpinBox *>(p.widget)) {
                if (v < s->minimum() || v > s->maximum())
                    return false;
                s->setValue(int(v));
                return true;
            }
            auto *d = static_cast<QDoubleSpinBox *>(p.widget);
            if (v < d->minimum() || v > d->maximum())
                return false;
            d->setValue(v);
            return true;
        }
        case ParamSpec::Type::Bool: {
            const QString t = valueText(value).toLower();
            if (t != u"true" && t != u"false" && t != u"1" && t != u"0")
                return false;
            static_cast<QCheckBox *>(p.widget)->setChecked(t == u"true" || t == u"1");
            return true;
        }
        case ParamSpec::Type::Choice: {
            auto *c = static_cast<QComboBox *>(p.widget);
            const int i = c->findText(value.toString());
            if (i < 0)
                return false;
            c->setCurrentIndex(i);
            return true;
        }
        }
    }
    return false;
}

bool NewRunDialog::setSplitKind(const QString &kind)
{
    const int i = m_splitKind->findData(kind);
    if (i < 0)
        return false;
    m_splitKind->setCurrentIndex(i);
    return true;
}

void NewRunDialog::setTestFraction(double fraction) { m_testFraction->setValue(fraction); }

Status NewRunDialog::branchFrom(const RunDetails &run)
{
    m_parentRunId = run.run.id;
    const QString runName = run.run.name.isEmpty() ? run.run.id.left(8) : run.run.name;
    m_heading->setText(QStringLiteral("Branch from run %1").arg(runName));
    setWindowTitle(QStringLiteral("Branch from %1").arg(runName));

    auto config = ml::TrainingConfig::fromYaml(run.run.config, QStringLiteral("config of run %1").arg(run.run.id.left(8)));
    const auto param = [&](const QString &key) { return run.param(key); };
    QString learner = config ? config->learner : param(QStringLiteral("learner"));
    if (learner.isEmpty() || !setLearner(learner)) {
        m_parentRunId.clear();
        return config ? makeError(QStringLiteral("the run's learner '%1' is unknown").arg(learner))
                      : config.error();
    }
    if (config)
        m_baseYaml = run.run.config;

    setExperiment(config ? config->experiment : run.run.experiment);
    setRunName(runName + QStringLiteral("-branch"));
    m_fileEdited = false;
    m_file->setText(uniqueFileName(runName + QStringLiteral("-branch")));

    // The dataset version the run actually used (its params record the resolved ref).
    const auto selectRef = [&](const QString &ref) {
        const QString name = ref.section(QLatin1Char('@'), 0, 0);
        const QString v = ref.section(QLatin1Char('@'), 1);
        const int version = v.startsWith(QLatin1Char('v')) ? v.mid(1).toInt() : 0;
        return setDataset(name, version) || setDataset(name, 0);
    };
    const QString usedData = param(QStringLiteral("data"));
    selectRef(!usedData.isEmpty() ? usedData : config ? config->data : QString());
    const QString usedEval = param(QStringLiteral("evaluate"));
    setEvaluate(!usedEval.isEmpty() ? usedEval : config ? config->evaluate : QString());
    setTarget(config ? config->recipe.target : param(QStringLiteral("target")));
    setTask(config ? config->recipe.task : QStringLiteral("auto"));

    if (config) {
        const ml::SplitSpec &s = config->split;
        setSplitKind(ml::splitKindName(s.kind));
        m_testFraction->setValue(s.testFraction);
        m_validationFraction->setValue(s.validationFraction);
        m_folds->setValue(s.folds);
        m_stratify->setChecked(s.stratify);
        m_seed->setValue(int(std::min<quint64>(s.seed, quint64(INT_MAX))));
        if (!s.timeColumn.isEmpty())
            m_timeColumn->setCurrentText(s.timeColumn);
        for (auto it = config->params.cbegin(); it != config->params.cend(); ++it)
            setParam(it.key(), it.value());
    } else {
        for (const auto &[key, value] : run.params) {
            if (key.startsWith(QLatin1String("params.")))
                setParam(key.mid(7), value);
            else if (key == u"split.kind")
                setSplitKind(value);
            else if (key == u"split.test_fraction")
                m_testFraction->setValue(value.toDouble());
            else if (key == u"split.validation_fraction")
                m_validationFraction->setValue(value.toDouble());
            else if (key == u"split.seed")
                m_seed->setValue(value.toInt());
            else if (key == u"split.stratify")
                m_stratify->setChecked(value == u"true");
        }
    }
    QStringList kept;
    if (config && !config->recipe.labelMap.isEmpty())
        kept << QStringLiteral("label_map");
    if (m_baseYaml.contains(QRegularExpression(QStringLiteral("^recipe:"), QRegularExpression::MultilineOption)))
        kept << QStringLiteral("recipe");
    if (!kept.isEmpty()) {
        m_keptNote->setText(QStringLiteral("The %1 section%2 of run %3's config %4 kept as written.")
                                .arg(kept.join(QStringLiteral(" and ")), kept.size() > 1 ? QStringLiteral("s") : QString(),
                                     runName, kept.size() > 1 ? QStringLiteral("are") : QStringLiteral("is")));
        m_keptNote->show();
    }
    updatePreview();
    if (!config)
        return makeError(QStringLiteral("the run's recorded config could not be read (%1); the form was filled from its params")
                             .arg(config.error().toString()));
    return Status::ok();
}

} // namespace keel::ui
