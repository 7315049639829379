/* The container's cgroup, whatever the host runs: v1, v2, or hybrid (v1
 * controllers plus a cgroup2 hierarchy at /sys/fs/cgroup/unified holding
 * whatever v1 does not mount, e.g. hugetlb).  One small interface here;
 * cgroup-v1.c and cgroup-v2.c implement it, cgroup.c picks and combines. */
#pragma once
#include "util/error.h"
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

enum cgroup_mode { CGROUP_MODE_V1, CGROUP_MODE_V2, CGROUP_MODE_HYBRID };

/* Which hierarchy mode the host runs (statfs on /sys/fs/cgroup, cached).
 * Tests may point the root elsewhere with BERTH_CGROUP_ROOT. */
enum cgroup_mode cgroup_mode(void);

struct cgroup;

/* Resolve a config.json cgroupsPath to a path relative to every hierarchy
 * root: absolute as given; relative under the runtime's parent ("berth");
 * empty means "berth/<id>". */
char *cgroup_resolve_path(const char *cgroups_path, const char *id);

/* Create the cgroup (every v1 controller hierarchy, and/or the v2 dir with
 * controllers enabled down the chain).  Existing directories are reused
 * (joining a pod's cgroup).  On error nothing created here is left. */
int cgroup_create(const char *path, struct cgroup **out, berth_error_t **err);
/* Open an existing cgroup by path, for delete/update/stats/pause.
 * Succeeds even if some directories are gone. */
struct cgroup *cgroup_open(const char *path);
void cgroup_free(struct cgroup *cg);
const char *cgroup_path(const struct cgroup *cg);
/* The container's directory in the cgroup2 hierarchy, for clone3's
 * CLONE_INTO_CGROUP: an fd opened O_RDONLY | O_DIRECTORY | O_CLOEXEC,
 * owned by cg (do not close it; valid until cgroup_free).  On a pure v2
 * host, and on a hybrid host once cgroup_self_enter_open has arranged for
 * the child to enter the v1 hierarchies itself (a child born in the
 * cgroup2 directory alone would miss them); only when cgroup_create made
 * or cgroup_open found the directory.  -1 otherwise. */
int cgroup_unified_dir_fd(const struct cgroup *cg);

/* Apply linux.resources (OCI LinuxResources JSON object, may be NULL).
 * Used both before the container process runs and for live `update`.
 * An unsupported knob (e.g. swap without swap accounting, rt without
 * CONFIG_RT_GROUP_SCHED) is an error naming it, unless its value is 0/absent. */
int cgroup_apply_resources(struct cgroup *cg, json_t *resources, berth_error_t **err);

/* Move pid into the cgroup in every hierarchy. */
int cgroup_enter(struct cgroup *cg, pid_t pid, berth_error_t **err);

/* A new process moves itself into the v1 hierarchies.  Moving another
 * task (writing its pid to cgroup.procs, as cgroup_enter does) takes the
 * kernel's cgroup_threadgroup_rwsem for writing, which waits for an RCU
 * grace period: 10-20 ms per container start on a v1/hybrid host.
 * A task writing "0" to a v1 `tasks` file moves only itself, as a single
 * thread, and the kernel skips that lock (0.1 ms for all hierarchies).
 * cgroup2 has no such shortcut; there the child is born in its cgroup
 * (clone3 CLONE_INTO_CGROUP with cgroup_unified_dir_fd).
 *
 *   parent, before clone: cgroup_self_enter_open opens the `tasks` file of
 *                         every v1 hierarchy (O_WRONLY | O_CLOEXEC); the
 *                         child inherits the fds
 *   child, first thing:   cgroup_self_enter, while single-threaded
 *   parent, after clone:  cgroup_self_enter_close, then cgroup_enter_rest
 *
 * Only for a child that still has the runtime's credentials and user
 * namespace when it writes: one cloned into a new user namespace is not
 * root on the host's cgroupfs; without cgroup_self_enter_open,
 * cgroup_enter_rest moves it into every hierarchy.
 * Idempotent; on error nothing stays open. */
int cgroup_self_enter_open(struct cgroup *cg, berth_error_t **err);
/* Child: write "0" to each file cgroup_self_enter_open opened, then close
 * them.  The error names the hierarchy directory. */
int cgroup_self_enter(struct cgroup *cg, berth_error_t **err);
/* Close the `tasks` fds (the parent's copies after clone).  The child is
 * still taken to enter the v1 hierarchies itself. */
void cgroup_self_enter_close(struct cgroup *cg);
/* Parent, after clone: move pid into the hierarchies it does not enter by
 * itself: v1 unless cgroup_self_enter_open was called, cgroup2 unless it
 * was born there (born_in_unified: clone3 CLONE_INTO_CGROUP worked). */
int cgroup_enter_rest(struct cgroup *cg, pid_t pid, bool born_in_unified, berth_error_t **err);

/* PIDs in the cgroup (all hierarchies agree; read from one), recursively
 * including sub-cgroups.  Returns count, *pids malloc'd. */
int cgroup_pids(struct cgroup *cg, pid_t **pids, berth_error_t **err);

/* Freeze or thaw every task (v1 freezer.state / v2 cgroup.freeze), waiting
 * until the kernel reports the new state. */
int cgroup_freeze(struct cgroup *cg, bool frozen, berth_error_t **err);
/* true when the cgroup is frozen. */
bool cgroup_is_frozen(struct cgroup *cg);

/* Remove the cgroup directories (children first).  Retries briefly on EBUSY
 * while exiting tasks leave.  Missing directories are not an error. */
int cgroup_destroy(struct cgroup *cg, berth_error_t **err);

struct cgroup_stats {
        uint64_t memory_usage;      /* bytes */
        uint64_t memory_peak;       /* bytes; 0 when the kernel keeps none */
        uint64_t memory_limit;      /* bytes; UINT64_MAX when unlimited */
        uint64_t cpu_usage_ns;
        uint64_t pids_current;
        uint64_t pids_limit;        /* UINT64_MAX when unlimited */
        uint64_t oom_kill_events;
};
int cgroup_stats(struct cgroup *cg, struct cgroup_stats *st, berth_error_t **err);
