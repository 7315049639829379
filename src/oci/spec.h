/* `berth-runtime spec`: the default config.json, equal to runc's. */
#pragma once
#include <jansson.h>
#include <stdbool.h>

/* The default spec; rootless adds a user namespace with the caller's
 * uid/gid mapped to root, drops network ns and cgroup-bound resources,
 * as `runc spec --rootless` does. */
json_t *oci_default_spec(bool rootless);
