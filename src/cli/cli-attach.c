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

void attach_resize(struct cli *c, const char *id, bool exec, unsigned extra)
{
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_response_ struct cli_response resp = { 0 };
        _cleanup_free_ char *path = NULL;
        unsigned rows = 0, cols = 0;

        if (!tty_size(1, &rows, &cols) && !tty_size(0, &rows, &cols) && extra == 0)
                return;
        path = xasprintf("/%s/%s/resize?h=%u&w=%u", exec ? "exec" : "containers", id, rows + extra,
                         cols + extra);
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

/* Wait for the fds, letting the wait request progress when there is one
 * (an exec has none). */
static int wait_io(struct attach_opts *o, struct pollfd *fds, unsigned n, int timeout_ms,
                   berth_error_t **err)
{
        if (o->wait)
                return cli_async_poll(o->wait, fds, n, timeout_ms, err);
        for (unsigned i = 0; i < n; i++)
                fds[i].revents = 0;
        if (poll(fds, n, timeout_ms) < 0 && errno != EINTR)
                return berth_error(err, errno, "poll");
        return 0;
}

int attach_open(struct cli *c, struct attach_opts *o, berth_error_t **err)
{
        _cleanup_free_ char *keys = o->detach_keys ? cli_escape_query(o->detach_keys) : NULL;
        _cleanup_free_ char *path = xasprintf("/containers/%s/attach?%s%s%s%s%sstdout=1&stream=1", o->id,
                                              keys ? "detachKeys=" : "", keys ? keys : "", keys ? "&" : "",
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
        if (signals_setup(o->sig_proxy && !o->tty && !o->exec, o->tty, err) < 0)
                return -1;
        if (raw && tty_make_raw(0, err) < 0)
                goto out;
        if (o->stdin_)
                fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);

        while (!sock_eof) {
                struct pollfd fds[3] = {
                        { .fd = fd, .events = 0 },
                        { .fd = 0, .events = 0 },
                        { .fd = sig_pipe[0], .events = POLLIN },
                };
                fds[0].events = POLLIN | (in_len > in_off ? POLLOUT : 0);
                if (!stdin_eof && in_len == in_off)
                        fds[1].events = POLLIN;
                else
                        fds[1].fd = -1;
                if (wait_io(o, fds, 3, 1000, err) < 0)
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
                                        attach_resize(c, o->id, o->exec, 0);
                                else
                                        forward_signal(c, o->id, sigs[i]);
                        }
                }
        }
        if (raw)
                tty_restore();
        if (detached) {
                /* the container goes on; the caller says what docker says */
                o->detached = true;
                *status = 0;
                ret = 0;
                goto out;
        }
        if (o->wait == NULL) {
                ret = 0;        /* an exec: its status is the caller's to ask for */
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

/* The container's inspect document, refused as docker refuses to attach
 * to one that is not running. */
static int inspect_attachable(struct cli *c, const char *name, json_t **ct, berth_error_t **err)
{
        _cleanup_free_ char *esc = cli_escape_path(name);
        _cleanup_free_ char *path = xasprintf("/containers/%s/json", esc);
        json_t *state;

        if (*ct) {
                json_decref(*ct);
                *ct = NULL;
        }
        if (cli_call_json(c, "GET", path, NULL, ct, err) < 0)
                return -1;
        state = json_object_get(*ct, "State");
        if (!json_is_true(json_object_get(state, "Running")))
                return berth_error(err, 0, "You cannot attach to a stopped container, start it first");
        if (json_is_true(json_object_get(state, "Paused")))
                return berth_error(err, 0, "You cannot attach to a paused container, unpause it first");
        if (json_is_true(json_object_get(state, "Restarting")))
                return berth_error(err, 0, "You cannot attach to a restarting container, wait until it is running");
        return 0;
}

/* docker attach: the wait goes first (no condition), then an inspect, the
 * hijacked attach, and a second inspect in case the container stopped in
 * between; the exit status is the wait's. */
int cmd_attach(struct cli *c, int argc, char **argv)
{
        static const struct option longopts[] = {
                { "no-stdin", no_argument, NULL, 'N' },
                { "sig-proxy", optional_argument, NULL, 'P' },
                { "detach-keys", required_argument, NULL, 'K' },
                CLI_OPT_HELP, CLI_OPT_END,
        };
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_json_ json_t *ct = NULL;
        _cleanup_free_ char *name = NULL, *wait_path = NULL, *id = NULL;
        struct cli_async wait = { 0 };
        struct attach_opts a = { .stdout_ = true, .stderr_ = true, .attach_fd = -1, .wait = &wait };
        bool no_stdin = false, sig_proxy = true, ok;
        int o, status = 1;

        while ((o = cli_getopt(argc, argv, "+:", longopts, "attach")) != -1) {
                switch (o) {
                case 'N': no_stdin = true; break;
                case 'K': a.detach_keys = optarg; break;
                case 'P':
                        sig_proxy = cli_bool_arg(optarg, &ok);
                        if (!ok) {
                                fprintf(stderr, "invalid argument \"%s\" for \"--sig-proxy\" flag: strconv.ParseBool: parsing \"%s\": invalid syntax\n",
                                        optarg, optarg);
                                return 125;
                        }
                        break;
                case CLI_GETOPT_HELP: return 0;
                default: return 125;
                }
        }
        if (argc - optind != 1)
                return cli_usage_error("attach", "requires 1 argument");
        name = cli_escape_path(argv[optind]);
        wait_path = xasprintf("/containers/%s/wait", name);
        if (cli_async_start(c, &wait, "POST", wait_path, &err) < 0)
                goto fail;
        if (inspect_attachable(c, argv[optind], &ct, &err) < 0)
                goto fail;
        json_t *config = json_object_get(ct, "Config");
        /* a copy: the second inspect replaces the document */
        id = xstrdup(json_string_value(json_object_get(ct, "Id")) ?: argv[optind]);
        a.id = id;
        a.tty = json_is_true(json_object_get(config, "Tty"));
        if (a.tty && !no_stdin && !isatty(0)) {
                berth_error(&err, 0, "the input device is not a TTY");
                goto fail;
        }
        a.stdin_ = !no_stdin && json_is_true(json_object_get(config, "OpenStdin"));
        a.sig_proxy = sig_proxy;
        if (attach_open(c, &a, &err) < 0 || inspect_attachable(c, a.id, &ct, &err) < 0)
                goto fail;
        if (a.tty && isatty(1)) {
                /* one size off, then the real one, or the shell would not
                 * redraw its prompt after a re-attach (docker does this) */
                attach_resize(c, a.id, false, 1);
                attach_resize(c, a.id, false, 0);
        }
        if (attach_run(c, &a, &status, &err) < 0) {
                status = 1;
                goto fail;
        }
        if (a.detached) {
                berth_error(&err, 0, "read escape sequence");
                status = 1;
                goto fail;
        }
        free(a.pending);
        cli_async_free(&wait);
        return status;
fail:
        if (a.attach_fd >= 0)
                close(a.attach_fd);
        free(a.pending);
        cli_async_free(&wait);
        cli_print_raw(err);
        return status ? status : 1;
}
