/* Signal names for `kill`: containerd and users pass numbers ("9"), names
 * with or without the SIG prefix in any case ("KILL", "sigterm"), and
 * real-time signals relative to RTMIN/RTMAX ("RTMIN+3", "SIGRTMAX-1"). */
#include "oci/signals.h"
#include "util/util.h"
#include <signal.h>
#include <strings.h>

struct signal_name {
        const char *name;
        int num;
};

/* The Linux signal names, aliases included (IOT, CLD, POLL), without
 * the "SIG" prefix, which signal_parse strips first. */
static const struct signal_name signal_names[] = {
        { "HUP", SIGHUP },       { "INT", SIGINT },       { "QUIT", SIGQUIT },
        { "ILL", SIGILL },       { "TRAP", SIGTRAP },     { "ABRT", SIGABRT },
        { "IOT", SIGIOT },       { "BUS", SIGBUS },       { "FPE", SIGFPE },
        { "KILL", SIGKILL },     { "USR1", SIGUSR1 },     { "SEGV", SIGSEGV },
        { "USR2", SIGUSR2 },     { "PIPE", SIGPIPE },     { "ALRM", SIGALRM },
        { "TERM", SIGTERM },     { "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD },
        { "CLD", SIGCHLD },      { "CONT", SIGCONT },     { "STOP", SIGSTOP },
        { "TSTP", SIGTSTP },     { "TTIN", SIGTTIN },     { "TTOU", SIGTTOU },
        { "URG", SIGURG },       { "XCPU", SIGXCPU },     { "XFSZ", SIGXFSZ },
        { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF },     { "WINCH", SIGWINCH },
        { "IO", SIGIO },         { "POLL", SIGPOLL },     { "PWR", SIGPWR },
        { "SYS", SIGSYS },
};

/* A signal number in range, from a string of digits only: no sign, no
 * spaces, no hex, so "0", "+9" and "9x" are all rejected. */
static int parse_number(const char *s)
{
        long long v = parse_ll(s);

        if (v < 1 || v > SIGRTMAX)
                return -1;
        return (int)v;
}

/* "RTMIN", "RTMIN+N", "RTMAX", "RTMAX-N", staying within the real-time
 * range.  SIGRTMIN is glibc's (34 on Linux), not the kernel's 32: glibc
 * keeps the first two for its threads, so 34 is what "RTMIN" means to the
 * glibc programs most containers run and to kill(1) on the host. */
static int parse_realtime(const char *s)
{
        long long off = 0;
        int base, sign;

        if (strncasecmp(s, "RTMIN", 5) == 0) {
                base = SIGRTMIN;
                sign = 1;
        } else if (strncasecmp(s, "RTMAX", 5) == 0) {
                base = SIGRTMAX;
                sign = -1;
        } else {
                return -1;
        }
        s += 5;
        if (*s != '\0') {
                /* Only offsets that point into the range: RTMIN+N, RTMAX-N. */
                if (*s != (sign > 0 ? '+' : '-'))
                        return -1;
                off = parse_ll(s + 1);
                if (off < 0 || off > SIGRTMAX - SIGRTMIN)
                        return -1;
        }
        return base + sign * (int)off;
}

int signal_parse(const char *s)
{
        if (s == NULL || *s == '\0')
                return -1;
        if (*s >= '0' && *s <= '9')
                return parse_number(s);
        if (strncasecmp(s, "SIG", 3) == 0)
                s += 3;
        for (size_t i = 0; i < ARRAY_SIZE(signal_names); i++)
                if (strcasecmp(s, signal_names[i].name) == 0)
                        return signal_names[i].num;
        return parse_realtime(s);
}
