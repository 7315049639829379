/* /dev inside the container: the default nodes every program expects and
 * linux.devices, created with mknod, or bind-mounted from the host inside a
 * user namespace (where mknod is not allowed). */
#pragma once
#include "util/error.h"
#include <jansson.h>
#include <stdbool.h>

/* rootfd is the rootfs; with_defaults adds null, zero, full, random,
 * urandom, tty and the /dev symlinks (ptmx, fd, stdin...). */
int devices_create(int rootfd, json_t *devices, bool with_defaults, bool userns, berth_error_t **err);

/* linux.resources with the device rules runc adds after the config's own:
 * mknod of anything, the default nodes, ptys, and every linux.devices
 * entry, so a "deny all" config still gets a working /dev.  New reference. */
json_t *devices_with_default_rules(json_t *resources, json_t *linux_devices);
