/* Capability names as the OCI runtime spec spells them.  The table is ours
 * rather than libcap's cap_from_name() because libcap accepts lower case and
 * names without the "CAP_" prefix, which config.json does not allow, and it
 * only knows the capabilities of the libcap it was built against. */
#include "oci/capabilities.h"
#include "util/util.h"
#include <string.h>

/* Indexed by capability number (include/uapi/linux/capability.h). */
static const char *const cap_names[] = {
        "CAP_CHOWN",              /* 0 */
        "CAP_DAC_OVERRIDE",
        "CAP_DAC_READ_SEARCH",
        "CAP_FOWNER",
        "CAP_FSETID",
        "CAP_KILL",               /* 5 */
        "CAP_SETGID",
        "CAP_SETUID",
        "CAP_SETPCAP",
        "CAP_LINUX_IMMUTABLE",
        "CAP_NET_BIND_SERVICE",   /* 10 */
        "CAP_NET_BROADCAST",
        "CAP_NET_ADMIN",
        "CAP_NET_RAW",
        "CAP_IPC_LOCK",
        "CAP_IPC_OWNER",          /* 15 */
        "CAP_SYS_MODULE",
        "CAP_SYS_RAWIO",
        "CAP_SYS_CHROOT",
        "CAP_SYS_PTRACE",
        "CAP_SYS_PACCT",          /* 20 */
        "CAP_SYS_ADMIN",
        "CAP_SYS_BOOT",
        "CAP_SYS_NICE",
        "CAP_SYS_RESOURCE",
        "CAP_SYS_TIME",           /* 25 */
        "CAP_SYS_TTY_CONFIG",
        "CAP_MKNOD",
        "CAP_LEASE",
        "CAP_AUDIT_WRITE",
        "CAP_AUDIT_CONTROL",      /* 30 */
        "CAP_SETFCAP",
        "CAP_MAC_OVERRIDE",
        "CAP_MAC_ADMIN",
        "CAP_SYSLOG",
        "CAP_WAKE_ALARM",         /* 35 */
        "CAP_BLOCK_SUSPEND",
        "CAP_AUDIT_READ",
        "CAP_PERFMON",
        "CAP_BPF",
        "CAP_CHECKPOINT_RESTORE", /* 40 */
};

_Static_assert(ARRAY_SIZE(cap_names) == 41, "capability table must end at CAP_CHECKPOINT_RESTORE (40)");

int capability_parse(const char *name)
{
        if (name == NULL)
                return -1;
        for (size_t i = 0; i < ARRAY_SIZE(cap_names); i++)
                if (strcmp(name, cap_names[i]) == 0)
                        return (int)i;
        return -1;
}

const char *capability_name(int cap)
{
        if (cap < 0 || (size_t)cap >= ARRAY_SIZE(cap_names))
                return NULL;
        return cap_names[cap];
}

static int read_cap_last_cap(void)
{
        _cleanup_free_ char *buf = NULL;
        char *nl;
        long long v;

        if (read_file("/proc/sys/kernel/cap_last_cap", &buf, NULL, NULL) < 0)
                return -1;
        nl = strchr(buf, '\n');
        if (nl)
                *nl = '\0';
        v = parse_ll(buf);
        /* The kernel keeps capabilities in two 32-bit words. */
        if (v < 0 || v > 63)
                return -1;
        return (int)v;
}

/* Cached because it is read again when dropping the bounding set, which
 * happens after pivot_root, where the host's /proc may no longer be there.
 * Without /proc, assume the kernel knows exactly what this table knows. */
int capability_last(void)
{
        static int last = -1;

        if (last < 0) {
                int v = read_cap_last_cap();
                last = v >= 0 ? v : (int)ARRAY_SIZE(cap_names) - 1;
        }
        return last;
}
