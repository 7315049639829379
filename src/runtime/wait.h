/* Foreground waiting (`run`, `exec` without --detach): signals sent to
 * the runtime go on to the container process, as with runc. */
#pragma once
#include <sys/types.h>

/* Wait for pid; returns its exit code, 128+N when killed by signal N. */
int wait_forwarding_signals(pid_t pid);
