/* A container's root filesystem from an image in the image store: an
 * overlay of the image's layers with the container's own upper/ and work/
 * under <data-root>/containers/<id>/, or, where overlay cannot be mounted
 * on the data root (or when asked), a vfs copy in containers/<id>/vfs
 * bind-mounted at the target.  The container is recorded as a user of the
 * image, so the image (and its layers) cannot be removed under it. */
#pragma once
#include "util/error.h"
#include <stdbool.h>

struct image_store;

struct rootfs_opts {
        bool read_only;         /* no writable layer (--read-only) */
        bool force_vfs;         /* copy even where overlay works */
};

/* Make container_id's rootfs from image `name` and mount it at target (an
 * existing directory).  On error nothing is left: no mount, no directory,
 * no record. */
int rootfs_create(struct image_store *s, const char *container_id, const char *name, const char *target,
                  const struct rootfs_opts *o, berth_error_t **err);
/* Mount an existing container's rootfs again at target, unless it is
 * mounted there already: after a reboot, or anything else that took the
 * mount away while the record and the writable layer stayed. */
int rootfs_mount(struct image_store *s, const char *container_id, const char *image_id, const char *target,
                 const struct rootfs_opts *o, berth_error_t **err);
/* Unmount target, remove the container's layer and its record. */
int rootfs_remove(struct image_store *s, const char *container_id, const char *target, berth_error_t **err);
