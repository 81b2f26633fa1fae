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
