# `cpack -G DEB` in the build folder makes a .deb of keel and keel-workbench.
set(CPACK_PACKAGE_NAME "keel")
set(CPACK_PACKAGE_VENDOR "Keel")
set(CPACK_PACKAGE_CONTACT "Keel maintainers <keel@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Native MLOps workbench: versioned data, training, explanations, models")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SECTION "science")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
include(CPack)
