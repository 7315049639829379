/* Per-container state under the runtime root (<root>/<id>/state.json),
 * written atomically.  The status is derived, never stored: a process that
 * exited reads "stopped" at once. */
#pragma once
#include "util/error.h"
#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

struct container_state {
        char *id;
        char *bundle;
        char *rootfs;
        char *created;          /* RFC 3339 */
        char *oci_version;
        char *cgroup_path;      /* relative to the hierarchy roots */
        pid_t pid;
        unsigned long long start_time; /* /proc/<pid>/stat field 22, guards pid reuse */
        json_t *annotations;
        json_t *poststart;      /* hooks.poststart, run by start */
        json_t *poststop;       /* hooks.poststop, run at delete */
        json_t *ns_paths;       /* {"pid": "/proc/N/ns/pid", ...} of the init */
};

char *state_dir(const char *root, const char *id);
int state_write(const char *root, const struct container_state *st, berth_error_t **err);
/* Fails with "container \"ID\" does not exist" for an unknown id. */
int state_read(const char *root, const char *id, struct container_state **out, berth_error_t **err);
void state_free(struct container_state *st);
static inline void cleanup_statep(struct container_state **st) { if (*st) state_free(*st); }
#define _cleanup_state_ __attribute__((cleanup(cleanup_statep)))

/* "created", "running", "paused" or "stopped". */
const char *state_status(const char *root, const struct container_state *st);
/* The runtime-spec state object (for `state` and for hooks' stdin). */
json_t *state_to_oci(const struct container_state *st, const char *status);

/* /proc/<pid>/stat: start time and run state ('Z' zombie...).  -1 if gone. */
int proc_stat(pid_t pid, unsigned long long *start_time, char *run_state);
/* Is the container init still the process we started (not a zombie)? */
bool state_init_alive(const struct container_state *st);
/* Validate a container id: [A-Za-z0-9_.+-], no path tricks. */
int container_id_check(const char *id, berth_error_t **err);
/* Remove <root>/<id> and what the runtime put in it.  Missing is fine. */
int state_remove(const char *root, const char *id, berth_error_t **err);
/* Now as RFC 3339 with nanoseconds, UTC. */
char *rfc3339_now(void);
/* --pid-file: the host pid, no newline, written atomically. */
int pid_file_write(const char *path, pid_t pid, berth_error_t **err);
