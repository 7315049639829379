/* control.sock: one line in, one line out, per connection (the protocol
 * is in shim.h).  Requests are served inline: they are short, and berthd
 * is the only client. */
#include "shim/shim-internal.h"
#include "runtime/container.h"
#include "oci/signals.h"
#include "util/log.h"
#include "util/util.h"
#include <errno.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <termios.h>

#define MAX_ARGS 4

int shim_control_listen(struct shim *s, berth_error_t **err)
{
        s->control_fd = shim_listen_unix(s->control_path, err);
        return s->control_fd < 0 ? -1 : 0;
}

/* Read one request line (without its \n); -1 on timeout, EOF or junk. */
static int read_line(int fd, char *line, size_t size)
{
        size_t len = 0;

        while (len < size - 1) {
                ssize_t n = read(fd, line + len, size - 1 - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                len += (size_t)n;
                if (memchr(line, '\n', len))
                        break;
        }
        line[len] = '\0';
        line[strcspn(line, "\r\n")] = '\0';
        return len > 0 ? 0 : -1;
}

static char *reply_error(berth_error_t *err)
{
        return xasprintf("error %s", err ? err->msg : "failed");
}

static char *do_start(struct shim *s, berth_error_t **err)
{
        if (s->exited)
                return xstrdup("error the container has exited");
        if (shim_rt_start(s, err) < 0)
                return reply_error(*err);
        return xstrdup("ok");
}

static char *do_kill(struct shim *s, char **argv, int argc, berth_error_t **err)
{
        int sig = argc >= 2 ? signal_parse(argv[1]) : -1;
        bool all = argc == 3 && strcmp(argv[2], "all") == 0;

        if (sig < 0 || argc > 3 || (argc == 3 && !all))
                return xstrdup("error usage: kill SIGNAL [all]");
        if (s->exited)
                return xstrdup("error the container is not running");
        if (shim_rt_kill(s, sig, all, err) < 0)
                return reply_error(*err);
        return xstrdup("ok");
}

static char *do_resize(struct shim *s, char **argv, int argc)
{
        long long rows = argc == 3 ? parse_ll(argv[1]) : -1, cols = argc == 3 ? parse_ll(argv[2]) : -1;
        struct winsize ws;

        if (rows < 0 || cols < 0 || rows > 65535 || cols > 65535)
                return xstrdup("error usage: resize ROWS COLS");
        if (s->master_fd < 0)
                return xstrdup("error the container has no terminal");
        ws = (struct winsize){ .ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols };
        if (ioctl(s->master_fd, TIOCSWINSZ, &ws) < 0)
                return xasprintf("error resize: %s", strerror(errno));
        return xstrdup("ok");
}

static char *do_state(struct shim *s)
{
        json_t *state = NULL, *out;
        const char *status = "stopped";
        char *text, *reply;

        if (!s->exited && shim_rt_state(s, &state, NULL) == 0)
                status = json_string_value(json_object_get(state, "status"));
        out = json_pack("{s:s, s:s, s:i, s:i, s:b, s:b, s:s}", "id", s->o->id, "status", status ? status : "unknown",
                        "pid", (int)s->init_pid, "shim_pid", (int)getpid(), "tty", s->o->tty, "stdin",
                        s->o->open_stdin, "bundle", s->o->bundle);
        if (s->exited)
                json_object_set_new(out, "exit_code", json_integer(shim_exit_code(s)));
        json_decref(state);
        text = json_dumps(out, JSON_COMPACT);
        json_decref(out);
        reply = xasprintf("ok %s", text);
        free(text);
        return reply;
}

static char *dispatch(struct shim *s, char *line)
{
        _cleanup_error_ berth_error_t *err = NULL;
        char *argv[MAX_ARGS + 1], *save = NULL;
        int argc = 0;

        for (char *t = strtok_r(line, " \t", &save); t && argc <= MAX_ARGS; t = strtok_r(NULL, " \t", &save))
                argv[argc++] = t;
        if (argc == 0 || argc > MAX_ARGS)
                return xstrdup("error empty or overlong request");
        if (strcmp(argv[0], "start") == 0 && argc == 1)
                return do_start(s, &err);
        if (strcmp(argv[0], "kill") == 0)
                return do_kill(s, argv, argc, &err);
        if (strcmp(argv[0], "resize") == 0)
                return do_resize(s, argv, argc);
        if (strcmp(argv[0], "close-stdin") == 0 && argc == 1) {
                shim_stdin_close(&s->in);
                return xstrdup("ok");
        }
        if (strcmp(argv[0], "state") == 0 && argc == 1)
                return do_state(s);
        return xasprintf("error unknown request \"%s\"", argv[0]);
}

void shim_control_accept(struct shim *s)
{
        /* a client that connects and says nothing must not stall the shim */
        struct timeval timeout = { .tv_sec = 2 };
        _cleanup_close_ int fd = accept4(s->control_fd, NULL, NULL, SOCK_CLOEXEC);
        _cleanup_free_ char *reply = NULL;
        char line[1024];

        if (fd < 0)
                return;
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
        if (read_line(fd, line, sizeof(line)) < 0)
                reply = xstrdup("error no request");
        else
                reply = dispatch(s, line);
        for (char *p = reply; *p; p++)
                if (*p == '\n')
                        *p = ' ';
        if (send(fd, reply, strlen(reply), MSG_NOSIGNAL) < 0 || send(fd, "\n", 1, MSG_NOSIGNAL) < 0)
                berth_debug("control reply: %s", strerror(errno));
}
