/* The mounts a create body asks for: HostConfig.Binds ("src:dst[:mode]"),
 * HostConfig.Mounts (the --mount objects), HostConfig.Tmpfs, and an
 * anonymous volume for each Config.Volumes / image Volumes path no other
 * mount covers.  Validated with Docker's rules and words; checking that a
 * bind source exists is left to the engine (docker_mount.must_exist). */
#include "engine/docker-spec-internal.h"

/* No real container has this many; it bounds the work a body can ask for. */
#define MOUNTS_MAX 4096

struct mount_list {
        struct docker_mount *v;
        size_t n;
        json_t *seen;   /* destination -> true */
};

static const char *const type_names[] = {
        [DOCKER_MOUNT_BIND] = "bind", [DOCKER_MOUNT_VOLUME] = "volume", [DOCKER_MOUNT_TMPFS] = "tmpfs",
};

void docker_mounts_free(struct docker_mount *m, size_t n)
{
        for (size_t i = 0; m && i < n; i++) {
                free(m[i].destination);
                free(m[i].source);
                free(m[i].host_path);
                free(m[i].propagation);
                free(m[i].mode);
                strv_free_owned(m[i].tmpfs_options);
                free(m[i].subpath);
        }
        free(m);
}

static int mount_config_error(berth_error_t **err, const char *field, const char *type, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

/* "<field>: invalid mount config for type "bind": <why>", Docker's form. */
static int mount_config_error(berth_error_t **err, const char *field, const char *type, const char *fmt, ...)
{
        _cleanup_free_ char *why = NULL, *qtype = printable(type);
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&why, fmt, ap) < 0)
                abort();
        va_end(ap);
        return berth_error(err, 0, "%s: invalid mount config for type \"%s\": %s", field, qtype, why);
}

/* Target: set, absolute, not "/", not mounted twice.  *clean gets the
 * cleaned path. */
static int check_target(struct mount_list *l, const char *field, const char *type, const char *target, char **clean,
                        berth_error_t **err)
{
        _cleanup_free_ char *q = printable(target), *c = NULL;

        if (target[0] == '\0')
                return mount_config_error(err, field, type, "field Target must not be empty");
        if (target[0] != '/')
                return mount_config_error(err, field, type, "invalid mount path: '%s' mount path must be absolute", q);
        c = path_clean(target);
        if (strcmp(c, "/") == 0)
                return mount_config_error(err, field, type, "invalid specification: destination can't be '/'");
        if (json_object_get(l->seen, c)) {
                _cleanup_free_ char *qc = printable(c);
                return berth_error(err, 0, "%s: Duplicate mount point: %s", field, qc);
        }
        if (l->n >= MOUNTS_MAX)
                return berth_error(err, 0, "%s: too many mounts (at most %d)", field, MOUNTS_MAX);
        json_object_set_new(l->seen, c, json_true());
        *clean = steal_pointer(&c);
        return 0;
}

static struct docker_mount *mount_add(struct mount_list *l, enum docker_mount_type type, char *destination)
{
        struct docker_mount *m;

        l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
        m = &l->v[l->n++];
        *m = (struct docker_mount){ .type = type, .destination = destination, .propagation = xstrdup(""),
                                    .mode = xstrdup("") };
        return m;
}

/* Docker's local volume names: [a-zA-Z0-9][a-zA-Z0-9_.-]+ */
static int check_volume_name(const char *field, const char *name, berth_error_t **err)
{
        bool ok = strlen(name) >= 2;

        for (size_t i = 0; ok && name[i]; i++) {
                char c = name[i];
                ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     (i > 0 && (c == '_' || c == '.' || c == '-'));
        }
        if (!ok) {
                _cleanup_free_ char *q = printable(name);
                return berth_error(err, 0, "%s: \"%s\" includes invalid characters for a local volume name, only "
                                   "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host "
                                   "directory, use absolute path", field, q);
        }
        return 0;
}

static bool is_propagation(const char *s)
{
        static const char *const modes[] = { "private", "rprivate", "slave", "rslave", "shared", "rshared" };

        for (size_t i = 0; i < ARRAY_SIZE(modes); i++)
                if (strcmp(s, modes[i]) == 0)
                        return true;
        return false;
}

struct bind_mode {
        bool readonly, nocopy;
        const char *propagation;        /* NULL when not given; points into the mode string copy */
};

/* Docker's ValidMountMode: a comma list with at most one of each kind
 * (rw|ro, z|Z, a propagation, nocopy, consistent|cached|delegated). */
static bool parse_mode(char *mode, struct bind_mode *out)
{
        int rw = 0, label = 0, prop = 0, copy = 0, consistency = 0;
        char *save = NULL;

        *out = (struct bind_mode){ 0 };
        if (mode[0] == '\0')
                return true;
        for (char *o = strtok_r(mode, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
                if (strcmp(o, "ro") == 0 || strcmp(o, "rw") == 0) {
                        rw++;
                        out->readonly = strcmp(o, "ro") == 0;
                } else if (strcmp(o, "z") == 0 || strcmp(o, "Z") == 0) {
                        label++;        /* SELinux relabelling: no SELinux here */
                } else if (is_propagation(o)) {
                        prop++;
                        out->propagation = o;
                } else if (strcmp(o, "nocopy") == 0) {
                        copy++;
                        out->nocopy = true;
                } else if (strcmp(o, "consistent") == 0 || strcmp(o, "cached") == 0 || strcmp(o, "delegated") == 0) {
                        consistency++;  /* for Docker Desktop's file sharing; nothing on Linux */
                } else {
                        return false;
                }
        }
        return rw <= 1 && label <= 1 && prop <= 1 && copy <= 1 && consistency <= 1;
}

static bool mode_valid(const char *s)
{
        _cleanup_free_ char *copy = xstrdup(s);
        struct bind_mode mode;

        return parse_mode(copy, &mode);
}

struct bind_spec {
        const char *src, *dst, *mode;
        size_t n;       /* how many parts were given */
};

/* "dst", "src:dst" or "src:dst:mode" */
static int split_bind(const char *field, const char *raw, char *copy, struct bind_spec *b, berth_error_t **err)
{
        char *parts[3] = { copy };
        size_t n = 1;

        for (char *p = copy; *p; p++) {
                if (*p != ':')
                        continue;
                if (n == 3)
                        break;
                *p = '\0';
                parts[n++] = p + 1;
        }
        if (parts[0][0] == '\0' || (n == 3 && strchr(parts[2], ':'))) {
                _cleanup_free_ char *q = printable(raw);
                return berth_error(err, 0, "%s: invalid volume specification: '%s'", field, q);
        }
        *b = (struct bind_spec){ .src = n >= 2 ? parts[0] : "", .dst = n >= 2 ? parts[1] : parts[0],
                                 .mode = n == 3 ? parts[2] : "", .n = n };
        return 0;
}

static int invalid_mode(const char *field, const char *mode, berth_error_t **err)
{
        _cleanup_free_ char *q = printable(mode);

        return berth_error(err, 0, "%s: invalid mode: %s", field, q);
}

static int bind_string(struct mount_list *l, const char *field, const char *raw, berth_error_t **err)
{
        _cleanup_free_ char *copy = xstrdup(raw), *mode_copy = NULL, *dst = NULL;
        struct bind_spec b = { 0 };
        struct bind_mode mode;
        enum docker_mount_type type;
        struct docker_mount *m;
        int ret;

        if ((ret = split_bind(field, raw, copy, &b, err)) < 0)
                return ret;
        /* "/foo:rw" is a destination and a mode: a volume needs a source */
        if (b.n == 2 && b.dst[0] && mode_valid(b.dst))
                return invalid_mode(field, b.dst, err);
        mode_copy = xstrdup(b.mode);
        if (!parse_mode(mode_copy, &mode))
                return invalid_mode(field, b.mode, err);
        type = b.src[0] == '/' ? DOCKER_MOUNT_BIND : DOCKER_MOUNT_VOLUME;
        if ((ret = check_target(l, field, type_names[type], b.dst, &dst, err)) < 0)
                return ret;
        if (type == DOCKER_MOUNT_BIND && mode.nocopy)
                return mount_config_error(err, field, "bind", "field VolumeOptions must not be specified");
        if (type == DOCKER_MOUNT_VOLUME && mode.propagation)
                return mount_config_error(err, field, "volume", "field BindOptions must not be specified");
        if (type == DOCKER_MOUNT_VOLUME && b.src[0] && (ret = check_volume_name(field, b.src, err)) < 0)
                return ret;
        m = mount_add(l, type, steal_pointer(&dst));
        m->source = b.src[0] ? (type == DOCKER_MOUNT_BIND ? path_clean(b.src) : xstrdup(b.src)) : NULL;
        m->anonymous = type == DOCKER_MOUNT_VOLUME && b.src[0] == '\0';
        m->readonly = mode.readonly;
        m->nocopy = mode.nocopy;
        free(m->mode);
        m->mode = xstrdup(b.mode);
        if (type == DOCKER_MOUNT_BIND) {
                free(m->propagation);
                m->propagation = xstrdup(mode.propagation ? mode.propagation : "rprivate");
        }
        return 0;
}

static int binds(struct mount_list *l, json_t *hc, berth_error_t **err)
{
        _cleanup_free_ const char **list = NULL;
        int ret;

        if ((ret = dj_strv(hc, "HostConfig.", "Binds", false, &list, err)) < 0)
                return ret;
        for (size_t i = 0; list && list[i]; i++) {
                _cleanup_free_ char *field = xasprintf("HostConfig.Binds[%zu]", i);
                if ((ret = bind_string(l, field, list[i], err)) < 0)
                        return ret;
        }
        return 0;
}

struct api_mount {
        const char *field, *type, *source;
        json_t *bind_opts, *vol_opts, *tmpfs_opts;
        bool readonly;
};

static int api_bind(struct mount_list *l, const struct api_mount *a, char *dst, berth_error_t **err)
{
        _cleanup_free_ char *where = xasprintf("%s.BindOptions.", a->field), *q = printable(a->source);
        _cleanup_free_ char *owned_dst = dst;
        const char *prop;
        bool non_recursive, create;
        struct docker_mount *m;
        int ret;

        if ((ret = dj_string(a->bind_opts, where, "Propagation", &prop, err)) < 0 ||
            (ret = dj_bool(a->bind_opts, where, "NonRecursive", &non_recursive, err)) < 0 ||
            (ret = dj_bool(a->bind_opts, where, "CreateMountpoint", &create, err)) < 0)
                return ret;
        if (a->source[0] == '\0')
                return mount_config_error(err, a->field, "bind", "field Source must not be empty");
        if (prop[0] && !is_propagation(prop)) {
                _cleanup_free_ char *qp = printable(prop);
                return mount_config_error(err, a->field, "bind", "invalid propagation mode: %s", qp);
        }
        if (a->vol_opts)
                return mount_config_error(err, a->field, "bind", "field VolumeOptions must not be specified");
        if (a->tmpfs_opts)
                return mount_config_error(err, a->field, "bind", "field TmpfsOptions must not be specified");
        if (a->source[0] != '/')
                return mount_config_error(err, a->field, "bind", "invalid mount path: '%s' mount path must be absolute", q);
        m = mount_add(l, DOCKER_MOUNT_BIND, steal_pointer(&owned_dst));
        m->source = path_clean(a->source);
        m->readonly = a->readonly;
        m->must_exist = !create;
        m->non_recursive = non_recursive;
        free(m->propagation);
        m->propagation = xstrdup(prop[0] ? prop : "rprivate");
        return 0;
}

/* Go's filepath.IsLocal: relative, and no ".." takes it outside. */
static bool path_is_local(const char *p)
{
        int depth = 0;

        if (p[0] == '/')
                return false;
        while (*p) {
                size_t n = strcspn(p, "/");
                if (n == 2 && p[0] == '.' && p[1] == '.')
                        depth--;
                else if (n > 0 && !(n == 1 && p[0] == '.'))
                        depth++;
                if (depth < 0)
                        return false;
                p += n + (p[n] == '/');
        }
        return true;
}

static int api_volume(struct mount_list *l, const struct api_mount *a, char *dst, berth_error_t **err)
{
        _cleanup_free_ char *where = xasprintf("%s.VolumeOptions.", a->field), *dwhere = NULL;
        _cleanup_free_ char *owned_dst = dst;
        const char *subpath, *driver = "";
        json_t *drv;
        bool nocopy;
        struct docker_mount *m;
        int ret;

        dwhere = xasprintf("%sDriverConfig.", where);
        if ((ret = dj_string(a->vol_opts, where, "Subpath", &subpath, err)) < 0 ||
            (ret = dj_bool(a->vol_opts, where, "NoCopy", &nocopy, err)) < 0 ||
            (ret = dj_object(a->vol_opts, where, "DriverConfig", &drv, err)) < 0 ||
            (ret = dj_string(drv, dwhere, "Name", &driver, err)) < 0)
                return ret;
        if (a->bind_opts)
                return mount_config_error(err, a->field, "volume", "field BindOptions must not be specified");
        if (a->tmpfs_opts)
                return mount_config_error(err, a->field, "volume", "field TmpfsOptions must not be specified");
        if (driver[0] && strcmp(driver, "local") != 0) {
                _cleanup_free_ char *q = printable(driver);
                return berth_error(err, 0, "%s: volume driver %s is not supported (only \"local\")", a->field, q);
        }
        if (subpath[0] && a->source[0] == '\0')
                return mount_config_error(err, a->field, "volume", "must not set Subpath when using anonymous volumes");
        if (subpath[0] && !path_is_local(subpath))
                return mount_config_error(err, a->field, "volume", "subpath must be a relative path within the volume");
        if (a->readonly && a->source[0] == '\0')
                return mount_config_error(err, a->field, "volume",
                                          "must not set ReadOnly mode when using anonymous volumes");
        if (a->source[0] && (ret = check_volume_name(a->field, a->source, err)) < 0)
                return ret;
        m = mount_add(l, DOCKER_MOUNT_VOLUME, steal_pointer(&owned_dst));
        m->source = a->source[0] ? xstrdup(a->source) : NULL;
        m->anonymous = a->source[0] == '\0';
        m->readonly = a->readonly;
        m->nocopy = nocopy;
        m->subpath = subpath[0] ? xstrdup(subpath) : NULL;
        return 0;
}

/* TmpfsOptions.Options: [["noexec"], ["uid", "1000"]] (API 1.46). */
static int tmpfs_extra_options(const char *field, json_t *list, char ***opts, size_t *n, berth_error_t **err)
{
        json_t *o;
        size_t i;

        json_array_foreach(list, i, o) {
                const char *k, *v = NULL;
                _cleanup_free_ char *f = xasprintf("%s.TmpfsOptions.Options[%zu]", field, i);
                if (!json_is_array(o) || json_array_size(o) < 1 || json_array_size(o) > 2)
                        return berth_error(err, 0, "%s: expected [flag] or [key, value]", f);
                if (dj_str_value(json_array_get(o, 0), f, &k, err) < 0 ||
                    (json_array_size(o) == 2 && dj_str_value(json_array_get(o, 1), f, &v, err) < 0))
                        return -1;
                *opts = xrealloc(*opts, (*n + 2) * sizeof(char *));
                (*opts)[(*n)++] = v ? xasprintf("%s=%s", k, v) : xstrdup(k);
                (*opts)[*n] = NULL;
        }
        return 0;
}

/* Docker's ConvertTmpfsOptions: ro, mode=<octal>, size=<n>[kmg] in the
 * largest unit that divides it. */
static char *tmpfs_size(long long bytes)
{
        static const struct { const char *suffix; long long div; } units[] = {
                { "g", 1LL << 30 }, { "m", 1LL << 20 }, { "k", 1LL << 10 },
        };

        for (size_t i = 0; i < ARRAY_SIZE(units); i++)
                if (bytes % units[i].div == 0)
                        return xasprintf("size=%lld%s", bytes / units[i].div, units[i].suffix);
        return xasprintf("size=%lld", bytes);
}

static int tmpfs_add(struct mount_list *l, const char *field, char *dst, char **data, size_t n_data,
                     bool readonly, berth_error_t **err)
{
        _cleanup_free_ char *owned_dst = dst;
        _cleanup_free_ const char **all = xcalloc(n_data + 6, sizeof(char *));
        static const char *const defaults[] = { "noexec", "nosuid", "nodev", "rprivate" };
        struct docker_mount *m;
        char **merged;
        size_t k = 0;
        int ret;

        for (size_t i = 0; i < ARRAY_SIZE(defaults); i++)
                all[k++] = defaults[i];
        for (size_t i = 0; i < n_data; i++)
                all[k++] = data[i];
        if ((ret = tmpfs_options_merge(all, k, &merged, err)) < 0)
                return berth_error_wrap(err, "%s", field);
        m = mount_add(l, DOCKER_MOUNT_TMPFS, steal_pointer(&owned_dst));
        m->tmpfs_options = merged;
        m->readonly = readonly;
        for (size_t i = 0; merged[i]; i++)
                if (strcmp(merged[i], "ro") == 0)
                        m->readonly = true;
        return 0;
}

static int api_tmpfs(struct mount_list *l, const struct api_mount *a, char *dst, berth_error_t **err)
{
        _cleanup_free_ char *where = xasprintf("%s.TmpfsOptions.", a->field), *owned_dst = dst;
        _cleanup_strv_ char **data = xcalloc(4, sizeof(char *));
        json_t *extra;
        long long size, mode;
        size_t n = 0;
        int ret;

        if ((ret = dj_int(a->tmpfs_opts, where, "SizeBytes", &size, err)) < 0 ||
            (ret = dj_int(a->tmpfs_opts, where, "Mode", &mode, err)) < 0 ||
            (ret = dj_array(a->tmpfs_opts, where, "Options", &extra, err)) < 0)
                return ret;
        if (a->bind_opts)
                return mount_config_error(err, a->field, "tmpfs", "field BindOptions must not be specified");
        if (a->vol_opts)
                return mount_config_error(err, a->field, "tmpfs", "field VolumeOptions must not be specified");
        if (a->source[0])
                return mount_config_error(err, a->field, "tmpfs", "field Source must not be specified");
        if (size < 0)
                return mount_config_error(err, a->field, "tmpfs", "invalid SizeBytes %lld", size);
        if (mode < 0 || mode > 07777)
                return mount_config_error(err, a->field, "tmpfs", "invalid Mode %lld", mode);
        if (a->readonly)
                data[n++] = xstrdup("ro");
        if (mode)
                data[n++] = xasprintf("mode=%llo", mode);
        if (size)
                data[n++] = tmpfs_size(size);
        if ((ret = tmpfs_extra_options(a->field, extra, &data, &n, err)) < 0)
                return ret;
        return tmpfs_add(l, a->field, steal_pointer(&owned_dst), data, n, a->readonly, err);
}

static int api_mount(struct mount_list *l, json_t *mnt, size_t i, berth_error_t **err)
{
        _cleanup_free_ char *field = xasprintf("HostConfig.Mounts[%zu]", i), *where = xasprintf("%s.", field);
        struct api_mount a = { .field = field };
        const char *target;
        char *dst = NULL;
        int ret;

        if (!json_is_object(mnt))
                return berth_error(err, 0, "%s: expected an object", field);
        if ((ret = dj_string(mnt, where, "Type", &a.type, err)) < 0 ||
            (ret = dj_string(mnt, where, "Source", &a.source, err)) < 0 ||
            (ret = dj_string(mnt, where, "Target", &target, err)) < 0 ||
            (ret = dj_bool(mnt, where, "ReadOnly", &a.readonly, err)) < 0 ||
            (ret = dj_object(mnt, where, "BindOptions", &a.bind_opts, err)) < 0 ||
            (ret = dj_object(mnt, where, "VolumeOptions", &a.vol_opts, err)) < 0 ||
            (ret = dj_object(mnt, where, "TmpfsOptions", &a.tmpfs_opts, err)) < 0)
                return ret;
        if (strcmp(a.type, "bind") != 0 && strcmp(a.type, "volume") != 0 && strcmp(a.type, "tmpfs") != 0)
                return mount_config_error(err, field, a.type, "mount type unknown");
        if ((ret = check_target(l, field, a.type, target, &dst, err)) < 0)
                return ret;
        if (strcmp(a.type, "bind") == 0)
                return api_bind(l, &a, dst, err);
        if (strcmp(a.type, "volume") == 0)
                return api_volume(l, &a, dst, err);
        return api_tmpfs(l, &a, dst, err);
}

static int api_mounts(struct mount_list *l, json_t *hc, berth_error_t **err)
{
        json_t *list, *m;
        size_t i;
        int ret;

        if ((ret = dj_array(hc, "HostConfig.", "Mounts", &list, err)) < 0)
                return ret;
        json_array_foreach(list, i, m)
                if ((ret = api_mount(l, m, i, err)) < 0)
                        return ret;
        return 0;
}

/* HostConfig.Tmpfs: {"/run": "rw,noexec,size=64m"} */
static int tmpfs_map(struct mount_list *l, json_t *hc, berth_error_t **err)
{
        json_t *map, *v;
        const char *target;
        int ret;

        if ((ret = dj_object(hc, "HostConfig.", "Tmpfs", &map, err)) < 0)
                return ret;
        json_object_foreach(map, target, v) {
                _cleanup_free_ char *field = field_key("HostConfig.Tmpfs", target), *copy = NULL;
                _cleanup_free_ char **data = NULL;
                char *dst = NULL, *save = NULL;
                const char *opts;
                size_t n = 0;

                if ((ret = dj_str_value(v, field, &opts, err)) < 0 ||
                    (ret = check_target(l, field, "tmpfs", target, &dst, err)) < 0)
                        return ret;
                copy = xstrdup(opts);
                data = xcalloc(strlen(opts) / 2 + 2, sizeof(char *));
                for (char *o = strtok_r(copy, ",", &save); o; o = strtok_r(NULL, ",", &save))
                        data[n++] = o;
                if ((ret = tmpfs_add(l, field, dst, data, n, false, err)) < 0)
                        return ret;
        }
        return 0;
}

/* Config.Volumes and the image's Volumes: an anonymous volume at each
 * path no other mount has (Docker's IsDestinationMounted). */
static int anonymous_volume(struct mount_list *l, const char *field, const char *path, berth_error_t **err)
{
        _cleanup_free_ char *clean = NULL, *q = printable(path);
        struct docker_mount *m;

        if (path[0] != '/')
                return berth_error(err, 0, "%s: invalid volume %s: not an absolute path", field, q);
        clean = path_clean(path);
        if (strcmp(clean, "/") == 0)
                return berth_error(err, 0, "%s: invalid specification: destination can't be '/'", field);
        if (json_object_get(l->seen, clean))
                return 0;
        if (l->n >= MOUNTS_MAX)
                return berth_error(err, 0, "%s: too many mounts (at most %d)", field, MOUNTS_MAX);
        json_object_set_new(l->seen, clean, json_true());
        m = mount_add(l, DOCKER_MOUNT_VOLUME, steal_pointer(&clean));
        m->anonymous = true;
        return 0;
}

static int volumes(struct mount_list *l, json_t *body, const struct image_config *image, berth_error_t **err)
{
        json_t *vols, *v;
        const char *path;
        int ret;

        if ((ret = dj_object(body, "", "Volumes", &vols, err)) < 0)
                return ret;
        json_object_foreach(vols, path, v)
                if ((ret = anonymous_volume(l, "Volumes", path, err)) < 0)
                        return ret;
        for (size_t i = 0; image && image->volumes && image->volumes[i]; i++)
                if ((ret = anonymous_volume(l, "image config Volumes", image->volumes[i], err)) < 0)
                        return ret;
        return 0;
}

/* What the engine would need other containers or plugins for. */
static int unsupported(json_t *hc, berth_error_t **err)
{
        _cleanup_free_ const char **from = NULL;
        const char *driver;
        int ret;

        if ((ret = dj_string(hc, "HostConfig.", "VolumeDriver", &driver, err)) < 0)
                return ret;
        if (driver[0] && strcmp(driver, "local") != 0) {
                _cleanup_free_ char *q = printable(driver);
                return berth_error(err, 0, "HostConfig.VolumeDriver: volume driver %s is not supported (only \"local\")", q);
        }
        if ((ret = dj_strv(hc, "HostConfig.", "VolumesFrom", false, &from, err)) < 0)
                return ret;
        if (strv_len(from) > 0)
                return berth_error(err, 0, "HostConfig.VolumesFrom: --volumes-from is not supported yet");
        return 0;
}

struct sort_key {
        size_t depth, index;
};

static int by_depth(const void *a, const void *b)
{
        const struct sort_key *x = a, *y = b;

        if (x->depth != y->depth)
                return x->depth < y->depth ? -1 : 1;
        return x->index < y->index ? -1 : x->index > y->index;
}

/* Parents before children, else in the order given (Docker's sortMounts,
 * made stable). */
static void sort_mounts(struct mount_list *l)
{
        _cleanup_free_ struct sort_key *keys = xcalloc(l->n, sizeof(*keys));
        struct docker_mount *sorted = xcalloc(l->n ? l->n : 1, sizeof(*sorted));

        for (size_t i = 0; i < l->n; i++)
                keys[i] = (struct sort_key){ path_depth(l->v[i].destination), i };
        qsort(keys, l->n, sizeof(*keys), by_depth);
        for (size_t i = 0; i < l->n; i++)
                sorted[i] = l->v[keys[i].index];
        free(l->v);
        l->v = sorted;
}

int docker_spec_mounts(json_t *create, const struct image_config *image, struct docker_mount **out, size_t *n,
                       berth_error_t **err)
{
        struct mount_list l = { .seen = must(json_object()) };
        json_t *hc = NULL;
        int ret;

        *out = NULL;
        *n = 0;
        if (!json_is_object(create))
                ret = berth_error(err, 0, "container config: expected a JSON object");
        else if ((ret = dj_object(create, "", "HostConfig", &hc, err)) >= 0 && (ret = unsupported(hc, err)) >= 0 &&
                 (ret = binds(&l, hc, err)) >= 0 && (ret = api_mounts(&l, hc, err)) >= 0 &&
                 (ret = tmpfs_map(&l, hc, err)) >= 0)
                ret = volumes(&l, create, image, err);
        json_decref(l.seen);
        if (ret < 0) {
                docker_mounts_free(l.v, l.n);
                return ret;
        }
        sort_mounts(&l);
        *out = l.v;
        *n = l.n;
        return 0;
}
