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
# The Data Cloud ingestion schema is uploaded to Data Cloud when the connector is set up, so it
# is data as well as documentation.
install(FILES docs/datacloud/BlueButtonClaim.yaml DESTINATION ${CMAKE_INSTALL_DATADIR}/bbsync/datacloud)

if(PROJECT_IS_TOP_LEVEL)
    set(CPACK_PACKAGE_NAME bbsync)
    set(CPACK_PACKAGE_VENDOR "bbsync")
    set(CPACK_PACKAGE_CONTACT "bbsync maintainers <bbsync@localhost>")
    set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
    set(CPACK_GENERATOR DEB)
    set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
    set(CPACK_DEBIAN_PACKAGE_SECTION misc)
    set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
    # The units name the binary by its full install path, so the package must use the same
    # prefix as the build: configure with -DCMAKE_INSTALL_PREFIX=/usr for a Debian package.
    set(CPACK_PACKAGING_INSTALL_PREFIX "${CMAKE_INSTALL_PREFIX}")
    # The units run with DynamicUser=yes, so the package creates no user. It has no
    # maintainer scripts either, so installing it enables and starts nothing.
    include(CPack)
endif()

# Builds the .deb of this tree and checks its contents: ctest -L packaging. Skipped when cpack
# or dpkg-deb is missing.
if(BBSYNC_BUILD_TESTS)
    add_test(
        NAME "packaging: deb contains programs, units and docs"
        COMMAND
            ${CMAKE_COMMAND} -DBINARY_DIR=${PROJECT_BINARY_DIR} -DWORK_DIR=${PROJECT_BINARY_DIR}/deb-check
            -DCPACK=${CMAKE_CPACK_COMMAND} -DBINDIR=${CMAKE_INSTALL_FULL_BINDIR}
            -DDOCDIR=${CMAKE_INSTALL_FULL_DOCDIR} -DDATADIR=${CMAKE_INSTALL_FULL_DATADIR}
            -DUNITDIR=${CMAKE_INSTALL_PREFIX}/${BBSYNC_SYSTEMD_UNIT_DIR} -P
            ${PROJECT_SOURCE_DIR}/tests/service/check_deb.cmake
    )
    set_tests_properties(
        "packaging: deb contains programs, units and docs"
        PROPERTIES LABELS packaging TIMEOUT 300 SKIP_REGULAR_EXPRESSION "SKIPPED:"
    )
endif()
