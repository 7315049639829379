/* The string form of label selectors (kubectl -l, ?labelSelector=). */
#pragma once
#include "util/error.h"
#include <jansson.h>

/* "app=web,tier!=db,env in (a,b),!canary,release" → a LabelSelector
 * ({matchExpressions: [...]}); EINVAL with the place it stopped. */
int kube_selector_parse(const char *text, json_t **out, berth_error_t **err);
