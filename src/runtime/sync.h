/* Parent <-> container-child messages over a SOCK_SEQPACKET socketpair.
 * Errors in the child travel back as SYNC_ERROR with the real cause, so the
 * user never sees "EOF" or "broken pipe". */
#pragma once
#include "util/error.h"

enum sync_type {
        SYNC_GO = 1,        /* parent: id maps written; set up (the parent finishes the cgroup meanwhile) */
        SYNC_CGROUP_DONE,   /* parent: the child sits in its cgroup, limits apply */
        SYNC_HOOKS,         /* child: namespaces exist, run prestart/createRuntime */
        SYNC_HOOKS_DONE,    /* parent: hooks ran */
        SYNC_READY,         /* child: set up, waiting for start */
        SYNC_START,         /* parent (run): exec now */
        SYNC_ERROR,         /* either: the text that follows is the error */
        SYNC_ROOTFS_TREE,   /* parent: the idmapped rootfs tree (fd attached, or none) */
};

struct sync_msg {
        int type;
        char text[4000];
};

int sync_socketpair(int fds[2], berth_error_t **err);
int sync_send(int fd, enum sync_type type, const char *text);
/* Receive one message. Returns 0, or -1 with errno (0 on EOF). */
int sync_recv(int fd, struct sync_msg *msg);
/* Receive and require `want`; a SYNC_ERROR becomes *err with its text. */
int sync_expect(int fd, enum sync_type want, berth_error_t **err);
/* A message carrying an fd (SCM_RIGHTS); fd < 0 sends the message alone. */
int sync_send_fd(int sock, enum sync_type type, int fd);
/* Receive a message and the fd it may carry (*fd = -1 when none). */
int sync_recv_fd(int sock, struct sync_msg *msg, int *fd);
/* Child side: report err to the parent (no-op if fd < 0). */
void sync_send_error(int fd, berth_error_t *err);
