/* YAML for `berth kube`: manifests in (libyaml's event parser, building
 * jansson values), and objects out in the block style `kubectl -o yaml`
 * prints.
 *
 * Scalars are typed by the YAML 1.2 core schema, with one Kubernetes
 * compatibility rule from YAML 1.1: an unquoted integer with a leading 0
 * (0644) is octal, as kubectl reads `defaultMode: 0644`.  yes/no/on/off
 * stay strings.  Mapping keys are always strings (their text as written).
 * Values JSON cannot hold (.inf, .nan, 1e999, hex/octal beyond int64) are
 * errors; decimal integers beyond int64 become reals.  Whatever
 * kube_yaml_emit writes, kube_yaml_parse reads back to an equal value. */
#pragma once
#include "util/error.h"
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Limits against alias bombs and runaway nesting, per document. */
#define KUBE_YAML_MAX_NODES 1000000
#define KUBE_YAML_MAX_BYTES (64u << 20) /* scalar text, aliases expanded */
#define KUBE_YAML_MAX_DEPTH 200

/* Parse a stream of YAML (or JSON) documents into *docs, a new array with
 * one element per non-empty document (an empty or null document is
 * skipped).  Errors (status EINVAL) are one line: "line N column M: why",
 * prefixed with "document K: " from the second document on. */
int kube_yaml_parse(const char *buf, size_t len, json_t **docs, berth_error_t **err);

/* One value as a YAML document (no leading "---"), ending in a newline.
 * A new string. */
char *kube_yaml_emit(const json_t *v);
/* The elements of an array as documents separated by "---\n". */
char *kube_yaml_emit_docs(const json_t *array);

/* How the parser types an unquoted, untagged scalar; the emitter quotes a
 * string whose plain form would read back as something else. */
enum kube_yaml_kind {
        KUBE_YAML_NULL,
        KUBE_YAML_BOOL,
        KUBE_YAML_INT,
        KUBE_YAML_FLOAT,
        KUBE_YAML_NONFINITE, /* .inf, .nan: no JSON value */
        KUBE_YAML_STRING,
};
enum kube_yaml_kind kube_yaml_plain_kind(const char *s, size_t len);
/* The value of a plain scalar of KUBE_YAML_INT: 0 or -ERANGE beyond int64;
 * *decimal tells whether it was written in base 10. */
int kube_yaml_int_value(const char *s, size_t len, bool *decimal, json_int_t *v);
