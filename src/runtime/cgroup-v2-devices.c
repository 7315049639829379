/* cgroup v2 device control: linux.resources.devices compiled into a
 * BPF_PROG_TYPE_CGROUP_DEVICE program and attached to the container's
 * cgroup, replacing any program an earlier create or update attached.
 *
 * The kernel calls the program for every open/mknod of a device node with
 * struct bpf_cgroup_dev_ctx { u32 access_type (access << 16 | type); u32
 * major; u32 minor; } and allows the operation when it returns 1.  Rules
 * keep the v1 meaning (applied in order, the last matching one decides,
 * default allow), so the program checks them last to first. */
#include "runtime/cgroup-internal.h"
#include "util/util.h"
#include <errno.h>
#include <linux/bpf.h>
#include <string.h>
#include <sys/syscall.h>

#define R_ACCESS 2 /* requested access bits */
#define R_TYPE 3   /* BPF_DEVCG_DEV_BLOCK / CHAR */
#define R_MAJOR 4
#define R_MINOR 5
#define R_TMP 6

struct prog {
        struct bpf_insn *insns;
        size_t n, cap;
};

static void emit(struct prog *p, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
        if (p->n == p->cap) {
                p->cap = p->cap ? p->cap * 2 : 64;
                p->insns = xrealloc(p->insns, p->cap * sizeof(*p->insns));
        }
        p->insns[p->n++] = (struct bpf_insn){ .code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm };
}

static void emit_prologue(struct prog *p)
{
        emit(p, BPF_LDX | BPF_MEM | BPF_W, R_ACCESS, 1, 0, 0);   /* access_type */
        emit(p, BPF_ALU64 | BPF_MOV | BPF_X, R_TYPE, R_ACCESS, 0, 0);
        emit(p, BPF_ALU64 | BPF_AND | BPF_K, R_TYPE, 0, 0, 0xffff);
        emit(p, BPF_ALU64 | BPF_RSH | BPF_K, R_ACCESS, 0, 0, 16);
        emit(p, BPF_LDX | BPF_MEM | BPF_W, R_MAJOR, 1, 4, 0);
        emit(p, BPF_LDX | BPF_MEM | BPF_W, R_MINOR, 1, 8, 0);
}

static int access_bits(const char *access)
{
        int bits = 0;

        for (; *access; access++)
                bits |= *access == 'm' ? BPF_DEVCG_ACC_MKNOD : *access == 'r' ? BPF_DEVCG_ACC_READ
                                                                              : BPF_DEVCG_ACC_WRITE;
        return bits;
}

/* One rule: a run of "does not match -> skip to the next rule" checks, then
 * the verdict.  Jumps are relative, so the block's length is known first.
 * Returns false when the rule matches everything: what follows would be
 * dead code, which the verifier refuses. */
static bool emit_rule(struct prog *p, const struct cg_dev_rule *d)
{
        int acc = access_bits(d->access), all = BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE;
        bool check_type = d->type != 'a', check_access = d->type != 'a' && acc != all;
        bool check_major = d->type != 'a' && d->major >= 0, check_minor = d->type != 'a' && d->minor >= 0;
        int left = check_type + 3 * check_access + check_major + check_minor;

        if (check_type)
                emit(p, BPF_JMP | BPF_JNE | BPF_K, R_TYPE, 0, (int16_t)(--left + 2),
                     d->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
        if (check_access) {
                /* every requested bit must be one the rule names */
                emit(p, BPF_ALU64 | BPF_MOV | BPF_X, R_TMP, R_ACCESS, 0, 0);
                emit(p, BPF_ALU64 | BPF_AND | BPF_K, R_TMP, 0, 0, ~acc & all);
                left -= 3;
                emit(p, BPF_JMP | BPF_JNE | BPF_K, R_TMP, 0, (int16_t)(left + 2), 0);
        }
        if (check_major)
                emit(p, BPF_JMP | BPF_JNE | BPF_K, R_MAJOR, 0, (int16_t)(--left + 2), (int32_t)d->major);
        if (check_minor)
                emit(p, BPF_JMP | BPF_JNE | BPF_K, R_MINOR, 0, (int16_t)(--left + 2), (int32_t)d->minor);
        emit(p, BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, d->allow ? 1 : 0);
        emit(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
        return check_type || check_access || check_major || check_minor;
}

static int build(json_t *rules, struct prog *p, berth_error_t **err)
{
        size_t n = json_array_size(rules);
        int ret;

        emit_prologue(p);
        for (size_t i = n; i-- > 0;) {
                struct cg_dev_rule d = { 0 };
                if ((ret = cg_parse_dev_rule(json_array_get(rules, i), &d, err)) < 0)
                        return ret;
                if (!emit_rule(p, &d))
                        return 0;
        }
        /* nothing matched: a fresh v1 cgroup allows everything */
        emit(p, BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 1);
        emit(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
        return 0;
}

static int bpf(int cmd, union bpf_attr *attr)
{
        return (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

static int load(const struct prog *p, berth_error_t **err)
{
        union bpf_attr attr;
        int fd;

        memset(&attr, 0, sizeof(attr));
        attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
        attr.insns = (uint64_t)(uintptr_t)p->insns;
        attr.insn_cnt = (uint32_t)p->n;
        attr.license = (uint64_t)(uintptr_t) "Apache";
        fd = bpf(BPF_PROG_LOAD, &attr);
        if (fd >= 0 || errno != EINVAL)
                return fd >= 0 ? fd : berth_error(err, errno, "devices: load the cgroup v2 device program");
        /* the verifier said no: load again with its log, which says why */
        char log[4096] = "";
        attr.log_buf = (uint64_t)(uintptr_t)log;
        attr.log_size = sizeof(log);
        attr.log_level = 1;
        fd = bpf(BPF_PROG_LOAD, &attr);
        if (fd >= 0)
                return fd;
        for (char *nl; (nl = strchr(log, '\n')) != NULL;)
                *nl = ' ';
        return berth_error(err, 0, "devices: the kernel refused the cgroup v2 device program: %s", log);
}

/* Programs attached before (an earlier create or update), to detach once
 * the new one is in place, so there is never a moment without one. */
static int attached_programs(int cgfd, uint32_t *ids, uint32_t max)
{
        union bpf_attr attr;

        memset(&attr, 0, sizeof(attr));
        attr.query.target_fd = (uint32_t)cgfd;
        attr.query.attach_type = BPF_CGROUP_DEVICE;
        attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
        attr.query.prog_cnt = max;
        if (bpf(BPF_PROG_QUERY, &attr) < 0)
                return 0;
        return (int)attr.query.prog_cnt;
}

static void detach(int cgfd, uint32_t id)
{
        union bpf_attr attr;
        int fd;

        memset(&attr, 0, sizeof(attr));
        attr.prog_id = id;
        if ((fd = bpf(BPF_PROG_GET_FD_BY_ID, &attr)) < 0)
                return;
        memset(&attr, 0, sizeof(attr));
        attr.target_fd = (uint32_t)cgfd;
        attr.attach_bpf_fd = (uint32_t)fd;
        attr.attach_type = BPF_CGROUP_DEVICE;
        bpf(BPF_PROG_DETACH, &attr);
        close(fd);
}

int cg_v2_devices(int cgfd, const struct cg_resources *r, berth_error_t **err)
{
        struct prog p = { 0 };
        uint32_t old[64];
        _cleanup_close_ int progfd = -1;
        union bpf_attr attr;
        int n_old, ret;

        if ((ret = build(r->devices, &p, err)) == 0 && (progfd = load(&p, err)) < 0)
                ret = progfd;
        free(p.insns);
        if (ret < 0)
                return ret;
        n_old = attached_programs(cgfd, old, ARRAY_SIZE(old));
        memset(&attr, 0, sizeof(attr));
        attr.target_fd = (uint32_t)cgfd;
        attr.attach_bpf_fd = (uint32_t)progfd;
        attr.attach_type = BPF_CGROUP_DEVICE;
        attr.attach_flags = BPF_F_ALLOW_MULTI;
        if (bpf(BPF_PROG_ATTACH, &attr) < 0)
                return berth_error(err, errno, "devices: attach the cgroup v2 device program");
        for (int i = 0; i < n_old && i < (int)ARRAY_SIZE(old); i++)
                detach(cgfd, old[i]);
        return 0;
}
