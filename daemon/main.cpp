#include "daemon/cli.hpp"

int main(int argc, char** argv) { return kentongan::daemon::run_cli(argc, argv); }
