/* The attached session of run, start -a: one loop that moves the
 * container's output from the hijacked socket to stdout/stderr, the user's
 * input to the socket, forwards signals and terminal resizes, and ends
 * when the output ends and the wait request has the exit status.
 *
 * Half-close is the end of input: when stdin reaches EOF (or at once when
 * stdin is not attached) the socket is shut down for writing, and the
 * daemon closes the container's stdin; the output side stays open until
 * the process is gone. */
#include "cli/cli.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>

#define ATTACH_BUF 32768

static int sig_pipe[2] = { -1, -1 };

static void on_signal(int sig)
{
        unsigned char b = (unsigned char)sig;
        int saved = errno;

        (void)!write(sig_pipe[1], &b, 1);
        errno = saved;
}

static const struct {
        int sig;
        const char *name;
} proxied[] = {
        { SIGINT, "INT" },   { SIGTERM, "TERM" }, { SIGHUP, "HUP" },
        { SIGQUIT, "QUIT" }, { SIGUSR1, "USR1" }, { SIGUSR2, "USR2" },
};

static int signals_setup(bool proxy, bool winch, berth_error_t **err)
{
        struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };

        if (sig_pipe[0] < 0 && pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
                return berth_error(err, errno, "pipe");
        sigemptyset(&sa.sa_mask);
        if (proxy)
                for (size_t i = 0; i < ARRAY_SIZE(proxied); i++)
                        sigaction(proxied[i].sig, &sa, NULL);
        if (winch)
                sigaction(SIGWINCH, &sa, NULL);
        return 0;
}

static void signals_reset(void)
{
        for (size_t i = 0; i < ARRAY_SIZE(proxied); i++)
                signal(proxied[i].sig, SIG_DFL);
        signal(SIGWINCH, SIG_DFL);
}

void attach_resize(struct cli *c, const char *id)
{
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_response_ struct cli_response resp = { 0 };
        _cleanup_free_ char *path = NULL;
        unsigned rows, cols;

        if (!tty_size(1, &rows, &cols) && !tty_size(0, &rows, &cols))
                return;
        path = xasprintf("/containers/%s/resize?h=%u&w=%u", id, rows, cols);
        /* a failed resize is not worth failing the session for */
        cli_call(c, "POST", path, NULL, &resp, &err);
}

static void forward_signal(struct cli *c, const char *id, int sig)
{
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_response_ struct cli_response resp = { 0 };
        _cleanup_free_ char *path = NULL;
        const char *name = NULL;

        for (size_t i = 0; i < ARRAY_SIZE(proxied); i++)
                if (proxied[i].sig == sig)
                        name = proxied[i].name;
        if (name == NULL)
                return;
        path = xasprintf("/containers/%s/kill?signal=%s", id, name);
        if (cli_call(c, "POST", path, NULL, &resp, &err) < 0 || resp.status >= 400) {
                if (err == NULL)
                        cli_daemon_error(&resp, &err);
                fprintf(stderr, "Error sending signal: %s\n", err->msg);
        }
}

int attach_open(struct cli *c, struct attach_opts *o, berth_error_t **err)
{
        _cleanup_free_ char *path = xasprintf("/containers/%s/attach?%s%sstdout=1&stream=1", o->id,
                                              o->stderr_ ? "stderr=1&" : "", o->stdin_ ? "stdin=1&" : "");

        o->attach_fd = cli_hijack(c, path, &o->pending, &o->pending_len, err);
        if (o->attach_fd < 0)
                return -1;
        /* nothing to send: say so at once, as docker does (CloseWrite) */
        if (!o->stdin_)
                shutdown(o->attach_fd, SHUT_WR);
        return 0;
}

int attach_run(struct cli *c, struct attach_opts *o, int *status, berth_error_t **err)
{
        _cleanup_close_ int fd = steal_fd(&o->attach_fd);
        _cleanup_free_ char *inbuf = xmalloc(ATTACH_BUF + sizeof(((struct detach_keys *)0)->seq));
        _cleanup_free_ char *rd = xmalloc(ATTACH_BUF);
        size_t in_len = 0, in_off = 0;
        bool sock_eof = false, stdin_eof = !o->stdin_, shut = !o->stdin_, detached = false;
        bool raw = o->tty && o->stdin_ && isatty(0);
        struct detach_keys keys;
        struct stdcopy sc;
        _cleanup_response_ struct cli_response resp = { 0 };
        int ret = -1;

        *status = -1;
        stdcopy_init(&sc, o->tty);
        if (o->pending_len > 0 && stdcopy_feed(&sc, o->pending, o->pending_len, err) < 0)
                return -1;
        if (detach_keys_parse(&keys, o->detach_keys, err) < 0)
                return -1;
        if (signals_setup(o->sig_proxy && !o->tty, o->tty, err) < 0)
                return -1;
        if (raw && tty_make_raw(0, err) < 0)
                goto out;
        if (o->stdin_)
                fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);

        while (!sock_eof) {
                struct curl_waitfd fds[3] = {
                        { .fd = fd, .events = 0 },
                        { .fd = 0, .events = 0 },
                        { .fd = sig_pipe[0], .events = POLLIN },
                };
                fds[0].events = CURL_WAIT_POLLIN | (in_len > in_off ? CURL_WAIT_POLLOUT : 0);
                if (!stdin_eof && in_len == in_off)
                        fds[1].events = CURL_WAIT_POLLIN;
                else
                        fds[1].fd = -1;
                if (cli_async_poll(o->wait, fds, 3, 1000, err) < 0)
                        goto out;

                if (fds[0].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) {
                        ssize_t n = read(fd, rd, ATTACH_BUF);
                        if (n < 0 && errno != EAGAIN && errno != EINTR) {
                                if (errno != ECONNRESET) {
                                        berth_error(err, errno, "read from the attach stream");
                                        goto out;
                                }
                                n = 0;
                        }
                        if (n == 0)
                                sock_eof = true;
                        else if (n > 0 && stdcopy_feed(&sc, rd, (size_t)n, err) < 0)
                                goto out;
                }
                if (fds[1].fd >= 0 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL))) {
                        ssize_t n = read(0, rd, ATTACH_BUF);
                        if (n < 0 && errno != EAGAIN && errno != EINTR)
                                n = 0;  /* an unreadable stdin ends the input */
                        if (n == 0) {
                                stdin_eof = true;
                        } else if (n > 0) {
                                in_off = 0;
                                if (o->tty) {
                                        if (detach_keys_scan(&keys, rd, (size_t)n, inbuf, &in_len)) {
                                                detached = true;
                                                break;
                                        }
                                } else {
                                        memcpy(inbuf, rd, (size_t)n);
                                        in_len = (size_t)n;
                                }
                        }
                }
                if (in_len > in_off) {
                        ssize_t n = send(fd, inbuf + in_off, in_len - in_off, MSG_NOSIGNAL | MSG_DONTWAIT);
                        if (n > 0)
                                in_off += (size_t)n;
                        else if (n < 0 && errno != EAGAIN && errno != EINTR)
                                /* the container's stdin is gone: drop the input */
                                in_off = in_len, stdin_eof = true;
                        if (in_off == in_len)
                                in_len = in_off = 0;
                }
                if (stdin_eof && !shut && in_len == in_off) {
                        shutdown(fd, SHUT_WR);
                        shut = true;
                }
                if (fds[2].revents & POLLIN) {
                        unsigned char sigs[16];
                        ssize_t n = read(sig_pipe[0], sigs, sizeof(sigs));
                        for (ssize_t i = 0; i < n; i++) {
                                if (sigs[i] == SIGWINCH)
                                        attach_resize(c, o->id);
                                else
                                        forward_signal(c, o->id, sigs[i]);
                        }
                }
        }
        if (raw)
                tty_restore();
        if (detached) {
                /* the container goes on; so does docker's CLI, quietly */
                *status = 0;
                ret = 0;
                goto out;
        }
        if (cli_async_finish(o->wait, &resp, err) < 0 || wait_status(&resp, status, err) < 0)
                goto out;
        ret = 0;
out:
        if (raw)
                tty_restore();
        signals_reset();
        return ret;
}
