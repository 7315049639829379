/* The container's terminal: a pty allocated inside the container (its own
 * devpts) whose master goes to the caller over --console-socket with
 * SCM_RIGHTS, as runc does. */
#pragma once
#include "util/error.h"
#include <jansson.h>
#include <stdbool.h>

/* Connect to the unix socket at path (in the caller's mount namespace). */
int console_socket_connect(const char *path, berth_error_t **err);
/* In the container: open a pty, send the master over sock, make the slave
 * the controlling terminal and stdio. size is process.consoleSize or NULL;
 * dev_console also binds it on /dev/console (the container's init only). */
int console_setup(int sock, json_t *size, bool dev_console, berth_error_t **err);
/* Send fd over a unix socket with SCM_RIGHTS, named like runc ("/dev/pts/N"). */
int send_fd(int sock, int fd, const char *name, berth_error_t **err);
int recv_fd(int sock, berth_error_t **err);
