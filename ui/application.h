#pragma once
// Entry point of keel-workbench: application setup, command line (`keel-workbench [DIR]`,
// `keel-workbench --screenshots DIR`), theme and the main window.

namespace keel::ui {

/// Runs the workbench (creates the QApplication); returns the process exit code.
int runWorkbench(int argc, char *argv[]);

} // namespace keel::ui
