#include "runtime/namespaces.h"
#include "oci/config.h"
#include "util/util.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <linux/sched.h>
#include <stdint.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* The order to join: user first (it grants the rights for the rest),
 * mount last (paths after it are the container's). */
static const struct {
        int flag;
        const char *name;   /* linux.namespaces type */
        const char *proc;   /* /proc/<pid>/ns entry */
} ns_order[] = {
        { CLONE_NEWUSER, "user", "user" },     { CLONE_NEWIPC, "ipc", "ipc" },
        { CLONE_NEWUTS, "uts", "uts" },        { CLONE_NEWNET, "network", "net" },
        { CLONE_NEWCGROUP, "cgroup", "cgroup" }, { CLONE_NEWPID, "pid", "pid_for_children" },
        { CLONE_NEWTIME, "time", "time_for_children" }, { CLONE_NEWNS, "mount", "mnt" },
};

const char *ns_type_name(int flag)
{
        for (size_t i = 0; i < ARRAY_SIZE(ns_order); i++)
                if (ns_order[i].flag == flag)
                        return ns_order[i].name;
        return "?";
}

static void plan_init(struct ns_plan *plan)
{
        memset(plan, 0, sizeof(*plan));
        plan->parent_pid_fd = -1;
        plan->parent_time_fd = -1;
}

static int add_join(struct ns_plan *plan, int flag, const char *path, berth_error_t **err)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        if (fd < 0)
                return berth_error(err, errno, "open %s namespace %s", ns_type_name(flag), path);
        if (flag == CLONE_NEWPID) {
                plan->parent_pid_fd = fd;
                return 0;
        }
        if (flag == CLONE_NEWTIME) {
                plan->parent_time_fd = fd;
                return 0;
        }
        plan->join[plan->n_join].fd = fd;
        plan->join[plan->n_join].type = flag;
        plan->join[plan->n_join].path = xstrdup(path);
        plan->n_join++;
        return 0;
}

int ns_plan_build(json_t *namespaces, struct ns_plan *plan, berth_error_t **err)
{
        int ret;

        plan_init(plan);
        for (size_t o = 0; o < ARRAY_SIZE(ns_order); o++) {
                json_t *ns;
                size_t i;
                json_array_foreach(namespaces, i, ns) {
                        const char *type = json_path_str(ns, "", "type", NULL);
                        const char *path = json_path_str(ns, NULL, "path", NULL);
                        if (strcmp(type, ns_order[o].name) != 0)
                                continue;
                        if (path == NULL || path[0] == '\0')
                                plan->create |= ns_order[o].flag;
                        else if ((ret = add_join(plan, ns_order[o].flag, path, err)) < 0)
                                return ret;
                }
        }
        return 0;
}

static bool same_namespace(pid_t pid, const char *proc)
{
        char a[64], b[64];
        struct stat sa, sb;

        snprintf(a, sizeof(a), "/proc/self/ns/%s", proc);
        snprintf(b, sizeof(b), "/proc/%d/ns/%s", (int)pid, proc);
        if (stat(a, &sa) < 0 || stat(b, &sb) < 0)
                return true; /* namespace type absent from this kernel */
        return sa.st_ino == sb.st_ino && sa.st_dev == sb.st_dev;
}

int ns_plan_for_pid(pid_t pid, struct ns_plan *plan, berth_error_t **err)
{
        int ret;

        plan_init(plan);
        for (size_t o = 0; o < ARRAY_SIZE(ns_order); o++) {
                /* a process' own pid/time namespace is what its children get too */
                const char *proc = ns_order[o].flag == CLONE_NEWPID ? "pid"
                                   : ns_order[o].flag == CLONE_NEWTIME ? "time" : ns_order[o].proc;
                char path[64];
                if (same_namespace(pid, proc))
                        continue;
                snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, proc);
                if ((ret = add_join(plan, ns_order[o].flag, path, err)) < 0)
                        return ret;
        }
        return 0;
}

void ns_plan_close(struct ns_plan *plan)
{
        for (int i = 0; i < plan->n_join; i++) {
                if (plan->join[i].fd >= 0)
                        close(plan->join[i].fd);
                free(plan->join[i].path);
        }
        plan->n_join = 0;
        if (plan->parent_pid_fd >= 0)
                close(plan->parent_pid_fd);
        if (plan->parent_time_fd >= 0)
                close(plan->parent_time_fd);
        plan->parent_pid_fd = plan->parent_time_fd = -1;
}

static int write_time_offsets(json_t *offsets, berth_error_t **err)
{
        const char *clock;
        json_t *v;
        char buf[256];
        size_t used = 0;

        json_object_foreach(offsets, clock, v) {
                used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s %lld %lld\n", clock,
                                         (long long)json_integer_value(json_object_get(v, "secs")),
                                         (long long)json_integer_value(json_object_get(v, "nanosecs")));
                if (used >= sizeof(buf))
                        return berth_error(err, 0, "linux.timeOffsets: too many entries");
        }
        if (used == 0)
                return 0;
        return write_file("/proc/self/timens_offsets", buf, used, err);
}

int ns_parent_enter(struct ns_plan *plan, json_t *time_offsets, int saved[2], berth_error_t **err)
{
        saved[0] = saved[1] = -1;
        if (plan->parent_pid_fd >= 0) {
                saved[0] = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
                if (setns(plan->parent_pid_fd, CLONE_NEWPID) < 0)
                        return berth_error(err, errno, "join pid namespace");
        }
        if (plan->parent_time_fd >= 0 || (plan->create & CLONE_NEWTIME)) {
                saved[1] = open("/proc/self/ns/time", O_RDONLY | O_CLOEXEC);
                if (plan->parent_time_fd >= 0) {
                        if (setns(plan->parent_time_fd, CLONE_NEWTIME) < 0)
                                return berth_error(err, errno, "join time namespace");
                } else {
                        if (unshare(CLONE_NEWTIME) < 0)
                                return berth_error(err, errno, "create time namespace");
                        return write_time_offsets(time_offsets, err);
                }
        }
        return 0;
}

void ns_parent_leave(int saved[2])
{
        if (saved[0] >= 0) {
                (void)setns(saved[0], CLONE_NEWPID);
                close(saved[0]);
        }
        if (saved[1] >= 0) {
                (void)setns(saved[1], CLONE_NEWTIME);
                close(saved[1]);
        }
        saved[0] = saved[1] = -1;
}

int ns_join_all(struct ns_plan *plan, berth_error_t **err)
{
        for (int i = 0; i < plan->n_join; i++) {
                if (setns(plan->join[i].fd, plan->join[i].type) < 0)
                        return berth_error(err, errno, "join %s namespace %s", ns_type_name(plan->join[i].type),
                                           plan->join[i].path);
                /* a namespace fd of the host's has no business in the container */
                close(plan->join[i].fd);
                plan->join[i].fd = -1;
        }
        return 0;
}

/* Only our own id, one to one: what an unprivileged process may write. */
static bool only_own_id(json_t *mappings, unsigned long own)
{
        json_t *m = json_array_get(mappings, 0);

        return json_array_size(mappings) == 1 && json_integer_value(json_object_get(m, "size")) == 1 &&
               (unsigned long)json_integer_value(json_object_get(m, "hostID")) == own;
}

/* Without privilege, ranges of subordinate ids go through the setuid
 * helpers (newuidmap/newgidmap, from /etc/subuid and /etc/subgid). */
static int run_id_helper(const char *helper, pid_t pid, json_t *mappings, berth_error_t **err)
{
        size_t n = json_array_size(mappings), i, k = 0;
        _cleanup_strv_ char **argv = xcalloc(3 * n + 3, sizeof(char *));
        json_t *m;
        pid_t child;
        int status;

        argv[k++] = xstrdup(helper);
        argv[k++] = xasprintf("%d", (int)pid);
        json_array_foreach(mappings, i, m) {
                argv[k++] = xasprintf("%lld", (long long)json_integer_value(json_object_get(m, "containerID")));
                argv[k++] = xasprintf("%lld", (long long)json_integer_value(json_object_get(m, "hostID")));
                argv[k++] = xasprintf("%lld", (long long)json_integer_value(json_object_get(m, "size")));
        }
        child = fork();
        if (child < 0)
                return berth_error(err, errno, "fork %s", helper);
        if (child == 0) {
                execvp(helper, argv);
                _exit(127);
        }
        while (waitpid(child, &status, 0) < 0)
                if (errno != EINTR)
                        return berth_error(err, errno, "wait for %s", helper);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return berth_error(err, 0, "%s failed (exit %d): are the ids in /etc/sub%cid?", helper,
                                   WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
                                   strcmp(helper, "newuidmap") == 0 ? 'u' : 'g');
        return 0;
}

static int write_map(pid_t pid, const char *file, json_t *mappings, berth_error_t **err)
{
        char path[64], buf[4096];
        size_t used = 0, i;
        json_t *m;
        bool uid = strcmp(file, "uid_map") == 0;

        if (json_array_size(mappings) == 0)
                return berth_error(err, 0, "a user namespace needs linux.%s", uid ? "uidMappings" : "gidMappings");
        if (geteuid() != 0 && !only_own_id(mappings, uid ? geteuid() : getegid()))
                return run_id_helper(uid ? "newuidmap" : "newgidmap", pid, mappings, err);
        json_array_foreach(mappings, i, m) {
                used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%lld %lld %lld\n",
                                         (long long)json_integer_value(json_object_get(m, "containerID")),
                                         (long long)json_integer_value(json_object_get(m, "hostID")),
                                         (long long)json_integer_value(json_object_get(m, "size")));
                if (used >= sizeof(buf))
                        return berth_error(err, 0, "too many %s entries", file);
        }
        /* an unprivileged gid_map needs setgroups denied first */
        if (!uid && geteuid() != 0) {
                snprintf(path, sizeof(path), "/proc/%d/setgroups", (int)pid);
                if (write_file(path, "deny", 4, err) < 0)
                        return berth_error_wrap(err, "write user namespace mapping");
        }
        snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
        if (write_file(path, buf, used, err) < 0)
                return berth_error_wrap(err, "write user namespace mapping");
        return 0;
}

int ns_write_id_maps(pid_t pid, json_t *linux_, berth_error_t **err)
{
        int ret = write_map(pid, "uid_map", json_object_get(linux_, "uidMappings"), err);

        if (ret < 0)
                return ret;
        return write_map(pid, "gid_map", json_object_get(linux_, "gidMappings"), err);
}

pid_t clone_process_into_cgroup(int flags, int cgroup_fd)
{
        struct clone_args args = {
                .flags = (uint64_t)(unsigned)flags | CLONE_INTO_CGROUP,
                .exit_signal = SIGCHLD,
                .cgroup = (uint64_t)cgroup_fd,
        };

        return (pid_t)syscall(SYS_clone3, &args, sizeof(args));
}

pid_t clone_process(int flags)
{
        return (pid_t)syscall(SYS_clone, (unsigned long)(flags | SIGCHLD), NULL, NULL, NULL, NULL);
}

pid_t clone_process_maybe_into_cgroup(int flags, int cgroup_fd, bool *born)
{
        pid_t pid;

        *born = false;
        if (cgroup_fd >= 0) {
                pid = clone_process_into_cgroup(flags, cgroup_fd);
                if (pid >= 0 || (errno != ENOSYS && errno != E2BIG && errno != EINVAL)) {
                        *born = pid >= 0;
                        return pid;
                }
        }
        return clone_process(flags);
}
