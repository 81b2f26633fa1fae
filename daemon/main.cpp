#include <sys/stat.h>

#include "daemon/service/cli.hpp"

int main(int argc, char** argv)
{
    // The database contains refresh tokens, so files bbsync creates are private to its user.
    umask(0077);
    return bbsync::run_cli(argc, argv);
}
