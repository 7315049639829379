#include "runtime/seccomp.h"
#include "runtime/console.h"
#include "oci/config.h"
#include "util/util.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#define CACHE_MAGIC "BERTHSC1"

static const struct { const char *name; uint32_t action; bool takes_ret; } actions[] = {
        { "SCMP_ACT_KILL", SCMP_ACT_KILL, false },
        { "SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, false },
        { "SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, false },
        { "SCMP_ACT_TRAP", SCMP_ACT_TRAP, false },
        { "SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0), true },
        { "SCMP_ACT_TRACE", SCMP_ACT_TRACE(0), true },
        { "SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, false },
        { "SCMP_ACT_LOG", SCMP_ACT_LOG, false },
        { "SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY, false },
};

static const struct { const char *name; enum scmp_compare op; } operators[] = {
        { "SCMP_CMP_NE", SCMP_CMP_NE }, { "SCMP_CMP_LT", SCMP_CMP_LT }, { "SCMP_CMP_LE", SCMP_CMP_LE },
        { "SCMP_CMP_EQ", SCMP_CMP_EQ }, { "SCMP_CMP_GE", SCMP_CMP_GE }, { "SCMP_CMP_GT", SCMP_CMP_GT },
        { "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
};

static const struct { const char *name; unsigned int flag; } filter_flags[] = {
        { "SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC },
        { "SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG },
        { "SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW },
        { "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", 1U << 5 },
};

/* The action for a name; errno_ret (or EPERM) fills SCMP_ACT_ERRNO/TRACE. */
static int parse_action(const char *name, json_t *errno_ret, uint32_t *out, berth_error_t **err)
{
        for (size_t i = 0; name && i < ARRAY_SIZE(actions); i++) {
                if (strcmp(name, actions[i].name) != 0)
                        continue;
                *out = actions[i].action;
                if (actions[i].takes_ret) {
                        uint32_t ret = json_is_integer(errno_ret) ? (uint32_t)json_integer_value(errno_ret) : EPERM;
                        *out |= ret & 0xffff;
                }
                return 0;
        }
        return berth_error(err, 0, "linux.seccomp: unknown action \"%s\"", name ? name : "");
}

/* x32 syscalls carry bit 30 in their number; a kernel built or booted
 * without the x32 ABI answers them with ENOSYS. */
static bool kernel_runs_x32(void)
{
#if defined(__x86_64__)
        return !(syscall(0x40000000 | SYS_getpid) < 0 && errno == ENOSYS);
#else
        return false;
#endif
}

static int add_architectures(scmp_filter_ctx ctx, json_t *archs, berth_error_t **err)
{
        json_t *a;
        size_t i;

        json_array_foreach(archs, i, a) {
                const char *name = json_string_value(a);
                _cleanup_free_ char *lower = NULL;
                uint32_t arch;
                int r;

                if (name == NULL || !str_has_prefix(name, "SCMP_ARCH_"))
                        return berth_error(err, 0, "linux.seccomp: unknown architecture \"%s\"", name ? name : "");
                lower = xstrdup(name + 10);
                for (char *p = lower; *p; p++)
                        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
                arch = seccomp_arch_resolve_name(lower);
                if (arch == 0)
                        return berth_error(err, 0, "linux.seccomp: unknown architecture \"%s\"", name);
                /* the kernel runs the filter once per syscall number and arch
                 * when loading it: an ABI the kernel cannot run costs time
                 * and guards nothing */
                if (arch == SCMP_ARCH_X32 && !kernel_runs_x32())
                        continue;
                r = seccomp_arch_add(ctx, arch);
                if (r < 0 && r != -EEXIST)
                        return berth_error(err, -r, "linux.seccomp: add architecture %s", name);
        }
        return 0;
}

static int parse_args(json_t *args, struct scmp_arg_cmp *cmps, size_t max, bool *same_index, berth_error_t **err)
{
        unsigned seen = 0;
        json_t *a;
        size_t i;

        *same_index = false;
        if (json_array_size(args) > max)
                return berth_error(err, 0, "linux.seccomp: too many argument conditions");
        json_array_foreach(args, i, a) {
                const char *opname = json_path_str(a, "", "op", NULL);
                json_int_t index = json_integer_value(json_object_get(a, "index"));
                size_t k;

                for (k = 0; k < ARRAY_SIZE(operators) && strcmp(opname, operators[k].name); k++)
                        ;
                if (k == ARRAY_SIZE(operators))
                        return berth_error(err, 0, "linux.seccomp: unknown operator \"%s\"", opname);
                if (index < 0 || index > 5)
                        return berth_error(err, 0, "linux.seccomp: argument index %lld out of range",
                                           (long long)index);
                if (seen & (1U << index))
                        *same_index = true;
                seen |= 1U << index;
                cmps[i] = (struct scmp_arg_cmp){
                        .arg = (unsigned)index, .op = operators[k].op,
                        .datum_a = (scmp_datum_t)json_integer_value(json_object_get(a, "value")),
                        .datum_b = (scmp_datum_t)json_integer_value(json_object_get(a, "valueTwo")),
                };
        }
        return (int)json_array_size(args);
}

/* One syscalls[] entry.  Conditions on the same argument cannot be ANDed by
 * libseccomp; like runc, each becomes a rule of its own (OR). */
static int add_rule(scmp_filter_ctx ctx, json_t *entry, uint32_t default_action, bool *notify, berth_error_t **err)
{
        struct scmp_arg_cmp cmps[6];
        bool same_index;
        uint32_t action;
        json_t *n;
        size_t i;
        int ncmp, ret;

        if ((ret = parse_action(json_path_str(entry, NULL, "action", NULL), json_object_get(entry, "errnoRet"),
                                &action, err)) < 0)
                return ret;
        if ((ncmp = parse_args(json_object_get(entry, "args"), cmps, 6, &same_index, err)) < 0)
                return ncmp;
        if (action == default_action)
                return 0;
        if (action == SCMP_ACT_NOTIFY)
                *notify = true;
        json_array_foreach(json_object_get(entry, "names"), i, n) {
                const char *name = json_string_value(n);
                int nr = name ? seccomp_syscall_resolve_name(name) : __NR_SCMP_ERROR;
                int r = 0;

                if (nr == __NR_SCMP_ERROR)
                        continue; /* a syscall this kernel or arch lacks */
                if (same_index)
                        for (int k = 0; k < ncmp && r >= 0; k++)
                                r = seccomp_rule_add_array(ctx, action, nr, 1, &cmps[k]);
                else
                        r = seccomp_rule_add_array(ctx, action, nr, (unsigned)ncmp, cmps);
                if (r < 0)
                        return berth_error(err, -r, "linux.seccomp: rule for %s", name);
        }
        return 0;
}

static int parse_flags(json_t *flags, unsigned int *out, berth_error_t **err)
{
        json_t *f;
        size_t i;

        *out = 0;
        json_array_foreach(flags, i, f) {
                const char *name = json_string_value(f);
                size_t k;
                for (k = 0; k < ARRAY_SIZE(filter_flags) && (!name || strcmp(name, filter_flags[k].name)); k++)
                        ;
                if (k == ARRAY_SIZE(filter_flags))
                        return berth_error(err, 0, "linux.seccomp: unknown flag \"%s\"", name ? name : "");
                *out |= filter_flags[k].flag;
        }
        return 0;
}

static int export_bpf(scmp_filter_ctx ctx, struct seccomp_program *out, berth_error_t **err)
{
        _cleanup_close_ int fd = memfd_create("berth-seccomp", MFD_CLOEXEC);
        struct stat st;
        int r;

        if (fd < 0)
                return berth_error(err, errno, "memfd_create");
        if ((r = seccomp_export_bpf(ctx, fd)) < 0)
                return berth_error(err, -r, "linux.seccomp: export BPF");
        if (fstat(fd, &st) < 0)
                return berth_error(err, errno, "stat BPF");
        out->len = (size_t)st.st_size;
        out->bpf = xmalloc(out->len);
        if (pread(fd, out->bpf, out->len, 0) != (ssize_t)out->len)
                return berth_error(err, errno, "read BPF");
        return 0;
}

/* Syscalls newer than libseccomp's table cannot be named in a profile, so
 * an allowlist would answer them with its default errno (EPERM); programs
 * probing for a new syscall expect ENOSYS and fall back.  Like runc, give
 * ENOSYS for every native syscall number above the highest one known. */
static int highest_known_syscall(void)
{
        uint32_t arch = seccomp_arch_native();
        int max = -1;

        for (int nr = 0; nr < 1024; nr++) {
                char *name = seccomp_syscall_resolve_num_arch(arch, nr);
                if (name) {
                        max = nr;
                        free(name);
                }
        }
        return max;
}

static bool needs_enosys_stub(uint32_t default_action)
{
        return default_action != SCMP_ACT_ALLOW && default_action != SCMP_ACT_LOG;
}

static int compile(json_t *seccomp, struct seccomp_program *out, berth_error_t **err)
{
        uint32_t default_action;
        scmp_filter_ctx ctx;
        json_t *entry;
        size_t i;
        int ret;

        if ((ret = parse_action(json_path_str(seccomp, NULL, "defaultAction", NULL),
                                json_object_get(seccomp, "defaultErrnoRet"), &default_action, err)) < 0)
                return ret;
        if ((ctx = seccomp_init(default_action)) == NULL)
                return berth_error(err, 0, "linux.seccomp: cannot initialise libseccomp");
        /* no_new_privs is the process' own setting, applied by the runtime */
        seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
        /* a binary tree of syscall numbers instead of a linear list: the
         * kernel runs the filter for every syscall number when it loads it
         * (its action cache), so a long linear filter costs milliseconds at
         * each container start, and every syscall later */
        seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
        ret = add_architectures(ctx, json_object_get(seccomp, "architectures"), err);
        json_array_foreach(json_object_get(seccomp, "syscalls"), i, entry) {
                if (ret < 0)
                        break;
                ret = add_rule(ctx, entry, default_action, &out->notify, err);
        }
        if (ret == 0)
                ret = export_bpf(ctx, out, err);
        if (ret == 0 && needs_enosys_stub(default_action))
                out->stub_max_nr = highest_known_syscall();
        seccomp_release(ctx);
        return ret;
}

/* FNV-1a names the cache file; the file holds the exact JSON it was built
 * from, and the versions of Berth and libseccomp that built it, and is
 * used only when all of them match byte for byte. */
static uint64_t fnv1a(const char *s)
{
        uint64_t h = 14695981039346656037ULL;

        for (; *s; s++)
                h = (h ^ (unsigned char)*s) * 1099511628211ULL;
        return h;
}

/* "<magic> <berth version> <libseccomp version>\n<json>\n" */
static char *cache_header(const char *key)
{
        const struct scmp_version *v = seccomp_version();

        return xasprintf("%s %s %u.%u.%u x32=%d\n%s\n", CACHE_MAGIC, BERTH_VERSION, v->major, v->minor, v->micro,
                         kernel_runs_x32(), key);
}

struct cache_meta {
        uint8_t notify;
        uint8_t stub;       /* an ENOSYS stub follows the filter */
        int32_t max_nr;     /* highest syscall number libseccomp knows (native arch) */
        uint32_t filter_len;
};

static bool cache_load(const char *path, const char *header, struct seccomp_program *out)
{
        _cleanup_free_ char *data = NULL;
        size_t len = 0, hlen = strlen(header);
        struct cache_meta meta;

        if (read_file(path, &data, &len, NULL) < 0 || len < hlen + sizeof(meta))
                return false;
        if (memcmp(data, header, hlen) != 0)
                return false;
        memcpy(&meta, data + hlen, sizeof(meta));
        if (meta.filter_len == 0 || meta.filter_len % sizeof(struct sock_filter) ||
            hlen + sizeof(meta) + meta.filter_len != len)
                return false;
        out->notify = meta.notify;
        out->stub_max_nr = meta.stub ? meta.max_nr : -1;
        out->len = meta.filter_len;
        out->bpf = xmalloc(out->len);
        memcpy(out->bpf, data + hlen + sizeof(meta), out->len);
        return true;
}

static void cache_store(const char *dir, const char *path, const char *header, const struct seccomp_program *p)
{
        size_t hlen = strlen(header);
        struct cache_meta meta = { .notify = p->notify, .stub = p->stub_max_nr >= 0,
                                   .max_nr = p->stub_max_nr, .filter_len = (uint32_t)p->len };
        _cleanup_free_ char *buf = xmalloc(hlen + sizeof(meta) + p->len);

        memcpy(buf, header, hlen);
        memcpy(buf + hlen, &meta, sizeof(meta));
        memcpy(buf + hlen + sizeof(meta), p->bpf, p->len);
        /* the runtime root may not exist yet on the first create */
        if (mkdir_p(dir, 0700, NULL) < 0)
                return;
        (void)write_file_atomic(path, buf, hlen + sizeof(meta) + p->len, NULL);
}

int seccomp_program_build(json_t *seccomp, const char *cache_dir, struct seccomp_program *out,
                          berth_error_t **err)
{
        _cleanup_free_ char *key = NULL, *path = NULL, *header = NULL;
        int ret;

        memset(out, 0, sizeof(*out));
        out->stub_max_nr = -1;
        if ((ret = parse_flags(json_object_get(seccomp, "flags"), &out->flags, err)) < 0)
                return ret;
        if (json_path_str(seccomp, NULL, "listenerPath", NULL))
                out->listener_path = xstrdup(json_path_str(seccomp, NULL, "listenerPath", NULL));
        out->listener_metadata = xstrdup(json_path_str(seccomp, "", "listenerMetadata", NULL));
        key = json_dumps(seccomp, JSON_COMPACT);
        header = cache_header(key);
        if (cache_dir) {
                path = xasprintf("%s/%016llx.bpf", cache_dir, (unsigned long long)fnv1a(header));
                if (cache_load(path, header, out))
                        return 0;
        }
        if ((ret = compile(seccomp, out, err)) < 0)
                return ret;
        if (out->notify && out->listener_path == NULL)
                return berth_error(err, 0, "linux.seccomp: SCMP_ACT_NOTIFY needs listenerPath");
        if (cache_dir)
                cache_store(cache_dir, path, header, out);
        return 0;
}

void seccomp_program_free(struct seccomp_program *p)
{
        free(p->bpf);
        free(p->listener_path);
        free(p->listener_metadata);
        memset(p, 0, sizeof(*p));
}

/* A second filter, installed after the profile: for an ERRNO verdict of
 * both, the later filter's errno wins, and for anything else it allows,
 * leaving the profile's verdict alone.  x32 numbers (bit 30) are the
 * profile's business. */
static int load_enosys_stub(const struct seccomp_program *p, berth_error_t **err)
{
        struct sock_filter stub[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 4),
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x40000000, 2, 0),
                BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, (uint32_t)p->stub_max_nr, 0, 1),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog prog = { .len = ARRAY_SIZE(stub), .filter = stub };

        if (seccomp_arch_native() != SCMP_ARCH_X86_64)
                return 0; /* the stub's arch check is written for x86_64 */
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, p->flags & ~SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog) < 0)
                return berth_error(err, errno, "load the seccomp ENOSYS filter");
        return 0;
}

int seccomp_program_load(const struct seccomp_program *p, int listener_fd, const char *state_json,
                         berth_error_t **err)
{
        struct sock_fprog prog = { .len = (unsigned short)(p->len / sizeof(struct sock_filter)),
                                   .filter = p->bpf };
        unsigned int flags = p->flags | (p->notify ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0);
        int fd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
        int ret;

        if (fd < 0)
                return berth_error(err, errno, "load seccomp filter");
        if (p->stub_max_nr >= 0 && (ret = load_enosys_stub(p, err)) < 0) {
                if (p->notify)
                        close(fd);
                return ret;
        }
        if (!p->notify)
                return 0;
        ret = send_fd(listener_fd, fd, state_json, err);
        close(fd);
        return ret < 0 ? berth_error_wrap(err, "seccomp listener %s", p->listener_path) : 0;
}
