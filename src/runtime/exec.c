#include "runtime/container.h"
#include "runtime/cgroup.h"
#include "runtime/init.h"
#include "runtime/namespaces.h"
#include "runtime/process.h"
#include "runtime/seccomp.h"
#include "runtime/state.h"
#include "runtime/sync.h"
#include "runtime/console.h"
#include "runtime/wait.h"
#include "runtime/tty-proxy.h"
#include "oci/config.h"
#include "util/util.h"
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>

/* Parent side: let the child go (it moves itself into its v1 cgroups, and
 * was born in its cgroup2 one where clone3 could), finish its cgroup, learn
 * whether the execve worked (EOF on the close-on-exec socket) or why it
 * failed. */
static int drive_exec_child(pid_t pid, int sync_fd, struct cgroup *cg, bool born_in_cgroup, json_t *process,
                            berth_error_t **err)
{
        struct sync_msg msg;
        int ret = 0;

        if (sync_send(sync_fd, SYNC_GO, NULL) < 0)
                ret = berth_error(err, errno, "start exec process");
        if (ret == 0 && cg)
                ret = cgroup_enter_rest(cg, pid, born_in_cgroup, err);
        if (ret == 0)
                ret = process_set_oom_score_adj(pid, process, err);
        if (ret < 0)
                return ret;
        if (sync_send(sync_fd, SYNC_CGROUP_DONE, NULL) < 0)
                return sync_expect(sync_fd, SYNC_READY, err) < 0 ? -1 : berth_error(err, errno, "start exec process");
        if ((ret = sync_expect(sync_fd, SYNC_READY, err)) < 0)
                return ret;
        if (sync_recv(sync_fd, &msg) == 0 && msg.type == SYNC_ERROR)
                return berth_error(err, 0, "%s", msg.text);
        return 0;
}

static int spawn_exec(const struct container_state *st, const struct exec_opts *o, int console_fd,
                      const struct seccomp_program *seccomp, pid_t *out, berth_error_t **err)
{
        struct ns_plan ns;
        struct init_ctx ctx = { .process = o->process, .id = st->id, .ns = &ns, .start_fd = -1,
                                .console_fd = console_fd, .keep_fds = o->preserve_fds, .exec_only = true,
                                .seccomp = seccomp, .seccomp_listener_fd = -1, .bundle = st->bundle,
                                .rootfs_tree_fd = -1 };
        int fds[2], saved[2] = { -1, -1 }, ret;
        struct cgroup *cg;
        bool born_in_cgroup = false;
        int cgfd = -1;
        pid_t pid = -1;

        if ((ret = ns_plan_for_pid(st->pid, &ns, err)) < 0) {
                ns_plan_close(&ns);
                return ret;
        }
        if ((ret = sync_socketpair(fds, err)) < 0) {
                ns_plan_close(&ns);
                return ret;
        }
        /* the child moves itself into the v1 hierarchies (cgroup.h) before it
         * joins any namespace of the container's, with our credentials */
        cg = st->cgroup_path[0] ? cgroup_open(st->cgroup_path) : NULL;
        if (cg && (ret = cgroup_self_enter_open(cg, err)) == 0)
                ctx.cgroup = cg;
        if (ret == 0)
                ret = ns_parent_enter(&ns, NULL, saved, err);
        /* Not born into a pure v2 cgroup: that fork would count against
         * pids.max, and dockerd (runc) lets an exec into a container at its
         * limit (a move is not a fork), which is how one debugs it.  On
         * hybrid hosts the cgroup2 tree holds no pids controller. */
        if (cg && cgroup_mode() != CGROUP_MODE_V2)
                cgfd = cgroup_unified_dir_fd(cg);
        if (ret == 0)
                pid = clone_process_maybe_into_cgroup(0, cgfd, &born_in_cgroup);
        if (pid == 0) {
                close(fds[0]);
                ctx.sync_fd = fds[1];
                init_main(&ctx);
        }
        if (ret == 0 && pid < 0)
                ret = berth_error(err, errno, "fork exec process");
        ns_parent_leave(saved);
        ns_plan_close(&ns);
        close(fds[1]);
        if (cg)
                cgroup_self_enter_close(cg);
        if (ret == 0)
                ret = drive_exec_child(pid, fds[0], cg, born_in_cgroup, o->process, err);
        if (cg)
                cgroup_free(cg);
        close(fds[0]);
        if (ret < 0 && pid > 0) {
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
        }
        *out = pid;
        return ret;
}

/* An exec'd process gets the container's filter, as with runc (from the
 * cache after the first compile). */
static int container_seccomp(const char *root, const struct container_state *st, struct seccomp_program *p,
                             bool *has, berth_error_t **err)
{
        _cleanup_free_ char *path = xasprintf("%s/config.json", st->bundle);
        _cleanup_free_ char *cache = xasprintf("%s/.seccomp-cache", root);
        json_t *config = json_load_file(path, 0, NULL);
        json_t *seccomp = json_path(config, "linux", "seccomp", NULL);
        int ret = 0;

        *has = false;
        if (seccomp) {
                ret = seccomp_program_build(seccomp, cache, p, err);
                *has = ret == 0;
        }
        json_decref(config);
        return ret;
}

int container_exec(const char *root, const char *id, const struct exec_opts *o, int *exit_code,
                   berth_error_t **err)
{
        _cleanup_state_ struct container_state *st = NULL;
        _cleanup_close_ int console_fd = -1, proxy_fd = -1;
        struct seccomp_program seccomp;
        bool has_seccomp = false;
        const char *status;
        pid_t pid;
        int ret;

        if ((ret = state_read(root, id, &st, err)) < 0)
                return ret;
        status = state_status(root, st);
        if (strcmp(status, "running") != 0 && strcmp(status, "created") != 0)
                return berth_error(err, 0, "cannot exec in a %s container", status);
        if ((ret = oci_process_validate(o->process, err)) < 0)
                return berth_error_wrap(err, "exec process");
        if (o->console_socket && (console_fd = console_socket_connect(o->console_socket, err)) < 0)
                return console_fd;
        if (!o->console_socket && json_is_true(json_object_get(o->process, "terminal"))) {
                int pair[2];
                if (o->detach)
                        return berth_error(err, 0, "a terminal for a detached exec needs --console-socket");
                if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
                        return berth_error(err, errno, "socketpair");
                proxy_fd = pair[0];
                console_fd = pair[1];
        }
        if ((ret = container_seccomp(root, st, &seccomp, &has_seccomp, err)) < 0)
                return ret;
        ret = spawn_exec(st, o, console_fd, has_seccomp ? &seccomp : NULL, &pid, err);
        if (has_seccomp)
                seccomp_program_free(&seccomp);
        /* runc's words: a daemon shows them and picks the exit status by them */
        if (ret < 0)
                return berth_error_wrap(err, "unable to start container process");
        if (o->pid_file && (ret = pid_file_write(o->pid_file, pid, err)) < 0)
                return ret;
        if (proxy_fd >= 0) {
                int master = recv_fd(proxy_fd, err);
                if (master < 0) {
                        kill(pid, SIGKILL);
                        waitpid(pid, NULL, 0);
                        return master;
                }
                tty_proxy_run(master);
                close(master);
        }
        *exit_code = o->detach ? 0 : wait_forwarding_signals(pid);
        return 0;
}
