/* The orchestrator as berthd sees it: open it over the engine, close it at
 * shutdown; the API reaches objects through kube-api.h. */
#pragma once
#include "orch/kube.h"

/* Loads the objects from berth.db, makes the pod network, starts the
 * controllers. */
int kube_open(struct engine *e, const struct kube_opts *o, struct kube **out, berth_error_t **err);
/* Stops the controllers; pods keep running (a restarted berthd adopts
 * them). */
void kube_close(struct kube *k);
/* Fill unset options with the defaults. */
void kube_opts_defaults(struct kube_opts *o);
