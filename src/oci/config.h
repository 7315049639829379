/* Loading and validating an OCI bundle's config.json.  The runtime works on
 * the jansson DOM directly; this module checks what must hold before any
 * resource is created, so bad input fails with nothing to clean up. */
#pragma once
#include "util/error.h"
#include <jansson.h>
#include <stdbool.h>

/* Load <bundle>/config.json and validate it (ociVersion 1.x, root.path,
 * process, capability names, rlimit names, namespace types, sysctl keys). */
int oci_config_load(const char *bundle, json_t **out, berth_error_t **err);
/* Validate a loaded config (also used for `exec --process` documents). */
int oci_config_validate(json_t *config, berth_error_t **err);
int oci_process_validate(json_t *process, berth_error_t **err);

/* json_object_get along a NULL-terminated key path; NULL if any is missing. */
json_t *json_path(json_t *root, ...) __attribute__((sentinel));
/* The string at a path, or fallback. */
const char *json_path_str(json_t *root, const char *fallback, ...) __attribute__((sentinel));

/* The namespace types of linux.namespaces, in clone flag form. */
int oci_namespace_flag(const char *type);
/* RLIMIT_* resource number for "RLIMIT_NOFILE", or -1. */
int oci_rlimit_parse(const char *name);
/* Is this sysctl key namespaced given the namespaces the container gets?
 * Returns 0 or an error naming the key. */
int oci_sysctl_check(const char *key, json_t *namespaces, berth_error_t **err);
