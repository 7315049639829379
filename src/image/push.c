/* docker push: every blob the registry lacks (config and layers), then the
 * manifest, byte for byte as stored, so the digest users saw at pull time
 * is the one the registry serves.  Blobs already there are not sent
 * (HEAD); blobs another repository of the same registry has are mounted,
 * the way docker mounts base layers. */
#include "image/image.h"
#include "image/imagedb.h"
#include "image/manifest.h"
#include "image/reference.h"
#include "image/registry.h"
#include "image/store.h"
#include "util/util.h"

struct push {
        struct image_store *s;
        const struct image_push_opts *o;
        struct registry_client *client;
        const struct image_ref *dest;
        char **mount_sources;   /* other repositories of dest's registry holding this image */
};

static void progress(struct push *p, const char *digest, const char *status, int64_t cur, int64_t total)
{
        char id[13];

        if (p->o->progress == NULL)
                return;
        snprintf(id, sizeof(id), "%.12s", digest ? strchr(digest, ':') + 1 : "");
        p->o->progress(p->o->progress_data, &(struct image_progress){ .id = digest ? id : NULL, .status = status,
                                                                      .current = cur, .total = total });
}

static void on_progress(void *data, const char *digest, int64_t done, int64_t total)
{
        progress(data, digest, "Pushing", done, total);
}

/* Repositories on dest's registry, other than dest's, that the image came
 * from or was pushed to: its repo digests say so. */
static char **mount_sources(struct push *p, const char *id)
{
        _cleanup_strv_ char **names = NULL;
        char **out = xcalloc(1, sizeof(char *));
        size_t n = 0;

        if (imagedb_image_names(image_store_db(p->s), id, true, &names, NULL) < 0)
                return out;
        for (size_t i = 0; names[i]; i++) {
                _cleanup_image_ref_ struct image_ref r = { 0 };
                if (image_ref_parse(names[i], &r, NULL) < 0 || strcmp(r.domain, p->dest->domain) != 0 ||
                    strcmp(r.path, p->dest->path) == 0)
                        continue;
                out = xrealloc(out, (n + 2) * sizeof(char *));
                out[n++] = xstrdup(r.path);
                out[n] = NULL;
        }
        return out;
}

static int push_blob(struct push *p, const struct descriptor *d, berth_error_t **err)
{
        struct registry_push_opts po = { .chunk_size = p->o->chunk_size, .progress = on_progress, .progress_data = p };
        const char *from = p->mount_sources[0];
        int r;

        progress(p, d->digest, "Preparing", -1, -1);
        r = registry_push_blob(p->client, p->dest->path, d->digest, d->size, image_store_content(p->s), from, &po,
                               err);
        if (r < 0)
                return berth_error_wrap(err, "blob %s", d->digest);
        if (r == REGISTRY_BLOB_EXISTS) {
                progress(p, d->digest, "Layer already exists", -1, -1);
        } else if (r == REGISTRY_BLOB_MOUNTED) {
                _cleanup_free_ char *status = xasprintf("Mounted from %s", from);
                progress(p, d->digest, status, -1, -1);
        } else {
                progress(p, d->digest, "Pushed", -1, -1);
        }
        return 0;
}

static int push_blobs(struct push *p, const struct manifest *m, berth_error_t **err)
{
        for (size_t i = 0; i < m->n_layers; i++) {
                struct layer_type t;
                if (layer_media_type_parse(m->layers[i].media_type, &t, err) < 0)
                        return -1;
                /* foreign (non-distributable) layers stay where their
                 * urls say; docker does not push them either */
                if (t.foreign) {
                        progress(p, m->layers[i].digest, "Skipped foreign layer", -1, -1);
                        continue;
                }
                if (push_blob(p, &m->layers[i], err) < 0)
                        return -1;
        }
        return push_blob(p, &m->config, err);
}

static int do_push(struct push *p, const char *id, char **digest_out, berth_error_t **err)
{
        struct imagedb_image img = { 0 };
        _cleanup_free_ char *body = NULL;
        _cleanup_free_ char *digest = NULL;
        _cleanup_free_ char *repo = image_ref_name(p->dest);
        struct manifest *m = NULL;
        size_t len;
        int r;

        if (imagedb_image_get(image_store_db(p->s), id, &img, err) <= 0)
                return berth_error(err, ENOENT, "image %s is not recorded", id);
        r = content_read(image_store_content(p->s), img.manifest_digest, &body, &len, err);
        if (r == 0)
                r = manifest_parse(body, len, img.media_type, &m, err);
        p->mount_sources = mount_sources(p, id);
        if (r == 0)
                r = push_blobs(p, m, err);
        if (r == 0)
                r = registry_put_manifest(p->client, p->dest->path, p->dest->tag ? p->dest->tag : img.manifest_digest,
                                          img.media_type, body, len, &digest, err);
        if (r == 0) {
                /* remember where it went: the repo digest docker shows,
                 * and a mount source for the next push */
                _cleanup_free_ char *name = xasprintf("%s@%s", repo, digest);
                if (imagedb_begin(image_store_db(p->s), err) < 0 ||
                    imagedb_name_set(image_store_db(p->s), name, id, NULL, err) < 0 ||
                    imagedb_commit(image_store_db(p->s), err) < 0) {
                        imagedb_rollback(image_store_db(p->s));
                        r = -1;
                }
        }
        if (r == 0) {
                _cleanup_free_ char *line = xasprintf("%s: digest: %s size: %zu", p->dest->tag ? p->dest->tag : "",
                                                      digest, len);
                progress(p, NULL, line, -1, -1);
                if (digest_out)
                        *digest_out = steal_pointer(&digest);
        }
        manifest_free(m);
        imagedb_image_clear(&img);
        cleanup_strvp(&p->mount_sources);
        return r;
}

int image_push(struct image_store *s, const char *name, const char *dest, const struct image_push_opts *o,
               char **digest, berth_error_t **err)
{
        static const struct image_push_opts defaults;
        _cleanup_image_ref_ struct image_ref ref = { 0 };
        _cleanup_free_ char *id = NULL;
        struct push p = { .s = s, .o = o ? o : &defaults, .dest = &ref };
        int r;

        if (dest == NULL)
                dest = name;
        if (image_store_resolve(s, name, &id, err) < 0 || image_ref_parse(dest, &ref, err) < 0)
                return berth_error_wrap(err, "push %s", dest);
        r = image_registry_client(&ref, &p.o->reg, &p.client, err);
        if (r == 0)
                r = do_push(&p, id, digest, err);
        registry_client_free(p.client);
        return r < 0 ? berth_error_wrap(err, "push %s", dest) : 0;
}
