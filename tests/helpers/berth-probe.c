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
 *   berth-probe sleep SECS           sleep (for tests that need a live process)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
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

int main(int argc, char **argv)
{
        const char *cmd;
        setvbuf(stdout, NULL, _IOLBF, 0);
        if (argc < 2)
                return die_usage();
        cmd = argv[1];
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
