# Install layout and the Debian package. Units are filled in with the install paths, so a
# package built with CMAKE_INSTALL_PREFIX=/usr starts /usr/bin/bbsync.

configure_file(systemd/bbsync.service.in "${PROJECT_BINARY_DIR}/systemd/bbsync.service" @ONLY)
configure_file(systemd/bbsync-once.service.in "${PROJECT_BINARY_DIR}/systemd/bbsync-once.service" @ONLY)

set(BBSYNC_SYSTEMD_UNIT_DIR "lib/systemd/system" CACHE STRING "Where systemd units are installed, relative to the prefix")

install(TARGETS bbsync bbsync-sandbox RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(
    FILES "${PROJECT_BINARY_DIR}/systemd/bbsync.service" "${PROJECT_BINARY_DIR}/systemd/bbsync-once.service"
          systemd/bbsync.timer
    DESTINATION ${BBSYNC_SYSTEMD_UNIT_DIR}
)
install(FILES systemd/bbsync.conf.example DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs)

if(PROJECT_IS_TOP_LEVEL)
    set(CPACK_PACKAGE_NAME bbsync)
    set(CPACK_PACKAGE_VENDOR "bbsync")
    set(CPACK_PACKAGE_CONTACT "bbsync maintainers <bbsync@localhost>")
    set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
    set(CPACK_GENERATOR DEB)
    set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
    set(CPACK_DEBIAN_PACKAGE_SECTION misc)
    set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
    # The units run with DynamicUser=yes, so the package creates no user and enables nothing.
    include(CPack)
endif()
