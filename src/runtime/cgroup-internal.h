/* Shared by the cgroup*.c files: cgroup.c (the object's life),
 * cgroup-discover.c (what the host runs), cgroup-path.c, cgroup-io.c (knob
 * files), cgroup-dirs.c (directory walks), cgroup-decode.c and
 * cgroup-resources.c (linux.resources), cgroup-ops.c (enter, pids, freeze,
 * stats), and the per-version writers cgroup-v1.c and cgroup-v2.c.
 * Nothing outside them includes this. */
#pragma once
#include "runtime/cgroup.h"

/* The runtime's own parent cgroup: relative cgroupsPath and the default
 * path live under it. */
#define CG_PARENT "berth"
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Controllers Berth knows.  One id per controller even where v1 and v2
 * name it differently (blkio / io). */
enum cg_ctrl {
        CG_CPU, CG_CPUACCT, CG_CPUSET, CG_MEMORY, CG_DEVICES, CG_FREEZER,
        CG_NET_CLS, CG_NET_PRIO, CG_BLKIO, CG_PERF_EVENT, CG_HUGETLB,
        CG_PIDS, CG_RDMA, CG_MISC,
        CG_N_CTRL
};
#define CG_BIT(c) (1u << (c))

/* Name of a controller in v1 mount options / in v2 cgroup.controllers;
 * NULL when that version has no such controller.  Lookup by name: -1 if
 * unknown. */
const char *cg_ctrl_name(enum cg_ctrl c, bool v2);
int cg_ctrl_by_name(const char *name, bool v2);

/* One mounted v1 hierarchy (e.g. /sys/fs/cgroup/cpu,cpuacct). */
struct cg_hierarchy {
        char *mountpoint;
        unsigned ctrls;  /* CG_BIT mask; 0 for a named-only one (name=systemd) */
        int rootfd;      /* the mount's root directory, open for *at() */
};

/* What the host runs.  Discovered once per process and never freed. */
struct cg_host {
        enum cgroup_mode mode;
        struct cg_hierarchy *v1;
        size_t n_v1;
        char *unified_path;     /* the cgroup2 mount; NULL on pure v1 */
        int unified_rootfd;     /* open on unified_path; -1 on pure v1 */
        unsigned unified_ctrls; /* controllers used through cgroup2 */
};
const struct cg_host *cg_host(void);
/* The directory the hierarchies are looked for under: /sys/fs/cgroup, or
 * BERTH_CGROUP_ROOT for tests. */
const char *cg_root(void);

/* Lexically clean an absolute path; ".." never climbs above "/". */
char *cg_clean_path(const char *in);

struct cgroup {
        char *path;             /* as cgroup_path() returns it: "/berth/id" */
        const char *rel;        /* path + 1: relative to each hierarchy root */
        const struct cg_host *host;
        int *v1fd;              /* per host->v1[i]; -1 when the dir is missing */
        int unified_fd;         /* -1 when missing or no cgroup2 */
        int *v1tasks;           /* per host->v1[i]: its `tasks` file, opened
                                 * O_WRONLY by cgroup_self_enter_open; else -1 */
        bool self_enter;        /* cgroup_self_enter_open done: the child
                                 * enters the v1 hierarchies itself */
};

/* The directory holding controller c for this cgroup and whether its files
 * follow v2 naming; -1 when the host has no such controller or the
 * directory is gone. */
int cg_ctrl_fd(const struct cgroup *cg, enum cg_ctrl c, bool *v2);

/* Write one value to a cgroup file that must exist.  The error names the
 * file and the value ("write memory.max=123: Device or resource busy")
 * and the return value is -errno, so callers can react to EINVAL. */
int cg_write(int dirfd, const char *file, const char *value, berth_error_t **err);
int cg_write_i64(int dirfd, const char *file, int64_t value, berth_error_t **err);
/* A knob some kernels lack (cpu.rt_runtime_us needs RT_GROUP_SCHED;
 * cpu.idle, the burst files are newer): written when the file exists,
 * fine to skip when v is 0, else an error naming it. */
int cg_write_optional(int dirfd, const char *file, int64_t v, berth_error_t **err);
/* Read a small cgroup file into buf, trailing newline removed. */
int cg_read(int dirfd, const char *file, char *buf, size_t size, berth_error_t **err);
/* Read a single number; "max" reads as UINT64_MAX. */
int cg_read_u64(int dirfd, const char *file, uint64_t *out, berth_error_t **err);
/* Find "key N" in a flat keyed file (cpu.stat, memory.events, ...).
 * A missing key reads as 0. */
int cg_read_keyed(int dirfd, const char *file, const char *key, uint64_t *out, berth_error_t **err);
/* For stats: read a value (key NULL) or a keyed entry into *out; a
 * missing directory (dirfd < 0) or file leaves *out as it was. */
int cg_stat(int dirfd, const char *file, const char *key, uint64_t *out, berth_error_t **err);
/* Sleep for a short poll interval that grows from 50 µs to 10 ms. */
void cg_backoff(unsigned *step);
uint64_t cg_now_ms(void);

/* linux.resources decoded once, so the v1 and v2 writers deal with C
 * values only.  Absent scalars are .set == false; lists stay JSON arrays
 * (validated by their writer).  Borrowed from the JSON document. */
struct cg_i64 {
        bool set;
        int64_t v;
};
struct cg_resources {
        struct { struct cg_i64 limit, reservation, swap, swappiness, disable_oom; } mem;
        struct { struct cg_i64 shares, quota, period, burst, rt_runtime, rt_period, idle; } cpu;
        struct { const char *cpus, *mems; } cpuset;
        struct cg_i64 pids_limit;
        struct {
                struct cg_i64 weight, leaf_weight;
                json_t *weight_device;
                json_t *throttle[4]; /* read bps, write bps, read iops, write iops */
        } blkio;
        json_t *hugepages;
        json_t *devices;
        struct { struct cg_i64 class_id; json_t *priorities; } net;
        json_t *unified;
        json_t *rdma;
};
extern const char *const cg_throttle_names[4]; /* "throttleReadBpsDevice", ... */
/* Fill *r from a linux.resources object; a wrong type is an error naming
 * the key, unknown keys are ignored. */
int cg_decode_resources(json_t *res, struct cg_resources *r, berth_error_t **err);

/* Each element of a device-keyed list: {"major":8,"minor":0,<key>:N}.
 * Fills major, minor, value; value_set is false when <key> is absent. */
int cg_json_dev_entry(json_t *e, const char *list, const char *key, int64_t *major,
                      int64_t *minor, int64_t *value, bool *value_set, berth_error_t **err);
/* A hugepageLimits entry: pageSize checked to be a plain token like
 * "2MB" (it becomes part of a file name). */
int cg_json_hugepage(json_t *e, const char **size, int64_t *limit, berth_error_t **err);

/* cgroup-v1.c */
/* Record the v1 hierarchies mounted under root (from mountinfo). */
void cg_v1_discover(struct cg_host *h, const char *root);
int cg_v1_create(struct cgroup *cg, size_t i, int *first_new, berth_error_t **err);
int cg_v1_memory(int fd, const struct cg_resources *r, berth_error_t **err);
int cg_v1_cpu(int fd, const struct cg_resources *r, berth_error_t **err);
int cg_v1_blkio(int fd, const struct cg_resources *r, berth_error_t **err);
int cg_v1_hugetlb(int fd, const struct cg_resources *r, berth_error_t **err);
int cg_v1_devices(int fd, const struct cg_resources *r, berth_error_t **err);
/* v2 has no devices files: an eBPF program (BPF_CGROUP_DEVICE) built from
 * the same rules is attached to the cgroup directory fd instead. */
int cg_v2_devices(int fd, const struct cg_resources *r, berth_error_t **err);

/* One linux.resources.devices rule, checked. */
struct cg_dev_rule {
        bool allow;
        char type;            /* 'a', 'b' or 'c' */
        int64_t major, minor; /* -1: any */
        const char *access;   /* subset of "rwm" */
};
int cg_parse_dev_rule(json_t *e, struct cg_dev_rule *d, berth_error_t **err);
int cg_v1_net_cls(int fd, const struct cg_resources *r, berth_error_t **err);
int cg_v1_net_prio(int fd, const struct cg_resources *r, berth_error_t **err);
int cg_v1_freeze(int fd, bool frozen, berth_error_t **err);
bool cg_v1_is_frozen(int fd);
int cg_v1_stats(const struct cgroup *cg, struct cgroup_stats *st, berth_error_t **err);

/* cgroup-v2.c */
/* Controllers a cgroup2 directory offers, as a CG_BIT mask. */
unsigned cg_v2_controllers(int fd);
int cg_v2_create(struct cgroup *cg, int *first_new, berth_error_t **err);
int cg_v2_memory(int fd, const struct cg_resources *r, berth_error_t **err);
int cg_v2_cpu(int fd, const struct cg_resources *r, berth_error_t **err);
int cg_v2_io(int fd, const struct cg_resources *r, berth_error_t **err);
int cg_v2_hugetlb(int fd, const struct cg_resources *r, berth_error_t **err);
int cg_v2_unified(int fd, const struct cg_resources *r, berth_error_t **err);
int cg_v2_freeze(int fd, bool frozen, berth_error_t **err);
bool cg_v2_is_frozen(int fd);
int cg_v2_stats(int fd, struct cgroup_stats *st, berth_error_t **err);

/* Shared by both: cpuset.cpus / cpuset.mems have the same names in v1 and
 * v2; pids.max too. */
int cg_set_cpuset(int fd, const struct cg_resources *r, berth_error_t **err);
int cg_set_pids(int fd, const struct cg_resources *r, berth_error_t **err);
int cg_set_hugetlb(int fd, const struct cg_resources *r, const char *limit_suffix, const char *rsvd_suffix,
                   int (*write_limit)(int fd, const char *file, int64_t v, berth_error_t **err),
                   berth_error_t **err);

/* ---- directories: create, roll back, destroy ---- */

/* Open rel under rootfd (the root itself when rel is ""), O_RDONLY. */
int cg_open_dir(int rootfd, const char *rel);

/* Optional per-level callbacks for cg_mkdir_path: at_parent runs on each
 * existing ancestor before its child is made (v2: subtree_control),
 * at_child on each level once it exists (v1: cpuset.cpus/mems copy).
 * parentfd may be the O_PATH hierarchy root. */
struct cg_walk_hook {
        int (*at_parent)(int parentfd, void *data, berth_error_t **err);
        int (*at_child)(int parentfd, int childfd, bool created, void *data, berth_error_t **err);
        void *data;
};
/* mkdir every missing component of rel under rootfd (existing ones are
 * reused) and return an open fd of the leaf.  *first_new is the index of
 * the first component this call made, or -1; set even on failure, for
 * cg_rmdir_created. */
int cg_mkdir_path(int rootfd, const char *rel, const struct cg_walk_hook *hook, int *first_new,
                  berth_error_t **err);
/* Undo cg_mkdir_path: rmdir components first_new..last, deepest first. */
void cg_rmdir_created(int rootfd, const char *rel, int first_new);
/* rmdir rel and every child cgroup, retrying EBUSY until the deadline
 * (cg_now_ms() clock). */
int cg_rmdir_tree(int rootfd, const char *rel, uint64_t deadline, berth_error_t **err);
