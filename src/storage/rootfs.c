#include "storage/rootfs.h"
#include "image/image-store.h"
#include "image/imagedb.h"
#include "storage/snapshot.h"
#include "util/util.h"
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>

/* Container ids become directory names: Docker's character set. */
static int check_id(const char *id, berth_error_t **err)
{
        size_t n = strlen(id);

        if (n == 0 || n > 128 || strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != n ||
            id[0] == '.' || id[0] == '-')
                return berth_error(err, EINVAL, "invalid container id \"%s\"", id);
        return 0;
}

static char **layer_dirs(struct image_store *s, char **chains, size_t n)
{
        char **dirs = xcalloc(n + 1, sizeof(char *));

        for (size_t i = 0; i < n; i++)
                dirs[i] = image_store_layer_path(s, chains[i]);
        return dirs;
}

static int mount_overlay(const char *dir, char **dirs, size_t n, const char *target, const struct rootfs_opts *o,
                         berth_error_t **err)
{
        _cleanup_free_ char *upper = xasprintf("%s/upper", dir);
        _cleanup_free_ char *work = xasprintf("%s/work", dir);
        struct snapshot_spec spec = {
                .layers = (const char *const *)dirs,
                .nlayers = n,
                .upper = upper,
                .work = work,
                .read_only = o->read_only,
        };

        /* a remount (rootfs_mount) finds them made */
        if ((mkdir(upper, 0755) < 0 && errno != EEXIST) || (mkdir(work, 0700) < 0 && errno != EEXIST))
                return berth_error(err, errno, "create %s", upper);
        return snapshot_mount(&spec, target, err);
}

/* The vfs copy at target, read-only when asked. */
static int bind_copy(const char *copy, const char *target, const struct rootfs_opts *o, berth_error_t **err)
{
        if (mount(copy, target, NULL, MS_BIND | MS_REC, NULL) < 0)
                return berth_error(err, errno, "bind %s on %s", copy, target);
        if (o->read_only && mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0) {
                int e = errno;
                umount2(target, MNT_DETACH);
                return berth_error(err, e, "remount %s read-only", target);
        }
        return 0;
}

static int mount_vfs(const char *dir, char **dirs, size_t n, const char *target, const struct rootfs_opts *o,
                     berth_error_t **err)
{
        _cleanup_free_ char *copy = xasprintf("%s/vfs", dir);

        if (mkdir(copy, 0755) < 0)
                return berth_error(err, errno, "create %s", copy);
        if (snapshot_vfs_create((const char *const *)dirs, n, copy, err) < 0)
                return -1;
        return bind_copy(copy, target, o, err);
}

/* overlay, unless forced or the data root cannot have one */
static bool use_overlay(struct image_store *s, const struct rootfs_opts *o)
{
        _cleanup_free_ char *containers = xasprintf("%s/containers", image_store_root(s));
        return !o->force_vfs && snapshot_overlay_supported(containers, NULL) == 1;
}

static int record(struct image_store *s, const char *cid, const char *image_id, bool add, berth_error_t **err)
{
        struct imagedb *db = image_store_db(s);
        int r;

        if (imagedb_begin(db, err) < 0)
                return -1;
        r = add ? imagedb_container_add(db, cid, image_id, err) : imagedb_container_delete(db, cid, NULL, err);
        if (r >= 0)
                r = imagedb_commit(db, err);
        if (r < 0)
                imagedb_rollback(db);
        return r;
}

static int remove_container_dir(struct image_store *s, const char *cid)
{
        _cleanup_free_ char *containers = xasprintf("%s/containers", image_store_root(s));
        _cleanup_close_ int fd = open(containers, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0)
                return errno == ENOENT ? 0 : -1;
        int r = remove_tree_at(fd, cid);
        if (r < 0)
                errno = -r;
        return r < 0 ? -1 : 0;
}

int rootfs_create(struct image_store *s, const char *cid, const char *name, const char *target,
                  const struct rootfs_opts *o, berth_error_t **err)
{
        static const struct rootfs_opts defaults;
        _cleanup_free_ char *image_id = NULL;
        _cleanup_free_ char *dir = NULL;
        _cleanup_strv_ char **chains = NULL;
        _cleanup_strv_ char **dirs = NULL;
        size_t n = 0;
        int r;

        if (o == NULL)
                o = &defaults;
        if (check_id(cid, err) < 0 || image_store_resolve(s, name, &image_id, err) < 0 ||
            imagedb_image_layers(image_store_db(s), image_id, &chains, &n, err) < 0)
                return -1;
        dir = xasprintf("%s/containers/%s", image_store_root(s), cid);
        if (mkdir_p(dir, 0700, err) < 0)
                return -1;
        /* record first: a second create for the same id stops here */
        if (record(s, cid, image_id, true, err) < 0)
                return -1;
        dirs = layer_dirs(s, chains, n);
        r = use_overlay(s, o) ? mount_overlay(dir, dirs, n, target, o, err) : mount_vfs(dir, dirs, n, target, o, err);
        if (r < 0) {
                remove_container_dir(s, cid);
                record(s, cid, NULL, false, NULL);
                return berth_error_wrap(err, "rootfs of container %s", cid);
        }
        return 0;
}

/* Is path the root of a mount?  statx says so on 5.8+ kernels; before, a
 * different device than its parent's is the sign (overlay mounts have
 * their own; a vfs bind mount is not detected there). */
static bool is_mount_root(const char *path)
{
        struct statx stx;
        struct stat self, parent;
        _cleanup_free_ char *up = xasprintf("%s/..", path);

        if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx) == 0 &&
            (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT))
                return (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
        return stat(path, &self) == 0 && stat(up, &parent) == 0 && self.st_dev != parent.st_dev;
}

int rootfs_mount(struct image_store *s, const char *cid, const char *image_id, const char *target,
                 const struct rootfs_opts *o, berth_error_t **err)
{
        static const struct rootfs_opts defaults;
        _cleanup_free_ char *dir = NULL;
        _cleanup_free_ char *copy = NULL;
        _cleanup_strv_ char **chains = NULL;
        _cleanup_strv_ char **dirs = NULL;
        size_t n = 0;
        int r;

        if (o == NULL)
                o = &defaults;
        if (check_id(cid, err) < 0)
                return -1;
        if (is_mount_root(target))
                return 0;
        dir = xasprintf("%s/containers/%s", image_store_root(s), cid);
        copy = xasprintf("%s/vfs", dir);
        if (access(copy, F_OK) == 0)
                return bind_copy(copy, target, o, err);
        if (imagedb_image_layers(image_store_db(s), image_id, &chains, &n, err) < 0)
                return berth_error_wrap(err, "rootfs of container %s", cid);
        dirs = layer_dirs(s, chains, n);
        r = mount_overlay(dir, dirs, n, target, o, err);
        return r < 0 ? berth_error_wrap(err, "rootfs of container %s", cid) : 0;
}

int rootfs_remove(struct image_store *s, const char *cid, const char *target, berth_error_t **err)
{
        if (check_id(cid, err) < 0)
                return -1;
        if (target && snapshot_unmount(target, err) < 0)
                return -1;
        if (remove_container_dir(s, cid) < 0)
                return berth_error(err, errno, "remove %s/containers/%s", image_store_root(s), cid);
        return record(s, cid, NULL, false, err) < 0 ? -1 : 0;
}
