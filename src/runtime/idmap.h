/* Rootfs ownership in a user namespace: when the rootfs belongs to ids the
 * container's mapping does not cover (an image unpacked by host root, and
 * root inside mapped to 100000 outside), the runtime gives the container an
 * idmapped view of it, so files owned by host root appear as the
 * container's root, with nothing chown'ed on disk. */
#pragma once
#include "util/error.h"
#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

/* Does the rootfs need an idmapped mount under these uid mappings? */
bool idmap_rootfs_wanted(const char *rootfs, json_t *uid_mappings);
/* Parent, after the maps are written: a detached recursive clone of the
 * rootfs idmapped with the user namespace of pid.  Returns its fd. */
int idmap_rootfs_tree(const char *rootfs, pid_t pid, berth_error_t **err);
