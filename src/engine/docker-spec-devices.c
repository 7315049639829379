/* Devices: the device cgroup (deny all, then what HostConfig.Devices and
 * DeviceCgroupRules allow; everything for Privileged) and linux.devices,
 * the nodes the runtime creates, taken from the host: the paths in
 * HostConfig.Devices (a directory gives every device under it, as Docker),
 * or all of the host's /dev for Privileged. */
#include "engine/docker-spec-internal.h"
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

/* Bounds on a directory walk: /dev has a few hundred entries; a mapping
 * of "/" must not walk the whole host. */
#define WALK_MAX_ENTRIES 20000
#define WALK_MAX_DEPTH 8

struct dev_walk {
        json_t *devices;        /* linux.devices */
        json_t *rules;          /* resources.devices; NULL: Privileged allows all */
        const char *access;     /* "rwm" or a part of it */
        size_t visited;
        const char *field;      /* for errors */
};

static void add_device(struct dev_walk *w, const char *path, const struct stat *st)
{
        const char *type = S_ISBLK(st->st_mode) ? "b" : "c";
        json_int_t maj = (json_int_t)major(st->st_rdev), min = (json_int_t)minor(st->st_rdev);

        json_array_append_new(w->devices, must(json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I}", "path", path, "type",
                                                         type, "major", maj, "minor", min, "fileMode",
                                                         (json_int_t)(st->st_mode & 0777), "uid",
                                                         (json_int_t)st->st_uid, "gid", (json_int_t)st->st_gid)));
        if (w->rules)
                json_array_append_new(w->rules, must(json_pack("{s:b, s:s, s:I, s:I, s:s}", "allow", 1, "type", type,
                                                               "major", maj, "minor", min, "access", w->access)));
}

/* Directories runc and Docker leave out of a privileged container's /dev:
 * its own pts, shm, mqueue, the /proc links, and container managers'. */
static bool skip_dir(const char *name)
{
        static const char *const names[] = { "pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev" };

        for (size_t i = 0; i < ARRAY_SIZE(names); i++)
                if (strcmp(name, names[i]) == 0)
                        return true;
        return false;
}

static int walk(struct dev_walk *w, int dirfd, const char *prefix, int depth, berth_error_t **err);

static int walk_entry(struct dev_walk *w, int dirfd, const char *name, const char *prefix, int depth,
                      berth_error_t **err)
{
        _cleanup_free_ char *path = xasprintf("%s/%s", strcmp(prefix, "/") == 0 ? "" : prefix, name);
        struct stat st;

        if (++w->visited > WALK_MAX_ENTRIES)
                return berth_error(err, 0, "%s: more than %d entries under the device directory", w->field,
                                   WALK_MAX_ENTRIES);
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return 0;       /* gone meanwhile: as Docker, skip it */
        if (S_ISDIR(st.st_mode) && !skip_dir(name) && depth < WALK_MAX_DEPTH) {
                _cleanup_close_ int sub = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                return sub < 0 ? 0 : walk(w, sub, path, depth + 1, err);
        }
        /* the runtime makes its own console and ptmx */
        if ((S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) && strcmp(name, "console") != 0 && strcmp(name, "ptmx") != 0)
                add_device(w, path, &st);
        return 0;
}

static int walk(struct dev_walk *w, int dirfd, const char *prefix, int depth, berth_error_t **err)
{
        int fd = dup(dirfd);
        DIR *d = fd < 0 ? NULL : fdopendir(fd);
        struct dirent *e;
        int ret = 0;

        if (d == NULL) {
                if (fd >= 0)
                        close(fd);
                return 0;
        }
        while (ret == 0 && (e = readdir(d)))
                if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                        ret = walk_entry(w, dirfd, e->d_name, prefix, depth, err);
        closedir(d);
        return ret;
}

/* A host path for the container: a device node, or a directory of them.
 * Docker follows a symlink given here (/dev/disk/by-id/...). */
static int map_path(struct dev_walk *w, const char *host, const char *in_container, berth_error_t **err)
{
        _cleanup_free_ char *q = printable(host);
        _cleanup_close_ int fd = -1;
        struct stat st;

        if (stat(host, &st) < 0)
                return berth_error(err, errno, "%s: error gathering device information while adding custom device %s",
                                   w->field, q);
        if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
                add_device(w, in_container, &st);
                return 0;
        }
        if (!S_ISDIR(st.st_mode))
                return berth_error(err, 0, "%s: error gathering device information while adding custom device %s: "
                                   "not a device node", w->field, q);
        fd = open(host, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return berth_error(err, errno, "%s: open %s", w->field, q);
        return walk(w, fd, in_container, 0, err);
}

static bool access_valid(const char *a)
{
        size_t n = strlen(a);

        if (n == 0 || n > 3 || strspn(a, "rwm") != n)
                return false;
        for (size_t i = 0; i < n; i++)
                if (strchr(a + i + 1, a[i]))
                        return false;
        return true;
}

/* {"PathOnHost": "/dev/fuse", "PathInContainer": "", "CgroupPermissions": "rwm"} */
static int mapping(struct spec_ctx *ctx, struct dev_walk *w, json_t *d, size_t i, berth_error_t **err)
{
        _cleanup_free_ char *field = xasprintf("HostConfig.Devices[%zu]", i), *where = xasprintf("%s.", field);
        _cleanup_free_ char *dest = NULL;
        const char *host, *in, *perms;
        int ret;

        if (!json_is_object(d))
                return berth_error(err, 0, "%s: expected an object", field);
        if ((ret = dj_string(d, where, "PathOnHost", &host, err)) < 0 ||
            (ret = dj_string(d, where, "PathInContainer", &in, err)) < 0 ||
            (ret = dj_string(d, where, "CgroupPermissions", &perms, err)) < 0)
                return ret;
        if (host[0] == '\0')
                return berth_error(err, 0, "%s.PathOnHost: must not be empty", field);
        in = in[0] ? in : host;
        if (in[0] != '/') {
                _cleanup_free_ char *q = printable(in);
                return berth_error(err, 0, "%s.PathInContainer: %s is not an absolute path", field, q);
        }
        perms = perms[0] ? perms : "rwm";
        if (!access_valid(perms)) {
                _cleanup_free_ char *q = printable(perms);
                return berth_error(err, 0, "%s: invalid device mode: %s", field, q);
        }
        dest = path_clean(in);
        w->field = field;
        w->access = ctx->privileged ? "rwm" : perms;
        ret = map_path(w, host, dest, err);
        w->field = NULL;
        return ret;
}

static bool parse_dev_number(const char *s, size_t len, long long *out)
{
        long long v = 0;

        if (len == 1 && s[0] == '*')
                return *out = -1, true;
        if (len == 0 || len > 10)
                return false;
        for (size_t i = 0; i < len; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return false;
                v = v * 10 + (s[i] - '0');
        }
        *out = v;
        return v <= 0xffffffffLL;
}

/* "c 1:3 mr", "a *:* rwm": Docker's --device-cgroup-rule. */
static int cgroup_rule(json_t *rules, const char *rule, size_t i, berth_error_t **err)
{
        const char *colon = strchr(rule, ':'), *space2 = colon ? strchr(colon, ' ') : NULL;
        long long maj, min;
        json_t *r;

        if (!(rule[0] == 'a' || rule[0] == 'b' || rule[0] == 'c') || rule[1] != ' ' || colon == NULL || space2 == NULL ||
            !parse_dev_number(rule + 2, (size_t)(colon - rule - 2), &maj) ||
            !parse_dev_number(colon + 1, (size_t)(space2 - colon - 1), &min) || !access_valid(space2 + 1)) {
                _cleanup_free_ char *q = printable(rule);
                return berth_error(err, 0, "HostConfig.DeviceCgroupRules[%zu]: invalid device cgroup format '%s'", i, q);
        }
        char type[2] = { rule[0], '\0' };

        r = must(json_pack("{s:b, s:s}", "allow", 1, "type", type));
        if (maj >= 0)
                json_object_set_new(r, "major", must(json_integer(maj)));
        if (min >= 0)
                json_object_set_new(r, "minor", must(json_integer(min)));
        json_object_set_new(r, "access", must(json_string(space2 + 1)));
        json_array_append_new(rules, r);
        return 0;
}

static int cgroup_rules(struct spec_ctx *ctx, json_t *rules, berth_error_t **err)
{
        _cleanup_free_ const char **list = NULL;
        json_t *requests;
        int ret;

        if ((ret = dj_strv(ctx->hc, "HostConfig.", "DeviceCgroupRules", false, &list, err)) < 0 ||
            (ret = dj_array(ctx->hc, "HostConfig.", "DeviceRequests", &requests, err)) < 0)
                return ret;
        if (json_array_size(requests) > 0)
                return berth_error(err, 0, "HostConfig.DeviceRequests: device requests (--gpus) are not supported");
        for (size_t i = 0; list && list[i]; i++)
                if ((ret = cgroup_rule(rules, list[i], i, err)) < 0)
                        return ret;
        return 0;
}

static int host_devices(struct spec_ctx *ctx, struct dev_walk *w, berth_error_t **err)
{
        const char *dir = ctx->in->host_dev ? ctx->in->host_dev : "/dev";
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0)
                return berth_error(err, errno, "Privileged: open %s", dir);
        w->field = "Privileged";
        w->access = "rwm";
        return walk(w, fd, "/dev", 0, err);
}

int spec_devices(struct spec_ctx *ctx, json_t *resources, berth_error_t **err)
{
        json_t *rules = must(json_pack("[{s:b, s:s}]", "allow", 0, "access", "rwm"));
        json_t *devices = must(json_array()), *list, *d;
        struct dev_walk w = { .devices = devices, .rules = rules };
        size_t i;
        int ret;

        json_object_set_new(resources, "devices", rules);
        json_object_set_new(json_object_get(ctx->spec, "linux"), "devices", devices);
        if ((ret = dj_array(ctx->hc, "HostConfig.", "Devices", &list, err)) < 0)
                return ret;
        if (ctx->privileged) {
                json_array_append_new(rules, must(json_pack("{s:b, s:s}", "allow", 1, "access", "rwm")));
                w.rules = NULL;
                if ((ret = host_devices(ctx, &w, err)) < 0)
                        return ret;
        }
        json_array_foreach(list, i, d)
                if ((ret = mapping(ctx, &w, d, i, err)) < 0)
                        return ret;
        if (json_array_size(devices) == 0)
                json_object_del(json_object_get(ctx->spec, "linux"), "devices");
        if (ctx->privileged)
                return 0;
        return cgroup_rules(ctx, rules, err);
}
