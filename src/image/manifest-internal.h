/* Internals shared by manifest.c (manifests, indexes, descriptors and the
 * JSON readers below), platform.c and image-config.c; not an API.  The
 * readers name the field in every error ("layers[2].digest: ..."), so all
 * three documents report problems the same way. */
#pragma once
#include "image/manifest.h"
#include "util/util.h"
#include <stdio.h>

static inline void json_decref_p(json_t **j) { json_decref(*j); }
#define _cleanup_json_ __attribute__((cleanup(json_decref_p)))

static inline void strv_free(char **v)
{
        cleanup_strvp(&v);
}

/* "at.key", or "key" at the top; a path too long for buf (only a
 * message's worth) is cut. */
static inline const char *doc_field(char *buf, size_t size, const char *at, const char *key)
{
        if (snprintf(buf, size, "%s%s%s", at, *at ? "." : "", key) >= (int)size)
                buf[size - 1] = '\0';
        return buf;
}

/* A member that is absent or JSON null reads as NULL: Go writers emit null
 * for empty slices and maps. */
static inline json_t *doc_member(json_t *obj, const char *key)
{
        json_t *v = json_object_get(obj, key);
        return json_is_null(v) ? NULL : v;
}

/* manifest.c */
/* Document bytes quoted for a message: control characters escaped, cut
 * after 80 bytes.  Caller frees. */
char *doc_quoted(const char *s);
/* Parse at most max bytes of JSON into an object (duplicate keys refused). */
int doc_load(const void *data, size_t len, size_t max, json_t **out, berth_error_t **err);
/* Field readers: at is the path of obj in the document ("" at the top). */
int doc_get_string(json_t *obj, const char *at, const char *key, bool required, char **out, berth_error_t **err);
/* A JSON array of strings as a NULL-terminated vector; absent is NULL. */
int doc_get_strv(json_t *obj, const char *at, const char *key, size_t max, char ***out, size_t *count,
                 berth_error_t **err);
/* An object whose values are all strings (annotations, labels); *out holds
 * a reference to it. */
int doc_get_string_map(json_t *obj, const char *at, const char *key, json_t **out, berth_error_t **err);
/* digest must be "sha256:<64 lowercase hex>"; the error names it at what. */
int doc_check_digest(const char *digest, const char *what, berth_error_t **err);

/* platform.c */
/* Deep copy (dst is overwritten, not freed). */
void platform_copy(struct platform *dst, const struct platform *src);
