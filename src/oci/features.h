/* `berth-runtime features`: the runtime-spec features document
 * (features.md in opencontainers/runtime-spec). */
#pragma once
#include <jansson.h>

json_t *oci_features(void);
