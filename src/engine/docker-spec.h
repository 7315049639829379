/* Docker's container create body to an OCI runtime config.json.
 *
 * The input is the JSON of POST /containers/create exactly as the Docker
 * API defines it (Config fields at the top level, plus HostConfig and
 * NetworkingConfig) and the image's config; the output is the config.json
 * the runtime gets, with the defaults Docker gives a container (its
 * capability set, masked and read-only paths, /proc /dev /sys mounts,
 * namespaces, seccomp profile) and what the body changes in them.
 *
 * It is a pure function of its input, apart from reading:
 *   - the rootfs's /etc/passwd and /etc/group (resolved inside the rootfs
 *     with openat2(RESOLVE_IN_ROOT), since images are hostile input);
 *   - the seccomp profile files it is given (the default one, or a path in
 *     SecurityOpt "seccomp=<path>");
 *   - stat(2) of the host devices HostConfig.Devices names, and the host's
 *     /dev for Privileged (Docker gives a privileged container every host
 *     device);
 *   - the host's hostname for NetworkMode "host" (as Docker does), the
 *     kernel's capability count and release (uname) for "ALL" capabilities
 *     and seccomp minKernel conditions.
 * It creates nothing: volumes, the /etc/hosts files, bind sources and the
 * working directory are the engine's, before or after.
 *
 * Two steps, because volumes must exist before the spec can name them:
 *   1. docker_spec_mounts() lists the mounts the body asks for (validated),
 *      so the engine can create or look up each volume;
 *   2. docker_spec_build() takes the volumes' host paths and builds the
 *      config.
 * Errors are one line naming the field, in Docker's words where Docker has
 * some ("no command specified", "unable to find user x: no matching
 * entries in passwd file", "invalid mount config for type \"bind\": ..."). */
#pragma once
#include "image/manifest.h"
#include "util/error.h"
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum docker_mount_type {
        DOCKER_MOUNT_BIND = 1,
        DOCKER_MOUNT_VOLUME,
        DOCKER_MOUNT_TMPFS,
};

/* One mount a container asks for (HostConfig.Binds, HostConfig.Mounts,
 * HostConfig.Tmpfs, and the anonymous volumes of Config.Volumes and the
 * image's Volumes not covered by another mount), in mount order (parents
 * before children).  Strings are owned. */
struct docker_mount {
        enum docker_mount_type type;
        char *destination;      /* absolute and clean ("/data") */
        /* bind: the host path (absolute, clean).  volume: the volume's
         * name, NULL for an anonymous volume until the engine names it.
         * tmpfs: NULL. */
        char *source;
        /* The host path mounted: for a bind its source, for a volume what
         * the engine gave in docker_volume_source.path; NULL before
         * docker_spec_build. */
        char *host_path;
        bool readonly;
        char *propagation;      /* bind: "rprivate" unless asked; volume and tmpfs: "" */
        char *mode;             /* the Binds mode as given ("ro,z"): inspect's Mode; "" otherwise */
        char **tmpfs_options;   /* tmpfs: the merged mount options, NULL-terminated */
        /* bind: the source must already exist (HostConfig.Mounts: Docker
         * fails with "invalid mount config for type \"bind\": bind source
         * path does not exist: /x").  false for HostConfig.Binds, where
         * Docker creates a missing source directory, and with
         * BindOptions.CreateMountpoint.  Checking is the engine's job. */
        bool must_exist;
        bool non_recursive;     /* bind: BindOptions.NonRecursive ("bind", not "rbind") */
        bool nocopy;            /* volume: do not copy the image's files at destination into a new volume */
        /* volume: VolumeOptions.Subpath; the engine resolves it inside the
         * volume and gives the result as docker_volume_source.path */
        char *subpath;
        bool anonymous;         /* volume: no name was given */
};

/* A volume the engine created or found, for the docker_mount of the same
 * destination. */
struct docker_volume_source {
        const char *destination;        /* matches docker_mount.destination */
        const char *name;               /* the volume's name (the engine names anonymous volumes) */
        const char *path;               /* host path to mount: <volumes>/<name>/_data, or its subpath */
};

struct docker_spec_input {
        json_t *create;                         /* required: the create body, borrowed */
        const struct image_config *image;       /* NULL: the body alone says what to run */
        const char *id;                         /* required: the container id (64 hex) */
        /* The mounted rootfs, where /etc/passwd and /etc/group are looked
         * up; NULL: users and groups can only be numeric. */
        const char *rootfs;
        /* What to write as root.path; NULL: rootfs, or "rootfs" (the
         * bundle's) when that is NULL too. */
        const char *root_path;
        /* The hostname when Config.Hostname is empty; NULL: the first 12
         * characters of id, as Docker.  With NetworkMode container:<x> the
         * engine passes the other container's hostname. */
        const char *hostname_default;
        /* Berth's default seccomp profile: a path, or the JSON itself when
         * it starts with '{'.  NULL: no filter unless SecurityOpt names one
         * (a warning says so). */
        const char *seccomp_default;
        /* Host path of berth-init: with HostConfig.Init it is bind-mounted
         * read-only at /sbin/docker-init and runs the command, as Docker's
         * docker-init.  NULL: info.init only, the engine arranges it. */
        const char *init_path;
        /* Files the engine writes for the container; each is bind-mounted
         * at /etc/hostname, /etc/hosts, /etc/resolv.conf (read-only with
         * ReadonlyRootfs) unless a mount of the body covers it; NULL: not
         * mounted. */
        const char *hostname_path, *hosts_path, *resolv_conf_path;
        /* For the container:<x> modes: the namespaces to join
         * (/proc/<pid>/ns/net...), resolved by the engine; a mode whose
         * path is NULL is an error.  For bridge networks, netns_path is
         * the namespace the engine makes for the container at start. */
        const char *netns_path, *ipcns_path, *pidns_path, *utsns_path;
        /* /dev/shm to bind for IpcMode container:<x> and shareable; NULL:
         * a private tmpfs (with a warning for container:<x>). */
        const char *ipc_shm_path;
        /* Where Privileged finds the host's devices; NULL: "/dev".  (Tests
         * point it elsewhere.) */
        const char *host_dev;
        const struct docker_volume_source *volumes;
        size_t n_volumes;
};

enum docker_restart_policy {
        DOCKER_RESTART_NO = 0,
        DOCKER_RESTART_ALWAYS,
        DOCKER_RESTART_UNLESS_STOPPED,
        DOCKER_RESTART_ON_FAILURE,
};

enum docker_network_mode {
        DOCKER_NETWORK_NONE = 1,        /* a network namespace with lo only */
        DOCKER_NETWORK_HOST,            /* the host's network namespace */
        DOCKER_NETWORK_CONTAINER,       /* another container's (netns_path) */
        DOCKER_NETWORK_BRIDGE,          /* its own, made by the engine (netns_path), with endpoints */
};

/* What the engine needs besides config.json.  Strings are owned; free with
 * docker_spec_info_clear. */
struct docker_spec_info {
        int stop_signal;                /* Config.StopSignal, else the image's, else SIGTERM */
        /* Config.StopTimeout in seconds when stop_timeout_set (a negative
         * one waits for the exit forever, as Docker); unset: -1 and the
         * engine's default (10 s). */
        bool stop_timeout_set;
        long long stop_timeout;
        bool init;                      /* HostConfig.Init */
        bool auto_remove;               /* HostConfig.AutoRemove */
        enum docker_restart_policy restart;
        long long restart_max_retries;  /* on-failure only; 0: no limit */
        enum docker_network_mode network;
        bool ipc_shareable;             /* IpcMode "shareable": others may join its IPC namespace */
        bool tty, open_stdin, stdin_once;
        char *hostname;                 /* the container's hostname (also HOSTNAME in its env) */
        uid_t uid;                      /* the resolved user */
        gid_t gid;
        char *home;                     /* the user's home from /etc/passwd, else "/" */
        struct docker_mount *mounts;    /* the mounts, sources filled in */
        size_t n_mounts;
        char **warnings;                /* NULL-terminated; for the create response's Warnings */
        size_t n_warnings;
};

/* Step 1: the mounts the body and image ask for, validated.  On success
 * *out holds *n entries (free with docker_mounts_free). */
int docker_spec_mounts(json_t *create, const struct image_config *image, struct docker_mount **out, size_t *n,
                       berth_error_t **err);
void docker_mounts_free(struct docker_mount *m, size_t n);

/* Step 2: the config.json.  On success *config_out is a new reference and
 * *info is filled (clear it with docker_spec_info_clear); on error both
 * are left empty. */
int docker_spec_build(const struct docker_spec_input *in, json_t **config_out, struct docker_spec_info *info,
                      berth_error_t **err);
void docker_spec_info_clear(struct docker_spec_info *info);
