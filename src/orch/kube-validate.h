/* Validation and defaulting on the way into the store. */
#pragma once
#include "orch/kube.h"

/* Check obj (a known kind, its namespace set) and fill the defaults
 * kube-apiserver fills; old: the stored object it replaces, or NULL.
 * EINVAL with kube-apiserver's message. */
int kube_validate(struct kube *k, json_t *obj, const json_t *old, berth_error_t **err);

/* Fields the types Berth knows do not have, as kube-apiserver's "Warn"
 * field validation reports them: "unknown field \"spec.foo\"" appended
 * to warnings. */
void kube_schema_warnings(const json_t *obj, json_t *warnings);
