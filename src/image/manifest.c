/* Manifests and indexes: which kind a document is, its descriptors, and
 * whether the engine can run the image it describes.  Also the JSON field
 * readers platform.c and image-config.c share (manifest-internal.h). */
#include "image/manifest-internal.h"
#include "image/digest.h"
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---- JSON readers (manifest-internal.h) ------------------------------------ */

/* Document bytes made safe for a message: control characters escaped, cut after
 * max bytes, quoted if asked.  Caller frees. */
static char *escaped(const char *s, size_t max, bool quote)
{
        size_t n = strlen(s), cut = n > max ? max : n;
        char *out = xmalloc(cut * 4 + 8), *p = out;

        if (quote)
                *p++ = '"';
        for (size_t i = 0; i < cut; i++) {
                unsigned char c = (unsigned char)s[i];
                if (quote && (c == '"' || c == '\\')) {
                        *p++ = '\\';
                        *p++ = (char)c;
                } else if (c < 0x20 || c == 0x7f) {
                        p += sprintf(p, "\\x%02x", c);
                } else if (c == 0xc2 && i + 1 < cut && (unsigned char)s[i + 1] >= 0x80 &&
                           (unsigned char)s[i + 1] <= 0x9f) {
                        /* U+0080..U+009F: C1 controls some terminals obey */
                        p += sprintf(p, "\\u%04x", (unsigned char)s[++i]);
                } else {
                        *p++ = (char)c;
                }
        }
        if (quote)
                *p++ = '"';
        if (cut < n)
                p += sprintf(p, "...");
        *p = '\0';
        return out;
}

char *doc_quoted(const char *s)
{
        return escaped(s, 80, true);
}

int doc_get_string(json_t *obj, const char *at, const char *key, bool required, char **out,
                   berth_error_t **err)
{
        json_t *v = doc_member(obj, key);
        char f[160];

        if (v == NULL)
                return required ? berth_error(err, 0, "%s: missing", doc_field(f, sizeof(f), at, key)) : 0;
        if (!json_is_string(v))
                return berth_error(err, 0, "%s: not a string", doc_field(f, sizeof(f), at, key));
        *out = xstrdup(json_string_value(v));
        return 0;
}

int doc_get_strv(json_t *obj, const char *at, const char *key, size_t max, char ***out, size_t *count,
                 berth_error_t **err)
{
        json_t *v = doc_member(obj, key), *s;
        char f[160];
        size_t i, n;

        if (v == NULL)
                return 0;
        doc_field(f, sizeof(f), at, key);
        if (!json_is_array(v))
                return berth_error(err, 0, "%s: not an array", f);
        n = json_array_size(v);
        if (n > max)
                return berth_error(err, 0, "%s: %zu entries, more than the %zu allowed", f, n, max);
        *out = xcalloc(n + 1, sizeof(char *));
        json_array_foreach(v, i, s) {
                if (!json_is_string(s))
                        return berth_error(err, 0, "%s[%zu]: not a string", f, i);
                (*out)[i] = xstrdup(json_string_value(s));
        }
        if (count)
                *count = n;
        return 0;
}

int doc_get_string_map(json_t *obj, const char *at, const char *key, json_t **out, berth_error_t **err)
{
        json_t *v = doc_member(obj, key), *s;
        const char *k;
        char f[160];

        if (v == NULL)
                return 0;
        doc_field(f, sizeof(f), at, key);
        if (!json_is_object(v))
                return berth_error(err, 0, "%s: not an object", f);
        json_object_foreach(v, k, s) {
                if (!json_is_string(s)) {
                        _cleanup_free_ char *q = doc_quoted(k);
                        return berth_error(err, 0, "%s[%s]: not a string", f, q);
                }
        }
        *out = json_incref(v);
        return 0;
}

/* digest_parse knows the form; descriptors and diff_ids here are sha256
 * only, and the message says so in the words the callers expect. */
int doc_check_digest(const char *digest, const char *what, berth_error_t **err)
{
        _cleanup_free_ char *q = NULL;
        struct digest d;

        if (digest_parse(digest, &d, NULL) == 0 && strcmp(d.algo, "sha256") == 0)
                return 0;
        q = doc_quoted(digest);
        return berth_error(err, 0, "%s: %s is not a sha256 digest (\"sha256:\" and 64 lowercase hex digits)", what, q);
}

/* A media type compared the way HTTP does: case-insensitive, parameters
 * (";charset=utf-8") and surrounding blanks ignored. */
static bool media_type_is(const char *mt, const char *want)
{
        size_t n;

        if (mt == NULL)
                return false;
        while (*mt == ' ' || *mt == '\t')
                mt++;
        n = strcspn(mt, "; \t");
        return n == strlen(want) && strncasecmp(mt, want, n) == 0;
}

/* ---- kinds ---------------------------------------------------------------- */

static const struct {
        enum manifest_kind kind;
        const char *media_type, *name;
} kinds[] = {
        { MANIFEST_KIND_DOCKER, MEDIA_TYPE_DOCKER_MANIFEST, "Docker schema2 manifest" },
        { MANIFEST_KIND_OCI, MEDIA_TYPE_OCI_MANIFEST, "OCI image manifest" },
        { MANIFEST_KIND_DOCKER_LIST, MEDIA_TYPE_DOCKER_MANIFEST_LIST, "Docker manifest list" },
        { MANIFEST_KIND_OCI_INDEX, MEDIA_TYPE_OCI_INDEX, "OCI image index" },
};

const char *manifest_kind_media_type(enum manifest_kind kind)
{
        for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
                if (kinds[i].kind == kind)
                        return kinds[i].media_type;
        return NULL;
}

const char *manifest_kind_name(enum manifest_kind kind)
{
        for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
                if (kinds[i].kind == kind)
                        return kinds[i].name;
        return "unknown document";
}

bool manifest_kind_is_index(enum manifest_kind kind)
{
        return kind == MANIFEST_KIND_DOCKER_LIST || kind == MANIFEST_KIND_OCI_INDEX;
}

enum manifest_kind manifest_kind_from_media_type(const char *media_type)
{
        for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
                if (media_type_is(media_type, kinds[i].media_type))
                        return kinds[i].kind;
        return 0;
}

static bool is_schema1(const char *mt)
{
        return media_type_is(mt, MEDIA_TYPE_DOCKER_SCHEMA1) || media_type_is(mt, MEDIA_TYPE_DOCKER_SCHEMA1_SIGNED);
}

static int schema1_error(berth_error_t **err)
{
        return berth_error(err, 0, "schema1 manifests are not supported: push the image again with a current client");
}

int doc_load(const void *data, size_t len, size_t max, json_t **out, berth_error_t **err)
{
        json_error_t jerr;
        json_t *doc;

        if (len > max)
                return berth_error(err, 0, "the document is %zu bytes, more than the %zu MiB allowed", len, max >> 20);
        /* Duplicate keys are refused: two readers could disagree on which wins. */
        doc = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
        if (doc == NULL) {
                _cleanup_free_ char *why = escaped(jerr.text, sizeof(jerr.text), false);
                return berth_error(err, 0, "invalid JSON: %s (line %d, column %d)", why, jerr.line, jerr.column);
        }
        if (!json_is_object(doc)) {
                json_decref(doc);
                return berth_error(err, 0, "not a JSON object");
        }
        *out = doc;
        return 0;
}

/* containerd's detectManifestMediaType and validateMediaType together. */
static int detect(json_t *doc, const char *content_type, enum manifest_kind *out, berth_error_t **err)
{
        json_t *version = json_object_get(doc, "schemaVersion"), *mt = doc_member(doc, "mediaType");
        enum manifest_kind from_header = 0, from_doc = 0, kind;
        bool looks_manifest = doc_member(doc, "config") || doc_member(doc, "layers");
        bool looks_index = doc_member(doc, "manifests") != NULL;

        if (is_schema1(content_type) || (json_is_integer(version) && json_integer_value(version) == 1) ||
            doc_member(doc, "fsLayers") || (json_is_string(mt) && is_schema1(json_string_value(mt))))
                return schema1_error(err);
        from_header = manifest_kind_from_media_type(content_type);
        if (mt) {
                if (!json_is_string(mt))
                        return berth_error(err, 0, "mediaType: not a string");
                from_doc = manifest_kind_from_media_type(json_string_value(mt));
                if (from_doc == 0) {
                        _cleanup_free_ char *q = doc_quoted(json_string_value(mt));
                        return berth_error(err, 0, "mediaType: %s is not a manifest or index type", q);
                }
        }
        if (from_header && from_doc && from_header != from_doc)
                return berth_error(err, 0, "mediaType \"%s\" does not match the Content-Type \"%s\"",
                                   manifest_kind_media_type(from_doc), manifest_kind_media_type(from_header));
        kind = from_header ? from_header : from_doc;
        if (kind == 0) {
                if (looks_manifest)
                        kind = MANIFEST_KIND_OCI;
                else if (looks_index)
                        kind = MANIFEST_KIND_OCI_INDEX;
                else
                        return berth_error(err, 0, "neither a manifest nor an index: no mediaType, config, layers or manifests");
        }
        if (!manifest_kind_is_index(kind) && looks_index)
                return berth_error(err, 0, "%s expected, but the document has manifests, like an index",
                                   manifest_kind_name(kind));
        if (manifest_kind_is_index(kind) && looks_manifest)
                return berth_error(err, 0, "%s expected, but the document has a config or layers, like a manifest",
                                   manifest_kind_name(kind));
        if (version == NULL)
                return berth_error(err, 0, "schemaVersion: missing");
        if (!json_is_integer(version))
                return berth_error(err, 0, "schemaVersion: not an integer");
        if (json_integer_value(version) != 2)
                return berth_error(err, 0, "schemaVersion: %" JSON_INTEGER_FORMAT " is not supported (want 2)",
                                   json_integer_value(version));
        *out = kind;
        return 0;
}

int manifest_detect(const void *data, size_t len, const char *content_type, enum manifest_kind *kind,
                    berth_error_t **err)
{
        _cleanup_json_ json_t *doc = NULL;

        if (doc_load(data, len, MANIFEST_MAX_SIZE, &doc, err) < 0 || detect(doc, content_type, kind, err) < 0)
                return berth_error_wrap(err, "manifest");
        return 0;
}

/* ---- descriptors -------------------------------------------------------- */

static int parse_platform(json_t *j, const char *at, struct platform **out, berth_error_t **err)
{
        struct platform *p;
        char f[160];
        json_t *features, *v;
        size_t i;
        int ret;

        if (!json_is_object(j))
                return berth_error(err, 0, "%s: not an object", at);
        p = *out = xcalloc(1, sizeof(*p));
        if ((ret = doc_get_string(j, at, "architecture", true, &p->arch, err)) < 0 ||
            (ret = doc_get_string(j, at, "os", true, &p->os, err)) < 0 ||
            (ret = doc_get_string(j, at, "variant", false, &p->variant, err)) < 0 ||
            (ret = doc_get_string(j, at, "os.version", false, &p->os_version, err)) < 0)
                return ret;
        /* Checked for type, not kept: nothing on Linux uses them. */
        if ((features = doc_member(j, "os.features"))) {
                doc_field(f, sizeof(f), at, "os.features");
                if (!json_is_array(features))
                        return berth_error(err, 0, "%s: not an array", f);
                json_array_foreach(features, i, v)
                        if (!json_is_string(v))
                                return berth_error(err, 0, "%s[%zu]: not a string", f, i);
        }
        return 0;
}

static int parse_descriptor(json_t *j, const char *at, struct descriptor *d, berth_error_t **err)
{
        char f[160];
        json_t *size, *platform;
        int ret;

        if (!json_is_object(j))
                return berth_error(err, 0, "%s: not an object", at);
        if ((ret = doc_get_string(j, at, "mediaType", true, &d->media_type, err)) < 0)
                return ret;
        if (d->media_type[0] == '\0')
                return berth_error(err, 0, "%s: empty", doc_field(f, sizeof(f), at, "mediaType"));
        if ((ret = doc_get_string(j, at, "digest", true, &d->digest, err)) < 0)
                return ret;
        if ((ret = doc_check_digest(d->digest, doc_field(f, sizeof(f), at, "digest"), err)) < 0)
                return ret;
        size = doc_member(j, "size");
        doc_field(f, sizeof(f), at, "size");
        if (size == NULL)
                return berth_error(err, 0, "%s: missing", f);
        if (!json_is_integer(size))
                return berth_error(err, 0, "%s: not an integer", f);
        d->size = json_integer_value(size);
        if (d->size < 0)
                return berth_error(err, 0, "%s: %" PRId64 " is negative", f, d->size);
        if (d->size > DESCRIPTOR_MAX_SIZE)
                return berth_error(err, 0, "%s: %" PRId64 " bytes is more than the 1 TiB limit", f, d->size);
        if ((ret = doc_get_strv(j, at, "urls", DESCRIPTOR_MAX_URLS, &d->urls, NULL, err)) < 0)
                return ret;
        if ((ret = doc_get_string_map(j, at, "annotations", &d->annotations, err)) < 0)
                return ret;
        if ((platform = doc_member(j, "platform")) &&
            (ret = parse_platform(platform, doc_field(f, sizeof(f), at, "platform"), &d->platform, err)) < 0)
                return ret;
        return 0;
}

void descriptor_copy(struct descriptor *dst, const struct descriptor *src)
{
        memset(dst, 0, sizeof(*dst));
        dst->media_type = src->media_type ? xstrdup(src->media_type) : NULL;
        dst->digest = src->digest ? xstrdup(src->digest) : NULL;
        dst->size = src->size;
        if (src->urls) {
                size_t n = 0;
                while (src->urls[n])
                        n++;
                dst->urls = xcalloc(n + 1, sizeof(char *));
                for (size_t i = 0; i < n; i++)
                        dst->urls[i] = xstrdup(src->urls[i]);
        }
        if (src->annotations)
                dst->annotations = json_deep_copy(src->annotations);
        if (src->platform) {
                dst->platform = xcalloc(1, sizeof(*dst->platform));
                platform_copy(dst->platform, src->platform);
        }
}

void descriptor_clear(struct descriptor *d)
{
        if (d == NULL)
                return;
        free(d->media_type);
        free(d->digest);
        strv_free(d->urls);
        json_decref(d->annotations);
        platform_free(d->platform);
        memset(d, 0, sizeof(*d));
}

void manifest_free(struct manifest *m)
{
        if (m == NULL)
                return;
        descriptor_clear(&m->config);
        for (size_t i = 0; i < m->n_layers; i++)
                descriptor_clear(&m->layers[i]);
        free(m->layers);
        json_decref(m->annotations);
        free(m);
}

void index_free(struct index *ix)
{
        if (ix == NULL)
                return;
        for (size_t i = 0; i < ix->n; i++)
                descriptor_clear(&ix->manifests[i]);
        free(ix->manifests);
        json_decref(ix->annotations);
        free(ix);
}

/* ---- manifests and indexes ------------------------------------------------ */

/* A JSON array of descriptors, at most max of them. */
static int parse_descriptors(json_t *doc, const char *key, size_t max, struct descriptor **out, size_t *n,
                             berth_error_t **err)
{
        json_t *list = doc_member(doc, key), *d;
        char at[64];
        size_t i;
        int ret;

        if (list == NULL)
                return berth_error(err, 0, "%s: missing", key);
        if (!json_is_array(list))
                return berth_error(err, 0, "%s: not an array", key);
        if (json_array_size(list) > max)
                return berth_error(err, 0, "%s: %zu entries, more than the %zu allowed", key,
                                   json_array_size(list), max);
        *n = json_array_size(list);
        *out = xcalloc(*n, sizeof(**out));
        json_array_foreach(list, i, d) {
                snprintf(at, sizeof(at), "%s[%zu]", key, i);
                if ((ret = parse_descriptor(d, at, &(*out)[i], err)) < 0)
                        return ret;
        }
        return 0;
}

static int parse_manifest_doc(json_t *doc, enum manifest_kind kind, struct manifest **out, berth_error_t **err)
{
        _cleanup_manifest_ struct manifest *m = xcalloc(1, sizeof(*m));
        json_t *config = doc_member(doc, "config");
        int ret;

        m->kind = kind;
        if (config == NULL)
                return berth_error(err, 0, "config: missing");
        if ((ret = parse_descriptor(config, "config", &m->config, err)) < 0)
                return ret;
        if (m->config.size > IMAGE_CONFIG_MAX_SIZE)
                return berth_error(err, 0, "config.size: %" PRId64 " bytes is more than the %d MiB an image config may have",
                                   m->config.size, IMAGE_CONFIG_MAX_SIZE >> 20);
        if ((ret = parse_descriptors(doc, "layers", MANIFEST_MAX_LAYERS, &m->layers, &m->n_layers, err)) < 0)
                return ret;
        if ((ret = doc_get_string_map(doc, "", "annotations", &m->annotations, err)) < 0)
                return ret;
        *out = steal_pointer(&m);
        return 0;
}

static int parse_index_doc(json_t *doc, enum manifest_kind kind, struct index **out, berth_error_t **err)
{
        _cleanup_index_ struct index *ix = xcalloc(1, sizeof(*ix));
        int ret;

        ix->kind = kind;
        if ((ret = parse_descriptors(doc, "manifests", INDEX_MAX_MANIFESTS, &ix->manifests, &ix->n, err)) < 0)
                return ret;
        for (size_t i = 0; i < ix->n; i++)
                if (manifest_kind_from_media_type(ix->manifests[i].media_type) &&
                    ix->manifests[i].size > MANIFEST_MAX_SIZE)
                        return berth_error(err, 0, "manifests[%zu].size: %" PRId64 " bytes is more than the %d MiB a manifest may have",
                                           i, ix->manifests[i].size, MANIFEST_MAX_SIZE >> 20);
        if ((ret = doc_get_string_map(doc, "", "annotations", &ix->annotations, err)) < 0)
                return ret;
        *out = steal_pointer(&ix);
        return 0;
}

int manifest_parse_any(const void *data, size_t len, const char *content_type, struct manifest **manifest,
                       struct index **index, berth_error_t **err)
{
        _cleanup_json_ json_t *doc = NULL;
        enum manifest_kind kind;

        if (manifest)
                *manifest = NULL;
        if (index)
                *index = NULL;
        if (doc_load(data, len, MANIFEST_MAX_SIZE, &doc, err) < 0 || detect(doc, content_type, &kind, err) < 0)
                return berth_error_wrap(err, "manifest");
        if (manifest_kind_is_index(kind)) {
                if (index == NULL)
                        return berth_error(err, 0, "manifest: expected an image manifest, got an index (%s)",
                                           manifest_kind_name(kind));
                if (parse_index_doc(doc, kind, index, err) < 0)
                        return berth_error_wrap(err, "index");
                return 0;
        }
        if (manifest == NULL)
                return berth_error(err, 0, "index: expected an index, got an image manifest (%s)", manifest_kind_name(kind));
        if (parse_manifest_doc(doc, kind, manifest, err) < 0)
                return berth_error_wrap(err, "manifest");
        return 0;
}

int manifest_parse(const void *data, size_t len, const char *content_type, struct manifest **out,
                   berth_error_t **err)
{
        return manifest_parse_any(data, len, content_type, out, NULL, err);
}

int index_parse(const void *data, size_t len, const char *content_type, struct index **out, berth_error_t **err)
{
        return manifest_parse_any(data, len, content_type, NULL, out, err);
}

static const struct {
        const char *media_type;
        enum layer_compression compression;
        bool foreign;
} layer_types[] = {
        { MEDIA_TYPE_DOCKER_LAYER, LAYER_UNCOMPRESSED, false },
        { MEDIA_TYPE_DOCKER_LAYER_GZIP, LAYER_GZIP, false },
        { MEDIA_TYPE_DOCKER_LAYER_ZSTD, LAYER_ZSTD, false },
        { MEDIA_TYPE_DOCKER_LAYER_FOREIGN, LAYER_UNCOMPRESSED, true },
        { MEDIA_TYPE_DOCKER_LAYER_FOREIGN_GZIP, LAYER_GZIP, true },
        { MEDIA_TYPE_OCI_LAYER, LAYER_UNCOMPRESSED, false },
        { MEDIA_TYPE_OCI_LAYER_GZIP, LAYER_GZIP, false },
        { MEDIA_TYPE_OCI_LAYER_ZSTD, LAYER_ZSTD, false },
        { MEDIA_TYPE_OCI_LAYER_ND, LAYER_UNCOMPRESSED, true },
        { MEDIA_TYPE_OCI_LAYER_ND_GZIP, LAYER_GZIP, true },
        { MEDIA_TYPE_OCI_LAYER_ND_ZSTD, LAYER_ZSTD, true },
};

int layer_media_type_parse(const char *media_type, struct layer_type *out, berth_error_t **err)
{
        _cleanup_free_ char *q = NULL;

        for (size_t i = 0; media_type && i < ARRAY_SIZE(layer_types); i++)
                if (media_type_is(media_type, layer_types[i].media_type)) {
                        out->compression = layer_types[i].compression;
                        out->foreign = layer_types[i].foreign;
                        return 0;
                }
        q = doc_quoted(media_type ? media_type : "");
        return berth_error(err, 0, "unsupported layer media type %s", q);
}

int manifest_check_image(const struct manifest *m, berth_error_t **err)
{
        struct layer_type lt;

        if (!media_type_is(m->config.media_type, MEDIA_TYPE_DOCKER_CONFIG) &&
            !media_type_is(m->config.media_type, MEDIA_TYPE_OCI_CONFIG)) {
                _cleanup_free_ char *q = doc_quoted(m->config.media_type ? m->config.media_type : "");
                return berth_error(err, 0, "manifest: config.mediaType: %s is not an image config: not a container image", q);
        }
        for (size_t i = 0; i < m->n_layers; i++)
                if (layer_media_type_parse(m->layers[i].media_type, &lt, err) < 0)
                        return berth_error_wrap(err, "manifest: layers[%zu].mediaType", i);
        return 0;
}
