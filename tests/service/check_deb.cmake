# Builds the Debian package of a build tree with cpack and checks its file list, its control
# data and its units. Prints "SKIPPED:" (the test's skip pattern) when cpack or dpkg-deb is
# missing.
#
# Run as: cmake -DBINARY_DIR=<build tree> -DWORK_DIR=<scratch folder> -DCPACK=<cpack>
#               -DBINDIR=... -DDOCDIR=... -DDATADIR=... -DUNITDIR=... -P check_deb.cmake
# where BINDIR, DOCDIR, DATADIR and UNITDIR are full install paths (e.g. /usr/bin).

foreach(input IN ITEMS BINARY_DIR WORK_DIR CPACK BINDIR DOCDIR DATADIR UNITDIR)
    if(NOT DEFINED ${input})
        message(FATAL_ERROR "check_deb.cmake: -D${input}=... is missing")
    endif()
endforeach()

find_program(DPKG_DEB dpkg-deb)
if(NOT DPKG_DEB OR NOT EXISTS "${CPACK}")
    message("SKIPPED: cpack or dpkg-deb is not installed")
    return()
endif()

# With Ninja, cpack installs what is built. With Makefiles it first builds the preinstall
# target, which builds every target of the tree.
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
execute_process(
    COMMAND "${CPACK}" -G DEB -B "${WORK_DIR}" --config "${BINARY_DIR}/CPackConfig.cmake"
    RESULT_VARIABLE cpack_result
    OUTPUT_VARIABLE cpack_output
    ERROR_VARIABLE cpack_output
)
if(NOT cpack_result EQUAL 0)
    message(FATAL_ERROR "cpack -G DEB failed (${cpack_result}):\n${cpack_output}")
endif()
file(GLOB packages "${WORK_DIR}/*.deb")
list(LENGTH packages package_count)
if(NOT package_count EQUAL 1)
    message(FATAL_ERROR "expected one .deb in ${WORK_DIR}, found ${package_count}:\n${cpack_output}")
endif()

execute_process(COMMAND "${DPKG_DEB}" -c "${packages}" OUTPUT_VARIABLE contents RESULT_VARIABLE contents_result)
execute_process(COMMAND "${DPKG_DEB}" -I "${packages}" OUTPUT_VARIABLE info RESULT_VARIABLE info_result)
if(NOT contents_result EQUAL 0 OR NOT info_result EQUAL 0)
    message(FATAL_ERROR "dpkg-deb cannot read ${packages}")
endif()
message("dpkg-deb -I:\n${info}\ndpkg-deb -c:\n${contents}")

set(failures "")
set(expected_files
    "${BINDIR}/bbsync"
    "${BINDIR}/bbsync-sandbox"
    "${UNITDIR}/bbsync.service"
    "${UNITDIR}/bbsync-once.service"
    "${UNITDIR}/bbsync.timer"
    "${DOCDIR}/README.md"
    "${DOCDIR}/examples/bbsync.conf.example"
    "${DOCDIR}/docs/configuration.md"
    "${DOCDIR}/docs/api/openapi.yaml"
    "${DOCDIR}/docs/datacloud/BlueButtonClaim.yaml"
    "${DATADIR}/bbsync/datacloud/BlueButtonClaim.yaml"
)
foreach(path IN LISTS expected_files)
    string(FIND "${contents}" " .${path}\n" at)
    if(at EQUAL -1)
        string(APPEND failures "  missing from the package: ${path}\n")
    endif()
endforeach()

# Nothing is installed under /etc: the configuration and credentials are the operator's.
string(FIND "${contents}" " ./etc/" etc_at)
if(NOT etc_at EQUAL -1)
    string(APPEND failures "  the package installs files under /etc\n")
endif()

# No maintainer script, so installing the package enables, starts and creates nothing.
foreach(script IN ITEMS preinst postinst prerm postrm)
    string(REGEX MATCH "[ \t]${script}[ \t\n]" found "${info}")
    if(found)
        string(APPEND failures "  the package has a ${script} script\n")
    endif()
endforeach()
if(NOT info MATCHES "Package: bbsync\n")
    string(APPEND failures "  the control data does not name the package bbsync\n")
endif()

# The packaged units start the packaged binary and use a dynamic user.
set(tree "${WORK_DIR}/tree")
execute_process(COMMAND "${DPKG_DEB}" -x "${packages}" "${tree}" RESULT_VARIABLE extract_result)
if(NOT extract_result EQUAL 0)
    message(FATAL_ERROR "dpkg-deb -x ${packages} failed")
endif()
foreach(unit IN ITEMS bbsync.service bbsync-once.service)
    file(READ "${tree}${UNITDIR}/${unit}" unit_text)
    if(NOT unit_text MATCHES "\nExecStart=${BINDIR}/bbsync ")
        string(APPEND failures "  ${unit}: ExecStart does not start ${BINDIR}/bbsync\n")
    endif()
    if(NOT unit_text MATCHES "\nDynamicUser=yes\n")
        string(APPEND failures "  ${unit}: DynamicUser=yes is missing\n")
    endif()
    if(unit_text MATCHES "@[A-Z_]+@")
        string(APPEND failures "  ${unit}: an @VARIABLE@ was not filled in\n")
    endif()
endforeach()
if(NOT EXISTS "${tree}${BINDIR}/bbsync")
    string(APPEND failures "  ${BINDIR}/bbsync is not in the extracted package\n")
endif()

if(failures)
    message(FATAL_ERROR "the Debian package ${packages} is wrong:\n${failures}")
endif()
message("the Debian package ${packages} is complete")
