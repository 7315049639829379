/* berth: the Docker-compatible command line, a client of the daemon's API
 * (src/cli). */
#include "cli/cli.h"

int main(int argc, char **argv)
{
        return cli_main(argc, argv);
}
