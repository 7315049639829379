/* The container's filesystem: mounts from config.json placed inside the
 * rootfs without ever following a symlink out of it, the default /dev,
 * pivot_root, masked and read-only paths. */
#pragma once
#include "util/error.h"
#include <jansson.h>
#include <stdbool.h>

struct rootfs_ctx {
        json_t *config;
        const char *rootfs;      /* absolute host path */
        const char *bundle;      /* relative bind sources resolve here */
        const char *cgroup_path; /* for mounts of type cgroup */
        bool userns;             /* devices are bind-mounted, not mknod'ed */
        int rootfs_tree_fd;      /* idmapped rootfs to attach instead of a bind, or -1 */
};

/* Before pivot_root: propagation, rootfs bind, every mount, devices. */
int rootfs_prepare(struct rootfs_ctx *ctx, berth_error_t **err);
/* pivot_root into the rootfs (or MS_MOVE + chroot with no_pivot). */
int rootfs_pivot(const char *rootfs, bool no_pivot, berth_error_t **err);
/* After pivot_root: masked and read-only paths, read-only root,
 * rootfsPropagation. */
int rootfs_finish(json_t *config, berth_error_t **err);

/* Open path inside the tree at rootfd (RESOLVE_IN_ROOT|NO_MAGICLINKS),
 * creating missing directories, and the last component as a directory or
 * (file=true) an empty file.  Returns an O_PATH fd. */
int resolve_in_root(int rootfd, const char *path, bool create, bool file, berth_error_t **err);

/* Mount flags from OCI option names; unknown names land in *data. */
struct mount_flags {
        unsigned long flags;        /* MS_* to set */
        unsigned long clear;        /* MS_* explicitly cleared (rw, suid...) */
        unsigned long propagation;  /* MS_SHARED|MS_SLAVE|... with MS_REC */
        unsigned long long attr_set, attr_clr; /* recursive r* options (mount_setattr) */
        char *data;                 /* the rest, comma-joined, for the fs */
};
void mount_flags_parse(json_t *options, struct mount_flags *out);
/* Propagation flags for a rootfsPropagation value; 0 for unknown. */
unsigned long mount_propagation_parse(const char *name);
