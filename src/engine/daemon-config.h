/* berthd's configuration, as dockerd's: command-line flags and a
 * daemon.json (--config-file), merged key by key.  A key given both as a
 * flag and in the file is an error, and so is a key the file has that
 * berthd does not know (dockerd does both), so a typo never goes unseen.
 *
 * Both sources are first a JSON object spelled as daemon.json spells it
 * ({"debug": true, "hosts": [...]}); the flags are collected into one by
 * daemon_flag_* as berthd parses them.  One typed check then covers both.
 *
 * Keys: data-root, exec-root, hosts, pidfile, group, debug, log-level,
 * default-ulimits, default-runtime, runtimes, insecure-registries, tls,
 * tlsverify, tlscacert, tlscert, tlskey, seccomp-profile; for networks bip,
 * default-address-pools, mtu, dns, dns-search, dns-opts, ip, icc, ip-masq,
 * userland-proxy (accepted: published ports never need a proxy) and ipv6.
 *
 * The live configuration.  berthd publishes each configuration it loads
 * (at start, then at every SIGHUP that loads a good file); operations read
 * the current one when they begin: default ulimits at create, the runtime
 * at start, insecure registries at pull and push.  A published
 * configuration is never freed before exit, because an operation in
 * flight may still read it and reloads are rare. */
#pragma once
#include "util/error.h"
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* The built-in runtime (berth-runtime, in the shim's own process). */
#define DAEMON_RUNTIME_BUILTIN "berth"

struct daemon_runtime {
        const char *name;
        char *path;             /* an OCI runtime binary (runc's CLI); NULL: the built-in one */
        char *root;             /* its --root: <exec-root>/runtimes/<name>; NULL for the built-in */
};

struct daemon_config {
        json_t *given;          /* the merged keys as given (flags and file, no defaults) */
        const char *data_root, *exec_root, *pidfile, *group, *log_level, *seccomp_profile;
        const char **hosts;                     /* NULL-terminated */
        const char **insecure_registries;       /* NULL-terminated */
        bool debug, tls, tlsverify;
        const char *tlscacert, *tlscert, *tlskey;
        json_t *default_ulimits;        /* {"nofile": {"Name", "Soft", "Hard"}}, never NULL */
        const char *default_runtime;
        struct daemon_runtime *runtimes;        /* the built-in one first */
        size_t n_runtimes;
};

/* ---- flags ------------------------------------------------------------ */

/* flags[key] = value (a string, or JSON true for a boolean key). */
void daemon_flag_set(json_t *flags, const char *key, const char *value);
void daemon_flag_bool(json_t *flags, const char *key, bool value);
/* Append to the array flags[key] (-H, --insecure-registry). */
void daemon_flag_append(json_t *flags, const char *key, const char *value);
/* --add-runtime NAME=PATH and --default-ulimit NAME=SOFT[:HARD]. */
int daemon_flag_runtime(json_t *flags, const char *arg, berth_error_t **err);
int daemon_flag_ulimit(json_t *flags, const char *arg, berth_error_t **err);

/* ---- loading ----------------------------------------------------------- */

/* The configuration from the flags and the file at path.  A missing file
 * is an empty one unless required (an explicit --config-file).  Every
 * error is one line naming the file where it is the file's fault. */
int daemon_config_load(json_t *flags, const char *path, bool required, struct daemon_config **out,
                       berth_error_t **err);
void daemon_config_free(struct daemon_config *c);

/* SIGHUP: the same, for a daemon running with `running`.  Keys read only
 * at start (data-root, hosts, tls...) keep their running values; those
 * the file changes are listed in *ignored (", "-separated; NULL: none). */
int daemon_config_reload(json_t *flags, const char *path, bool required, const struct daemon_config *running,
                         struct daemon_config **out, char **ignored, berth_error_t **err);
/* The reloadable settings, for the log line of a reload. */
char *daemon_config_describe(const struct daemon_config *c);
/* Debug lines on or off, from debug and log-level. */
bool daemon_config_debug(const struct daemon_config *c);

/* ---- the live configuration --------------------------------------------- */

/* Make c the current configuration (takes it). */
void daemon_config_publish(struct daemon_config *c);
/* NULL until berthd publishes one (unit tests, berth-image-test): then
 * every setting is its default. */
const struct daemon_config *daemon_config_current(void);
/* The current insecure registries, NULL-terminated: an array whose address
 * never changes, for struct engine_opts. */
const char *const *daemon_config_insecure_registries(void);

/* A runtime by name; NULL when there is none of that name. */
const struct daemon_runtime *daemon_config_runtime(const struct daemon_config *c, const char *name);
/* The runtime a container runs with: its HostConfig.Runtime, else the
 * current default, which is then written to HostConfig.Runtime so that the
 * container keeps it (dockerd records it the same way).  An unknown name
 * is an error, dockerd's "Unknown runtime specified NAME". */
int daemon_config_container_runtime(json_t *body, const struct daemon_runtime **out, berth_error_t **err);
/* The binary and --root for a runtime command on a container already
 * started (exec, pause...): its recorded HostConfig.Runtime, the
 * built-in one (builtin_path, builtin_root) when that is unset or
 * "berth", or unknown now (the configuration changed since). */
void daemon_config_runtime_cmd(json_t *body, const char *builtin_path, const char *builtin_root,
                               const char **path, const char **root);
/* Docker's /info "Runtimes" ({"berth": {"path": ...}, "runc": {...}})
 * and "DefaultRuntime", from the current configuration.  builtin_path:
 * berth-runtime's path, shown for the built-in one. */
json_t *daemon_config_runtimes_json(const char *builtin_path);
const char *daemon_config_default_runtime(void);

/* ---- networking ---------------------------------------------------------- */

/* bip, default-address-pools, mtu, dns, ip and ipv6 of the given keys,
 * checked (engine-network.c); *key: the one at fault. */
int daemon_net_config_check(json_t *given, const char **key, berth_error_t **err);

/* ---- ulimits ------------------------------------------------------------ */

/* Can a container get this rlimit?  name: "nofile"; hard -1 is unlimited.
 * Containers inherit berthd's limits, and the runtime can raise a hard
 * limit above berthd's only with CAP_SYS_RESOURCE: without it such a
 * limit would only fail at start, so it fails here, naming `where`. */
int daemon_ulimit_check(const char *where, const char *name, long long soft, long long hard,
                        berth_error_t **err);
