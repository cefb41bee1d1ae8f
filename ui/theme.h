#pragma once
// Light and dark palettes for the workbench (Fusion style). Widgets and charts take their colours from palette
// roles, so switching the application palette restyles everything.

#include <QPalette>
#include <QString>

namespace keel::ui {

enum class Theme { System, Light, Dark };

/// "system", "light", "dark".
QString themeName(Theme theme);
/// Inverse of themeName; System for anything else.
Theme themeFromName(const QString &name);

/// The workbench's dark palette (every role set, disabled colours included).
QPalette darkPalette();
/// Fusion's standard light palette.
QPalette lightPalette();

/// Sets the Fusion style and the theme's palette on the running QApplication. UI thread only.
void applyTheme(Theme theme);

} // namespace keel::ui
