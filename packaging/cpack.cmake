# `cpack -G DEB` in the build folder makes keel_<version>_amd64.deb: /usr/bin/keel, /usr/bin/keel-workbench and what
# packaging/install.cmake adds. Library dependencies come from dpkg-shlibdeps; the Qt plugins Keel loads at run time
# (SQL drivers, the X11 platform, SVG icons) are declared here because no linker sees them.
set(CPACK_PACKAGE_NAME "keel")
set(CPACK_PACKAGE_VENDOR "Keel")
set(CPACK_PACKAGE_CONTACT "Keel maintainers <maintainers@keel.example.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "native MLOps workbench for tabular models")
# The synopsis is the summary above; CPack indents these lines and turns the empty one into " .".
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "Keel versions datasets with git-like commands, trains and tracks models,
explains them globally and per prediction, keeps a model registry with
verified bundles, serves models over HTTP and monitors drift and
performance, with every step in a tamper-evident audit trail.

This package holds the keel command-line runner, the keel-workbench
desktop application and example data.")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libqt6sql6-sqlite, qt6-qpa-plugins, libqt6svg6")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libqt6sql6-psql")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "slurm-client, postgresql-client")
set(CPACK_DEBIAN_PACKAGE_SECTION "science")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://keel.example.org/")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
# Only the programs and their files: no static libraries or headers of keelcore/keelui.
set(CPACK_COMPONENTS_ALL Unspecified)
include(CPack)
