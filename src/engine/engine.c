/* Opening the engine: directories, the image store, the container records,
 * and the containers still running under their shims from before. */
#include "engine/engine-network.h"
#include "image/image-store.h"
#include <fcntl.h>
#include <sys/stat.h>

/* berth-init is installed (and built) next to berth-runtime; a bind
 * mount needs an absolute source. */
static char *init_next_to(const char *runtime_path)
{
        const char *slash = strrchr(runtime_path, '/');

        if (slash == NULL)
                return xstrdup("/usr/bin/berth-init");
        return xasprintf("%.*s/berth-init", (int)(slash - runtime_path), runtime_path);
}

static void copy_opts(struct engine *e, const struct engine_opts *o)
{
        e->o = *o;
        e->data_root = xstrdup(o->data_root);
        e->exec_root = xstrdup(o->exec_root);
        e->runtime_root = xstrdup(o->runtime_root);
        e->o.data_root = e->data_root;
        e->o.exec_root = e->exec_root;
        e->o.runtime_root = e->runtime_root;
        /* the paths are the caller's strings: keep our own copies */
        e->o.shim_path = xstrdup(o->shim_path);
        e->o.runtime_path = xstrdup(o->runtime_path ? o->runtime_path : "berth-runtime");
        e->o.init_path = o->init_path ? xstrdup(o->init_path) : init_next_to(e->o.runtime_path);
}

static bool policy_always(struct ctr *c)
{
        json_t *policy = json_object_get(json_object_get(c->body, "HostConfig"), "RestartPolicy");
        const char *name = json_string_value(json_object_get(policy, "Name"));
        return name && strcmp(name, "always") == 0 && !c->auto_remove;
}

/* Endpoints of the containers recorded as running are taken back (their
 * monitors release them if the container turns out to be gone); those of
 * the others, left by a daemon that died before it saw the exit, go. */
static void restore_networks(struct engine *e)
{
        for (size_t i = 0; i < e->n_ctrs; i++) {
                struct ctr *c = e->ctrs[i];
                bool running = c->status == CTR_RUNNING || c->status == CTR_PAUSED;
                ctr_net_restore(e, c, running);
        }
}

/* Containers recorded as running: re-adopt those whose shim lives, mark
 * the others exited (their shim wrote the exit file, or died: their
 * monitor restarts them by their policy, after a reboot too).  As
 * dockerd, a daemon start also starts the stopped containers whose policy
 * is "always", even those stopped by hand. */
static void adopt(struct engine *e)
{
        for (size_t i = 0; i < e->n_ctrs; i++) {
                struct ctr *c = e->ctrs[i];
                if (c->status == CTR_RUNNING || c->status == CTR_PAUSED || c->status == CTR_RESTARTING)
                        ctr_monitor(e, c);
                else if ((c->status == CTR_EXITED || c->status == CTR_CREATED) && c->started_at &&
                         policy_always(c)) {
                        _cleanup_error_ berth_error_t *err = NULL;
                        if (engine_container_start(e, c->id, &err) < 0)
                                berth_warn("container %.12s: restart policy always: %s", c->id, err->msg);
                }
        }
}

int engine_open(const struct engine_opts *o, struct engine **out, berth_error_t **err)
{
        struct engine *e = xcalloc(1, sizeof(*e));
        _cleanup_free_ char *shims = xasprintf("%s/shims", o->exec_root);
        _cleanup_free_ char *containers = xasprintf("%s/containers", o->data_root);

        copy_opts(e, o);
        pthread_mutex_init(&e->lock, NULL);
        pthread_mutex_init(&e->images_lock, NULL);
        if (mkdir_p(shims, 0700, err) < 0 || mkdir_p(containers, 0710, err) < 0 ||
            mkdir_p(o->runtime_root, 0700, err) < 0 || image_store_open(o->data_root, &e->images, err) < 0 ||
            engine_db_open(e, err) < 0 || engine_db_load(e, &e->ctrs, &e->n_ctrs, err) < 0 ||
            engine_net_open(e, err) < 0) {
                engine_close(e);
                return berth_error_wrap(err, "engine");
        }
        restore_networks(e);
        adopt(e);
        /* build contexts a daemon that died mid-build left (routes-build.c
         * removes its own when a build ends) */
        _cleanup_free_ char *builds = xasprintf("%s/builds", o->data_root);
        remove_tree_at(AT_FDCWD, builds);
        *out = e;
        return 0;
}

void engine_close(struct engine *e)
{
        if (e == NULL)
                return;
        /* monitors hold references; the process is exiting anyway when
         * the engine closes, so only what is ours to free here goes */
        pthread_mutex_lock(&e->lock);
        for (size_t i = 0; i < e->n_ctrs; i++)
                ctr_unref(e->ctrs[i]);
        free(e->ctrs);
        e->ctrs = NULL;
        e->n_ctrs = 0;
        pthread_mutex_unlock(&e->lock);
        engine_net_close(e);
        if (e->db)
                engine_db_close(e);
        image_store_close(e->images);
        free(e->data_root);
        free(e->exec_root);
        free(e->runtime_root);
        free((char *)e->o.shim_path);
        free((char *)e->o.runtime_path);
        free((char *)e->o.init_path);
        free(e);
}

struct image_store *engine_images_lock(struct engine *e)
{
        pthread_mutex_lock(&e->images_lock);
        return e->images;
}

void engine_images_unlock(struct engine *e)
{
        pthread_mutex_unlock(&e->images_lock);
}

const struct engine_opts *engine_options(struct engine *e)
{
        return &e->o;
}

int engine_container_id(struct engine *e, const char *name, char **id, berth_error_t **err)
{
        struct ctr *c;

        if (ctr_find(e, name, &c, err) < 0)
                return -1;
        *id = xstrdup(c->id);
        ctr_unref(c);
        return 0;
}
