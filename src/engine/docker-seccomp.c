/* linux.seccomp: Berth's default profile, or one from SecurityOpt
 * ("seccomp=<JSON>" as the docker CLI sends it, or a path), made ready for
 * the runtime:
 *   - Docker's profile format (archMap, "name", includes/excludes by
 *     capability, architecture and kernel) is reduced to the runtime-spec
 *     form for this container and host, as Docker does;
 *   - berthCapabilityRules (profiles/seccomp/README.md) open the syscalls
 *     of each capability the container holds, and are then dropped. */
#include "engine/docker-spec-internal.h"
#include "oci/capabilities.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#define PROFILE_MAX_SIZE (4 << 20)

#if defined(__x86_64__)
#define NATIVE_SCMP "SCMP_ARCH_X86_64"
#define NATIVE_GO "amd64"
#elif defined(__aarch64__)
#define NATIVE_SCMP "SCMP_ARCH_AARCH64"
#define NATIVE_GO "arm64"
#elif defined(__i386__)
#define NATIVE_SCMP "SCMP_ARCH_X86"
#define NATIVE_GO "386"
#elif defined(__arm__)
#define NATIVE_SCMP "SCMP_ARCH_ARM"
#define NATIVE_GO "arm"
#elif defined(__s390x__)
#define NATIVE_SCMP "SCMP_ARCH_S390X"
#define NATIVE_GO "s390x"
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define NATIVE_SCMP "SCMP_ARCH_PPC64LE"
#define NATIVE_GO "ppc64le"
#elif defined(__riscv) && __riscv_xlen == 64
#define NATIVE_SCMP "SCMP_ARCH_RISCV64"
#define NATIVE_GO "riscv64"
#else
#define NATIVE_SCMP ""
#define NATIVE_GO ""
#endif

static int read_profile_file(const char *path, char **out, size_t *len, berth_error_t **err)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        _cleanup_free_ char *buf = NULL, *q = printable(path);
        struct stat st;
        size_t used = 0;

        if (fd < 0)
                return berth_error(err, errno, "open %s", q);
        /* a FIFO or device would block or never end */
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > PROFILE_MAX_SIZE)
                return berth_error(err, 0, "%s: not a regular file of at most %d bytes", q, PROFILE_MAX_SIZE);
        buf = xmalloc((size_t)st.st_size + 1);
        while (used < (size_t)st.st_size) {
                ssize_t n = read(fd, buf + used, (size_t)st.st_size - used);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return berth_error(err, errno, "read %s", q);
                if (n == 0)
                        break;
                used += (size_t)n;
        }
        buf[used] = '\0';
        *len = used;
        *out = steal_pointer(&buf);
        return 0;
}

/* The profile from JSON text (starting with '{') or a file. */
static int load_profile(const char *src, const char *label, json_t **out, berth_error_t **err)
{
        _cleanup_free_ char *text = NULL;
        const char *p = src + strspn(src, " \t\r\n");
        size_t len = 0;
        json_error_t jerr;
        int ret;

        if (*p == '{') {
                len = strlen(p);
        } else {
                if ((ret = read_profile_file(src, &text, &len, err)) < 0)
                        return berth_error_wrap(err, "%s", label);
                p = text;
        }
        *out = json_loadb(p, len, JSON_REJECT_DUPLICATES, &jerr);
        if (*out == NULL)
                return berth_error(err, 0, "%s: line %d column %d: %s", label, jerr.line, jerr.column, jerr.text);
        if (!json_is_object(*out)) {
                json_decref(*out);
                *out = NULL;
                return berth_error(err, 0, "%s: expected a JSON object", label);
        }
        return 0;
}

static bool str_in(json_t *array, const char *s)
{
        size_t i;
        json_t *v;

        json_array_foreach(array, i, v)
                if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
                        return true;
        return false;
}

/* "5.4" <= the running kernel's release? */
static bool kernel_at_least(const char *want)
{
        struct utsname u;
        unsigned wmaj = 0, wmin = 0, kmaj = 0, kmin = 0;

        if (sscanf(want, "%u.%u", &wmaj, &wmin) < 1 || uname(&u) < 0 || sscanf(u.release, "%u.%u", &kmaj, &kmin) < 1)
                return true;
        return kmaj > wmaj || (kmaj == wmaj && kmin >= wmin);
}

/* Docker's includes / excludes: caps (all of them held / any held),
 * arches (this one), minKernel. */
static bool filter_matches(json_t *f, uint64_t caps, bool include)
{
        json_t *list = json_object_get(f, "caps"), *v;
        const char *kernel = json_string_value(json_object_get(f, "minKernel"));
        bool any = false, all = true;
        size_t i;

        json_array_foreach(list, i, v) {
                int cap = capability_parse(json_string_value(v));
                bool held = cap >= 0 && (caps & (UINT64_C(1) << cap));
                any |= held;
                all &= held;
        }
        list = json_object_get(f, "arches");
        if (include)
                return all && (json_array_size(list) == 0 || str_in(list, NATIVE_GO)) &&
                       (kernel == NULL || kernel_at_least(kernel));
        return any || str_in(list, NATIVE_GO) || (kernel && kernel_at_least(kernel));
}

static int convert_syscall(json_t *call, size_t i, uint64_t caps, json_t *out, berth_error_t **err)
{
        json_t *name = json_object_get(call, "name"), *inc = json_object_get(call, "includes");
        json_t *exc = json_object_get(call, "excludes"), *copy;

        if (!json_is_object(call))
                return berth_error(err, 0, "syscalls[%zu]: expected an object", i);
        if (name && json_object_get(call, "names"))
                return berth_error(err, 0, "syscalls[%zu]: use either 'name' or 'names'", i);
        if ((inc && !filter_matches(inc, caps, true)) || (exc && filter_matches(exc, caps, false)))
                return 0;
        copy = must(json_deep_copy(call));
        json_object_del(copy, "includes");
        json_object_del(copy, "excludes");
        json_object_del(copy, "comment");
        if (name) {
                json_object_set_new(copy, "names", must(json_pack("[O]", name)));
                json_object_del(copy, "name");
        }
        json_array_append_new(out, copy);
        return 0;
}

static void arch_map(json_t *profile)
{
        json_t *map = json_object_get(profile, "archMap"), *m, *archs = must(json_array());
        size_t i;

        json_array_foreach(map, i, m) {
                json_t *arch = json_object_get(m, "architecture"), *subs = json_object_get(m, "subArchitectures");
                if (!json_is_string(arch) || strcmp(json_string_value(arch), NATIVE_SCMP) != 0)
                        continue;
                json_array_append(archs, arch);
                if (json_is_array(subs))
                        json_array_extend(archs, subs);
        }
        json_object_set_new(profile, "architectures", archs);
        json_object_del(profile, "archMap");
}

/* Docker's profile format to the runtime's, for this container. */
static int convert_docker_format(json_t *profile, uint64_t caps, berth_error_t **err)
{
        json_t *calls = json_object_get(profile, "syscalls"), *out, *call;
        size_t i;
        int ret;

        if (json_object_get(profile, "archMap") && json_object_get(profile, "architectures"))
                return berth_error(err, 0, "use either 'architectures' or 'archMap'");
        if (json_object_get(profile, "archMap"))
                arch_map(profile);
        if (calls == NULL)
                return 0;
        if (!json_is_array(calls))
                return berth_error(err, 0, "syscalls: expected an array");
        out = must(json_array());
        json_array_foreach(calls, i, call)
                if ((ret = convert_syscall(call, i, caps, out, err)) < 0) {
                        json_decref(out);
                        return ret;
                }
        json_object_set_new(profile, "syscalls", out);
        return 0;
}

static int check_rule(json_t *rule, size_t i, berth_error_t **err)
{
        json_t *names = json_object_get(rule, "names"), *v;
        size_t k;

        if (!json_is_object(rule) || !json_is_string(json_object_get(rule, "capability")) ||
            !json_is_string(json_object_get(rule, "action")) || !json_is_array(names))
                return berth_error(err, 0, "berthCapabilityRules[%zu]: expected "
                                   "{\"capability\", \"names\", \"action\"}", i);
        json_array_foreach(names, k, v)
                if (!json_is_string(v))
                        return berth_error(err, 0, "berthCapabilityRules[%zu].names[%zu]: expected a "
                                           "string", i, k);
        return 0;
}

/* Take the rule's names out of every entry (dropping entries left
 * empty), then allow them unconditionally with the rule's action. */
static void apply_rule(json_t *profile, json_t *rule)
{
        json_t *calls = json_object_get(profile, "syscalls"), *kept = must(json_array()), *call, *set, *v;
        json_t *names = json_object_get(rule, "names");
        size_t i, k;

        set = must(json_object());
        json_array_foreach(names, i, v)
                json_object_set_new(set, json_string_value(v), json_true());
        json_array_foreach(calls, i, call) {
                json_t *old = json_object_get(call, "names"), *left;
                if (!json_is_array(old)) {
                        json_array_append(kept, call);
                        continue;
                }
                left = must(json_array());
                json_array_foreach(old, k, v)
                        if (!json_is_string(v) || json_object_get(set, json_string_value(v)) == NULL)
                                json_array_append(left, v);
                if (json_array_size(left) > 0) {
                        json_object_set_new(call, "names", left);
                        json_array_append(kept, call);
                } else {
                        json_decref(left);
                }
        }
        json_decref(set);
        json_array_append_new(kept,
                              must(json_pack("{s:O, s:O}", "names", names, "action", json_object_get(rule, "action"))));
        json_object_set_new(profile, "syscalls", kept);
}

static int capability_rules(json_t *profile, uint64_t caps, berth_error_t **err)
{
        json_t *rules = json_object_get(profile, "berthCapabilityRules"), *rule;
        size_t i;
        int ret;

        if (rules && !json_is_array(rules))
                return berth_error(err, 0, "berthCapabilityRules: expected an array");
        if (json_array_size(rules) > 0 && !json_is_array(json_object_get(profile, "syscalls")))
                json_object_set_new(profile, "syscalls", must(json_array()));
        json_array_foreach(rules, i, rule) {
                int cap;
                if ((ret = check_rule(rule, i, err)) < 0)
                        return ret;
                cap = capability_parse(json_string_value(json_object_get(rule, "capability")));
                if (cap >= 0 && (caps & (UINT64_C(1) << cap)))
                        apply_rule(profile, rule);
        }
        json_object_del(profile, "berthCapabilityRules");
        return 0;
}

int spec_seccomp(struct spec_ctx *ctx, berth_error_t **err)
{
        const char *src = ctx->seccomp == SECCOMP_CUSTOM ? ctx->seccomp_custom : ctx->in->seccomp_default;
        const char *label = ctx->seccomp == SECCOMP_CUSTOM ? "HostConfig.SecurityOpt: seccomp profile"
                                                            : "default seccomp profile";
        _cleanup_json_ json_t *profile = NULL;
        int ret;

        /* Docker: a privileged container runs unconfined whatever is asked */
        if (ctx->privileged || ctx->seccomp == SECCOMP_UNCONFINED)
                return 0;
        if (src == NULL) {
                spec_warn(ctx, "no default seccomp profile is configured: the container runs without one");
                return 0;
        }
        if ((ret = load_profile(src, label, &profile, err)) < 0)
                return ret;
        if ((ret = convert_docker_format(profile, ctx->caps, err)) < 0 ||
            (ret = capability_rules(profile, ctx->caps, err)) < 0)
                return berth_error_wrap(err, "%s", label);
        if (!json_is_string(json_object_get(profile, "defaultAction")))
                return berth_error(err, 0, "%s: defaultAction is missing", label);
        json_object_set(json_object_get(ctx->spec, "linux"), "seccomp", profile);
        return 0;
}
