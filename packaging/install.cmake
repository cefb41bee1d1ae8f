# What a workstation install holds beside the two programs (the .deb made by `cpack -G DEB`, see cpack.cmake):
# the examples, a man page per program (keel.1 generated from `keel --help`), bash completion, the desktop entry with
# its icon in every hicolor size (rendered from the SVG at build time), AppStream metainfo, copyright and changelog.
include(GNUInstallDirs)
set(KEEL_PACKAGING_DIR ${CMAKE_CURRENT_LIST_DIR})
set(KEEL_PACKAGING_OUT ${CMAKE_BINARY_DIR}/packaging)
file(MAKE_DIRECTORY ${KEEL_PACKAGING_OUT})

install(DIRECTORY resources/examples/ DESTINATION ${CMAKE_INSTALL_DATADIR}/keel/examples
        FILES_MATCHING PATTERN "*.csv" PATTERN "*.md" PATTERN "*.yaml")
install(PROGRAMS resources/examples/tour.sh DESTINATION ${CMAKE_INSTALL_DATADIR}/keel/examples)

add_custom_command(OUTPUT ${KEEL_PACKAGING_OUT}/keel.1.gz
  COMMAND sh ${KEEL_PACKAGING_DIR}/make-manpage.sh $<TARGET_FILE:keel> ${PROJECT_VERSION} ${KEEL_PACKAGING_OUT}/keel.1
  COMMAND gzip -9nf ${KEEL_PACKAGING_OUT}/keel.1
  DEPENDS keel ${KEEL_PACKAGING_DIR}/make-manpage.sh
  COMMENT "Generating keel.1 from keel --help" VERBATIM)
add_custom_command(OUTPUT ${KEEL_PACKAGING_OUT}/keel-workbench.1.gz
  COMMAND gzip -9nc ${KEEL_PACKAGING_DIR}/man/keel-workbench.1 > ${KEEL_PACKAGING_OUT}/keel-workbench.1.gz
  DEPENDS ${KEEL_PACKAGING_DIR}/man/keel-workbench.1)
add_custom_command(OUTPUT ${KEEL_PACKAGING_OUT}/changelog.gz
  COMMAND gzip -9nc ${KEEL_PACKAGING_DIR}/changelog > ${KEEL_PACKAGING_OUT}/changelog.gz
  DEPENDS ${KEEL_PACKAGING_DIR}/changelog)
set(KEEL_PACKAGING_FILES ${KEEL_PACKAGING_OUT}/keel.1.gz ${KEEL_PACKAGING_OUT}/keel-workbench.1.gz
    ${KEEL_PACKAGING_OUT}/changelog.gz)

install(FILES ${KEEL_PACKAGING_OUT}/keel.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${KEEL_PACKAGING_DIR}/keel.bash-completion DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        RENAME keel)
install(FILES ${KEEL_PACKAGING_DIR}/copyright ${KEEL_PACKAGING_OUT}/changelog.gz
        DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/keel)

if(KEEL_BUILD_WORKBENCH)
  add_executable(keel-iconrender ${KEEL_PACKAGING_DIR}/iconrender.cpp)
  keel_target_defaults(keel-iconrender)
  target_link_libraries(keel-iconrender PRIVATE Qt6::Gui Qt6::Svg)
  set(KEEL_ICON_SVG ${PROJECT_SOURCE_DIR}/resources/icons/keel-workbench.svg)
  add_custom_command(OUTPUT ${KEEL_PACKAGING_OUT}/icons/256x256/apps/keel-workbench.png
    COMMAND keel-iconrender ${KEEL_ICON_SVG} ${KEEL_PACKAGING_OUT}/icons
    DEPENDS keel-iconrender ${KEEL_ICON_SVG}
    COMMENT "Rendering the workbench icon for the hicolor theme" VERBATIM)
  list(APPEND KEEL_PACKAGING_FILES ${KEEL_PACKAGING_OUT}/icons/256x256/apps/keel-workbench.png)
  install(DIRECTORY ${KEEL_PACKAGING_OUT}/icons/ DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor)
  install(FILES ${KEEL_ICON_SVG} DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/scalable/apps)
  install(FILES ${KEEL_PACKAGING_DIR}/keel-workbench.desktop DESTINATION ${CMAKE_INSTALL_DATADIR}/applications)
  install(FILES ${KEEL_PACKAGING_DIR}/io.keel.Workbench.metainfo.xml DESTINATION ${CMAKE_INSTALL_DATADIR}/metainfo)
  install(FILES ${KEEL_PACKAGING_OUT}/keel-workbench.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
endif()
add_custom_target(keel-packaging-files ALL DEPENDS ${KEEL_PACKAGING_FILES})
