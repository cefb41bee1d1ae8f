#include "commands.h"

#include "workspace/workspace.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QJsonArray>
#include <QJsonObject>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <unistd.h>

namespace keel::cli {

namespace {
std::atomic<Feedback *> g_signalFeedback{nullptr};
std::atomic<int> g_signals{0};

extern "C" void onCancelSignal(int sig)
{
    if (g_signals.fetch_add(1) > 0) {
        std::signal(sig, SIG_DFL);
        std::raise(sig);
        return;
    }
    if (Feedback *f = g_signalFeedback.load())
        f->cancel();
}

// SIGINT and SIGTERM cancel `feedback`: the running core call stops where it next looks, removes what it had half
// written and returns a cancelled error; a second signal ends the process at once.
void cancelOnSignals(Feedback *feedback)
{
    g_signalFeedback.store(feedback);
    struct sigaction sa {};
    sa.sa_handler = onCancelSignal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
}
} // namespace

Context::Context(QCommandLineParser &p, const GlobalOptions &g) : parser(p), global(g), out(stdout), err(stderr)
{
    m_tty = ::isatty(STDERR_FILENO) == 1;
    m_eta = StageEta(QDateTime::currentMSecsSinceEpoch());
}

Context::~Context()
{
    endProgress();
    Feedback *mine = &m_feedback;
    g_signalFeedback.compare_exchange_strong(mine, nullptr);   // a late signal must not reach a destroyed Feedback
}

QString Context::directory() const
{
    const QString d = parser.isSet(QStringLiteral("C")) ? parser.value(QStringLiteral("C")) : global.directory;
    return d.isEmpty() ? QDir::currentPath() : QDir(d).absolutePath();
}

QString Context::path(const QString &arg) const
{
    if (arg.isEmpty() || arg == u"-")
        return arg;
    return QDir::cleanPath(QDir(directory()).absoluteFilePath(arg));
}

workspace::Workspace *Context::workspace()
{
    if (!m_ws) {
        auto ws = workspace::Workspace::open(directory());
        if (!ws) {
            fail(ws.error());
            return nullptr;
        }
        m_ws = std::move(*ws);
    }
    return m_ws.get();
}

Feedback *Context::feedback()
{
    if (m_feedbackReady)
        return &m_feedback;
    m_feedbackReady = true;
    // Every command that hands a Feedback to core work can be cancelled: Ctrl-C stops it cleanly instead of
    // killing it halfway (which would leave, say, the temporary packs of an add behind until `keel store gc`).
    cancelOnSignals(&m_feedback);
    if (m_tty) {
        m_feedback.setCallback([this](qint64 done, qint64 total, const QString &stage) {
            const qint64 now = QDateTime::currentMSecsSinceEpoch();
            if (now - m_lastDrawMs < 100 && done < total)
                return;
            m_lastDrawMs = now;
            m_progressShown = true;
            const double frac = total > 0 ? std::clamp(double(done) / double(total), 0.0, 1.0) : 0.0;
            const int width = 30;
            const int filled = int(frac * width);
            QString bar = QString(filled, QLatin1Char('#')) + QString(width - filled, QLatin1Char('.'));
            m_eta.report(now, done, total, stage);
            QString eta;
            if (const std::optional<qint64> left = m_eta.remainingMs(now))
                eta = QStringLiteral(" ETA %1s").arg(qRound(double(*left) / 1000.0));
            const QString line = QStringLiteral("\r%1 [%2] %3%%4").arg(stage.leftJustified(10), bar).arg(qRound(frac * 100), 3).arg(eta);
            std::fputs(line.leftJustified(72).toLocal8Bit().constData(), stderr);
            std::fflush(stderr);
        });
    }
    m_feedback.setWarningCallback([this](const QString &message) {
        endProgress();
        std::fputs(QStringLiteral("warning: %1\n").arg(message).toLocal8Bit().constData(), stderr);
        std::fflush(stderr);
    });
    return &m_feedback;
}

void Context::endProgress()
{
    if (m_progressShown) {
        std::fputs("\r\033[K", stderr);
        std::fflush(stderr);
        m_progressShown = false;
    }
}

int Context::fail(const Error &e)
{
    endProgress();
    if (e.is(ErrorKind::Cancelled)) {   // what Ctrl-C leads to: nothing was done, and the shell's code for it
        err << "keel: cancelled\n";
        err.flush();
        return 130;
    }
    err << "keel: error: " << e.toString() << '\n';
    err.flush();
    return 1;
}

int Context::fail(const QString &message) { return fail(makeError(message)); }

int Context::usage(const QString &message)
{
    endProgress();
    err << "keel: error: " << message << '\n';
    err.flush();
    return 2;
}

void Context::write(QByteArrayView utf8)
{
    out.flush();
    std::fwrite(utf8.data(), 1, size_t(utf8.size()), stdout);
    std::fflush(stdout);
}

void Context::printJson(const QJsonValue &v)
{
    QJsonDocument doc = v.isArray() ? QJsonDocument(v.toArray()) : QJsonDocument(v.toObject());
    out << doc.toJson(QJsonDocument::Indented);
    out.flush();
}

const std::vector<Command> &commands()
{
    static const std::vector<Command> all = [] {
        std::vector<Command> v;
        for (auto part : {workspaceCommands(), dataCommands(), trainCommands(), sweepCommands(), explainCommands(), predictCommands(),
                          modelCommands(), deployCommands(), serveCommands(), monitorCommands(), pipelineCommands(), storeCommands()})
            v.insert(v.end(), part.begin(), part.end());
        return v;
    }();
    return all;
}

int runCommand(const Command &command, const QStringList &args, const GlobalOptions &global)
{
    QCommandLineParser parser;
    parser.setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);
    parser.addOption({{QStringLiteral("h"), QStringLiteral("help")}, QStringLiteral("Show this help.")});
    parser.addOption({QStringLiteral("json"), QStringLiteral("Machine-readable output on stdout.")});
    parser.addOption({QStringLiteral("C"), QStringLiteral("Run as if started in <dir>."), QStringLiteral("dir")});
    if (command.options)
        command.options(parser);
    const QString name = QStringLiteral("keel ") + command.path.join(QLatin1Char(' '));
    QStringList argv = {name};
    argv << args;
    QTextStream err(stderr);
    if (!parser.parse(argv)) {
        err << "keel: error: " << parser.errorText() << " (see " << name << " --help)\n";
        return 2;
    }
    if (parser.isSet(QStringLiteral("help"))) {
        QTextStream out(stdout);
        out << "Usage: " << name << " [options] " << command.synopsis << "\n\n" << command.description << "\n";
        QString help = parser.helpText();
        const qsizetype opts = help.indexOf(QStringLiteral("Options:"));
        if (opts >= 0)
            out << '\n' << help.mid(opts);
        return 0;
    }
    const qsizetype n = parser.positionalArguments().size();
    if (n < command.minArgs || (command.maxArgs >= 0 && n > command.maxArgs)) {
        err << "keel: error: usage: " << name << ' ' << command.synopsis << " (see " << name << " --help)\n";
        return 2;
    }
    Context ctx(parser, global);
    const int code = command.handler(ctx);
    ctx.endProgress();
    ctx.out.flush();
    ctx.err.flush();
    return code;
}

QString formatBytes(qint64 bytes)
{
    const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = double(bytes);
    int u = 0;
    while (v >= 1024.0 && u < 4) {
        v /= 1024.0;
        ++u;
    }
    return u == 0 ? QStringLiteral("%1 B").arg(bytes) : QStringLiteral("%1 %2").arg(v, 0, 'f', 1).arg(QLatin1String(units[u]));
}

namespace {
constexpr qsizetype kMaxCellWidth = 60;

/// Characters (code points) in UTF-8 text: the bytes that do not continue a sequence.
qsizetype characters(QByteArrayView utf8)
{
    qsizetype n = 0;
    for (const char c : utf8)
        n += (uchar(c) & 0xC0) != 0x80;
    return n;
}
} // namespace

TextTable::TextTable(const QStringList &header, QList<int> rightAligned) : m_rightAligned(std::move(rightAligned))
{
    for (const QString &h : header)
        add(QStringView(h));
    endRow();
}

void TextTable::add(QUtf8StringView utf8)
{
    const QByteArrayView bytes(utf8.data(), utf8.size());
    m_text.append(bytes);
    m_cellEnd.push_back(m_text.size());
    const qsizetype column = qsizetype(m_cellEnd.size() - m_rowStart.back()) - 1;
    const qsizetype shown = std::min(characters(bytes), kMaxCellWidth);
    if (column >= qsizetype(m_width.size()))
        m_width.resize(size_t(column) + 1, 0);
    m_width[size_t(column)] = std::max(m_width[size_t(column)], shown);
}

void TextTable::add(QStringView text)
{
    const QByteArray utf8 = text.toUtf8();
    add(QUtf8StringView(utf8.constData(), utf8.size()));
}

void TextTable::endRow() { m_rowStart.push_back(m_cellEnd.size()); }

QByteArray TextTable::toUtf8() const
{
    qsizetype lineWidth = 1;
    for (qsizetype w : m_width)
        lineWidth += w + 2;
    QByteArray out;
    out.reserve(lineWidth * qsizetype(m_rowStart.size()));
    // A row may end before the header does: its last cell is not padded.
    for (size_t row = 0; row + 1 < m_rowStart.size(); ++row) {
        const size_t first = m_rowStart[row], end = m_rowStart[row + 1];
        for (size_t cell = first; cell < end; ++cell) {
            const qsizetype from = cell == 0 ? 0 : m_cellEnd[cell - 1];
            QByteArrayView text(m_text.constData() + from, m_cellEnd[cell] - from);
            const size_t column = cell - first;
            qsizetype shown = characters(text);
            const bool cut = shown > kMaxCellWidth;
            if (cut) {
                // The first 59 characters, then an ellipsis.
                qsizetype n = 0, at = 0;
                for (; at < text.size(); ++at)
                    if ((uchar(text[at]) & 0xC0) != 0x80 && n++ == kMaxCellWidth - 1)
                        break;
                text = text.first(at);
                shown = kMaxCellWidth;
            }
            const bool last = cell + 1 == end;
            const qsizetype pad = m_width[column] - shown;
            const bool right = m_rightAligned.contains(int(column));
            if (right)
                out.append(pad, ' ');
            out.append(text);
            if (cut)
                out.append("\xE2\x80\xA6");   // …
            if (!right && !last)
                out.append(pad, ' ');
            if (!last)
                out.append("  ");
        }
        out.append('\n');
    }
    return out;
}

QString formatTable(const QStringList &header, const std::vector<QStringList> &rows, const QList<int> &rightAligned)
{
    TextTable table(header, rightAligned);
    for (const QStringList &row : rows) {
        for (const QString &cell : row)
            table.add(QStringView(cell));
        table.endRow();
    }
    return QString::fromUtf8(table.toUtf8());
}

} // namespace keel::cli
