/* The container's first process, between clone and execve: joins and
 * sets up namespaces, the rootfs, the process' identity, then waits for
 * `start`.  Every failure goes back to the parent over sync_fd. */
#pragma once
#include "runtime/namespaces.h"
#include "runtime/seccomp.h"
#include <jansson.h>
#include <stdbool.h>

struct cgroup;

struct init_ctx {
        json_t *config;
        json_t *process;
        const char *id;
        const char *rootfs;
        const char *bundle;
        const char *cgroup_path;
        struct ns_plan *ns;
        int sync_fd;       /* child's end of the socketpair */
        int start_fd;      /* exec.fifo read end (create), or -1: wait on sync_fd (run) */
        int console_fd;    /* --console-socket connection, or -1 */
        int keep_fds;      /* fds 3 .. 3+keep_fds-1 pass into the container */
        const struct seccomp_program *seccomp; /* or NULL */
        int seccomp_listener_fd;               /* connected before pivot_root, or -1 */
        pid_t host_pid;                        /* for the listener's state */
        bool no_pivot;
        bool idmap_rootfs;      /* the parent sends SYNC_ROOTFS_TREE before GO */
        int rootfs_tree_fd;     /* the idmapped rootfs, or -1 */
        struct cgroup *cgroup;  /* enter its v1 hierarchies first thing
                                 * (cgroup_self_enter_open was done), or NULL */
        bool in_cgroup;    /* SYNC_CGROUP_DONE seen */
        bool exec_only;    /* `exec`: join a running container, no rootfs setup */
};

_Noreturn void init_main(struct init_ctx *ctx);
