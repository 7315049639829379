/* config.json "mounts": Docker's default filesystems (/proc, /dev, /sys,
 * cgroups, /dev/shm sized by ShmSize), then the body's mounts, the
 * /etc/hostname, /etc/hosts and /etc/resolv.conf the engine wrote, and the
 * init binary, parents before children. */
#include "engine/docker-spec-internal.h"

#define SHM_DEFAULT (64LL << 20)        /* Docker's default ShmSize */
#define INIT_IN_CONTAINER "/sbin/docker-init"

static json_t *oci_mount(const char *dest, const char *type, const char *source, json_t *options)
{
        return must(json_pack("{s:s, s:s, s:s, s:o}", "destination", dest, "type", type, "source", source, "options",
                              options));
}

static json_t *strv_json(const char *const *v)
{
        json_t *a = must(json_array());

        for (; v && *v; v++)
                json_array_append_new(a, must(json_string(*v)));
        return a;
}

static int shm_mount(struct spec_ctx *ctx, json_t **out, berth_error_t **err)
{
        const char *shared = ctx->in->ipc_shm_path;
        long long size;
        int ret;

        *out = NULL;
        if ((ret = dj_int(ctx->hc, "HostConfig.", "ShmSize", &size, err)) < 0)
                return ret;
        if (size < 0)
                return berth_error(err, 0, "HostConfig.ShmSize: SHM size can not be less than 0");
        if (ctx->ipc_none)
                return 0;
        if (ctx->ipc_host)
                shared = "/dev/shm";
        else if (!ctx->ipc_container && !ctx->info->ipc_shareable)
                shared = NULL;
        if (shared) {
                *out = oci_mount("/dev/shm", "bind", shared,
                                 must(json_pack("[ssss]", "rbind", "nosuid", "noexec", "nodev")));
                return 0;
        }
        if (ctx->ipc_container)
                spec_warn(ctx, "IpcMode container: the engine gave no /dev/shm to share; the container gets its own");
        _cleanup_free_ char *sz = xasprintf("size=%lld", size ? size : SHM_DEFAULT);
        *out = oci_mount("/dev/shm", "tmpfs", "shm",
                         must(json_pack("[sssss]", "nosuid", "noexec", "nodev", "mode=1777", sz)));
        return 0;
}

/* Docker's default mounts, less those a mount of the body replaces (a
 * mount on /dev replaces everything under it too). */
static int default_mounts(struct spec_ctx *ctx, json_t *user_dests, json_t *mounts, berth_error_t **err)
{
        bool rw_sys = ctx->privileged, rw_cgroup = ctx->privileged || ctx->writable_cgroups;
        bool dev = json_object_get(user_dests, "/dev") != NULL;
        json_t *shm, *list[7];
        int ret;

        if ((ret = shm_mount(ctx, &shm, err)) < 0)
                return ret;
        list[0] = oci_mount("/proc", "proc", "proc", must(json_pack("[sss]", "nosuid", "noexec", "nodev")));
        list[1] = oci_mount("/dev", "tmpfs", "tmpfs",
                            must(json_pack("[ssss]", "nosuid", "strictatime", "mode=755", "size=65536k")));
        list[2] = oci_mount("/dev/pts", "devpts", "devpts",
                            must(json_pack("[ssssss]", "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620",
                                           "gid=5")));
        list[3] = oci_mount("/sys", "sysfs", "sysfs", must(json_pack("[sss]", "nosuid", "noexec", "nodev")));
        list[4] = oci_mount("/sys/fs/cgroup", "cgroup", "cgroup", must(json_pack("[sss]", "nosuid", "noexec", "nodev")));
        list[5] = oci_mount("/dev/mqueue", "mqueue", "mqueue", must(json_pack("[sss]", "nosuid", "noexec", "nodev")));
        list[6] = shm;
        if (!rw_sys)
                json_array_append_new(json_object_get(list[3], "options"), must(json_string("ro")));
        if (!rw_cgroup)
                json_array_append_new(json_object_get(list[4], "options"), must(json_string("ro")));
        for (size_t i = 0; i < ARRAY_SIZE(list); i++) {
                const char *d;
                if (list[i] == NULL)
                        continue;
                d = json_string_value(json_object_get(list[i], "destination"));
                if (json_object_get(user_dests, d) || (dev && str_has_prefix(d, "/dev/")))
                        json_decref(list[i]);
                else
                        json_array_append_new(mounts, list[i]);
        }
        return 0;
}

static const struct docker_volume_source *find_volume(const struct docker_spec_input *in, const char *dest)
{
        for (size_t i = 0; i < in->n_volumes; i++)
                if (in->volumes[i].destination && strcmp(in->volumes[i].destination, dest) == 0)
                        return &in->volumes[i];
        return NULL;
}

/* Volumes get the host paths the engine made for them. */
static int resolve_sources(struct spec_ctx *ctx, struct docker_mount *m, size_t n, berth_error_t **err)
{
        for (size_t i = 0; i < n; i++) {
                const struct docker_volume_source *v;
                if (m[i].type == DOCKER_MOUNT_BIND)
                        m[i].host_path = xstrdup(m[i].source);
                if (m[i].type != DOCKER_MOUNT_VOLUME)
                        continue;
                v = find_volume(ctx->in, m[i].destination);
                if (v == NULL || v->path == NULL || v->path[0] != '/') {
                        _cleanup_free_ char *q = printable(m[i].destination);
                        return berth_error(err, 0, "volume at %s: the engine gave no absolute host path for it", q);
                }
                m[i].host_path = xstrdup(v->path);
                if (m[i].source == NULL && v->name)
                        m[i].source = xstrdup(v->name);
        }
        return 0;
}

static json_t *user_mount(const struct docker_mount *m)
{
        json_t *opts;

        if (m->type == DOCKER_MOUNT_TMPFS)
                return oci_mount(m->destination, "tmpfs", "tmpfs", strv_json((const char *const *)m->tmpfs_options));
        opts = must(json_pack("[s]", m->non_recursive ? "bind" : "rbind"));
        if (m->readonly)
                json_array_append_new(opts, must(json_string("ro")));
        if (m->propagation[0])
                json_array_append_new(opts, must(json_string(m->propagation)));
        return oci_mount(m->destination, "bind", m->host_path, opts);
}

/* /etc/hostname, /etc/hosts, /etc/resolv.conf: writable unless the root is
 * read-only, as Docker. */
static void etc_mounts(struct spec_ctx *ctx, json_t *user_dests, json_t *list)
{
        const struct { const char *dest, *path; } files[] = {
                { "/etc/resolv.conf", ctx->in->resolv_conf_path },
                { "/etc/hostname", ctx->in->hostname_path },
                { "/etc/hosts", ctx->in->hosts_path },
        };
        bool ro = json_is_true(json_object_get(json_object_get(ctx->spec, "root"), "readonly"));

        for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
                json_t *opts;
                if (files[i].path == NULL || json_object_get(user_dests, files[i].dest))
                        continue;
                opts = must(json_pack("[ss]", "rbind", "rprivate"));
                if (ro)
                        json_array_append_new(opts, must(json_string("ro")));
                json_array_append_new(list, oci_mount(files[i].dest, "bind", files[i].path, opts));
        }
        if (ctx->info->init && ctx->in->init_path)
                json_array_append_new(list, oci_mount(INIT_IN_CONTAINER, "bind", ctx->in->init_path,
                                                      must(json_pack("[ss]", "bind", "ro"))));
}

struct depth_key {
        size_t depth, index;
        json_t *m;
};

static int by_depth(const void *a, const void *b)
{
        const struct depth_key *x = a, *y = b;

        if (x->depth != y->depth)
                return x->depth < y->depth ? -1 : 1;
        return x->index < y->index ? -1 : x->index > y->index;
}

/* Append list to mounts, parents before children, stable. */
static void append_sorted(json_t *mounts, json_t *list)
{
        size_t n = json_array_size(list), i;
        _cleanup_free_ struct depth_key *keys = xcalloc(n ? n : 1, sizeof(*keys));
        json_t *m;

        json_array_foreach(list, i, m) {
                _cleanup_free_ char *clean = path_clean(json_string_value(json_object_get(m, "destination")));
                keys[i] = (struct depth_key){ path_depth(clean), i, m };
        }
        qsort(keys, n, sizeof(*keys), by_depth);
        for (i = 0; i < n; i++)
                json_array_append(mounts, keys[i].m);
}

/* A shared mount needs a shared root to propagate through (Docker makes
 * the rootfs rshared then); slave propagation works from the runtime's
 * default (rslave). */
static void rootfs_propagation(struct spec_ctx *ctx, const struct docker_mount *m, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(m[i].propagation, "shared") == 0 || strcmp(m[i].propagation, "rshared") == 0) {
                        json_object_set_new(json_object_get(ctx->spec, "linux"), "rootfsPropagation",
                                            must(json_string("rshared")));
                        return;
                }
}

int spec_mounts(struct spec_ctx *ctx, berth_error_t **err)
{
        struct docker_mount *m = NULL;
        size_t n = 0;
        _cleanup_json_ json_t *dests = must(json_object()), *list = must(json_array());
        json_t *mounts = json_object_get(ctx->spec, "mounts");
        bool ro;
        int ret;

        if ((ret = dj_bool(ctx->hc, "HostConfig.", "ReadonlyRootfs", &ro, err)) < 0)
                return ret;
        json_object_set_new(json_object_get(ctx->spec, "root"), "readonly", json_boolean(ro));
        if ((ret = docker_spec_mounts(ctx->body, ctx->in->image, &m, &n, err)) < 0)
                return ret;
        ctx->info->mounts = m;
        ctx->info->n_mounts = n;
        if ((ret = resolve_sources(ctx, m, n, err)) < 0)
                return ret;
        for (size_t i = 0; i < n; i++) {
                json_object_set_new(dests, m[i].destination, json_true());
                json_array_append_new(list, user_mount(&m[i]));
        }
        if ((ret = default_mounts(ctx, dests, mounts, err)) < 0)
                return ret;
        etc_mounts(ctx, dests, list);
        append_sorted(mounts, list);
        rootfs_propagation(ctx, m, n);
        return 0;
}
