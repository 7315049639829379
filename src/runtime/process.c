#include "runtime/process.h"
#include "oci/capabilities.h"
#include "oci/config.h"
#include "util/util.h"
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <limits.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>

int process_apply_rlimits(json_t *process, berth_error_t **err)
{
        json_t *r;
        size_t i;

        json_array_foreach(json_object_get(process, "rlimits"), i, r) {
                const char *type = json_path_str(r, "", "type", NULL);
                struct rlimit lim = {
                        .rlim_cur = (rlim_t)json_integer_value(json_object_get(r, "soft")),
                        .rlim_max = (rlim_t)json_integer_value(json_object_get(r, "hard")),
                };
                int resource = oci_rlimit_parse(type);

                if (resource < 0)
                        return berth_error(err, 0, "unknown rlimit \"%s\"", type);
                if (setrlimit(resource, &lim) < 0) {
                        int e = errno;
                        struct rlimit cur;
                        getrlimit(resource, &cur);
                        if (e == EPERM)
                                return berth_error(err, e, "setrlimit %s (soft %llu, hard %llu): the hard limit "
                                                   "may not be raised above %llu without CAP_SYS_RESOURCE",
                                                   type, (unsigned long long)lim.rlim_cur,
                                                   (unsigned long long)lim.rlim_max,
                                                   (unsigned long long)cur.rlim_max);
                        return berth_error(err, e, "setrlimit %s (soft %llu, hard %llu)", type,
                                           (unsigned long long)lim.rlim_cur, (unsigned long long)lim.rlim_max);
                }
        }
        return 0;
}

/* The capability numbers listed in one set of process.capabilities. */
static uint64_t capability_mask(json_t *caps, const char *set)
{
        uint64_t mask = 0;
        json_t *v;
        size_t i;

        json_array_foreach(json_object_get(caps, set), i, v) {
                int c = capability_parse(json_string_value(v));
                if (c >= 0 && c < 64)
                        mask |= 1ULL << c;
        }
        return mask;
}

static int drop_bounding(uint64_t keep, berth_error_t **err)
{
        int last = capability_last();

        for (int c = 0; c <= last; c++) {
                if (keep & (1ULL << c))
                        continue;
                if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
                        return berth_error(err, errno, "drop %s from the bounding set", capability_name(c));
        }
        return 0;
}

static int set_cap_sets(uint64_t eff, uint64_t perm, uint64_t inh, berth_error_t **err)
{
        cap_t caps = cap_init();
        int last = capability_last(), ret = 0;

        for (int c = 0; c <= last && c < 64; c++) {
                cap_value_t v = c;
                if (eff & (1ULL << c))
                        cap_set_flag(caps, CAP_EFFECTIVE, 1, &v, CAP_SET);
                if (perm & (1ULL << c))
                        cap_set_flag(caps, CAP_PERMITTED, 1, &v, CAP_SET);
                if (inh & (1ULL << c))
                        cap_set_flag(caps, CAP_INHERITABLE, 1, &v, CAP_SET);
        }
        if (cap_set_proc(caps) < 0)
                ret = berth_error(err, errno, "apply capabilities");
        cap_free(caps);
        return ret;
}

static int set_ambient(uint64_t amb, berth_error_t **err)
{
        int last = capability_last();

        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                return berth_error(err, errno, "clear ambient capabilities");
        for (int c = 0; c <= last && c < 64; c++)
                if ((amb & (1ULL << c)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
                        return berth_error(err, errno, "raise ambient capability %s", capability_name(c));
        return 0;
}

/* setgroups is refused in a user namespace whose setgroups file says deny. */
static bool setgroups_allowed(void)
{
        char buf[16] = "";
        int fd = open("/proc/self/setgroups", O_RDONLY | O_CLOEXEC);

        if (fd < 0)
                return true;
        (void)!read(fd, buf, sizeof(buf) - 1);
        close(fd);
        return strncmp(buf, "deny", 4) != 0;
}

static int set_ids(json_t *user, berth_error_t **err)
{
        uid_t uid = (uid_t)json_integer_value(json_object_get(user, "uid"));
        gid_t gid = (gid_t)json_integer_value(json_object_get(user, "gid"));
        json_t *extra = json_object_get(user, "additionalGids"), *v;
        size_t n = json_array_size(extra), i;
        _cleanup_free_ gid_t *groups = xcalloc(n + 1, sizeof(gid_t));

        json_array_foreach(extra, i, v)
                groups[i] = (gid_t)json_integer_value(v);
        if (setgroups_allowed() && setgroups(n, groups) < 0)
                return berth_error(err, errno, "setgroups");
        if (setresgid(gid, gid, gid) < 0)
                return berth_error(err, errno, "setgid %u", gid);
        if (setresuid(uid, uid, uid) < 0)
                return berth_error(err, errno, "setuid %u", uid);
        return 0;
}

int process_apply_user_caps(json_t *process, berth_error_t **err)
{
        json_t *caps = json_object_get(process, "capabilities");
        json_t *user = json_object_get(process, "user");
        json_t *umask_v = json_object_get(user, "umask");
        int ret;

        umask(json_is_integer(umask_v) ? (mode_t)json_integer_value(umask_v) : 022);
        if (caps && (ret = drop_bounding(capability_mask(caps, "bounding"), err)) < 0)
                return ret;
        /* keep the permitted set across the uid switch, then set it exactly */
        if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
                return berth_error(err, errno, "prctl PR_SET_KEEPCAPS");
        if ((ret = set_ids(user, err)) < 0)
                return ret;
        if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
                return berth_error(err, errno, "prctl PR_SET_KEEPCAPS");
        if (caps == NULL)
                return 0;
        if ((ret = set_cap_sets(capability_mask(caps, "effective"), capability_mask(caps, "permitted"),
                                capability_mask(caps, "inheritable"), err)) < 0)
                return ret;
        /* the kernel keeps ambient within permitted and inheritable; runc's own
         * default spec lists ambient caps without inheritable ones, and runc
         * ignores those, so do the same */
        return set_ambient(capability_mask(caps, "ambient") & capability_mask(caps, "permitted") &
                                   capability_mask(caps, "inheritable"), err);
}

int process_apply_no_new_privs(json_t *process, berth_error_t **err)
{
        if (json_is_true(json_object_get(process, "noNewPrivileges")) &&
            prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return berth_error(err, errno, "prctl PR_SET_NO_NEW_PRIVS");
        return 0;
}

int process_chdir(json_t *process, berth_error_t **err)
{
        const char *cwd = json_path_str(process, "/", "cwd", NULL);

        char buf[PATH_MAX];

        if (chdir(cwd) < 0)
                return berth_error(err, errno, "chdir to cwd (\"%s\") set in config.json failed", cwd);
        /* CVE-2024-21626: a cwd reached through a leaked fd (/proc/self/fd/N)
         * lies outside the root, which getcwd reports as unreachable */
        if (getcwd(buf, sizeof(buf)) == NULL || buf[0] != '/')
                return berth_error(err, 0, "cwd (\"%s\") is outside the container", cwd);
        return 0;
}

static char **strv_from_json(json_t *arr)
{
        size_t n = json_array_size(arr), i;
        char **v = xcalloc(n + 1, sizeof(char *));
        json_t *s;

        json_array_foreach(arr, i, s)
                v[i] = xstrdup(json_is_string(s) ? json_string_value(s) : "");
        return v;
}

char **process_argv(json_t *process) { return strv_from_json(json_object_get(process, "args")); }
char **process_envp(json_t *process) { return strv_from_json(json_object_get(process, "env")); }

static const char *process_path_env(json_t *process)
{
        json_t *v;
        size_t i;

        json_array_foreach(json_object_get(process, "env"), i, v)
                if (json_is_string(v) && str_has_prefix(json_string_value(v), "PATH="))
                        return json_string_value(v) + 5;
        return "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
}

static int check_executable(const char *prog, const char *path, berth_error_t **err)
{
        struct stat st;

        if (stat(path, &st) < 0)
                return berth_error(err, errno, "exec: \"%s\": stat %s", prog, path);
        if (S_ISDIR(st.st_mode))
                return berth_error(err, EACCES, "exec: \"%s\": %s is a directory", prog, path);
        if (access(path, X_OK) < 0)
                return berth_error(err, errno, "exec: \"%s\"", prog);
        return 0;
}

int process_find_program(json_t *process, char **out, berth_error_t **err)
{
        const char *prog = json_string_value(json_array_get(json_object_get(process, "args"), 0));
        _cleanup_free_ char *dirs = NULL;
        char *save = NULL;
        int ret;

        if (prog == NULL || *prog == '\0')
                return berth_error(err, 0, "process.args[0] is empty");
        if (strchr(prog, '/')) {
                if ((ret = check_executable(prog, prog, err)) < 0)
                        return ret;
                *out = xstrdup(prog);
                return 0;
        }
        dirs = xstrdup(process_path_env(process));
        for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
                _cleanup_free_ char *cand = xasprintf("%s/%s", *d ? d : ".", prog);
                struct stat st;
                if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0) {
                        *out = steal_pointer(&cand);
                        return 0;
                }
        }
        return berth_error(err, 0, "exec: \"%s\": executable file not found in $PATH", prog);
}

int process_set_oom_score_adj(pid_t pid, json_t *process, berth_error_t **err)
{
        json_t *v = json_object_get(process, "oomScoreAdj");
        char path[64], value[32];
        int ret;
        _cleanup_error_ berth_error_t *inner = NULL;

        if (!json_is_integer(v))
                return 0;
        snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int)pid);
        snprintf(value, sizeof(value), "%lld", (long long)json_integer_value(v));
        ret = write_file(path, value, strlen(value), &inner);
        if (ret < 0)
                return berth_error(err, inner->status, "set oomScoreAdj %s%s", value,
                                   inner->status == EACCES || inner->status == EPERM
                                           ? " (lowering it needs CAP_SYS_RESOURCE)" : "");
        return 0;
}

static int cmp_int(const void *a, const void *b)
{
        return *(const int *)a - *(const int *)b;
}

int process_close_fds_except(int from, int *keep, size_t n, berth_error_t **err)
{
        unsigned int next = (unsigned)from;

        qsort(keep, n, sizeof(int), cmp_int);
        for (size_t i = 0; i < n; i++) {
                if (keep[i] < from)
                        continue;
                if ((unsigned)keep[i] > next && syscall(SYS_close_range, next, (unsigned)keep[i] - 1, 0) < 0)
                        return berth_error(err, errno, "close_range");
                next = (unsigned)keep[i] + 1;
        }
        if (syscall(SYS_close_range, next, ~0U, 0) < 0)
                return berth_error(err, errno, "close_range");
        return 0;
}

int process_cloexec_from(int from, berth_error_t **err)
{
        if (syscall(SYS_close_range, (unsigned)from, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
                return berth_error(err, errno, "close_range");
        return 0;
}
