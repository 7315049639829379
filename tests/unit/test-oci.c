/* Unit tests for src/oci: the default spec, the features document, signal
 * names and capability names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "oci/capabilities.h"
#include "oci/features.h"
#include "oci/signals.h"
#include "oci/spec.h"
#include "util/util.h"

static void json_decref_p(json_t **j) { json_decref(*j); }
#define _cleanup_json_ __attribute__((cleanup(json_decref_p)))

/* The value at a dotted path of object keys, borrowed. */
static json_t *at(json_t *root, const char *path)
{
        _cleanup_free_ char *copy = xstrdup(path);
        char *save = NULL;

        for (char *k = strtok_r(copy, ".", &save); k && root; k = strtok_r(NULL, ".", &save))
                root = json_object_get(root, k);
        return root;
}

static bool array_has(json_t *array, const char *s)
{
        size_t i;
        json_t *v;

        json_array_foreach(array, i, v)
                if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
                        return true;
        return false;
}

static bool has_namespace(json_t *spec, const char *type)
{
        size_t i;
        json_t *ns;

        json_array_foreach(at(spec, "linux.namespaces"), i, ns)
                if (strcmp(json_string_value(json_object_get(ns, "type")), type) == 0)
                        return true;
        return false;
}

static json_t *find_mount(json_t *spec, const char *dest)
{
        size_t i;
        json_t *m;

        json_array_foreach(json_object_get(spec, "mounts"), i, m)
                if (strcmp(json_string_value(json_object_get(m, "destination")), dest) == 0)
                        return m;
        return NULL;
}

static void spec_default_values(void **state)
{
        (void)state;
        _cleanup_json_ json_t *spec = oci_default_spec(false);
        json_t *caps, *rl;

        assert_non_null(spec);
        assert_string_equal(json_string_value(at(spec, "ociVersion")), "1.0.2-dev");
        assert_true(json_is_true(at(spec, "process.terminal")));
        assert_int_equal(json_integer_value(at(spec, "process.user.uid")), 0);
        assert_string_equal(json_string_value(json_array_get(at(spec, "process.args"), 0)), "sh");
        assert_int_equal(json_array_size(at(spec, "process.env")), 2);
        assert_true(array_has(at(spec, "process.env"), "TERM=xterm"));
        assert_string_equal(json_string_value(at(spec, "process.cwd")), "/");
        caps = at(spec, "process.capabilities");
        assert_int_equal(json_object_size(caps), 4);
        assert_true(array_has(json_object_get(caps, "ambient"), "CAP_NET_BIND_SERVICE"));
        assert_null(json_object_get(caps, "inheritable"));
        rl = json_array_get(at(spec, "process.rlimits"), 0);
        assert_string_equal(json_string_value(json_object_get(rl, "type")), "RLIMIT_NOFILE");
        assert_int_equal(json_integer_value(json_object_get(rl, "hard")), 1024);
        assert_true(json_is_true(at(spec, "process.noNewPrivileges")));
        assert_string_equal(json_string_value(at(spec, "root.path")), "rootfs");
        assert_true(json_is_true(at(spec, "root.readonly")));
        assert_string_equal(json_string_value(at(spec, "hostname")), "berth");
        assert_int_equal(json_array_size(json_object_get(spec, "mounts")), 7);
        assert_string_equal(json_string_value(json_object_get(find_mount(spec, "/sys"), "type")), "sysfs");
        assert_true(array_has(json_object_get(find_mount(spec, "/dev/pts"), "options"), "gid=5"));
        assert_false(json_is_true(json_object_get(json_array_get(at(spec, "linux.resources.devices"), 0), "allow")));
        assert_true(has_namespace(spec, "network"));
        assert_false(has_namespace(spec, "user"));
        assert_int_equal(json_array_size(at(spec, "linux.namespaces")), 5);
        assert_true(array_has(at(spec, "linux.maskedPaths"), "/proc/kcore"));
        assert_true(array_has(at(spec, "linux.readonlyPaths"), "/proc/sysrq-trigger"));
        assert_null(at(spec, "linux.uidMappings"));
}

static void spec_rootless_values(void **state)
{
        (void)state;
        _cleanup_json_ json_t *spec = oci_default_spec(true);
        json_t *uid = json_array_get(at(spec, "linux.uidMappings"), 0);
        json_t *gid = json_array_get(at(spec, "linux.gidMappings"), 0);
        json_t *sys = find_mount(spec, "/sys");

        assert_non_null(uid);
        assert_int_equal(json_integer_value(json_object_get(uid, "containerID")), 0);
        assert_int_equal(json_integer_value(json_object_get(uid, "hostID")), geteuid());
        assert_int_equal(json_integer_value(json_object_get(uid, "size")), 1);
        assert_int_equal(json_integer_value(json_object_get(gid, "hostID")), getegid());
        assert_true(has_namespace(spec, "user"));
        assert_false(has_namespace(spec, "network"));
        assert_null(at(spec, "linux.resources"));
        assert_string_equal(json_string_value(json_object_get(sys, "type")), "none");
        assert_string_equal(json_string_value(json_object_get(sys, "source")), "/sys");
        assert_true(array_has(json_object_get(sys, "options"), "rbind"));
        assert_false(array_has(json_object_get(find_mount(spec, "/dev/pts"), "options"), "gid=5"));
}

static void spec_roundtrip(void **state)
{
        (void)state;
        for (int rootless = 0; rootless <= 1; rootless++) {
                _cleanup_json_ json_t *spec = oci_default_spec(rootless);
                _cleanup_free_ char *text = json_dumps(spec, JSON_INDENT(2));
                _cleanup_json_ json_t *back = NULL;
                json_error_t jerr;

                assert_non_null(text);
                back = json_loads(text, 0, &jerr);
                assert_non_null(back);
                assert_true(json_equal(spec, back));
        }
}

/* Runs `runc spec [--rootless]` in a temp dir and loads what it wrote. */
static json_t *runc_spec(bool rootless)
{
        _cleanup_free_ char *dir = xstrdup("/tmp/berth-unit-spec-XXXXXX");
        _cleanup_free_ char *cmd = NULL, *path = NULL;
        json_t *j;

        if (mkdtemp(dir) == NULL)
                return NULL;
        cmd = xasprintf("cd %s && /usr/sbin/runc spec%s", dir, rootless ? " --rootless" : "");
        path = xasprintf("%s/config.json", dir);
        j = system(cmd) == 0 ? json_load_file(path, 0, NULL) : NULL;
        unlink(path);
        rmdir(dir);
        return j;
}

/* The whole document equals runc's, but for the hostname. */
static void spec_equals_runc(void **state)
{
        (void)state;
        if (access("/usr/sbin/runc", X_OK) != 0)
                skip();
        for (int rootless = 0; rootless <= 1; rootless++) {
                _cleanup_json_ json_t *ours = oci_default_spec(rootless);
                _cleanup_json_ json_t *theirs = runc_spec(rootless);

                _cleanup_free_ char *a = NULL, *b = NULL;

                assert_non_null(theirs);
                json_object_set_new(theirs, "hostname", json_string("berth"));
                assert_true(json_equal(ours, theirs));
                /* Key order too: jansson keeps insertion and file order. */
                a = json_dumps(ours, JSON_COMPACT);
                b = json_dumps(theirs, JSON_COMPACT);
                assert_string_equal(a, b);
        }
}

static void features_document(void **state)
{
        (void)state;
        _cleanup_json_ json_t *f = oci_features();
        json_t *caps = at(f, "linux.capabilities");

        assert_string_equal(json_string_value(at(f, "ociVersionMin")), "1.0.0");
        assert_string_equal(json_string_value(at(f, "ociVersionMax")), "1.2.0");
        assert_int_equal(json_array_size(at(f, "hooks")), 6);
        assert_true(array_has(at(f, "hooks"), "createRuntime"));
        assert_true(array_has(at(f, "hooks"), "poststop"));
        assert_true(array_has(at(f, "mountOptions"), "rbind"));
        assert_true(array_has(at(f, "mountOptions"), "rro"));
        assert_false(array_has(at(f, "mountOptions"), "size"));
        assert_int_equal(json_array_size(at(f, "linux.namespaces")), 8);
        assert_true(array_has(at(f, "linux.namespaces"), "time"));
        assert_true(array_has(at(f, "linux.namespaces"), "network"));
        assert_int_equal(json_array_size(caps), 41);
        assert_string_equal(json_string_value(json_array_get(caps, 0)), "CAP_CHOWN");
        assert_string_equal(json_string_value(json_array_get(caps, 40)), "CAP_CHECKPOINT_RESTORE");
        assert_true(json_is_true(at(f, "linux.cgroup.v1")));
        assert_true(json_is_true(at(f, "linux.cgroup.v2")));
        assert_true(json_is_false(at(f, "linux.cgroup.systemd")));
        assert_true(json_is_true(at(f, "linux.seccomp.enabled")));
        assert_true(array_has(at(f, "linux.seccomp.actions"), "SCMP_ACT_NOTIFY"));
        assert_true(array_has(at(f, "linux.seccomp.operators"), "SCMP_CMP_MASKED_EQ"));
        assert_true(array_has(at(f, "linux.seccomp.archs"), "SCMP_ARCH_X86_64"));
        assert_true(json_is_object(at(f, "annotations")));
}

/* The mount options are sorted and unique, as in runc's output. */
static void features_mount_options_sorted(void **state)
{
        (void)state;
        _cleanup_json_ json_t *f = oci_features();
        json_t *opts = at(f, "mountOptions");

        for (size_t i = 1; i < json_array_size(opts); i++)
                assert_true(strcmp(json_string_value(json_array_get(opts, i - 1)),
                                   json_string_value(json_array_get(opts, i))) < 0);
}

static void signals_valid(void **state)
{
        (void)state;
        assert_int_equal(signal_parse("9"), SIGKILL);
        assert_int_equal(signal_parse("1"), SIGHUP);
        assert_int_equal(signal_parse("15"), SIGTERM);
        assert_int_equal(signal_parse("KILL"), SIGKILL);
        assert_int_equal(signal_parse("SIGKILL"), SIGKILL);
        assert_int_equal(signal_parse("sigterm"), SIGTERM);
        assert_int_equal(signal_parse("TERM"), SIGTERM);
        assert_int_equal(signal_parse("SigUsr1"), SIGUSR1);
        assert_int_equal(signal_parse("HUP"), SIGHUP);
        assert_int_equal(signal_parse("WINCH"), SIGWINCH);
        assert_int_equal(signal_parse("CHLD"), SIGCHLD);
        assert_int_equal(signal_parse("SIGCLD"), SIGCHLD);
        assert_int_equal(signal_parse("STOP"), SIGSTOP);
        assert_int_equal(signal_parse("cont"), SIGCONT);
        assert_int_equal(signal_parse("RTMIN"), SIGRTMIN);
        assert_int_equal(signal_parse("SIGRTMIN+3"), SIGRTMIN + 3);
        assert_int_equal(signal_parse("rtmin+0"), SIGRTMIN);
        assert_int_equal(signal_parse("RTMAX"), SIGRTMAX);
        assert_int_equal(signal_parse("RTMAX-2"), SIGRTMAX - 2);
        assert_int_equal(signal_parse("RTMIN+30"), SIGRTMAX);
        assert_int_equal(signal_parse("64"), SIGRTMAX);
}

static void signals_invalid(void **state)
{
        (void)state;
        static const char *const bad[] = {
                "", "0", "65", "-1", "+9", " 9", "9 ", "9x", "0x9", "99999999999999999999",
                "SIG", "SIGFOO", "FOO", "KILLL", "SIGSIGKILL", "RTMIN-1", "RTMAX+1", "RTMIN+",
                "RTMIN+31", "RTMAX-31", "RTMIN+-1", "RTMINX",
        };

        assert_int_equal(signal_parse(NULL), -1);
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                if (signal_parse(bad[i]) != -1)
                        fail_msg("signal_parse(\"%s\") accepted", bad[i]);
        }
}

static void capabilities_names(void **state)
{
        (void)state;
        assert_int_equal(capability_parse("CAP_CHOWN"), 0);
        assert_int_equal(capability_parse("CAP_KILL"), 5);
        assert_int_equal(capability_parse("CAP_SYS_ADMIN"), 21);
        assert_int_equal(capability_parse("CAP_AUDIT_READ"), 37);
        assert_int_equal(capability_parse("CAP_CHECKPOINT_RESTORE"), 40);
        assert_int_equal(capability_parse("SYS_ADMIN"), -1);
        assert_int_equal(capability_parse("cap_sys_admin"), -1);
        assert_int_equal(capability_parse("CAP_FOO"), -1);
        assert_int_equal(capability_parse(""), -1);
        assert_int_equal(capability_parse(NULL), -1);
        assert_string_equal(capability_name(21), "CAP_SYS_ADMIN");
        assert_string_equal(capability_name(40), "CAP_CHECKPOINT_RESTORE");
        assert_null(capability_name(41));
        assert_null(capability_name(-1));
        for (int i = 0; capability_name(i); i++)
                assert_int_equal(capability_parse(capability_name(i)), i);
}

static void capabilities_last(void **state)
{
        (void)state;
        int last = capability_last();
        _cleanup_free_ char *buf = NULL;

        if (read_file("/proc/sys/kernel/cap_last_cap", &buf, NULL, NULL) == 0)
                assert_int_equal(last, atoi(buf));
        assert_true(last >= 0 && last <= 63);
        assert_int_equal(capability_last(), last); /* cached */
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(spec_default_values),
                cmocka_unit_test(spec_rootless_values),
                cmocka_unit_test(spec_roundtrip),
                cmocka_unit_test(spec_equals_runc),
                cmocka_unit_test(features_document),
                cmocka_unit_test(features_mount_options_sorted),
                cmocka_unit_test(signals_valid),
                cmocka_unit_test(signals_invalid),
                cmocka_unit_test(capabilities_names),
                cmocka_unit_test(capabilities_last),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
