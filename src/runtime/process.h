/* Turning an OCI "process" object into the running process: rlimits,
 * user and groups, the five capability sets, no_new_privs, cwd and the
 * program lookup.  Shared by the container init and `exec`. */
#pragma once
#include "util/error.h"
#include <jansson.h>

int process_apply_rlimits(json_t *process, berth_error_t **err);
/* Bounding set, setgroups/setgid/setuid keeping capabilities across the
 * switch, then effective/permitted/inheritable and ambient; umask. */
int process_apply_user_caps(json_t *process, berth_error_t **err);
int process_apply_no_new_privs(json_t *process, berth_error_t **err);
int process_chdir(json_t *process, berth_error_t **err);
/* Find args[0] along the process' PATH; errors name the program. */
int process_find_program(json_t *process, char **path, berth_error_t **err);
/* NULL-terminated argv / envp copies. */
char **process_argv(json_t *process);
char **process_envp(json_t *process);
/* Write oom_score_adj of pid; a clear error if the kernel refuses. */
int process_set_oom_score_adj(pid_t pid, json_t *process, berth_error_t **err);
/* Close every fd from `from` up but those in keep (sorted in place):
 * nothing of the host's may stay open in the container (CVE-2024-21626). */
int process_close_fds_except(int from, int *keep, size_t n, berth_error_t **err);
/* Mark every fd from `from` up close-on-exec (keeps preserved fds). */
int process_cloexec_from(int from, berth_error_t **err);
