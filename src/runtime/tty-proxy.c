#include "runtime/tty-proxy.h"
#include "util/util.h"
#include <errno.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>

/* Copy what is readable on from to to; false on EOF or error. */
static bool pump(int from, int to)
{
        char buf[8192];
        ssize_t n = read(from, buf, sizeof(buf));

        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return true;
        if (n <= 0)
                return false;
        return write_all(to, buf, (size_t)n) == 0;
}

void tty_proxy_run(int master)
{
        struct termios saved, raw;
        bool restore = false, stdin_open = true;
        struct winsize ws;

        if (isatty(0) && tcgetattr(0, &saved) == 0) {
                raw = saved;
                cfmakeraw(&raw);
                restore = tcsetattr(0, TCSANOW, &raw) == 0;
                if (ioctl(0, TIOCGWINSZ, &ws) == 0)
                        ioctl(master, TIOCSWINSZ, &ws);
        }
        for (;;) {
                struct pollfd p[2] = { { .fd = master, .events = POLLIN }, { .fd = stdin_open ? 0 : -1, .events = POLLIN } };
                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
                        if (!pump(master, 1))
                                break;
                }
                if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
                        if (!pump(0, master))
                                stdin_open = false; /* keep showing output after stdin ends */
                }
        }
        if (restore)
                tcsetattr(0, TCSANOW, &saved);
}
