/* docker load, and OCI image archives: one pass over a tar stream (plain,
 * gzip, zstd...), entries in any order.
 *
 * While the stream passes: blobs/sha256/<hex> files are ingested under
 * that digest and verified (a mismatch commits nothing); other files that
 * may be a legacy layer or config ("<id>/layer.tar", "<hex>.json",
 * "<hex>.tar") are ingested under the digest of their content; symlinks
 * and hard links are remembered; manifest.json, index.json and oci-layout
 * are kept in memory, bounded.  Only then, with every path known, are the
 * images put together, each checked whole (config, every layer present
 * with its size, compression as its bytes say, uncompressed layers equal
 * to their diff_id), and only when all are good does the callback hear of
 * them. */
#include "image/archive-internal.h"
#include "image/digest.h"
#include "image/reference.h"

#define OCI_LAYOUT_MAX 4096

struct entry {
        char *path;
        char *digest;   /* the blob the file holds */
        char *link;     /* or where a symlink or hard link leads */
};

struct loaded {
        char *manifest;
        char **names;   /* NULL-terminated */
        size_t n_names;
};

/* A manifest of a docker-archive's index.json that it may keep. */
struct candidate {
        char *digest;
        struct manifest *m;
};

struct loader {
        struct content_store *cs;
        struct archive *a;
        char *buf;
        struct entry *e;
        size_t n, cap;
        char *manifest_json, *index_json, *layout;
        size_t manifest_len, index_len, layout_len;
        struct loaded *img;
        size_t n_img;
        struct candidate *cand;
        size_t n_cand;
};

static void loader_clear(struct loader *l)
{
        if (l->a)
                archive_read_free(l->a);
        free(l->buf);
        for (size_t i = 0; i < l->n; i++) {
                free(l->e[i].path);
                free(l->e[i].digest);
                free(l->e[i].link);
        }
        free(l->e);
        free(l->manifest_json);
        free(l->index_json);
        free(l->layout);
        for (size_t i = 0; i < l->n_img; i++) {
                free(l->img[i].manifest);
                strv_free(l->img[i].names);
        }
        free(l->img);
        for (size_t i = 0; i < l->n_cand; i++) {
                free(l->cand[i].digest);
                manifest_free(l->cand[i].m);
        }
        free(l->cand);
}

/* ---- the stream ---------------------------------------------------------- */

/* Takes digest and link. */
static int add_entry(struct loader *l, const char *path, char *digest, char *link, berth_error_t **err)
{
        if (l->n == ARCHIVE_MAX_ENTRIES) {
                free(digest);
                free(link);
                return berth_error(err, 0, "more than %d files and links in the archive", ARCHIVE_MAX_ENTRIES);
        }
        if (l->n == l->cap) {
                l->cap = l->cap ? 2 * l->cap : 64;
                l->e = xrealloc(l->e, l->cap * sizeof(*l->e));
        }
        l->e[l->n++] = (struct entry){ xstrdup(path), digest, link };
        return 0;
}

static int copy_entry(struct loader *l, struct ingest *in, berth_error_t **err)
{
        la_ssize_t n;

        while ((n = archive_read_data(l->a, l->buf, ARCHIVE_BUF)) > 0)
                if (ingest_write(in, l->buf, (size_t)n, err) < 0)
                        return -1;
        if (n < 0)
                return archive_fail(l->a, "read archive", err);
        return 0;
}

/* A small JSON file kept whole. */
static int read_small(struct loader *l, const char *path, int64_t size, size_t max, char **buf, size_t *len,
                      berth_error_t **err)
{
        size_t got = 0;
        la_ssize_t n;

        if (*buf != NULL)
                return berth_error(err, 0, "%s appears twice in the archive", path);
        if (size < 0 || (uint64_t)size > max)
                return berth_error(err, EFBIG, "%s: %lld bytes, more than the %zu allowed", path, (long long)size,
                                   max);
        *buf = xmalloc((size_t)size + 1);
        while (got < (size_t)size && (n = archive_read_data(l->a, *buf + got, (size_t)size - got)) > 0)
                got += (size_t)n;
        if (got < (size_t)size)
                return archive_fail(l->a, "read archive", err);
        (*buf)[got] = '\0';
        *len = got;
        return 0;
}

/* blobs/sha256/<hex>: verified against its name before it is committed. */
static int load_blob(struct loader *l, const char *path, int64_t size, berth_error_t **err)
{
        _cleanup_free_ char *digest = xasprintf("sha256:%s", path + strlen("blobs/sha256/"));
        struct ingest *in;
        int64_t offset;

        if (!content_exists(l->cs, digest)) {
                if (ingest_begin(l->cs, digest, size, &in, &offset, err) < 0)
                        return -1;
                if (offset > 0) {
                        /* left by an interrupted pull: a stream cannot resume it */
                        ingest_abort(in, false);
                        if (ingest_begin(l->cs, digest, size, &in, &offset, err) < 0)
                                return -1;
                }
                if (offset > 0 || copy_entry(l, in, err) < 0) {
                        ingest_abort(in, offset > 0);
                        if (offset > 0)
                                return berth_error(err, EBUSY, "blob %s is being written by someone else", digest);
                        return -1;
                }
                if (ingest_commit(in, err) < 0)
                        return -1;
        }
        return add_entry(l, path, steal_pointer(&digest), NULL, err);
}

/* Anything else that may be referred to: stored under its own digest. */
static int spool(struct loader *l, const char *path, berth_error_t **err)
{
        struct ingest *in;
        char *digest = NULL;

        if (ingest_begin_unnamed(l->cs, &in, err) < 0)
                return -1;
        if (copy_entry(l, in, err) < 0) {
                ingest_abort(in, false);
                return -1;
        }
        if (ingest_commit_unnamed(in, &digest, err) < 0)
                return -1;
        return add_entry(l, path, digest, NULL, err);
}

static bool is_blob_name(const char *path)
{
        const char *hex = path + strlen("blobs/sha256/");

        if (!str_has_prefix(path, "blobs/sha256/") || strlen(hex) != 64)
                return false;
        for (const char *p = hex; *p; p++)
                if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
                        return false;
        return true;
}

/* Files of a legacy archive no loader needs: v1 metadata. */
static bool ignored(const char *path)
{
        const char *base = strrchr(path, '/');

        base = base ? base + 1 : path;
        return strcmp(path, "repositories") == 0 || strcmp(base, "json") == 0 || strcmp(base, "VERSION") == 0 ||
               str_has_prefix(path, "blobs/") || *base == '\0';
}

static int load_file(struct loader *l, struct archive_entry *ae, const char *path, berth_error_t **err)
{
        int64_t size = archive_entry_size_is_set(ae) ? archive_entry_size(ae) : -1;
        int r;

        if (strcmp(path, "manifest.json") == 0)
                return read_small(l, path, size, ARCHIVE_JSON_MAX, &l->manifest_json, &l->manifest_len, err);
        if (strcmp(path, "index.json") == 0)
                return read_small(l, path, size, ARCHIVE_JSON_MAX, &l->index_json, &l->index_len, err);
        if (strcmp(path, "oci-layout") == 0)
                return read_small(l, path, size, OCI_LAYOUT_MAX, &l->layout, &l->layout_len, err);
        if (is_blob_name(path))
                r = load_blob(l, path, size, err);
        else if (ignored(path))
                return 0;
        else
                r = spool(l, path, err);
        if (r < 0) {
                _cleanup_free_ char *q = quote(path);
                return berth_error_wrap(err, "archive entry %s", q);
        }
        return 0;
}

static int load_entry(struct loader *l, struct archive_entry *ae, berth_error_t **err)
{
        const char *name = archive_entry_pathname(ae), *hard = archive_entry_hardlink(ae), *target;
        _cleanup_free_ char *path = NULL;
        char *link = NULL;

        if (name == NULL)
                return berth_error(err, 0, "archive entry without a name");
        if (archive_path_clean(name, &path, err) < 0)
                return -1;
        if (hard != NULL) {
                if (archive_path_clean(hard, &link, err) < 0)
                        return -1;
                return add_entry(l, path, NULL, link, err);
        }
        switch (archive_entry_filetype(ae)) {
        case AE_IFLNK:
                target = archive_entry_symlink(ae);
                if (target == NULL) {
                        _cleanup_free_ char *q = quote(path);
                        return berth_error(err, 0, "archive entry %s: symlink without a target", q);
                }
                if (archive_link_resolve(path, target, &link, err) < 0)
                        return -1;
                return add_entry(l, path, NULL, link, err);
        case AE_IFREG:
                return load_file(l, ae, path, err);
        default:
                return 0; /* directories and the like: nothing to load */
        }
}

static int read_stream(struct loader *l, int fd, berth_error_t **err)
{
        struct archive_entry *ae;
        int r;

        l->buf = xmalloc(ARCHIVE_BUF);
        l->a = archive_read_new();
        if (l->a == NULL)
                abort();
        if (archive_read_filters(l->a, err) < 0)
                return -1;
        if (archive_read_support_format_tar(l->a) != ARCHIVE_OK ||
            archive_read_open_fd(l->a, fd, ARCHIVE_BUF) != ARCHIVE_OK)
                return archive_fail(l->a, "read archive", err);
        while ((r = archive_read_next_header(l->a, &ae)) == ARCHIVE_OK || r == ARCHIVE_WARN)
                if (load_entry(l, ae, err) < 0)
                        return -1;
        if (r != ARCHIVE_EOF)
                return archive_fail(l->a, "read archive", err);
        return 0;
}

/* ---- paths --------------------------------------------------------------- */

static int entry_cmp(const void *a, const void *b)
{
        return strcmp(((const struct entry *)a)->path, ((const struct entry *)b)->path);
}

static int sort_entries(struct loader *l, berth_error_t **err)
{
        if (l->n > 0)
                qsort(l->e, l->n, sizeof(*l->e), entry_cmp);
        for (size_t i = 1; i < l->n; i++)
                if (strcmp(l->e[i - 1].path, l->e[i].path) == 0) {
                        _cleanup_free_ char *q = quote(l->e[i].path);
                        return berth_error(err, 0, "archive entry %s appears twice", q);
                }
        return 0;
}

/* The blob a path names in manifest.json, through links. */
static int resolve(struct loader *l, const char *at, const char *name, const char **digest, berth_error_t **err)
{
        _cleanup_free_ char *path = NULL, *q = quote(name);
        struct entry key = { 0 };

        if (archive_path_clean(name, &path, err) < 0)
                return berth_error_wrap(err, "%s", at);
        key.path = path;
        for (int hops = 0; hops <= ARCHIVE_LINK_HOPS; hops++) {
                const struct entry *e = l->n ? bsearch(&key, l->e, l->n, sizeof(*l->e), entry_cmp) : NULL;

                if (e == NULL)
                        return berth_error(err, ENOENT, "%s: %s is not in the archive", at, q);
                if (e->digest != NULL) {
                        *digest = e->digest;
                        return 0;
                }
                key.path = e->link;
        }
        return berth_error(err, ELOOP, "%s: %s: too many levels of links", at, q);
}

/* ---- checking an image --------------------------------------------------- */

static int read_doc(struct loader *l, const char *digest, size_t max, char **raw, size_t *len, berth_error_t **err)
{
        int64_t size;

        if (!content_exists(l->cs, digest))
                return berth_error(err, ENOENT, "%s is not in the archive", digest);
        if (blob_size(l->cs, digest, &size, err) < 0)
                return -1;
        if ((uint64_t)size > max)
                return berth_error(err, EFBIG, "%s: %lld bytes, more than the %zu allowed", digest, (long long)size,
                                   max);
        return content_read(l->cs, digest, raw, len, err);
}

static int read_config(struct loader *l, const struct descriptor *d, struct image_config **c, berth_error_t **err)
{
        _cleanup_free_ char *raw = NULL;
        size_t len;

        if (read_doc(l, d->digest, IMAGE_CONFIG_MAX_SIZE, &raw, &len, err) < 0)
                return -1;
        if (d->size >= 0 && (size_t)d->size != len)
                return berth_error(err, 0, "%s: %zu bytes, not %lld", d->digest, len, (long long)d->size);
        return image_config_parse(raw, len, c, err);
}

static int check_layer(struct loader *l, const struct descriptor *d, const char *diff_id, berth_error_t **err)
{
        enum layer_compression sniffed;
        struct layer_type t;
        int64_t size;

        if (!content_exists(l->cs, d->digest))
                return berth_error(err, ENOENT, "%s is not in the archive", d->digest);
        if (layer_media_type_parse(d->media_type, &t, err) < 0 || blob_size(l->cs, d->digest, &size, err) < 0 ||
            blob_sniff(l->cs, d->digest, &sniffed, err) < 0)
                return -1;
        if (size != d->size)
                return berth_error(err, 0, "%s: %lld bytes, not %lld", d->digest, (long long)size,
                                   (long long)d->size);
        if (sniffed != t.compression)
                return berth_error(err, 0, "%s: content does not match its media type %s", d->digest,
                                   d->media_type);
        /* a compressed layer's DiffID is checked when it is unpacked, as after a pull */
        if (t.compression == LAYER_UNCOMPRESSED && strcmp(d->digest, diff_id) != 0)
                return berth_error(err, 0, "%s: not the config's diff_id %s", d->digest, diff_id);
        return 0;
}

/* Config and every layer present and consistent. */
static int check_image(struct loader *l, const struct manifest *m, bool platform, berth_error_t **err)
{
        _cleanup_image_config_ struct image_config *c = NULL;

        if (manifest_check_image(m, err) < 0)
                return -1;
        if (read_config(l, &m->config, &c, err) < 0 || image_config_check_layers(c, m, err) < 0 ||
            (platform && image_config_check_platform(c, NULL, err) < 0))
                return berth_error_wrap(err, "config");
        for (size_t i = 0; i < m->n_layers; i++)
                if (check_layer(l, &m->layers[i], c->diff_ids[i], err) < 0)
                        return berth_error_wrap(err, "layer %zu", i);
        return 0;
}

static int read_manifest(struct loader *l, const char *digest, struct manifest **m, berth_error_t **err)
{
        _cleanup_free_ char *raw = NULL;
        size_t len;

        if (read_doc(l, digest, MANIFEST_MAX_SIZE, &raw, &len, err) < 0)
                return -1;
        return manifest_parse(raw, len, NULL, m, err);
}

/* ---- the images found ---------------------------------------------------- */

static void add_name(struct loaded *img, const char *name)
{
        for (size_t i = 0; i < img->n_names; i++)
                if (strcmp(img->names[i], name) == 0)
                        return;
        img->names = xrealloc(img->names, (img->n_names + 2) * sizeof(*img->names));
        img->names[img->n_names++] = xstrdup(name);
        img->names[img->n_names] = NULL;
}

static void add_loaded(struct loader *l, const char *manifest, char *const *names)
{
        struct loaded *img = NULL;

        for (size_t i = 0; i < l->n_img && img == NULL; i++)
                if (strcmp(l->img[i].manifest, manifest) == 0)
                        img = &l->img[i];
        if (img == NULL) {
                l->img = xrealloc(l->img, (l->n_img + 1) * sizeof(*l->img));
                img = &l->img[l->n_img++];
                *img = (struct loaded){ xstrdup(manifest), xcalloc(1, sizeof(char *)), 0 };
        }
        for (size_t i = 0; names != NULL && names[i] != NULL; i++)
                add_name(img, names[i]);
}

/* A name as the archive gives it, in the familiar form Docker prints
 * ("busybox:latest"), which parses back to the same reference. */
static int parse_name(const char *at, const char *s, bool tag_only, char **out, berth_error_t **err)
{
        _cleanup_image_ref_ struct image_ref r = { 0 };

        if (image_ref_parse(s, &r, err) < 0)
                return berth_error_wrap(err, "%s", at);
        if (tag_only && r.digest != NULL) {
                _cleanup_free_ char *q = quote(s);
                return berth_error(err, 0, "%s: %s is not a tag", at, q);
        }
        *out = image_ref_familiar(&r);
        return 0;
}

/* ---- docker-archive ------------------------------------------------------ */

static void add_candidate(struct loader *l, const char *digest)
{
        struct manifest *m = NULL;

        if (l->n_cand >= INDEX_MAX_MANIFESTS || read_manifest(l, digest, &m, NULL) < 0)
                return; /* not there or not a manifest: not one to keep */
        l->cand = xrealloc(l->cand, (l->n_cand + 1) * sizeof(*l->cand));
        l->cand[l->n_cand++] = (struct candidate){ xstrdup(digest), m };
}

static void add_index_candidates(struct loader *l, const char *digest)
{
        _cleanup_index_ struct index *ix = NULL;
        _cleanup_free_ char *raw = NULL;
        size_t len;

        if (read_doc(l, digest, MANIFEST_MAX_SIZE, &raw, &len, NULL) < 0 || index_parse(raw, len, NULL, &ix, NULL) < 0)
                return;
        for (size_t i = 0; i < ix->n; i++) {
                enum manifest_kind k = manifest_kind_from_media_type(ix->manifests[i].media_type);
                if (k == MANIFEST_KIND_DOCKER || k == MANIFEST_KIND_OCI)
                        add_candidate(l, ix->manifests[i].digest);
        }
}

/* The manifests of index.json (and of the indexes it names, one level):
 * Docker 25+ writes both files, and keeping its manifest keeps the digest. */
static int load_candidates(struct loader *l, berth_error_t **err)
{
        _cleanup_index_ struct index *ix = NULL;

        if (index_parse(l->index_json, l->index_len, NULL, &ix, err) < 0)
                return berth_error_wrap(err, "index.json");
        for (size_t i = 0; i < ix->n; i++) {
                enum manifest_kind k = manifest_kind_from_media_type(ix->manifests[i].media_type);
                if (k == MANIFEST_KIND_DOCKER || k == MANIFEST_KIND_OCI)
                        add_candidate(l, ix->manifests[i].digest);
                else if (k != 0)
                        add_index_candidates(l, ix->manifests[i].digest);
        }
        return 0;
}

static const struct candidate *find_candidate(struct loader *l, const char *config, const char *const *layers,
                                              size_t n)
{
        for (size_t i = 0; i < l->n_cand; i++) {
                const struct manifest *m = l->cand[i].m;
                size_t j;

                if (strcmp(m->config.digest, config) != 0 || m->n_layers != n)
                        continue;
                for (j = 0; j < n && strcmp(m->layers[j].digest, layers[j]) == 0; j++)
                        ;
                if (j == n && check_image(l, m, false, NULL) == 0)
                        return &l->cand[i];
        }
        return NULL;
}

/* An OCI manifest for the blobs manifest.json names, media types from
 * what the bytes are. */
static int make_manifest(struct loader *l, const char *config, const char *const *layers, size_t n, char **raw,
                         size_t *len, berth_error_t **err)
{
        static const char *const types[] = { [LAYER_UNCOMPRESSED] = MEDIA_TYPE_OCI_LAYER,
                                             [LAYER_GZIP] = MEDIA_TYPE_OCI_LAYER_GZIP,
                                             [LAYER_ZSTD] = MEDIA_TYPE_OCI_LAYER_ZSTD };
        _cleanup_json_ json_t *doc = NULL;
        json_t *jl = json_array();
        int64_t size;
        enum layer_compression c;

        for (size_t i = 0; i < n; i++) {
                if (blob_size(l->cs, layers[i], &size, err) < 0 || blob_sniff(l->cs, layers[i], &c, err) < 0) {
                        json_decref(jl);
                        return -1;
                }
                json_array_append_new(jl, json_pack("{s:s, s:s, s:I}", "mediaType", types[c], "digest", layers[i],
                                                    "size", (json_int_t)size));
        }
        if (blob_size(l->cs, config, &size, err) < 0) {
                json_decref(jl);
                return -1;
        }
        doc = json_pack("{s:i, s:s, s:{s:s, s:s, s:I}, s:o}", "schemaVersion", 2, "mediaType",
                        MEDIA_TYPE_OCI_MANIFEST, "config", "mediaType", MEDIA_TYPE_OCI_CONFIG, "digest", config,
                        "size", (json_int_t)size, "layers", jl);
        *raw = json_compact(doc, len);
        return 0;
}

/* The manifest for one entry of manifest.json: index.json's when one
 * matches, else a new one, checked before it is stored. */
static int docker_manifest(struct loader *l, const char *config, const char *const *layers, size_t n, char **out,
                           berth_error_t **err)
{
        const struct candidate *cand = find_candidate(l, config, layers, n);
        _cleanup_manifest_ struct manifest *m = NULL;
        _cleanup_free_ char *raw = NULL;
        size_t len;

        if (cand != NULL) {
                *out = xstrdup(cand->digest);
                return 0;
        }
        if (make_manifest(l, config, layers, n, &raw, &len, err) < 0 || manifest_parse(raw, len, NULL, &m, err) < 0 ||
            check_image(l, m, false, err) < 0)
                return -1;
        return content_put(l->cs, raw, len, out, err);
}

static int docker_names(const char *at, json_t *tags, char ***out, berth_error_t **err)
{
        size_t i;
        json_t *v;
        char **names;

        if (tags != NULL && !json_is_array(tags))
                return berth_error(err, 0, "%s.RepoTags: not an array", at);
        if (json_array_size(tags) > ARCHIVE_MAX_TAGS)
                return berth_error(err, 0, "%s.RepoTags: more than %d names", at, ARCHIVE_MAX_TAGS);
        names = *out = xcalloc(json_array_size(tags) + 1, sizeof(char *));
        json_array_foreach(tags, i, v) {
                char f[80];
                snprintf(f, sizeof(f), "%s.RepoTags[%zu]", at, i);
                if (!json_is_string(v))
                        return berth_error(err, 0, "%s: not a string", f);
                if (parse_name(f, json_string_value(v), true, &names[i], err) < 0)
                        return -1;
        }
        return 0;
}

static int docker_layers(struct loader *l, const char *at, json_t *jl, const char ***out, berth_error_t **err)
{
        size_t i;
        json_t *v;

        if (jl != NULL && !json_is_array(jl))
                return berth_error(err, 0, "%s.Layers: not an array", at);
        if (json_array_size(jl) > MANIFEST_MAX_LAYERS)
                return berth_error(err, 0, "%s.Layers: more than %d layers", at, MANIFEST_MAX_LAYERS);
        *out = xcalloc(json_array_size(jl) + 1, sizeof(char *));
        json_array_foreach(jl, i, v) {
                char f[80];
                snprintf(f, sizeof(f), "%s.Layers[%zu]", at, i);
                if (!json_is_string(v))
                        return berth_error(err, 0, "%s: not a string", f);
                if (resolve(l, f, json_string_value(v), &(*out)[i], err) < 0)
                        return -1;
        }
        return 0;
}

static int docker_image(struct loader *l, size_t i, json_t *v, berth_error_t **err)
{
        _cleanup_strv_ char **names = NULL;
        _cleanup_free_ const char **layers = NULL;
        _cleanup_free_ char *manifest = NULL;
        const char *config_path, *config;
        char at[48];

        snprintf(at, sizeof(at), "manifest.json: [%zu]", i);
        if (!json_is_object(v))
                return berth_error(err, 0, "%s: not an object", at);
        config_path = json_string_value(json_object_get(v, "Config"));
        if (config_path == NULL)
                return berth_error(err, 0, "%s.Config: missing or not a string", at);
        if (resolve(l, at, config_path, &config, err) < 0 ||
            docker_layers(l, at, doc_member(v, "Layers"), &layers, err) < 0 ||
            docker_names(at, doc_member(v, "RepoTags"), &names, err) < 0)
                return -1;
        if (docker_manifest(l, config, layers, json_array_size(doc_member(v, "Layers")), &manifest, err) < 0)
                return berth_error_wrap(err, "%s", at);
        add_loaded(l, manifest, names);
        return 0;
}

static int load_docker(struct loader *l, berth_error_t **err)
{
        _cleanup_json_ json_t *doc = NULL;
        json_error_t jerr;
        json_t *v;
        size_t i;

        doc = json_loadb(l->manifest_json, l->manifest_len, JSON_REJECT_DUPLICATES, &jerr);
        if (doc == NULL) {
                _cleanup_free_ char *why = quote_n(jerr.text, strnlen(jerr.text, sizeof(jerr.text)));
                return berth_error(err, 0, "manifest.json: invalid JSON: %s (line %d)", why, jerr.line);
        }
        if (!json_is_array(doc))
                return berth_error(err, 0, "manifest.json: not an array");
        if (json_array_size(doc) > ARCHIVE_MAX_IMAGES)
                return berth_error(err, 0, "manifest.json: more than %d images", ARCHIVE_MAX_IMAGES);
        if (l->index_json != NULL && load_candidates(l, err) < 0)
                return -1;
        json_array_foreach(doc, i, v)
                if (docker_image(l, i, v, err) < 0)
                        return -1;
        return 0;
}

/* ---- OCI archive --------------------------------------------------------- */

static int check_layout(struct loader *l, berth_error_t **err)
{
        _cleanup_json_ json_t *doc = NULL;
        const char *v;

        if (l->layout == NULL)
                return berth_error(err, 0, "not an image archive: no manifest.json, and no oci-layout");
        if (doc_load(l->layout, l->layout_len, OCI_LAYOUT_MAX, &doc, err) < 0)
                return berth_error_wrap(err, "oci-layout");
        v = json_string_value(json_object_get(doc, "imageLayoutVersion"));
        if (v == NULL || !str_has_prefix(v, "1."))
                return berth_error(err, 0, "oci-layout: imageLayoutVersion is not 1.x");
        return 0;
}

/* containerd's full name, else ref.name when it is more than a tag (a
 * bare tag names no repository). */
static int oci_name(const char *at, const struct descriptor *d, char **out, berth_error_t **err)
{
        const char *full = json_string_value(json_object_get(d->annotations, "io.containerd.image.name"));
        const char *ref = json_string_value(json_object_get(d->annotations, "org.opencontainers.image.ref.name"));

        *out = NULL;
        if (full == NULL && ref != NULL && strpbrk(ref, "/:@") != NULL)
                full = ref;
        return full ? parse_name(at, full, false, out, err) : 0;
}

/* An index in the archive gives this host's manifest. */
static int select_manifest(struct loader *l, const struct descriptor *d, const char **out, bool *check_platform,
                           struct index **ix, berth_error_t **err)
{
        _cleanup_free_ char *raw = NULL;
        const struct descriptor *chosen;
        size_t len;
        int r;

        if (read_doc(l, d->digest, MANIFEST_MAX_SIZE, &raw, &len, err) < 0 || index_parse(raw, len, NULL, ix, err) < 0)
                return -1;
        r = index_select_platform(*ix, NULL, &chosen, err);
        if (r < 0)
                return -1;
        *check_platform = r == 1;
        *out = chosen->digest;
        return 0;
}

static int oci_image(struct loader *l, size_t i, const struct descriptor *d, berth_error_t **err)
{
        enum manifest_kind k = manifest_kind_from_media_type(d->media_type);
        _cleanup_index_ struct index *ix = NULL;
        _cleanup_manifest_ struct manifest *m = NULL;
        _cleanup_free_ char *name = NULL;
        const char *digest = d->digest;
        bool platform = false;
        int64_t size;
        char at[48];

        snprintf(at, sizeof(at), "index.json: manifests[%zu]", i);
        if (k == 0)
                return 0; /* not an image: an artifact, a signature... */
        if (oci_name(at, d, &name, err) < 0)
                return -1;
        if (!content_exists(l->cs, digest))
                return berth_error(err, ENOENT, "%s: %s is not in the archive", at, digest);
        if (blob_size(l->cs, digest, &size, err) < 0)
                return -1;
        if (size != d->size)
                return berth_error(err, 0, "%s: %s is %lld bytes, not %lld", at, digest, (long long)size,
                                   (long long)d->size);
        if (manifest_kind_is_index(k) && select_manifest(l, d, &digest, &platform, &ix, err) < 0)
                return berth_error_wrap(err, "%s", at);
        if (read_manifest(l, digest, &m, err) < 0 || check_image(l, m, platform, err) < 0)
                return berth_error_wrap(err, "%s: %s", at, digest);
        add_loaded(l, digest, (char *const[]){ name, NULL });
        return 0;
}

static int load_oci(struct loader *l, berth_error_t **err)
{
        _cleanup_index_ struct index *ix = NULL;

        if (check_layout(l, err) < 0)
                return -1;
        if (index_parse(l->index_json, l->index_len, NULL, &ix, err) < 0)
                return berth_error_wrap(err, "index.json");
        for (size_t i = 0; i < ix->n; i++)
                if (oci_image(l, i, &ix->manifests[i], err) < 0)
                        return -1;
        return 0;
}

/* ---- the whole ----------------------------------------------------------- */

static int load(struct loader *l, int fd, berth_error_t **err)
{
        if (read_stream(l, fd, err) < 0 || sort_entries(l, err) < 0)
                return -1;
        if (l->manifest_json != NULL) {
                if (load_docker(l, err) < 0)
                        return -1;
        } else if (l->index_json != NULL) {
                if (load_oci(l, err) < 0)
                        return -1;
        } else {
                return berth_error(err, 0, "not an image archive: no manifest.json, and no index.json");
        }
        if (l->n_img == 0)
                return berth_error(err, 0, "no image in the archive");
        return 0;
}

int archive_load(struct content_store *cs, int in_fd, archive_loaded_fn cb, void *data, berth_error_t **err)
{
        struct loader l = { .cs = cs };
        int ret = load(&l, in_fd, err);

        for (size_t i = 0; ret == 0 && i < l.n_img; i++)
                ret = cb(data, l.img[i].manifest, (const char *const *)l.img[i].names, err);
        loader_clear(&l);
        return ret;
}
