/* linux.namespaces: which to create (clone flags) and which to join by
 * path (setns).  pid and time are "for children" namespaces, so the parent
 * enters those itself just around the clone. */
#pragma once
#include "util/error.h"
#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#define NS_MAX 8

struct ns_join {
        int fd;
        int type; /* CLONE_NEW* */
        char *path;
};

struct ns_plan {
        int create;                 /* CLONE_NEW* flags to create */
        struct ns_join join[NS_MAX]; /* user first, mount last */
        int n_join;
        int parent_pid_fd;          /* pid ns to enter for the clone, or -1 */
        int parent_time_fd;         /* time ns to enter for the clone, or -1 */
};

/* Build the plan from linux.namespaces, opening every path (errors name
 * the namespace and path). */
int ns_plan_build(json_t *namespaces, struct ns_plan *plan, berth_error_t **err);
/* Plan to join every namespace of a running process (for exec), skipping
 * those we already share. */
int ns_plan_for_pid(pid_t pid, struct ns_plan *plan, berth_error_t **err);
void ns_plan_close(struct ns_plan *plan);

/* Parent: enter the pid/time namespaces (or create a time namespace with
 * offsets) for the next child, remembering our own to return to. */
int ns_parent_enter(struct ns_plan *plan, json_t *time_offsets, int saved[2], berth_error_t **err);
void ns_parent_leave(int saved[2]);

/* Child: setns into every joined namespace, in order. */
int ns_join_all(struct ns_plan *plan, berth_error_t **err);
/* Parent: write /proc/<pid>/{uid,gid}_map from linux.uidMappings/gidMappings. */
int ns_write_id_maps(pid_t pid, json_t *linux_, berth_error_t **err);
const char *ns_type_name(int flag);
/* clone(2) with only flags: fork semantics (child returns 0). */
pid_t clone_process(int flags);
/* clone3 with CLONE_INTO_CGROUP: the child is born in the cgroup v2
 * directory cgroup_fd, with no migration (and its RCU grace period).
 * -1 with errno when the kernel refuses; callers fall back. */
pid_t clone_process_into_cgroup(int flags, int cgroup_fd);
/* clone_process_into_cgroup when cgroup_fd >= 0, falling back to
 * clone_process where the kernel lacks clone3 or CLONE_INTO_CGROUP
 * (ENOSYS, E2BIG, EINVAL); *born tells whether the child was born there. */
pid_t clone_process_maybe_into_cgroup(int flags, int cgroup_fd, bool *born);
