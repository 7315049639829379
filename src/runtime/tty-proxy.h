/* A terminal for a foreground `run` or `exec` without --console-socket:
 * the runtime keeps the pty master and copies between it and its own stdio,
 * as runc does, with the caller's terminal in raw mode meanwhile. */
#pragma once
#include "util/error.h"
#include <sys/types.h>

/* Copy stdin -> master and master -> stdout until the master hangs up.
 * Returns when the container side is gone. */
void tty_proxy_run(int master);
