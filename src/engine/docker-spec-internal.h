/* Shared by the docker-spec*.c files: the build context, and readers of
 * the create body that name the field in their errors. */
#pragma once
#include "engine/docker-spec.h"
#include "util/util.h"
#include <stdint.h>

static inline void json_decref_p(json_t **j) { json_decref(*j); }
#define _cleanup_json_ __attribute__((cleanup(json_decref_p)))

/* json_pack only fails on OOM or a bad format string; both are fatal. */
json_t *must(json_t *j);

enum seccomp_choice { SECCOMP_DEFAULT, SECCOMP_UNCONFINED, SECCOMP_CUSTOM };

struct spec_ctx {
        const struct docker_spec_input *in;
        json_t *body;                   /* the create body (Config fields at top level) */
        json_t *hc;                     /* HostConfig, NULL when absent */
        json_t *spec;                   /* the config.json being built */
        struct docker_spec_info *info;
        uint64_t caps;                  /* the capability set, bit n = capability n */
        bool privileged;
        bool no_new_privileges;
        bool unconfined_paths;          /* SecurityOpt systempaths=unconfined */
        bool writable_cgroups;          /* SecurityOpt writable-cgroups=true */
        enum seccomp_choice seccomp;
        const char *seccomp_custom;     /* SECCOMP_CUSTOM: JSON text or a path (borrowed from body) */
        bool uts_host, uts_container, ipc_host, ipc_none, ipc_container, cgroupns_host;
};

/* Go's encoding/json, which Docker decodes the body with, matches keys
 * exactly first, then case-insensitively: so do we. */
json_t *dj_get(json_t *obj, const char *key);

/* Typed readers of obj[key].  `where` prefixes the field in errors
 * ("HostConfig." or "").  Absent and null read as the zero value; a value
 * of another type is an error, as Docker's decoder fails it. */
int dj_string(json_t *obj, const char *where, const char *key, const char **out, berth_error_t **err);
int dj_int(json_t *obj, const char *where, const char *key, long long *out, berth_error_t **err);
int dj_bool(json_t *obj, const char *where, const char *key, bool *out, berth_error_t **err);
/* An object (NULL when absent or null). */
int dj_object(json_t *obj, const char *where, const char *key, json_t **out, berth_error_t **err);
/* An array (NULL when absent or null). */
int dj_array(json_t *obj, const char *where, const char *key, json_t **out, berth_error_t **err);
/* An array of strings as a NULL-terminated vector of borrowed strings
 * (free only the vector); NULL when absent or null, so an empty array
 * stays distinct.  allow_string: a lone string is a one-element vector
 * (Docker's StrSlice: Cmd, Entrypoint). */
int dj_strv(json_t *obj, const char *where, const char *key, bool allow_string, const char ***out,
            berth_error_t **err);
/* A JSON string's value, refusing embedded NULs (which C would cut). */
int dj_str_value(json_t *v, const char *field, const char **out, berth_error_t **err);

/* s itself when it is short printable ASCII (so Docker's messages read
 * the same), else quoted with escapes.  Caller frees. */
char *printable(const char *s);

/* "<prefix>[<key>]" with the key made printable, for map fields. */
char *field_key(const char *prefix, const char *key);

size_t strv_len(const char *const *v);
void strv_free_owned(char **v);

/* Go's filepath.Clean for an absolute path: "//a/./b/../c/" -> "/a/c".
 * Caller frees. */
char *path_clean(const char *path);
/* Number of components of a clean absolute path ("/" is 0, "/a/b" 2). */
size_t path_depth(const char *clean);

/* Add a line to info->warnings. */
void spec_warn(struct spec_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The steps of docker_spec_build, in order. */
int spec_security(struct spec_ctx *ctx, berth_error_t **err);       /* docker-spec-security.c */
int spec_namespaces(struct spec_ctx *ctx, berth_error_t **err);     /* docker-spec-namespaces.c */
int spec_process(struct spec_ctx *ctx, berth_error_t **err);        /* docker-spec-process.c */
int spec_mounts(struct spec_ctx *ctx, berth_error_t **err);         /* docker-spec-mounts.c */
int spec_resources(struct spec_ctx *ctx, berth_error_t **err);      /* docker-spec-resources.c */
int spec_devices(struct spec_ctx *ctx, json_t *resources, berth_error_t **err); /* docker-spec-devices.c */
int spec_seccomp(struct spec_ctx *ctx, berth_error_t **err);        /* docker-seccomp.c */

/* Docker's tmpfs option merge (docker-spec-tmpfs.c): flags of one family
 * (exec/noexec...) and repeated key=value keep the last; unknown options
 * are an error.  *out is NULL-terminated and owned. */
int tmpfs_options_merge(const char *const *opts, size_t n, char ***out, berth_error_t **err);

/* The capability bits of every capability the kernel knows. */
uint64_t caps_all(void);
/* A capability set as the OCI list of names, in number order. */
json_t *caps_to_json(uint64_t caps);
