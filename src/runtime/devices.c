#include "runtime/devices.h"
#include "runtime/mount.h"
#include "oci/config.h"
#include "util/util.h"
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

static const struct {
        const char *path;
        unsigned major, minor;
} default_devices[] = {
        { "/dev/null", 1, 3 },   { "/dev/zero", 1, 5 },    { "/dev/full", 1, 7 },
        { "/dev/random", 1, 8 }, { "/dev/urandom", 1, 9 }, { "/dev/tty", 5, 0 },
};

static const struct {
        const char *link, *target;
} default_links[] = {
        { "/dev/fd", "/proc/self/fd" },         { "/dev/stdin", "/proc/self/fd/0" },
        { "/dev/stdout", "/proc/self/fd/1" },   { "/dev/stderr", "/proc/self/fd/2" },
        { "/dev/ptmx", "pts/ptmx" },            { "/dev/core", "/proc/kcore" },
};

/* Split "/dev/x/y" into an O_PATH fd of "/dev/x" (created) and "y". */
static int open_parent(int rootfd, const char *path, const char **name, berth_error_t **err)
{
        _cleanup_free_ char *dir = xstrdup(path);
        char *slash = strrchr(dir, '/');

        *name = strrchr(path, '/') + 1;
        if (slash == dir)
                return resolve_in_root(rootfd, "/", false, false, err);
        *slash = '\0';
        return resolve_in_root(rootfd, dir, true, false, err);
}

/* In a user namespace mknod is refused: bind the host's node instead. */
static int bind_host_device(int rootfd, const char *path, berth_error_t **err)
{
        _cleanup_close_ int fd = resolve_in_root(rootfd, path, true, true, err);
        _cleanup_free_ char *target = NULL;

        if (fd < 0)
                return fd;
        target = xasprintf("/proc/self/fd/%d", fd);
        if (mount(path, target, NULL, MS_BIND, NULL) < 0)
                return berth_error(err, errno, "bind device %s", path);
        return 0;
}

static int make_node(int rootfd, const char *path, mode_t mode, dev_t dev, uid_t uid, gid_t gid, bool userns,
                     berth_error_t **err)
{
        _cleanup_close_ int parent = -1;
        const char *name;

        if (userns)
                return bind_host_device(rootfd, path, err);
        if ((parent = open_parent(rootfd, path, &name, err)) < 0)
                return parent;
        _cleanup_close_ int dirfd = openat(parent, ".", O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return berth_error(err, errno, "open parent of %s", path);
        if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
                return berth_error(err, errno, "replace %s", path);
        if (mknodat(dirfd, name, mode, dev) < 0)
                return berth_error(err, errno, "mknod %s", path);
        /* mknod honours the umask; the config's mode is meant exactly */
        if (fchmodat(dirfd, name, mode & 07777, 0) < 0)
                return berth_error(err, errno, "chmod %s", path);
        if (fchownat(dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
                return berth_error(err, errno, "chown %s", path);
        return 0;
}

static int device_type_mode(const char *type, mode_t *mode)
{
        switch (type[0]) {
        case 'c':
        case 'u':
                *mode = S_IFCHR;
                return 0;
        case 'b':
                *mode = S_IFBLK;
                return 0;
        case 'p':
                *mode = S_IFIFO;
                return 0;
        default:
                return -1;
        }
}

static int create_config_device(int rootfd, json_t *d, bool userns, berth_error_t **err)
{
        const char *path = json_path_str(d, NULL, "path", NULL);
        const char *type = json_path_str(d, "", "type", NULL);
        json_t *fm = json_object_get(d, "fileMode");
        mode_t mode;

        if (path == NULL || path[0] != '/')
                return berth_error(err, 0, "linux.devices: path \"%s\" is not absolute", path ? path : "");
        if (device_type_mode(type, &mode) < 0)
                return berth_error(err, 0, "linux.devices: %s: unknown type \"%s\"", path, type);
        mode |= json_is_integer(fm) ? (mode_t)json_integer_value(fm) & 07777 : 0666;
        return make_node(rootfd, path, mode,
                         makedev((unsigned)json_integer_value(json_object_get(d, "major")),
                                 (unsigned)json_integer_value(json_object_get(d, "minor"))),
                         (uid_t)json_integer_value(json_object_get(d, "uid")),
                         (gid_t)json_integer_value(json_object_get(d, "gid")), userns, err);
}

static int create_defaults(int rootfd, bool userns, berth_error_t **err)
{
        int ret;

        for (size_t i = 0; i < ARRAY_SIZE(default_devices); i++)
                if ((ret = make_node(rootfd, default_devices[i].path, S_IFCHR | 0666,
                                     makedev(default_devices[i].major, default_devices[i].minor), 0, 0, userns,
                                     err)) < 0)
                        return ret;
        for (size_t i = 0; i < ARRAY_SIZE(default_links); i++) {
                _cleanup_close_ int parent = -1;
                const char *name;
                if ((parent = open_parent(rootfd, default_links[i].link, &name, err)) < 0)
                        return parent;
                if (symlinkat(default_links[i].target, parent, name) < 0 && errno != EEXIST)
                        return berth_error(err, errno, "symlink %s", default_links[i].link);
        }
        return 0;
}

int devices_create(int rootfd, json_t *devices, bool with_defaults, bool userns, berth_error_t **err)
{
        mode_t old = umask(0);
        json_t *d;
        size_t i;
        int ret = 0;

        if (with_defaults)
                ret = create_defaults(rootfd, userns, err);
        json_array_foreach(devices, i, d) {
                if (ret < 0)
                        break;
                ret = create_config_device(rootfd, d, userns, err);
        }
        umask(old);
        return ret;
}

static json_t *rule(const char *type, long long major, long long minor, const char *access)
{
        json_t *r = json_pack("{s:b, s:s, s:s}", "allow", 1, "type", type, "access", access);

        if (major >= 0)
                json_object_set_new(r, "major", json_integer(major));
        if (minor >= 0)
                json_object_set_new(r, "minor", json_integer(minor));
        return r;
}

json_t *devices_with_default_rules(json_t *resources, json_t *linux_devices)
{
        json_t *out = resources ? json_deep_copy(resources) : json_object();
        json_t *rules = json_object_get(out, "devices"), *d;
        size_t i;

        if (!json_is_array(rules))
                json_object_set_new(out, "devices", rules = json_array());
        json_array_append_new(rules, rule("c", -1, -1, "m"));
        json_array_append_new(rules, rule("b", -1, -1, "m"));
        for (size_t k = 0; k < ARRAY_SIZE(default_devices); k++)
                json_array_append_new(rules, rule("c", default_devices[k].major, default_devices[k].minor, "rwm"));
        json_array_append_new(rules, rule("c", 5, 1, "rwm"));   /* /dev/console */
        json_array_append_new(rules, rule("c", 5, 2, "rwm"));   /* /dev/ptmx */
        json_array_append_new(rules, rule("c", 136, -1, "rwm")); /* /dev/pts/N */
        json_array_foreach(linux_devices, i, d) {
                const char *type = json_path_str(d, "c", "type", NULL);
                json_array_append_new(rules, rule(type[0] == 'u' ? "c" : type,
                                                  json_integer_value(json_object_get(d, "major")),
                                                  json_integer_value(json_object_get(d, "minor")), "rwm"));
        }
        return out;
}
