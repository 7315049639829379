/* Privilege: the capability set (Docker's default, CapAdd, CapDrop,
 * Privileged), HostConfig.SecurityOpt, and the masked and read-only /proc
 * and /sys paths. */
#include "engine/docker-spec-internal.h"
#include "oci/capabilities.h"
#include <ctype.h>
#include <strings.h>
#include <sys/prctl.h>

/* Docker's default set: what most programs that start as root expect
 * (chown, setuid, binding low ports, raw sockets for ping), nothing that
 * reaches the host's kernel or other containers. */
static const char *const default_caps[] = {
        "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",  "CAP_FOWNER",           "CAP_MKNOD",
        "CAP_NET_RAW", "CAP_SETGID",       "CAP_SETUID",  "CAP_SETFCAP",          "CAP_SETPCAP",
        "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
};

static const char *const masked_paths[] = {
        "/proc/asound",      "/proc/acpi",        "/proc/kcore",   "/proc/keys",
        "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
        "/proc/scsi",        "/sys/firmware",     "/sys/devices/virtual/powercap",
};

static const char *const readonly_paths[] = {
        "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

#define CAP_BIT(n) (UINT64_C(1) << (n))

uint64_t caps_all(void)
{
        int last = capability_last();
        uint64_t all = 0;

        /* an older kernel does not know the newest capabilities, and a
         * newer one knows some we cannot name; and as dockerd, "all" is
         * what the daemon's bounding set holds: a capability it lacks
         * (CAP_SYS_RESOURCE in some hosts' root) cannot be given */
        for (int i = 0; capability_name(i) && (last < 0 || i <= last); i++)
                if (prctl(PR_CAPBSET_READ, i, 0, 0, 0) == 1)
                        all |= CAP_BIT(i);
        return all;
}

json_t *caps_to_json(uint64_t caps)
{
        json_t *list = must(json_array());

        for (int i = 0; i < 64; i++)
                if ((caps & CAP_BIT(i)) && capability_name(i))
                        json_array_append_new(list, must(json_string(capability_name(i))));
        return list;
}

/* Docker's NormalizeLegacyCapabilities: any case, CAP_ prefix optional,
 * "ALL" alone.  *all is set for "ALL". */
static int cap_normalize(const char *field, const char *name, uint64_t *bits, bool *all, berth_error_t **err)
{
        _cleanup_free_ char *up = NULL;
        int cap;

        if (strcasecmp(name, "ALL") == 0) {
                *all = true;
                return 0;
        }
        up = strncasecmp(name, "CAP_", 4) == 0 ? xstrdup(name) : xasprintf("CAP_%s", name);
        for (char *p = up; *p; p++)
                *p = (char)toupper((unsigned char)*p);
        cap = capability_parse(up);
        if (cap < 0) {
                _cleanup_free_ char *q = printable(up);
                return berth_error(err, 0, "%s: unknown capability: \"%s\"", field, q);
        }
        *bits |= CAP_BIT(cap);
        return 0;
}

static int cap_list(struct spec_ctx *ctx, const char *key, uint64_t *bits, bool *all, berth_error_t **err)
{
        _cleanup_free_ const char **names = NULL;
        _cleanup_free_ char *field = xasprintf("HostConfig.%s", key);
        int ret;

        *bits = 0;
        *all = false;
        if ((ret = dj_strv(ctx->hc, "HostConfig.", key, false, &names, err)) < 0)
                return ret;
        for (size_t i = 0; names && names[i]; i++)
                if ((ret = cap_normalize(field, names[i], bits, all, err)) < 0)
                        return ret;
        return 0;
}

/* Docker's TweakCapabilities: Privileged is everything; CapAdd ALL is
 * everything but CapDrop; CapDrop ALL is CapAdd alone; else the default
 * set less CapDrop plus CapAdd. */
static int capabilities(struct spec_ctx *ctx, berth_error_t **err)
{
        uint64_t add, drop, base = 0;
        bool add_all, drop_all;
        int ret;

        if ((ret = cap_list(ctx, "CapAdd", &add, &add_all, err)) < 0 ||
            (ret = cap_list(ctx, "CapDrop", &drop, &drop_all, err)) < 0)
                return ret;
        for (size_t i = 0; i < ARRAY_SIZE(default_caps); i++)
                base |= CAP_BIT(capability_parse(default_caps[i]));
        if (ctx->privileged)
                ctx->caps = caps_all();
        else if (add_all)
                ctx->caps = caps_all() & ~drop;
        else if (drop_all)
                ctx->caps = add;
        else
                ctx->caps = (base & ~drop) | add;
        return 0;
}

/* Go's strconv.ParseBool, which Docker uses for these options. */
static int parse_bool(const char *s, bool *out)
{
        static const char *const yes[] = { "1", "t", "T", "TRUE", "true", "True" };
        static const char *const no[] = { "0", "f", "F", "FALSE", "false", "False" };

        for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
                if (strcmp(s, yes[i]) == 0)
                        return *out = true, 0;
                if (strcmp(s, no[i]) == 0)
                        return *out = false, 0;
        }
        return -1;
}

static int seccomp_opt(struct spec_ctx *ctx, const char *v)
{
        if (strcmp(v, "unconfined") == 0)
                ctx->seccomp = SECCOMP_UNCONFINED;
        else if (strcmp(v, "builtin") == 0)
                ctx->seccomp = SECCOMP_DEFAULT;
        else {
                ctx->seccomp = SECCOMP_CUSTOM;
                ctx->seccomp_custom = v;
        }
        return 0;
}

static int bool_opt(const char *opt, const char *v, bool *out, berth_error_t **err)
{
        if (parse_bool(v, out) < 0) {
                _cleanup_free_ char *q = printable(opt);
                return berth_error(err, 0, "HostConfig.SecurityOpt: invalid boolean in %s", q);
        }
        return 0;
}

/* One SecurityOpt entry: "key=value" (or the deprecated "key:value"). */
static int security_opt(struct spec_ctx *ctx, const char *opt, berth_error_t **err)
{
        _cleanup_free_ char *key = xstrdup(opt), *q = printable(opt);
        char *v = strpbrk(key, "=:");

        if (strcmp(opt, "no-new-privileges") == 0)
                return ctx->no_new_privileges = true, 0;
        if (strcmp(opt, "disable") == 0)      /* SELinux labels: none here */
                return 0;
        if (v == NULL)
                return berth_error(err, 0, "HostConfig.SecurityOpt: invalid option %s: want key=value", q);
        /* a seccomp profile's JSON holds ':' and '=': cut at the first of either */
        *v++ = '\0';
        if (strcmp(key, "seccomp") == 0)
                return seccomp_opt(ctx, opt + (v - key));
        if (strcmp(key, "no-new-privileges") == 0)
                return bool_opt(opt, v, &ctx->no_new_privileges, err);
        if (strcmp(key, "writable-cgroups") == 0)
                return bool_opt(opt, v, &ctx->writable_cgroups, err);
        if (strcmp(key, "systempaths") == 0 && strcmp(v, "unconfined") == 0)
                return ctx->unconfined_paths = true, 0;
        if (strcmp(key, "label") == 0)          /* SELinux: not on these hosts, as Docker without it */
                return 0;
        if (strcmp(key, "apparmor") == 0) {
                spec_warn(ctx, "AppArmor is not supported: security option %s ignored", q);
                return 0;
        }
        return berth_error(err, 0, "HostConfig.SecurityOpt: unknown option %s", q);
}

static int security_opts(struct spec_ctx *ctx, berth_error_t **err)
{
        _cleanup_free_ const char **opts = NULL;
        int ret;

        if ((ret = dj_strv(ctx->hc, "HostConfig.", "SecurityOpt", false, &opts, err)) < 0)
                return ret;
        for (size_t i = 0; opts && opts[i]; i++)
                if ((ret = security_opt(ctx, opts[i], err)) < 0)
                        return ret;
        return 0;
}

/* HostConfig.MaskedPaths / ReadonlyPaths: null keeps the defaults, a list
 * replaces them (`--security-opt systempaths=unconfined` sends []). */
static int path_list(struct spec_ctx *ctx, const char *key, const char *oci_key, const char *const *defaults,
                     size_t n_defaults, berth_error_t **err)
{
        _cleanup_free_ const char **given = NULL;
        json_t *list = must(json_array());
        int ret;

        json_object_set_new(json_object_get(ctx->spec, "linux"), oci_key, list);
        if ((ret = dj_strv(ctx->hc, "HostConfig.", key, false, &given, err)) < 0)
                return ret;
        if (ctx->privileged || ctx->unconfined_paths)
                return 0;
        if (given == NULL) {
                for (size_t i = 0; i < n_defaults; i++)
                        json_array_append_new(list, must(json_string(defaults[i])));
                return 0;
        }
        for (size_t i = 0; given[i]; i++) {
                if (given[i][0] != '/') {
                        _cleanup_free_ char *q = printable(given[i]);
                        return berth_error(err, 0, "HostConfig.%s[%zu]: %s is not an absolute path", key, i, q);
                }
                json_array_append_new(list, must(json_string(given[i])));
        }
        return 0;
}

int spec_security(struct spec_ctx *ctx, berth_error_t **err)
{
        int ret;

        if ((ret = dj_bool(ctx->hc, "HostConfig.", "Privileged", &ctx->privileged, err)) < 0 ||
            (ret = capabilities(ctx, err)) < 0 || (ret = security_opts(ctx, err)) < 0)
                return ret;
        if ((ret = path_list(ctx, "MaskedPaths", "maskedPaths", masked_paths, ARRAY_SIZE(masked_paths), err)) < 0)
                return ret;
        return path_list(ctx, "ReadonlyPaths", "readonlyPaths", readonly_paths, ARRAY_SIZE(readonly_paths), err);
}
