/* OCI hooks: each runs with the container state JSON on stdin and its
 * optional timeout; the caller decides whether a failure is fatal. */
#pragma once
#include "util/error.h"
#include <jansson.h>

/* Run the hooks array (may be NULL); kind names them in errors.  Stops at
 * the first failing hook. */
int hooks_run(json_t *hooks, const char *kind, json_t *state, berth_error_t **err);
