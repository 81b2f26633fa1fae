#include "daemon/service/cli.hpp"

int main(int argc, char** argv) { return bbsync::run_cli(argc, argv); }
