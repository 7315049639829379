/* docker create: the record, the rootfs (an overlay of the image), the
 * volumes, /etc/hostname, hosts and resolv.conf, and config.json. */
#include "engine/docker-spec.h"
#include "engine/engine-network.h"
#include "image/image-store.h"
#include "image/image.h"
#include "image/imagedb.h"
#include "image/reference.h"
#include "image/store.h"
#include "storage/rootfs.h"
#include <fcntl.h>
#include <sys/stat.h>

static int check_name(struct engine *e, const char *name, berth_error_t **err)
{
        struct ctr *other = NULL;

        if (!ctr_name_valid(name))
                return berth_fail(err, EINVAL, "Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
                                   name);
        pthread_mutex_lock(&e->lock);
        for (size_t i = 0; i < e->n_ctrs && !other; i++)
                if (strcmp(e->ctrs[i]->name, name) == 0)
                        other = e->ctrs[i];
        int r = other ? berth_fail(err, EEXIST,
                                    "Conflict. The container name \"/%s\" is already in use by container \"%s\". You "
                                    "have to remove (or rename) that container to be able to reuse that name.",
                                    name, other->id)
                      : 0;
        pthread_mutex_unlock(&e->lock);
        return r;
}

/* The image and its config; "No such image: busybox:latest" (404) makes
 * the docker CLI pull and retry. */
static int find_image(struct image_store *s, const char *name, char **id, struct image_config **cfg,
                      berth_error_t **err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len;

        if (name == NULL || *name == '\0')
                return berth_fail(err, EINVAL, "no image given");
        if (image_store_resolve(s, name, id, NULL) < 0) {
                _cleanup_image_ref_ struct image_ref ref = { 0 };
                _cleanup_free_ char *familiar = image_ref_parse(name, &ref, NULL) == 0 ? image_ref_familiar(&ref) : NULL;
                return berth_fail(err, ENOENT, "No such image: %s", familiar ? familiar : name);
        }
        if (content_read(image_store_content(s), *id, &buf, &len, err) < 0)
                return -1;
        return image_config_parse(buf, len, cfg, err);
}

/* The image's EXPOSE ports join the container's own, as dockerd merges
 * them into its Config: -P publishes them all. */
static void merge_exposed_ports(json_t *body, const struct image_config *cfg)
{
        json_t *ports = json_object_get(body, "ExposedPorts");

        if (cfg->exposed_ports == NULL || cfg->exposed_ports[0] == NULL)
                return;
        if (!json_is_object(ports))
                json_object_set_new(body, "ExposedPorts", ports = json_object());
        for (char **p = cfg->exposed_ports; *p; p++)
                if (json_object_get(ports, *p) == NULL)
                        json_object_set_new(ports, *p, json_object());
}

/* Named and anonymous volumes (engine-volumes.c), made on first use and
 * filled with what the image has at their destination. */
struct volumes {
        struct docker_volume_source *v;
        char **owned;
        size_t n;
};

static int prepare_volumes(struct engine *e, const char *rootfs, struct docker_mount *m, size_t n,
                           struct volumes *out, berth_error_t **err)
{
        out->v = xcalloc(n + 1, sizeof(*out->v));
        out->owned = xcalloc(2 * n + 1, sizeof(char *));
        for (size_t i = 0; i < n; i++) {
                bool created;
                if (m[i].type != DOCKER_MOUNT_VOLUME)
                        continue;
                char *name = m[i].source ? xstrdup(m[i].source) : NULL;
                if (name == NULL) {
                        char id[CONTAINER_ID_LEN + 1];
                        random_hex_id(id);
                        name = xstrdup(id);
                }
                char *path = xasprintf("%s/volumes/%s/_data", e->data_root, name);
                out->owned[2 * out->n] = name;
                out->owned[2 * out->n + 1] = path;
                out->v[out->n++] = (struct docker_volume_source){ .destination = m[i].destination, .name = name,
                                                                  .path = path };
                if (engine_volume_ensure(e, name, m[i].source == NULL, NULL, NULL, &created, err) < 0)
                        return -1;
                if (created && !m[i].nocopy && engine_volume_copy_up(rootfs, m[i].destination, path, err) < 0)
                        return berth_error_wrap(err, "volume %s", name);
        }
        return 0;
}

static void volumes_clear(struct volumes *v)
{
        for (size_t i = 0; v->owned && i < 2 * v->n; i++)
                free(v->owned[i]);
        free(v->owned);
        free(v->v);
}

struct create {
        struct engine *e;
        struct ctr *c;
        json_t *body;
        json_t *warnings;
        struct image_config *cfg;
        char *dir, *rootfs;
        bool rootfs_made;
        bool bridged;           /* its own namespace, with endpoints at start */
};

/* "container:<name|id>" modes join a running container's namespace:
 * its /proc/<pid>/ns/<kind> (as dockerd, the target must be running). */
static int join_path(struct engine *e, json_t *hc, const char *field, const char *kind, char **path,
                     berth_error_t **err)
{
        const char *mode = json_string_value(json_object_get(hc, field));
        struct ctr *t;

        if (mode == NULL || !str_has_prefix(mode, "container:") || mode[strlen("container:")] == '\0')
                return 0;
        if (ctr_find(e, mode + strlen("container:"), &t, err) < 0)
                return -1;
        pthread_mutex_lock(&t->lock);
        bool running = t->status == CTR_RUNNING || t->status == CTR_PAUSED;
        pid_t pid = t->pid;
        _cleanup_free_ char *id = xstrdup(t->id);
        pthread_mutex_unlock(&t->lock);
        ctr_unref(t);
        if (!running || pid <= 0)
                return berth_fail(err, EBUSY, "cannot join %s namespace of a non running container: %s", kind, id);
        *path = xasprintf("/proc/%d/ns/%s", (int)pid, kind);
        return 0;
}

/* The hostname a UTS-joined container shows in /etc/hostname: its
 * owner's, from the file the engine wrote for it. */
static char *joined_hostname(struct engine *e, const char *mode)
{
        _cleanup_error_ berth_error_t *ignored = NULL;
        struct ctr *t;
        char *text = NULL;
        size_t len;

        if (ctr_find(e, mode + strlen("container:"), &t, &ignored) < 0)
                return NULL;
        _cleanup_free_ char *dir = ctr_dir(e, t);
        _cleanup_free_ char *path = xasprintf("%s/hostname", dir);
        ctr_unref(t);
        if (read_file(path, &text, &len, &ignored) < 0)
                return NULL;
        text[strcspn(text, "\n")] = '\0';
        return text;
}

static int build_spec(struct create *cr, struct docker_spec_info *info, berth_error_t **err)
{
        json_t *hc = json_object_get(cr->body, "HostConfig");
        _cleanup_free_ char *netns = NULL;
        _cleanup_free_ char *ipcns = NULL;
        _cleanup_free_ char *pidns = NULL;
        _cleanup_free_ char *utsns = NULL;
        _cleanup_free_ char *uts_hostname = NULL;
        _cleanup_free_ char *hn = xasprintf("%s/hostname", cr->dir);
        _cleanup_free_ char *hosts = xasprintf("%s/hosts", cr->dir);
        _cleanup_free_ char *resolv = xasprintf("%s/resolv.conf", cr->dir);
        struct docker_mount *mounts = NULL;
        struct volumes vols = { 0 };
        size_t n = 0;
        int r = join_path(cr->e, hc, "NetworkMode", "net", &netns, err);

        if (r == 0 && cr->bridged)
                netns = ctr_netns_path(cr->e, cr->c->id);

        if (r == 0)
                r = join_path(cr->e, hc, "IpcMode", "ipc", &ipcns, err);
        if (r == 0)
                r = join_path(cr->e, hc, "PidMode", "pid", &pidns, err);
        if (r == 0)
                r = join_path(cr->e, hc, "UTSMode", "uts", &utsns, err);
        if (r == 0 && utsns)
                uts_hostname = joined_hostname(cr->e, json_string_value(json_object_get(hc, "UTSMode")));
        if (r == 0)
                r = docker_spec_mounts(cr->body, cr->cfg, &mounts, &n, err);
        if (r == 0)
                r = prepare_volumes(cr->e, cr->rootfs, mounts, n, &vols, err);
        if (r == 0) {
                struct docker_spec_input in = {
                        .create = cr->body,
                        .image = cr->cfg,
                        .id = cr->c->id,
                        .rootfs = cr->rootfs,
                        .root_path = cr->rootfs,
                        .seccomp_default = cr->e->o.seccomp_profile,
                        .init_path = cr->e->o.init_path,
                        .hostname_path = hn,
                        .hosts_path = hosts,
                        .resolv_conf_path = resolv,
                        .netns_path = netns,
                        .ipcns_path = ipcns,
                        .pidns_path = pidns,
                        .utsns_path = utsns,
                        .hostname_default = uts_hostname,
                        .volumes = vols.v,
                        .n_volumes = vols.n,
                };
                r = docker_spec_build(&in, &cr->c->config, info, err);
                if (r == 0)
                        ctr_config_share(cr->c);
        }
        docker_mounts_free(mounts, n);
        volumes_clear(&vols);
        return r;
}

static int make_container(struct create *cr, berth_error_t **err)
{
        struct docker_spec_info info = { 0 };
        _cleanup_free_ char *config_path = xasprintf("%s/config.json", cr->dir);
        int r = build_spec(cr, &info, err);

        if (r == 0) {
                _cleanup_free_ char *hn_line = xasprintf("%s\n", info.hostname);
                _cleanup_free_ char *hn = xasprintf("%s/hostname", cr->dir);
                r = write_file(hn, hn_line, strlen(hn_line), err);
        }
        if (r == 0)
                r = ctr_write_etc(cr->e, cr->c, err);
        if (r == 0 && json_dump_file(cr->c->config, config_path, JSON_INDENT(2)) < 0)
                r = berth_error(err, errno, "write %s", config_path);
        if (r == 0) {
                struct ctr *c = cr->c;
                c->tty = info.tty;
                c->open_stdin = info.open_stdin;
                c->auto_remove = info.auto_remove;
                c->stop_timeout = (int)info.stop_timeout;
                c->stop_signal = xasprintf("%d", info.stop_signal);
                for (size_t i = 0; i < info.n_warnings; i++)
                        json_array_append_new(cr->warnings, json_string(info.warnings[i]));
        }
        docker_spec_info_clear(&info);
        return r;
}

static int mount_rootfs(struct create *cr, berth_error_t **err)
{
        struct image_store *s = engine_images_lock(cr->e);
        _cleanup_free_ char *image_id = NULL;
        int r = find_image(s, json_string_value(json_object_get(cr->body, "Image")), &image_id, &cr->cfg, err);

        if (r == 0)
                merge_exposed_ports(cr->body, cr->cfg);
        if (r == 0 && (r = mkdir_p(cr->rootfs, 0755, err)) == 0) {
                r = rootfs_create(s, cr->c->id, image_id, cr->rootfs, NULL, err);
                cr->rootfs_made = r == 0;
        }
        engine_images_unlock(cr->e);
        if (r == 0)
                cr->c->image_id = steal_pointer(&image_id);
        return r;
}

int ctr_rootfs_ensure(struct engine *e, struct ctr *c, berth_error_t **err)
{
        _cleanup_free_ char *dir = ctr_dir(e, c);
        _cleanup_free_ char *rootfs = xasprintf("%s/rootfs", dir);
        struct image_store *s = engine_images_lock(e);
        int r = rootfs_mount(s, c->id, c->image_id, rootfs, NULL, err);

        engine_images_unlock(e);
        return r;
}

static void undo(struct create *cr)
{
        if (cr->rootfs_made) {
                struct image_store *s = engine_images_lock(cr->e);
                rootfs_remove(s, cr->c->id, cr->rootfs, NULL);
                engine_images_unlock(cr->e);
        }
        remove_tree_at(AT_FDCWD, cr->dir);
}

int engine_container_create(struct engine *e, json_t *body, const char *name, char **id, json_t **warnings,
                            berth_error_t **err)
{
        struct create cr = { .e = e, .body = json_deep_copy(body), .warnings = json_array() };
        struct ctr *c = ctr_new();
        int r;

        cr.c = c;
        if (!json_is_object(cr.body)) {
                r = berth_fail(err, EINVAL, "the request body is not a JSON object");
                goto out;
        }
        random_hex_id(c->id);
        c->name = name && *name ? xstrdup(name[0] == '/' ? name + 1 : name) : ctr_make_name(e);
        c->image = xstrdup(json_string_value(json_object_get(cr.body, "Image")) ?: "");
        c->created = now_rfc3339();
        cr.dir = ctr_dir(e, c);
        cr.rootfs = xasprintf("%s/rootfs", cr.dir);
        if ((r = check_name(e, c->name, err)) < 0 || (r = ctr_net_prepare(e, cr.body, &cr.bridged, err)) < 0)
                goto out;
        /* the /etc files are written from the record's body */
        c->body = json_incref(cr.body);
        if ((r = mount_rootfs(&cr, err)) < 0 || (r = make_container(&cr, err)) < 0) {
                undo(&cr);
                goto out;
        }
        c->status = CTR_CREATED;
        /* the name may have been taken while the rootfs was made: check
         * and add under the list's lock */
        pthread_mutex_lock(&e->lock);
        for (size_t i = 0; i < e->n_ctrs && r == 0; i++)
                if (strcmp(e->ctrs[i]->name, c->name) == 0)
                        r = berth_fail(err, EEXIST, "Conflict. The container name \"/%s\" is already in use by "
                                        "container \"%s\".", c->name, e->ctrs[i]->id);
        if (r == 0 && (r = engine_db_save(e, c, err)) == 0) {
                e->ctrs = xrealloc(e->ctrs, (e->n_ctrs + 1) * sizeof(*e->ctrs));
                e->ctrs[e->n_ctrs++] = c;
        }
        pthread_mutex_unlock(&e->lock);
        if (r < 0) {
                undo(&cr);
                goto out;
        }
        engine_container_event(e, c, "create", NULL);
        c = NULL;
        *id = xstrdup(cr.c->id);
        if (warnings)
                *warnings = json_incref(cr.warnings);
out:
        ctr_unref(c);
        json_decref(cr.body);
        json_decref(cr.warnings);
        image_config_free(cr.cfg);
        free(cr.dir);
        free(cr.rootfs);
        return r;
}
