/* The engine: what berthd manages.  Images through the image store (one
 * lock: the store is not thread-safe), containers through one berth-shim
 * each (DESIGN.md), their records in berth.db next to the images.
 *
 * Container lifecycle, as Docker's:
 *   create  record + rootfs (overlay of the image) + bundle config.json;
 *           status "created"; no process yet
 *   start   launch the shim (it creates the runtime container, holding its
 *           stdio), let waiting attach clients connect, then start it;
 *           status "running"; a monitor thread watches the shim (pidfd)
 *   exit    the shim writes the exit file and exits; the monitor records
 *           "exited" with the code, wakes waiters, removes --rm containers
 *   rm      stop if forced, unmount, remove the directory and the record
 * berthd can die at any time: shims and containers keep running, and
 * engine_open re-adopts them from the records and the shims' pid files.
 *
 * Errors carry an errno-like status the API maps to HTTP: ENOENT 404,
 * EEXIST/EBUSY 409, EALREADY 304, EINVAL 400, anything else 500. */
#pragma once
#include "util/error.h"
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct engine;
struct image_store;

struct engine_opts {
        const char *data_root;          /* /var/lib/berth */
        const char *exec_root;          /* /run/berth: shims/<id>/ */
        const char *runtime_root;       /* /run/berth-runtime (runtime state) */
        const char *shim_path;          /* berth-shim binary */
        const char *runtime_path;       /* berth-runtime binary, for exec */
        /* berth-init, bind-mounted at /sbin/docker-init for --init; NULL:
         * the one next to runtime_path */
        const char *init_path;
        const char *seccomp_profile;    /* default seccomp profile (JSON file) */
        const char *auth_config;        /* registry credentials; NULL: default */
        const char *const *insecure_registries;
};

int engine_open(const struct engine_opts *o, struct engine **out, berth_error_t **err);
/* Stops nothing: containers keep running under their shims. */
void engine_close(struct engine *e);

/* The image store, locked for the caller until engine_images_unlock. */
struct image_store *engine_images_lock(struct engine *e);
void engine_images_unlock(struct engine *e);
const struct engine_opts *engine_options(struct engine *e);

/* ---- containers ------------------------------------------------------ */

/* POST /containers/create: body as the API receives it; name may be NULL
 * (one is made up).  *id gets the new id; *warnings (may be NULL) an
 * array of strings. */
int engine_container_create(struct engine *e, json_t *body, const char *name, char **id, json_t **warnings,
                            berth_error_t **err);
int engine_container_start(struct engine *e, const char *name, berth_error_t **err);
/* timeout < 0: the container's StopTimeout, else 10 s. */
int engine_container_stop(struct engine *e, const char *name, int timeout, berth_error_t **err);
int engine_container_restart(struct engine *e, const char *name, int timeout, berth_error_t **err);
int engine_container_kill(struct engine *e, const char *name, const char *signal, berth_error_t **err);
int engine_container_pause(struct engine *e, const char *name, bool pause, berth_error_t **err);
int engine_container_remove(struct engine *e, const char *name, bool force, bool volumes, berth_error_t **err);
int engine_container_rename(struct engine *e, const char *name, const char *new_name, berth_error_t **err);

enum engine_wait { ENGINE_WAIT_NOT_RUNNING, ENGINE_WAIT_NEXT_EXIT, ENGINE_WAIT_REMOVED };
/* Block until the condition holds; *exit_code gets the last exit code.
 * cancelled (may be NULL) is polled: the client went away. */
int engine_container_wait(struct engine *e, const char *name, enum engine_wait cond, int64_t *exit_code,
                          bool (*cancelled)(void *data), void *data, berth_error_t **err);

/* Docker's ContainerJSON and the list's ContainerSummary array. */
int engine_container_inspect(struct engine *e, const char *name, json_t **out, berth_error_t **err);
int engine_container_list(struct engine *e, bool all, json_t *filters, json_t **out, berth_error_t **err);
/* The full id of a container by id, id prefix or name. */
int engine_container_id(struct engine *e, const char *name, char **id, berth_error_t **err);

/* Logs: the json-file log, filtered; write gets each entry already framed
 * (stdcopy header unless tty) and returns <0 when the client is gone. */
struct engine_logs_opts {
        bool stdout_, stderr_, follow, timestamps;
        int64_t tail;           /* -1: all */
        int64_t since, until;   /* unix seconds; 0: none */
};
typedef int (*engine_write_fn)(void *data, const void *buf, size_t len);
int engine_container_logs(struct engine *e, const char *name, const struct engine_logs_opts *o, bool *tty,
                          engine_write_fn write, void *data, berth_error_t **err);
/* Is the container's output a tty (raw stream) or multiplexed? */
int engine_container_tty(struct engine *e, const char *name, bool *tty, berth_error_t **err);

/* Attach: bridge fd (a hijacked connection) to the container's stdio
 * until the container's output ends or the client leaves.  Blocks.  With
 * a container not started yet, waits for its start. */
struct engine_attach_opts {
        bool stdin_, stdout_, stderr_, logs, stream;
        bool reserved;  /* engine_container_attach_reserve was called */
};
/* extra: stdin bytes the client sent before fd was handed over. */
int engine_container_attach(struct engine *e, const char *name, int fd, const void *extra, size_t extra_len,
                            const struct engine_attach_opts *o, berth_error_t **err);
/* An attach about to answer 101: the client may send its start as soon
 * as it has the 101, so a start must wait for this attacher to reach the
 * shim, or the container's first output is lost (docker run).  Reserve
 * before the 101; engine_container_attach (with o->reserved) gives the
 * reservation back once it reached the shim or gave up; a caller whose
 * hijack never ran gives it back with reserve false. */
void engine_container_attach_reserve(struct engine *e, const char *id, bool reserve);
int engine_container_resize(struct engine *e, const char *name, int rows, int cols, berth_error_t **err);

/* docker exec: create (body as POST /containers/{id}/exec), start
 * (bridged to a hijacked connection unless detach; blocks until the
 * process ends), inspect (GET /exec/{id}/json). */
int engine_exec_create(struct engine *e, const char *name, json_t *body, char **id, berth_error_t **err);
int engine_exec_start(struct engine *e, const char *exec_id, int client, const void *extra, size_t extra_len,
                      bool detach, berth_error_t **err);
int engine_exec_inspect(struct engine *e, const char *exec_id, json_t **out, berth_error_t **err);
/* POST /exec/{id}/resize: the terminal of a Tty exec (remembered until
 * its terminal exists); nothing for one without. */
int engine_exec_resize(struct engine *e, const char *exec_id, int rows, int cols, berth_error_t **err);
/* Run args (a JSON array of strings) in a running container, as
 * HEALTHCHECK runs its test: waits at most timeout_ms (then kills it and
 * sets *timed_out), keeps the first max bytes of its output in *output
 * (the caller frees it) and its status in *exit_code.  The kubelet's
 * exec probes. */
struct engine_exec_result {
        char *output;
        int exit_code;
        bool timed_out;
};
int engine_exec_timed(struct engine *e, const char *name, json_t *args, int64_t timeout_ms, size_t max,
                      struct engine_exec_result *out, berth_error_t **err);

/* docker stats: one sample (with the one before as precpu) or one a
 * second while the container runs; emit takes the reference and returns
 * <0 when the client is gone. */
typedef int (*engine_json_fn)(void *data, json_t *j);
int engine_container_stats(struct engine *e, const char *name, bool stream, engine_json_fn emit, void *data,
                           berth_error_t **err);

/* Events (docker events): record one (attrs: a new reference or NULL);
 * read the ones after *seq, waiting up to timeout_ms.  *first starts
 * true: then since (unix seconds, <0: none) picks the start. */
void engine_event(struct engine *e, const char *type, const char *action, const char *id, json_t *attrs);
json_t *engine_events_next(struct engine *e, uint64_t *seq, bool *first, int64_t since, int timeout_ms);

/* Networks: /networks API shapes (engine-network.c). */
/* The embedded DNS server (the orchestrator adds Service names to it). */
struct dns_server *engine_dns(struct engine *e);
int engine_network_create(struct engine *e, json_t *body, json_t **out, berth_error_t **err);
int engine_network_inspect(struct engine *e, const char *name, json_t **out, berth_error_t **err);
int engine_network_list(struct engine *e, json_t *filters, json_t **out, berth_error_t **err);
int engine_network_remove(struct engine *e, const char *name, berth_error_t **err);
int engine_network_prune(struct engine *e, json_t *filters, json_t **out, berth_error_t **err);
/* body: {Container, EndpointConfig} and {Container, Force} */
int engine_network_connect(struct engine *e, const char *name, json_t *body, berth_error_t **err);
int engine_network_disconnect(struct engine *e, const char *name, json_t *body, berth_error_t **err);

/* Volumes (local driver): /volumes API shapes. */
int engine_volume_create(struct engine *e, json_t *body, json_t **out, berth_error_t **err);
int engine_volume_inspect(struct engine *e, const char *name, json_t **out, berth_error_t **err);
int engine_volume_list(struct engine *e, json_t **out, berth_error_t **err);
/* In use by a container: EBUSY, force or not (as dockerd). */
int engine_volume_remove(struct engine *e, const char *name, bool force, berth_error_t **err);
/* Unused anonymous volumes; all: named ones too. */
int engine_volume_prune(struct engine *e, bool all, json_t **out, berth_error_t **err);

/* Running processes (docker top): Titles and Processes as the API gives
 * them, from the host's ps with ps_args (NULL or "": "-ef"). */
int engine_container_top(struct engine *e, const char *name, const char *ps_args, json_t **out,
                         berth_error_t **err);
/* Number of images' users, for rmi: the engine records containers as
 * users of their image in the image store (rootfs.c). */

/* ---- rename, update, prune, df ---- */

/* POST /containers/{id}/update: body is Docker's UpdateConfig (Resources
 * fields and RestartPolicy; 0 or "" means unchanged).  Applied to a
 * running container's cgroup at once and recorded in its HostConfig and
 * config.json, so inspect shows it and a restart keeps it.  *warnings
 * (may be NULL) gets an array of strings. */
int engine_container_update(struct engine *e, const char *name, json_t *body, json_t **warnings,
                            berth_error_t **err);

/* POST /containers/prune: remove the containers that do not run and pass
 * filters ({"until": [...], "label": [...], "label!": [...]}, either as
 * arrays or as {"value": true}; NULL: none).  *out is
 * {"ContainersDeleted": [ids], "SpaceReclaimed": bytes}. */
int engine_container_prune(struct engine *e, json_t *filters, json_t **out, berth_error_t **err);

/* GET /system/df: every container as the list shows it, with SizeRw (its
 * writable layer) and SizeRootFs (that plus its image); every volume as
 * /volumes shows it, with UsageData {Size, RefCount}. */
int engine_df_containers(struct engine *e, json_t **out, berth_error_t **err);
int engine_df_volumes(struct engine *e, json_t **out, berth_error_t **err);

/* HostConfig.LogConfig as create takes it: Type "json-file" (or "", the
 * default) with Docker's json-file options, or "none"; another driver is
 * EINVAL naming it. */
int engine_log_config_check(json_t *host_config, berth_error_t **err);
/* The container has a log to read (its driver is not "none"): else
 * ENOSYS, dockerd's "configured logging driver does not support reading". */
int engine_container_logs_readable(struct engine *e, const char *name, berth_error_t **err);

/* ---- archive, export, commit ---- */

/* docker cp.  Paths are container paths, resolved in the rootfs whether
 * the container runs or not (or in the source of the bind mount or
 * volume that holds them): symlinks on the way are followed as the
 * container would follow them, never out of it; the last component is
 * not followed (a trailing "/" or "/." asks for a directory and follows
 * it).  A missing path is ENOENT "Could not find the file P in container
 * N". */

/* The X-Docker-Container-Path-Stat of path: {"name", "size", "mode" (Go's
 * os.FileMode bits), "mtime", "linkTarget"}. */
int engine_archive_stat(struct engine *e, const char *name, const char *path, json_t **stat, berth_error_t **err);
/* Called once before the first byte of a stream, with the stat (a new
 * reference, or NULL for export); nonzero stops the stream. */
typedef int (*engine_begin_fn)(void *data, json_t *stat);
/* GET .../archive: the tar of path, entries named after its last
 * component ("passwd", "etc/...", "./..." for "/etc/."). */
int engine_archive_get(struct engine *e, const char *name, const char *path, engine_begin_fn begin,
                       engine_write_fn write, void *data, berth_error_t **err);
/* PUT .../archive: extract a tar (plain, gzip or zstd) read through read
 * (>0 bytes, 0 at the end, -errno) into the directory path.  Owners come
 * from the archive, or with copy_uid_gid from the container's user. */
struct engine_extract_opts {
        bool no_overwrite_dir_non_dir;
        bool copy_uid_gid;
};
typedef ssize_t (*engine_read_fn)(void *data, void *buf, size_t len);
int engine_archive_put(struct engine *e, const char *name, const char *path, const struct engine_extract_opts *o,
                       engine_read_fn read, void *data, berth_error_t **err);
/* docker export: the rootfs as a tar (no volumes, no mounted files). */
int engine_container_export(struct engine *e, const char *name, engine_begin_fn begin, engine_write_fn write,
                            void *data, berth_error_t **err);

/* docker commit: the container's writable layer (overlay upper dir,
 * deletions as whiteouts) on top of its image's layers becomes an image,
 * tagged repo:tag when repo is given.  config (may be NULL) overrides the
 * container's config; changes are Dockerfile instructions (CMD, ENV...).
 * A running container is paused meanwhile when pause is set.  *id gets
 * the image id. */
struct engine_commit_opts {
        const char *repo, *tag, *comment, *author;
        const char *const *changes;     /* NULL-terminated, or NULL */
        json_t *config;
        bool pause;
};
int engine_container_commit(struct engine *e, const char *name, const struct engine_commit_opts *o, char **id,
                            berth_error_t **err);

/* GET /volumes with its filters (NULL: none): driver, label, name and
 * dangling, as dockerd takes them ({"key": {"value": true}} or
 * {"key": ["value"]}); another key is EINVAL "invalid filter 'key'". */
int engine_volume_list_filtered(struct engine *e, json_t *filters, json_t **out, berth_error_t **err);

/* ---- the builder (src/build) ---- */

/* A new image from base (an image id; NULL: FROM scratch, no layers)
 * with config as its "config", as is, and one history entry: with
 * container (a created, stopped container of base's), its writable
 * layer becomes the image's new layer (nothing changed: an empty_layer
 * entry); without, the entry is an empty_layer (Dockerfile steps that
 * change only the config).  Untagged; *id gets the image id. */
struct engine_derive_opts {
        const char *base;
        const char *container;          /* NULL: no layer; base is then the container's image */
        json_t *config;
        const char *created_by, *comment;
        const char *author;             /* MAINTAINER; NULL: none */
        const char *created;            /* RFC 3339; NULL: now */
        /* SOURCE_DATE_EPOCH: no mtime in the layer is later than epoch,
         * and the config names no container, so that the same steps give
         * the same digest */
        bool reproducible;
        int64_t epoch;
};
int engine_image_derive(struct engine *e, const struct engine_derive_opts *o, char **id, berth_error_t **err);

/* The host path of a container's mounted rootfs (read it, never through
 * symlinks: resolve inside it). */
char *engine_container_rootfs(struct engine *e, const char *id);

/* The build cache (engine-build.c): the image a step made on parent,
 * found by the step's key (the instruction as expanded, plus whatever
 * else decides its result).  get: 1 and *id, or 0 when none is known or
 * the image is gone. */
int engine_build_cache_get(struct engine *e, const char *parent, const char *key, char **id, berth_error_t **err);
int engine_build_cache_put(struct engine *e, const char *parent, const char *key, const char *id,
                           berth_error_t **err);
/* The image is the parent of a cached step: untagged, it is one of the
 * builder's intermediate images with children, which `docker images`
 * leaves out without -a, as dockerd does. */
bool engine_build_cache_is_parent(struct engine *e, const char *id);
