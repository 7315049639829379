/* ConfigMaps and Secrets: what kube-apiserver checks before it stores one,
 * and how consumers (env, envFrom, volumes, describe) read their bytes.
 *
 * Stored form, as the API returns it:
 * - ConfigMap: data {key: string}, binaryData {key: base64}, immutable.
 * - Secret: data {key: base64}, type (default "Opaque"), immutable; never
 *   stringData (it is merged into data on write).
 * base64 is Go's StdEncoding, as kube-apiserver decodes []byte fields:
 * the standard alphabet, padding required, CR and LF ignored.  Stored
 * values are re-encoded canonically (no line breaks).
 *
 * Errors read as kube-apiserver's (status EINVAL):
 *   ConfigMap "x" is invalid: data[a b]: Invalid value: "a b": a valid config key must ...
 *   Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 4
 * several at once as "... is invalid: [first, second]". */
#pragma once
#include "util/error.h"
#include <jansson.h>
#include <stddef.h>

/* What kube-apiserver allows in data + binaryData (decoded bytes). */
#define KUBE_CONFIG_MAX_SIZE (1024 * 1024)

/* Validate and canonicalise a ConfigMap about to be stored, in place:
 * keys, data values strings (null becomes ""), binaryData base64 (then
 * re-encoded), no key in both, size, and with old (the stored object, or
 * NULL on create) `immutable: true`: data, binaryData and immutable
 * unchanged.  0 or -EINVAL. */
int kube_configmap_normalize(json_t *cm, const json_t *old, berth_error_t **err);

/* The same for a Secret: data base64 (re-encoded), stringData merged into
 * data (it wins) and removed, type defaulted to "Opaque" and immutable
 * after creation, the keys each built-in type requires
 * (kubernetes.io/tls: tls.crt and tls.key, ...), size, immutability. */
int kube_secret_normalize(json_t *secret, const json_t *old, berth_error_t **err);

/* The bytes of one key of a stored ConfigMap (data as is, binaryData
 * decoded) or Secret (data decoded), NUL-terminated for convenience (*len
 * excludes the NUL; the bytes may hold NULs).  0; -ENOENT when the key is
 * absent; -EINVAL when the stored value is not base64 (never after
 * normalize). */
int kube_data_get(const json_t *cm_or_secret, const char *key, char **val, size_t *len);

/* Every key with its decoded bytes, in the object's order (ConfigMap: data
 * first, then binaryData).  For envFrom and volume projection. */
struct kube_data_entry {
        char *key;
        char *val;              /* NUL-terminated; len excludes the NUL */
        size_t len;
};
int kube_data_entries(const json_t *cm_or_secret, struct kube_data_entry **entries, size_t *n, berth_error_t **err);
void kube_data_entries_free(struct kube_data_entry *entries, size_t n);

/* For describe, which never shows a Secret's values: {key: size in bytes}. */
json_t *kube_secret_redacted(const json_t *secret);

/* Go's base64.StdEncoding check: -1 when s is valid, else the offset Go's
 * CorruptInputError reports ("illegal base64 data at input byte N"). */
long kube_base64_error_offset(const char *s);
/* Decode what kube_base64_error_offset accepts; NULL when not valid. */
char *kube_base64_decode(const char *s, size_t *len);
