#include "runtime/seccomp.h"
#include "runtime/console.h"
#include "oci/config.h"
#include "util/util.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
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
        ret = add_architectures(ctx, json_object_get(seccomp, "architectures"), err);
        json_array_foreach(json_object_get(seccomp, "syscalls"), i, entry) {
                if (ret < 0)
                        break;
                ret = add_rule(ctx, entry, default_action, &out->notify, err);
        }
        if (ret == 0)
                ret = export_bpf(ctx, out, err);
        seccomp_release(ctx);
        return ret;
}

/* FNV-1a names the cache file; the file holds the exact JSON it was built
 * from and is used only when that matches byte for byte. */
static uint64_t fnv1a(const char *s)
{
        uint64_t h = 14695981039346656037ULL;

        for (; *s; s++)
                h = (h ^ (unsigned char)*s) * 1099511628211ULL;
        return h;
}

static bool cache_load(const char *path, const char *key, struct seccomp_program *out)
{
        _cleanup_free_ char *data = NULL;
        size_t len = 0, klen = strlen(key), hdr = sizeof(CACHE_MAGIC) - 1;

        if (read_file(path, &data, &len, NULL) < 0 || len < hdr + klen + 1)
                return false;
        if (memcmp(data, CACHE_MAGIC, hdr) != 0 || memcmp(data + hdr, key, klen) != 0 || data[hdr + klen] != '\n')
                return false;
        out->len = len - hdr - klen - 1;
        if (out->len == 0 || out->len % sizeof(struct sock_filter))
                return false;
        out->bpf = xmalloc(out->len);
        memcpy(out->bpf, data + hdr + klen + 1, out->len);
        return true;
}

static void cache_store(const char *dir, const char *path, const char *key, const struct seccomp_program *p)
{
        size_t hdr = sizeof(CACHE_MAGIC) - 1, klen = strlen(key);
        _cleanup_free_ char *buf = xmalloc(hdr + klen + 1 + p->len);

        memcpy(buf, CACHE_MAGIC, hdr);
        memcpy(buf + hdr, key, klen);
        buf[hdr + klen] = '\n';
        memcpy(buf + hdr + klen + 1, p->bpf, p->len);
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return;
        (void)write_file_atomic(path, buf, hdr + klen + 1 + p->len, NULL);
}

int seccomp_program_build(json_t *seccomp, const char *cache_dir, struct seccomp_program *out,
                          berth_error_t **err)
{
        _cleanup_free_ char *key = NULL, *path = NULL;
        int ret;

        memset(out, 0, sizeof(*out));
        if ((ret = parse_flags(json_object_get(seccomp, "flags"), &out->flags, err)) < 0)
                return ret;
        if (json_path_str(seccomp, NULL, "listenerPath", NULL))
                out->listener_path = xstrdup(json_path_str(seccomp, NULL, "listenerPath", NULL));
        out->listener_metadata = xstrdup(json_path_str(seccomp, "", "listenerMetadata", NULL));
        /* the notify flag is derived again on a cache hit from the text */
        key = json_dumps(seccomp, JSON_COMPACT | JSON_SORT_KEYS);
        out->notify = strstr(key, "\"SCMP_ACT_NOTIFY\"") != NULL;
        if (cache_dir) {
                path = xasprintf("%s/%016llx.bpf", cache_dir, (unsigned long long)fnv1a(key));
                if (cache_load(path, key, out))
                        return 0;
        }
        if ((ret = compile(seccomp, out, err)) < 0)
                return ret;
        if (out->notify && out->listener_path == NULL)
                return berth_error(err, 0, "linux.seccomp: SCMP_ACT_NOTIFY needs listenerPath");
        if (cache_dir)
                cache_store(cache_dir, path, key, out);
        return 0;
}

void seccomp_program_free(struct seccomp_program *p)
{
        free(p->bpf);
        free(p->listener_path);
        free(p->listener_metadata);
        memset(p, 0, sizeof(*p));
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
        if (!p->notify)
                return 0;
        ret = send_fd(listener_fd, fd, state_json, err);
        close(fd);
        return ret < 0 ? berth_error_wrap(err, "seccomp listener %s", p->listener_path) : 0;
}
