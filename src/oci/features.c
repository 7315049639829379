/* `berth-runtime features`: what this build of the runtime understands in a
 * config.json.  The runtime spec (features.md) asks for facts fixed at
 * compile time, not probed from the host, so everything here is a constant;
 * a feature the host lacks is still reported if the code supports it. */
#include "oci/features.h"
#include "oci/capabilities.h"
#include "util/util.h"
#include <stdlib.h>

#ifndef BERTH_VERSION
#define BERTH_VERSION "unknown"
#endif

static const char *const hooks[] = {
        "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
};

/* Every option name the mount code maps to a mount flag, a recursive
 * (mount_setattr) flag or a propagation type.  Filesystem data options such
 * as "size=" or "mode=" are passed through to mount(2) and, as the spec
 * says, are not listed. */
static const char *const mount_options[] = {
        "async", "atime", "bind", "defaults", "dev", "diratime", "dirsync", "exec",
        "iversion", "lazytime", "loud", "mand", "noatime", "nodev", "nodiratime", "noexec",
        "noiversion", "nolazytime", "nomand", "norelatime", "nostrictatime", "nosuid",
        "nosymfollow", "private", "ratime", "rbind", "rdev", "rdiratime", "relatime",
        "remount", "rexec", "rnoatime", "rnodev", "rnodiratime", "rnoexec", "rnorelatime",
        "rnostrictatime", "rnosuid", "rnosymfollow", "ro", "rprivate", "rrelatime", "rro",
        "rrw", "rshared", "rslave", "rstrictatime", "rsuid", "rsymfollow", "runbindable",
        "rw", "shared", "silent", "slave", "strictatime", "suid", "symfollow", "sync",
        "unbindable",
};

/* Names as config.json spells them in linux.namespaces[].type. */
static const char *const namespaces[] = {
        "cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts",
};

static json_t *must(json_t *j)
{
        /* Only a bad format string or OOM makes json_pack fail. */
        if (j == NULL)
                abort();
        return j;
}

static json_t *string_array(const char *const *v, size_t n)
{
        json_t *a = must(json_array());

        for (size_t i = 0; i < n; i++)
                json_array_append_new(a, must(json_string(v[i])));
        return a;
}

/* Capabilities this build can name, not the ones the running kernel has:
 * a config asking for one the kernel lacks fails at create time. */
static json_t *capability_list(void)
{
        json_t *a = must(json_array());

        for (int i = 0; capability_name(i) != NULL; i++)
                json_array_append_new(a, must(json_string(capability_name(i))));
        return a;
}

/* seccomp, AppArmor and SELinux are not implemented yet: "enabled": false
 * tells callers such profiles in config.json are not applied. */
static json_t *linux_features(void)
{
        return must(json_pack("{s:o, s:o, s:{s:b, s:b, s:b, s:b}, s:{s:b}, s:{s:b}, s:{s:b}}",
                              "namespaces", string_array(namespaces, ARRAY_SIZE(namespaces)),
                              "capabilities", capability_list(),
                              "cgroup", "v1", 1, "v2", 1, "systemd", 0, "systemdUser", 0,
                              "seccomp", "enabled", 0,
                              "apparmor", "enabled", 0,
                              "selinux", "enabled", 0));
}

json_t *oci_features(void)
{
        /* Annotation keys live in our own namespace: org.opencontainers.* is
         * reserved for the OCI itself. */
        return must(json_pack("{s:s, s:s, s:o, s:o, s:o, s:{s:s, s:s}}",
                              "ociVersionMin", "1.0.0",
                              "ociVersionMax", "1.2.0",
                              "hooks", string_array(hooks, ARRAY_SIZE(hooks)),
                              "mountOptions", string_array(mount_options, ARRAY_SIZE(mount_options)),
                              "linux", linux_features(),
                              "annotations",
                              "io.berth.runtime.name", "berth-runtime",
                              "io.berth.runtime.version", BERTH_VERSION));
}
