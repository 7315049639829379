/* The default config.json of `berth-runtime spec`.  It is kept equal to what
 * `runc spec` (1.1.x) prints, key order included, so that scripts and docs
 * written for runc work unchanged; only the hostname says "berth". */
#include "oci/spec.h"
#include <stdlib.h>
#include <unistd.h>

/* runc stamps its own spec version; 1.0.2-dev is what callers of `runc spec`
 * have always seen, and every runtime accepts it. */
#define SPEC_OCI_VERSION "1.0.2-dev"

static json_t *must(json_t *j)
{
        /* json_pack only fails on a bad format string or OOM: both are bugs
         * or fatal here, never something a caller could handle. */
        if (j == NULL)
                abort();
        return j;
}

/* The same three capabilities in every set: runc's conservative default. */
static json_t *default_caps(void)
{
        return must(json_pack("[sss]", "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"));
}

static json_t *spec_process(void)
{
        return must(json_pack(
                "{s:b, s:{s:i, s:i}, s:[s], s:[ss], s:s,"
                " s:{s:o, s:o, s:o, s:o}, s:[{s:s, s:i, s:i}], s:b}",
                "terminal", 1,
                "user", "uid", 0, "gid", 0,
                "args", "sh",
                "env", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm",
                "cwd", "/",
                "capabilities",
                "bounding", default_caps(), "effective", default_caps(),
                "permitted", default_caps(), "ambient", default_caps(),
                "rlimits", "type", "RLIMIT_NOFILE", "hard", 1024, "soft", 1024,
                "noNewPrivileges", 1));
}

static json_t *mount_entry(const char *dest, const char *type, const char *source, json_t *options)
{
        json_t *m = must(json_pack("{s:s, s:s, s:s}", "destination", dest, "type", type, "source", source));

        if (options)
                json_object_set_new(m, "options", options);
        return m;
}

/* A rootless container cannot own a fresh sysfs (it needs a network
 * namespace it does not have) nor chown devpts to a host gid, so runc binds
 * the host's /sys and drops gid=5; we do the same. */
static json_t *spec_mounts(bool rootless)
{
        json_t *devpts = must(json_pack("[sssss]", "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"));
        json_t *sys = rootless
                ? mount_entry("/sys", "none", "/sys",
                              json_pack("[sssss]", "rbind", "nosuid", "noexec", "nodev", "ro"))
                : mount_entry("/sys", "sysfs", "sysfs", json_pack("[ssss]", "nosuid", "noexec", "nodev", "ro"));

        if (!rootless)
                json_array_append_new(devpts, json_string("gid=5")); /* the tty group */
        return must(json_pack(
                "[o, o, o, o, o, o, o]",
                mount_entry("/proc", "proc", "proc", NULL),
                mount_entry("/dev", "tmpfs", "tmpfs",
                            json_pack("[ssss]", "nosuid", "strictatime", "mode=755", "size=65536k")),
                mount_entry("/dev/pts", "devpts", "devpts", devpts),
                mount_entry("/dev/shm", "tmpfs", "shm",
                            json_pack("[sssss]", "nosuid", "noexec", "nodev", "mode=1777", "size=65536k")),
                mount_entry("/dev/mqueue", "mqueue", "mqueue", json_pack("[sss]", "nosuid", "noexec", "nodev")),
                sys,
                mount_entry("/sys/fs/cgroup", "cgroup", "cgroup",
                            json_pack("[sssss]", "nosuid", "noexec", "nodev", "relatime", "ro"))));
}

static json_t *namespaces(const char *const *types)
{
        json_t *list = must(json_array());

        for (; *types; types++)
                json_array_append_new(list, must(json_pack("{s:s}", "type", *types)));
        return list;
}

/* One mapping of the caller's id to root: all an unprivileged user may
 * write to uid_map without a setuid helper. */
static json_t *id_mapping(unsigned long host_id)
{
        return must(json_pack("[{s:i, s:I, s:i}]", "containerID", 0, "hostID", (json_int_t)host_id, "size", 1));
}

static json_t *masked_paths(void)
{
        return must(json_pack("[ssssssssss]", "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
                              "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                              "/proc/sched_debug", "/sys/firmware", "/proc/scsi"));
}

static json_t *readonly_paths(void)
{
        return must(json_pack("[sssss]", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"));
}

/* Rootless: a user namespace instead of a network namespace (an
 * unprivileged user cannot configure one usefully), and no cgroup
 * resources, since the caller may not own a cgroup to write them to. */
static json_t *spec_linux(bool rootless)
{
        static const char *const rootful_ns[] = { "pid", "network", "ipc", "uts", "mount", NULL };
        static const char *const rootless_ns[] = { "pid", "ipc", "uts", "mount", "user", NULL };
        json_t *lx = must(json_object());

        if (rootless) {
                json_object_set_new(lx, "uidMappings", id_mapping(geteuid()));
                json_object_set_new(lx, "gidMappings", id_mapping(getegid()));
        } else {
                json_object_set_new(lx, "resources",
                                    must(json_pack("{s:[{s:b, s:s}]}", "devices", "allow", 0, "access", "rwm")));
        }
        json_object_set_new(lx, "namespaces", namespaces(rootless ? rootless_ns : rootful_ns));
        json_object_set_new(lx, "maskedPaths", masked_paths());
        json_object_set_new(lx, "readonlyPaths", readonly_paths());
        return lx;
}

json_t *oci_default_spec(bool rootless)
{
        return must(json_pack("{s:s, s:o, s:{s:s, s:b}, s:s, s:o, s:o}",
                              "ociVersion", SPEC_OCI_VERSION,
                              "process", spec_process(),
                              "root", "path", "rootfs", "readonly", 1,
                              "hostname", "berth",
                              "mounts", spec_mounts(rootless),
                              "linux", spec_linux(rootless)));
}
