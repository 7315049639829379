/* The cgroup module against the real kernel: needs root, creates only its
 * own cgroups (berth-unittest-<pid>...) and removes them in teardown even
 * when a test fails.  Expected values are read back from the files
 * directly, not through the module. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>

#include "runtime/cgroup.h"
#include "runtime/cgroup-internal.h"
#include "util/util.h"

#define MiB (1024LL * 1024)

struct fixture {
        char *path;     /* the cgroup under test */
        char *parent;   /* set when path is nested: removed too */
        pid_t child;
        int go[2], done[2];
        struct cgroup *cg;
};

/* cg_root() of the module itself is what the tests check against */

/* ---- independent views of the host, for checking ---- */

static bool is_cgroup_fs(const char *dir)
{
        struct statfs sfs;

        return statfs(dir, &sfs) == 0 &&
               (sfs.f_type == CGROUP_SUPER_MAGIC || sfs.f_type == CGROUP2_SUPER_MAGIC);
}

/* Count hierarchies under the root (or the root itself on v2) where rel
 * exists. */
static void count_dirs(const char *rel, int *present, int *total)
{
        DIR *d;
        struct dirent *de;

        *present = *total = 0;
        if (is_cgroup_fs(cg_root())) {
                _cleanup_free_ char *p = xasprintf("%s%s", cg_root(), rel);
                *total = 1;
                *present = access(p, F_OK) == 0;
                return;
        }
        d = opendir(cg_root());
        assert_non_null(d);
        while ((de = readdir(d)) != NULL) {
                _cleanup_free_ char *mnt = xasprintf("%s/%s", cg_root(), de->d_name);
                _cleanup_free_ char *p = xasprintf("%s%s", mnt, rel);
                struct stat st;

                if (de->d_name[0] == '.' || lstat(mnt, &st) < 0 || !S_ISDIR(st.st_mode) || !is_cgroup_fs(mnt))
                        continue;
                (*total)++;
                *present += access(p, F_OK) == 0;
        }
        closedir(d);
}

/* Path of a knob in the v1 hierarchy mounted at <root>/<hier>, or in the
 * v2 root. */
static char *knob(const char *hier, const char *rel, const char *file)
{
        if (cgroup_mode() == CGROUP_MODE_V2)
                return xasprintf("%s%s/%s", cg_root(), rel, file);
        return xasprintf("%s/%s%s/%s", cg_root(), hier, rel, file);
}

static char *read_knob(const char *hier, const char *rel, const char *file)
{
        _cleanup_free_ char *p = knob(hier, rel, file);
        _cleanup_error_ berth_error_t *err = NULL;
        char *buf = NULL;
        size_t len;

        if (read_file(p, &buf, &len, &err) < 0)
                fail_msg("%s", err->msg);
        while (len > 0 && buf[len - 1] == '\n')
                buf[--len] = '\0';
        return buf;
}

static void assert_knob(const char *hier, const char *rel, const char *file, const char *want)
{
        _cleanup_free_ char *got = read_knob(hier, rel, file);

        if (strcmp(got, want) != 0)
                fail_msg("%s/%s: got \"%s\", want \"%s\"", hier, file, got, want);
}

static bool v1(void) { return cgroup_mode() != CGROUP_MODE_V2; }

static json_t *json(const char *text)
{
        json_error_t jerr;
        json_t *j = json_loads(text, 0, &jerr);

        if (j == NULL)
                fail_msg("bad test JSON: %s", jerr.text);
        return j;
}

static int apply(struct cgroup *cg, const char *text, berth_error_t **err)
{
        json_t *j = json(text);
        int ret = cgroup_apply_resources(cg, j, err);

        json_decref(j);
        return ret;
}

/* ---- a child process to put in the cgroup ---- */

/* Waits to be let go (after it joined the cgroup), then burns a little
 * CPU and memory so the stats have something to show, and sleeps. */
static void child_main(int go, int done)
{
        struct timespec t0, t;
        char c, *mem;

        if (read(go, &c, 1) != 1)
                _exit(1);
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
        do
                clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
        while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) < 20000000L);
        mem = malloc(4 * MiB);
        if (mem)
                memset(mem, 1, 4 * MiB);
        if (write(done, "x", 1) != 1)
                _exit(1);
        for (;;)
                pause();
}

static void start_child(struct fixture *f)
{
        assert_int_equal(pipe2(f->go, O_CLOEXEC), 0);
        assert_int_equal(pipe2(f->done, O_CLOEXEC), 0);
        f->child = fork();
        assert_true(f->child >= 0);
        if (f->child == 0)
                child_main(f->go[0], f->done[1]);
}

static void release_child(struct fixture *f)
{
        char c;

        assert_int_equal(write(f->go[1], "x", 1), 1);
        assert_int_equal(read(f->done[0], &c, 1), 1);
}

/* ---- setup / teardown ---- */

static int setup(void **state)
{
        struct fixture *f = xcalloc(1, sizeof(*f));

        f->go[0] = f->go[1] = f->done[0] = f->done[1] = -1;
        f->path = xasprintf("/berth-unittest-%d", (int)getpid());
        *state = f;
        return 0;
}

static int setup_nested(void **state)
{
        struct fixture *f;

        setup(state);
        f = *state;
        f->parent = f->path;
        f->path = xasprintf("%s/ctr", f->parent);
        return 0;
}

static void remove_cgroup(const char *path)
{
        struct cgroup *cg = cgroup_open(path);
        berth_error_t *err = NULL;

        if (cgroup_is_frozen(cg))
                cgroup_freeze(cg, false, NULL); /* a frozen task cannot die */
        if (cgroup_destroy(cg, &err) < 0)
                print_error("teardown: %s\n", err->msg);
        berth_error_free(&err);
        cgroup_free(cg);
}

static int teardown(void **state)
{
        struct fixture *f = *state;

        if (f->cg && cgroup_is_frozen(f->cg))
                cgroup_freeze(f->cg, false, NULL);
        if (f->child > 0) {
                kill(f->child, SIGKILL);
                waitpid(f->child, NULL, 0);
        }
        cgroup_free(f->cg);
        remove_cgroup(f->path);
        if (f->parent)
                remove_cgroup(f->parent);
        for (int i = 0; i < 2; i++) {
                if (f->go[i] >= 0)
                        close(f->go[i]);
                if (f->done[i] >= 0)
                        close(f->done[i]);
        }
        free(f->path);
        free(f->parent);
        free(f);
        return 0;
}

#define NEED_ROOT()                                                        \
        do {                                                               \
                if (geteuid() != 0) {                                      \
                        print_message("skipping: cgroup tests need root\n"); \
                        skip();                                            \
                }                                                          \
        } while (0)

/* ---- tests that need no cgroup ---- */

static void resolve_paths(void **state)
{
        (void)state;
        struct { const char *in, *id, *want; } cases[] = {
                { NULL, "abc", "/berth/abc" },
                { "", "abc", "/berth/abc" },
                { "/pod/x", "abc", "/pod/x" },
                { "mine", "abc", "/berth/mine" },
                { "//a/./b/", "abc", "/a/b" },
                { "/../../etc", "abc", "/etc" },
                { "a/../../../x", "abc", "/x" },
        };

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                _cleanup_free_ char *got = cgroup_resolve_path(cases[i].in, cases[i].id);
                assert_string_equal(got, cases[i].want);
        }
}

static void mode_matches_statfs(void **state)
{
        (void)state;
        _cleanup_free_ char *unified = xasprintf("%s/unified", cg_root());
        struct statfs sfs;
        enum cgroup_mode want = CGROUP_MODE_V1;

        assert_int_equal(statfs(cg_root(), &sfs), 0);
        if (sfs.f_type == CGROUP2_SUPER_MAGIC)
                want = CGROUP_MODE_V2;
        else if (sfs.f_type == TMPFS_MAGIC && is_cgroup_fs(unified) &&
                 statfs(unified, &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC)
                want = CGROUP_MODE_HYBRID;
        assert_int_equal(cgroup_mode(), want);
        assert_int_equal(cgroup_mode(), want); /* cached, same answer */
}

/* ---- the whole life of a cgroup ---- */

static void check_limits_on_disk(const char *rel)
{
        if (v1()) {
                assert_knob("memory", rel, "memory.limit_in_bytes", "67108864");
                assert_knob("pids", rel, "pids.max", "10");
                assert_knob("cpu", rel, "cpu.shares", "512");
                assert_knob("cpu", rel, "cpu.cfs_quota_us", "50000");
                assert_knob("cpu", rel, "cpu.cfs_period_us", "100000");
        } else {
                assert_knob(NULL, rel, "memory.max", "67108864");
                assert_knob(NULL, rel, "pids.max", "10");
                assert_knob(NULL, rel, "cpu.weight", "20"); /* 1 + (510 * 9999) / 262142 */
                assert_knob(NULL, rel, "cpu.max", "50000 100000");
        }
}

static bool pid_listed(struct cgroup *cg, pid_t pid)
{
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ pid_t *pids = NULL;
        int n = cgroup_pids(cg, &pids, &err);

        if (n < 0)
                fail_msg("cgroup_pids: %s", err->msg);
        for (int i = 0; i < n; i++)
                if (pids[i] == pid)
                        return true;
        return false;
}

static void check_freeze(struct fixture *f)
{
        _cleanup_error_ berth_error_t *err = NULL;

        assert_false(cgroup_is_frozen(f->cg));
        if (cgroup_freeze(f->cg, true, &err) < 0)
                fail_msg("freeze: %s", err->msg);
        assert_true(cgroup_is_frozen(f->cg));
        if (v1())
                assert_knob("freezer", f->path, "freezer.state", "FROZEN");
        if (cgroup_freeze(f->cg, false, &err) < 0)
                fail_msg("thaw: %s", err->msg);
        assert_false(cgroup_is_frozen(f->cg));
        if (v1())
                assert_knob("freezer", f->path, "freezer.state", "THAWED");
}

static void check_stats(struct fixture *f)
{
        _cleanup_error_ berth_error_t *err = NULL;
        struct cgroup_stats st;

        if (cgroup_stats(f->cg, &st, &err) < 0)
                fail_msg("stats: %s", err->msg);
        assert_true(st.memory_usage > 0);
        assert_true(st.memory_peak >= st.memory_usage || st.memory_peak == 0);
        assert_int_equal(st.memory_limit, 64 * MiB);
        assert_true(st.cpu_usage_ns >= 10000000); /* the child burnt 20 ms */
        assert_int_equal(st.pids_current, 1);
        assert_int_equal(st.pids_limit, 10);
}

static void lifecycle(void **state)
{
        struct fixture *f = *state;
        _cleanup_error_ berth_error_t *err = NULL;
        int present, total;

        NEED_ROOT();
        if (cgroup_create(f->path, &f->cg, &err) < 0)
                fail_msg("create: %s", err->msg);
        assert_string_equal(cgroup_path(f->cg), f->path);
        count_dirs(f->path, &present, &total);
        assert_true(total > 0);
        assert_int_equal(present, total);

        if (apply(f->cg, "{\"memory\":{\"limit\":67108864},\"pids\":{\"limit\":10},"
                         "\"cpu\":{\"shares\":512,\"quota\":50000,\"period\":100000}}", &err) < 0)
                fail_msg("apply: %s", err->msg);
        check_limits_on_disk(f->path);

        start_child(f);
        if (cgroup_enter(f->cg, f->child, &err) < 0)
                fail_msg("enter: %s", err->msg);
        release_child(f);
        assert_true(pid_listed(f->cg, f->child));
        check_freeze(f);
        check_stats(f);

        /* live update */
        if (apply(f->cg, "{\"memory\":{\"limit\":134217728},\"pids\":{\"limit\":-1}}", &err) < 0)
                fail_msg("update: %s", err->msg);
        assert_knob(v1() ? "memory" : NULL, f->path, v1() ? "memory.limit_in_bytes" : "memory.max", "134217728");
        assert_knob(v1() ? "pids" : NULL, f->path, "pids.max", "max");

        /* destroy with the task still inside fails after the retries... */
        assert_true(cgroup_destroy(f->cg, &err) < 0);
        assert_non_null(strstr(err->msg, "rmdir"));
        /* ...and succeeds once it is gone */
        kill(f->child, SIGKILL);
        waitpid(f->child, NULL, 0);
        f->child = 0;
        berth_error_free(&err);
        if (cgroup_destroy(f->cg, &err) < 0)
                fail_msg("destroy: %s", err->msg);
        count_dirs(f->path, &present, &total);
        assert_int_equal(present, 0);
}

/* Intermediate directories are made, a v1 cpuset child is usable at once,
 * sub-cgroups go on destroy, and destroy twice is fine. */
static void nested_and_subcgroups(void **state)
{
        struct fixture *f = *state;
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *sub = NULL;
        int present, total;

        NEED_ROOT();
        if (cgroup_create(f->path, &f->cg, &err) < 0)
                fail_msg("create: %s", err->msg);
        if (v1()) {
                _cleanup_free_ char *root_cpus = read_knob("cpuset", "", "cpuset.cpus");
                assert_knob("cpuset", f->parent, "cpuset.cpus", root_cpus);
                assert_knob("cpuset", f->path, "cpuset.cpus", root_cpus);
        }
        /* creating an existing cgroup joins it (a pod's cgroup) */
        struct cgroup *again = NULL;
        if (cgroup_create(f->path, &again, &err) < 0)
                fail_msg("create again: %s", err->msg);
        cgroup_free(again);

        /* a sibling under the now existing parent inherits from it */
        _cleanup_free_ char *sibling = xasprintf("%s/sibling", f->parent);
        if (cgroup_create(sibling, &again, &err) < 0)
                fail_msg("create sibling: %s", err->msg);
        if (v1()) {
                _cleanup_free_ char *mems = read_knob("cpuset", "", "cpuset.mems");
                assert_knob("cpuset", sibling, "cpuset.mems", mems);
        }
        if (cgroup_destroy(again, &err) < 0)
                fail_msg("destroy sibling: %s", err->msg);
        cgroup_free(again);

        start_child(f);
        if (cgroup_enter(f->cg, f->child, &err) < 0)
                fail_msg("enter (cpuset must be populated): %s", err->msg);
        release_child(f);

        /* a sub-cgroup the container made for itself, as with cgroupns */
        sub = xasprintf("%s/inner", f->path);
        struct cgroup *inner = NULL;
        if (cgroup_create(sub, &inner, &err) < 0)
                fail_msg("create inner: %s", err->msg);
        if (cgroup_enter(inner, f->child, &err) < 0)
                fail_msg("enter inner: %s", err->msg);
        cgroup_free(inner);
        assert_true(pid_listed(f->cg, f->child)); /* recursive */

        kill(f->child, SIGKILL);
        waitpid(f->child, NULL, 0);
        f->child = 0;
        if (cgroup_destroy(f->cg, &err) < 0)
                fail_msg("destroy: %s", err->msg);
        count_dirs(f->path, &present, &total);
        assert_int_equal(present, 0);
        count_dirs(f->parent, &present, &total);
        assert_int_equal(present, total); /* the parent stays: others share it */
        assert_int_equal(cgroup_destroy(f->cg, &err), 0);
}

static void create_and_expect(struct fixture *f)
{
        _cleanup_error_ berth_error_t *err = NULL;

        if (cgroup_create(f->path, &f->cg, &err) < 0)
                fail_msg("create: %s", err->msg);
}

static void expect_error(struct cgroup *cg, const char *res, const char *needle)
{
        _cleanup_error_ berth_error_t *err = NULL;

        if (apply(cg, res, &err) == 0)
                fail_msg("%s was accepted", res);
        if (strstr(err->msg, needle) == NULL)
                fail_msg("error \"%s\" does not mention \"%s\"", err->msg, needle);
}

static void invalid_values(void **state)
{
        struct fixture *f = *state;

        NEED_ROOT();
        create_and_expect(f);
        /* the kernel refuses these: the message names file and value */
        expect_error(f->cg, "{\"cpu\":{\"cpus\":\"4095\"}}", "cpuset.cpus=4095");
        expect_error(f->cg, "{\"cpu\":{\"quota\":5,\"period\":100000}}",
                     v1() ? "cpu.cfs_quota_us=5" : "cpu.max=5 100000");
        if (v1())
                expect_error(f->cg, "{\"memory\":{\"swappiness\":1000}}", "memory.swappiness=1000: Invalid argument");
        /* Berth refuses these before the kernel sees them */
        expect_error(f->cg, "{\"memory\":{\"limit\":\"64m\"}}", "linux.resources.memory.limit: expected an integer");
        expect_error(f->cg, "{\"hugepageLimits\":[{\"pageSize\":\"../x\",\"limit\":1}]}", "pageSize");
        if (v1()) /* v2 ignores devices until its BPF program exists */
                expect_error(f->cg, "{\"devices\":[{\"allow\":true,\"type\":\"q\"}]}", "devices");
        expect_error(f->cg, "{\"unified\":{\"../x\":\"1\"}}", cgroup_mode() == CGROUP_MODE_V1 ? "unified" : "bad key");
}

/* v1: limit and memsw must be written in an order the kernel accepts. */
static void swap_v1(struct fixture *f)
{
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *lim = NULL;
        /* down, then up past the old memsw (the kernel wants limit <= memsw
         * throughout), then down again */
        const char *steps[][3] = {
                { "{\"memory\":{\"limit\":67108864,\"swap\":134217728}}", "67108864", "134217728" },
                { "{\"memory\":{\"limit\":268435456,\"swap\":536870912}}", "268435456", "536870912" },
                { "{\"memory\":{\"limit\":33554432,\"swap\":33554432}}", "33554432", "33554432" },
        };

        for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
                if (apply(f->cg, steps[i][0], &err) < 0)
                        fail_msg("step %zu: %s", i, err->msg);
                assert_knob("memory", f->path, "memory.limit_in_bytes", steps[i][1]);
                assert_knob("memory", f->path, "memory.memsw.limit_in_bytes", steps[i][2]);
        }
        /* unlimited memory makes swap unlimited too */
        if (apply(f->cg, "{\"memory\":{\"limit\":-1}}", &err) < 0)
                fail_msg("unlimit: %s", err->msg);
        lim = read_knob("memory", f->path, "memory.memsw.limit_in_bytes");
        assert_true(strtoull(lim, NULL, 10) >= (1ULL << 62));
        expect_error(f->cg, "{\"memory\":{\"limit\":67108864,\"swap\":1048576}}",
                     "write memory.memsw.limit_in_bytes=1048576: Invalid argument");
}

/* v2: memory.swap.max is swap alone, OCI's swap minus the limit. */
static void swap_v2(struct fixture *f)
{
        _cleanup_error_ berth_error_t *err = NULL;
        const char *steps[][3] = {
                { "{\"memory\":{\"limit\":67108864,\"swap\":134217728}}", "67108864", "67108864" },
                { "{\"memory\":{\"limit\":33554432,\"swap\":33554432}}", "33554432", "0" },
                { "{\"memory\":{\"limit\":-1}}", "max", "max" },
        };

        for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
                if (apply(f->cg, steps[i][0], &err) < 0)
                        fail_msg("step %zu: %s", i, err->msg);
                assert_knob(NULL, f->path, "memory.max", steps[i][1]);
                assert_knob(NULL, f->path, "memory.swap.max", steps[i][2]);
        }
        expect_error(f->cg, "{\"memory\":{\"limit\":67108864,\"swap\":1048576}}", "memory.swap=1048576 is below");
}

/* Without swap accounting: "as much swap as memory" and "unlimited" are
 * accepted and skipped, a real swap limit is an error naming it. */
static void swap_unaccounted(struct fixture *f)
{
        _cleanup_error_ berth_error_t *err = NULL;

        if (apply(f->cg, "{\"memory\":{\"limit\":67108864,\"swap\":67108864}}", &err) < 0 ||
            apply(f->cg, "{\"memory\":{\"limit\":67108864,\"swap\":-1}}", &err) < 0)
                fail_msg("%s", err->msg);
        expect_error(f->cg, "{\"memory\":{\"limit\":67108864,\"swap\":134217728}}", "memory.swap=134217728");
}

static void swap_limits(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *v1_knob = NULL, *v2_knob = NULL;

        NEED_ROOT();
        create_and_expect(f);
        v1_knob = knob("memory", f->path, "memory.memsw.limit_in_bytes");
        v2_knob = knob(NULL, f->path, "memory.swap.max");
        if (v1() && access(v1_knob, F_OK) == 0)
                swap_v1(f);
        else if (!v1() && access(v2_knob, F_OK) == 0)
                swap_v2(f);
        else
                swap_unaccounted(f);
}

static void devices_and_hugetlb(void **state)
{
        struct fixture *f = *state;
        _cleanup_error_ berth_error_t *err = NULL;

        NEED_ROOT();
        create_and_expect(f);
        if (apply(f->cg, "{\"devices\":[{\"allow\":false,\"access\":\"rwm\"},"
                         "{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":3,\"access\":\"rwm\"},"
                         "{\"allow\":true,\"type\":\"c\",\"major\":136,\"access\":\"rw\"}]}", &err) < 0)
                fail_msg("devices: %s", err->msg);
        if (v1())
                assert_knob("devices", f->path, "devices.list", "c 1:3 rwm\nc 136:* rw");

        _cleanup_free_ char *huge = xasprintf(cgroup_mode() == CGROUP_MODE_HYBRID ? "%s/unified%s/hugetlb.2MB.max"
                                              : cgroup_mode() == CGROUP_MODE_V2 ? "%s%s/hugetlb.2MB.max"
                                              : "%s/hugetlb%s/hugetlb.2MB.limit_in_bytes", cg_root(), f->path);
        if (access(huge, F_OK) < 0) {
                print_message("no hugetlb 2MB knob here (%s): hugetlb part not checked\n", huge);
                return;
        }
        if (apply(f->cg, "{\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":4194304}]}", &err) < 0)
                fail_msg("hugetlb: %s", err->msg);
        _cleanup_free_ char *got = NULL;
        assert_int_equal(read_file(huge, &got, NULL, &err), 0);
        assert_string_equal(got, "4194304\n");
}

static void missing_cgroup(void **state)
{
        struct fixture *f = *state;
        _cleanup_error_ berth_error_t *err = NULL;
        struct cgroup_stats st;

        NEED_ROOT();
        f->cg = cgroup_open(f->path); /* never created */
        assert_non_null(f->cg);
        assert_true(cgroup_stats(f->cg, &st, &err) < 0);
        assert_non_null(strstr(err->msg, f->path));
        berth_error_free(&err);
        assert_int_equal(cgroup_destroy(f->cg, &err), 0);
        assert_int_equal(cgroup_apply_resources(f->cg, NULL, &err), 0);
}

/* cgroup_unified_dir_fd, for CLONE_INTO_CGROUP: the cgroup2 directory on
 * a pure v2 host only.  On hybrid the cgroup2 directory exists too, but
 * spawning into it alone would skip the v1 hierarchies: -1. */
static void check_unified_dir_fd(struct fixture *f, int fd)
{
        _cleanup_free_ char *dir = xasprintf("%s%s", cg_root(), f->path);
        struct stat want, got;
        struct statfs sfs;

        assert_true(fd >= 0);
        assert_int_equal(fstat(fd, &got), 0);
        assert_int_equal(stat(dir, &want), 0);
        assert_true(S_ISDIR(got.st_mode));
        assert_true(got.st_dev == want.st_dev && got.st_ino == want.st_ino);
        assert_int_equal(fstatfs(fd, &sfs), 0);
        assert_true(sfs.f_type == CGROUP2_SUPER_MAGIC);
        assert_int_equal(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDONLY);
        assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
        assert_int_equal(cgroup_unified_dir_fd(f->cg), fd); /* owned: the same fd */
}

static void unified_dir_fd(void **state)
{
        struct fixture *f = *state;
        _cleanup_error_ berth_error_t *err = NULL;
        struct cgroup *missing;

        NEED_ROOT();
        missing = cgroup_open(f->path); /* not created yet */
        assert_int_equal(cgroup_unified_dir_fd(missing), -1);
        cgroup_free(missing);
        if (cgroup_create(f->path, &f->cg, &err) < 0)
                fail_msg("create: %s", err->msg);
        if (cgroup_mode() == CGROUP_MODE_V2) {
                check_unified_dir_fd(f, cgroup_unified_dir_fd(f->cg));
                return;
        }
        if (cgroup_mode() == CGROUP_MODE_HYBRID) {
                _cleanup_free_ char *dir = xasprintf("%s/unified%s", cg_root(), f->path);
                assert_int_equal(access(dir, F_OK), 0); /* there, yet not offered */
        }
        assert_int_equal(cgroup_unified_dir_fd(f->cg), -1);
}

/* The v2 device program, attached to a cgroup2 directory of this host's
 * unified hierarchy (any cgroup2 directory takes BPF_CGROUP_DEVICE): a
 * process inside may open what the rules allow and nothing else, and a
 * second program replaces the first. */
static int open_in_cgroup(const char *procs, const char *dev)
{
        pid_t pid = fork();
        int status;

        if (pid == 0) {
                char buf[32];
                int fd = open(procs, O_WRONLY);
                int n = snprintf(buf, sizeof(buf), "%d", (int)getpid());
                if (fd < 0 || write(fd, buf, (size_t)n) != n)
                        _exit(2);
                close(fd);
                _exit(open(dev, O_WRONLY) >= 0 ? 0 : errno == EPERM ? 1 : 3);
        }
        waitpid(pid, &status, 0);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 4;
}

static void v2_device_program(void **state)
{
        (void)state;
        const char *dir = "/sys/fs/cgroup/unified/berth-unittest-bpf";
        struct cg_resources r;
        berth_error_t *err = NULL;
        struct statfs sfs;
        int fd;

        if (statfs("/sys/fs/cgroup/unified", &sfs) < 0 || sfs.f_type != CGROUP2_SUPER_MAGIC) {
                print_message("skip: no cgroup2 hierarchy at /sys/fs/cgroup/unified\n");
                skip();
        }
        assert_true(mkdir(dir, 0755) == 0 || errno == EEXIST);
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        memset(&r, 0, sizeof(r));
        r.devices = json_loads("[{\"allow\":false,\"access\":\"rwm\"},"
                               "{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":3,\"access\":\"rw\"}]", 0, NULL);
        assert_int_equal(cg_v2_devices(fd, &r, &err), 0);
        assert_int_equal(open_in_cgroup("/sys/fs/cgroup/unified/berth-unittest-bpf/cgroup.procs", "/dev/null"), 0);
        assert_int_equal(open_in_cgroup("/sys/fs/cgroup/unified/berth-unittest-bpf/cgroup.procs", "/dev/full"), 1);
        json_decref(r.devices);
        r.devices = json_loads("[{\"allow\":true,\"access\":\"rwm\"}]", 0, NULL);
        assert_int_equal(cg_v2_devices(fd, &r, &err), 0);
        assert_int_equal(open_in_cgroup("/sys/fs/cgroup/unified/berth-unittest-bpf/cgroup.procs", "/dev/full"), 0);
        json_decref(r.devices);
        close(fd);
        for (int i = 0; i < 100 && rmdir(dir) < 0 && errno == EBUSY; i++)
                usleep(10000);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(resolve_paths),
                cmocka_unit_test(mode_matches_statfs),
                cmocka_unit_test_setup_teardown(lifecycle, setup, teardown),
                cmocka_unit_test_setup_teardown(nested_and_subcgroups, setup_nested, teardown),
                cmocka_unit_test_setup_teardown(invalid_values, setup, teardown),
                cmocka_unit_test_setup_teardown(swap_limits, setup, teardown),
                cmocka_unit_test_setup_teardown(devices_and_hugetlb, setup, teardown),
                cmocka_unit_test_setup_teardown(missing_cgroup, setup, teardown),
                cmocka_unit_test_setup_teardown(unified_dir_fd, setup, teardown),
                cmocka_unit_test(v2_device_program),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
