# Script mode helper of bbsync_embed(): writes OUTPUT, a C++ source that defines
# bbsync::embedded::NAME() over the bytes of FILES. Bytes are written as hex escapes in
# string literals so that any content, binary included, survives unchanged.

string(REPEAT "[0-9a-f]" 64 line_pattern)
set(text "#include <bbsync/embedded_file.hpp>\n\n#include <array>\n\nnamespace bbsync::embedded {\nnamespace {\n\n")
set(index 0)
set(entries "")
foreach(file IN LISTS FILES)
    file(READ "${file}" hex HEX)
    file(SIZE "${file}" size)
    # 32 bytes per source line, then each byte as a \xNN escape.
    string(REGEX REPLACE "(${line_pattern})" "\\1|" hex "${hex}")
    string(REGEX REPLACE "([0-9a-f][0-9a-f])" "\\\\x\\1" escaped "${hex}")
    string(REPLACE "|" "\"\n\"" escaped "${escaped}")
    get_filename_component(base "${file}" NAME)
    string(APPEND text "constexpr char content_${index}[] =\n\"${escaped}\";\n\n")
    string(APPEND entries "    embedded_file{\"${base}\", std::string_view(content_${index}, ${size})},\n")
    math(EXPR index "${index} + 1")
endforeach()
string(APPEND text "constexpr std::array<embedded_file, ${index}> files{{\n${entries}}};\n\n}  // namespace\n\n")
string(APPEND text "std::span<const embedded_file> ${NAME}() { return files; }\n\n}  // namespace bbsync::embedded\n")
file(WRITE "${OUTPUT}.tmp" "${text}")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
