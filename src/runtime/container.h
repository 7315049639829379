/* The runtime's operations on containers, runc's command set as a library:
 * berth-runtime's main() is a thin parser over these, and the shim will
 * call them in-process. */
#pragma once
#include "util/error.h"
#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

struct create_opts {
        const char *bundle;         /* default "." */
        const char *pid_file;
        const char *console_socket;
        int preserve_fds;
        int listen_fds;             /* socket activation: fds 3.. passed, LISTEN_FDS set inside */
        bool no_pivot;
        bool no_new_keyring;
        bool detach;                /* run: return after start */
};

int container_create(const char *root, const char *id, const struct create_opts *o, berth_error_t **err);
int container_start(const char *root, const char *id, berth_error_t **err);
/* create + start; in the foreground waits and sets *exit_code (128+sig when
 * killed), then deletes the container. */
int container_run(const char *root, const char *id, const struct create_opts *o, int *exit_code,
                  berth_error_t **err);
int container_delete(const char *root, const char *id, bool force, berth_error_t **err);
int container_kill(const char *root, const char *id, int sig, bool all, berth_error_t **err);
int container_state(const char *root, const char *id, json_t **out, berth_error_t **err);
/* Array of state objects for every container under root. */
int container_list(const char *root, json_t **out, berth_error_t **err);
int container_pause(const char *root, const char *id, bool pause, berth_error_t **err);
int container_pids(const char *root, const char *id, pid_t **pids, berth_error_t **err);
int container_update(const char *root, const char *id, json_t *resources, berth_error_t **err);
struct cgroup_stats;
/* The container's cgroup accounting (memory, cpu, pids). */
int container_stats(const char *root, const char *id, struct cgroup_stats *out, berth_error_t **err);

struct exec_opts {
        json_t *process;            /* OCI process object */
        const char *pid_file;
        const char *console_socket;
        int preserve_fds;
        bool detach;
};
int container_exec(const char *root, const char *id, const struct exec_opts *o, int *exit_code,
                   berth_error_t **err);
