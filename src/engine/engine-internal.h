/* Internals of src/engine, shared by its files; not an API. */
#pragma once
#include "engine/engine.h"
#include "util/log.h"
#include "util/util.h"
#include <pthread.h>
#include <sys/types.h>

#define CONTAINER_ID_LEN 64

enum ctr_status { CTR_CREATED, CTR_RUNNING, CTR_PAUSED, CTR_RESTARTING, CTR_EXITED, CTR_REMOVING, CTR_DEAD };

/* One container.  Fields after `lock` are guarded by it; the record in
 * berth.db mirrors them (engine-db.c) after every change. */
struct ctr {
        char id[CONTAINER_ID_LEN + 1];
        char *name;             /* without the leading "/" */
        char *image;            /* as the user named it */
        char *image_id;
        char *created;          /* RFC 3339 */
        json_t *body;           /* the create request (Config fields, HostConfig) */
        json_t *config;         /* the OCI config.json written for it */
        char *stop_signal;
        int stop_timeout;
        bool tty, open_stdin, auto_remove;
        pthread_mutex_t lock;
        pthread_cond_t changed; /* any state change */
        enum ctr_status status;
        pid_t pid, shim_pid;
        int64_t exit_code;
        char *started_at, *finished_at, *error;
        bool oom_killed;
        unsigned restart_count;
        unsigned exits;         /* number of exits seen: next-exit waits for it to grow */
        unsigned attach_waiting; /* attach clients waiting for the shim of a start */
        unsigned start_failures; /* wakes attach clients of a start that failed */
        bool stop_requested;    /* stopped or killed through the API: no restart */
        unsigned restart_delay_ms; /* the next restart's delay, doubling */
        bool removed;
        int refs;               /* engine's list + users in flight */
        /* engine-health.c: the healthcheck's state and thread; NULL until
         * a container with a healthcheck first runs */
        struct health *health;
        /* engine-endpoint.c: the endpoints up now (NetworkSettings-shaped:
         * SandboxKey, Networks, Ports); NULL when there are none */
        json_t *net;
        bool net_releasing;     /* ctr_net_down gives the endpoints back: others wait */
};

struct engine {
        struct engine_opts o;
        char *data_root, *exec_root, *runtime_root;
        pthread_mutex_t images_lock;
        struct image_store *images;
        pthread_mutex_t lock;   /* the container list and the database */
        struct ctr **ctrs;
        size_t n_ctrs;
        void *db;               /* sqlite3 */
        struct netmgr *net;     /* networks (engine-network.h) */
};

/* engine-db.c */
int engine_db_open(struct engine *e, berth_error_t **err);
/* "<data-root>/berth.db: what: sqlite's message" */
int engine_db_fail(struct engine *e, berth_error_t **err, const char *what);
void engine_db_close(struct engine *e);
/* Insert or replace the record (caller holds c->lock). */
int engine_db_save(struct engine *e, struct ctr *c, berth_error_t **err);
int engine_db_delete(struct engine *e, const char *id, berth_error_t **err);
/* Every record, as new struct ctr (status as recorded). */
int engine_db_load(struct engine *e, struct ctr ***out, size_t *n, berth_error_t **err);

/* engine-container.c */
struct ctr *ctr_new(void);
void ctr_ref(struct ctr *c);
void ctr_unref(struct ctr *c);
/* Find by id, unique id prefix or name; a new reference.  ENOENT error:
 * "No such container: NAME". */
int ctr_find(struct engine *e, const char *name, struct ctr **out, berth_error_t **err);
/* Add to the engine's list (takes the reference). */
void ctr_add(struct engine *e, struct ctr *c);
void ctr_forget(struct engine *e, struct ctr *c);
const char *ctr_status_name(enum ctr_status s);
enum ctr_status ctr_status_parse(const char *s);
/* <exec-root>/shims/<id>, <data-root>/containers/<id> */
char *ctr_shim_dir(struct engine *e, const struct ctr *c);
char *ctr_dir(struct engine *e, const struct ctr *c);
char *ctr_log_path(struct engine *e, const struct ctr *c);
/* Current time, RFC 3339 with nanoseconds, UTC. */
char *now_rfc3339(void);
int64_t rfc3339_to_unix(const char *s);
/* 64 random hex digits: the ids of containers, execs, networks,
 * endpoints and anonymous volumes. */
void random_hex_id(char id[CONTAINER_ID_LEN + 1]);
/* Share the seccomp profile of c's config with other containers'. */
void ctr_config_share(struct ctr *c);
/* A free name: adjective_surname, as docker makes them. */
char *ctr_make_name(struct engine *e);
bool ctr_name_valid(const char *name);

/* engine-create.c: mount the container's rootfs again unless it is
 * mounted (after a reboot took the mount away). */
int ctr_rootfs_ensure(struct engine *e, struct ctr *c, berth_error_t **err);

/* engine-events.c: a container event with its image, name and labels
 * (extra: more attributes, a new reference or NULL). */
void engine_container_event(struct engine *e, struct ctr *c, const char *action, json_t *extra);

/* engine-volumes.c: make the volume unless it exists (*created says);
 * copy the image's files at dest into a new one. */
int engine_volume_ensure(struct engine *e, const char *name, bool anonymous, json_t *labels, json_t *options,
                         bool *created, berth_error_t **err);
int engine_volume_copy_up(const char *rootfs, const char *dest, const char *volume_data, berth_error_t **err);

/* engine-exec.c: drop a removed container's exec records (as dockerd,
 * they live as long as their container). */
void engine_exec_forget(const char *ctr_id);

/* engine-exec.c: run args in the running container as the container's
 * process (its user, env, cwd) without a client, for a healthcheck:
 * stdout and stderr together in *output (at most max bytes, "..." after
 * what was cut), the process killed after timeout_ms (*timed_out) or
 * when cancel_fd becomes readable (ECANCELED). */
struct exec_probe {
        json_t *args;
        int64_t timeout_ms;
        size_t max;
        int cancel_fd;
        char *output;           /* out */
        int exit_code;          /* out */
        bool timed_out;         /* out */
};
int exec_probe_run(struct engine *e, struct ctr *c, struct exec_probe *p, berth_error_t **err);

/* engine-health.c: HEALTHCHECK.  The monitor of a running container
 * calls health_start once the container runs and health_stop (which
 * waits for the thread) once it is gone; health_forget on removal.  The
 * rest read under c->lock: State.Health (NULL: none), the status
 * ("starting", "healthy", "unhealthy"; NULL: none) and the healthcheck
 * in force, the image's merged under the body's (NULL: none). */
void health_start(struct engine *e, struct ctr *c);
void health_stop(struct ctr *c);
void health_forget(struct ctr *c);
json_t *health_state_json(struct ctr *c);
const char *health_status(struct ctr *c);
json_t *health_config_json(struct ctr *c);

/* engine-io.c: Docker's stdcopy frame header: stream (1 stdout, 2
 * stderr), three zero bytes, the big-endian length. */
void stdcopy_header(unsigned char h[8], int stream, size_t len);

/* engine-run.c */
/* Connect to one of the shim's sockets ("control.sock", "attach.sock"). */
int shim_connect(struct engine *e, struct ctr *c, const char *socket_name, berth_error_t **err);
/* Watch the shim of a running container (a thread). */
void ctr_monitor(struct engine *e, struct ctr *c);
/* Send one control line to the shim; *reply (may be NULL) gets its answer. */
int shim_control(struct engine *e, struct ctr *c, const char *line, char **reply, berth_error_t **err);
