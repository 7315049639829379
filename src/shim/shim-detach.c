/* Detaching from berthd: the launcher forks, the child starts a new
 * session and forks the shim, then exits, so the shim is nobody's child
 * (the nearest subreaper or init adopts it) and holds no terminal.  The
 * launcher waits on a pipe for the shim's verdict: "R" when the container
 * is created and the sockets listen, "E<message>" when not.  An EOF
 * without either means the shim died before it could tell. */
#include "shim/shim-internal.h"
#include "util/util.h"
#include <errno.h>
#include <fcntl.h>
#include <sys/wait.h>

/* berthd's fds (its API socket, its database) are none of the shim's
 * business, and an inherited pipe would keep a reader waiting for EOF. */
static void close_inherited_fds(int keep)
{
        if (keep > 3)
                close_range(3, (unsigned)keep - 1, 0);
        close_range((unsigned)keep + 1, ~0U, 0);
}

static int read_verdict(int fd, berth_error_t **err)
{
        char buf[4096];
        size_t len = 0;
        ssize_t n;

        while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) != 0) {
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return berth_error(err, errno, "wait for the shim");
                len += (size_t)n;
        }
        buf[len] = '\0';
        if (len > 0 && buf[0] == 'R')
                return 1;
        if (len > 1 && buf[0] == 'E')
                return berth_error(err, 0, "%s", buf + 1);
        return berth_error(err, 0, "the shim exited before the container was created");
}

static void stdio_to_null(void)
{
        int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

        for (int i = 0; i < 3 && fd >= 0; i++)
                dup2(fd, i);
        if (fd > 2)
                close(fd);
}

int shim_detach(int *ready_fd, berth_error_t **err)
{
        _cleanup_close_ int r = -1;
        int fds[2], status;
        pid_t child;

        if (pipe2(fds, O_CLOEXEC) < 0)
                return berth_error(err, errno, "pipe");
        child = fork();
        if (child < 0) {
                close(fds[0]);
                close(fds[1]);
                return berth_error(err, errno, "fork");
        }
        if (child > 0) {
                r = fds[0];
                close(fds[1]);
                while (waitpid(child, &status, 0) < 0 && errno == EINTR)
                        ;
                return read_verdict(r, err);
        }
        close(fds[0]);
        if (setsid() < 0)
                _exit(1);
        child = fork();
        if (child < 0) {
                dprintf(fds[1], "Efork: %s", strerror(errno));
                _exit(1);
        }
        if (child > 0)
                _exit(0);
        /* the launcher's stdout may be a pipe berthd reads to EOF */
        stdio_to_null();
        close_inherited_fds(fds[1]);
        if (chdir("/") < 0)
                _exit(1);
        *ready_fd = fds[1];
        return 0;
}

void shim_report_ready(int ready_fd)
{
        (void)write_all(ready_fd, "R", 1);
        close(ready_fd);
}

void shim_report_error(int ready_fd, const berth_error_t *err)
{
        char buf[4096];
        int n = snprintf(buf, sizeof(buf), "E%s", err && err->msg ? err->msg : "setup failed");

        /* one line: the launcher prints it as is */
        for (int i = 0; i < n && i < (int)sizeof(buf); i++)
                if (buf[i] == '\n')
                        buf[i] = ' ';
        (void)write_all(ready_fd, buf, (size_t)(n < (int)sizeof(buf) ? n : (int)sizeof(buf) - 1));
        close(ready_fd);
}
