/* configMap, secret (and downward API) volumes: the kubelet's AtomicWriter.
 *
 * A volume directory holds
 *   ..2026_11_29_17_00_00.123456789/   the data, written once, never changed
 *   ..data -> ..2026_11_29_17_00_00.123456789
 *   key -> ..data/key                  one symlink per top-level name
 *   conf -> ..data/conf                (for a nested path conf/app.conf)
 * An update writes a fresh timestamped directory, points a new symlink
 * ..data_tmp at it and renames that over ..data: a reader sees the old set
 * of files or the new one, never a mix; an open fd keeps reading the old
 * file.  Then top-level symlinks of removed names go, and the old
 * directory is removed.  Unchanged content (bytes and modes) writes
 * nothing.  Everything is done relative to the volume's dirfd (openat,
 * symlinkat, renameat, O_NOFOLLOW), never through host path strings. */
#pragma once
#include "util/error.h"
#include <jansson.h>
#include <stddef.h>

/* What kubelet's defaultMode defaults to (configMap and secret volumes). */
#define KUBE_PROJECTION_DEFAULT_MODE 0644

struct kube_projected_file {
        char *path;             /* relative, may be nested ("conf/app.conf") */
        char *data;             /* len bytes (NUL-terminated as a courtesy) */
        size_t len;
        int mode;               /* permission bits (0400); -1: the default mode */
};
void kube_projected_files_free(struct kube_projected_file *files, size_t n);

/* The volume's path rules (kubelet's validatePath): not empty, relative,
 * no ".." component, the first component not starting with "..", at most
 * 4096 characters, components at most 255.  *clean (optional) gets the
 * path with "." and empty components dropped.  0 or -EINVAL. */
int kube_projection_path_check(const char *path, char **clean, berth_error_t **err);

/* Make the volume directory open as dirfd hold exactly files (see above).
 * Later files with the same path win.  Files are created by the caller's
 * uid (root in berthd) with their mode exactly (umask ignored);
 * directories 0755.  0 or a negative errno. */
int kube_projection_write(int dirfd, const struct kube_projected_file *files, size_t n, int default_mode,
                          berth_error_t **err);

/* The files of a configMap or secret volume source (a secret source names
 * its object with secretName, a configMap one with name; items
 * [{key, path, mode}], defaultMode, optional) from the stored object
 * (cm_or_secret, NULL when it does not exist):
 * - no items: one file per key, named for it, mode -1;
 * - items: only those keys, at their paths; a missing key is an error
 *   (ENOENT, "configmap references non-existent config key: k", "secret
 *   references non-existent secret key: k") unless optional;
 * - a missing object: ENOENT `configmap "x" not found` / `secret "x" not
 *   found` unless optional (then no files).
 * *default_mode gets defaultMode (0644 when absent).  Bad modes or paths:
 * EINVAL.  Free *files with kube_projected_files_free. */
int kube_volume_source_files(const json_t *volume_source, const json_t *cm_or_secret,
                             struct kube_projected_file **files, size_t *n, int *default_mode, berth_error_t **err);
