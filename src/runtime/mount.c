#include "runtime/mount.h"
#include "runtime/devices.h"
#include "oci/config.h"
#include "util/util.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

static const struct {
        const char *name;
        bool clear;
        unsigned long flag;
} mount_options[] = {
        { "defaults", false, 0 },       { "ro", false, MS_RDONLY },       { "rw", true, MS_RDONLY },
        { "suid", true, MS_NOSUID },    { "nosuid", false, MS_NOSUID },   { "dev", true, MS_NODEV },
        { "nodev", false, MS_NODEV },   { "exec", true, MS_NOEXEC },      { "noexec", false, MS_NOEXEC },
        { "sync", false, MS_SYNCHRONOUS }, { "async", true, MS_SYNCHRONOUS }, { "dirsync", false, MS_DIRSYNC },
        { "remount", false, MS_REMOUNT }, { "mand", false, MS_MANDLOCK }, { "nomand", true, MS_MANDLOCK },
        { "atime", true, MS_NOATIME },  { "noatime", false, MS_NOATIME }, { "diratime", true, MS_NODIRATIME },
        { "nodiratime", false, MS_NODIRATIME }, { "bind", false, MS_BIND }, { "rbind", false, MS_BIND | MS_REC },
        { "relatime", false, MS_RELATIME }, { "norelatime", true, MS_RELATIME },
        { "strictatime", false, MS_STRICTATIME }, { "nostrictatime", true, MS_STRICTATIME },
        { "lazytime", false, MS_LAZYTIME }, { "nolazytime", true, MS_LAZYTIME },
        { "iversion", false, MS_I_VERSION }, { "noiversion", true, MS_I_VERSION },
        { "silent", false, MS_SILENT }, { "loud", true, MS_SILENT },
        { "nosymfollow", false, 256 /* MS_NOSYMFOLLOW */ }, { "symfollow", true, 256 },
};

static const struct {
        const char *name;
        unsigned long flag;
} propagation_options[] = {
        { "private", MS_PRIVATE },  { "rprivate", MS_PRIVATE | MS_REC },
        { "slave", MS_SLAVE },      { "rslave", MS_SLAVE | MS_REC },
        { "shared", MS_SHARED },    { "rshared", MS_SHARED | MS_REC },
        { "unbindable", MS_UNBINDABLE }, { "runbindable", MS_UNBINDABLE | MS_REC },
};

/* Recursive per-mount attributes, applied with mount_setattr(AT_RECURSIVE). */
static const struct {
        const char *name;
        bool clear;
        unsigned long long attr;
} recursive_options[] = {
        { "rro", false, MOUNT_ATTR_RDONLY },     { "rrw", true, MOUNT_ATTR_RDONLY },
        { "rnosuid", false, MOUNT_ATTR_NOSUID }, { "rsuid", true, MOUNT_ATTR_NOSUID },
        { "rnodev", false, MOUNT_ATTR_NODEV },   { "rdev", true, MOUNT_ATTR_NODEV },
        { "rnoexec", false, MOUNT_ATTR_NOEXEC }, { "rexec", true, MOUNT_ATTR_NOEXEC },
        { "rnodiratime", false, MOUNT_ATTR_NODIRATIME }, { "rdiratime", true, MOUNT_ATTR_NODIRATIME },
        { "rnoatime", false, MOUNT_ATTR_NOATIME }, { "rrelatime", false, MOUNT_ATTR_RELATIME },
        { "rstrictatime", false, MOUNT_ATTR_STRICTATIME }, { "rnosymfollow", false, MOUNT_ATTR_NOSYMFOLLOW },
        { "rsymfollow", true, MOUNT_ATTR_NOSYMFOLLOW }, { "rnorelatime", true, MOUNT_ATTR_RELATIME },
        { "rnostrictatime", true, MOUNT_ATTR_STRICTATIME }, { "ratime", true, MOUNT_ATTR_NOATIME },
};

unsigned long mount_propagation_parse(const char *name)
{
        for (size_t i = 0; i < ARRAY_SIZE(propagation_options); i++)
                if (strcmp(name, propagation_options[i].name) == 0)
                        return propagation_options[i].flag;
        return 0;
}

static bool parse_known_option(const char *o, struct mount_flags *out)
{
        unsigned long prop = mount_propagation_parse(o);

        if (prop) {
                out->propagation = prop;
                return true;
        }
        for (size_t i = 0; i < ARRAY_SIZE(mount_options); i++) {
                if (strcmp(o, mount_options[i].name) != 0)
                        continue;
                if (mount_options[i].clear) {
                        out->flags &= ~mount_options[i].flag;
                        out->clear |= mount_options[i].flag;
                } else {
                        out->flags |= mount_options[i].flag;
                }
                return true;
        }
        for (size_t i = 0; i < ARRAY_SIZE(recursive_options); i++) {
                if (strcmp(o, recursive_options[i].name) != 0)
                        continue;
                if (recursive_options[i].clear)
                        out->attr_clr |= recursive_options[i].attr;
                else
                        out->attr_set |= recursive_options[i].attr;
                return true;
        }
        return false;
}

void mount_flags_parse(json_t *options, struct mount_flags *out)
{
        size_t i, used = 0, cap = 0;
        json_t *v;

        memset(out, 0, sizeof(*out));
        json_array_foreach(options, i, v) {
                const char *o = json_string_value(v);
                size_t len;
                if (o == NULL || parse_known_option(o, out))
                        continue;
                len = strlen(o);
                if (used + len + 2 > cap) {
                        cap = (used + len + 2) * 2;
                        out->data = xrealloc(out->data, cap);
                }
                if (used)
                        out->data[used++] = ',';
                memcpy(out->data + used, o, len + 1);
                used += len;
        }
}

static int openat2_in_root(int rootfd, const char *path, int flags)
{
        struct open_how how = { .flags = (unsigned long long)(flags | O_CLOEXEC),
                                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
        int fd;

        /* EAGAIN: a rename raced with the walk (a container renaming in a
         * shared volume); the kernel asks for a retry rather than risk a
         * wrong answer */
        for (int tries = 0; tries < 64; tries++) {
                fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
                if (fd >= 0 || errno != EAGAIN)
                        break;
        }
        return fd;
}

int resolve_in_root(int rootfd, const char *path, bool create, bool file, berth_error_t **err)
{
        _cleanup_free_ char *copy = xstrdup(path);
        char *slash;
        int fd;

        fd = openat2_in_root(rootfd, path, O_PATH);
        if (fd >= 0 || errno != ENOENT || !create) {
                if (fd < 0)
                        return berth_error(err, errno, "open %s inside the rootfs", path);
                return fd;
        }
        /* create each missing component, resolving the parent in root each time */
        for (slash = copy + 1;; slash++) {
                bool last;
                _cleanup_close_ int parent = -1;
                char *name;

                slash = strchr(slash, '/');
                last = slash == NULL;
                if (!last)
                        *slash = '\0';
                name = strrchr(copy, '/');
                if (name == NULL || name[1] == '\0') {
                        if (last)
                                break;
                        *slash = '/';
                        continue;
                }
                *name = '\0';
                parent = openat2_in_root(rootfd, copy[0] ? copy : "/", O_PATH | O_DIRECTORY);
                *name = '/';
                if (parent < 0)
                        return berth_error(err, errno, "open parent of %s inside the rootfs", copy);
                if (last && file) {
                        int f = openat(parent, name + 1, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
                        if (f < 0 && errno != EEXIST)
                                return berth_error(err, errno, "create %s inside the rootfs", copy);
                        if (f >= 0)
                                close(f);
                } else if (mkdirat(parent, name + 1, 0755) < 0 && errno != EEXIST) {
                        return berth_error(err, errno, "mkdir %s inside the rootfs", copy);
                }
                if (last)
                        break;
                *slash = '/';
        }
        fd = openat2_in_root(rootfd, path, O_PATH);
        if (fd < 0)
                return berth_error(err, errno, "open %s inside the rootfs", path);
        return fd;
}

static char *fd_path(int fd)
{
        return xasprintf("/proc/self/fd/%d", fd);
}

/* An fd opened before a mount still names the dentry underneath it; to
 * change the new mount (remount, propagation) open the path again. */
static int reopen_mounted(int rootfd, const char *dest, int *fd, char **target, berth_error_t **err)
{
        int nfd = resolve_in_root(rootfd, dest, false, false, err);

        if (nfd < 0)
                return nfd;
        if (*fd >= 0)
                close(*fd);
        *fd = nfd;
        free(*target);
        *target = fd_path(nfd);
        return 0;
}

/* A remount changes only what we ask; flags the kernel locked (nosuid,
 * nodev, noexec... on mounts from a more privileged namespace) must be kept,
 * so start from the mount's current flags. */
static unsigned long current_mount_flags(const char *path)
{
        struct statvfs sv;
        unsigned long f = 0;

        if (statvfs(path, &sv) < 0)
                return 0;
        if (sv.f_flag & ST_RDONLY) f |= MS_RDONLY;
        if (sv.f_flag & ST_NOSUID) f |= MS_NOSUID;
        if (sv.f_flag & ST_NODEV) f |= MS_NODEV;
        if (sv.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
        if (sv.f_flag & ST_NOATIME) f |= MS_NOATIME;
        if (sv.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
        if (sv.f_flag & ST_RELATIME) f |= MS_RELATIME;
        return f;
}

static int remount_bind(const char *target, const char *dest, unsigned long set, unsigned long clear,
                        berth_error_t **err)
{
        unsigned long flags = (current_mount_flags(target) | set) & ~clear;

        if (mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | flags, NULL) < 0)
                return berth_error(err, errno, "remount %s", dest);
        return 0;
}

static int apply_recursive_attrs(const char *target, const char *dest, struct mount_flags *mf,
                                 berth_error_t **err)
{
        struct mount_attr attr = { .attr_set = mf->attr_set, .attr_clr = mf->attr_clr };

        if (mf->attr_set == 0 && mf->attr_clr == 0)
                return 0;
        if (attr.attr_set & (MOUNT_ATTR_NOATIME | MOUNT_ATTR_RELATIME | MOUNT_ATTR_STRICTATIME))
                attr.attr_clr |= MOUNT_ATTR__ATIME;
        if (syscall(SYS_mount_setattr, AT_FDCWD, target, AT_RECURSIVE, &attr, sizeof(attr)) < 0)
                return berth_error(err, errno, "mount_setattr %s", dest);
        return 0;
}

static char *bind_source(struct rootfs_ctx *ctx, const char *source)
{
        if (source[0] == '/')
                return xstrdup(source);
        return xasprintf("%s/%s", ctx->bundle, source);
}

/* Mount every cgroup hierarchy of the host at dest, showing only the
 * container's own cgroup (bind mounts of <hierarchy>/<cgroup_path>). */
static int mount_cgroup_tree(struct rootfs_ctx *ctx, int rootfd, const char *dest, unsigned long flags,
                             berth_error_t **err)
{
        _cleanup_close_ int destfd = -1;
        _cleanup_free_ char *target = NULL;
        struct statfs sfs;
        DIR *dir;
        struct dirent *de;
        int ret = 0;

        if (statfs("/sys/fs/cgroup", &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC) {
                _cleanup_free_ char *src = xasprintf("/sys/fs/cgroup/%s", ctx->cgroup_path);
                if ((destfd = resolve_in_root(rootfd, dest, true, false, err)) < 0)
                        return destfd;
                target = fd_path(destfd);
                if (mount(src, target, NULL, MS_BIND | MS_REC, NULL) < 0)
                        return berth_error(err, errno, "mount cgroup2 on %s", dest);
                if (reopen_mounted(rootfd, dest, &destfd, &target, err) < 0)
                        return -1;
                return remount_bind(target, dest, flags & ~MS_REC, 0, err);
        }
        if ((destfd = resolve_in_root(rootfd, dest, true, false, err)) < 0)
                return destfd;
        target = fd_path(destfd);
        if (mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755") < 0)
                return berth_error(err, errno, "mount tmpfs for cgroups on %s", dest);
        close(steal_fd(&destfd));
        if ((dir = opendir("/sys/fs/cgroup")) == NULL)
                return berth_error(err, errno, "open /sys/fs/cgroup");
        while ((de = readdir(dir)) != NULL && ret == 0) {
                _cleanup_free_ char *host = NULL, *sub = NULL, *src = NULL, *t = NULL;
                _cleanup_close_ int fd = -1;
                if (de->d_name[0] == '.')
                        continue;
                host = xasprintf("/sys/fs/cgroup/%s", de->d_name);
                sub = xasprintf("%s/%s", dest, de->d_name);
                if (de->d_type == DT_LNK) {
                        char link[256];
                        ssize_t n = readlink(host, link, sizeof(link) - 1);
                        _cleanup_close_ int parent = resolve_in_root(rootfd, dest, false, false, err);
                        if (n < 0 || parent < 0)
                                continue;
                        link[n] = '\0';
                        if (symlinkat(link, parent, de->d_name) < 0 && errno != EEXIST)
                                ret = berth_error(err, errno, "symlink %s", sub);
                        continue;
                }
                if (statfs(host, &sfs) < 0 || (sfs.f_type != CGROUP_SUPER_MAGIC && sfs.f_type != CGROUP2_SUPER_MAGIC))
                        continue;
                src = xasprintf("%s/%s", host, ctx->cgroup_path);
                if (access(src, F_OK) < 0)
                        continue;
                if ((fd = resolve_in_root(rootfd, sub, true, false, err)) < 0) {
                        ret = fd;
                        break;
                }
                t = fd_path(fd);
                if (mount(src, t, NULL, MS_BIND | MS_REC, NULL) < 0)
                        ret = berth_error(err, errno, "bind cgroup %s on %s", src, sub);
                else if ((ret = reopen_mounted(rootfd, sub, &fd, &t, err)) == 0)
                        ret = remount_bind(t, sub, (flags & ~MS_REC) | MS_NOSUID | MS_NODEV | MS_NOEXEC, 0, err);
        }
        closedir(dir);
        if (ret < 0)
                return ret;
        if (flags & MS_RDONLY) {
                _cleanup_close_ int fd = resolve_in_root(rootfd, dest, false, false, err);
                _cleanup_free_ char *t = NULL;
                if (fd < 0)
                        return fd;
                t = fd_path(fd);
                if (mount(NULL, t, NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755") < 0)
                        return berth_error(err, errno, "remount %s read-only", dest);
        }
        return 0;
}

static int mount_one(struct rootfs_ctx *ctx, int rootfd, json_t *m, berth_error_t **err)
{
        const char *dest = json_path_str(m, NULL, "destination", NULL);
        const char *type = json_path_str(m, "", "type", NULL);
        const char *source = json_path_str(m, "", "source", NULL);
        _cleanup_free_ char *target = NULL, *src = NULL;
        _cleanup_close_ int fd = -1;
        struct mount_flags mf;
        bool bind, is_file = false;
        int ret;

        if (dest == NULL || dest[0] != '/')
                return berth_error(err, 0, "mount destination \"%s\" is not an absolute path", dest ? dest : "");
        mount_flags_parse(json_object_get(m, "options"), &mf);
        _cleanup_free_ char *data = mf.data;
        bind = (mf.flags & MS_BIND) || strcmp(type, "bind") == 0;
        if (strcmp(type, "cgroup") == 0 || strcmp(type, "cgroup2") == 0)
                return mount_cgroup_tree(ctx, rootfd, dest, mf.flags, err);
        if (bind) {
                struct stat st;
                src = bind_source(ctx, source);
                if (stat(src, &st) < 0)
                        return berth_error(err, errno, "mount %s on %s: stat source", src, dest);
                is_file = !S_ISDIR(st.st_mode);
        }
        if ((fd = resolve_in_root(rootfd, dest, true, is_file, err)) < 0)
                return berth_error_wrap(err, "mount %s", dest);
        target = fd_path(fd);
        if (bind) {
                if (mount(src, target, NULL, MS_BIND | (mf.flags & MS_REC), NULL) < 0)
                        return berth_error(err, errno, "mount %s on %s", src, dest);
                if ((ret = reopen_mounted(rootfd, dest, &fd, &target, err)) < 0)
                        return ret;
                if ((mf.flags & ~(MS_BIND | MS_REC | MS_REMOUNT)) || mf.clear)
                        if ((ret = remount_bind(target, dest, mf.flags & ~(MS_BIND | MS_REC), mf.clear, err)) < 0)
                                return ret;
        } else if (mount(source[0] ? source : type, target, type, mf.flags, data) < 0) {
                int e = errno;
                /* sysfs needs its own network namespace; like runc, fall back to the host's, read-only */
                if (strcmp(type, "sysfs") == 0 && (e == EPERM || e == EBUSY)) {
                        if (mount("/sys", target, NULL, MS_BIND | MS_REC, NULL) < 0)
                                return berth_error(err, errno, "bind /sys on %s", dest);
                        if ((ret = reopen_mounted(rootfd, dest, &fd, &target, err)) < 0)
                                return ret;
                        if ((ret = remount_bind(target, dest, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, 0, err)) < 0)
                                return ret;
                } else {
                        return berth_error(err, e, "mount %s (%s) on %s", source[0] ? source : type, type, dest);
                }
        }
        if ((mf.propagation || mf.attr_set || mf.attr_clr) && !bind &&
            (ret = reopen_mounted(rootfd, dest, &fd, &target, err)) < 0)
                return ret;
        if (mf.propagation && mount(NULL, target, NULL, mf.propagation, NULL) < 0)
                return berth_error(err, errno, "set propagation of %s", dest);
        return apply_recursive_attrs(target, dest, &mf, err);
}

/* Is /dev provided by a bind mount from the config? Then it is not ours
 * to populate. */
static bool dev_is_bind_mounted(json_t *mounts)
{
        json_t *m;
        size_t i;

        json_array_foreach(mounts, i, m) {
                if (strcmp(json_path_str(m, "", "destination", NULL), "/dev") != 0)
                        continue;
                return strcmp(json_path_str(m, "", "type", NULL), "bind") == 0;
        }
        return false;
}

/* The mount point holding path's parent directory, from mountinfo (the
 * longest mount point that is a prefix of it), made private. */
static int make_parent_mount_private(const char *rootfs, berth_error_t **err)
{
        _cleanup_free_ char *parent = xstrdup(rootfs), *best = NULL;
        _cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
        char line[4096];
        size_t best_len = 0;

        *strrchr(parent, '/') = '\0';
        if (f == NULL)
                return berth_error(err, errno, "open /proc/self/mountinfo");
        while (fgets(line, sizeof(line), f)) {
                char mp[PATH_MAX];
                size_t len;
                /* fields: id parent major:minor root mountpoint ... */
                if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1)
                        continue;
                len = strlen(mp);
                if ((strcmp(mp, "/") == 0 || (str_has_prefix(parent, mp) && (parent[len] == '/' || parent[len] == '\0'))) &&
                    len >= best_len) {
                        free(best);
                        best = xstrdup(mp);
                        best_len = len;
                }
        }
        if (best && mount(NULL, best, NULL, MS_PRIVATE, NULL) < 0)
                return berth_error(err, errno, "make %s private", best);
        return 0;
}

int rootfs_prepare(struct rootfs_ctx *ctx, berth_error_t **err)
{
        json_t *linux_ = json_object_get(ctx->config, "linux");
        const char *prop_name = json_path_str(linux_, "", "rootfsPropagation", NULL);
        unsigned long prop = mount_propagation_parse(prop_name);
        json_t *mounts = json_object_get(ctx->config, "mounts"), *m;
        _cleanup_close_ int rootfd = -1;
        size_t i;
        int ret;

        /* by default nothing mounted here reaches the host (rslave); a
         * config asking for rshared gets mounts shared with the host, as
         * with runc */
        if (prop == 0)
                prop = MS_SLAVE | MS_REC;
        if (mount(NULL, "/", NULL, prop | MS_REC, NULL) < 0)
                return berth_error(err, errno, "make / %s", prop_name[0] ? prop_name : "rslave");
        /* pivot_root refuses shared mounts around the new root: make the
         * parent private first, so the rootfs bind below is private too */
        if ((prop & MS_SHARED) && (ret = make_parent_mount_private(ctx->rootfs, err)) < 0)
                return ret;
        /* the rootfs must be a mount point of its own for pivot_root */
        if (ctx->rootfs_tree_fd >= 0) {
                if (syscall(SYS_move_mount, ctx->rootfs_tree_fd, "", AT_FDCWD, ctx->rootfs,
                            MOVE_MOUNT_F_EMPTY_PATH) < 0)
                        return berth_error(err, errno, "attach the idmapped rootfs on %s", ctx->rootfs);
        } else if (mount(ctx->rootfs, ctx->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0) {
                return berth_error(err, errno, "bind rootfs %s", ctx->rootfs);
        }
        rootfd = open(ctx->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return berth_error(err, errno, "open rootfs %s", ctx->rootfs);
        json_array_foreach(mounts, i, m)
                if ((ret = mount_one(ctx, rootfd, m, err)) < 0)
                        return ret;
        return devices_create(rootfd, json_object_get(linux_, "devices"), !dev_is_bind_mounted(mounts),
                              ctx->userns, err);
}

int rootfs_pivot(const char *rootfs, bool no_pivot, berth_error_t **err)
{
        _cleanup_close_ int oldroot = -1, newroot = -1;

        if (no_pivot) {
                if (chdir(rootfs) < 0)
                        return berth_error(err, errno, "chdir %s", rootfs);
                if (mount(rootfs, "/", NULL, MS_MOVE, NULL) < 0)
                        return berth_error(err, errno, "move rootfs to /");
                if (chroot(".") < 0)
                        return berth_error(err, errno, "chroot");
                return chdir("/") < 0 ? berth_error(err, errno, "chdir /") : 0;
        }
        oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        newroot = open(rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        if (oldroot < 0 || newroot < 0)
                return berth_error(err, errno, "open root directories");
        if (fchdir(newroot) < 0)
                return berth_error(err, errno, "chdir %s", rootfs);
        /* pivot_root(".", ".") stacks the old root under the new one */
        if (syscall(SYS_pivot_root, ".", ".") < 0)
                return berth_error(err, errno, "pivot_root %s", rootfs);
        if (fchdir(oldroot) < 0)
                return berth_error(err, errno, "chdir to old root");
        if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
                return berth_error(err, errno, "make old root rslave");
        if (umount2(".", MNT_DETACH) < 0)
                return berth_error(err, errno, "unmount old root");
        if (chdir("/") < 0)
                return berth_error(err, errno, "chdir /");
        return 0;
}

static int mask_path(int rootfd, const char *path, berth_error_t **err)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *target = NULL;
        struct stat st;
        _cleanup_error_ berth_error_t *ignored = NULL;

        fd = resolve_in_root(rootfd, path, false, false, &ignored);
        if (fd < 0)
                return 0; /* nothing to mask */
        if (fstat(fd, &st) < 0)
                return berth_error(err, errno, "stat masked path %s", path);
        target = fd_path(fd);
        if (S_ISDIR(st.st_mode)) {
                if (mount("tmpfs", target, "tmpfs", MS_RDONLY, "size=0k") < 0)
                        return berth_error(err, errno, "mask %s", path);
        } else if (mount("/dev/null", target, NULL, MS_BIND, NULL) < 0) {
                return berth_error(err, errno, "mask %s", path);
        }
        return 0;
}

static int readonly_path(int rootfd, const char *path, berth_error_t **err)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *target = NULL;
        _cleanup_error_ berth_error_t *ignored = NULL;

        fd = resolve_in_root(rootfd, path, false, false, &ignored);
        if (fd < 0)
                return 0;
        target = fd_path(fd);
        if (mount(target, target, NULL, MS_BIND | MS_REC, NULL) < 0)
                return berth_error(err, errno, "bind read-only path %s", path);
        /* the new bind is a fresh mount on top: reopen it to remount that one */
        close(steal_fd(&fd));
        fd = resolve_in_root(rootfd, path, false, false, err);
        if (fd < 0)
                return fd;
        free(target);
        target = fd_path(fd);
        return remount_bind(target, path, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, 0, err);
}

int rootfs_finish(json_t *config, berth_error_t **err)
{
        json_t *linux_ = json_object_get(config, "linux"), *v;
        const char *prop_name = json_path_str(linux_, NULL, "rootfsPropagation", NULL);
        _cleanup_close_ int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        size_t i;
        int ret;

        if (rootfd < 0)
                return berth_error(err, errno, "open /");
        json_array_foreach(json_object_get(linux_, "readonlyPaths"), i, v)
                if ((ret = readonly_path(rootfd, json_string_value(v), err)) < 0)
                        return ret;
        json_array_foreach(json_object_get(linux_, "maskedPaths"), i, v)
                if ((ret = mask_path(rootfd, json_string_value(v), err)) < 0)
                        return ret;
        if (json_is_true(json_path(config, "root", "readonly", NULL)) &&
            (ret = remount_bind("/", "/", MS_RDONLY, 0, err)) < 0)
                return ret;
        if (prop_name && mount(NULL, "/", NULL, mount_propagation_parse(prop_name), NULL) < 0)
                return berth_error(err, errno, "set rootfsPropagation %s", prop_name);
        return 0;
}
