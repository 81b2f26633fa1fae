# bbsync_embed(<target> NAME <function> FILES <file>...)
#
# Compiles the given files into <target> as a function
# `std::span<const bbsync::embedded_file> bbsync::embedded::<function>()` that returns
# each file's base name and bytes, in the order given. The files are read at build time,
# so the binary needs none of them at run time.

set(BBSYNC_EMBED_SCRIPT "${CMAKE_CURRENT_LIST_DIR}/embed_files.cmake")
set(BBSYNC_EMBED_HEADER_DIR "${CMAKE_BINARY_DIR}/generated")
configure_file(
    "${CMAKE_CURRENT_LIST_DIR}/embedded_file.hpp" "${BBSYNC_EMBED_HEADER_DIR}/bbsync/embedded_file.hpp" COPYONLY
)

function(bbsync_embed target)
    cmake_parse_arguments(PARSE_ARGV 1 arg "" "NAME" "FILES")
    set(output "${CMAKE_CURRENT_BINARY_DIR}/embedded_${arg_NAME}.cpp")
    add_custom_command(
        OUTPUT "${output}"
        COMMAND "${CMAKE_COMMAND}" "-DOUTPUT=${output}" "-DNAME=${arg_NAME}" "-DFILES=${arg_FILES}" -P
                "${BBSYNC_EMBED_SCRIPT}"
        DEPENDS ${arg_FILES} "${BBSYNC_EMBED_SCRIPT}"
        COMMENT "Embedding ${arg_NAME}"
        VERBATIM
    )
    target_sources(${target} PRIVATE "${output}")
    target_include_directories(${target} PUBLIC "${BBSYNC_EMBED_HEADER_DIR}")
endfunction()
