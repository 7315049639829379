/* docker tag, rmi, images, inspect, history and image prune over the
 * image store, answering in the shapes of Docker's Engine API. */
#include "image/image.h"
#include "image/imagedb.h"
#include "image/manifest.h"
#include "image/reference.h"
#include "image/store.h"
#include "util/util.h"
#include <time.h>

/* "docker.io/library/busybox:latest" as docker shows it: "busybox:latest". */
static char *familiar(const char *full)
{
        _cleanup_image_ref_ struct image_ref r = { 0 };

        if (image_ref_parse(full, &r, NULL) < 0)
                return xstrdup(full);
        return image_ref_familiar(&r);
}

static json_t *familiar_array(char **names)
{
        json_t *a = json_array();

        for (size_t i = 0; names && names[i]; i++) {
                _cleanup_free_ char *f = familiar(names[i]);
                json_array_append_new(a, json_string(f));
        }
        return a;
}

/* RFC 3339 ("2024-01-02T03:04:05.123456789Z", or with an offset) to unix
 * seconds; 0 when absent or unreadable, as docker shows a missing date. */
static int64_t unix_time(const char *rfc3339)
{
        struct tm tm = { 0 };
        const char *rest;
        int64_t t;

        if (rfc3339 == NULL || (rest = strptime(rfc3339, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
                return 0;
        t = (int64_t)timegm(&tm);
        rest += strspn(rest, ".0123456789");
        if ((rest[0] == '+' || rest[0] == '-') && strlen(rest) >= 6) {
                int64_t off = (rest[1] - '0') * 36000 + (rest[2] - '0') * 3600 + (rest[4] - '0') * 600 +
                              (rest[5] - '0') * 60;
                t += rest[0] == '+' ? -off : off;
        }
        return t;
}

static int load_config(struct image_store *s, const char *id, struct image_config **cfg, berth_error_t **err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len;

        if (content_read(image_store_content(s), id, &buf, &len, err) < 0)
                return -1;
        return image_config_parse(buf, len, cfg, err);
}

/* ---- tag -------------------------------------------------------------- */

int image_tag(struct image_store *s, const char *src, const char *dst, berth_error_t **err)
{
        _cleanup_image_ref_ struct image_ref ref = { 0 };
        _cleanup_free_ char *id = NULL;
        _cleanup_free_ char *full = NULL;
        struct imagedb *db = image_store_db(s);

        if (image_store_resolve(s, src, &id, err) < 0 || image_ref_parse(dst, &ref, err) < 0)
                return berth_error_wrap(err, "tag %s", dst);
        if (ref.digest)
                return berth_fail(err, EINVAL, "tag %s: refusing to create a tag with a digest reference", dst);
        full = image_ref_string(&ref);
        if (imagedb_begin(db, err) < 0)
                return -1;
        if (imagedb_name_set(db, full, id, NULL, err) < 0 || imagedb_commit(db, err) < 0) {
                imagedb_rollback(db);
                return berth_error_wrap(err, "tag %s", dst);
        }
        return 0;
}

/* ---- remove ----------------------------------------------------------- */

struct removal {
        struct image_store *s;
        image_removed_fn fn;
        void *data;
};

static void told(struct removal *rm, const char *what, const char *name)
{
        if (rm->fn)
                rm->fn(rm->data, what, name);
}

/* Delete the image with all its names (inside the caller's transaction). */
static int delete_image(struct removal *rm, const char *id, berth_error_t **err)
{
        struct imagedb *db = image_store_db(rm->s);
        _cleanup_strv_ char **tags = NULL;
        _cleanup_strv_ char **digests = NULL;

        if (imagedb_image_names(db, id, false, &tags, err) < 0 || imagedb_image_names(db, id, true, &digests, err) < 0)
                return -1;
        for (size_t i = 0; tags[i]; i++) {
                _cleanup_free_ char *f = familiar(tags[i]);
                told(rm, "Untagged", f);
        }
        for (size_t i = 0; digests[i]; i++) {
                _cleanup_free_ char *f = familiar(digests[i]);
                told(rm, "Untagged", f);
        }
        if (imagedb_image_delete(db, id, err) < 0)
                return -1;
        told(rm, "Deleted", id);
        return 0;
}

/* rmi by tag or repo digest: untag; the image goes with its last tag
 * unless a container uses it. */
static int remove_name(struct removal *rm, const char *name, const char *full, const char *id, bool force,
                       berth_error_t **err)
{
        struct imagedb *db = image_store_db(rm->s);
        _cleanup_strv_ char **tags = NULL;
        int64_t users;

        if (imagedb_name_delete(db, full, err) < 0 || imagedb_image_names(db, id, false, &tags, err) < 0 ||
            imagedb_image_users(db, id, &users, err) < 0)
                return -1;
        if (tags[0] != NULL || (users > 0 && force)) {
                _cleanup_free_ char *f = familiar(full);
                told(rm, "Untagged", f);
                return 0;
        }
        if (users > 0)
                return berth_fail(err, EBUSY,
                                   "conflict: unable to remove repository reference \"%s\" (must force) - "
                                   "image %.19s is being used by %lld container(s)",
                                   name, id, (long long)users);
        _cleanup_free_ char *f = familiar(full);
        told(rm, "Untagged", f);
        return delete_image(rm, id, err);
}

/* Untag every name of the image, keeping the image (a container uses it). */
static int untag_all(struct removal *rm, const char *id, berth_error_t **err)
{
        struct imagedb *db = image_store_db(rm->s);

        for (int digests = 0; digests < 2; digests++) {
                _cleanup_strv_ char **names = NULL;
                if (imagedb_image_names(db, id, digests, &names, err) < 0)
                        return -1;
                for (size_t i = 0; names[i]; i++) {
                        _cleanup_free_ char *f = familiar(names[i]);
                        if (imagedb_name_delete(db, names[i], err) < 0)
                                return -1;
                        told(rm, "Untagged", f);
                }
        }
        return 0;
}

static int remove_id(struct removal *rm, const char *name, const char *id, bool force, berth_error_t **err)
{
        struct imagedb *db = image_store_db(rm->s);
        _cleanup_strv_ char **tags = NULL;
        int64_t users;

        if (imagedb_image_names(db, id, false, &tags, err) < 0 || imagedb_image_users(db, id, &users, err) < 0)
                return -1;
        /* forced: the names go, the image stays (dangling) for the
         * containers whose rootfs is made of its layers */
        if (users > 0 && force)
                return untag_all(rm, id, err);
        if (users > 0)
                return berth_fail(err, EBUSY,
                                   "conflict: unable to delete %s (must be forced) - image is being used by %lld "
                                   "container(s)",
                                   name, (long long)users);
        if (tags[0] && tags[1] && !force)
                return berth_fail(err, EBUSY,
                                   "conflict: unable to delete %s (must be forced) - image is referenced in "
                                   "multiple repositories",
                                   name);
        return delete_image(rm, id, err);
}

int image_remove(struct image_store *s, const char *name, bool force, image_removed_fn fn, void *data,
                 berth_error_t **err)
{
        struct imagedb *db = image_store_db(s);
        struct removal rm = { .s = s, .fn = fn, .data = data };
        _cleanup_image_ref_ struct image_ref ref = { 0 };
        _cleanup_free_ char *id = NULL;
        _cleanup_free_ char *full = NULL;
        struct image_gc_report gc;
        int r;

        if (image_store_resolve(s, name, &id, err) < 0)
                return -1;
        if (image_ref_parse(name, &ref, NULL) == 0) {
                full = image_ref_string(&ref);
                if (imagedb_name_get(db, full, NULL, err) <= 0)
                        free(steal_pointer(&full));
        }
        if (imagedb_begin(db, err) < 0)
                return -1;
        r = full ? remove_name(&rm, name, full, id, force, err) : remove_id(&rm, name, id, force, err);
        if (r == 0)
                r = imagedb_commit(db, err);
        if (r < 0) {
                imagedb_rollback(db);
                return r;
        }
        /* docker frees the layers at once */
        return image_store_gc(s, &gc, err);
}

/* ---- list, inspect, history ------------------------------------------ */

static json_t *labels_of(const struct image_config *cfg)
{
        return cfg && cfg->labels ? json_deep_copy(cfg->labels) : json_object();
}

struct lister {
        struct image_store *s;
        json_t *out;
};

static int list_one(void *data, const struct imagedb_image *img, berth_error_t **err)
{
        struct lister *l = data;
        struct imagedb *db = image_store_db(l->s);
        _cleanup_strv_ char **tags = NULL;
        _cleanup_strv_ char **digests = NULL;
        struct image_config *cfg = NULL;
        int64_t users = 0;

        if (imagedb_image_names(db, img->id, false, &tags, err) < 0 ||
            imagedb_image_names(db, img->id, true, &digests, err) < 0 ||
            imagedb_image_users(db, img->id, &users, err) < 0)
                return -1;
        /* a config that no longer reads is shown without labels; the
         * store check reports it */
        load_config(l->s, img->id, &cfg, NULL);
        json_array_append_new(l->out,
                              json_pack("{s:s, s:s, s:o, s:o, s:I, s:I, s:I, s:o, s:I}", "Id", img->id, "ParentId",
                                        "", "RepoTags", familiar_array(tags), "RepoDigests", familiar_array(digests),
                                        "Created", (json_int_t)unix_time(img->created), "Size", (json_int_t)img->size,
                                        "SharedSize", (json_int_t)-1, "Labels", labels_of(cfg), "Containers",
                                        (json_int_t)users));
        image_config_free(cfg);
        return 0;
}

int image_list(struct image_store *s, bool all, json_t **out, berth_error_t **err)
{
        struct lister l = { .s = s, .out = json_array() };

        /* all adds intermediate build images in docker; Berth keeps none */
        (void)all;
        if (imagedb_image_each(image_store_db(s), list_one, &l, err) < 0) {
                json_decref(l.out);
                return -1;
        }
        *out = l.out;
        return 0;
}

static json_t *layer_dirs(struct image_store *s, const char *id)
{
        _cleanup_strv_ char **chains = NULL;
        json_t *data = json_object();
        size_t n = 0;
        char *lower = NULL;

        if (imagedb_image_layers(image_store_db(s), id, &chains, &n, NULL) < 0)
                return data;
        /* overlay's lowerdir order: top layer first */
        for (size_t i = n; i-- > 0;) {
                _cleanup_free_ char *dir = image_store_layer_path(s, chains[i]);
                char *joined = lower ? xasprintf("%s:%s", lower, dir) : xstrdup(dir);
                free(lower);
                lower = joined;
        }
        json_object_set_new(data, "LowerDir", json_string(lower ? lower : ""));
        free(lower);
        return data;
}

/* A top-level string of the image config that image_config does not
 * parse (commit's and import's "comment", the builder's
 * "docker_version"); "" when absent. */
static const char *config_string(const struct image_config *cfg, const char *key)
{
        const char *v = json_string_value(json_object_get(cfg->raw, key));
        return v ? v : "";
}

static json_t *inspect_json(struct image_store *s, const struct imagedb_image *img, const struct image_config *cfg,
                            char **tags, char **digests)
{
        json_t *container_config = json_object_get(cfg->raw, "config");
        json_t *diff_ids = json_array();

        for (size_t i = 0; i < cfg->n_diff_ids; i++)
                json_array_append_new(diff_ids, json_string(cfg->diff_ids[i]));
        return json_pack("{s:s, s:o, s:o, s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:s*, s:s, s:I, s:o, s:{s:s, s:o}, s:o, "
                         "s:{s:s*}}",
                         "Id", img->id, "RepoTags", familiar_array(tags), "RepoDigests", familiar_array(digests),
                         "Parent", "", "Comment", config_string(cfg, "comment"), "Created",
                         cfg->created ? cfg->created : "", "DockerVersion", config_string(cfg, "docker_version"),
                         "Author", cfg->author ? cfg->author : "", "Config",
                         container_config ? json_deep_copy(container_config) : json_object(), "Architecture",
                         cfg->architecture ? cfg->architecture : "", "Variant", cfg->variant, "Os",
                         cfg->os ? cfg->os : "", "Size", (json_int_t)img->size, "GraphDriver", layer_dirs(s, img->id),
                         "RootFS", "Type", "layers", "Layers", diff_ids, "Descriptor",
                         json_pack("{s:s, s:s}", "mediaType", img->media_type, "digest", img->manifest_digest),
                         "Metadata", "LastTagTime", NULL);
}

int image_inspect(struct image_store *s, const char *name, json_t **out, berth_error_t **err)
{
        struct imagedb *db = image_store_db(s);
        _cleanup_free_ char *id = NULL;
        _cleanup_strv_ char **tags = NULL;
        _cleanup_strv_ char **digests = NULL;
        struct imagedb_image img = { 0 };
        struct image_config *cfg = NULL;
        int r = -1;

        if (image_store_resolve(s, name, &id, err) < 0)
                return -1;
        if (imagedb_image_get(db, id, &img, err) > 0 && imagedb_image_names(db, id, false, &tags, err) == 0 &&
            imagedb_image_names(db, id, true, &digests, err) == 0 && load_config(s, id, &cfg, err) == 0) {
                json_t *graph;
                *out = inspect_json(s, &img, cfg, tags, digests);
                graph = json_object_get(*out, "GraphDriver");
                json_object_set_new(graph, "Name", json_string("overlay2"));
                r = 0;
        }
        image_config_free(cfg);
        imagedb_image_clear(&img);
        return r < 0 ? berth_error_wrap(err, "inspect %s", name) : 0;
}

int image_history(struct image_store *s, const char *name, json_t **out, berth_error_t **err)
{
        _cleanup_free_ char *id = NULL;
        _cleanup_strv_ char **chains = NULL;
        _cleanup_strv_ char **tags = NULL;
        struct image_config *cfg = NULL;
        size_t n_chains = 0, layer;
        json_t *h;

        if (image_store_resolve(s, name, &id, err) < 0 || load_config(s, id, &cfg, err) < 0 ||
            imagedb_image_layers(image_store_db(s), id, &chains, &n_chains, err) < 0 ||
            imagedb_image_names(image_store_db(s), id, false, &tags, err) < 0) {
                image_config_free(cfg);
                return berth_error_wrap(err, "history %s", name);
        }
        h = json_array();
        layer = n_chains;
        /* newest first; each non-empty entry owns the next layer down */
        for (size_t i = cfg->n_history; i-- > 0;) {
                const struct image_history *e = &cfg->history[i];
                struct imagedb_layer l = { 0 };
                int64_t size = 0;
                if (!e->empty_layer && layer > 0 &&
                    imagedb_layer_get(image_store_db(s), chains[--layer], &l, NULL) > 0)
                        size = l.size;
                imagedb_layer_clear(&l);
                json_array_append_new(
                        h, json_pack("{s:s, s:I, s:s, s:o, s:I, s:s}", "Id", i == cfg->n_history - 1 ? id : "<missing>",
                                     "Created", (json_int_t)unix_time(e->created), "CreatedBy",
                                     e->created_by ? e->created_by : "", "Tags",
                                     i == cfg->n_history - 1 ? familiar_array(tags) : json_null(), "Size",
                                     (json_int_t)size, "Comment", e->comment ? e->comment : ""));
        }
        image_config_free(cfg);
        *out = h;
        return 0;
}

/* ---- prune ------------------------------------------------------------ */

struct pruner {
        struct image_store *s;
        bool all;
        char **ids;
        size_t n;
};

static int prune_candidate(void *data, const struct imagedb_image *img, berth_error_t **err)
{
        struct pruner *p = data;
        _cleanup_strv_ char **tags = NULL;
        int64_t users;

        if (imagedb_image_users(image_store_db(p->s), img->id, &users, err) < 0 ||
            imagedb_image_names(image_store_db(p->s), img->id, false, &tags, err) < 0)
                return -1;
        if (users == 0 && (p->all || tags[0] == NULL)) {
                p->ids = xrealloc(p->ids, (p->n + 2) * sizeof(char *));
                p->ids[p->n++] = xstrdup(img->id);
                p->ids[p->n] = NULL;
        }
        return 0;
}

static void prune_told(void *data, const char *what, const char *name)
{
        json_array_append_new(data, json_pack("{s:s}", what, name));
}

int image_prune(struct image_store *s, bool all, json_t **out, berth_error_t **err)
{
        struct pruner p = { .s = s, .all = all };
        struct imagedb *db = image_store_db(s);
        json_t *deleted = json_array();
        struct removal rm = { .s = s, .fn = prune_told, .data = deleted };
        struct image_gc_report gc;
        int r = imagedb_image_each(db, prune_candidate, &p, err);

        if (r == 0 && (r = imagedb_begin(db, err)) == 0) {
                for (size_t i = 0; r == 0 && i < p.n; i++)
                        r = delete_image(&rm, p.ids[i], err);
                if (r == 0)
                        r = imagedb_commit(db, err);
                if (r < 0)
                        imagedb_rollback(db);
        }
        cleanup_strvp(&p.ids);
        if (r == 0)
                r = image_store_gc(s, &gc, err);
        if (r < 0) {
                json_decref(deleted);
                return berth_error_wrap(err, "prune");
        }
        *out = json_pack("{s:o, s:I}", "ImagesDeleted", deleted, "SpaceReclaimed", (json_int_t)gc.bytes);
        return 0;
}
