/* User and group lookup in a container's /etc/passwd and /etc/group, with
 * the rules of Docker (moby/sys/user's GetExecUser): a numeric user is
 * taken as a uid even when a user has that name; the first matching line
 * wins; supplementary groups come from /etc/group membership only when no
 * group is named; an id past 2^31-1 is refused. */
#include "engine/docker-user.h"
#include "engine/docker-spec-internal.h"
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#define ID_MAX 2147483647LL
/* /etc/passwd of a real image is a few KiB; a bigger one is hostile. */
#define ETC_FILE_MAX (16 << 20)

struct passwd_ent {
        const char *name, *home;
        long long uid, gid;
};

struct group_ent {
        const char *name;
        char *members;  /* comma-separated, within the line */
        long long gid;
};

/* A decimal id in range, or -1: digits only, as an id in these files is. */
static long long parse_id(const char *s)
{
        long long v = parse_ll(s);

        return v > ID_MAX ? -1 : v;
}

static bool all_digits(const char *s)
{
        if (*s == '\0')
                return false;
        for (; *s; s++)
                if (*s < '0' || *s > '9')
                        return false;
        return true;
}

static int open_in_root(int rootfd, const char *path)
{
        struct open_how how = { .flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
                                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
        int fd;

        do
                fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
        while (fd < 0 && (errno == EAGAIN || errno == EINTR));
        return fd;
}

static int read_fd(int fd, const char *path, char **out, berth_error_t **err)
{
        _cleanup_free_ char *buf = NULL;
        size_t used = 0, cap = 4096;

        buf = xmalloc(cap);
        for (;;) {
                ssize_t n;

                if (used + 1 >= cap) {
                        if (cap > ETC_FILE_MAX)
                                return berth_error(err, EFBIG, "%s in the container is too large", path);
                        cap *= 2;
                        buf = xrealloc(buf, cap);
                }
                n = read(fd, buf + used, cap - used - 1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return berth_error(err, errno, "read %s in the container", path);
                if (n == 0)
                        break;
                used += (size_t)n;
        }
        buf[used] = '\0';
        *out = steal_pointer(&buf);
        return 0;
}

/* The file's text, or NULL when it does not exist (as Docker: a missing
 * file is an empty one). */
static int read_etc_file(int rootfd, const char *path, char **out, berth_error_t **err)
{
        _cleanup_close_ int fd = -1;
        struct stat st;

        *out = NULL;
        if (rootfd < 0)
                return 0;
        fd = open_in_root(rootfd, path);
        if (fd < 0 && errno == ENOENT)
                return 0;
        if (fd < 0)
                return berth_error(err, errno, "open %s in the container", path);
        /* a FIFO or a device there would block or never end */
        if (fstat(fd, &st) < 0)
                return berth_error(err, errno, "stat %s in the container", path);
        if (!S_ISREG(st.st_mode))
                return berth_error(err, 0, "%s in the container is not a regular file", path);
        return read_fd(fd, path, out, err);
}

/* Split a line at ':' into at most n fields; returns how many. */
static size_t split_fields(char *line, char **f, size_t n)
{
        size_t k = 0;

        f[k++] = line;
        for (char *p = line; *p && k < n; p++)
                if (*p == ':') {
                        *p = '\0';
                        f[k++] = p + 1;
                }
        return k;
}

/* Next non-empty line of a file being cut in place, whitespace trimmed. */
static char *next_line(char **cursor)
{
        while (*cursor && **cursor) {
                char *line = *cursor, *nl = strchr(line, '\n'), *end;

                *cursor = nl ? nl + 1 : NULL;
                if (nl)
                        *nl = '\0';
                while (*line == ' ' || *line == '\t')
                        line++;
                end = line + strlen(line);
                while (end > line && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
                        *--end = '\0';
                if (*line)
                        return line;
        }
        return NULL;
}

/* name:password:uid:gid:gecos:home:shell.  Lines that do not parse (NIS
 * "+" entries, garbage) match nothing. */
static bool passwd_parse(char *line, struct passwd_ent *e)
{
        char *f[7] = { 0 };
        size_t n = split_fields(line, f, 7);

        if (n < 4)
                return false;
        e->name = f[0];
        e->uid = parse_id(f[2]);
        e->gid = parse_id(f[3]);
        e->home = n >= 6 && f[5][0] ? f[5] : "/";
        return e->uid >= 0 && e->gid >= 0;
}

/* name:password:gid:member,member */
static bool group_parse(char *line, struct group_ent *e)
{
        char *f[4] = { 0 };
        size_t n = split_fields(line, f, 4);

        if (n < 3)
                return false;
        e->name = f[0];
        e->gid = parse_id(f[2]);
        e->members = n == 4 ? f[3] : (char *)"";
        return e->gid >= 0;
}

static bool group_has_member(const struct group_ent *g, const char *user)
{
        size_t len = strlen(user);

        for (const char *p = g->members; *p;) {
                const char *end = strchrnul(p, ',');
                if ((size_t)(end - p) == len && strncmp(p, user, len) == 0)
                        return true;
                p = *end ? end + 1 : end;
        }
        return false;
}

static void add_gid(struct docker_user *u, long long gid)
{
        for (size_t i = 0; i < u->n_gids; i++)
                if (u->gids[i] == (gid_t)gid)
                        return;
        u->gids = xrealloc(u->gids, (u->n_gids + 1) * sizeof(gid_t));
        u->gids[u->n_gids++] = (gid_t)gid;
}

/* The first passwd line for the user: by uid when user is numeric (or ""
 * for uid 0), else by name.  Sets *found. */
static void find_passwd(const char *text, const char *user, struct docker_user *u, char **name, bool *found)
{
        _cleanup_free_ char *copy = text ? xstrdup(text) : NULL;
        long long want = user[0] ? parse_id(user) : 0;
        char *cursor = copy, *line;
        struct passwd_ent e;

        *found = false;
        while ((line = next_line(&cursor))) {
                if (!passwd_parse(line, &e))
                        continue;
                if (want >= 0 ? e.uid != want : strcmp(e.name, user) != 0)
                        continue;
                u->uid = (uid_t)e.uid;
                u->gid = (gid_t)e.gid;
                free(u->home);
                u->home = xstrdup(e.home);
                *name = xstrdup(e.name);
                *found = true;
                return;
        }
}

/* The gid of the first group line matching group (numeric: by gid, else
 * by name); -1 when none does. */
static long long find_group(const char *text, const char *group)
{
        _cleanup_free_ char *copy = text ? xstrdup(text) : NULL;
        long long want = parse_id(group);
        char *cursor = copy, *line;
        struct group_ent e;

        while ((line = next_line(&cursor))) {
                if (!group_parse(line, &e))
                        continue;
                if (want >= 0 ? e.gid == want : strcmp(e.name, group) == 0)
                        return e.gid;
        }
        return -1;
}

static void add_member_groups(const char *text, const char *user, struct docker_user *u)
{
        _cleanup_free_ char *copy = text ? xstrdup(text) : NULL;
        char *cursor = copy, *line;
        struct group_ent e;

        while ((line = next_line(&cursor)))
                if (group_parse(line, &e) && group_has_member(&e, user))
                        add_gid(u, e.gid);
}

static int resolve_user(const char *passwd, const char *user, struct docker_user *u, char **name,
                        berth_error_t **err)
{
        bool found;

        find_passwd(passwd, user, u, name, &found);
        if (found || user[0] == '\0')
                return 0;
        if (parse_id(user) < 0) {
                _cleanup_free_ char *q = printable(user);
                if (all_digits(user))
                        return berth_error(err, 0, "user %s: uids and gids must be in range 0-%lld", q, ID_MAX);
                return berth_error(err, 0, "unable to find user %s: no matching entries in passwd file", q);
        }
        u->uid = (uid_t)parse_id(user);
        return 0;
}

static int resolve_group(const char *group_text, const char *group, gid_t *gid, berth_error_t **err)
{
        long long g = find_group(group_text, group);

        if (g < 0)
                g = parse_id(group);
        if (g < 0) {
                _cleanup_free_ char *q = printable(group);
                if (all_digits(group))
                        return berth_error(err, 0, "group %s: uids and gids must be in range 0-%lld", q, ID_MAX);
                return berth_error(err, 0, "unable to find group %s: no matching entries in group file", q);
        }
        *gid = (gid_t)g;
        return 0;
}

static int resolve(int rootfd, const char *spec, const char *const *group_add, struct docker_user *u,
                   berth_error_t **err)
{
        _cleanup_free_ char *passwd = NULL, *group = NULL, *user = xstrdup(spec), *name = NULL;
        char *colon = strchr(user, ':');
        const char *grp = NULL;
        int ret;

        if (colon) {
                *colon = '\0';
                grp = colon + 1;
                if (strchr(grp, ':')) {
                        _cleanup_free_ char *q = printable(spec);
                        return berth_error(err, 0, "invalid user %s: want user[:group]", q);
                }
        }
        if ((ret = read_etc_file(rootfd, "/etc/passwd", &passwd, err)) < 0 ||
            (ret = read_etc_file(rootfd, "/etc/group", &group, err)) < 0)
                return ret;
        if ((ret = resolve_user(passwd, user, u, &name, err)) < 0)
                return ret;
        if (grp && grp[0] && (ret = resolve_group(group, grp, &u->gid, err)) < 0)
                return ret;
        add_gid(u, u->gid);
        if ((!grp || !grp[0]) && name)
                add_member_groups(group, name, u);
        for (size_t i = 0; group_add && group_add[i]; i++) {
                gid_t g;
                if ((ret = resolve_group(group, group_add[i], &g, err)) < 0)
                        return ret;
                add_gid(u, g);
        }
        return 0;
}

int docker_user_resolve(const char *rootfs, const char *spec, const char *const *group_add, struct docker_user *out,
                        berth_error_t **err)
{
        _cleanup_close_ int rootfd = -1;
        struct docker_user u = { .home = xstrdup("/") };
        int ret;

        if (rootfs && (rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
                docker_user_clear(&u);
                return berth_error(err, errno, "open rootfs %s", rootfs);
        }
        if ((ret = resolve(rootfd, spec ? spec : "", group_add, &u, err)) < 0) {
                docker_user_clear(&u);
                return ret;
        }
        *out = u;
        return 0;
}

void docker_user_clear(struct docker_user *u)
{
        free(u->gids);
        free(u->home);
        memset(u, 0, sizeof(*u));
}
