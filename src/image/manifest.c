#include "image/manifest.h"
#include "util/util.h"
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---- small helpers -------------------------------------------------------- */

static void json_decref_p(json_t **j) { json_decref(*j); }
#define _cleanup_json_ __attribute__((cleanup(json_decref_p)))

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

static char *quoted(const char *s)
{
        return escaped(s, 80, true);
}

/* "at.key", or "key" at the top; a path too long for buf (only a
 * message's worth) is cut. */
static const char *field(char *buf, size_t size, const char *at, const char *key)
{
        if (snprintf(buf, size, "%s%s%s", at, *at ? "." : "", key) >= (int)size)
                buf[size - 1] = '\0';
        return buf;
}

/* A member that is absent or JSON null reads as NULL: Go writers emit null
 * for empty slices and maps. */
static json_t *member(json_t *obj, const char *key)
{
        json_t *v = json_object_get(obj, key);
        return json_is_null(v) ? NULL : v;
}

static int get_string(json_t *obj, const char *at, const char *key, bool required, char **out,
                      berth_error_t **err)
{
        json_t *v = member(obj, key);
        char f[160];

        if (v == NULL)
                return required ? berth_error(err, 0, "%s: missing", field(f, sizeof(f), at, key)) : 0;
        if (!json_is_string(v))
                return berth_error(err, 0, "%s: not a string", field(f, sizeof(f), at, key));
        *out = xstrdup(json_string_value(v));
        return 0;
}

/* A JSON array of strings as a NULL-terminated vector; absent is NULL. */
static int get_strv(json_t *obj, const char *at, const char *key, size_t max, char ***out, size_t *count,
                    berth_error_t **err)
{
        json_t *v = member(obj, key), *s;
        char f[160];
        size_t i, n;

        if (v == NULL)
                return 0;
        field(f, sizeof(f), at, key);
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

/* An object whose values are all strings (annotations, labels); we keep a
 * reference to it. */
static int get_string_map(json_t *obj, const char *at, const char *key, json_t **out, berth_error_t **err)
{
        json_t *v = member(obj, key), *s;
        const char *k;
        char f[160];

        if (v == NULL)
                return 0;
        field(f, sizeof(f), at, key);
        if (!json_is_object(v))
                return berth_error(err, 0, "%s: not an object", f);
        json_object_foreach(v, k, s) {
                if (!json_is_string(s)) {
                        _cleanup_free_ char *q = quoted(k);
                        return berth_error(err, 0, "%s[%s]: not a string", f, q);
                }
        }
        *out = json_incref(v);
        return 0;
}

static void strv_free(char **v)
{
        cleanup_strvp(&v);
}

static bool digest_valid(const char *s)
{
        if (strncmp(s, "sha256:", 7) != 0 || strlen(s) != 7 + 64)
                return false;
        for (s += 7; *s; s++)
                if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
                        return false;
        return true;
}

static int check_digest(const char *digest, const char *what, berth_error_t **err)
{
        _cleanup_free_ char *q = NULL;

        if (digest_valid(digest))
                return 0;
        q = quoted(digest);
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

static int load_document(const void *data, size_t len, size_t max, json_t **out, berth_error_t **err)
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
        json_t *version = json_object_get(doc, "schemaVersion"), *mt = member(doc, "mediaType");
        enum manifest_kind from_header = 0, from_doc = 0, kind;
        bool looks_manifest = member(doc, "config") || member(doc, "layers");
        bool looks_index = member(doc, "manifests") != NULL;

        if (is_schema1(content_type) || (json_is_integer(version) && json_integer_value(version) == 1) ||
            member(doc, "fsLayers") || (json_is_string(mt) && is_schema1(json_string_value(mt))))
                return schema1_error(err);
        from_header = manifest_kind_from_media_type(content_type);
        if (mt) {
                if (!json_is_string(mt))
                        return berth_error(err, 0, "mediaType: not a string");
                from_doc = manifest_kind_from_media_type(json_string_value(mt));
                if (from_doc == 0) {
                        _cleanup_free_ char *q = quoted(json_string_value(mt));
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

        if (load_document(data, len, MANIFEST_MAX_SIZE, &doc, err) < 0 || detect(doc, content_type, kind, err) < 0)
                return berth_error_wrap(err, "manifest");
        return 0;
}

/* ---- descriptors and platforms -------------------------------------------- */

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
        if ((ret = get_string(j, at, "architecture", true, &p->arch, err)) < 0 ||
            (ret = get_string(j, at, "os", true, &p->os, err)) < 0 ||
            (ret = get_string(j, at, "variant", false, &p->variant, err)) < 0 ||
            (ret = get_string(j, at, "os.version", false, &p->os_version, err)) < 0)
                return ret;
        /* Checked for type, not kept: nothing on Linux uses them. */
        if ((features = member(j, "os.features"))) {
                field(f, sizeof(f), at, "os.features");
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
        if ((ret = get_string(j, at, "mediaType", true, &d->media_type, err)) < 0)
                return ret;
        if (d->media_type[0] == '\0')
                return berth_error(err, 0, "%s: empty", field(f, sizeof(f), at, "mediaType"));
        if ((ret = get_string(j, at, "digest", true, &d->digest, err)) < 0)
                return ret;
        if ((ret = check_digest(d->digest, field(f, sizeof(f), at, "digest"), err)) < 0)
                return ret;
        size = member(j, "size");
        field(f, sizeof(f), at, "size");
        if (size == NULL)
                return berth_error(err, 0, "%s: missing", f);
        if (!json_is_integer(size))
                return berth_error(err, 0, "%s: not an integer", f);
        d->size = json_integer_value(size);
        if (d->size < 0)
                return berth_error(err, 0, "%s: %" PRId64 " is negative", f, d->size);
        if (d->size > DESCRIPTOR_MAX_SIZE)
                return berth_error(err, 0, "%s: %" PRId64 " bytes is more than the 1 TiB limit", f, d->size);
        if ((ret = get_strv(j, at, "urls", DESCRIPTOR_MAX_URLS, &d->urls, NULL, err)) < 0)
                return ret;
        if ((ret = get_string_map(j, at, "annotations", &d->annotations, err)) < 0)
                return ret;
        if ((platform = member(j, "platform")) &&
            (ret = parse_platform(platform, field(f, sizeof(f), at, "platform"), &d->platform, err)) < 0)
                return ret;
        return 0;
}

static void platform_copy(struct platform *dst, const struct platform *src)
{
        dst->os = src->os ? xstrdup(src->os) : NULL;
        dst->arch = src->arch ? xstrdup(src->arch) : NULL;
        dst->variant = src->variant ? xstrdup(src->variant) : NULL;
        dst->os_version = src->os_version ? xstrdup(src->os_version) : NULL;
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

void platform_clear(struct platform *p)
{
        if (p == NULL)
                return;
        free(p->os);
        free(p->arch);
        free(p->variant);
        free(p->os_version);
        memset(p, 0, sizeof(*p));
}

void platform_free(struct platform *p)
{
        platform_clear(p);
        free(p);
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
        json_t *list = member(doc, key), *d;
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
        json_t *config = member(doc, "config");
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
        if ((ret = get_string_map(doc, "", "annotations", &m->annotations, err)) < 0)
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
        if ((ret = get_string_map(doc, "", "annotations", &ix->annotations, err)) < 0)
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
        if (load_document(data, len, MANIFEST_MAX_SIZE, &doc, err) < 0 || detect(doc, content_type, &kind, err) < 0)
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
        q = quoted(media_type ? media_type : "");
        return berth_error(err, 0, "unsupported layer media type %s", q);
}

int manifest_check_image(const struct manifest *m, berth_error_t **err)
{
        struct layer_type lt;

        if (!media_type_is(m->config.media_type, MEDIA_TYPE_DOCKER_CONFIG) &&
            !media_type_is(m->config.media_type, MEDIA_TYPE_OCI_CONFIG)) {
                _cleanup_free_ char *q = quoted(m->config.media_type ? m->config.media_type : "");
                return berth_error(err, 0, "manifest: config.mediaType: %s is not an image config: not a container image", q);
        }
        for (size_t i = 0; i < m->n_layers; i++)
                if (layer_media_type_parse(m->layers[i].media_type, &lt, err) < 0)
                        return berth_error_wrap(err, "manifest: layers[%zu].mediaType", i);
        return 0;
}

/* ---- platforms ------------------------------------------------------------ */

#if defined(__x86_64__)
#define HOST_ARCH "amd64"
#elif defined(__aarch64__)
#define HOST_ARCH "arm64"
#elif defined(__arm__)
#define HOST_ARCH "arm"
#elif defined(__i386__)
#define HOST_ARCH "386"
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HOST_ARCH "ppc64le"
#elif defined(__powerpc64__)
#define HOST_ARCH "ppc64"
#elif defined(__s390x__)
#define HOST_ARCH "s390x"
#elif defined(__riscv) && __riscv_xlen == 64
#define HOST_ARCH "riscv64"
#elif defined(__loongarch64)
#define HOST_ARCH "loong64"
#elif defined(__mips64) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HOST_ARCH "mips64le"
#elif defined(__mips64)
#define HOST_ARCH "mips64"
#else
#error "unknown host architecture: add it to HOST_ARCH"
#endif

/* The variant containerd's cpuVariant() would find; NULL where none. */
static const char *host_variant(void)
{
#if defined(__aarch64__)
        return "v8";
#elif defined(__arm__) && defined(__ARM_ARCH) && __ARM_ARCH >= 7
        return "v7";
#elif defined(__arm__) && defined(__ARM_ARCH) && __ARM_ARCH == 6
        return "v6";
#elif defined(__arm__)
        return "v5";
#else
        return NULL;
#endif
}

static void lowercase(char *s)
{
        for (; s && *s; s++)
                *s = (char)tolower((unsigned char)*s);
}

static void set_str(char **field_, const char *value)
{
        free(*field_);
        *field_ = value ? xstrdup(value) : NULL;
}

static bool str_is(const char *s, const char *want)
{
        return strcmp(s ? s : "", want) == 0;
}

/* containerd's normalizeArch */
static void normalize_arch(char **arch, char **variant)
{
        lowercase(*arch);
        lowercase(*variant);
        if (str_is(*arch, "i386")) {
                set_str(arch, "386");
                set_str(variant, NULL);
        } else if (str_is(*arch, "x86_64") || str_is(*arch, "x86-64") || str_is(*arch, "amd64")) {
                set_str(arch, "amd64");
                if (str_is(*variant, "v1"))
                        set_str(variant, NULL);
        } else if (str_is(*arch, "aarch64") || str_is(*arch, "arm64")) {
                set_str(arch, "arm64");
                if (str_is(*variant, "8") || str_is(*variant, "v8"))
                        set_str(variant, NULL);
        } else if (str_is(*arch, "armhf")) {
                set_str(arch, "arm");
                set_str(variant, "v7");
        } else if (str_is(*arch, "armel")) {
                set_str(arch, "arm");
                set_str(variant, "v6");
        } else if (str_is(*arch, "arm")) {
                if (str_is(*variant, "") || str_is(*variant, "7"))
                        set_str(variant, "v7");
                else if (str_is(*variant, "5") || str_is(*variant, "6") || str_is(*variant, "8")) {
                        _cleanup_free_ char *v = xasprintf("v%s", *variant);
                        set_str(variant, v);
                }
        }
        if (*variant && **variant == '\0')
                set_str(variant, NULL);
}

static void normalize_os(char **os)
{
        lowercase(*os);
        if (str_is(*os, "macos"))
                set_str(os, "darwin");
}

void platform_normalize(struct platform *p)
{
        normalize_os(&p->os);
        normalize_arch(&p->arch, &p->variant);
}

char *platform_format(const struct platform *p)
{
        const char *os = p->os && *p->os ? p->os : "unknown", *arch = p->arch ? p->arch : "";

        if (p->variant && *p->variant)
                return xasprintf("%s/%s/%s", os, arch, p->variant);
        if (*arch)
                return xasprintf("%s/%s", os, arch);
        return xstrdup(os);
}

static bool in_list(const char *s, const char *const *list)
{
        for (; *list; list++)
                if (strcmp(s, *list) == 0)
                        return true;
        return false;
}

static bool known_os(const char *os)
{
        static const char *const list[] = { "aix", "android", "darwin", "dragonfly", "freebsd", "hurd",
                "illumos", "ios", "js", "linux", "nacl", "netbsd", "openbsd", "plan9", "solaris", "windows",
                "zos", NULL };
        return in_list(os, list);
}

static bool known_arch(const char *arch)
{
        static const char *const list[] = { "386", "amd64", "amd64p32", "arm", "armbe", "arm64", "arm64be",
                "ppc64", "ppc64le", "loong64", "mips", "mipsle", "mips64", "mips64le", "mips64p32",
                "mips64p32le", "ppc", "riscv", "riscv64", "s390", "s390x", "sparc", "sparc64", "wasm", NULL };
        return in_list(arch, list);
}

static bool component_valid(const char *s, size_t n, const char *extra)
{
        if (n == 0)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-' && !strchr(extra, s[i]))
                        return false;
        return true;
}

/* Between the parentheses of "windows(10.0.17763+win32k)" up to end, which
 * must be the closing one: a version, then "+feature"s. */
static bool os_options_valid(const char *s, const char *end)
{
        const char *p;

        if (end - s < 1 || end[-1] != ')')
                return false;
        end--;
        for (p = s; p < end && *p != '+'; p++)
                if (!component_valid(p, 1, ".%"))
                        return false;
        while (p < end) { /* at a '+' */
                const char *f = ++p;
                for (; p < end && *p != '+'; p++)
                        if (!component_valid(p, 1, ".%"))
                                return false;
                if (p == f)
                        return false;
        }
        return true;
}

static void host_platform(struct platform *p)
{
        p->os = xstrdup("linux");
        p->arch = xstrdup(HOST_ARCH);
        p->variant = host_variant() ? xstrdup(host_variant()) : NULL;
}

/* containerd's Parse. */
int platform_parse(const char *spec, struct platform *out, berth_error_t **err)
{
        _cleanup_platform_ struct platform p = { 0 };
        const char *parts[3], *s = spec, *paren, *end;
        size_t lens[3], n = 0;

        memset(out, 0, sizeof(*out));
        if (spec == NULL || *spec == '\0') {
                host_platform(out);
                return 0;
        }
        if (strchr(spec, '*')) {
                _cleanup_free_ char *q = quoted(spec);
                return berth_error(err, 0, "invalid platform %s: wildcards are not supported", q);
        }
        for (;;) {
                const char *slash = strchr(s, '/');
                if (n == 3) {
                        _cleanup_free_ char *q = quoted(spec);
                        return berth_error(err, 0, "invalid platform %s: want os/arch[/variant]", q);
                }
                parts[n] = s;
                lens[n++] = slash ? (size_t)(slash - s) : strlen(s);
                if (!slash)
                        break;
                s = slash + 1;
        }
        /* <os>[(<os.version>[+<feature>...])] */
        paren = memchr(parts[0], '(', lens[0]);
        end = parts[0] + lens[0];
        if (!component_valid(parts[0], paren ? (size_t)(paren - parts[0]) : lens[0], "") ||
            (paren && !os_options_valid(paren + 1, end))) {
                _cleanup_free_ char *q = quoted(spec);
                return berth_error(err, 0, "invalid platform %s: bad operating system component", q);
        }
        for (size_t i = 1; i < n; i++)
                if (!component_valid(parts[i], lens[i], ".")) {
                        _cleanup_free_ char *q = quoted(spec);
                        return berth_error(err, 0, "invalid platform %s: bad component %zu", q, i + 1);
                }
        p.os = xasprintf("%.*s", (int)(paren ? (size_t)(paren - parts[0]) : lens[0]), parts[0]);
        normalize_os(&p.os);
        if (paren) {
                size_t vlen = strcspn(paren + 1, "+)");
                if (vlen > 0)
                        p.os_version = xasprintf("%.*s", (int)vlen, paren + 1);
        }
        switch (n) {
        case 1:
                if (known_os(p.os)) {
                        p.arch = xstrdup(HOST_ARCH);
                        if (host_variant() && strcmp(HOST_ARCH, "arm") == 0 && strcmp(host_variant(), "v7") != 0)
                                p.variant = xstrdup(host_variant());
                        break;
                }
                if (paren) {
                        _cleanup_free_ char *q = quoted(spec);
                        return berth_error(err, 0, "invalid platform %s: unknown operating system", q);
                }
                p.arch = steal_pointer(&p.os);
                normalize_arch(&p.arch, &p.variant);
                if (str_is(p.arch, "arm") && str_is(p.variant, "v7"))
                        set_str(&p.variant, NULL);
                if (!known_arch(p.arch)) {
                        _cleanup_free_ char *q = quoted(spec);
                        return berth_error(err, 0, "invalid platform %s: unknown operating system or architecture", q);
                }
                p.os = xstrdup("linux");
                break;
        case 2:
                p.arch = xasprintf("%.*s", (int)lens[1], parts[1]);
                normalize_arch(&p.arch, &p.variant);
                if (str_is(p.arch, "arm") && str_is(p.variant, "v7"))
                        set_str(&p.variant, NULL);
                break;
        default:
                p.arch = xasprintf("%.*s", (int)lens[1], parts[1]);
                p.variant = xasprintf("%.*s", (int)lens[2], parts[2]);
                normalize_arch(&p.arch, &p.variant);
                if (str_is(p.arch, "arm64") && p.variant == NULL)
                        p.variant = xstrdup("v8");
                break;
        }
        *out = p;
        memset(&p, 0, sizeof(p));
        return 0;
}

/* The ordered list of platforms `want` runs: containerd's platformVector. */
struct pvec {
        struct platform *v;
        size_t n, cap;
};

static void pvec_push(struct pvec *pv, const struct platform *base, const char *arch, const char *variant)
{
        struct platform *p;

        if (pv->n == pv->cap) {
                pv->cap = pv->cap ? pv->cap * 2 : 16;
                pv->v = xrealloc(pv->v, pv->cap * sizeof(*pv->v));
        }
        p = &pv->v[pv->n++];
        memset(p, 0, sizeof(*p));
        p->os = base->os ? xstrdup(base->os) : NULL;
        p->os_version = base->os_version ? xstrdup(base->os_version) : NULL;
        p->arch = xstrdup(arch);
        p->variant = variant && *variant ? xstrdup(variant) : NULL;
        platform_normalize(p); /* NewMatcher normalises */
}

static void pvec_free(struct pvec *pv)
{
        for (size_t i = 0; i < pv->n; i++)
                platform_clear(&pv->v[i]);
        free(pv->v);
}

/* strconv.Atoi(strings.TrimPrefix(s, "v")) for the small numbers variants
 * are; -1 otherwise (and for absurd ones, so no vector grows unbounded). */
static int variant_number(const char *s)
{
        int v = 0;

        if (s == NULL)
                return -1;
        if (*s == 'v')
                s++;
        if (*s == '\0' || strlen(s) > 2)
                return -1;
        for (; *s; s++) {
                if (!isdigit((unsigned char)*s))
                        return -1;
                v = v * 10 + (*s - '0');
        }
        return v;
}

static void platform_vector(struct pvec *pv, const struct platform *p)
{
        char buf[32];
        int version;

        pvec_push(pv, p, p->arch ? p->arch : "", p->variant);
        if (str_is(p->arch, "amd64")) {
                version = variant_number(p->variant);
                for (version--; version >= 1; version--) {
                        snprintf(buf, sizeof(buf), "v%d", version);
                        pvec_push(pv, p, "amd64", buf);
                }
                pvec_push(pv, p, "386", NULL);
        } else if (str_is(p->arch, "arm")) {
                version = variant_number(p->variant);
                if (version > 5)
                        for (version--; version >= 5; version--) {
                                snprintf(buf, sizeof(buf), "v%d", version);
                                pvec_push(pv, p, "arm", buf);
                        }
        } else if (str_is(p->arch, "arm64")) {
                char variant[32], major[32];
                const char *dot;
                struct platform arm = *p;
                int arm_major, arm_minor = 0;

                snprintf(variant, sizeof(variant), "%s", p->variant && *p->variant ? p->variant : "v8");
                dot = strchr(variant, '.');
                snprintf(major, sizeof(major), "%.*s", dot ? (int)(dot - variant) : (int)strlen(variant), variant);
                arm_major = variant_number(major);
                if (arm_major >= 8) {
                        if (strlen(variant) == 4 && dot && variant_number(dot + 1) >= 0 && dot[1] != 'v')
                                arm_minor = variant_number(dot + 1);
                        if (arm_major == 9) {
                                for (int minor = arm_minor - 1; minor >= 0; minor--) {
                                        if (minor == 0)
                                                snprintf(buf, sizeof(buf), "v9");
                                        else
                                                snprintf(buf, sizeof(buf), "v9.%d", minor);
                                        pvec_push(pv, p, "arm64", buf);
                                }
                                /* v9.0 diverged from v8.5: v9.x runs v8.{x+5} */
                                arm_minor += 5;
                                arm_major = 8;
                                snprintf(buf, sizeof(buf), "v8.%d", arm_minor);
                                pvec_push(pv, p, "arm64", buf);
                        }
                        for (int minor = arm_minor - 1; minor >= 0; minor--) {
                                if (minor == 0)
                                        snprintf(buf, sizeof(buf), "v%d", arm_major);
                                else
                                        snprintf(buf, sizeof(buf), "v%d.%d", arm_major, minor);
                                pvec_push(pv, p, "arm64", buf);
                        }
                }
                if (str_has_prefix(variant, "v8.") || str_has_prefix(variant, "v9."))
                        snprintf(variant, sizeof(variant), "v8");
                /* 64-bit ARM runs 32-bit ARM binaries */
                arm.arch = (char *)"arm";
                arm.variant = variant;
                platform_vector(pv, &arm);
        }
}

static bool same_platform(const struct platform *want /* normalised */, const struct platform *have)
{
        struct platform h = { 0 };
        bool same;

        platform_copy(&h, have);
        platform_normalize(&h);
        same = str_is(want->os, h.os ? h.os : "") && str_is(want->arch, h.arch ? h.arch : "") &&
               str_is(want->variant, h.variant ? h.variant : "");
        platform_clear(&h);
        return same;
}

/* want normalised, then its vector. */
static void want_vector(struct pvec *pv, const struct platform *want)
{
        struct platform w = { 0 };

        platform_copy(&w, want);
        platform_normalize(&w);
        platform_vector(pv, &w);
        platform_clear(&w);
}

bool platform_match(const struct platform *want, const struct platform *have)
{
        struct pvec pv = { 0 };
        bool match = false;

        want_vector(&pv, want);
        for (size_t i = 0; i < pv.n && !match; i++)
                match = same_platform(&pv.v[i], have);
        pvec_free(&pv);
        return match;
}

/* Entries that can be chosen: manifests or nested indexes, and not the
 * attestations BuildKit adds (platform unknown/unknown). */
static bool selectable(const struct descriptor *d)
{
        if (manifest_kind_from_media_type(d->media_type) == 0)
                return false;
        if (json_object_get(d->annotations, "vnd.docker.reference.type"))
                return false;
        if (d->platform && str_is(d->platform->os, "unknown") && str_is(d->platform->arch, "unknown"))
                return false;
        return true;
}

static int no_match_error(const struct index *ix, const struct platform *want, berth_error_t **err)
{
        struct platform w = { 0 };
        _cleanup_free_ char *wanted = NULL, *list = NULL;
        char *seen[33];
        size_t n_seen = 0, list_len = 0;
        bool more = false;
        FILE *f;

        platform_copy(&w, want);
        platform_normalize(&w);
        wanted = platform_format(&w);
        platform_clear(&w);
        f = open_memstream(&list, &list_len);
        if (f == NULL)
                abort();
        for (size_t i = 0; i < ix->n; i++) {
                const struct descriptor *d = &ix->manifests[i];
                bool dup = false;
                char *s;

                if (!selectable(d) || d->platform == NULL)
                        continue;
                s = platform_format(d->platform);
                for (size_t j = 0; j < n_seen && !dup; j++)
                        dup = strcmp(seen[j], s) == 0;
                if (dup) {
                        free(s);
                        continue;
                }
                if (n_seen == ARRAY_SIZE(seen)) {
                        free(s);
                        more = true;
                        break;
                }
                seen[n_seen++] = s;
        }
        for (size_t j = 0; j < n_seen; j++) {
                for (const char *c = seen[j]; *c; c++) {
                        unsigned char uc = (unsigned char)*c;
                        if (uc < 0x20 || uc == 0x7f)
                                fprintf(f, "\\x%02x", uc);
                        else
                                fputc(*c, f);
                }
                if (j + 1 < n_seen)
                        fputs(", ", f);
                free(seen[j]);
        }
        if (more)
                fputs(" and more", f);
        fclose(f);
        if (n_seen == 0)
                return berth_error(err, 0, "no %s in the index; it lists no images", wanted);
        return berth_error(err, 0, "no %s in the index; it has %s", wanted, list);
}

int index_select_platform(const struct index *ix, const char *platform, const struct descriptor **out,
                          berth_error_t **err)
{
        _cleanup_platform_ struct platform want = { 0 };
        struct pvec pv = { 0 };
        int ret;

        *out = NULL;
        if ((ret = platform_parse(platform, &want, err)) < 0)
                return ret;
        want_vector(&pv, &want);
        for (size_t v = 0; v < pv.n && *out == NULL; v++)
                for (size_t i = 0; i < ix->n && *out == NULL; i++)
                        if (selectable(&ix->manifests[i]) && ix->manifests[i].platform &&
                            same_platform(&pv.v[v], ix->manifests[i].platform))
                                *out = &ix->manifests[i];
        pvec_free(&pv);
        if (*out)
                return 0;
        /* containerd keeps entries without a platform, after all the others:
         * the image config then says what they are. */
        for (size_t i = 0; i < ix->n; i++)
                if (selectable(&ix->manifests[i]) && ix->manifests[i].platform == NULL) {
                        *out = &ix->manifests[i];
                        return 1;
                }
        return no_match_error(ix, &want, err);
}

/* ---- image config ---------------------------------------------------------- */

void image_history_clear(struct image_history *h)
{
        if (h == NULL)
                return;
        free(h->created);
        free(h->created_by);
        free(h->author);
        free(h->comment);
        memset(h, 0, sizeof(*h));
}

void image_config_free(struct image_config *c)
{
        if (c == NULL)
                return;
        free(c->architecture);
        free(c->os);
        free(c->variant);
        free(c->os_version);
        free(c->created);
        free(c->author);
        strv_free(c->env);
        strv_free(c->cmd);
        strv_free(c->entrypoint);
        free(c->working_dir);
        free(c->user);
        free(c->stop_signal);
        strv_free(c->exposed_ports);
        strv_free(c->volumes);
        json_decref(c->labels);
        strv_free(c->diff_ids);
        for (size_t i = 0; i < c->n_history; i++)
                image_history_clear(&c->history[i]);
        free(c->history);
        json_decref(c->raw);
        free(c);
}

/* "80", "80/tcp", "8000-8010/udp", "53/sctp" */
static bool port_valid(const char *s)
{
        const char *proto = strchr(s, '/');
        size_t n = proto ? (size_t)(proto - s) : strlen(s);
        long lo = 0, hi = -1, *cur = &lo;
        size_t digits = 0;

        if (proto && strcmp(proto + 1, "tcp") != 0 && strcmp(proto + 1, "udp") != 0 && strcmp(proto + 1, "sctp") != 0)
                return false;
        for (size_t i = 0; i < n; i++) {
                if (s[i] == '-' && cur == &lo && digits > 0) {
                        cur = &hi;
                        hi = 0;
                        digits = 0;
                        continue;
                }
                if (!isdigit((unsigned char)s[i]) || ++digits > 5)
                        return false;
                *cur = *cur * 10 + (s[i] - '0');
        }
        if (digits == 0 || lo > 65535 || (cur == &hi && (hi > 65535 || hi < lo)))
                return false;
        return true;
}

/* The keys of an object whose values are ({} in practice) ignored. */
static int get_keys(json_t *obj, const char *at, const char *key, bool ports, char ***out, berth_error_t **err)
{
        json_t *v = member(obj, key), *val;
        const char *k;
        char f[160];
        size_t i = 0;

        if (v == NULL)
                return 0;
        field(f, sizeof(f), at, key);
        if (!json_is_object(v))
                return berth_error(err, 0, "%s: not an object", f);
        *out = xcalloc(json_object_size(v) + 1, sizeof(char *));
        json_object_foreach(v, k, val) {
                if (ports && !port_valid(k)) {
                        _cleanup_free_ char *q = quoted(k);
                        return berth_error(err, 0, "%s: %s is not a port (\"80/tcp\")", f, q);
                }
                (*out)[i++] = xstrdup(k);
        }
        return 0;
}

static int parse_history(json_t *doc, struct image_config *c, berth_error_t **err)
{
        json_t *list = member(doc, "history"), *h, *empty;
        char at[64];
        size_t i;
        int ret;

        if (list == NULL)
                return 0;
        if (!json_is_array(list))
                return berth_error(err, 0, "history: not an array");
        if (json_array_size(list) > IMAGE_CONFIG_MAX_HISTORY)
                return berth_error(err, 0, "history: %zu entries, more than the %d allowed", json_array_size(list),
                                   IMAGE_CONFIG_MAX_HISTORY);
        c->n_history = json_array_size(list);
        c->history = xcalloc(c->n_history, sizeof(*c->history));
        json_array_foreach(list, i, h) {
                struct image_history *e = &c->history[i];
                snprintf(at, sizeof(at), "history[%zu]", i);
                if (!json_is_object(h))
                        return berth_error(err, 0, "%s: not an object", at);
                if ((ret = get_string(h, at, "created", false, &e->created, err)) < 0 ||
                    (ret = get_string(h, at, "created_by", false, &e->created_by, err)) < 0 ||
                    (ret = get_string(h, at, "author", false, &e->author, err)) < 0 ||
                    (ret = get_string(h, at, "comment", false, &e->comment, err)) < 0)
                        return ret;
                if ((empty = member(h, "empty_layer"))) {
                        if (!json_is_boolean(empty))
                                return berth_error(err, 0, "%s.empty_layer: not a boolean", at);
                        e->empty_layer = json_is_true(empty);
                }
        }
        return 0;
}

static int parse_container_config(json_t *doc, struct image_config *c, berth_error_t **err)
{
        json_t *cfg = member(doc, "config");
        const char *at = "config";
        int ret;

        if (cfg == NULL)
                return 0;
        if (!json_is_object(cfg))
                return berth_error(err, 0, "config: not an object");
        if ((ret = get_strv(cfg, at, "Env", SIZE_MAX, &c->env, NULL, err)) < 0 ||
            (ret = get_strv(cfg, at, "Cmd", SIZE_MAX, &c->cmd, NULL, err)) < 0 ||
            (ret = get_strv(cfg, at, "Entrypoint", SIZE_MAX, &c->entrypoint, NULL, err)) < 0 ||
            (ret = get_string(cfg, at, "WorkingDir", false, &c->working_dir, err)) < 0 ||
            (ret = get_string(cfg, at, "User", false, &c->user, err)) < 0 ||
            (ret = get_keys(cfg, at, "ExposedPorts", true, &c->exposed_ports, err)) < 0 ||
            (ret = get_keys(cfg, at, "Volumes", false, &c->volumes, err)) < 0 ||
            (ret = get_string_map(cfg, at, "Labels", &c->labels, err)) < 0 ||
            (ret = get_string(cfg, at, "StopSignal", false, &c->stop_signal, err)) < 0)
                return ret;
        return 0;
}

static int parse_config_doc(json_t *doc, struct image_config *c, berth_error_t **err)
{
        json_t *rootfs = member(doc, "rootfs");
        const char *type;
        char at[64];
        int ret;

        if ((ret = get_string(doc, "", "architecture", true, &c->architecture, err)) < 0 ||
            (ret = get_string(doc, "", "os", true, &c->os, err)) < 0 ||
            (ret = get_string(doc, "", "variant", false, &c->variant, err)) < 0 ||
            (ret = get_string(doc, "", "os.version", false, &c->os_version, err)) < 0 ||
            (ret = get_string(doc, "", "created", false, &c->created, err)) < 0 ||
            (ret = get_string(doc, "", "author", false, &c->author, err)) < 0)
                return ret;
        if ((ret = parse_container_config(doc, c, err)) < 0)
                return ret;
        if (rootfs == NULL)
                return berth_error(err, 0, "rootfs: missing");
        if (!json_is_object(rootfs))
                return berth_error(err, 0, "rootfs: not an object");
        if (member(rootfs, "type") == NULL)
                return berth_error(err, 0, "rootfs.type: missing");
        if ((type = json_string_value(member(rootfs, "type"))) == NULL)
                return berth_error(err, 0, "rootfs.type: not a string");
        if (strcmp(type, "layers") != 0) {
                _cleanup_free_ char *q = quoted(type);
                return berth_error(err, 0, "rootfs.type: %s is not supported (want \"layers\")", q);
        }
        if (member(rootfs, "diff_ids") == NULL)
                return berth_error(err, 0, "rootfs.diff_ids: missing");
        if ((ret = get_strv(rootfs, "rootfs", "diff_ids", MANIFEST_MAX_LAYERS, &c->diff_ids, &c->n_diff_ids, err)) < 0)
                return ret;
        for (size_t i = 0; i < c->n_diff_ids; i++) {
                snprintf(at, sizeof(at), "rootfs.diff_ids[%zu]", i);
                if ((ret = check_digest(c->diff_ids[i], at, err)) < 0)
                        return ret;
        }
        return parse_history(doc, c, err);
}

int image_config_parse(const void *data, size_t len, struct image_config **out, berth_error_t **err)
{
        _cleanup_image_config_ struct image_config *c = xcalloc(1, sizeof(*c));

        *out = NULL;
        if (load_document(data, len, IMAGE_CONFIG_MAX_SIZE, &c->raw, err) < 0 || parse_config_doc(c->raw, c, err) < 0)
                return berth_error_wrap(err, "image config");
        *out = steal_pointer(&c);
        return 0;
}

int image_config_check_layers(const struct image_config *c, const struct manifest *m, berth_error_t **err)
{
        if (c->n_diff_ids != m->n_layers)
                return berth_error(err, 0, "image config: rootfs.diff_ids has %zu entries but the manifest has %zu layers",
                                   c->n_diff_ids, m->n_layers);
        return 0;
}

int image_config_check_platform(const struct image_config *c, const char *platform, berth_error_t **err)
{
        _cleanup_platform_ struct platform want = { 0 }, have = { 0 };
        _cleanup_free_ char *w = NULL, *h = NULL;
        int ret;

        if ((ret = platform_parse(platform, &want, err)) < 0)
                return ret;
        have.os = xstrdup(c->os);
        have.arch = xstrdup(c->architecture);
        have.variant = c->variant ? xstrdup(c->variant) : NULL;
        if (platform_match(&want, &have))
                return 0;
        platform_normalize(&want);
        w = platform_format(&want);
        h = platform_format(&have);
        return berth_error(err, 0, "image config: the image is for %s, not %s", h, w);
}
