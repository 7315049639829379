/* The user's terminal during run -it / start -ai: raw mode (restored at
 * exit, however the CLI exits), its size for resize requests, and the
 * detach key sequence (ctrl-p,ctrl-q by default) spotted in the input. */
#include "cli/cli.h"
#include <ctype.h>
#include <sys/ioctl.h>
#include <termios.h>

static struct termios saved;
static int saved_fd = -1;

void tty_restore(void)
{
        if (saved_fd >= 0) {
                tcsetattr(saved_fd, TCSADRAIN, &saved);
                saved_fd = -1;
        }
}

int tty_make_raw(int fd, berth_error_t **err)
{
        static bool registered;
        struct termios t;

        if (tcgetattr(fd, &t) < 0)
                return berth_error(err, errno, "tcgetattr");
        saved = t;
        saved_fd = fd;
        if (!registered) {
                atexit(tty_restore);
                registered = true;
        }
        /* as docker's raw mode: no echo, no line editing, no signals from
         * keys (ctrl-c goes to the container), no output processing */
        cfmakeraw(&t);
        t.c_cc[VMIN] = 1;
        t.c_cc[VTIME] = 0;
        if (tcsetattr(fd, TCSADRAIN, &t) < 0)
                return berth_error(err, errno, "tcsetattr");
        return 0;
}

bool tty_size(int fd, unsigned *rows, unsigned *cols)
{
        struct winsize ws;

        if (ioctl(fd, TIOCGWINSZ, &ws) < 0 || ws.ws_row == 0 || ws.ws_col == 0)
                return false;
        *rows = ws.ws_row;
        *cols = ws.ws_col;
        return true;
}

/* "ctrl-p,ctrl-q", "ctrl-@", "a": docker's detach key syntax. */
int detach_keys_parse(struct detach_keys *d, const char *spec, berth_error_t **err)
{
        _cleanup_free_ char *copy = xstrdup(spec ? spec : "ctrl-p,ctrl-q");
        char *save = NULL;

        memset(d, 0, sizeof(*d));
        for (char *k = strtok_r(copy, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
                unsigned char key;
                if (d->n == sizeof(d->seq))
                        return berth_error(err, 0, "detach keys: sequence too long");
                if (strlen(k) == 1) {
                        key = (unsigned char)k[0];
                } else if (strncmp(k, "ctrl-", 5) == 0 && strlen(k) == 6) {
                        char ch = (char)tolower((unsigned char)k[5]);
                        if (ch >= 'a' && ch <= 'z')
                                key = (unsigned char)(ch - 'a' + 1);
                        else if (ch == '@')
                                key = 0;
                        else if (ch == '[')
                                key = 27;
                        else if (ch == '\\')
                                key = 28;
                        else if (ch == ']')
                                key = 29;
                        else if (ch == '^')
                                key = 30;
                        else if (ch == '_')
                                key = 31;
                        else
                                return berth_error(err, 0, "Unknown character: '%s'", k);
                } else {
                        return berth_error(err, 0, "Unknown character: '%s'", k);
                }
                d->seq[d->n++] = key;
        }
        return 0;
}

bool detach_keys_scan(struct detach_keys *d, const char *in, size_t len, char *out, size_t *out_len)
{
        size_t o = 0;

        for (size_t i = 0; i < len; i++) {
                unsigned char ch = (unsigned char)in[i];
                if (d->n > 0 && ch == d->seq[d->matched]) {
                        if (++d->matched == d->n) {
                                *out_len = o;
                                return true;
                        }
                        continue;
                }
                /* a partial match that did not complete: the held keys
                 * were ordinary input after all */
                if (d->matched > 0) {
                        memcpy(out + o, d->seq, d->matched);
                        o += d->matched;
                        d->matched = 0;
                        if (ch == d->seq[0]) {
                                d->matched = 1;
                                continue;
                        }
                }
                out[o++] = (char)ch;
        }
        *out_len = o;
        return false;
}
