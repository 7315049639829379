#include "runtime/container.h"
#include "runtime/cgroup.h"
#include "runtime/console.h"
#include "runtime/devices.h"
#include "runtime/hooks.h"
#include "runtime/idmap.h"
#include "runtime/init.h"
#include "runtime/namespaces.h"
#include "runtime/process.h"
#include "runtime/seccomp.h"
#include "runtime/state.h"
#include "runtime/sync.h"
#include "runtime/tty-proxy.h"
#include "runtime/wait.h"
#include "oci/config.h"
#include "util/log.h"
#include "util/util.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

/* Everything create makes, so a failure can take all of it back. */
struct creation {
        const char *root;
        const char *id;
        json_t *config;
        struct container_state st;
        struct ns_plan ns;
        struct cgroup *cg;
        bool made_state_dir;
        bool born_in_cgroup; /* clone3 CLONE_INTO_CGROUP: in its cgroup2 directory from birth */
        bool idmap_rootfs;   /* the child waits for an idmapped rootfs tree */
        pid_t pid;
        int sync_fd;     /* parent's end */
        int fifo_fd;     /* exec.fifo, read end for the child */
        int console_fd;
        int proxy_fd;    /* foreground terminal: our end of the console socketpair */
        struct seccomp_program seccomp;
        bool has_seccomp;
};

static void creation_init(struct creation *c, const char *root, const char *id)
{
        memset(c, 0, sizeof(*c));
        c->root = root;
        c->id = id;
        c->sync_fd = c->fifo_fd = c->console_fd = c->proxy_fd = -1;
        c->ns.parent_pid_fd = c->ns.parent_time_fd = -1;
}

/* Release what the parent holds; with undo, also what create made. */
static void creation_finish(struct creation *c, bool undo)
{
        if (undo && c->pid > 0) {
                kill(c->pid, SIGKILL);
                while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
                        ;
        }
        if (undo && c->cg)
                cgroup_destroy(c->cg, NULL);
        if (undo && c->made_state_dir)
                state_remove(c->root, c->id, NULL);
        if (c->cg)
                cgroup_free(c->cg);
        ns_plan_close(&c->ns);
        for (int *fd = &c->sync_fd; fd <= &c->proxy_fd; fd++)
                if (*fd >= 0) {
                        close(*fd);
                        *fd = -1;
                }
        seccomp_program_free(&c->seccomp);
        free(c->st.bundle);
        free(c->st.rootfs);
        free(c->st.created);
        free(c->st.cgroup_path);
        json_decref(c->st.annotations);
        json_decref(c->st.ns_paths);
        json_decref(c->config);
}

static int resolve_bundle(struct creation *c, const char *bundle, berth_error_t **err)
{
        char buf[PATH_MAX];
        const char *root_path;
        struct stat sb;

        if (realpath(bundle ? bundle : ".", buf) == NULL)
                return berth_error(err, errno, "bundle %s", bundle ? bundle : ".");
        c->st.bundle = xstrdup(buf);
        if (oci_config_load(c->st.bundle, &c->config, err) < 0)
                return -1;
        root_path = json_path_str(c->config, "rootfs", "root", "path", NULL);
        c->st.rootfs = root_path[0] == '/' ? xstrdup(root_path) : xasprintf("%s/%s", c->st.bundle, root_path);
        if (stat(c->st.rootfs, &sb) < 0)
                return berth_error(err, errno, "rootfs \"%s\"", c->st.rootfs);
        /* mounts and pivot_root want the real directory, not a symlink to it */
        if (realpath(c->st.rootfs, buf) == NULL)
                return berth_error(err, errno, "rootfs \"%s\"", c->st.rootfs);
        free(c->st.rootfs);
        c->st.rootfs = xstrdup(buf);
        if (!S_ISDIR(sb.st_mode))
                return berth_error(err, ENOTDIR, "rootfs \"%s\"", c->st.rootfs);
        return 0;
}

static bool has_user_namespace(json_t *linux_)
{
        json_t *ns;
        size_t i;

        json_array_foreach(json_object_get(linux_, "namespaces"), i, ns)
                if (strcmp(json_path_str(ns, "", "type", NULL), "user") == 0)
                        return true;
        return false;
}

/* Socket activation (systemd): the first listen_fds fds after stdio pass
 * through, and the program learns of them the usual way. */
static void add_listen_fds(json_t *process, int listen_fds)
{
        json_t *env = json_object_get(process, "env");

        if (listen_fds <= 0)
                return;
        if (!json_is_array(env))
                json_object_set_new(process, "env", env = json_array());
        json_array_append_new(env, json_sprintf("LISTEN_FDS=%d", listen_fds));
        json_array_append_new(env, json_string("LISTEN_PID=1"));
}

/* Labels for security modules the host lacks are accepted, as with runc on
 * such hosts, but the user should know they do nothing here. */
static void warn_unused_lsm(json_t *process)
{
        const char *apparmor = json_path_str(process, "", "apparmorProfile", NULL);
        const char *selinux = json_path_str(process, "", "selinuxLabel", NULL);

        if (apparmor[0])
                berth_warn("process.apparmorProfile \"%s\" ignored: AppArmor profiles are not applied by this runtime",
                           apparmor);
        if (selinux[0])
                berth_warn("process.selinuxLabel \"%s\" ignored: SELinux labels are not applied by this runtime",
                           selinux);
}

static int make_state_dir(struct creation *c, bool with_fifo, berth_error_t **err)
{
        _cleanup_free_ char *dir = state_dir(c->root, c->id);
        _cleanup_free_ char *fifo = NULL;

        if (mkdir(c->root, 0700) < 0 && errno != EEXIST && mkdir_p(c->root, 0700, err) < 0)
                return -1;
        if (mkdir(dir, 0700) < 0) {
                if (errno == EEXIST)
                        return berth_error(err, 0, "container \"%s\" already exists", c->id);
                return berth_error(err, errno, "create state directory %s", dir);
        }
        c->made_state_dir = true;
        if (!with_fifo)
                return 0;
        fifo = xasprintf("%s/exec.fifo", dir);
        if (mkfifo(fifo, 0600) < 0)
                return berth_error(err, errno, "mkfifo %s", fifo);
        c->fifo_fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (c->fifo_fd < 0)
                return berth_error(err, errno, "open %s", fifo);
        return 0;
}

static json_t *creating_state(struct creation *c)
{
        c->st.id = (char *)c->id;
        c->st.pid = c->pid;
        return state_to_oci(&c->st, "creating");
}

static int run_runtime_hooks(struct creation *c, berth_error_t **err)
{
        json_t *state = creating_state(c);
        int ret = hooks_run(json_path(c->config, "hooks", "prestart", NULL), "prestart", state, err);

        if (ret == 0)
                ret = hooks_run(json_path(c->config, "hooks", "createRuntime", NULL), "createRuntime", state, err);
        json_decref(state);
        return ret;
}

/* A rootless runtime may lack a (delegated) cgroup; that is fine unless
 * the config asks for limits, which would silently not hold. */
static bool rootless_without_cgroups(struct creation *c, berth_error_t *e)
{
        json_t *resources = json_path(c->config, "linux", "resources", NULL);
        const char *key;
        json_t *v;

        if (geteuid() == 0 || (e->status != EACCES && e->status != EPERM && e->status != EROFS))
                return false;
        json_object_foreach(resources, key, v)
                if (strcmp(key, "devices") != 0 && json_object_size(v) > 0)
                        return false;
        return true;
}

/* The container's cgroup with every limit written; nothing of the
 * container's runs before this is done (CGROUP_DONE). */
static int make_cgroup(struct creation *c, berth_error_t **err)
{
        json_t *linux_ = json_object_get(c->config, "linux");
        json_t *resources;
        int ret;

        if ((ret = cgroup_create(c->st.cgroup_path, &c->cg, err)) < 0) {
                if (!rootless_without_cgroups(c, *err))
                        return ret;
                /* rootless and not delegated: like runc, run without a cgroup */
                berth_debug("no cgroup: %s", (*err)->msg);
                berth_error_free(err);
                c->st.cgroup_path[0] = '\0';
                return 0;
        }
        resources = devices_with_default_rules(json_object_get(linux_, "resources"), json_object_get(linux_, "devices"));
        ret = cgroup_apply_resources(c->cg, resources, err);
        json_decref(resources);
        return ret;
}

/* The child stopped listening: it failed during setup, and its reason is
 * waiting in the socket. */
static int child_error(int sync_fd, berth_error_t **err)
{
        struct sync_msg msg;

        if (sync_recv(sync_fd, &msg) == 0 && msg.type == SYNC_ERROR)
                return berth_error(err, 0, "%s", msg.text);
        return berth_error(err, 0, "container process exited during setup");
}

/* An idmapped view of the rootfs for a user namespace that does not map
 * its owner; where the kernel or filesystem cannot, the plain rootfs (the
 * container then sees its files as owned by nobody). */
static void send_rootfs_tree(struct creation *c)
{
        _cleanup_error_ berth_error_t *e = NULL;
        int tree = idmap_rootfs_tree(c->st.rootfs, c->pid, &e);

        if (tree < 0)
                berth_warn("%s; the container sees the rootfs with its host owners", e->msg);
        sync_send_fd(c->sync_fd, SYNC_ROOTFS_TREE, tree);
        if (tree >= 0)
                close(tree);
}

/* Parent side of the setup protocol, until the child reports ready. */
static int drive_child(struct creation *c, berth_error_t **err)
{
        json_t *linux_ = json_object_get(c->config, "linux");
        struct sync_msg msg;
        int ret;

        if ((c->ns.create & CLONE_NEWUSER) && (ret = ns_write_id_maps(c->pid, linux_, err)) < 0)
                return ret;
        if (c->idmap_rootfs)
                send_rootfs_tree(c);
        if (sync_send(c->sync_fd, SYNC_GO, NULL) < 0)
                return child_error(c->sync_fd, err);
        /* The child moves itself into its v1 cgroups, first thing after GO
         * (cgroup_self_enter), and was born in its cgroup2 one: usually
         * nothing is left to move.  Without CLONE_INTO_CGROUP the cgroup2
         * move is done here; a child in a new user namespace is moved into
         * every hierarchy, which on v1 waits for an RCU grace period (10-20
         * ms) while the child builds its rootfs.  It waits for CGROUP_DONE
         * before anything of the container's runs. */
        if (c->cg && (ret = cgroup_enter_rest(c->cg, c->pid, c->born_in_cgroup, err)) < 0)
                return ret;
        if ((ret = process_set_oom_score_adj(c->pid, json_object_get(c->config, "process"), err)) < 0)
                return ret;
        if (sync_send(c->sync_fd, SYNC_CGROUP_DONE, NULL) < 0)
                return child_error(c->sync_fd, err);
        for (;;) {
                if (sync_recv(c->sync_fd, &msg) < 0)
                        return berth_error(err, errno, "container process exited during setup");
                switch (msg.type) {
                case SYNC_READY:
                        return 0;
                case SYNC_ERROR:
                        return berth_error(err, 0, "%s", msg.text);
                case SYNC_HOOKS:
                        if ((ret = run_runtime_hooks(c, err)) < 0)
                                return ret;
                        sync_send(c->sync_fd, SYNC_HOOKS_DONE, NULL);
                        break;
                default:
                        return berth_error(err, 0, "unexpected message %d from container process", msg.type);
                }
        }
}

/* The child is born in its cgroup2 directory (clone3 CLONE_INTO_CGROUP):
 * no migration, no RCU grace period to wait for.  On a v1/hybrid host it
 * enters the v1 hierarchies itself, first thing (cgroup_self_enter); not
 * in a new user namespace, where it is not root on the host's cgroupfs and
 * the parent moves it into every hierarchy (cgroup_unified_dir_fd is then
 * -1 on hybrid). */
static pid_t spawn_clone(struct creation *c, int flags, struct init_ctx *ctx, berth_error_t **err)
{
        pid_t pid;

        if (c->cg && !(flags & CLONE_NEWUSER)) {
                if (cgroup_self_enter_open(c->cg, err) < 0)
                        return -1;
                ctx->cgroup = c->cg;
        }
        pid = clone_process_maybe_into_cgroup(flags, c->cg ? cgroup_unified_dir_fd(c->cg) : -1,
                                              &c->born_in_cgroup);
        if (pid < 0)
                berth_error(err, errno, "clone container process");
        if (pid != 0 && c->cg)
                cgroup_self_enter_close(c->cg);
        return pid;
}

static int spawn_init(struct creation *c, const struct create_opts *o, berth_error_t **err)
{
        json_t *linux_ = json_object_get(c->config, "linux");
        struct init_ctx ctx = {
                .config = c->config, .process = json_object_get(c->config, "process"), .id = c->id,
                .rootfs = c->st.rootfs, .bundle = c->st.bundle, .cgroup_path = c->st.cgroup_path, .ns = &c->ns,
                .start_fd = c->fifo_fd, .console_fd = c->console_fd, .keep_fds = o->preserve_fds + o->listen_fds,
                .no_pivot = o->no_pivot, .seccomp = c->has_seccomp ? &c->seccomp : NULL,
                .seccomp_listener_fd = -1, .rootfs_tree_fd = -1,
        };
        int fds[2], saved[2], ret;

        if (!(c->ns.create & CLONE_NEWNS) && !(c->ns.n_join && c->ns.join[c->ns.n_join - 1].type == CLONE_NEWNS))
                return berth_error(err, 0, "linux.namespaces: a mount namespace is required");
        c->idmap_rootfs = (c->ns.create & CLONE_NEWUSER) &&
                          idmap_rootfs_wanted(c->st.rootfs, json_object_get(linux_, "uidMappings"));
        ctx.idmap_rootfs = c->idmap_rootfs;
        if ((ret = sync_socketpair(fds, err)) < 0)
                return ret;
        if ((ret = ns_parent_enter(&c->ns, json_object_get(linux_, "timeOffsets"), saved, err)) < 0) {
                ns_parent_leave(saved);
                close(fds[0]);
                close(fds[1]);
                return ret;
        }
        /* cgroup is unshared by the child once it sits in its cgroup; time is the parent's */
        c->pid = spawn_clone(c, c->ns.create & ~(CLONE_NEWCGROUP | 0x80 /* CLONE_NEWTIME */), &ctx, err);
        if (c->pid == 0) {
                close(fds[0]);
                ctx.sync_fd = fds[1];
                init_main(&ctx);
        }
        ret = c->pid < 0 ? -1 : 0;
        ns_parent_leave(saved);
        close(fds[1]);
        c->sync_fd = fds[0];
        if (ret < 0) {
                c->pid = 0;
                return ret;
        }
        return drive_child(c, err);
}

static int do_create(struct creation *c, const struct create_opts *o, bool with_fifo, berth_error_t **err)
{
        json_t *linux_;
        int ret;

        if ((ret = container_id_check(c->id, err)) < 0)
                return ret;
        if ((ret = resolve_bundle(c, o->bundle, err)) < 0)
                return ret;
        linux_ = json_object_get(c->config, "linux");
        if (geteuid() != 0 && !has_user_namespace(linux_))
                return berth_error(err, 0, "a rootless container needs a user namespace (linux.namespaces)");
        add_listen_fds(json_object_get(c->config, "process"), o->listen_fds);
        warn_unused_lsm(json_object_get(c->config, "process"));
        if ((ret = ns_plan_build(json_object_get(linux_, "namespaces"), &c->ns, err)) < 0)
                return ret;
        if (json_object_get(linux_, "seccomp")) {
                _cleanup_free_ char *cache = xasprintf("%s/.seccomp-cache", c->root);
                if ((ret = seccomp_program_build(json_object_get(linux_, "seccomp"), cache, &c->seccomp, err)) < 0)
                        return ret;
                c->has_seccomp = true;
        }
        if ((ret = make_state_dir(c, with_fifo, err)) < 0)
                return ret;
        if (o->console_socket && (c->console_fd = console_socket_connect(o->console_socket, err)) < 0)
                return c->console_fd;
        if (!o->console_socket && json_is_true(json_path(c->config, "process", "terminal", NULL))) {
                int pair[2];
                if (with_fifo)
                        return berth_error(err, 0, "process.terminal needs --console-socket when the runtime "
                                           "does not stay in the foreground");
                if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
                        return berth_error(err, errno, "socketpair");
                c->proxy_fd = pair[0];
                c->console_fd = pair[1];
        }
        c->st.cgroup_path = cgroup_resolve_path(json_path_str(linux_, "", "cgroupsPath", NULL), c->id);
        /* before clone: the child is born in its cgroup2 directory and
         * enters the v1 ones through files opened here, and a cgroup mount
         * in the container binds its directories */
        if ((ret = make_cgroup(c, err)) < 0)
                return ret;
        c->st.created = rfc3339_now();
        c->st.annotations = json_incref(json_object_get(c->config, "annotations"));
        c->st.id = (char *)c->id;
        c->st.oci_version = (char *)json_path_str(c->config, "1.0.2", "ociVersion", NULL);
        c->st.poststart = json_path(c->config, "hooks", "poststart", NULL);
        c->st.poststop = json_path(c->config, "hooks", "poststop", NULL);
        if ((ret = spawn_init(c, o, err)) < 0)
                return ret;
        c->st.pid = c->pid;
        if (proc_stat(c->pid, &c->st.start_time, NULL) < 0)
                return berth_error(err, 0, "container process exited during setup");
        if ((ret = state_write(c->root, &c->st, err)) < 0)
                return ret;
        if (o->pid_file && (ret = pid_file_write(o->pid_file, c->pid, err)) < 0)
                return ret;
        return 0;
}

int container_create(const char *root, const char *id, const struct create_opts *o, berth_error_t **err)
{
        struct creation c;
        int ret;

        creation_init(&c, root, id);
        ret = do_create(&c, o, true, err);
        creation_finish(&c, ret < 0);
        return ret;
}

static void run_poststart(const char *root, struct container_state *st, json_t *hooks)
{
        _cleanup_error_ berth_error_t *err = NULL;
        json_t *state = state_to_oci(st, state_status(root, st));

        if (hooks_run(hooks, "poststart", state, &err) < 0)
                berth_warn("%s", err->msg);
        json_decref(state);
}

int container_start(const char *root, const char *id, berth_error_t **err)
{
        _cleanup_state_ struct container_state *st = NULL;
        _cleanup_free_ char *fifo = NULL;
        _cleanup_close_ int fd = -1;
        const char *status;
        int ret;

        if ((ret = state_read(root, id, &st, err)) < 0)
                return ret;
        status = state_status(root, st);
        if (strcmp(status, "created") != 0)
                return berth_error(err, 0, "cannot start a container that is %s", status);
        fifo = xasprintf("%s/%s/exec.fifo", root, id);
        fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
                return berth_error(err, errno == ENXIO ? 0 : errno, "start container \"%s\"%s", id,
                                   errno == ENXIO ? ": its process is gone" : "");
        if (write(fd, "0", 1) != 1)
                return berth_error(err, errno, "start container \"%s\"", id);
        unlink(fifo);
        run_poststart(root, st, st->poststart);
        return 0;
}

static int read_exec_result(int sync_fd, berth_error_t **err)
{
        struct sync_msg msg;

        /* EOF: execve closed the close-on-exec socket, the program runs */
        if (sync_recv(sync_fd, &msg) < 0)
                return 0;
        if (msg.type == SYNC_ERROR)
                return berth_error(err, 0, "%s", msg.text);
        return 0;
}

int container_run(const char *root, const char *id, const struct create_opts *o, int *exit_code,
                  berth_error_t **err)
{
        struct creation c;
        int ret, master = -1;

        if (o->detach) {
                if ((ret = container_create(root, id, o, err)) < 0)
                        return ret;
                if ((ret = container_start(root, id, err)) < 0)
                        container_delete(root, id, true, NULL);
                *exit_code = 0;
                return ret;
        }
        creation_init(&c, root, id);
        if ((ret = do_create(&c, o, false, err)) < 0) {
                creation_finish(&c, true);
                return ret;
        }
        if (sync_send(c.sync_fd, SYNC_START, NULL) < 0)
                ret = berth_error(err, errno, "start container \"%s\"", id);
        if (ret == 0)
                ret = read_exec_result(c.sync_fd, err);
        if (ret == 0 && c.proxy_fd >= 0 && (master = recv_fd(c.proxy_fd, err)) < 0)
                ret = master;
        if (ret < 0) {
                /* created and started: stop it the lifecycle's way, poststop hooks included */
                c.made_state_dir = false;
                creation_finish(&c, false);
                container_delete(root, id, true, NULL);
                return ret;
        }
        run_poststart(root, &c.st, c.st.poststart);
        if (master >= 0) {
                tty_proxy_run(master);
                close(master);
        }
        *exit_code = wait_forwarding_signals(c.pid);
        c.pid = 0;
        c.made_state_dir = false;
        creation_finish(&c, false);
        return container_delete(root, id, true, err);
}

/* The container's cgroup; NULL for a rootless container that has none
 * (an empty path must never open the hierarchy roots). */
static struct cgroup *container_cgroup(const struct container_state *st)
{
        return st->cgroup_path[0] ? cgroup_open(st->cgroup_path) : NULL;
}

/* Wait (up to about 10 s) until the init is gone; not our child, so poll. */
static void wait_init_gone(const struct container_state *st)
{
        for (int i = 0; i < 10000 && state_init_alive(st); i++)
                usleep(i < 100 ? 100 : 1000);
}

static int kill_everything(const struct container_state *st, struct cgroup *cg)
{
        _cleanup_free_ pid_t *pids = NULL;
        int n = cg ? cgroup_pids(cg, &pids, NULL) : -1;

        if (state_init_alive(st))
                kill(st->pid, SIGKILL);
        for (int i = 0; i < n; i++)
                kill(pids[i], SIGKILL);
        /* frozen tasks cannot die until thawed */
        if (cg && cgroup_is_frozen(cg))
                cgroup_freeze(cg, false, NULL);
        wait_init_gone(st);
        return 0;
}

int container_delete(const char *root, const char *id, bool force, berth_error_t **err)
{
        _cleanup_state_ struct container_state *st = NULL;
        _cleanup_error_ berth_error_t *inner = NULL;
        struct cgroup *cg = NULL;
        const char *status;
        json_t *state;
        int ret;

        if ((ret = state_read(root, id, &st, &inner)) < 0) {
                if (!force)
                        return berth_error(err, 0, "%s", inner->msg);
                /* containerd always calls delete --force, also for ids it never made */
                if (container_id_check(id, NULL) == 0)
                        state_remove(root, id, NULL);
                return 0;
        }
        status = state_status(root, st);
        /* like runc, a created container that never ran may go without --force */
        if (strcmp(status, "stopped") != 0 && strcmp(status, "created") != 0 && !force)
                return berth_error(err, 0, "cannot delete container \"%s\" that is not stopped: %s", id, status);
        cg = container_cgroup(st);
        if (strcmp(status, "stopped") != 0)
                kill_everything(st, cg);
        state = state_to_oci(st, "stopped");
        if (hooks_run(st->poststop, "poststop", state, &inner) < 0)
                berth_warn("%s", inner->msg);
        json_decref(state);
        if (cg) {
                if (cgroup_destroy(cg, &inner) < 0)
                        berth_warn("%s", inner->msg);
                cgroup_free(cg);
        }
        return state_remove(root, id, err);
}

static int read_running(const char *root, const char *id, struct container_state **st, const char **status,
                        berth_error_t **err)
{
        int ret = state_read(root, id, st, err);

        if (ret < 0)
                return ret;
        *status = state_status(root, *st);
        if (strcmp(*status, "stopped") == 0)
                return berth_error(err, 0, "container \"%s\" is not running", id);
        return 0;
}

int container_kill(const char *root, const char *id, int sig, bool all, berth_error_t **err)
{
        _cleanup_state_ struct container_state *st = NULL;
        _cleanup_free_ pid_t *pids = NULL;
        const char *status;
        struct cgroup *cg;
        int n, ret;

        if ((ret = state_read(root, id, &st, err)) < 0)
                return ret;
        status = state_status(root, st);
        bool stopped = strcmp(status, "stopped") == 0;
        /* runc's words: containerd's shim treats "container not running"
         * as already done; a stopped container's pid may be reused */
        if (stopped && !all)
                return berth_error(err, 0, "container \"%s\": container not running", id);
        if (!all) {
                if (kill(st->pid, sig) < 0)
                        return berth_error(err, errno, "kill container \"%s\"", id);
                return 0;
        }
        cg = container_cgroup(st);
        n = cg ? cgroup_pids(cg, &pids, err) : 0;
        if (cg)
                cgroup_free(cg);
        if (n < 0)
                return n;
        /* kill --all after the exit (containerd's StopContainer sends
         * one): what is left in the cgroup, never the old pid; success,
         * as runc */
        if (!stopped)
                kill(st->pid, sig);
        for (int i = 0; i < n; i++)
                kill(pids[i], sig);
        return 0;
}

int container_state(const char *root, const char *id, json_t **out, berth_error_t **err)
{
        _cleanup_state_ struct container_state *st = NULL;
        int ret = state_read(root, id, &st, err);

        if (ret < 0)
                return ret;
        *out = state_to_oci(st, state_status(root, st));
        return 0;
}

int container_list(const char *root, json_t **out, berth_error_t **err)
{
        DIR *d = opendir(root);
        struct dirent *de;
        json_t *list = json_array();

        if (d == NULL) {
                *out = list;
                return errno == ENOENT ? 0 : berth_error(err, errno, "open %s", root);
        }
        while ((de = readdir(d)) != NULL) {
                json_t *state;
                if (de->d_name[0] == '.' || container_state(root, de->d_name, &state, NULL) < 0)
                        continue;
                json_array_append_new(list, state);
        }
        closedir(d);
        *out = list;
        return 0;
}

int container_pause(const char *root, const char *id, bool pause, berth_error_t **err)
{
        _cleanup_state_ struct container_state *st = NULL;
        const char *status;
        struct cgroup *cg;
        int ret;

        if ((ret = read_running(root, id, &st, &status, err)) < 0)
                return ret;
        if (pause && strcmp(status, "paused") == 0)
                return berth_error(err, 0, "container \"%s\" is already paused", id);
        if (!pause && strcmp(status, "paused") != 0)
                return berth_error(err, 0, "container \"%s\" is not paused", id);
        if ((cg = container_cgroup(st)) == NULL)
                return berth_error(err, 0, "container \"%s\" has no cgroup", id);
        ret = cgroup_freeze(cg, pause, err);
        cgroup_free(cg);
        return ret;
}

int container_pids(const char *root, const char *id, pid_t **pids, berth_error_t **err)
{
        _cleanup_state_ struct container_state *st = NULL;
        struct cgroup *cg;
        int ret = state_read(root, id, &st, err);

        if (ret < 0)
                return ret;
        if ((cg = container_cgroup(st)) == NULL) {
                /* no cgroup (rootless): the init is all that can be named */
                bool alive = state_init_alive(st);
                *pids = alive ? xmalloc(sizeof(pid_t)) : NULL;
                if (alive)
                        (*pids)[0] = st->pid;
                return alive ? 1 : 0;
        }
        ret = cgroup_pids(cg, pids, err);
        cgroup_free(cg);
        return ret;
}

int container_stats(const char *root, const char *id, struct cgroup_stats *out, berth_error_t **err)
{
        _cleanup_state_ struct container_state *st = NULL;
        struct cgroup *cg;
        int ret = state_read(root, id, &st, err);

        if (ret < 0)
                return ret;
        if ((cg = container_cgroup(st)) == NULL)
                return berth_fail(err, ENOTSUP, "container %s has no cgroup (rootless)", id);
        ret = cgroup_stats(cg, out, err);
        cgroup_free(cg);
        return ret;
}

int container_update(const char *root, const char *id, json_t *resources, berth_error_t **err)
{
        _cleanup_state_ struct container_state *st = NULL;
        const char *status;
        struct cgroup *cg;
        int ret;

        if ((ret = read_running(root, id, &st, &status, err)) < 0)
                return ret;
        if ((cg = container_cgroup(st)) == NULL)
                return berth_error(err, 0, "container \"%s\" has no cgroup", id);
        /* device rules are fixed at create, as with runc: containerd's CRI
         * update carries a bare "deny all" that would cut off /dev/null */
        json_t *copy = json_deep_copy(resources);
        json_object_del(copy, "devices");
        ret = cgroup_apply_resources(cg, copy, err);
        json_decref(copy);
        cgroup_free(cg);
        return ret;
}
