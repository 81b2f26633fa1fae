# Warning and definition sets shared by every target of the project. Targets link these
# INTERFACE libraries instead of the project touching global flag variables.

add_library(bbsync_options INTERFACE)
target_compile_features(bbsync_options INTERFACE cxx_std_20)
target_compile_options(
    bbsync_options
    INTERFACE -Wall
              -Wextra
              -Wpedantic
              -Wshadow
              -Woverloaded-virtual
              -Wimplicit-fallthrough
              -Wno-missing-field-initializers
              # GCC 12 at -O2 reports Asio's coroutine frame allocator as mismatched new/delete;
              # the frames are allocated and freed by the same awaitable_frame_base operators.
              $<$<CXX_COMPILER_ID:GNU>:-Wno-mismatched-new-delete>
              # GCC 12's -O2 flow analysis reports std::string concatenation inside libstdc++ as
              # out of bounds (GCC bug 105651 and relatives). These stay warnings, not errors;
              # the asan-ubsan preset checks the same code at run time.
              $<$<CXX_COMPILER_ID:GNU>:-Wno-error=array-bounds>
              $<$<CXX_COMPILER_ID:GNU>:-Wno-error=restrict>
              $<$<CXX_COMPILER_ID:GNU>:-Wno-error=stringop-overflow>
)

# Asio and Beast are compiled once, in coro/asio_impl.cpp; every other translation unit
# only sees declarations. The definitions must be identical in every translation unit.
add_library(bbsync_asio_options INTERFACE)
target_compile_definitions(
    bbsync_asio_options
    INTERFACE BOOST_ASIO_SEPARATE_COMPILATION
              BOOST_BEAST_SEPARATE_COMPILATION
              BOOST_ASIO_NO_DEPRECATED
              BOOST_ASIO_DISABLE_BOOST_ARRAY
              BOOST_ASIO_DISABLE_BOOST_BIND
              BOOST_ASIO_DISABLE_BOOST_DATE_TIME
              BOOST_ASIO_DISABLE_BOOST_REGEX
)
