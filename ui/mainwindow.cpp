#include "mainwindow.h"

#include "auditview.h"
#include "datatablewidget.h"
#include "datasetsarea.h"
#include "emptystate.h"
#include "deploymentsarea.h"
#include "monitoringarea.h"
#include "pipelinesarea.h"
#include "experimentsarea.h"
#include "explainarea.h"
#include "modelsarea.h"
#include "registryview.h"
#include "importdialog.h"
#include "taskdock.h"
#include "taskmanager.h"
#include "workspace/gitrepo.h"
#include "workspace/workspace.h"
#include "workspacejobs.h"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QCloseEvent>
#include <QDir>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QInputDialog>
#include <QLabel>
#include <QListWidget>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QSettings>
#include <QSplitter>
#include <QStackedWidget>
#include <QStatusBar>
#include <QTimer>

#if __has_include(<sqlite3.h>)
#include <sqlite3.h>
#define KEEL_HAVE_SQLITE_HEADER 1
#endif
#if __has_include(<xgboost/c_api.h>)
#include <xgboost/c_api.h>
#define KEEL_HAVE_XGBOOST_HEADER 1
#endif

namespace keel::ui {

namespace {

constexpr int kMaxRecent = 8;

struct AreaInfo {
    const char *name;
    const char *title;
    const char *text;
};

const AreaInfo kAreas[MainWindow::AreaCount] = {
    {"Datasets", "", ""},
    {"Experiments", "", ""},
    {"Models", "", ""},
    {"Pipelines", "", ""},
    {"Deployments", "", ""},
    {"Monitoring", "", ""},
    {"Audit", "", ""},
};

QString sqliteVersion()
{
#ifdef KEEL_HAVE_SQLITE_HEADER
    return QString::fromLatin1(sqlite3_libversion());
#else
    return QStringLiteral("unknown");
#endif
}

QString xgboostVersion()
{
#ifdef KEEL_HAVE_XGBOOST_HEADER
    int major = 0, minor = 0, patch = 0;
    XGBoostVersion(&major, &minor, &patch);
    return QStringLiteral("%1.%2.%3").arg(major).arg(minor).arg(patch);
#else
    return QStringLiteral("not linked yet");
#endif
}

} // namespace

QString MainWindow::aboutText()
{
    QString libgit2 = workspace::GitRepo::versionString();
    if (libgit2.startsWith(QLatin1String("libgit2 ")))
        libgit2 = libgit2.mid(8);
    return QStringLiteral("Keel %1\nQt %2 (built with %3)\nlibgit2 %4\nSQLite %5\nXGBoost %6")
        .arg(QStringLiteral(KEEL_VERSION_STRING), QString::fromLatin1(qVersion()), QStringLiteral(QT_VERSION_STR), libgit2,
             sqliteVersion(), xgboostVersion());
}

MainWindow::MainWindow(bool useSettings, QWidget *parent)
    : QMainWindow(parent), m_useSettings(useSettings), m_tasks(new TaskManager(this)), m_nav(new QListWidget(this)),
      m_areas(new QStackedWidget(this)), m_datasets(new DatasetsArea(m_tasks, this)),
      m_experiments(new ExperimentsArea(m_tasks, this)), m_models(new ModelsArea(m_tasks, this)), m_audit(new AuditView(m_tasks, this)),
      m_deployments(new DeploymentsArea(m_tasks, this)), m_monitoring(new MonitoringArea(m_tasks, this)),
      m_pipelines(new PipelinesArea(m_tasks, this)),
      m_taskDock(new QDockWidget(QStringLiteral("Tasks"), this)), m_taskWidget(new TaskDockWidget(m_tasks, m_taskDock)),
      m_taskCount(new QLabel(this)), m_workspaceLabel(new QLabel(this))
{
    setObjectName(QStringLiteral("mainWindow"));
    setAcceptDrops(true);
    resize(1400, 900);

    buildAreas();

    m_taskDock->setObjectName(QStringLiteral("taskDock"));
    m_taskDock->setWidget(m_taskWidget);
    m_taskDock->setAllowedAreas(Qt::BottomDockWidgetArea | Qt::RightDockWidgetArea | Qt::LeftDockWidgetArea);
    addDockWidget(Qt::BottomDockWidgetArea, m_taskDock);
    resizeDocks({m_taskDock}, {150}, Qt::Vertical);

    statusBar()->addPermanentWidget(m_workspaceLabel);
    statusBar()->addPermanentWidget(m_taskCount);
    connect(m_tasks, &TaskManager::activeCountChanged, this, &MainWindow::onActiveTasks);
    onActiveTasks(0);
    connect(m_tasks, &TaskManager::taskEnded, this, [this](quint64 id, TaskState state, const QString &error) {
        if (state == TaskState::Failed) {
            const auto info = m_tasks->info(id);
            statusBar()->showMessage(QStringLiteral("%1 failed: %2").arg(info ? info->title : QString(), error), 10000);
        }
    });

    buildMenus();
    connect(m_datasets, &DatasetsArea::statusMessage, this, [this](const QString &t) { statusBar()->showMessage(t, 10000); });
    connect(m_datasets, &DatasetsArea::importRequested, this, [this] { showImportDialog(); });
    connect(m_datasets, &DatasetsArea::openWorkspaceRequested, this, &MainWindow::chooseAndOpen);
    connect(m_datasets, &DatasetsArea::newWorkspaceRequested, this, [this] { chooseAndCreate(false); });
    connect(m_datasets, &DatasetsArea::exampleWorkspaceRequested, this, [this] { chooseAndCreate(true); });
    connect(m_datasets, &DatasetsArea::importFinished, m_audit, [this](bool ok) {
        if (ok)
            m_audit->refresh();
    });
    connect(m_datasets, &DatasetsArea::catalogLoaded, m_experiments,
            [this] { m_experiments->setDatasets(m_datasets->catalogModel()->datasets()); });
    connect(m_experiments, &ExperimentsArea::statusMessage, this, [this](const QString &t) { statusBar()->showMessage(t, 10000); });
    connect(m_models, &ModelsArea::statusMessage, this, [this](const QString &t) { statusBar()->showMessage(t, 10000); });
    connect(m_deployments, &DeploymentsArea::statusMessage, this, [this](const QString &t) { statusBar()->showMessage(t, 10000); });
    connect(m_monitoring, &MonitoringArea::statusMessage, this, [this](const QString &t) { statusBar()->showMessage(t, 10000); });
    connect(m_pipelines, &PipelinesArea::statusMessage, this, [this](const QString &t) { statusBar()->showMessage(t, 10000); });
    connect(m_pipelines, &PipelinesArea::runFinished, m_audit, [this] { m_audit->refresh(); });
    connect(m_deployments, &DeploymentsArea::changeFinished, m_audit, [this](bool ok) {
        if (ok)
            m_audit->refresh();
    });
    // A run registered from the Experiments area appears in the registry at once.
    connect(m_experiments, &ExperimentsArea::modelRegistered, this, [this](const QString &ref) {
        if (ref.isEmpty())
            return;
        m_models->registry()->refresh();
        m_models->registry()->selectVersion(ref);
    });
    connect(m_experiments, &ExperimentsArea::openDatasetRequested, this, [this](const QString &ref) {
        showArea(Datasets);
        m_datasets->openVersion(ref);
    });

    if (m_useSettings)
        restoreSettings();
    updateTitle();
}

MainWindow::~MainWindow()
{
    if (m_useSettings && !m_saved)
        saveSettings();
    m_tasks->cancelAll();
    // The views use the task manager (a child created first, so deleted first among the children): delete them
    // while it still exists.
    delete m_importDialog;
    delete takeCentralWidget();
    removeDockWidget(m_taskDock);
    delete m_taskDock;
}

void MainWindow::buildAreas()
{
    m_nav->setObjectName(QStringLiteral("navigator"));
    m_nav->setFrameShape(QFrame::NoFrame);
    m_nav->setSpacing(2);
    m_nav->setFixedWidth(150);
    QFont navFont = m_nav->font();
    navFont.setPointSizeF(navFont.pointSizeF() * 1.1);
    m_nav->setFont(navFont);
    m_nav->setBackgroundRole(QPalette::Window);
    for (int a = 0; a < AreaCount; ++a) {
        auto *item = new QListWidgetItem(QLatin1String(kAreas[a].name), m_nav);
        item->setSizeHint(QSize(140, m_nav->fontMetrics().height() + 16));
        QWidget *page = nullptr;
        if (a == Datasets) {
            page = m_datasets;
        } else if (a == Experiments) {
            page = m_experiments;
        } else if (a == Models) {
            page = m_models;
        } else if (a == Audit) {
            page = m_audit;
        } else if (a == Deployments) {
            page = m_deployments;
        } else if (a == Monitoring) {
            page = m_monitoring;
        } else if (a == Pipelines) {
            page = m_pipelines;
        } else {
            m_empty[a] = new EmptyState(QLatin1String(kAreas[a].title), QLatin1String(kAreas[a].text), this);
            page = m_empty[a];
        }
        m_areas->addWidget(page);
    }
    connect(m_nav, &QListWidget::currentRowChanged, m_areas, &QStackedWidget::setCurrentIndex);
    // Runs trained since the Models area was last shown appear when it is shown again.
    connect(m_nav, &QListWidget::currentRowChanged, this, [this](int row) {
        if (row == Models && !m_root.isEmpty())
            m_models->refresh();
    });
    m_nav->setCurrentRow(0);

    auto *central = new QWidget(this);
    auto *layout = new QHBoxLayout(central);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    auto *line = new QFrame(central);
    line->setFrameShape(QFrame::VLine);
    line->setFrameShadow(QFrame::Sunken);
    layout->addWidget(m_nav);
    layout->addWidget(line);
    layout->addWidget(m_areas, 1);
    setCentralWidget(central);
}

void MainWindow::buildMenus()
{
    QMenu *file = menuBar()->addMenu(QStringLiteral("&File"));
    QAction *newWs = file->addAction(QStringLiteral("&New Workspace\u2026"), this, [this] { chooseAndCreate(false); });
    newWs->setShortcut(QKeySequence::New);
    file->addAction(QStringLiteral("New &Example Workspace\u2026"), this, [this] { chooseAndCreate(true); });
    QAction *open = file->addAction(QStringLiteral("&Open Workspace\u2026"), this, &MainWindow::chooseAndOpen);
    open->setShortcut(QKeySequence::Open);
    m_recentMenu = file->addMenu(QStringLiteral("Open &Recent"));
    updateRecentMenu();
    file->addSeparator();
    QAction *import = file->addAction(QStringLiteral("&Import Dataset\u2026"), this, [this] { showImportDialog(); });
    import->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_I));
    m_workspaceActions << import;
    file->addSeparator();
    QAction *close = file->addAction(QStringLiteral("&Close Workspace"), this, &MainWindow::closeWorkspace);
    close->setShortcut(QKeySequence::Close);
    m_workspaceActions << close;
    QAction *quit = file->addAction(QStringLiteral("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);
    quit->setMenuRole(QAction::QuitRole);

    // The table view owns Copy/Find/Find Next as widget shortcuts; the menu entries show them and act on it.
    QMenu *edit = menuBar()->addMenu(QStringLiteral("&Edit"));
    const auto withKey = [](const QString &label, QKeySequence::StandardKey key) -> QString {
        return label + QLatin1Char('\t') + QKeySequence(key).toString(QKeySequence::NativeText);
    };
    const auto toTable = [this] {
        showArea(Datasets);
        m_datasets->tabs()->setCurrentIndex(DatasetsArea::TableTab);
        return m_datasets->tableWidget();
    };
    m_workspaceActions << edit->addAction(withKey(QStringLiteral("&Copy Cells"), QKeySequence::Copy), this,
                                          [toTable] { toTable()->copySelection(); });
    m_workspaceActions << edit->addAction(withKey(QStringLiteral("&Find Value\u2026"), QKeySequence::Find), this,
                                          [toTable] { toTable()->showFind(); });

    QMenu *view = menuBar()->addMenu(QStringLiteral("&View"));
    for (int a = 0; a < AreaCount; ++a) {
        QAction *act = view->addAction(QLatin1String(kAreas[a].name), this, [this, a] { showArea(Area(a)); });
        act->setShortcut(QKeySequence(Qt::CTRL | Qt::Key(Qt::Key_1 + a)));
    }
    view->addSeparator();
    QAction *refresh = view->addAction(QStringLiteral("&Refresh"), this, [this] {
        m_datasets->refresh();
        m_experiments->refresh();
        m_models->refresh();
        m_audit->refresh();
    });
    refresh->setShortcut(QKeySequence::Refresh);
    m_workspaceActions << refresh;
    view->addAction(m_taskDock->toggleViewAction());
    QMenu *theme = view->addMenu(QStringLiteral("&Theme"));
    m_themeGroup = new QActionGroup(this);
    for (Theme t : {Theme::System, Theme::Light, Theme::Dark}) {
        QString label = themeName(t);
        label[0] = label[0].toUpper();
        QAction *act = theme->addAction(label, this, [this, t] { setTheme(t); });
        act->setCheckable(true);
        act->setData(int(t));
        m_themeGroup->addAction(act);
    }
    QAction *fullScreen = view->addAction(QStringLiteral("&Full Screen"), this,
                                          [this] { setWindowState(windowState() ^ Qt::WindowFullScreen); });
    fullScreen->setShortcut(QKeySequence::FullScreen);

    QMenu *ws = menuBar()->addMenu(QStringLiteral("&Workspace"));
    QAction *push = ws->addAction(QStringLiteral("&Push to Remote"), this, [this] { pushTo(); });
    QAction *pull = ws->addAction(QStringLiteral("P&ull from Remote"), this, [this] { pullFrom(); });
    push->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_P));
    pull->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_L));
    m_workspaceActions << push << pull;
    ws->addSeparator();
    QAction *newRun = ws->addAction(QStringLiteral("&New Run\u2026"), this, [this] {
        showArea(Experiments);
        m_experiments->showNewRunDialog();
    });
    newRun->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_R));
    m_workspaceActions << newRun;
    ws->addSeparator();
    QAction *cancelAll = ws->addAction(QStringLiteral("Cancel All Tasks"), m_tasks, &TaskManager::cancelAll);
    cancelAll->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Period));

    QMenu *help = menuBar()->addMenu(QStringLiteral("&Help"));
    QAction *about = help->addAction(QStringLiteral("&About Keel"), this, [this] {
        QMessageBox::about(this, QStringLiteral("About Keel"),
                           QStringLiteral("<h3>Keel</h3><p>A native MLOps workbench for tabular models.</p><pre>%1</pre>")
                               .arg(aboutText().toHtmlEscaped()));
    });
    about->setMenuRole(QAction::AboutRole);
    help->addAction(QStringLiteral("About &Qt"), qApp, &QApplication::aboutQt);
    QAction *helpContents = help->addAction(QStringLiteral("Keyboard &Shortcuts"), this, [this] {
        QMessageBox::information(
            this, QStringLiteral("Keyboard shortcuts"),
            QStringLiteral("Open workspace: %1\nNew workspace: %2\nImport dataset: Ctrl+I\nNew run: Ctrl+Shift+R\n"
                           "Refresh: %3\nCopy cells: %4\nFind value: %5, next: %6\nAreas: Ctrl+1 \u2026 Ctrl+6")
                .arg(QKeySequence(QKeySequence::Open).toString(QKeySequence::NativeText),
                     QKeySequence(QKeySequence::New).toString(QKeySequence::NativeText),
                     QKeySequence(QKeySequence::Refresh).toString(QKeySequence::NativeText),
                     QKeySequence(QKeySequence::Copy).toString(QKeySequence::NativeText),
                     QKeySequence(QKeySequence::Find).toString(QKeySequence::NativeText),
                     QKeySequence(QKeySequence::FindNext).toString(QKeySequence::NativeText)));
    });
    helpContents->setShortcut(QKeySequence::HelpContents);
}

void MainWindow::showArea(Area area) { m_nav->setCurrentRow(int(area)); }

MainWindow::Area MainWindow::currentArea() const { return Area(m_nav->currentRow()); }

EmptyState *MainWindow::emptyState(Area area) const { return area >= 0 && area < AreaCount ? m_empty[area] : nullptr; }

void MainWindow::setTheme(Theme theme)
{
    applyTheme(theme);
    for (QAction *a : m_themeGroup->actions())
        a->setChecked(a->data().toInt() == int(theme));
    if (m_useSettings)
        QSettings().setValue(QStringLiteral("view/theme"), themeName(theme));
}

void MainWindow::onActiveTasks(int count)
{
    m_taskCount->setText(count == 0   ? QStringLiteral("No tasks running")
                         : count == 1 ? QStringLiteral("1 task running")
                                      : QStringLiteral("%1 tasks running").arg(count));
}

void MainWindow::updateTitle()
{
    const bool open = !m_root.isEmpty();
    setWindowTitle(open ? QStringLiteral("%1 \u2014 Keel").arg(QDir(m_root).dirName()) : QStringLiteral("Keel"));
    m_workspaceLabel->setText(open ? QDir::toNativeSeparators(m_root) : QStringLiteral("No workspace"));
    for (QAction *a : m_workspaceActions)
        a->setEnabled(open);
}

void MainWindow::showError(const QString &title, const QString &text)
{
    statusBar()->showMessage(text, 15000);
    auto *box = new QMessageBox(QMessageBox::Warning, title, text, QMessageBox::Ok, this);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->open();
}

void MainWindow::openWorkspace(const QString &dir)
{
    const QString path = QFileInfo(dir).absoluteFilePath();
    m_tasks->start<jobs::Catalog>(
        QStringLiteral("Open workspace %1").arg(QDir(path).dirName()), QStringLiteral("workspace"),
        [path](Feedback &fb) { return jobs::loadCatalog(path, &fb); }, this, [this, path](Expected<jobs::Catalog> &&c) {
            if (!c) {
                showError(QStringLiteral("Cannot open workspace"), c.error().toString());
                m_recent.removeAll(path);
                updateRecentMenu();
                emit workspaceFailed(c.error().toString());
                return;
            }
            m_root = c->root;
            m_datasets->setCatalog(*c);
            m_experiments->setWorkspace(m_root, c->datasets);
            m_models->setWorkspaceRoot(m_root);
            m_deployments->setWorkspaceRoot(m_root);
            m_monitoring->setWorkspaceRoot(m_root);
            m_pipelines->setWorkspaceRoot(m_root);
            m_audit->setWorkspace(m_root);
            addRecent(m_root);
            updateTitle();
            statusBar()->showMessage(QStringLiteral("Opened %1: %2 datasets").arg(m_root).arg(c->datasets.size()), 5000);
            emit workspaceOpened(m_root);
        });
}

void MainWindow::createWorkspace(const QString &dir)
{
    m_tasks->start<QString>(
        QStringLiteral("Create workspace %1").arg(QDir(dir).dirName()), QStringLiteral("workspace"),
        [dir](Feedback &) { return jobs::createWorkspace(dir); }, this, [this](Expected<QString> &&root) {
            if (!root) {
                showError(QStringLiteral("Cannot create workspace"), root.error().toString());
                emit workspaceFailed(root.error().toString());
                return;
            }
            openWorkspace(*root);
        });
}

void MainWindow::createExampleWorkspace(const QString &dir)
{
    const QString examples = workspace::Workspace::examplesDir();
    if (examples.isEmpty()) {
        showError(QStringLiteral("No example data"),
                  QStringLiteral("The bundled example data was not found (set KEEL_EXAMPLES_DIR)."));
        return;
    }
    m_tasks->start<QString>(
        QStringLiteral("Create example workspace %1").arg(QDir(dir).dirName()), QStringLiteral("workspace"),
        [dir, examples](Feedback &fb) { return jobs::createExampleWorkspace(dir, examples, &fb); }, this,
        [this](Expected<QString> &&root) {
            if (!root) {
                showError(QStringLiteral("Cannot create the example workspace"), root.error().toString());
                emit workspaceFailed(root.error().toString());
                return;
            }
            openWorkspace(*root);
        });
}

ExplainArea *MainWindow::explain() const { return m_models->explain(); }

void MainWindow::closeWorkspace()
{
    m_tasks->cancelAll();
    m_root.clear();
    m_datasets->setCatalog(jobs::Catalog{});
    m_experiments->setWorkspace({}, {});
    m_models->setWorkspaceRoot({});
    m_deployments->setWorkspaceRoot({});
    m_monitoring->setWorkspaceRoot({});
    m_pipelines->setWorkspaceRoot({});
    m_audit->setWorkspace({});
    updateTitle();
}

void MainWindow::chooseAndOpen()
{
    const QString dir = QFileDialog::getExistingDirectory(this, QStringLiteral("Open workspace"),
                                                          m_root.isEmpty() ? QDir::homePath() : m_root);
    if (!dir.isEmpty())
        openWorkspace(dir);
}

void MainWindow::chooseAndCreate(bool example)
{
    const QString dir = QFileDialog::getExistingDirectory(
        this, example ? QStringLiteral("Folder for the example workspace") : QStringLiteral("Folder for the new workspace"),
        QDir::homePath());
    if (dir.isEmpty())
        return;
    if (example)
        createExampleWorkspace(dir);
    else
        createWorkspace(dir);
}

ImportDialog *MainWindow::showImportDialog(const QString &file)
{
    if (m_root.isEmpty()) {
        showError(QStringLiteral("No workspace open"), QStringLiteral("Open or create a workspace before importing data."));
        return nullptr;
    }
    if (!m_importDialog) {
        m_importDialog = new ImportDialog(m_tasks, this);
        m_importDialog->setAttribute(Qt::WA_DeleteOnClose);
        connect(m_importDialog, &QDialog::accepted, this, [this] {
            if (m_importDialog)
                m_datasets->startImport(m_importDialog->request());
        });
    }
    if (!file.isEmpty())
        m_importDialog->setFile(file);
    m_importDialog->show();
    m_importDialog->raise();
    m_importDialog->activateWindow();
    return m_importDialog;
}

void MainWindow::pushTo(const QString &remote) { runRemote(true, remote); }
void MainWindow::pullFrom(const QString &remote) { runRemote(false, remote); }

void MainWindow::runRemote(bool push, const QString &requested)
{
    if (m_root.isEmpty())
        return;
    QString remote = requested;
    const auto &remotes = m_datasets->remotes();
    if (remote.isEmpty()) {
        if (remotes.empty()) {
            showError(QStringLiteral("No remote"),
                      QStringLiteral("This workspace has no remote yet. Add one with: keel remote add NAME PATH"));
            return;
        }
        if (remotes.size() > 1) {
            QStringList names;
            for (const auto &r : remotes)
                names << r.name;
            bool ok = false;
            remote = QInputDialog::getItem(this, push ? QStringLiteral("Push") : QStringLiteral("Pull"),
                                           QStringLiteral("Remote"), names, 0, false, &ok);
            if (!ok)
                return;
        }
    }
    const QString root = m_root;
    const QString label = remote.isEmpty() ? remotes.front().name : remote;
    m_tasks->start<QString>(
        (push ? QStringLiteral("Push to %1") : QStringLiteral("Pull from %1")).arg(label), QStringLiteral("remote"),
        [root, remote, push](Feedback &fb) { return push ? jobs::push(root, remote, &fb) : jobs::pull(root, remote, &fb); },
        this, [this, push](Expected<QString> &&what) {
            if (!what) {
                showError(push ? QStringLiteral("Push failed") : QStringLiteral("Pull failed"), what.error().toString());
                return;
            }
            statusBar()->showMessage(*what, 10000);
            m_datasets->refresh();
            m_audit->refresh();
        });
}

void MainWindow::addRecent(const QString &root)
{
    m_recent.removeAll(root);
    m_recent.prepend(root);
    while (m_recent.size() > kMaxRecent)
        m_recent.removeLast();
    updateRecentMenu();
    if (m_useSettings) {
        QSettings s;
        s.setValue(QStringLiteral("workspaces/recent"), m_recent);
        s.setValue(QStringLiteral("workspaces/last"), root);
    }
}

void MainWindow::updateRecentMenu()
{
    if (!m_recentMenu)
        return;
    m_recentMenu->clear();
    for (const QString &r : m_recent)
        m_recentMenu->addAction(QDir::toNativeSeparators(r), this, [this, r] { openWorkspace(r); });
    if (!m_recent.isEmpty()) {
        m_recentMenu->addSeparator();
        m_recentMenu->addAction(QStringLiteral("Clear List"), this, [this] {
            m_recent.clear();
            updateRecentMenu();
            if (m_useSettings)
                QSettings().setValue(QStringLiteral("workspaces/recent"), m_recent);
        });
    }
    m_recentMenu->setEnabled(!m_recent.isEmpty());
}

void MainWindow::restoreSettings()
{
    QSettings s;
    restoreGeometry(s.value(QStringLiteral("window/geometry")).toByteArray());
    restoreState(s.value(QStringLiteral("window/state")).toByteArray());
    // A splitter's sizes only mean something once it has its real size: restore each one when it is first shown.
    const auto splitters = findChildren<QSplitter *>();
    for (QSplitter *sp : splitters) {
        const QString key = QStringLiteral("splitters/") + sp->objectName();
        if (!sp->objectName().isEmpty() && s.contains(key)) {
            m_pendingSplitters.insert(sp, s.value(key).toByteArray());
            sp->installEventFilter(this);
        }
    }
    m_recent = s.value(QStringLiteral("workspaces/recent")).toStringList();
    updateRecentMenu();
    const Theme theme = themeFromName(s.value(QStringLiteral("view/theme")).toString());
    for (QAction *a : m_themeGroup->actions())
        a->setChecked(a->data().toInt() == int(theme));
    if (const QStringList columns = s.value(QStringLiteral("experiments/columns")).toStringList(); !columns.isEmpty())
        m_experiments->setColumnIds(columns);
    const int area = s.value(QStringLiteral("view/area"), 0).toInt();
    if (area >= 0 && area < AreaCount)
        showArea(Area(area));
}

void MainWindow::saveSettings()
{
    QSettings s;
    s.setValue(QStringLiteral("window/geometry"), saveGeometry());
    s.setValue(QStringLiteral("window/state"), saveState());
    const auto splitters = findChildren<QSplitter *>();
    for (QSplitter *sp : splitters)
        if (!sp->objectName().isEmpty() && !m_pendingSplitters.contains(sp))
            s.setValue(QStringLiteral("splitters/") + sp->objectName(), sp->saveState());
    s.setValue(QStringLiteral("workspaces/recent"), m_recent);
    s.setValue(QStringLiteral("view/area"), int(currentArea()));
    if (m_experiments->hasUserColumns())
        s.setValue(QStringLiteral("experiments/columns"), m_experiments->columnIds());
    m_saved = true;
}

bool MainWindow::eventFilter(QObject *watched, QEvent *event)
{
    if (event->type() == QEvent::Show) {
        auto *sp = qobject_cast<QSplitter *>(watched);
        if (sp && m_pendingSplitters.contains(sp)) {
            sp->removeEventFilter(this);
            QTimer::singleShot(0, sp, [this, sp] {
                const QByteArray state = m_pendingSplitters.take(sp);
                sp->restoreState(state);
            });
        }
    }
    return QMainWindow::eventFilter(watched, event);
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    if (m_useSettings)
        saveSettings();
    m_tasks->cancelAll();
    event->accept();
}

void MainWindow::dragEnterEvent(QDragEnterEvent *event)
{
    const auto urls = event->mimeData()->urls();
    for (const QUrl &u : urls) {
        if (!u.isLocalFile())
            continue;
        const QString path = u.toLocalFile();
        if ((QFileInfo(path).isFile() && isImportableFile(path))
            || (QFileInfo(path).isDir() && !workspace::Workspace::findRoot(path).isEmpty())) {
            event->acceptProposedAction();
            return;
        }
    }
}

void MainWindow::dropEvent(QDropEvent *event)
{
    const auto urls = event->mimeData()->urls();
    QStringList files;
    for (const QUrl &u : urls) {
        if (!u.isLocalFile())
            continue;
        const QString path = u.toLocalFile();
        if (QFileInfo(path).isDir() && !workspace::Workspace::findRoot(path).isEmpty()) {
            openWorkspace(path);
            event->acceptProposedAction();
            return;
        }
        if (QFileInfo(path).isFile() && isImportableFile(path))
            files << path;
    }
    if (files.isEmpty())
        return;
    event->acceptProposedAction();
    if (files.size() > 1)
        statusBar()->showMessage(QStringLiteral("Importing %1 first; drop the other files one at a time").arg(files.front()), 10000);
    showImportDialog(files.front());
}

} // namespace keel::ui
