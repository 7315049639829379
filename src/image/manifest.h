/* Image manifests, manifest lists / indexes and image configs: the JSON
 * documents a registry serves for an image, parsed and validated before the
 * puller trusts any digest or size in them.
 *
 * Kinds: Docker schema2 manifests and manifest lists, OCI image manifests and
 * indexes.  Schema1 is refused.  The kind comes from the Content-Type when it
 * names one, else from the document's mediaType, else from its shape
 * (config/layers: a manifest; manifests: an index), as containerd does.
 *
 * Every parse error names the document and the field:
 * "manifest: layers[2].digest: ...", "index: manifests[1].platform.os: ...",
 * "image config: rootfs.diff_ids[0]: ...". */
#pragma once
#include "util/error.h"
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MEDIA_TYPE_DOCKER_MANIFEST       "application/vnd.docker.distribution.manifest.v2+json"
#define MEDIA_TYPE_DOCKER_MANIFEST_LIST  "application/vnd.docker.distribution.manifest.list.v2+json"
#define MEDIA_TYPE_DOCKER_SCHEMA1        "application/vnd.docker.distribution.manifest.v1+json"
#define MEDIA_TYPE_DOCKER_SCHEMA1_SIGNED "application/vnd.docker.distribution.manifest.v1+prettyjws"
#define MEDIA_TYPE_OCI_MANIFEST          "application/vnd.oci.image.manifest.v1+json"
#define MEDIA_TYPE_OCI_INDEX             "application/vnd.oci.image.index.v1+json"
#define MEDIA_TYPE_DOCKER_CONFIG         "application/vnd.docker.container.image.v1+json"
#define MEDIA_TYPE_OCI_CONFIG            "application/vnd.oci.image.config.v1+json"
#define MEDIA_TYPE_DOCKER_LAYER          "application/vnd.docker.image.rootfs.diff.tar"
#define MEDIA_TYPE_DOCKER_LAYER_GZIP     "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define MEDIA_TYPE_DOCKER_LAYER_ZSTD     "application/vnd.docker.image.rootfs.diff.tar.zstd"
#define MEDIA_TYPE_DOCKER_LAYER_FOREIGN  "application/vnd.docker.image.rootfs.foreign.diff.tar"
#define MEDIA_TYPE_DOCKER_LAYER_FOREIGN_GZIP "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
#define MEDIA_TYPE_OCI_LAYER             "application/vnd.oci.image.layer.v1.tar"
#define MEDIA_TYPE_OCI_LAYER_GZIP        "application/vnd.oci.image.layer.v1.tar+gzip"
#define MEDIA_TYPE_OCI_LAYER_ZSTD        "application/vnd.oci.image.layer.v1.tar+zstd"
#define MEDIA_TYPE_OCI_LAYER_ND          "application/vnd.oci.image.layer.nondistributable.v1.tar"
#define MEDIA_TYPE_OCI_LAYER_ND_GZIP     "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
#define MEDIA_TYPE_OCI_LAYER_ND_ZSTD     "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"

/* Limits: anything past them is refused as absurd, before any allocation
 * proportional to it. */
#define MANIFEST_MAX_SIZE      (4 << 20)       /* bytes of a manifest or index (containerd: 4 MiB) */
#define IMAGE_CONFIG_MAX_SIZE  (16 << 20)      /* bytes of an image config */
#define MANIFEST_MAX_LAYERS    10000
#define INDEX_MAX_MANIFESTS    10000
#define IMAGE_CONFIG_MAX_HISTORY 100000
#define DESCRIPTOR_MAX_URLS    64
#define DESCRIPTOR_MAX_SIZE    (INT64_C(1) << 40) /* 1 TiB: no blob of a real image is near */

/* Fields are NULL when the document leaves them out. */
struct platform {
        char *os, *arch, *variant, *os_version;
};

struct descriptor {
        char *media_type;
        char *digest;           /* "sha256:<64 lowercase hex>" */
        int64_t size;
        char **urls;            /* NULL-terminated; NULL when absent */
        json_t *annotations;    /* object of strings (a reference we hold); NULL when absent */
        struct platform *platform; /* NULL when absent */
};

enum manifest_kind {
        MANIFEST_KIND_DOCKER = 1,       /* Docker schema2 image manifest */
        MANIFEST_KIND_OCI,              /* OCI image manifest */
        MANIFEST_KIND_DOCKER_LIST,      /* Docker manifest list */
        MANIFEST_KIND_OCI_INDEX,        /* OCI image index */
};

struct manifest {
        enum manifest_kind kind;        /* MANIFEST_KIND_DOCKER or _OCI */
        struct descriptor config;
        struct descriptor *layers;
        size_t n_layers;
        json_t *annotations;            /* NULL when absent */
};

struct index {
        enum manifest_kind kind;        /* MANIFEST_KIND_DOCKER_LIST or _OCI_INDEX */
        struct descriptor *manifests;
        size_t n;
        json_t *annotations;            /* NULL when absent */
};

enum layer_compression { LAYER_UNCOMPRESSED, LAYER_GZIP, LAYER_ZSTD };
struct layer_type {
        enum layer_compression compression;
        bool foreign;   /* Docker foreign / OCI non-distributable: may not be pushed, may carry urls */
};

struct image_history {
        char *created, *created_by, *author, *comment;
        bool empty_layer;
};

/* The parts of an image config the engine uses; raw holds the whole
 * document.  String vectors are NULL-terminated and NULL when absent (an
 * empty array gives an empty vector: an empty Entrypoint is not a missing
 * one). */
struct image_config {
        char *architecture, *os, *variant, *os_version;
        char *created, *author;
        char **env, **cmd, **entrypoint;
        char *working_dir, *user, *stop_signal;
        char **exposed_ports;           /* the keys of config.ExposedPorts: "80/tcp" */
        char **volumes;                 /* the keys of config.Volumes */
        json_t *labels;                 /* object of strings, or NULL */
        char **diff_ids;                /* rootfs.diff_ids, validated digests */
        size_t n_diff_ids;
        struct image_history *history;
        size_t n_history;
        json_t *raw;
};

/* "application/vnd.oci.image.index.v1+json" for MANIFEST_KIND_OCI_INDEX... */
const char *manifest_kind_media_type(enum manifest_kind kind);
/* "OCI image index", "Docker schema2 manifest"... for messages. */
const char *manifest_kind_name(enum manifest_kind kind);
bool manifest_kind_is_index(enum manifest_kind kind);
/* The kind a media type names (parameters such as "; charset=" ignored,
 * case-insensitive), or 0. */
enum manifest_kind manifest_kind_from_media_type(const char *media_type);

/* Which kind of document this is.  content_type is the HTTP Content-Type
 * (or the referring descriptor's mediaType), NULL when unknown; generic
 * types (application/json, text/plain...) are ignored.  Schema1 is an
 * error, and so is a Content-Type that contradicts the document. */
int manifest_detect(const void *data, size_t len, const char *content_type,
                    enum manifest_kind *kind, berth_error_t **err);

/* Parse a manifest or an index, whichever the document is: on success
 * exactly one of *manifest and *index is set.  Either pointer may be NULL
 * to refuse that kind ("expected an image manifest, got an OCI image
 * index"). */
int manifest_parse_any(const void *data, size_t len, const char *content_type,
                       struct manifest **manifest, struct index **index, berth_error_t **err);
int manifest_parse(const void *data, size_t len, const char *content_type,
                   struct manifest **out, berth_error_t **err);
int index_parse(const void *data, size_t len, const char *content_type,
                struct index **out, berth_error_t **err);

/* Can the engine run this manifest: an image config media type and layers
 * it knows how to unpack.  (Parsing accepts any media type, so artifacts
 * can be stored and listed.) */
int manifest_check_image(const struct manifest *m, berth_error_t **err);
/* What a layer media type means; an error names an unknown one. */
int layer_media_type_parse(const char *media_type, struct layer_type *out, berth_error_t **err);

/* Platforms follow containerd's platforms package.
 * platform_parse: "linux/amd64", "linux/arm64/v8", "linux/arm/v7", "arm64"
 * (an architecture alone: linux), "linux" (an OS alone: this host's
 * architecture), aliases x86_64, aarch64, armhf, armel, i386; NULL or ""
 * is this host's platform.  The result is as containerd's Parse gives it
 * (2-part arm is variant-less, 3-part arm64 keeps "v8"). */
int platform_parse(const char *spec, struct platform *out, berth_error_t **err);
/* In place: lowercase, macos -> darwin, architecture aliases, arm64/v8 ->
 * arm64, arm -> arm/v7, amd64/v1 -> amd64. */
void platform_normalize(struct platform *p);
/* "os/arch[/variant]" (fields as they are; call platform_normalize first
 * for the canonical form).  Caller frees. */
char *platform_format(const struct platform *p);
/* Would an engine that wants `want` run an image for `have`?  containerd's
 * Only(want).Match(have): arm/v7 also runs v6 and v5, arm64 also runs arm,
 * amd64 also runs 386, amd64/v3 also runs v2 and v1... */
bool platform_match(const struct platform *want, const struct platform *have);

/* The manifest of the index for `platform` (a platform_parse spec; NULL:
 * this host's), best first in containerd's order: the exact platform, then
 * compatible older variants, then compatible architectures.  Entries whose
 * mediaType is not a manifest or index, and attestation entries, are never
 * chosen.  Returns 0 with *out pointing into ix; or 1 when only an entry
 * without a platform was left, which the caller must check against the
 * image config (image_config_check_platform); or an error listing the
 * platforms the index has. */
int index_select_platform(const struct index *ix, const char *platform,
                          const struct descriptor **out, berth_error_t **err);

int image_config_parse(const void *data, size_t len, struct image_config **out, berth_error_t **err);
/* rootfs.diff_ids must have one entry per manifest layer. */
int image_config_check_layers(const struct image_config *c, const struct manifest *m, berth_error_t **err);
/* The config is for a platform that `platform` (NULL: this host) runs. */
int image_config_check_platform(const struct image_config *c, const char *platform, berth_error_t **err);

/* Deep copy (dst is overwritten, not freed). */
void descriptor_copy(struct descriptor *dst, const struct descriptor *src);
/* Free what the struct holds and zero it (for embedded/stack structs). */
void descriptor_clear(struct descriptor *d);
void platform_clear(struct platform *p);
void image_history_clear(struct image_history *h);
/* Free heap structs; NULL is fine. */
void platform_free(struct platform *p);
void manifest_free(struct manifest *m);
void index_free(struct index *ix);
void image_config_free(struct image_config *c);

static inline void manifest_freep(struct manifest **m) { manifest_free(*m); }
static inline void index_freep(struct index **ix) { index_free(*ix); }
static inline void image_config_freep(struct image_config **c) { image_config_free(*c); }
#define _cleanup_manifest_ __attribute__((cleanup(manifest_freep)))
#define _cleanup_index_ __attribute__((cleanup(index_freep)))
#define _cleanup_image_config_ __attribute__((cleanup(image_config_freep)))
#define _cleanup_platform_ __attribute__((cleanup(platform_clear)))
