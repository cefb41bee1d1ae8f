#pragma once
// The command table and the context each command handler receives.

#include "util/feedback.h"
#include "util/result.h"

#include <QCommandLineParser>
#include <QJsonDocument>
#include <QStringList>
#include <QUtf8StringView>
#include <QTextStream>

#include <functional>
#include <memory>
#include <vector>

namespace keel::workspace { class Workspace; }

namespace keel::cli {

struct GlobalOptions {
    QString directory;   ///< -C DIR
    bool json = false;   ///< --json
};

/// What a command handler gets: parsed options, output streams, and helpers shared by all commands.
class Context {
public:
    Context(QCommandLineParser &parser, const GlobalOptions &global);
    ~Context();

    QCommandLineParser &parser;
    GlobalOptions global;
    QTextStream out;
    QTextStream err;

    bool json() const { return global.json || parser.isSet(QStringLiteral("json")); }
    QStringList args() const { return parser.positionalArguments(); }
    /// Folder the command runs in (-C or the current folder).
    QString directory() const;
    /// A path argument as the user meant it: a relative path is taken relative to directory() (so -C DIR applies
    /// to every path argument alike); "-" stays "-".
    QString path(const QString &arg) const;
    /// Opens the workspace around directory(); prints the error and returns null when there is none.
    workspace::Workspace *workspace();
    /// A Feedback that draws a progress bar with ETA on stderr when it is a terminal, and stays silent otherwise.
    /// From the first call on, SIGINT and SIGTERM cancel it (the core call stops cleanly and fail() reports
    /// "cancelled" with exit code 130); a second signal ends the process at once.
    Feedback *feedback();
    void endProgress();

    /// Prints an error on stderr ("keel: error: ...") and returns exit code 1; a cancelled call prints
    /// "keel: cancelled" and returns 130.
    int fail(const Error &e);
    int fail(const QString &message);
    int usage(const QString &message);
    void printJson(const QJsonValue &v);
    /// Writes UTF-8 text to standard output as it is, after what `out` holds (a long listing built as bytes).
    void write(QByteArrayView utf8);

private:
    std::unique_ptr<workspace::Workspace> m_ws;
    Feedback m_feedback;
    bool m_feedbackReady = false;
    bool m_progressShown = false;
    bool m_tty = false;
    StageEta m_eta;
    qint64 m_lastDrawMs = -1000;
};

struct Command {
    QStringList path;                                   ///< e.g. {"data", "add"}
    QString synopsis;                                   ///< positional part of the usage line
    QString summary;                                    ///< one line for the overview
    QString description;                                ///< paragraph for --help
    int minArgs = 0;
    int maxArgs = 0;                                    ///< -1: unlimited
    std::function<void(QCommandLineParser &)> options;  ///< adds command-specific options
    std::function<int(Context &)> handler;
};

const std::vector<Command> &commands();
int runCommand(const Command &command, const QStringList &args, const GlobalOptions &global);

// Registration per area (each returns its commands).
std::vector<Command> workspaceCommands();
std::vector<Command> dataCommands();
std::vector<Command> trainCommands();
std::vector<Command> storeCommands();

std::vector<Command> sweepCommands();
std::vector<Command> explainCommands();
std::vector<Command> predictCommands();
std::vector<Command> modelCommands();
std::vector<Command> deployCommands();
std::vector<Command> serveCommands();
std::vector<Command> monitorCommands();
std::vector<Command> pipelineCommands();

/// Formats a byte count as "1.5 MiB".
QString formatBytes(qint64 bytes);
/// Left-aligned text table with a header row.
QString formatTable(const QStringList &header, const std::vector<QStringList> &rows, const QList<int> &rightAligned = {});

/// The table formatTable() prints, built cell by cell into one UTF-8 buffer, so a listing of 100,000 rows allocates
/// nothing per cell. Columns are as wide as their widest cell, in characters; a cell over 60 characters is cut to
/// 59 and an ellipsis. A row may have fewer cells than the header; its last cell is not padded.
class TextTable {
public:
    explicit TextTable(const QStringList &header, QList<int> rightAligned = {});
    /// The next cell of the current row.
    void add(QUtf8StringView utf8);
    void add(QStringView text);
    void endRow();
    QByteArray toUtf8() const;

private:
    QByteArray m_text;                 ///< every cell's text, one after another
    std::vector<qsizetype> m_cellEnd;  ///< end of each cell in m_text
    std::vector<size_t> m_rowStart{0}; ///< index of each row's first cell; the last entry ends the last row
    std::vector<qsizetype> m_width;
    QList<int> m_rightAligned;
};

} // namespace keel::cli
