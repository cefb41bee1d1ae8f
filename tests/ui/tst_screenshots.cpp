// The screenshot tool: every main view renders with the example workspace, in light and dark themes.
#include "screenshots.h"

#include <QImage>
#include <QTemporaryDir>
#include <QtTest>

using namespace keel;
using namespace keel::ui;

namespace {

/// Mean luminance (0..255) and the number of distinct colours of an image.
std::pair<double, int> measure(const QImage &image)
{
    QSet<QRgb> colours;
    double sum = 0;
    const QImage img = image.convertToFormat(QImage::Format_RGB32);
    for (int y = 0; y < img.height(); y += 2) {
        const QRgb *line = reinterpret_cast<const QRgb *>(img.constScanLine(y));
        for (int x = 0; x < img.width(); x += 2) {
            colours.insert(line[x]);
            sum += qGray(line[x]);
        }
    }
    return {sum / double(((img.height() + 1) / 2) * ((img.width() + 1) / 2)), int(colours.size())};
}

} // namespace

class TestScreenshots : public QObject {
    Q_OBJECT
private slots:
    void rendersEveryView();
};

void TestScreenshots::rendersEveryView()
{
    QTemporaryDir out;
    QVERIFY(out.isValid());
    qputenv("KEEL_BINARY", KEEL_BINARY); // the tool trains real runs through the keel child process
    QStringList files;
    const Status s = renderScreenshots(out.path(), QStringLiteral(KEEL_SOURCE_DIR "/resources/examples"), &files);
    QVERIFY2(s, qPrintable(s.message()));
    const QStringList expected = {QStringLiteral("datasets-table.png"),      QStringLiteral("datasets-columns.png"),
                                  QStringLiteral("datasets-diff.png"),       QStringLiteral("datasets-validation.png"),
                                  QStringLiteral("import-dialog.png"),       QStringLiteral("audit.png"), QStringLiteral("audit-decision.png"),
                                  QStringLiteral("experiments.png"),         QStringLiteral("dark-datasets-table.png"),
                                  QStringLiteral("dark-datasets-diff.png"),  QStringLiteral("experiments-live.png"),
                                  QStringLiteral("experiments-new-run.png"), QStringLiteral("experiments-run.png"),
                                  QStringLiteral("experiments-curves.png"),  QStringLiteral("experiments-evaluation.png"),
                                  QStringLiteral("experiments-sweep.png"),   QStringLiteral("experiments-compare.png"),
                                  QStringLiteral("models-global.png"),       QStringLiteral("models-prediction.png"),
                                  QStringLiteral("models-fairness.png"),     QStringLiteral("models-registry.png"),
                                  QStringLiteral("models-compare.png"),      QStringLiteral("models-dark-registry.png"),
                                  QStringLiteral("models-dark-compare.png"),
                                  QStringLiteral("experiments-dark-curves.png"),
                                  QStringLiteral("experiments-dark-evaluation.png"),
                                  QStringLiteral("experiments-multiclass-evaluation.png"),
                                  QStringLiteral("deployments.png"), QStringLiteral("deployments-deploy.png"),
                                  QStringLiteral("models-multiclass-global.png"),
                                  QStringLiteral("models-multiclass-prediction.png"),
                                  QStringLiteral("models-multiclass-global-1280x720.png"),
                                  QStringLiteral("experiments-multiclass-evaluation-1280x720.png"),
                                  QStringLiteral("monitoring-drift.png"), QStringLiteral("monitoring-velocity.png"),
                                  QStringLiteral("monitoring-performance.png"), QStringLiteral("monitoring-alerts.png"),
                                  QStringLiteral("monitoring-dark-performance.png"), QStringLiteral("pipelines.png")};
    QCOMPARE(files.size(), expected.size());
    std::map<QString, double> luminance;
    for (const QString &name : expected) {
        const QString path = out.filePath(name);
        QVERIFY2(files.contains(path), qPrintable(path));
        QImage image(path);
        QVERIFY2(!image.isNull(), qPrintable(path));
        QVERIFY(image.width() >= 1000 && image.height() >= 600);
        const auto [lum, colours] = measure(image);
        // Text, charts and widgets, not a blank or single-colour surface.
        QVERIFY2(colours > 50, qPrintable(QStringLiteral("%1: %2 colours").arg(name).arg(colours)));
        luminance[name] = lum;
    }
    // The dark theme really is dark, the light one light.
    QVERIFY(luminance[QStringLiteral("dark-datasets-table.png")] < 100);
    QVERIFY(luminance[QStringLiteral("datasets-table.png")] > 160);
}

QTEST_MAIN(TestScreenshots)
#include "tst_screenshots.moc"
