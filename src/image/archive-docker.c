/* docker save, as Docker 25+ writes it: an OCI image layout whose layers
 * are uncompressed tars (each named by its DiffID), a new OCI manifest per
 * image pointing at them, and Docker's own manifest.json and repositories
 * beside it for older loaders.
 *
 * Two phases.  The plan reads every image and measures every compressed
 * layer (decompressed size and digest, checked against the config's
 * diff_id), since a tar header needs the size before the data; nothing is
 * written until all of that succeeded.  Then the blobs are written sorted
 * by digest, each once, decompressing again as they stream: no layer is
 * held in memory. */
#include "image/archive-internal.h"
#include "image/digest.h"

struct save_layer {
        const char *blob;               /* in the store */
        const char *diff_id;            /* what it is saved as */
        enum layer_compression c;
        int64_t size;                   /* uncompressed */
};

struct save_image {
        struct stored_image si;
        struct save_layer *layers;
        char *manifest;                 /* the new OCI manifest */
        size_t manifest_len;
        char *manifest_digest;
        int64_t config_size;
};

/* A blob of the archive: from the store or, for manifests, in memory. */
struct out_blob {
        const char *digest;             /* its name in the archive */
        const char *source;             /* stored blob, NULL for buf */
        enum layer_compression c;
        int64_t size;
        const char *buf;
};

static void save_images_free(struct save_image *img, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                stored_image_clear(&img[i].si);
                free(img[i].layers);
                free(img[i].manifest);
                free(img[i].manifest_digest);
        }
        free(img);
}

/* A compressed layer measured for an earlier image needs no second pass. */
static const struct save_layer *measured(const struct save_image *img, size_t n_img, const char *blob)
{
        for (size_t i = 0; i < n_img; i++)
                for (size_t j = 0; img[i].layers != NULL && j < img[i].si.m->n_layers; j++)
                        if (img[i].layers[j].blob != NULL && strcmp(img[i].layers[j].blob, blob) == 0)
                                return &img[i].layers[j];
        return NULL;
}

static int plan_layer(struct content_store *cs, const struct save_image *done, size_t n_done,
                      const struct descriptor *d, const char *diff_id, struct save_layer *l, berth_error_t **err)
{
        const struct save_layer *prev = measured(done, n_done, d->digest);
        struct layer_type t;
        _cleanup_free_ char *got = NULL;

        if (layer_media_type_parse(d->media_type, &t, err) < 0)
                return -1;
        l->blob = d->digest;
        l->diff_id = diff_id;
        l->c = t.compression;
        if (prev != NULL) {
                l->size = prev->size;
                got = xstrdup(prev->diff_id);
        } else if (l->c == LAYER_UNCOMPRESSED) {
                if (blob_size(cs, d->digest, &l->size, err) < 0)
                        return -1;
                got = xstrdup(d->digest);
        } else if (blob_uncompressed(cs, d->digest, l->c, &l->size, &got, err) < 0) {
                return -1;
        }
        if (strcmp(got, diff_id) != 0)
                return berth_error(err, 0, "layer %s: uncompressed digest %s, but the config's diff_id is %s",
                                   d->digest, got, diff_id);
        return 0;
}

static void make_manifest(struct save_image *img)
{
        const struct manifest *m = img->si.m;
        _cleanup_json_ json_t *doc = NULL;
        json_t *layers = json_array();

        for (size_t i = 0; i < m->n_layers; i++)
                json_array_append_new(layers, json_pack("{s:s, s:s, s:I}", "mediaType", MEDIA_TYPE_OCI_LAYER,
                                                        "digest", img->layers[i].diff_id, "size",
                                                        (json_int_t)img->layers[i].size));
        doc = json_pack("{s:i, s:s, s:{s:s, s:s, s:I}, s:o}", "schemaVersion", 2, "mediaType",
                        MEDIA_TYPE_OCI_MANIFEST, "config", "mediaType", MEDIA_TYPE_OCI_CONFIG, "digest",
                        m->config.digest, "size", (json_int_t)img->config_size, "layers", layers);
        img->manifest = json_compact(doc, &img->manifest_len);
        img->manifest_digest = digest_of(img->manifest, img->manifest_len);
}

static int plan_image(struct content_store *cs, const struct archive_image *in, struct save_image *img,
                      size_t n_done, berth_error_t **err)
{
        struct save_image *self = &img[n_done];
        const struct manifest *m;

        if (stored_image_read(cs, in, &self->si, err) < 0)
                return -1;
        m = self->si.m;
        if (blob_size(cs, m->config.digest, &self->config_size, err) < 0)
                return berth_error_wrap(err, "image %s", in->manifest_digest);
        self->layers = xcalloc(m->n_layers + 1, sizeof(*self->layers));
        for (size_t i = 0; i < m->n_layers; i++)
                if (plan_layer(cs, img, n_done + 1, &m->layers[i], self->si.config->diff_ids[i], &self->layers[i],
                               err) < 0)
                        return berth_error_wrap(err, "image %s", in->manifest_digest);
        make_manifest(self);
        return 0;
}

static int out_blob_cmp(const void *a, const void *b)
{
        return strcmp(((const struct out_blob *)a)->digest, ((const struct out_blob *)b)->digest);
}

/* Every blob once, sorted: configs, layers (by DiffID), manifests. */
static struct out_blob *collect_blobs(const struct save_image *img, size_t n, size_t *count)
{
        size_t cap = 0, k = 0, j;
        struct out_blob *b;

        for (size_t i = 0; i < n; i++)
                cap += 2 + img[i].si.m->n_layers;
        b = xcalloc(cap + 1, sizeof(*b));
        for (size_t i = 0; i < n; i++) {
                const struct manifest *m = img[i].si.m;

                b[k++] = (struct out_blob){ m->config.digest, m->config.digest, LAYER_UNCOMPRESSED,
                                            img[i].config_size, NULL };
                for (j = 0; j < m->n_layers; j++)
                        b[k++] = (struct out_blob){ img[i].layers[j].diff_id, img[i].layers[j].blob,
                                                    img[i].layers[j].c, img[i].layers[j].size, NULL };
                b[k++] = (struct out_blob){ img[i].manifest_digest, NULL, LAYER_UNCOMPRESSED,
                                            (int64_t)img[i].manifest_len, img[i].manifest };
        }
        qsort(b, k, sizeof(*b), out_blob_cmp);
        for (j = 0, *count = 0; j < k; j++)
                if (*count == 0 || strcmp(b[*count - 1].digest, b[j].digest) != 0)
                        b[(*count)++] = b[j];
        return b;
}

static int write_blobs(struct archive *a, struct content_store *cs, const struct save_image *img, size_t n,
                       berth_error_t **err)
{
        size_t count;
        _cleanup_free_ struct out_blob *b = collect_blobs(img, n, &count);

        if (tarw_dir(a, "blobs/", err) < 0 || tarw_dir(a, "blobs/sha256/", err) < 0)
                return -1;
        for (size_t i = 0; i < count; i++) {
                _cleanup_free_ char *path = blob_path(b[i].digest);
                int r = b[i].buf ? tarw_buf(a, path, b[i].buf, (size_t)b[i].size, err)
                                 : tarw_blob(a, cs, path, b[i].source, b[i].c, b[i].size, err);
                if (r < 0)
                        return -1;
        }
        return 0;
}

static json_t *path_json(const char *digest)
{
        _cleanup_free_ char *p = blob_path(digest);

        return json_string(p);
}

static json_t *manifest_json_entry(const struct save_image *img)
{
        const struct manifest *m = img->si.m;
        json_t *tags = img->si.n_tags ? json_array() : json_null(), *layers = json_array();

        for (size_t i = 0; i < img->si.n_tags; i++)
                json_array_append_new(tags, json_string(img->si.tags[i].familiar));
        for (size_t i = 0; i < m->n_layers; i++)
                json_array_append_new(layers, path_json(img->layers[i].diff_id));
        return json_pack("{s:o, s:o, s:o}", "Config", path_json(m->config.digest), "RepoTags", tags,
                         "Layers", layers);
}

/* index.json, manifest.json and, when anything is named, repositories. */
static int write_json(struct archive *a, const struct save_image *img, size_t n, berth_error_t **err)
{
        _cleanup_json_ json_t *index = index_new(json_array()), *docker = json_array(), *repos = json_object();
        json_t *manifests = json_object_get(index, "manifests");
        _cleanup_free_ char *index_s = NULL, *docker_s = NULL, *repos_s = NULL;
        size_t index_len, docker_len, repos_len;

        for (size_t i = 0; i < n; i++) {
                const struct stored_image *si = &img[i].si;

                index_add_manifest(manifests, MEDIA_TYPE_OCI_MANIFEST, img[i].manifest_digest,
                                   (int64_t)img[i].manifest_len, si->tags, si->n_tags, NULL);
                json_array_append_new(docker, manifest_json_entry(&img[i]));
                for (size_t t = 0; t < si->n_tags; t++) {
                        json_t *repo = json_object_get(repos, si->tags[t].repo);
                        if (repo == NULL)
                                json_object_set_new(repos, si->tags[t].repo, repo = json_object());
                        json_object_set_new(repo, si->tags[t].tag,
                                            json_string(si->m->config.digest + strlen("sha256:")));
                }
        }
        index_s = json_compact(index, &index_len);
        docker_s = json_compact(docker, &docker_len);
        repos_s = json_compact(repos, &repos_len);
        if (tarw_buf(a, "index.json", index_s, index_len, err) < 0 ||
            tarw_buf(a, "manifest.json", docker_s, docker_len, err) < 0 ||
            tarw_buf(a, "oci-layout", OCI_LAYOUT_JSON, strlen(OCI_LAYOUT_JSON), err) < 0)
                return -1;
        if (json_object_size(repos) > 0 && tarw_buf(a, "repositories", repos_s, repos_len, err) < 0)
                return -1;
        return 0;
}

int archive_save(struct content_store *cs, const struct archive_image *images, size_t n, int out_fd,
                 berth_error_t **err)
{
        struct save_image *img = xcalloc(n + 1, sizeof(*img));
        _cleanup_archive_write_ struct archive *a = NULL;
        size_t planned = 0;
        int ret = -1;

        if (n == 0) {
                berth_error(err, 0, "no image to save");
                goto out;
        }
        for (; planned < n; planned++)
                if (plan_image(cs, &images[planned], img, planned, err) < 0)
                        goto out;
        if (tarw_open(out_fd, &a, err) < 0 || write_blobs(a, cs, img, n, err) < 0 || write_json(a, img, n, err) < 0 ||
            tarw_close(&a, err) < 0)
                goto out;
        ret = 0;
out:
        /* the one being planned when it failed holds what it got so far */
        save_images_free(img, planned < n ? planned + 1 : n);
        return ret;
}
