/* docker commit: the container's writable layer becomes a new layer on
 * top of its image's, as dockerd's overlay2 driver makes it.
 *
 * The layer is the overlay upper directory written as a tar (whiteouts,
 * 0:0 character devices, become ".wh.NAME"; opaque directories get
 * ".wh..wh..opq"), stored uncompressed so its digest is its DiffID.  The
 * image config is the base image's with the container's config (merged
 * as moby merges it, --change applied), the new DiffID and a history
 * entry; the manifest is the base's with the new config and layer.  The
 * image store then registers it like a loaded image: the base layers are
 * already unpacked, the new one is unpacked from its blob.
 *
 * The builder (src/build) makes its steps' images with the same code:
 * engine_image_derive takes the new config as it is, the history line,
 * and a container of the base whose upper directory becomes the layer,
 * or none (an empty_layer step); without a base (FROM scratch) the
 * config and manifest documents start empty. */
#include "engine/engine-archive.h"
#include "image/archive.h"
#include "image/image-store.h"
#include "image/imagedb.h"
#include "image/manifest.h"
#include "image/reference.h"
#include "image/store.h"
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

/* ---- the config ------------------------------------------------------- */

/* The fields of a create (or commit) body that an image config keeps. */
static const char *const config_keys[] = {
        "User", "ExposedPorts", "Env", "Entrypoint", "Cmd", "Volumes", "WorkingDir", "Labels", "StopSignal",
        "Healthcheck", "OnBuild", "Shell", "ArgsEscaped",
};

static json_t *config_subset(json_t *body)
{
        json_t *out = json_object();

        for (size_t i = 0; i < ARRAY_SIZE(config_keys); i++) {
                json_t *v = json_object_get(body, config_keys[i]);
                if (v != NULL && !json_is_null(v))
                        json_object_set_new(out, config_keys[i], json_deep_copy(v));
        }
        return out;
}

static bool unset(json_t *v)
{
        return v == NULL || json_is_null(v) || (json_is_string(v) && *json_string_value(v) == '\0') ||
               (json_is_array(v) && json_array_size(v) == 0) || (json_is_object(v) && json_object_size(v) == 0);
}

static void take_if_unset(json_t *user, json_t *image, const char *key)
{
        json_t *iv = json_object_get(image, key);

        if (unset(json_object_get(user, key)) && iv != NULL && !json_is_null(iv))
                json_object_set_new(user, key, json_deep_copy(iv));
}

/* Keys of image's object `key` that user's lacks are added. */
static void union_objects(json_t *user, json_t *image, const char *key)
{
        json_t *io = json_object_get(image, key), *uo, *v;
        const char *k;

        if (!json_is_object(io))
                return;
        uo = json_object_get(user, key);
        if (!json_is_object(uo))
                json_object_set_new(user, key, uo = json_object());
        json_object_foreach(io, k, v)
                if (json_object_get(uo, k) == NULL)
                        json_object_set(uo, k, v);
}

static bool env_has(json_t *env, const char *kv)
{
        size_t klen = strcspn(kv, "="), i;
        json_t *v;

        json_array_foreach(env, i, v) {
                const char *s = json_string_value(v);
                if (s && strncmp(s, kv, klen) == 0 && (s[klen] == '=' || s[klen] == '\0'))
                        return true;
        }
        return false;
}

static void merge_env(json_t *user, json_t *image)
{
        json_t *ie = json_object_get(image, "Env"), *ue = json_object_get(user, "Env"), *v;
        size_t i;

        if (!json_is_array(ie))
                return;
        if (!json_is_array(ue) || json_array_size(ue) == 0) {
                json_object_set_new(user, "Env", json_deep_copy(ie));
                return;
        }
        json_array_foreach(ie, i, v)
                if (json_is_string(v) && !env_has(ue, json_string_value(v)))
                        json_array_append(ue, v);
}

/* moby's merge(userConf, imageConf), used by create and by commit: what
 * user leaves unset comes from image. */
static void config_merge(json_t *user, json_t *image)
{
        json_t *ue = json_object_get(user, "Entrypoint");

        take_if_unset(user, image, "User");
        take_if_unset(user, image, "WorkingDir");
        take_if_unset(user, image, "StopSignal");
        take_if_unset(user, image, "Healthcheck");
        union_objects(user, image, "ExposedPorts");
        union_objects(user, image, "Volumes");
        union_objects(user, image, "Labels");
        merge_env(user, image);
        /* an Entrypoint given resets the image's Cmd; [] clears the image's
         * Entrypoint, absent keeps it */
        if (unset(ue)) {
                take_if_unset(user, image, "Cmd");
                if (ue == NULL || json_is_null(ue))
                        take_if_unset(user, image, "Entrypoint");
        }
}

/* The config the container runs with: its create body over the image's. */
static json_t *container_config(struct ctr *c, json_t *image_cfg)
{
        json_t *cfg;

        pthread_mutex_lock(&c->lock);
        cfg = config_subset(c->body);
        pthread_mutex_unlock(&c->lock);
        config_merge(cfg, image_cfg);
        return cfg;
}

/* The new image's config: the commit's own Config (or the container's),
 * --change applied, the rest from the container's. */
static int commit_config(const struct engine_commit_opts *o, json_t *ctr_cfg, json_t **out, berth_error_t **err)
{
        json_t *cfg = o->config ? config_subset(o->config) : json_deep_copy(ctr_cfg);

        if (image_changes_apply(cfg, o->changes, err) < 0) {
                json_decref(cfg);
                (*err)->status = EINVAL;
                return -1;
        }
        config_merge(cfg, ctr_cfg);
        *out = cfg;
        return 0;
}

struct commit {
        struct engine *e;
        bool clamp;                     /* mtimes above epoch become epoch (SOURCE_DATE_EPOCH) */
        int64_t epoch;
        struct ctr *c;                  /* its upper dir becomes the layer; NULL: no layer */
        const char *base_id;            /* NULL: FROM scratch (no layers, no history) */
        const char *container_id;       /* the config's "container"; NULL: none */
        const char *created_by, *author, *comment;
        struct content_store *cs;
        char *base_manifest, *base_config;
        size_t base_manifest_len, base_config_len;
        json_t *cfg;                    /* the new image's "config" */
        char *diff_id;
        int64_t layer_size;
        char *created;
};

/* ---- the layer ---------------------------------------------------------- */

struct layer_out {
        struct ingest *in;
        berth_error_t *err;
        int64_t size;
};

static int ingest_cb(void *data, const void *buf, size_t len)
{
        struct layer_out *l = data;

        if (ingest_write(l->in, buf, len, &l->err) < 0)
                return -1;
        l->size += (int64_t)len;
        return 0;
}

/* Every mtime in the tree below dfd later than epoch becomes epoch
 * (BuildKit's rewrite-timestamp), children before their directory.
 * Nothing is followed: symlinks get their own times. */
static int clamp_tree(int dfd, int64_t epoch, berth_error_t **err)
{
        int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        struct dirent *de;
        struct stat st;
        int r = 0;

        if (d == NULL) {
                if (fd >= 0)
                        close(fd);
                return berth_error(err, errno, "clamp mtimes: open a directory");
        }
        while (r == 0 && (de = readdir(d)) != NULL) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (S_ISDIR(st.st_mode)) {
                        int cfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (cfd >= 0) {
                                r = clamp_tree(cfd, epoch, err);
                                close(cfd);
                        }
                }
                if (r == 0 && st.st_mtim.tv_sec >= epoch) {
                        struct timespec ts[2] = { { .tv_sec = (time_t)epoch }, { .tv_sec = (time_t)epoch } };
                        if (utimensat(dirfd(d), de->d_name, ts, AT_SYMLINK_NOFOLLOW) < 0 && errno != ENOENT)
                                r = berth_error(err, errno, "clamp the mtime of %s", de->d_name);
                }
        }
        closedir(d);
        return r;
}

/* The upper directory as a layer blob; *diff_id NULL when nothing
 * changed (docker then records an empty layer). */
static int write_layer(struct commit *cm, char **diff_id, int64_t *size, berth_error_t **err)
{
        struct engine *e = cm->e;
        struct ctr *c = cm->c;
        struct content_store *cs = cm->cs;
        _cleanup_free_ char *dir = ctr_dir(e, c);
        _cleanup_free_ char *upper = xasprintf("%s/upper", dir);
        _cleanup_close_ int fd = open(upper, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        struct layer_out l = { 0 };
        struct tree_tar t = { .write = ingest_cb, .data = &l, .whiteouts = true, .config = c->config, .top_path = "/" };
        struct archive *a = NULL;
        int r;

        *diff_id = NULL;
        if (fd < 0 && errno == ENOENT)
                return berth_fail(err, EOPNOTSUPP, "commit needs an overlay rootfs: container %s has none", c->name);
        if (fd < 0)
                return berth_error(err, errno, "open %s", upper);
        if (cm->clamp && clamp_tree(fd, cm->epoch, err) < 0)
                return -1;
        if (ingest_begin_unnamed(cs, &l.in, err) < 0)
                return -1;
        r = tree_tar_open(&t, &a, err);
        if (r == 0) {
                r = tree_tar_write(&t, a, fd, "", false, err);
                r = tree_tar_close(a, r == 0, r == 0 ? err : NULL) < 0 ? -1 : r;
        }
        if (r < 0 && l.err && err) {
                berth_error_free(err);
                *err = steal_pointer(&l.err);
        }
        berth_error_free(&l.err);
        if (r < 0 || t.entries == 0) {
                ingest_abort(l.in, false);
                return r;
        }
        *size = l.size;
        return ingest_commit_unnamed(l.in, diff_id, err);
}

/* ---- config and manifest documents ----------------------------------- */

static char *join_cmd(json_t *cmd)
{
        size_t n = 0, i;
        json_t *v;
        char *out = xstrdup("");

        json_array_foreach(cmd, i, v) {
                const char *s = json_string_value(v) ?: "";
                out = xrealloc(out, n + strlen(s) + 2);
                n += (size_t)sprintf(out + n, "%s%s", n ? " " : "", s);
        }
        return out;
}

static void set_or_delete(json_t *obj, const char *key, const char *value)
{
        if (value)
                json_object_set_new(obj, key, json_string(value));
        else
                json_object_del(obj, key);
}

/* The config document an image starts from without a base: this host's
 * platform, no layers, no history. */
static json_t *scratch_config_doc(void)
{
        struct platform p = { 0 };
        json_t *doc;

        platform_parse(NULL, &p, NULL);
        doc = json_pack("{s:s, s:s, s:{s:s, s:[]}, s:[]}", "architecture", p.arch ? p.arch : "amd64", "os",
                        p.os ? p.os : "linux", "rootfs", "type", "layers", "diff_ids", "history");
        if (p.variant)
                json_object_set_new(doc, "variant", json_string(p.variant));
        platform_clear(&p);
        return doc;
}

/* The image config document: the base's, moved on. */
static int config_doc(struct commit *cm, char **digest, size_t *len, berth_error_t **err)
{
        _cleanup_archive_json_ json_t *doc = cm->base_config ? json_loadb(cm->base_config, cm->base_config_len, 0, NULL)
                                                             : scratch_config_doc();
        _cleanup_free_ char *text = NULL;
        json_t *rootfs, *history, *h;

        if (!json_is_object(doc))
                return berth_error(err, 0, "the image config of %s is not a JSON object", cm->base_id);
        json_object_set(doc, "config", cm->cfg);
        set_or_delete(doc, "container", cm->container_id);
        json_object_del(doc, "container_config");
        json_object_set_new(doc, "created", json_string(cm->created));
        set_or_delete(doc, "author", cm->author);
        set_or_delete(doc, "comment", cm->comment);
        rootfs = json_object_get(doc, "rootfs");
        if (!json_is_object(rootfs))
                json_object_set_new(doc, "rootfs", rootfs = json_pack("{s:s, s:[]}", "type", "layers", "diff_ids"));
        if (cm->diff_id)
                json_array_append_new(json_object_get(rootfs, "diff_ids"), json_string(cm->diff_id));
        history = json_object_get(doc, "history");
        if (!json_is_array(history))
                json_object_set_new(doc, "history", history = json_array());
        /* an image made for FROM scratch alone has no step to tell of */
        if (cm->created_by != NULL || cm->diff_id != NULL) {
                h = json_pack("{s:s}", "created", cm->created);
                if (cm->author)
                        json_object_set_new(h, "author", json_string(cm->author));
                json_object_set_new(h, "created_by", json_string(cm->created_by ? cm->created_by : ""));
                if (cm->comment)
                        json_object_set_new(h, "comment", json_string(cm->comment));
                if (cm->diff_id == NULL)
                        json_object_set_new(h, "empty_layer", json_true());
                json_array_append_new(history, h);
        }
        text = json_dumps(doc, JSON_COMPACT);
        *len = strlen(text);
        return content_put(cm->cs, text, *len, digest, err);
}

/* The manifest: the base's, with the new config and the layer added
 * (without a base: a Docker schema2 manifest, as dockerd's builder
 * writes). */
static int manifest_doc(struct commit *cm, const char *config_digest, size_t config_len, char **digest,
                        berth_error_t **err)
{
        _cleanup_archive_json_ json_t *doc = NULL;
        _cleanup_manifest_ struct manifest *m = NULL;
        _cleanup_free_ char *text = NULL;
        json_t *config;
        bool docker = true;

        if (cm->base_manifest == NULL) {
                doc = json_pack("{s:i, s:s, s:{s:s}, s:[]}", "schemaVersion", 2, "mediaType",
                                MEDIA_TYPE_DOCKER_MANIFEST, "config", "mediaType", MEDIA_TYPE_DOCKER_CONFIG, "layers");
        } else {
                doc = json_loadb(cm->base_manifest, cm->base_manifest_len, 0, NULL);
                if (manifest_parse(cm->base_manifest, cm->base_manifest_len, NULL, &m, err) < 0 ||
                    !json_is_object(doc))
                        return berth_error_wrap(err, "the manifest of %s", cm->base_id);
                docker = m->kind == MANIFEST_KIND_DOCKER;
        }
        config = json_object_get(doc, "config");
        json_object_set_new(config, "digest", json_string(config_digest));
        json_object_set_new(config, "size", json_integer((json_int_t)config_len));
        json_object_del(config, "annotations");
        json_object_del(doc, "annotations");
        json_object_del(doc, "subject");
        if (cm->diff_id)
                json_array_append_new(json_object_get(doc, "layers"),
                                      json_pack("{s:s, s:s, s:I}", "mediaType",
                                                docker ? MEDIA_TYPE_DOCKER_LAYER : MEDIA_TYPE_OCI_LAYER, "digest",
                                                cm->diff_id, "size", (json_int_t)cm->layer_size));
        text = json_dumps(doc, JSON_COMPACT);
        return content_put(cm->cs, text, strlen(text), digest, err);
}

/* ---- the commit ---------------------------------------------------------- */

static int read_base(struct commit *cm, struct image_store *s, berth_error_t **err)
{
        struct imagedb_image img = { 0 };
        int r;

        if (cm->base_id == NULL)
                return 0;
        r = imagedb_image_get(image_store_db(s), cm->base_id, &img, err);
        if (r == 0)
                r = berth_fail(err, ENOENT, "No such image: %s", cm->base_id);
        if (r > 0)
                r = content_read(cm->cs, img.manifest_digest, &cm->base_manifest, &cm->base_manifest_len, err);
        if (r >= 0)
                r = content_read(cm->cs, cm->base_id, &cm->base_config, &cm->base_config_len, err);
        imagedb_image_clear(&img);
        return r < 0 ? -1 : 0;
}

/* docker commit's config: the container's over its image's, then the
 * commit's own; the history names the container's command. */
static int image_cfg_of(struct commit *cm, const struct engine_commit_opts *o, char **created_by,
                        berth_error_t **err)
{
        _cleanup_archive_json_ json_t *doc = json_loadb(cm->base_config, cm->base_config_len, 0, NULL);
        _cleanup_archive_json_ json_t *ctr_cfg = NULL;

        if (doc == NULL)
                return berth_error(err, 0, "the image config of %s is not JSON", cm->base_id);
        ctr_cfg = container_config(cm->c, json_object_get(doc, "config"));
        *created_by = join_cmd(json_object_get(ctr_cfg, "Cmd"));
        return commit_config(o, ctr_cfg, &cm->cfg, err);
}

/* The layer (if any), the config and manifest documents, and the
 * image's record: what commit and derive share. */
static int make_image(struct commit *cm, struct image_store *s, const char *const *names, char **id,
                      berth_error_t **err)
{
        _cleanup_free_ char *config_digest = NULL, *manifest_digest = NULL;
        size_t config_len = 0;

        if ((cm->c && write_layer(cm, &cm->diff_id, &cm->layer_size, err) < 0) ||
            config_doc(cm, &config_digest, &config_len, err) < 0 ||
            manifest_doc(cm, config_digest, config_len, &manifest_digest, err) < 0)
                return -1;
        return image_store_register(s, manifest_digest, NULL, names, NULL, NULL, id, err);
}

/* repo[:tag] fully qualified; tag "latest" unless given. */
static int commit_name(const struct engine_commit_opts *o, char **out, berth_error_t **err)
{
        _cleanup_image_ref_ struct image_ref ref = { 0 };
        _cleanup_free_ char *s = NULL;

        *out = NULL;
        if (o->repo == NULL)
                return 0;
        s = xasprintf("%s:%s", o->repo, o->tag ? o->tag : IMAGE_REF_DEFAULT_TAG);
        if (image_ref_parse(s, &ref, err) < 0 || ref.digest != NULL) {
                if (*err == NULL)
                        berth_fail(err, EINVAL, "invalid reference format: a commit is named by tag, not digest");
                (*err)->status = EINVAL;
                return -1;
        }
        *out = image_ref_string(&ref);
        return 0;
}

/* Pause a running container for the commit, as dockerd does by default;
 * true when we did (and must unpause). */
static bool commit_pause(struct engine *e, struct ctr *c, bool pause)
{
        bool running;

        pthread_mutex_lock(&c->lock);
        running = c->status == CTR_RUNNING;
        pthread_mutex_unlock(&c->lock);
        return pause && running && engine_container_pause(e, c->id, true, NULL) == 0;
}

static void commit_clear(struct commit *cm)
{
        free(cm->base_manifest);
        free(cm->base_config);
        json_decref(cm->cfg);
        free(cm->diff_id);
        free(cm->created);
        ctr_unref(cm->c);
}

int engine_container_commit(struct engine *e, const char *name, const struct engine_commit_opts *o, char **id,
                            berth_error_t **err)
{
        struct commit cm = { .e = e, .author = o->author, .comment = o->comment };
        _cleanup_free_ char *full = NULL, *created_by = NULL;
        const char *names[2] = { NULL, NULL };
        int r;

        if (archive_ctr(e, name, &cm.c, err) < 0 || commit_name(o, &full, err) < 0) {
                commit_clear(&cm);
                return -1;
        }
        names[0] = full;
        cm.base_id = cm.c->image_id;
        cm.container_id = cm.c->id;
        cm.created = now_rfc3339();
        bool paused = commit_pause(e, cm.c, o->pause);
        struct image_store *s = engine_images_lock(e);
        cm.cs = image_store_content(s);
        r = read_base(&cm, s, err);
        if (r == 0)
                r = image_cfg_of(&cm, o, &created_by, err);
        cm.created_by = created_by;
        if (r == 0)
                r = make_image(&cm, s, names, id, err);
        engine_images_unlock(e);
        if (paused)
                engine_container_pause(e, cm.c->id, false, NULL);
        if (r == 0)
                engine_container_event(e, cm.c, "commit",
                                       json_pack("{s:s, s:s, s:s}", "comment", o->comment ? o->comment : "", "imageID",
                                                 *id, "imageRef", full ? full : ""));
        commit_clear(&cm);
        return r;
}

/* ---- derive: the builder's steps ------------------------------------------ */

int engine_image_derive(struct engine *e, const struct engine_derive_opts *o, char **id, berth_error_t **err)
{
        struct commit cm = { .e = e, .base_id = o->base, .created_by = o->created_by, .comment = o->comment,
                           .author = o->author };
        const char *names[1] = { NULL };
        int r = 0;

        if (o->container != NULL) {
                if (archive_ctr(e, o->container, &cm.c, err) < 0) {
                        commit_clear(&cm);
                        return -1;
                }
                cm.base_id = cm.c->image_id;
                cm.container_id = o->reproducible ? NULL : cm.c->id;
        }
        cm.clamp = o->reproducible;
        cm.epoch = o->epoch;
        cm.cfg = o->config ? json_deep_copy(o->config) : json_object();
        cm.created = o->created ? xstrdup(o->created) : now_rfc3339();
        struct image_store *s = engine_images_lock(e);
        cm.cs = image_store_content(s);
        r = read_base(&cm, s, err);
        if (r == 0)
                r = make_image(&cm, s, names, id, err);
        engine_images_unlock(e);
        commit_clear(&cm);
        return r;
}
