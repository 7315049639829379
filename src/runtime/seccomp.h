/* linux.seccomp: compiled to BPF with libseccomp in the runtime (cached by
 * the exact JSON, so repeated starts skip the compiler), then loaded by the
 * container process itself right before it runs the program. */
#pragma once
#include "util/error.h"
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct seccomp_program {
        void *bpf;              /* struct sock_filter[] */
        size_t len;             /* bytes */
        unsigned int flags;     /* SECCOMP_FILTER_FLAG_* for seccomp(2) */
        bool notify;            /* some rule says SCMP_ACT_NOTIFY */
        int stub_max_nr;        /* ENOSYS above this native syscall number; -1: no stub */
        char *listener_path;    /* linux.seccomp.listenerPath */
        char *listener_metadata;
};

/* Compile (or take from cache_dir, when not NULL) the filter for seccomp.
 * Unknown syscall names are skipped, as runc does; unknown actions,
 * operators, architectures or flags are errors naming them. */
int seccomp_program_build(json_t *seccomp, const char *cache_dir, struct seccomp_program *out,
                          berth_error_t **err);
void seccomp_program_free(struct seccomp_program *p);

/* In the container process: install the filter.  With a listener, the
 * notify fd goes over listener_fd (connected to listenerPath before
 * pivot_root) with SCM_RIGHTS and the runtime-spec containerProcessState
 * JSON as the message. */
int seccomp_program_load(const struct seccomp_program *p, int listener_fd, const char *state_json,
                         berth_error_t **err);
