/* Internals of the builder, shared by builder*.c; not an API. */
#pragma once
#include "build/builder.h"
#include "build/dockerfile.h"
#include "engine/engine.h"
#include "util/util.h"
#include <jansson.h>

static inline void build_json_decrefp(json_t **j) { json_decref(*j); }
#define _cleanup_json_decref_ __attribute__((cleanup(build_json_decrefp)))

/* One stage as it runs. */
struct stage_state {
        const struct df_stage *st;
        char *image;            /* the current image; NULL: scratch, nothing made yet */
        json_t *config;         /* its "config" */
        json_t *args;           /* the stage's ARGs: name -> value (string) or null */
        char *author;           /* MAINTAINER */
        char *cache_parent;     /* the parent the step's cache key was looked up under */
        bool cmd_set;           /* CMD given in this stage (ENTRYPOINT keeps it) */
        bool needed, done;
};

struct build {
        struct engine *e;
        const struct builder_opts *o;
        struct dockerfile *df;
        struct stage_state *stages;
        json_t *meta;           /* ARGs before the first FROM: name -> value or null */
        json_t *used_args;      /* build args some ARG declared: name -> true */
        unsigned step, total;
        char *created;          /* fixed "created" (SOURCE_DATE_EPOCH), or NULL */
        bool reproducible;      /* SOURCE_DATE_EPOCH given: epoch */
        int64_t epoch;
        int code;               /* the failure's code (a RUN's exit status) */
        bool ran;               /* the step's container ran ("Running in"): its removal is told */
        builder_emit_fn emit;
        void *emit_data;
};

/* ---- builder.c ---- */
/* {"stream": text}: printf-style, or bytes as they are. */
void build_say(struct build *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void build_say_raw(struct build *b, const char *buf, size_t len);
/* The first 12 hex digits of an id. */
const char *short_id(const char *id);
bool build_cancelled(struct build *b);
/* Words of the Dockerfile, expanded with the stage's ENV and ARGs (s NULL:
 * with the ARGs before the first FROM, for FROM lines). */
int build_expand(struct build *b, struct stage_state *s, const char *word, char **out, berth_error_t **err);
/* The SHELL in force: Shell, or ["/bin/sh", "-c"] (a new reference). */
json_t *build_shell(json_t *config);
/* "/bin/sh -c #(nop)  TEXT": the history of a config-only step. */
char *build_nop(json_t *config, const char *text);
/* The image's "config" (a new reference; {} when it has none). */
int build_image_config(struct build *b, const char *id, json_t **out, berth_error_t **err);
/* The step's key for the cache (a digest of the text). */
char *build_cache_key(const char *text);
/* With the cache on and a result recorded for (s->image, key): take it,
 * say "Using cache", *hit true. */
int build_cache_try(struct build *b, struct stage_state *s, const char *key, bool *hit, berth_error_t **err);
/* The step's result: an image from s->image (with container: its layer;
 * the container is removed, success or not) with s->config, recorded in
 * the cache under key; s->image moves on and " ---> ID" is said. */
int build_commit(struct build *b, struct stage_state *s, const char *container, const char *created_by,
                 const char *key, berth_error_t **err);
/* s->image made if the stage has none yet (scratch): an empty image. */
int build_ensure_image(struct build *b, struct stage_state *s, berth_error_t **err);
/* A created (never started) container of image with the create body's
 * extra fields (may be NULL). */
int build_container(struct build *b, const char *image, json_t *extra, char **id, berth_error_t **err);
void build_container_remove(struct build *b, const char *id);
/* The image a name gives (a stage's result, else the store's, pulled
 * when missing or with pull); config may be NULL. */
int build_resolve_image(struct build *b, const char *name, bool stages, char **id, json_t **config,
                        berth_error_t **err);

/* ---- builder-config.c: steps that change only the config ---- */
int build_config_step(struct build *b, struct stage_state *s, const struct df_instr *in, berth_error_t **err);
/* ARG in a stage: no config change, an image all the same, as dockerd. */
int build_arg_step(struct build *b, struct stage_state *s, const struct df_instr *in, berth_error_t **err);

/* ---- builder-run.c ---- */
int build_run_step(struct build *b, struct stage_state *s, const struct df_instr *in, berth_error_t **err);

/* ---- builder-tar.c: source trees as a checksum or a tar ---- */
#define COPY_BUF (64 * 1024)
struct archive;
struct stat;
/* One walk: hash set, a checksum; a set, tar entries. */
struct copier {
        struct build *b;
        struct digester *hash;  /* checksum mode */
        struct archive *a;      /* tar mode */
        bool chown, chmod;
        uid_t uid;
        gid_t gid;
        mode_t mode;
        char *buf;
        berth_error_t **err;
};

/* fd (open for reading) under name: a file, or a directory and all below
 * it (top: without the directory's own entry). */
int build_walk(struct copier *c, int fd, const struct stat *st, const char *name, bool top);
/* One entry (link: a symlink's target). */
int build_tar_header(struct copier *c, const char *name, const struct stat *st, const char *link);
/* A directory entry for path (absolute), root's and 0755. */
int build_dir_entry(struct copier *c, const char *path);
int build_tar_open(struct copier *c, int fd);
/* End the tar (r: the result so far, returned unless closing fails). */
int build_tar_close(struct copier *c, int r);
/* An unnamed file under the data root: the fd, or -1. */
int build_spool_open(struct build *b, berth_error_t **err);
/* The tar in fd (from its start) extracted into path of container ctr. */
int build_put_fd(struct build *b, const char *ctr, const char *path, int fd, berth_error_t **err);

/* ---- builder-url.c: ADD <url> ---- */
/* The URL's file in a spool file (*fd, from its start), with the stat the
 * layer gets (0600, Last-Modified) and the name (the URL's last segment). */
int build_fetch_url(struct build *b, const char *url, int *fd, struct stat *st, char **name, berth_error_t **err);

/* ---- builder-copy.c: COPY, ADD, WORKDIR ---- */
int build_copy_step(struct build *b, struct stage_state *s, const struct df_instr *in, berth_error_t **err);
int build_workdir_step(struct build *b, struct stage_state *s, const struct df_instr *in, berth_error_t **err);
