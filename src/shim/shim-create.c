/* The container's stdio and its creation.  The runtime's init inherits the
 * creator's fds 0, 1 and 2 (it closes everything above), so the shim puts
 * the container's ends of its pipes there for the duration of
 * container_create and keeps the other ends.  With a terminal the init
 * makes the pty itself and sends the master back over the console socket,
 * which the shim listens on. */
#include "shim/shim-internal.h"
#include "runtime/console.h"
#include "runtime/container.h"
#include "oci/config.h"
#include "util/util.h"
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>

static int set_nonblock(int fd, berth_error_t **err)
{
        int flags = fcntl(fd, F_GETFL);

        if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
                return berth_error(err, errno, "fcntl O_NONBLOCK");
        return 0;
}

/* One pipe: the container's end in *theirs, ours non-blocking in *ours. */
static int make_pipe(bool container_reads, int *theirs, int *ours, berth_error_t **err)
{
        int p[2];

        if (pipe2(p, O_CLOEXEC) < 0)
                return berth_error(err, errno, "pipe");
        *theirs = container_reads ? p[0] : p[1];
        *ours = container_reads ? p[1] : p[0];
        return set_nonblock(*ours, err);
}

static int make_pipes(struct shim *s, int theirs[3], berth_error_t **err)
{
        int in = -1, ret;

        if (s->o->open_stdin && (ret = make_pipe(true, &theirs[0], &in, err)) < 0)
                return ret;
        shim_stdin_init(&s->in, in);
        if ((ret = make_pipe(false, &theirs[1], &s->out_fd[SHIM_STDOUT], err)) < 0)
                return ret;
        return make_pipe(false, &theirs[2], &s->out_fd[SHIM_STDERR], err);
}

/* container_create with theirs[] (or /dev/null) as fds 0-2, then /dev/null
 * again, so the shim holds no end the container writes to. */
static int create_with_stdio(struct shim *s, const struct create_opts *co, int theirs[3], berth_error_t **err)
{
        _cleanup_close_ int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        int ret;

        if (null < 0)
                return berth_error(err, errno, "open /dev/null");
        for (int i = 0; i < 3; i++)
                if (dup2(theirs[i] >= 0 ? theirs[i] : null, i) < 0)
                        return berth_error(err, errno, "dup2");
        ret = shim_rt_create(s, co, err);
        for (int i = 0; i < 3; i++)
                dup2(null, i);
        return ret;
}

/* The pty master the init sent while it was set up. */
static int receive_master(struct shim *s, int listener, berth_error_t **err)
{
        _cleanup_close_ int conn = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
        int ret;

        if (conn < 0)
                return berth_error(err, errno, "accept on %s", s->console_path);
        if ((s->master_fd = recv_fd(conn, err)) < 0)
                return s->master_fd;
        if ((ret = set_nonblock(s->master_fd, err)) < 0)
                return ret;
        s->out_fd[SHIM_STDOUT] = s->master_fd;
        shim_stdin_init(&s->in, s->o->open_stdin ? fcntl(s->master_fd, F_DUPFD_CLOEXEC, 3) : -1);
        return 0;
}

/* A wrong --tty would leave the init waiting with nobody to take its pty,
 * or fail deep in the runtime: say so first. */
static int check_terminal(struct shim *s, berth_error_t **err)
{
        _cleanup_free_ char *path = xasprintf("%s/config.json", s->o->bundle);
        json_t *config = json_load_file(path, 0, NULL);
        bool terminal = json_is_true(json_path(config, "process", "terminal", NULL));

        json_decref(config);
        if (config == NULL || terminal == s->o->tty)
                return 0;
        if (s->o->tty)
                return berth_error(err, 0, "--tty: process.terminal is false in %s", path);
        return berth_error(err, 0, "process.terminal is true in %s: the shim needs --tty", path);
}

static int read_init_pid(struct shim *s, berth_error_t **err)
{
        int ret = shim_rt_init_pid(s, &s->init_pid, err);

        if (ret < 0)
                return ret;
        return s->init_pid > 0 ? 0 : berth_error(err, 0, "container \"%s\" has no init pid", s->o->id);
}

int shim_create(struct shim *s, berth_error_t **err)
{
        struct create_opts co = { .bundle = s->o->bundle };
        int theirs[3] = { -1, -1, -1 };
        int listener = -1, ret;

        if ((ret = check_terminal(s, err)) < 0)
                return ret;
        if (s->o->tty) {
                if ((listener = shim_listen_unix(s->console_path, err)) < 0)
                        return listener;
                co.console_socket = s->console_path;
        } else if ((ret = make_pipes(s, theirs, err)) < 0) {
                goto out;
        }
        if ((ret = create_with_stdio(s, &co, theirs, err)) < 0)
                goto out;
        if (s->o->tty)
                ret = receive_master(s, listener, err);
        if (ret == 0)
                ret = read_init_pid(s, err);
        if (ret < 0)
                shim_rt_delete(s, NULL);
out:
        for (int i = 0; i < 3; i++)
                if (theirs[i] >= 0)
                        close(theirs[i]);
        if (listener >= 0) {
                close(listener);
                unlink(s->console_path);
        }
        return ret;
}
