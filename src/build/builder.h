/* The classic (non-BuildKit) builder, as dockerd's legacy builder runs a
 * Dockerfile: stage by stage, instruction by instruction, each step an
 * image on top of the one before.
 *
 *   FROM        the base: an image of the store (pulled when missing or
 *               with pull), scratch, or an earlier stage's result
 *   RUN         a container of the current image runs the command (never a
 *               tty, network none or host); its writable layer is committed
 *   COPY, ADD   files of the context (or of a stage or an image: --from)
 *               put into a created, never started container, committed
 *   WORKDIR     the directory made in a layer when the image lacks it
 *   the rest    config only: a new image with an empty_layer history
 *               entry, no container (engine_image_derive)
 *
 * Progress goes out as dockerd's JSON messages ({"stream": "Step 1/7 :
 * FROM busybox"}, {"aux": {"ID": ...}}); a failure is returned, with the
 * code the error message carries (a RUN's exit code, else 0).  Stages the
 * target does not need are skipped.  The linter's warnings (lint.h)
 * end the progress of a successful build.  Intermediate images stay in the
 * store untagged, as dockerd's legacy builder keeps them: they are the
 * build cache (engine_build_cache_*). */
#pragma once
#include "util/error.h"
#include <jansson.h>
#include <stdbool.h>

struct engine;

/* Gets each message (a new reference, to release). */
typedef void (*builder_emit_fn)(void *data, json_t *msg);

struct builder_opts {
        const char *context;            /* directory holding the context */
        const char *dockerfile;         /* inside the context; NULL: "Dockerfile" */
        const char *const *tags;        /* NULL-terminated, or NULL */
        json_t *build_args;             /* {"NAME": "value" or null}; may be NULL */
        json_t *labels;                 /* {"k": "v"}; may be NULL */
        const char *target;             /* stage name or number; NULL: the last */
        bool no_cache, pull;
        /* lint only (berth build --check): the best-practice warnings,
         * no image; *id is NULL then.  Otherwise they follow a build. */
        bool check;
        const char *network;            /* RUN's network: "none" (NULL, "", "default") or "host" */
        const char *source_date_epoch;  /* reproducible: every "created" is this time; NULL: now */
        /* X-Registry-Config, decoded: {"registry": AuthConfig} for FROM's
         * pulls (NULL: the daemon's credentials) */
        json_t *registry_auth;
        /* polled between steps and while a RUN runs: the client left */
        bool (*cancelled)(void *data);
        void *cancel_data;
};

/* Build; *id gets the image id ("sha256:..."), *code the code of the
 * error (a RUN's exit status; 0 otherwise). */
int builder_build(struct engine *e, const struct builder_opts *o, builder_emit_fn emit, void *data, char **id,
                  int *code, berth_error_t **err);
