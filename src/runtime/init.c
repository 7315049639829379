#include "runtime/init.h"
#include "runtime/cgroup.h"
#include "runtime/console.h"
#include "runtime/hooks.h"
#include "runtime/mount.h"
#include "runtime/process.h"
#include "runtime/sync.h"
#include "oci/config.h"
#include "util/util.h"
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>

static int set_names(json_t *config, berth_error_t **err)
{
        const char *hostname = json_path_str(config, NULL, "hostname", NULL);
        const char *domainname = json_path_str(config, NULL, "domainname", NULL);

        if (hostname && sethostname(hostname, strlen(hostname)) < 0)
                return berth_error(err, errno, "set hostname \"%s\"", hostname);
        if (domainname && setdomainname(domainname, strlen(domainname)) < 0)
                return berth_error(err, errno, "set domainname \"%s\"", domainname);
        return 0;
}

/* /proc/sys is per-namespace for the keys allowed (checked at load), so
 * the host's /proc reaches the container's values before pivot_root. */
static int set_sysctls(json_t *sysctl, berth_error_t **err)
{
        const char *key;
        json_t *v;

        json_object_foreach(sysctl, key, v) {
                _cleanup_free_ char *path = xasprintf("/proc/sys/%s", key);
                const char *value = json_is_string(v) ? json_string_value(v) : "";
                for (char *p = path + 10; *p; p++)
                        if (*p == '.')
                                *p = '/';
                if (write_file(path, value, strlen(value), err) < 0)
                        return berth_error_wrap(err, "sysctl %s=%s", key, value);
        }
        return 0;
}

static int run_container_hooks(struct init_ctx *ctx, const char *kind, berth_error_t **err)
{
        json_t *hooks = json_path(ctx->config, "hooks", kind, NULL);
        json_t *state;
        int ret;

        if (json_array_size(hooks) == 0)
                return 0;
        state = json_pack("{s:s, s:s, s:s, s:i, s:s}", "ociVersion",
                          json_path_str(ctx->config, "1.0.2", "ociVersion", NULL), "id",
                          ctx->id, "status",
                          strcmp(kind, "startContainer") == 0 ? "created" : "creating", "pid", (int)ctx->host_pid,
                          "bundle", ctx->bundle ? ctx->bundle : "");
        json_t *annotations = json_object_get(ctx->config, "annotations");
        json_object_set_new(state, "annotations", annotations ? json_incref(annotations) : json_object());
        ret = hooks_run(hooks, kind, state, err);
        json_decref(state);
        return ret;
}

/* Wait for `want` from the parent.  SYNC_CGROUP_DONE may arrive in between
 * any other exchange, since the parent finishes our cgroup (the
 * hierarchies we did not enter ourselves, oom_score_adj) while we set up:
 * with a new user namespace that is a move into every hierarchy, slow on
 * cgroup v1 (an RCU grace period). */
static int wait_parent(struct init_ctx *ctx, enum sync_type want, berth_error_t **err)
{
        struct sync_msg msg;

        if (want == SYNC_CGROUP_DONE && ctx->in_cgroup)
                return 0;
        for (;;) {
                if (sync_recv(ctx->sync_fd, &msg) < 0)
                        return berth_error(err, errno, "parent runtime went away");
                if (msg.type == SYNC_ERROR)
                        return berth_error(err, 0, "%s", msg.text);
                if (msg.type == SYNC_CGROUP_DONE)
                        ctx->in_cgroup = true;
                if (msg.type == (int)want)
                        return 0;
                if (msg.type != SYNC_CGROUP_DONE)
                        return berth_error(err, 0, "unexpected message %d from the runtime", msg.type);
        }
}

static int wait_for_start(struct init_ctx *ctx, berth_error_t **err)
{
        char byte;

        if (ctx->start_fd < 0)
                return wait_parent(ctx, SYNC_START, err);
        /* exec.fifo opened O_RDONLY|O_NONBLOCK: poll() reports nothing until
         * `start` opens it for writing and writes the byte */
        for (;;) {
                struct pollfd p = { .fd = ctx->start_fd, .events = POLLIN };
                ssize_t n;
                if (poll(&p, 1, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return berth_error(err, errno, "wait for start");
                }
                n = read(ctx->start_fd, &byte, 1);
                if (n == 1)
                        return 0;
                if (n < 0 && errno != EAGAIN && errno != EINTR)
                        return berth_error(err, errno, "read exec fifo");
                if (n == 0)
                        usleep(1000); /* writer came and went without data: wait for the next */
        }
}

/* The seccomp agent learns who the notify fd belongs to from the runtime
 * spec's containerProcessState; our host pid is what /proc/self names
 * before pivot_root (the host's procfs). */
static int connect_seccomp_listener(struct init_ctx *ctx, berth_error_t **err)
{
        if (ctx->seccomp == NULL || !ctx->seccomp->notify)
                return 0;
        ctx->seccomp_listener_fd = console_socket_connect(ctx->seccomp->listener_path, err);
        if (ctx->seccomp_listener_fd < 0)
                return berth_error_wrap(err, "seccomp listener");
        return 0;
}

static int load_seccomp(struct init_ctx *ctx, berth_error_t **err)
{
        _cleanup_free_ char *text = NULL;
        json_t *state;

        if (ctx->seccomp == NULL)
                return 0;
        state = json_pack("{s:s, s:[s], s:i, s:s, s:{s:s, s:s, s:s, s:i, s:s}}", "ociVersion", "1.2.0", "fds",
                          "seccompFd", "pid", ctx->host_pid, "metadata",
                          ctx->seccomp->listener_metadata ? ctx->seccomp->listener_metadata : "", "state",
                          "ociVersion", json_path_str(ctx->config, "1.0.2", "ociVersion", NULL), "id", ctx->id,
                          "status", "creating", "pid", ctx->host_pid, "bundle", ctx->bundle ? ctx->bundle : "");
        text = json_dumps(state, JSON_COMPACT);
        json_decref(state);
        return seccomp_program_load(ctx->seccomp, ctx->seccomp_listener_fd, text, err);
}

/* Without no_new_privs only CAP_SYS_ADMIN may install a filter, so it goes
 * in before the capabilities are dropped; with it, as late as possible. */
static bool seccomp_loads_late(struct init_ctx *ctx)
{
        return ctx->seccomp && !ctx->seccomp->notify &&
               json_is_true(json_object_get(ctx->process, "noNewPrivileges"));
}

static int setup_namespaces(struct init_ctx *ctx, berth_error_t **err)
{
        if (ctx->ns->create & CLONE_NEWUSER) {
                /* the parent wrote the maps before GO: become root of the new namespace */
                if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
                        return berth_error(err, errno, "become root in the user namespace");
        }
        return ns_join_all(ctx->ns, err);
}

static int setup_container(struct init_ctx *ctx, berth_error_t **err)
{
        json_t *linux_ = json_object_get(ctx->config, "linux");
        struct rootfs_ctx rctx = { .config = ctx->config, .rootfs = ctx->rootfs, .bundle = ctx->bundle,
                                   .cgroup_path = ctx->cgroup_path, .rootfs_tree_fd = ctx->rootfs_tree_fd };
        int ret;

        if ((ret = set_names(ctx->config, err)) < 0 || (ret = set_sysctls(json_object_get(linux_, "sysctl"), err)) < 0)
                return ret;
        if (json_array_size(json_path(ctx->config, "hooks", "prestart", NULL)) ||
            json_array_size(json_path(ctx->config, "hooks", "createRuntime", NULL))) {
                if (sync_send(ctx->sync_fd, SYNC_HOOKS, NULL) < 0)
                        return berth_error(err, errno, "ask for hooks");
                if ((ret = wait_parent(ctx, SYNC_HOOKS_DONE, err)) < 0)
                        return ret;
        }
        rctx.userns = (ctx->ns->create & CLONE_NEWUSER) || (ctx->ns->n_join && ctx->ns->join[0].type == CLONE_NEWUSER);
        if ((ret = rootfs_prepare(&rctx, err)) < 0)
                return ret;
        if ((ret = run_container_hooks(ctx, "createContainer", err)) < 0)
                return ret;
        if ((ret = connect_seccomp_listener(ctx, err)) < 0)
                return ret;
        if ((ret = rootfs_pivot(ctx->rootfs, ctx->no_pivot, err)) < 0)
                return ret;
        return rootfs_finish(ctx->config, err);
}

static int setup_process(struct init_ctx *ctx, char **program, berth_error_t **err)
{
        json_t *process = ctx->process;
        int ret;

        /* limits must hold before any code of the container's runs, and the
         * cgroup namespace is rooted where we sit when it is made */
        if ((ret = wait_parent(ctx, SYNC_CGROUP_DONE, err)) < 0)
                return ret;
        if ((ctx->ns->create & CLONE_NEWCGROUP) && unshare(CLONE_NEWCGROUP) < 0)
                return berth_error(err, errno, "create cgroup namespace");
        if ((ret = process_apply_rlimits(process, err)) < 0)
                return ret;
        if (json_is_true(json_object_get(process, "terminal"))) {
                if (ctx->console_fd < 0)
                        return berth_error(err, 0, "process.terminal is set but no console socket was given");
                if ((ret = console_setup(ctx->console_fd, json_object_get(process, "consoleSize"), !ctx->exec_only, err)) < 0)
                        return ret;
                close(ctx->console_fd);
                ctx->console_fd = -1;
        } else if (!ctx->exec_only && setsid() < 0) {
                return berth_error(err, errno, "setsid");
        }
        if ((ret = process_chdir(process, err)) < 0)
                return ret;
        /* before any filter: with it set, a filter needs no CAP_SYS_ADMIN */
        if ((ret = process_apply_no_new_privs(process, err)) < 0)
                return ret;
        if (!seccomp_loads_late(ctx) && (ret = load_seccomp(ctx, err)) < 0)
                return ret;
        if ((ret = process_apply_user_caps(process, err)) < 0)
                return ret;
        if ((ret = process_find_program(process, program, err)) < 0)
                return ret;
        return process_cloexec_from(3 + ctx->keep_fds, err);
}

static int receive_rootfs_tree(struct init_ctx *ctx, berth_error_t **err)
{
        struct sync_msg msg;

        if (sync_recv_fd(ctx->sync_fd, &msg, &ctx->rootfs_tree_fd) < 0 || msg.type != SYNC_ROOTFS_TREE)
                return berth_error(err, 0, "expected the rootfs from the runtime");
        return 0;
}

/* Whatever the runtime had open (cgroup directories, the log, the state
 * directory) must not be reachable from the container; only the fds this
 * process still needs, and those passed on (--preserve-fds), stay.  The
 * namespace fds to join are closed after the joins. */
static int close_host_fds(struct init_ctx *ctx, berth_error_t **err)
{
        int keep[5 + NS_MAX], n = 0;

        keep[n++] = ctx->sync_fd;
        if (ctx->start_fd >= 0)
                keep[n++] = ctx->start_fd;
        if (ctx->console_fd >= 0)
                keep[n++] = ctx->console_fd;
        if (ctx->rootfs_tree_fd >= 0)
                keep[n++] = ctx->rootfs_tree_fd;
        for (int i = 0; i < ctx->ns->n_join; i++)
                keep[n++] = ctx->ns->join[i].fd;
        return process_close_fds_except(3 + ctx->keep_fds, keep, (size_t)n, err);
}

_Noreturn void init_main(struct init_ctx *ctx)
{
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *program = NULL;
        char **argv, **envp;
        bool reported_ready = false;

        /* the parent's handlers and blocked signals are not ours: a
         * daemon that takes SIGTERM with sigwait blocks it in every thread,
         * and a mask survives execve, so the container's `trap ... TERM`
         * would never run and every stop would wait for its SIGKILL */
        sigset_t none;
        for (int sig = 1; sig < NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        signal(sig, SIG_DFL);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        if (ctx->idmap_rootfs && receive_rootfs_tree(ctx, &err) < 0)
                goto fail;
        if (sync_expect(ctx->sync_fd, SYNC_GO, &err) < 0)
                _exit(1);
        /* first thing: still single-threaded, with the runtime's credentials
         * and user namespace, and the fds the parent opened for it */
        if (ctx->cgroup && cgroup_self_enter(ctx->cgroup, &err) < 0)
                goto fail;
        if (close_host_fds(ctx, &err) < 0)
                goto fail;
        /* hooks and seccomp agents need our pid as the host sees it; the
         * host's /proc still tells it, until pivot_root */
        char self[32] = "";
        if (readlink("/proc/self", self, sizeof(self) - 1) > 0)
                ctx->host_pid = atoi(self);
        /* exec: the listener path is the host's, reachable only before setns */
        if (ctx->exec_only && connect_seccomp_listener(ctx, &err) < 0)
                goto fail;
        if (setup_namespaces(ctx, &err) < 0)
                goto fail;
        if (!ctx->exec_only && setup_container(ctx, &err) < 0)
                goto fail;
        if (setup_process(ctx, &program, &err) < 0)
                goto fail;
        if (sync_send(ctx->sync_fd, SYNC_READY, NULL) < 0) {
                berth_error(&err, errno, "report ready");
                goto fail;
        }
        reported_ready = true;
        if (!ctx->exec_only && wait_for_start(ctx, &err) < 0)
                goto fail;
        if (!ctx->exec_only && run_container_hooks(ctx, "startContainer", &err) < 0)
                goto fail;
        if (seccomp_loads_late(ctx) && load_seccomp(ctx, &err) < 0)
                goto fail;
        argv = process_argv(ctx->process);
        envp = process_envp(ctx->process);
        execve(program, argv, envp);
        berth_error(&err, errno, "exec %s", program);
fail:
        /* after create returned nobody reads the socket: the container's
         * stderr is the last place left to say why */
        if (sync_send(ctx->sync_fd, SYNC_ERROR, err ? err->msg : "container setup failed") < 0 && reported_ready)
                dprintf(2, "berth-runtime: %s\n", err ? err->msg : "container setup failed");
        _exit(127);
}
