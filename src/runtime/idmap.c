#include "runtime/idmap.h"
#include "util/util.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

static bool uid_mapped(uid_t uid, json_t *mappings)
{
        json_t *m;
        size_t i;

        json_array_foreach(mappings, i, m) {
                json_int_t host = json_integer_value(json_object_get(m, "hostID"));
                json_int_t size = json_integer_value(json_object_get(m, "size"));
                if ((json_int_t)uid >= host && (json_int_t)uid < host + size)
                        return true;
        }
        return false;
}

bool idmap_rootfs_wanted(const char *rootfs, json_t *uid_mappings)
{
        struct stat st;

        return json_array_size(uid_mappings) > 0 && stat(rootfs, &st) == 0 && !uid_mapped(st.st_uid, uid_mappings);
}

int idmap_rootfs_tree(const char *rootfs, pid_t pid, berth_error_t **err)
{
        char path[64];
        _cleanup_close_ int userns = -1, tree = -1;
        struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP };

        snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
        if ((userns = open(path, O_RDONLY | O_CLOEXEC)) < 0)
                return berth_error(err, errno, "open %s", path);
        tree = (int)syscall(SYS_open_tree, AT_FDCWD, rootfs, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
        if (tree < 0)
                return berth_error(err, errno, "clone the rootfs mount %s", rootfs);
        attr.userns_fd = (uint64_t)userns;
        if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
                return berth_error(err, errno, "idmap the rootfs %s", rootfs);
        return steal_fd(&tree);
}
