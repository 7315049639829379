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

static const char *const seccomp_actions[] = {
        "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
        "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP",
};
static const char *const seccomp_operators[] = {
        "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE",
};
static const char *const seccomp_archs[] = {
        "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32",
        "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64",
        "SCMP_ARCH_PPC64LE", "SCMP_ARCH_RISCV64", "SCMP_ARCH_S390", "SCMP_ARCH_S390X", "SCMP_ARCH_X32",
        "SCMP_ARCH_X86", "SCMP_ARCH_X86_64",
};
static const char *const seccomp_flags[] = {
        "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_TSYNC",
        "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
};

/* AppArmor and SELinux labels are accepted but not applied: "enabled":
 * false tells callers so. */
static json_t *linux_features(void)
{
        return must(json_pack("{s:o, s:o, s:{s:b, s:b, s:b, s:b}, s:{s:b, s:o, s:o, s:o, s:o, s:o}, s:{s:b}, s:{s:b}}",
                              "namespaces", string_array(namespaces, ARRAY_SIZE(namespaces)),
                              "capabilities", capability_list(),
                              "cgroup", "v1", 1, "v2", 1, "systemd", 0, "systemdUser", 0,
                              "seccomp", "enabled", 1,
                              "actions", string_array(seccomp_actions, ARRAY_SIZE(seccomp_actions)),
                              "operators", string_array(seccomp_operators, ARRAY_SIZE(seccomp_operators)),
                              "archs", string_array(seccomp_archs, ARRAY_SIZE(seccomp_archs)),
                              "knownFlags", string_array(seccomp_flags, ARRAY_SIZE(seccomp_flags)),
                              "supportedFlags", string_array(seccomp_flags, ARRAY_SIZE(seccomp_flags)),
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
