/* A container user ("name", "uid", "name:group", "uid:gid", ...) resolved
 * as Docker resolves it: through the rootfs's /etc/passwd and /etc/group,
 * read inside the rootfs with openat2(RESOLVE_IN_ROOT) because symlinks in
 * an image are hostile input.  Also for `exec --user`. */
#pragma once
#include "util/error.h"
#include <stddef.h>
#include <sys/types.h>

struct docker_user {
        uid_t uid;
        gid_t gid;
        /* The primary gid first (as Docker), then the groups /etc/group
         * lists the user in (only when no group was given), then
         * group_add; no duplicates. */
        gid_t *gids;
        size_t n_gids;
        char *home;     /* from /etc/passwd; "/" without an entry */
};

/* spec "" means uid 0.  A numeric user or group need not exist; a name
 * must ("unable to find user x: no matching entries in passwd file").
 * Missing files read as empty.  group_add (HostConfig.GroupAdd: names or
 * gids) is NULL-terminated, or NULL.  rootfs NULL: no files at all. */
int docker_user_resolve(const char *rootfs, const char *spec, const char *const *group_add, struct docker_user *out,
                        berth_error_t **err);
void docker_user_clear(struct docker_user *u);
