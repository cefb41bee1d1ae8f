#pragma once
#include <QStringList>

namespace keel::cli {
/// Runs one keel command line; returns the process exit code.
int run(const QStringList &args);
}
