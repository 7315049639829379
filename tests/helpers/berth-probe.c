/* berth-probe: a small static program copied into the integration tests'
 * busybox rootfs.  It prints facts about the process it runs as that a
 * busybox shell cannot easily get, in a stable one-line-per-fact format the
 * bats files compare against.
 *
 *   berth-probe caps                 CapInh/CapPrm/CapEff/CapBnd/CapAmb lines
 *   berth-probe status KEY           value of KEY from /proc/self/status
 *   berth-probe ids                  uid=U gid=G euid=U egid=G groups=a,b,c
 *   berth-probe pid                  pid=P ppid=P
 *   berth-probe rlimit NAME          "soft hard" (numbers or "unlimited")
 *   berth-probe alloc MIB            touch MIB MiB one MiB at a time
 *   berth-probe umask                0022
 *   berth-probe nnp                  NoNewPrivs value (0/1)
 *   berth-probe ns [TYPE]            "TYPE type:[inode]" per /proc/self/ns entry
 *                                    (just "type:[inode]" when TYPE is given)
 *   berth-probe cwd | hostname | domainname | oom_score_adj
 *   berth-probe sysctl KEY           value of /proc/sys/KEY (dots -> slashes)
 *   berth-probe write PATH [DATA]    "ok" or errno name (exit 1 on error)
 *   berth-probe read PATH            "ok N" (bytes) or errno name
 *   berth-probe open PATH r|w|rw     "ok" or errno name
 *   berth-probe exec PATH [ARGV0..]  execve PATH; on failure print errno name
 *   berth-probe stat PATH            "T MODE UID GID MAJ:MIN" (lstat; T in cbdfls p)
 *   berth-probe statfs PATH          "magic=0x.. size=BYTES flags=ro|rw[,nosuid,...]"
 *   berth-probe mountinfo PATH       "opts=.. optional=.. fstype=.. super=.." (last mount at PATH)
 *   berth-probe wait-mount PATH SECS "yes" once a mount appears at PATH, else "no"
 *   berth-probe fork N               forked=K errno=NAME|none
 *   berth-probe fds                  "N TARGET" for every open fd but its own
 *   berth-probe tty                  "fd0=tty|notty fd1=.. fd2=.. size=ROWSxCOLS"
 *   berth-probe env NAME             value or "<unset>"
 *   berth-probe exit N               exit with N
 *   berth-probe udp-echo PORT        answer each datagram on 0.0.0.0:PORT with "echo:" + it,
 *                                    printing it (busybox has no UDP server)
 *   berth-probe sleep SECS           sleep (for tests that need a live process)
 *
 * seccomp and escape tests (seccomp.bats, escapes.bats):
 *   berth-probe syscall NAME[=ARG]...  "NAME ERR" per name: the syscall made with
 *                                    harmless arguments in a forked child (so a
 *                                    call that works changes nothing here); ERR
 *                                    is an errno name, "none", "SIGSYS" (killed
 *                                    by it) or "n/a" (no such syscall on this
 *                                    arch).  See try_syscall() for the names;
 *                                    nr=N makes syscall N with zero arguments.
 *   berth-probe threads N            N pthreads contend on a mutex and a condition
 *                                    variable: "threads=N total=T"
 *   berth-probe everyday             "ok WHAT" / "FAIL WHAT ERR" for everyday
 *                                    calls (getrandom, epoll, timerfd, memfd,
 *                                    sockets, fork+exec, mmap, ...); exit 1 on FAIL
 *   berth-probe ptrace-child         trace our own children (TRACEME; ATTACH):
 *                                    "traceme=ERR attach=ERR"
 *   berth-probe ptrace-other PID     "attach=ERR vmread=ERR" for another process
 *   berth-probe exe-attack PID|find:STR FIFO|exec-wait|-
 *                                    CVE-2019-5736: open /proc/PID/exe, try to
 *                                    write it; then release FIFO and wait for PID
 *                                    to exit (or with exec-wait: wait for PID to
 *                                    exec another program) and try again through
 *                                    the kept fd.  A write puts back the bytes
 *                                    that are there.
 *   berth-probe cwd-escape HOSTPATH  "cwd=.. host=visible|hidden": whether
 *                                    HOSTPATH of the host is reachable upwards
 *   berth-probe swap-loop A B SECS   renameat2(RENAME_EXCHANGE) A and B in a loop
 *   berth-probe mount-bind SRC DST | umount PATH | remount-rw PATH
 *               | mount-fs TYPE DST [DATA]   "ok" or errno name
 *   berth-probe userns [pid] CMD..   unshare a user+mount namespace (and pid,
 *                                    net and cgroup with "pid"; then fork) mapping root,
 *                                    and run CMD (another berth-probe command);
 *                                    "unshare ERR" when that fails
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <linux/sched.h>
#include <pthread.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/timex.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static const char *errname(int e)
{
        switch (e) {
        case 0: return "none";
        case EPERM: return "EPERM";
        case ENOENT: return "ENOENT";
        case EIO: return "EIO";
        case ENXIO: return "ENXIO";
        case E2BIG: return "E2BIG";
        case ENOEXEC: return "ENOEXEC";
        case EBADF: return "EBADF";
        case EAGAIN: return "EAGAIN";
        case ENOMEM: return "ENOMEM";
        case EACCES: return "EACCES";
        case EFAULT: return "EFAULT";
        case EBUSY: return "EBUSY";
        case EEXIST: return "EEXIST";
        case ENODEV: return "ENODEV";
        case ENOTDIR: return "ENOTDIR";
        case EISDIR: return "EISDIR";
        case EINVAL: return "EINVAL";
        case ENFILE: return "ENFILE";
        case EMFILE: return "EMFILE";
        case ENOTTY: return "ENOTTY";
        case ETXTBSY: return "ETXTBSY";
        case EFBIG: return "EFBIG";
        case ENOSPC: return "ENOSPC";
        case EROFS: return "EROFS";
        case ELOOP: return "ELOOP";
        case ENAMETOOLONG: return "ENAMETOOLONG";
        case EOPNOTSUPP: return "EOPNOTSUPP";
        case ESRCH: return "ESRCH";
        case ENOSYS: return "ENOSYS";
        case EXDEV: return "EXDEV";
        case ECHILD: return "ECHILD";
        case EAFNOSUPPORT: return "EAFNOSUPPORT";
        case ESOCKTNOSUPPORT: return "ESOCKTNOSUPPORT";
        case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
        case ENOTBLK: return "ENOTBLK";
        case ENOKEY: return "ENOKEY";
        case EUSERS: return "EUSERS";
        case ENOTSOCK: return "ENOTSOCK";
        case ENOTEMPTY: return "ENOTEMPTY";
        default: {
                static char buf[32];
                snprintf(buf, sizeof buf, "E%d", e);
                return buf;
        }
        }
}

static int die_usage(void)
{
        fprintf(stderr, "berth-probe: bad usage (see the comment at the top of berth-probe.c)\n");
        return 2;
}

/* Print the value of "KEY:\t..." from /proc/self/status. */
static int status_key(const char *key, int print_key)
{
        FILE *f = fopen("/proc/self/status", "re");
        char line[512];
        size_t kl = strlen(key);
        int found = 0;
        if (!f) {
                printf("%s\n", errname(errno));
                return 1;
        }
        while (fgets(line, sizeof line, f)) {
                if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
                        char *v = line + kl + 1;
                        while (*v == ' ' || *v == '\t')
                                v++;
                        if (print_key)
                                printf("%s: %s", key, v);
                        else
                                printf("%s", v);
                        found = 1;
                }
        }
        fclose(f);
        if (!found) {
                printf("<none>\n");
                return 1;
        }
        return 0;
}

static int cmd_caps(void)
{
        const char *k[] = { "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb" };
        for (size_t i = 0; i < 5; i++)
                status_key(k[i], 1);
        return 0;
}

static int cmd_ids(void)
{
        gid_t groups[256];
        int n = getgroups(256, groups);
        printf("uid=%u gid=%u euid=%u egid=%u groups=", getuid(), getgid(), geteuid(), getegid());
        for (int i = 0; i < n; i++)
                printf("%s%u", i ? "," : "", groups[i]);
        printf("\n");
        return 0;
}

static const struct {
        const char *name;
        int res;
} rlimits[] = {
        { "CPU", RLIMIT_CPU },         { "FSIZE", RLIMIT_FSIZE },
        { "DATA", RLIMIT_DATA },       { "STACK", RLIMIT_STACK },
        { "CORE", RLIMIT_CORE },       { "RSS", RLIMIT_RSS },
        { "NPROC", RLIMIT_NPROC },     { "NOFILE", RLIMIT_NOFILE },
        { "MEMLOCK", RLIMIT_MEMLOCK }, { "AS", RLIMIT_AS },
        { "LOCKS", RLIMIT_LOCKS },     { "SIGPENDING", RLIMIT_SIGPENDING },
        { "MSGQUEUE", RLIMIT_MSGQUEUE }, { "NICE", RLIMIT_NICE },
        { "RTPRIO", RLIMIT_RTPRIO },   { "RTTIME", RLIMIT_RTTIME },
};

static void print_rlim(rlim_t v)
{
        if (v == RLIM_INFINITY)
                printf("unlimited");
        else
                printf("%llu", (unsigned long long)v);
}

static int cmd_rlimit(const char *name)
{
        if (strncmp(name, "RLIMIT_", 7) == 0)
                name += 7;
        for (size_t i = 0; i < sizeof rlimits / sizeof rlimits[0]; i++) {
                if (strcasecmp(name, rlimits[i].name) == 0) {
                        struct rlimit rl;
                        if (getrlimit(rlimits[i].res, &rl) < 0) {
                                printf("%s\n", errname(errno));
                                return 1;
                        }
                        print_rlim(rl.rlim_cur);
                        printf(" ");
                        print_rlim(rl.rlim_max);
                        printf("\n");
                        return 0;
                }
        }
        return die_usage();
}

static int cmd_alloc(long mib)
{
        const size_t chunk = 1 << 20;
        setvbuf(stdout, NULL, _IONBF, 0);
        for (long i = 0; i < mib; i++) {
                char *p = mmap(NULL, chunk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                if (p == MAP_FAILED) {
                        printf("mmap failed after %ld MiB: %s\n", i, errname(errno));
                        return 1;
                }
                for (size_t off = 0; off < chunk; off += 4096)
                        p[off] = (char)(i + 1);
        }
        printf("allocated %ld MiB\n", mib);
        return 0;
}

static int cmd_ns(const char *only)
{
        const char *types[] = { "cgroup", "ipc", "mnt", "net", "pid", "pid_for_children",
                                "time", "time_for_children", "user", "uts" };
        int rc = 0;
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
                char path[64], target[128];
                ssize_t n;
                if (only && strcmp(only, types[i]) != 0)
                        continue;
                snprintf(path, sizeof path, "/proc/self/ns/%s", types[i]);
                n = readlink(path, target, sizeof target - 1);
                if (n < 0) {
                        if (only) {
                                printf("%s\n", errname(errno));
                                rc = 1;
                        }
                        continue;
                }
                target[n] = 0;
                if (only)
                        printf("%s\n", target);
                else
                        printf("%s %s\n", types[i], target);
        }
        return rc;
}

static int cat_file(const char *path)
{
        char buf[4096];
        ssize_t n;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                printf("%s\n", errname(errno));
                return 1;
        }
        while ((n = read(fd, buf, sizeof buf)) > 0)
                fwrite(buf, 1, (size_t)n, stdout);
        if (n < 0) {
                printf("%s\n", errname(errno));
                close(fd);
                return 1;
        }
        close(fd);
        return 0;
}

static int cmd_sysctl(const char *key)
{
        char path[PATH_MAX];
        snprintf(path, sizeof path, "/proc/sys/%s", key);
        for (char *p = path + strlen("/proc/sys/"); *p; p++)
                if (*p == '.')
                        *p = '/';
        return cat_file(path);
}

static int cmd_write(const char *path, const char *data)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
                printf("%s\n", errname(errno));
                return 1;
        }
        if (!data)
                data = "berth-probe\n";
        if (write(fd, data, strlen(data)) < 0) {
                printf("%s\n", errname(errno));
                close(fd);
                return 1;
        }
        if (close(fd) < 0) {
                printf("%s\n", errname(errno));
                return 1;
        }
        printf("ok\n");
        return 0;
}

static int cmd_read(const char *path)
{
        char buf[65536];
        ssize_t n;
        long long total = 0;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                printf("%s\n", errname(errno));
                return 1;
        }
        /* Read at most 1 MiB: /proc/kcore and friends are huge when not masked. */
        while (total < (1 << 20) && (n = read(fd, buf, sizeof buf)) > 0)
                total += n;
        if (total == 0 && n < 0) {
                printf("%s\n", errname(errno));
                close(fd);
                return 1;
        }
        close(fd);
        printf("ok %lld\n", total);
        return 0;
}

static int cmd_open(const char *path, const char *mode)
{
        int flags = O_RDONLY;
        int fd;
        if (strcmp(mode, "w") == 0)
                flags = O_WRONLY;
        else if (strcmp(mode, "rw") == 0)
                flags = O_RDWR;
        fd = open(path, flags | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                printf("%s\n", errname(errno));
                return 1;
        }
        close(fd);
        printf("ok\n");
        return 0;
}

static int cmd_exec(int argc, char **argv)
{
        /* argv[0] is the path; the rest (if any) is the new argv. */
        char *def[] = { argv[0], NULL };
        char **nargv = argc > 1 ? argv + 1 : def;
        extern char **environ;
        fflush(stdout);
        execve(argv[0], nargv, environ);
        printf("%s\n", errname(errno));
        return 1;
}

static int cmd_stat(const char *path)
{
        struct stat st;
        char t = '?';
        if (lstat(path, &st) < 0) {
                printf("%s\n", errname(errno));
                return 1;
        }
        if (S_ISCHR(st.st_mode)) t = 'c';
        else if (S_ISBLK(st.st_mode)) t = 'b';
        else if (S_ISDIR(st.st_mode)) t = 'd';
        else if (S_ISREG(st.st_mode)) t = 'f';
        else if (S_ISLNK(st.st_mode)) t = 'l';
        else if (S_ISSOCK(st.st_mode)) t = 's';
        else if (S_ISFIFO(st.st_mode)) t = 'p';
        printf("%c %04o %u %u %u:%u\n", t, (unsigned)(st.st_mode & 07777), st.st_uid, st.st_gid,
               major(st.st_rdev), minor(st.st_rdev));
        return 0;
}

static int cmd_statfs(const char *path)
{
        struct statfs sf;
        struct statvfs sv;
        const struct {
                unsigned long bit;
                const char *name;
        } fl[] = {
                { ST_RDONLY, "ro" },   { ST_NOSUID, "nosuid" },     { ST_NODEV, "nodev" },
                { ST_NOEXEC, "noexec" }, { ST_SYNCHRONOUS, "sync" }, { ST_NOATIME, "noatime" },
                { ST_NODIRATIME, "nodiratime" }, { ST_RELATIME, "relatime" },
        };
        if (statfs(path, &sf) < 0 || statvfs(path, &sv) < 0) {
                printf("%s\n", errname(errno));
                return 1;
        }
        printf("magic=0x%lx size=%llu flags=", (unsigned long)sf.f_type,
               (unsigned long long)sf.f_blocks * (unsigned long long)sf.f_bsize);
        printf("%s", (sv.f_flag & ST_RDONLY) ? "ro" : "rw");
        for (size_t i = 1; i < sizeof fl / sizeof fl[0]; i++)
                if (sv.f_flag & fl[i].bit)
                        printf(",%s", fl[i].name);
        printf("\n");
        return 0;
}

/* Find the last mountinfo line whose mount point is exactly PATH. */
static int find_mount(const char *path, char *out, size_t outsz)
{
        FILE *f = fopen("/proc/self/mountinfo", "re");
        char *line = NULL;
        size_t cap = 0;
        int found = 0;
        if (!f)
                return 0;
        while (getline(&line, &cap, f) > 0) {
                char mp[PATH_MAX];
                if (sscanf(line, "%*d %*d %*s %*s %4095s", mp) == 1 && strcmp(mp, path) == 0) {
                        snprintf(out, outsz, "%s", line);
                        found = 1;
                }
        }
        free(line);
        fclose(f);
        return found;
}

static int cmd_mountinfo(const char *path)
{
        char line[8192];
        char *tok, *save = NULL;
        int field = 0, after_sep = 0, after_fields = 0;
        char opts[1024] = "", optional[1024] = "", fstype[128] = "", super[2048] = "";
        if (!find_mount(path, line, sizeof line)) {
                printf("notmounted\n");
                return 1;
        }
        line[strcspn(line, "\n")] = 0;
        for (tok = strtok_r(line, " ", &save); tok; tok = strtok_r(NULL, " ", &save), field++) {
                if (field == 5) {
                        snprintf(opts, sizeof opts, "%s", tok);
                } else if (field > 5 && !after_sep) {
                        if (strcmp(tok, "-") == 0) {
                                after_sep = 1;
                                continue;
                        }
                        if (optional[0])
                                strncat(optional, ",", sizeof optional - strlen(optional) - 1);
                        strncat(optional, tok, sizeof optional - strlen(optional) - 1);
                } else if (after_sep) {
                        if (after_fields == 0)
                                snprintf(fstype, sizeof fstype, "%s", tok);
                        else if (after_fields == 2)
                                snprintf(super, sizeof super, "%s", tok);
                        after_fields++;
                }
        }
        printf("opts=%s optional=%s fstype=%s super=%s\n", opts, optional[0] ? optional : "none", fstype,
               super);
        return 0;
}

static int cmd_wait_mount(const char *path, double secs)
{
        char line[8192];
        struct timespec ts = { 0, 50 * 1000 * 1000 };
        for (double waited = 0; waited <= secs; waited += 0.05) {
                if (find_mount(path, line, sizeof line)) {
                        printf("yes\n");
                        return 0;
                }
                nanosleep(&ts, NULL);
        }
        printf("no\n");
        return 1;
}

static int cmd_fork(int n)
{
        pid_t pids[4096];
        int k = 0, err = 0;
        if (n > 4096)
                n = 4096;
        for (; k < n; k++) {
                pid_t p = fork();
                if (p < 0) {
                        err = errno;
                        break;
                }
                if (p == 0) {
                        pause();
                        _exit(0);
                }
                pids[k] = p;
        }
        for (int i = 0; i < k; i++)
                kill(pids[i], SIGKILL);
        for (int i = 0; i < k; i++)
                waitpid(pids[i], NULL, 0);
        printf("forked=%d errno=%s\n", k, errname(err));
        return 0;
}

static int cmd_fds(void)
{
        DIR *d = opendir("/proc/self/fd");
        struct dirent *de;
        int self;
        int fds[1024], n = 0;
        if (!d) {
                printf("%s\n", errname(errno));
                return 1;
        }
        self = dirfd(d);
        while ((de = readdir(d)) && n < 1024) {
                if (de->d_name[0] == '.')
                        continue;
                int fd = atoi(de->d_name);
                if (fd != self)
                        fds[n++] = fd;
        }
        /* sort for a stable output */
        for (int i = 0; i < n; i++)
                for (int j = i + 1; j < n; j++)
                        if (fds[j] < fds[i]) {
                                int t = fds[i];
                                fds[i] = fds[j];
                                fds[j] = t;
                        }
        for (int i = 0; i < n; i++) {
                char path[64], target[PATH_MAX];
                ssize_t len;
                snprintf(path, sizeof path, "/proc/self/fd/%d", fds[i]);
                len = readlink(path, target, sizeof target - 1);
                if (len < 0)
                        continue;
                target[len] = 0;
                printf("%d %s\n", fds[i], target);
        }
        closedir(d);
        return 0;
}

static int cmd_tty(void)
{
        struct winsize ws;
        for (int fd = 0; fd < 3; fd++)
                printf("fd%d=%s ", fd, isatty(fd) ? "tty" : "notty");
        if (ioctl(1, TIOCGWINSZ, &ws) == 0)
                printf("size=%ux%u\n", ws.ws_row, ws.ws_col);
        else
                printf("size=none\n");
        return 0;
}

/* ------------------------------------------------- seccomp and escapes -- */

#define NOSUCH "/berth-probe-no-such-path"

/* One syscall with harmless arguments: the return value of syscall(2) (or
 * -1 with errno).  -2 means "no such syscall on this architecture". */
static long try_syscall(const char *name, const char *arg)
{
        unsigned long a = arg ? strtoul(arg, NULL, 0) : 0;
        char buf[4096] = { 0 };
        struct timespec ts = { 0, 0 };
        struct timex tx;

        memset(&tx, 0, sizeof tx);
#define IS(n) (strcmp(name, n) == 0)
#define CLONE_CHILD(flags)                                                            \
        do {                                                                          \
                long r_ = syscall(SYS_clone, (unsigned long)(flags) | SIGCHLD, 0, 0, 0, 0); \
                if (r_ == 0)                                                          \
                        _exit(0);                                                     \
                if (r_ > 0)                                                           \
                        waitpid((pid_t)r_, NULL, 0);                                  \
                return r_ > 0 ? 0 : r_;                                               \
        } while (0)
        /* a raw syscall number, all arguments 0 */
        if (IS("nr") && arg) return syscall((long)a, 0, 0, 0, 0, 0, 0);
        /* allowed by the default profile (controls) */
        if (IS("getpid")) return syscall(SYS_getpid);
        if (IS("getcwd")) return syscall(SYS_getcwd, buf, sizeof buf);
        if (IS("uname")) return syscall(SYS_uname, buf);
        if (IS("chroot")) return syscall(SYS_chroot, "/");
        if (IS("adjtimex")) return syscall(SYS_adjtimex, &tx);
        if (IS("mkdir")) {
                long r = mkdir("/tmp/berth-probe-mkdir", 0755);
                if (r == 0)
                        rmdir("/tmp/berth-probe-mkdir");
                return r;
        }
        if (IS("rmdir")) return rmdir(NOSUCH);
        if (IS("fork")) CLONE_CHILD(0);
        if (IS("clone")) CLONE_CHILD(0);
        if (IS("name_to_handle_at")) {
                struct { unsigned int bytes; int type; unsigned char h[128]; } fh = { .bytes = 128 };
                int mnt;
                return syscall(SYS_name_to_handle_at, AT_FDCWD, "/", &fh, &mnt, 0);
        }
        if (IS("personality")) return syscall(SYS_personality, arg ? a : 0xffffffffUL);
        if (IS("socket")) {
                int type = a == AF_NETLINK || a == AF_PACKET ? SOCK_RAW : a == 38 /* AF_ALG */ ? SOCK_SEQPACKET : SOCK_STREAM;
                long fd = syscall(SYS_socket, (int)a, type | SOCK_CLOEXEC, 0);
                if (fd >= 0)
                        close((int)fd);
                return fd < 0 ? fd : 0;
        }
        /* namespaces and mounts */
        if (IS("unshare")) return syscall(SYS_unshare, arg ? a : (unsigned long)CLONE_NEWUSER);
        if (IS("clone-newuser")) CLONE_CHILD(CLONE_NEWUSER);
        if (IS("clone-newns")) CLONE_CHILD(CLONE_NEWNS);
        if (IS("clone-newpid")) CLONE_CHILD(CLONE_NEWPID);
        if (IS("clone-newnet")) CLONE_CHILD(CLONE_NEWNET);
        if (IS("clone-newuts")) CLONE_CHILD(CLONE_NEWUTS);
        if (IS("clone-newipc")) CLONE_CHILD(CLONE_NEWIPC);
        if (IS("clone-newcgroup")) CLONE_CHILD(CLONE_NEWCGROUP);
        if (IS("clone3")) {
                struct clone_args ca;
                long r;
                memset(&ca, 0, sizeof ca);
                ca.flags = a;
                ca.exit_signal = SIGCHLD;
                r = syscall(SYS_clone3, &ca, sizeof ca);
                if (r == 0)
                        _exit(0);
                if (r > 0)
                        waitpid((pid_t)r, NULL, 0);
                return r > 0 ? 0 : r;
        }
        if (IS("setns")) return syscall(SYS_setns, -1, 0);
        if (IS("mount")) return syscall(SYS_mount, "none", NOSUCH, "tmpfs", 0, NULL);
        if (IS("umount2")) return syscall(SYS_umount2, NOSUCH, 0);
        if (IS("pivot_root")) return syscall(SYS_pivot_root, NOSUCH, NOSUCH);
        if (IS("fsopen")) return syscall(SYS_fsopen, "berth-no-such-fs", 0);
        if (IS("fsconfig")) return syscall(SYS_fsconfig, -1, 0, NULL, NULL, 0);
        if (IS("fsmount")) return syscall(SYS_fsmount, -1, 0, 0);
        if (IS("fspick")) return syscall(SYS_fspick, -1, "", 0);
        if (IS("open_tree")) return syscall(SYS_open_tree, -1, NOSUCH, 0);
        if (IS("move_mount")) return syscall(SYS_move_mount, -1, "", -1, "", 0);
#ifdef SYS_mount_setattr
        if (IS("mount_setattr")) return syscall(SYS_mount_setattr, -1, "", 0, NULL, 0);
#endif
        if (IS("sethostname")) return syscall(SYS_sethostname, "x", 100000);
        if (IS("setdomainname")) return syscall(SYS_setdomainname, "x", 100000);
        /* keyrings */
        if (IS("keyctl")) return syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */, -3 /* session */, 0);
        if (IS("add_key")) return syscall(SYS_add_key, "berth-no-such-type", "d", NULL, 0, -2);
        if (IS("request_key")) return syscall(SYS_request_key, "berth-no-such-type", "d", NULL, 0);
        /* kernel, modules, boot */
        if (IS("kexec_load")) return syscall(SYS_kexec_load, 0, 0, NULL, 0xdead0000UL);
#ifdef SYS_kexec_file_load
        if (IS("kexec_file_load")) return syscall(SYS_kexec_file_load, -1, -1, 0, "", 0xdead0000UL);
#endif
        if (IS("reboot")) return syscall(SYS_reboot, 0, 0, 0, NULL);
        if (IS("init_module")) return syscall(SYS_init_module, NULL, 0, "");
        if (IS("finit_module")) return syscall(SYS_finit_module, -1, "", 0);
        if (IS("delete_module")) return syscall(SYS_delete_module, "berth_no_such_module", O_NONBLOCK);
        if (IS("swapon")) return syscall(SYS_swapon, NOSUCH, 0);
        if (IS("swapoff")) return syscall(SYS_swapoff, NOSUCH);
        if (IS("acct")) return syscall(SYS_acct, NOSUCH);
        if (IS("syslog")) return syscall(SYS_syslog, 10 /* SIZE_BUFFER */, NULL, 0);
        if (IS("quotactl")) return syscall(SYS_quotactl, 0x800004 /* Q_GETFMT */ << 8, NOSUCH, 0, buf);
#ifdef SYS_quotactl_fd
        if (IS("quotactl_fd")) return syscall(SYS_quotactl_fd, -1, 0, 0, NULL);
#endif
        if (IS("vhangup")) return syscall(SYS_vhangup);
#ifdef SYS_iopl
        if (IS("iopl")) return syscall(SYS_iopl, 0);
#endif
#ifdef SYS_ioperm
        if (IS("ioperm")) return syscall(SYS_ioperm, 0, 0, 0);
#endif
        /* time */
        if (IS("settimeofday")) return syscall(SYS_settimeofday, NULL, NULL);
        if (IS("clock_settime")) return syscall(SYS_clock_settime, CLOCK_MONOTONIC, &ts);
        if (IS("clock_adjtime")) return syscall(SYS_clock_adjtime, CLOCK_REALTIME, &tx);
        /* handles, tracing, profiling, bpf */
        if (IS("open_by_handle_at")) return syscall(SYS_open_by_handle_at, -1, NULL, 0);
        if (IS("bpf")) return syscall(SYS_bpf, -1, NULL, 0);
        if (IS("perf_event_open")) return syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0);
#ifdef SYS_lookup_dcookie
        if (IS("lookup_dcookie")) return syscall(SYS_lookup_dcookie, 0, NULL, 0);
#endif
        if (IS("kcmp")) return syscall(SYS_kcmp, getpid(), getpid(), 0 /* KCMP_FILE */, 0, 0);
        if (IS("pidfd_getfd")) return syscall(SYS_pidfd_getfd, -1, 0, 0);
        if (IS("process_madvise")) return syscall(SYS_process_madvise, -1, NULL, 0, 0, 0);
        if (IS("userfaultfd")) {
                long fd = syscall(SYS_userfaultfd, O_CLOEXEC);
                if (fd >= 0)
                        close((int)fd);
                return fd < 0 ? fd : 0;
        }
        if (IS("fanotify_init")) {
                long fd = syscall(SYS_fanotify_init, 0, 0);
                if (fd >= 0)
                        close((int)fd);
                return fd < 0 ? fd : 0;
        }
        if (IS("io_uring_setup")) return syscall(SYS_io_uring_setup, 1, NULL);
        if (IS("io_uring_enter")) return syscall(SYS_io_uring_enter, -1, 0, 0, 0, NULL, 0);
        if (IS("io_uring_register")) return syscall(SYS_io_uring_register, -1, 0, NULL, 0);
        /* NUMA */
        if (IS("get_mempolicy")) return syscall(SYS_get_mempolicy, NULL, NULL, 0, NULL, 0);
        if (IS("set_mempolicy")) return syscall(SYS_set_mempolicy, 0 /* MPOL_DEFAULT */, NULL, 0);
        if (IS("mbind")) return syscall(SYS_mbind, NULL, 0, 0, NULL, 0, 0);
        if (IS("move_pages")) return syscall(SYS_move_pages, 0, 0, NULL, NULL, NULL, 0);
        if (IS("migrate_pages")) return syscall(SYS_migrate_pages, 0, 0, NULL, NULL);
        /* obsolete */
#ifdef SYS_nfsservctl
        if (IS("nfsservctl")) return syscall(SYS_nfsservctl, 0, NULL, NULL);
#endif
#ifdef SYS_sysfs
        if (IS("sysfs")) return syscall(SYS_sysfs, 3);
#endif
#ifdef SYS__sysctl
        if (IS("_sysctl")) return syscall(SYS__sysctl, NULL);
#endif
#ifdef SYS_uselib
        if (IS("uselib")) return syscall(SYS_uselib, NOSUCH);
#endif
#ifdef SYS_ustat
        if (IS("ustat")) return syscall(SYS_ustat, 0, buf);
#endif
#ifdef SYS_create_module
        if (IS("create_module")) return syscall(SYS_create_module, NULL, 0);
#endif
#ifdef SYS_get_kernel_syms
        if (IS("get_kernel_syms")) return syscall(SYS_get_kernel_syms, NULL);
#endif
#ifdef SYS_query_module
        if (IS("query_module")) return syscall(SYS_query_module, NULL, 0, NULL, 0, NULL);
#endif
#undef IS
#undef CLONE_CHILD
        return -2;
}

static int cmd_syscall(int n, char **names)
{
        int *res = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

        if (res == MAP_FAILED)
                return 1;
        for (int i = 0; i < n; i++) {
                char name[128], *arg;
                int st = 0;
                pid_t p;

                snprintf(name, sizeof name, "%s", names[i]);
                arg = strchr(name, '=');
                if (arg)
                        *arg++ = 0;
                res[0] = -1000;
                fflush(stdout);
                p = fork();
                if (p < 0) {
                        printf("%s fork:%s\n", names[i], errname(errno));
                        continue;
                }
                if (p == 0) {
                        long r = try_syscall(name, arg);
                        res[0] = r == -2 ? -2 : r < 0 ? errno : 0;
                        _exit(0);
                }
                waitpid(p, &st, 0);
                if (WIFSIGNALED(st))
                        printf("%s %s\n", names[i], WTERMSIG(st) == SIGSYS ? "SIGSYS" : strsignal(WTERMSIG(st)));
                else if (res[0] == -2)
                        printf("%s n/a\n", names[i]);
                else if (res[0] == -1000)
                        printf("%s noresult\n", names[i]);
                else
                        printf("%s %s\n", names[i], errname(res[0]));
        }
        return 0;
}

static pthread_mutex_t thr_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t thr_cond = PTHREAD_COND_INITIALIZER;
static long thr_total, thr_turn;

static void *thr_main(void *p)
{
        long me = (long)p;

        for (int i = 0; i < 200; i++) {
                pthread_mutex_lock(&thr_lock);
                thr_total++;
                pthread_cond_broadcast(&thr_cond);
                pthread_mutex_unlock(&thr_lock);
        }
        /* hand a token round in order: real waits on the futex */
        pthread_mutex_lock(&thr_lock);
        while (thr_turn != me)
                pthread_cond_wait(&thr_cond, &thr_lock);
        thr_turn++;
        pthread_cond_broadcast(&thr_cond);
        pthread_mutex_unlock(&thr_lock);
        return NULL;
}

static int cmd_threads(int n)
{
        pthread_t t[64];

        if (n > 64)
                n = 64;
        for (long i = 0; i < n; i++) {
                int e = pthread_create(&t[i], NULL, thr_main, (void *)i);
                if (e) {
                        printf("pthread_create %s\n", errname(e));
                        return 1;
                }
        }
        for (int i = 0; i < n; i++)
                pthread_join(t[i], NULL);
        printf("threads=%d total=%ld\n", n, thr_total);
        return 0;
}

static int everyday_fail;
#define CHECK(what, cond)                                                     \
        do {                                                                  \
                errno = 0;                                                    \
                if (cond)                                                     \
                        printf("ok %s\n", what);                              \
                else {                                                        \
                        printf("FAIL %s %s\n", what, errname(errno));         \
                        everyday_fail = 1;                                    \
                }                                                             \
        } while (0)

static int cmd_everyday(void)
{
        char buf[256], path[64];
        int fds[2], fd, efd, tfd;
        struct epoll_event ev = { .events = EPOLLIN }, out;
        struct itimerspec its = { .it_value = { 0, 1000000 } };
        uint64_t v = 1;
        struct stat st;
        pid_t p;
        int status;
        char *m;

        CHECK("getrandom", getrandom(buf, 16, 0) == 16);
        CHECK("clock_gettime", clock_gettime(CLOCK_MONOTONIC, &(struct timespec){ 0 }) == 0);
        CHECK("nanosleep", nanosleep(&(struct timespec){ 0, 1000 }, NULL) == 0);
        efd = eventfd(0, EFD_CLOEXEC);
        CHECK("eventfd", efd >= 0);
        fd = epoll_create1(EPOLL_CLOEXEC);
        CHECK("epoll_create1", fd >= 0);
        CHECK("epoll_ctl", epoll_ctl(fd, EPOLL_CTL_ADD, efd, &ev) == 0);
        CHECK("eventfd write", write(efd, &v, sizeof v) == sizeof v);
        CHECK("epoll_wait", epoll_wait(fd, &out, 1, 1000) == 1);
        CHECK("epoll_pwait", epoll_pwait(fd, &out, 1, 1000, NULL) == 1);
        tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
        CHECK("timerfd_create", tfd >= 0);
        CHECK("timerfd_settime", timerfd_settime(tfd, 0, &its, NULL) == 0);
        CHECK("timerfd read", read(tfd, &v, sizeof v) == sizeof v);
        close(tfd);
        close(fd);
        close(efd);
        fd = memfd_create("berth-probe", MFD_CLOEXEC);
        CHECK("memfd_create", fd >= 0);
        CHECK("ftruncate", ftruncate(fd, 8192) == 0);
        m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        CHECK("mmap shared", m != MAP_FAILED);
        if (m != MAP_FAILED) {
                m[0] = 1;
                CHECK("mprotect", mprotect(m, 4096, PROT_READ) == 0);
                CHECK("madvise", madvise(m, 8192, MADV_DONTNEED) == 0);
                CHECK("munmap", munmap(m, 8192) == 0);
        }
        close(fd);
        CHECK("pipe2", pipe2(fds, O_CLOEXEC) == 0);
        CHECK("pipe io", write(fds[1], "x", 1) == 1 && read(fds[0], buf, 1) == 1);
        close(fds[0]);
        close(fds[1]);
        CHECK("socketpair", socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
        CHECK("sendmsg/recvmsg", send(fds[0], "y", 1, 0) == 1 && recv(fds[1], buf, 1, 0) == 1);
        close(fds[0]);
        close(fds[1]);
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        CHECK("socket AF_INET", fd >= 0);
        close(fd);
        fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        CHECK("socket AF_INET6", fd >= 0 || errno == EAFNOSUPPORT);
        close(fd);
        fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0);
        CHECK("socket AF_NETLINK", fd >= 0);
        close(fd);
        {
                struct sockaddr_un sa = { .sun_family = AF_UNIX };
                int l, c;
                snprintf(sa.sun_path, sizeof sa.sun_path, "/tmp/berth-probe.%d.sock", getpid());
                unlink(sa.sun_path);
                l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                CHECK("unix bind/listen", l >= 0 && bind(l, (void *)&sa, sizeof sa) == 0 && listen(l, 1) == 0);
                c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                CHECK("unix connect", c >= 0 && connect(c, (void *)&sa, sizeof sa) == 0);
                fd = accept4(l, NULL, NULL, SOCK_CLOEXEC);
                CHECK("unix accept4", fd >= 0);
                close(fd);
                close(c);
                close(l);
                unlink(sa.sun_path);
        }
        snprintf(path, sizeof path, "/tmp/berth-probe.%d", getpid());
        CHECK("mkdir", mkdir(path, 0755) == 0);
        CHECK("stat", stat(path, &st) == 0 && S_ISDIR(st.st_mode));
        CHECK("statx", statx(AT_FDCWD, path, 0, STATX_BASIC_STATS, &(struct statx){ 0 }) == 0);
        CHECK("chmod", chmod(path, 0700) == 0);
        CHECK("chown", chown(path, 1000, 1000) == 0);
        CHECK("rmdir", rmdir(path) == 0);
        CHECK("sched_getaffinity", sched_getaffinity(0, sizeof buf, (void *)buf) == 0);
        CHECK("prlimit", prlimit(0, RLIMIT_NOFILE, NULL, &(struct rlimit){ 0 }) == 0);
        CHECK("uname", uname(&(struct utsname){ 0 }) == 0);
        CHECK("personality query", syscall(SYS_personality, 0xffffffffUL) >= 0);
        p = fork();
        if (p == 0) {
                execl("/bin/true", "true", (char *)NULL);
                _exit(127);
        }
        CHECK("fork+exec+wait", p > 0 && waitpid(p, &status, 0) == p && WIFEXITED(status) &&
                                        WEXITSTATUS(status) == 0);
        fflush(stdout);
        if (everyday_fail == 0)
                return cmd_threads(8);
        return 1;
}

static int cmd_ptrace_child(void)
{
        int st, traceme, attach;
        pid_t p = fork();

        if (p == 0) {
                if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0)
                        _exit(100 + (errno & 0x7f));
                raise(SIGSTOP);
                _exit(7);
        }
        waitpid(p, &st, 0);
        if (WIFSTOPPED(st)) {
                ptrace(PTRACE_CONT, p, NULL, NULL);
                waitpid(p, &st, 0);
        }
        traceme = WIFEXITED(st) && WEXITSTATUS(st) == 7 ? 0 : WIFEXITED(st) ? WEXITSTATUS(st) - 100 : EIO;
        p = fork();
        if (p == 0) {
                pause();
                _exit(0);
        }
        attach = 0;
        if (ptrace(PTRACE_ATTACH, p, NULL, NULL) < 0)
                attach = errno;
        else {
                waitpid(p, &st, 0);
                ptrace(PTRACE_DETACH, p, NULL, NULL);
        }
        kill(p, SIGKILL);
        waitpid(p, &st, 0);
        printf("traceme=%s attach=%s\n", errname(traceme), errname(attach));
        return 0;
}

static volatile int vm_marker = 0x42;

static int cmd_ptrace_other(pid_t pid)
{
        int attach = 0, vm = 0, st, val = 0;
        struct iovec local = { &val, sizeof val }, remote = { (void *)&vm_marker, sizeof val };

        if (ptrace(PTRACE_ATTACH, pid, NULL, NULL) < 0)
                attach = errno;
        else {
                waitpid(pid, &st, __WALL);
                ptrace(PTRACE_DETACH, pid, NULL, NULL);
        }
        if (process_vm_readv(pid, &local, 1, &remote, 1, 0) < 0)
                vm = errno;
        printf("attach=%s vmread=%s\n", errname(attach), errname(vm));
        return 0;
}

/* The pid of the first other process whose command line contains str. */
static pid_t find_pid(const char *str, double secs)
{
        struct timespec ts = { 0, 20 * 1000 * 1000 };

        for (double w = 0; w <= secs; w += 0.02) {
                DIR *d = opendir("/proc");
                struct dirent *de;
                pid_t found = 0;

                while (d && (de = readdir(d)) && !found) {
                        char path[64], cmd[4096];
                        ssize_t n;
                        int fd;
                        pid_t p = atoi(de->d_name);

                        if (p <= 0 || p == getpid())
                                continue;
                        snprintf(path, sizeof path, "/proc/%d/cmdline", p);
                        fd = open(path, O_RDONLY | O_CLOEXEC);
                        if (fd < 0)
                                continue;
                        n = read(fd, cmd, sizeof cmd - 1);
                        close(fd);
                        for (ssize_t i = 0; i < n - 1; i++)
                                if (cmd[i] == 0)
                                        cmd[i] = ' ';
                        if (n > 0) {
                                cmd[n] = 0;
                                if (strstr(cmd, str))
                                        found = p;
                        }
                }
                if (d)
                        closedir(d);
                if (found)
                        return found;
                nanosleep(&ts, NULL);
        }
        return 0;
}

/* Try to write the file behind path: open it for writing and put back the
 * first four bytes that are already there (so a success changes nothing). */
static const char *try_write(const char *path, int flags, const char *orig)
{
        int fd = open(path, O_WRONLY | O_CLOEXEC | flags);
        if (fd < 0)
                return errname(errno);
        if (pwrite(fd, orig, 4, 0) != 4) {
                static char b[64];
                snprintf(b, sizeof b, "opened-but-write:%s", errname(errno));
                close(fd);
                return b;
        }
        close(fd);
        return "WRITTEN";
}

static int cmd_exe_attack(const char *who, const char *fifo)
{
        char path[64], target[PATH_MAX] = "", fdpath[64], orig[4] = { 0 };
        struct timespec ts = { 0, 20 * 1000 * 1000 };
        pid_t pid = strncmp(who, "find:", 5) == 0 ? find_pid(who + 5, 10) : atoi(who);
        ssize_t n;
        int fd;

        if (pid <= 0) {
                printf("pid notfound\n");
                return 1;
        }
        printf("pid found\n");
        snprintf(path, sizeof path, "/proc/%d/exe", pid);
        n = readlink(path, target, sizeof target - 1);
        printf("target %s\n", n > 0 ? target : errname(errno));
        fd = open(path, O_RDONLY | O_CLOEXEC);
        printf("open-ro %s\n", fd >= 0 ? "none" : errname(errno));
        if (fd < 0)
                return 1;
        if (pread(fd, orig, 4, 0) != 4)
                memcpy(orig, "\177ELF", 4);
        printf("write-running %s\n", try_write(path, 0, orig));
        snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", fd);
        printf("write-fd-running %s\n", try_write(fdpath, 0, orig));
        if (strcmp(fifo, "exec-wait") == 0) {
                /* wait for the process to exec something else (the runtime's
                 * init starting the container's program): its binary is no
                 * longer busy then */
                char now[PATH_MAX];
                int changed = 0;
                for (int i = 0; i < 1000 && !changed; i++) {
                        ssize_t m = readlink(path, now, sizeof now - 1);
                        if (m > 0) {
                                now[m] = 0;
                                changed = strcmp(now, target) != 0;
                        }
                        if (!changed)
                                nanosleep(&ts, NULL);
                }
                printf("execd %s\n", changed ? "yes" : "no");
                printf("write-fd-after %s\n", try_write(fdpath, 0, orig));
                printf("write-fd-trunc-after %s\n", try_write(fdpath, O_TRUNC, orig));
        } else if (strcmp(fifo, "-") != 0) {
                /* let the process go, wait for it to exit (no more ETXTBSY) */
                int ff = open(fifo, O_RDONLY | O_CLOEXEC);
                char buf[4096];
                while (ff >= 0 && read(ff, buf, sizeof buf) > 0)
                        ;
                if (ff >= 0)
                        close(ff);
                int gone = 0;
                for (int i = 0; i < 500 && !gone; i++) {
                        char st[512] = "";
                        char sp[64];
                        int sf;
                        snprintf(sp, sizeof sp, "/proc/%d/stat", pid);
                        sf = open(sp, O_RDONLY | O_CLOEXEC);
                        if (sf < 0) {
                                gone = 1; /* reaped */
                                break;
                        }
                        n = read(sf, st, sizeof st - 1);
                        close(sf);
                        if (n > 0 && strstr(st, ") Z ")) {
                                gone = 1; /* a zombie holds no exe any more */
                                break;
                        }
                        nanosleep(&ts, NULL);
                }
                printf("exited %s\n", gone ? "yes" : "no");
                printf("write-fd-after %s\n", try_write(fdpath, 0, orig));
                printf("write-fd-trunc-after %s\n", try_write(fdpath, O_TRUNC, orig));
        }
        close(fd);
        printf("done\n");
        return 0;
}

static int cmd_cwd_escape(const char *hostpath)
{
        char cwd[PATH_MAX], rel[PATH_MAX * 2] = "";
        struct stat st;

        if (getcwd(cwd, sizeof cwd) == NULL)
                snprintf(cwd, sizeof cwd, "getcwd:%s", errname(errno));
        for (int i = 0; i < 40; i++)
                strcat(rel, "../");
        strcat(rel, hostpath[0] == '/' ? hostpath + 1 : hostpath);
        printf("cwd=%s host=%s\n", cwd, stat(rel, &st) == 0 ? "visible" : "hidden");
        return 0;
}

static int cmd_swap_loop(const char *a, const char *b, double secs)
{
        struct timespec start, now;
        long n = 0;

        clock_gettime(CLOCK_MONOTONIC, &start);
        do {
                if (syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, 2 /* RENAME_EXCHANGE */) == 0)
                        n++;
                clock_gettime(CLOCK_MONOTONIC, &now);
        } while ((double)(now.tv_sec - start.tv_sec) + (double)(now.tv_nsec - start.tv_nsec) / 1e9 < secs);
        /* an even number of exchanges puts everything back */
        if (n % 2)
                syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, 2);
        printf("swaps=%ld\n", n);
        return 0;
}

static int print_result(int r)
{
        printf("%s\n", r == 0 ? "ok" : errname(errno));
        return r == 0 ? 0 : 1;
}

static int write_file_str(const char *path, const char *s)
{
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        if (write(fd, s, strlen(s)) < 0) {
                close(fd);
                return -1;
        }
        return close(fd);
}

static int dispatch(int argc, char **argv);

static int cmd_userns(int argc, char **argv)
{
        int with_pid = argc > 0 && strcmp(argv[0], "pid") == 0;
        int flags = CLONE_NEWUSER | CLONE_NEWNS | (with_pid ? CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP : 0);
        char map[64];
        uid_t uid = getuid();
        gid_t gid = getgid();

        if (with_pid) {
                argc--;
                argv++;
        }
        if (unshare(flags) < 0) {
                printf("unshare %s\n", errname(errno));
                return 1;
        }
        snprintf(map, sizeof map, "0 %u 1", uid);
        write_file_str("/proc/self/uid_map", map);
        write_file_str("/proc/self/setgroups", "deny");
        snprintf(map, sizeof map, "0 %u 1", gid);
        write_file_str("/proc/self/gid_map", map);
        if (with_pid) {
                int st;
                pid_t p;
                fflush(stdout);
                p = fork();
                if (p < 0) {
                        printf("fork %s\n", errname(errno));
                        return 1;
                }
                if (p > 0) {
                        waitpid(p, &st, 0);
                        return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
                }
        }
        return dispatch(argc, argv);
}

int main(int argc, char **argv)
{
        setvbuf(stdout, NULL, _IOLBF, 0);
        return dispatch(argc - 1, argv + 1);
}

static int cmd_udp_echo(int port)
{
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
        int fd = socket(AF_INET, SOCK_DGRAM, 0);
        char buf[2048], out[2100];

        if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
                printf("%s\n", errname(errno));
                return 1;
        }
        for (;;) {
                struct sockaddr_in peer;
                socklen_t len = sizeof(peer);
                ssize_t n = recvfrom(fd, buf, sizeof(buf) - 1, 0, (struct sockaddr *)&peer, &len);
                if (n < 0)
                        continue;
                buf[n] = '\0';
                printf("got %s\n", buf);
                int m = snprintf(out, sizeof(out), "echo:%s", buf);
                sendto(fd, out, (size_t)m, 0, (struct sockaddr *)&peer, len);
        }
}

/* argv[0] is the command */
static int dispatch(int argc, char **argv)
{
        const char *cmd;
        /* the commands below index argv as main's argv did */
        argc++;
        argv--;
        if (argc < 2)
                return die_usage();
        cmd = argv[1];
        if (!strcmp(cmd, "syscall") && argc >= 3)
                return cmd_syscall(argc - 2, argv + 2);
        if (!strcmp(cmd, "udp-echo") && argc == 3)
                return cmd_udp_echo(atoi(argv[2]));
        if (!strcmp(cmd, "threads") && argc == 3)
                return cmd_threads(atoi(argv[2]));
        if (!strcmp(cmd, "everyday"))
                return cmd_everyday();
        if (!strcmp(cmd, "ptrace-child"))
                return cmd_ptrace_child();
        if (!strcmp(cmd, "ptrace-other") && argc == 3)
                return cmd_ptrace_other(atoi(argv[2]));
        if (!strcmp(cmd, "exe-attack") && argc == 4)
                return cmd_exe_attack(argv[2], argv[3]);
        if (!strcmp(cmd, "cwd-escape") && argc == 3)
                return cmd_cwd_escape(argv[2]);
        if (!strcmp(cmd, "swap-loop") && argc == 5)
                return cmd_swap_loop(argv[2], argv[3], atof(argv[4]));
        if (!strcmp(cmd, "mount-bind") && argc == 4)
                return print_result(mount(argv[2], argv[3], NULL, MS_BIND, NULL));
        if (!strcmp(cmd, "umount") && argc == 3)
                return print_result(umount2(argv[2], 0));
        if (!strcmp(cmd, "remount-rw") && argc == 3)
                return print_result(mount(NULL, argv[2], NULL, MS_REMOUNT | MS_BIND, NULL));
        if (!strcmp(cmd, "mount-fs") && (argc == 4 || argc == 5))
                return print_result(mount(argv[2], argv[3], argv[2], 0, argc == 5 ? argv[4] : NULL));
        if (!strcmp(cmd, "userns") && argc >= 3)
                return cmd_userns(argc - 2, argv + 2);
        if (!strcmp(cmd, "caps"))
                return cmd_caps();
        if (!strcmp(cmd, "status") && argc == 3)
                return status_key(argv[2], 0);
        if (!strcmp(cmd, "ids"))
                return cmd_ids();
        if (!strcmp(cmd, "pid")) {
                printf("pid=%d ppid=%d\n", getpid(), getppid());
                return 0;
        }
        if (!strcmp(cmd, "rlimit") && argc == 3)
                return cmd_rlimit(argv[2]);
        if (!strcmp(cmd, "alloc") && argc == 3)
                return cmd_alloc(atol(argv[2]));
        if (!strcmp(cmd, "umask")) {
                mode_t m = umask(0);
                umask(m);
                printf("%04o\n", (unsigned)m);
                return 0;
        }
        if (!strcmp(cmd, "nnp"))
                return status_key("NoNewPrivs", 0);
        if (!strcmp(cmd, "ns"))
                return cmd_ns(argc > 2 ? argv[2] : NULL);
        if (!strcmp(cmd, "cwd")) {
                char buf[PATH_MAX];
                if (!getcwd(buf, sizeof buf)) {
                        printf("%s\n", errname(errno));
                        return 1;
                }
                printf("%s\n", buf);
                return 0;
        }
        if (!strcmp(cmd, "hostname") || !strcmp(cmd, "domainname")) {
                struct utsname u;
                if (uname(&u) < 0)
                        return 1;
                printf("%s\n", !strcmp(cmd, "hostname") ? u.nodename : u.domainname);
                return 0;
        }
        if (!strcmp(cmd, "oom_score_adj"))
                return cat_file("/proc/self/oom_score_adj");
        if (!strcmp(cmd, "sysctl") && argc == 3)
                return cmd_sysctl(argv[2]);
        if (!strcmp(cmd, "write") && argc >= 3)
                return cmd_write(argv[2], argc > 3 ? argv[3] : NULL);
        if (!strcmp(cmd, "read") && argc == 3)
                return cmd_read(argv[2]);
        if (!strcmp(cmd, "open") && argc == 4)
                return cmd_open(argv[2], argv[3]);
        if (!strcmp(cmd, "exec") && argc >= 3)
                return cmd_exec(argc - 2, argv + 2);
        if (!strcmp(cmd, "stat") && argc == 3)
                return cmd_stat(argv[2]);
        if (!strcmp(cmd, "statfs") && argc == 3)
                return cmd_statfs(argv[2]);
        if (!strcmp(cmd, "mountinfo") && argc == 3)
                return cmd_mountinfo(argv[2]);
        if (!strcmp(cmd, "wait-mount") && argc == 4)
                return cmd_wait_mount(argv[2], atof(argv[3]));
        if (!strcmp(cmd, "fork") && argc == 3)
                return cmd_fork(atoi(argv[2]));
        if (!strcmp(cmd, "fds"))
                return cmd_fds();
        if (!strcmp(cmd, "tty"))
                return cmd_tty();
        if (!strcmp(cmd, "env") && argc == 3) {
                const char *v = getenv(argv[2]);
                printf("%s\n", v ? v : "<unset>");
                return 0;
        }
        if (!strcmp(cmd, "exit") && argc == 3)
                return atoi(argv[2]);
        if (!strcmp(cmd, "sleep") && argc == 3) {
                struct timespec ts = { atol(argv[2]), 0 };
                while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                        ;
                return 0;
        }
        return die_usage();
}
