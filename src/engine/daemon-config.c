/* berthd's configuration: daemon.json and flags checked, merged and
 * published (daemon-config.h has the rules). */
#include "engine/daemon-config.h"
#include "oci/config.h"
#include "util/util.h"
#include <ctype.h>
#include <limits.h>
#include <pthread.h>
#include <sys/capability.h>
#include <sys/resource.h>

static inline void decref_p(json_t **j) { json_decref(*j); }
#define _cleanup_j_ __attribute__((cleanup(decref_p)))

#define DEFAULT_HOST "unix:///run/berth/berth.sock"
#define MAX_INSECURE 64

enum kind { K_STRING, K_BOOL, K_STRINGS, K_OBJECT, K_INT, K_OBJECTS };

/* Every key berthd knows; restart: only read when berthd starts. */
static const struct key {
        const char *name;
        enum kind kind;
        bool restart;
} keys[] = {
        { "data-root", K_STRING, true },      { "exec-root", K_STRING, true },
        { "hosts", K_STRINGS, true },         { "pidfile", K_STRING, true },
        { "group", K_STRING, true },          { "debug", K_BOOL, false },
        { "log-level", K_STRING, false },     { "default-ulimits", K_OBJECT, false },
        { "default-runtime", K_STRING, false }, { "runtimes", K_OBJECT, false },
        { "insecure-registries", K_STRINGS, false }, { "tls", K_BOOL, true },
        { "tlsverify", K_BOOL, true },        { "tlscacert", K_STRING, true },
        { "tlscert", K_STRING, true },        { "tlskey", K_STRING, true },
        { "seccomp-profile", K_STRING, true },
        /* networking (engine-network.c reads them when it makes a network
         * or an endpoint; bip only when it first makes the default bridge) */
        { "bip", K_STRING, true },            { "default-address-pools", K_OBJECTS, false },
        { "mtu", K_INT, false },              { "dns", K_STRINGS, false },
        { "dns-search", K_STRINGS, false },   { "dns-opts", K_STRINGS, false },
        { "ip", K_STRING, false },            { "icc", K_BOOL, false },
        { "ip-masq", K_BOOL, false },         { "userland-proxy", K_BOOL, false },
        { "ipv6", K_BOOL, false },
};

static const struct key *key_find(const char *name)
{
        for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
                if (strcmp(keys[i].name, name) == 0)
                        return &keys[i];
        return NULL;
}

/* ---- flags ------------------------------------------------------------ */

void daemon_flag_set(json_t *flags, const char *key, const char *value)
{
        json_object_set_new(flags, key, json_string(value));
}

void daemon_flag_bool(json_t *flags, const char *key, bool value)
{
        json_object_set_new(flags, key, json_boolean(value));
}

void daemon_flag_append(json_t *flags, const char *key, const char *value)
{
        json_t *a = json_object_get(flags, key);

        if (a == NULL)
                json_object_set_new(flags, key, a = json_array());
        json_array_append_new(a, json_string(value));
}

int daemon_flag_runtime(json_t *flags, const char *arg, berth_error_t **err)
{
        const char *eq = strchr(arg, '=');
        _cleanup_free_ char *name = eq ? xasprintf("%.*s", (int)(eq - arg), arg) : NULL;
        json_t *rts = json_object_get(flags, "runtimes");

        if (name == NULL || name[0] == '\0' || eq[1] == '\0')
                return berth_fail(err, EINVAL, "--add-runtime %s: expected NAME=PATH", arg);
        if (rts == NULL)
                json_object_set_new(flags, "runtimes", rts = json_object());
        json_object_set_new(rts, name, json_pack("{s:s}", "path", eq + 1));
        return 0;
}

/* Docker's units.ParseUlimit: NAME=SOFT[:HARD], -1 for unlimited. */
static bool parse_limit(const char *s, long long *v)
{
        char *end;

        errno = 0;
        *v = strtoll(s, &end, 10);
        return end != s && *end == '\0' && errno == 0 && *v >= -1;
}

int daemon_flag_ulimit(json_t *flags, const char *arg, berth_error_t **err)
{
        const char *eq = strchr(arg, '=');
        _cleanup_free_ char *name = eq ? xasprintf("%.*s", (int)(eq - arg), arg) : NULL;
        _cleanup_free_ char *soft_s = eq ? xstrdup(eq + 1) : NULL;
        char *colon = soft_s ? strchr(soft_s, ':') : NULL;
        json_t *uls = json_object_get(flags, "default-ulimits");
        long long soft, hard;

        if (colon)
                *colon++ = '\0';
        if (name == NULL || !parse_limit(soft_s, &soft) || !parse_limit(colon ? colon : soft_s, &hard))
                return berth_fail(err, EINVAL, "--default-ulimit %s: expected NAME=SOFT[:HARD]", arg);
        if (uls == NULL)
                json_object_set_new(flags, "default-ulimits", uls = json_object());
        json_object_set_new(uls, name, json_pack("{s:s, s:I, s:I}", "Name", name, "Soft", (json_int_t)soft, "Hard",
                                                 (json_int_t)hard));
        return 0;
}

/* ---- ulimits ------------------------------------------------------------ */

static bool have_cap_sys_resource(void)
{
        cap_t caps = cap_get_proc();
        cap_flag_value_t v = CAP_CLEAR;

        if (caps) {
                cap_get_flag(caps, CAP_SYS_RESOURCE, CAP_EFFECTIVE, &v);
                cap_free(caps);
        }
        return v == CAP_SET;
}

static unsigned long long as_rlim(long long v)
{
        return v < 0 ? (unsigned long long)RLIM_INFINITY : (unsigned long long)v;
}

static char *rlim_text(unsigned long long v)
{
        return v == (unsigned long long)RLIM_INFINITY ? xstrdup("unlimited") : xasprintf("%llu", v);
}

int daemon_ulimit_check(const char *where, const char *name, long long soft, long long hard,
                        berth_error_t **err)
{
        _cleanup_free_ char *type = xasprintf("RLIMIT_%s", name);
        struct rlimit own;
        int resource;

        for (char *p = type; *p; p++)
                *p = (char)toupper((unsigned char)*p);
        resource = name[0] ? oci_rlimit_parse(type) : -1;
        if (resource < 0)
                return berth_fail(err, EINVAL, "%sinvalid ulimit type: %s", where, name);
        if (soft < -1 || hard < -1)
                return berth_fail(err, EINVAL, "%sulimit %s: limits are -1 (unlimited) or more", where, name);
        if (as_rlim(soft) > as_rlim(hard))
                return berth_fail(err, EINVAL,
                                  "%sulimit %s: soft limit must be less than or equal to hard limit: %lld > %lld", where,
                                  name, soft, hard);
        if (getrlimit(resource, &own) < 0 || as_rlim(hard) <= (unsigned long long)own.rlim_max ||
            have_cap_sys_resource())
                return 0;
        _cleanup_free_ char *want = rlim_text(as_rlim(hard)), *have = rlim_text(own.rlim_max);
        return berth_fail(err, EINVAL,
                          "%sulimit %s: hard limit %s is above berthd's own (%s): containers inherit berthd's limits, "
                          "and raising a hard limit needs CAP_SYS_RESOURCE, which berthd does not have",
                          where, name, want, have);
}

/* ---- checking one source ------------------------------------------------- */

static const char *kind_name(enum kind k)
{
        static const char *const names[] = { "a string", "a boolean", "an array of strings", "an object",
                                             "an integer", "an array of objects" };

        return names[k];
}

static bool kind_ok(json_t *v, enum kind k)
{
        size_t i;
        json_t *e;

        switch (k) {
        case K_STRING: return json_is_string(v);
        case K_BOOL: return json_is_boolean(v);
        case K_OBJECT: return json_is_object(v);
        case K_INT: return json_is_integer(v);
        case K_OBJECTS:
                if (!json_is_array(v))
                        return false;
                json_array_foreach(v, i, e)
                        if (!json_is_object(e))
                                return false;
                return true;
        case K_STRINGS:
                if (!json_is_array(v))
                        return false;
                json_array_foreach(v, i, e)
                        if (!json_is_string(e))
                                return false;
                return true;
        }
        return false;
}

/* dockerd names every unknown key at once. */
static int check_keys(json_t *obj, berth_error_t **err)
{
        _cleanup_free_ char *unknown = NULL;
        const char *name;
        json_t *v;

        json_object_foreach(obj, name, v) {
                const struct key *k = key_find(name);
                if (k == NULL) {
                        char *more = xasprintf("%s%s%s", unknown ? unknown : "", unknown ? ", " : "", name);
                        free(unknown);
                        unknown = more;
                } else if (!kind_ok(v, k->kind)) {
                        return berth_fail(err, EINVAL, "%s: expected %s", name, kind_name(k->kind));
                }
        }
        if (unknown)
                return berth_fail(err, EINVAL, "the following directives don't match any configuration option: %s",
                                  unknown);
        return 0;
}

static int check_log_level(json_t *obj, berth_error_t **err)
{
        static const char *const levels[] = { "debug", "info", "warn", "error", "fatal" };
        const char *l = json_string_value(json_object_get(obj, "log-level"));

        if (l == NULL)
                return 0;
        for (size_t i = 0; i < ARRAY_SIZE(levels); i++)
                if (strcmp(l, levels[i]) == 0)
                        return 0;
        return berth_fail(err, EINVAL, "log-level: invalid logging level: %s (debug, info, warn, error or fatal)", l);
}

static int check_ulimit(const char *key, json_t *u, berth_error_t **err)
{
        _cleanup_free_ char *where = xasprintf("default-ulimits.%s: ", key);
        json_t *name = json_object_get(u, "Name"), *soft = json_object_get(u, "Soft"), *hard = json_object_get(u, "Hard");
        const char *field;
        json_t *v;

        if (!json_is_object(u))
                return berth_fail(err, EINVAL, "%sexpected {\"Name\", \"Soft\", \"Hard\"}", where);
        json_object_foreach(u, field, v)
                if (strcmp(field, "Name") != 0 && strcmp(field, "Soft") != 0 && strcmp(field, "Hard") != 0)
                        return berth_fail(err, EINVAL, "%sunknown field %s", where, field);
        if ((name && !json_is_string(name)) || !json_is_integer(soft) || !json_is_integer(hard))
                return berth_fail(err, EINVAL, "%sexpected a string Name and integers Soft and Hard", where);
        if (name && strcmp(json_string_value(name), key) != 0)
                return berth_fail(err, EINVAL, "%sName is %s", where, json_string_value(name));
        return daemon_ulimit_check("default-ulimits: ", key, json_integer_value(soft), json_integer_value(hard), err);
}

static int check_ulimits(json_t *obj, berth_error_t **err)
{
        const char *key;
        json_t *u;

        json_object_foreach(json_object_get(obj, "default-ulimits"), key, u)
                if (check_ulimit(key, u, err) < 0)
                        return -1;
        return 0;
}

static int check_runtime(const char *name, json_t *rt, berth_error_t **err)
{
        const char *field;
        json_t *v;

        if (strcmp(name, DAEMON_RUNTIME_BUILTIN) == 0)
                return berth_fail(err, EINVAL, "runtimes: runtime name '%s' is reserved", name);
        if (name[0] == '\0' || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
                return berth_fail(err, EINVAL, "runtimes: invalid runtime name '%s'", name);
        if (!json_is_object(rt) || !json_is_string(json_object_get(rt, "path")))
                return berth_fail(err, EINVAL, "runtimes.%s: expected {\"path\": \"/path/to/runtime\"}", name);
        /* runtimeArgs, runtimeType, options: containerd shims, which Berth has none of */
        json_object_foreach(rt, field, v)
                if (strcmp(field, "path") != 0)
                        return berth_fail(err, EINVAL, "runtimes.%s: %s is not supported (only path)", name, field);
        return 0;
}

static int check_runtimes(json_t *obj, berth_error_t **err)
{
        const char *name;
        json_t *rt;

        json_object_foreach(json_object_get(obj, "runtimes"), name, rt)
                if (check_runtime(name, rt, err) < 0)
                        return -1;
        return 0;
}

/* What one source may say on its own. */
static int check_source(json_t *obj, berth_error_t **err)
{
        if (check_keys(obj, err) < 0 || check_log_level(obj, err) < 0 || check_ulimits(obj, err) < 0 ||
            check_runtimes(obj, err) < 0)
                return -1;
        return 0;
}

/* ---- the file and the merge --------------------------------------------- */

static int read_source(const char *path, bool required, json_t **out, berth_error_t **err)
{
        _cleanup_free_ char *text = NULL;
        json_error_t je;
        size_t len;

        if (read_file(path, &text, &len, err) < 0) {
                if ((*err)->status == ENOENT && !required) {
                        berth_error_free(err);
                        *out = json_object();
                        return 0;
                }
                return -1;
        }
        if (text[strspn(text, " \t\r\n")] == '\0') {
                *out = json_object();
                return 0;
        }
        *out = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
        if (*out == NULL)
                return berth_fail(err, EINVAL, "line %d column %d: %s", je.line, je.column, je.text);
        if (!json_is_object(*out)) {
                json_decref(*out);
                return berth_fail(err, EINVAL, "expected a JSON object");
        }
        return 0;
}

/* Go's %v of a value, near enough for a message. */
static char *value_text(json_t *v)
{
        return json_is_string(v) ? xstrdup(json_string_value(v)) : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

static char *conflict_list(json_t *flags, json_t *file)
{
        char *out = NULL;
        const char *key;
        json_t *fv;

        json_object_foreach(flags, key, fv) {
                json_t *v = json_object_get(file, key);
                /* runtimes from both are merged, as dockerd does */
                if (v == NULL || strcmp(key, "runtimes") == 0)
                        continue;
                _cleanup_free_ char *a = value_text(fv), *b = value_text(v);
                char *more = xasprintf("%s%s%s: (from flag: %s, from file: %s)", out ? out : "", out ? ", " : "", key, a, b);
                free(out);
                out = more;
        }
        return out;
}

static int merge_runtimes(json_t *merged, json_t *flag_rts, berth_error_t **err)
{
        json_t *rts = json_object_get(merged, "runtimes"), *rt;
        const char *name;

        if (rts == NULL) {
                json_object_set(merged, "runtimes", flag_rts);
                return 0;
        }
        json_object_foreach(flag_rts, name, rt) {
                if (json_object_get(rts, name))
                        return berth_fail(err, EINVAL, "runtime %s is defined both by a flag and in the file", name);
                json_object_set(rts, name, rt);
        }
        return 0;
}

static int merge(json_t *flags, json_t *file, json_t **out, berth_error_t **err)
{
        _cleanup_free_ char *conflicts = conflict_list(flags, file);
        _cleanup_j_ json_t *merged = json_deep_copy(file);
        const char *key;
        json_t *v;

        if (conflicts)
                return berth_fail(err, EINVAL,
                                  "the following directives are specified both as a flag and in the configuration file: %s",
                                  conflicts);
        json_object_foreach(flags, key, v) {
                if (strcmp(key, "runtimes") == 0) {
                        if (merge_runtimes(merged, v, err) < 0)
                                return -1;
                } else {
                        json_object_set(merged, key, v);
                }
        }
        *out = steal_pointer(&merged);
        return 0;
}

/* ---- the typed configuration ----------------------------------------------- */

static const char *str_or(json_t *given, const char *key, const char *dflt)
{
        const char *s = json_string_value(json_object_get(given, key));

        return s ? s : dflt;
}

static const char **strv_of(json_t *a)
{
        const char **v = xcalloc(json_array_size(a) + 1, sizeof(*v));
        json_t *e;
        size_t i;

        json_array_foreach(a, i, e)
                v[i] = json_string_value(e);
        return v;
}

/* A runtime's path as exec would find it, so a missing binary fails now
 * rather than at the first container start. */
static int runtime_path(const char *name, const char *given, char **out, berth_error_t **err)
{
        _cleanup_free_ char *path = NULL;

        if (strchr(given, '/')) {
                path = xstrdup(given);
        } else {
                _cleanup_free_ char *dirs = xstrdup(getenv("PATH") ? getenv("PATH") : "/usr/sbin:/usr/bin:/sbin:/bin");
                char *save = NULL;
                for (char *d = strtok_r(dirs, ":", &save); d && path == NULL; d = strtok_r(NULL, ":", &save)) {
                        char *p = xasprintf("%s/%s", d, given);
                        if (access(p, X_OK) == 0)
                                path = p;
                        else
                                free(p);
                }
        }
        if (path == NULL || access(path, X_OK) < 0)
                return berth_error(err, path ? errno : ENOENT, "runtimes.%s: %s", name, given);
        *out = steal_pointer(&path);
        return 0;
}

static int typed_runtimes(struct daemon_config *c, const char **key, berth_error_t **err)
{
        json_t *rts = json_object_get(c->given, "runtimes"), *rt;
        const char *name;

        c->runtimes = xcalloc(json_object_size(rts) + 1, sizeof(*c->runtimes));
        c->runtimes[c->n_runtimes++] = (struct daemon_runtime){ .name = DAEMON_RUNTIME_BUILTIN };
        json_object_foreach(rts, name, rt) {
                struct daemon_runtime *r = &c->runtimes[c->n_runtimes++];
                r->name = name;
                r->root = xasprintf("%s/runtimes/%s", c->exec_root, name);
                if (runtime_path(name, json_string_value(json_object_get(rt, "path")), &r->path, err) < 0)
                        return -1;
        }
        *key = "default-runtime";
        if (daemon_config_runtime(c, c->default_runtime) == NULL)
                return berth_fail(err, EINVAL, "specified default runtime '%s' does not exist", c->default_runtime);
        return 0;
}

/* A TCP socket answers anyone who can reach it with root on this host:
 * only clients holding a certificate the CA signed get one. */
static int check_hosts(struct daemon_config *c, berth_error_t **err)
{
        for (size_t i = 0; c->hosts[i]; i++) {
                const char *h = c->hosts[i];
                if (str_has_prefix(h, "unix://") && h[strlen("unix://")] == '/')
                        continue;
                if (!str_has_prefix(h, "tcp://"))
                        return berth_fail(err, EINVAL, "hosts: %s: expected unix:///PATH or tcp://ADDR:PORT", h);
                if (!c->tlsverify)
                        return berth_fail(err, EINVAL,
                                          "hosts: %s: berthd serves TCP only to clients with TLS certificates: "
                                          "add --tlsverify with --tlscacert, --tlscert and --tlskey", h);
        }
        return 0;
}

/* *key: the key an error is about, so that it blames the file only when
 * the file has that key. */
static int typed(struct daemon_config *c, const char **key, berth_error_t **err)
{
        json_t *g = c->given, *hosts = json_object_get(g, "hosts");

        c->data_root = str_or(g, "data-root", "/var/lib/berth");
        c->exec_root = str_or(g, "exec-root", "/run/berth");
        c->pidfile = str_or(g, "pidfile", NULL);
        c->group = str_or(g, "group", NULL);
        c->debug = json_is_true(json_object_get(g, "debug"));
        c->log_level = str_or(g, "log-level", c->debug ? "debug" : "info");
        c->seccomp_profile = str_or(g, "seccomp-profile", NULL);
        c->tlsverify = json_is_true(json_object_get(g, "tlsverify"));
        /* dockerd: --tlsverify implies --tls */
        c->tls = c->tlsverify || json_is_true(json_object_get(g, "tls"));
        c->tlscacert = str_or(g, "tlscacert", "/etc/berth/ca.pem");
        c->tlscert = str_or(g, "tlscert", "/etc/berth/cert.pem");
        c->tlskey = str_or(g, "tlskey", "/etc/berth/key.pem");
        c->default_ulimits = json_object_get(g, "default-ulimits");
        if (c->default_ulimits == NULL)
                json_object_set_new(g, "default-ulimits", c->default_ulimits = json_object());
        c->default_runtime = str_or(g, "default-runtime", DAEMON_RUNTIME_BUILTIN);
        c->insecure_registries = strv_of(json_object_get(g, "insecure-registries"));
        *key = "insecure-registries";
        if (json_array_size(json_object_get(g, "insecure-registries")) > MAX_INSECURE)
                return berth_fail(err, EINVAL, "insecure-registries: at most %d", MAX_INSECURE);
        /* no hosts, or [] (dockerd reads that as the default too) */
        if (json_array_size(hosts) > 0) {
                c->hosts = strv_of(hosts);
        } else {
                c->hosts = xcalloc(2, sizeof(*c->hosts));
                c->hosts[0] = DEFAULT_HOST;
        }
        *key = "hosts";
        if (check_hosts(c, err) < 0)
                return -1;
        if (daemon_net_config_check(g, key, err) < 0)
                return -1;
        *key = "runtimes";
        return typed_runtimes(c, key, err);
}

static int wrap_file(const char *path, berth_error_t **err)
{
        return berth_error_wrap(err, "unable to configure the daemon with file %s", path);
}

/* The flags and the file (*file, for finish), each checked, merged. */
static int load_given(json_t *flags, const char *path, bool required, json_t **out, json_t **file,
                      berth_error_t **err)
{
        if (check_source(flags, err) < 0)
                return -1;
        if (read_source(path, required, file, err) < 0 || check_source(*file, err) < 0 ||
            merge(flags, *file, out, err) < 0)
                return wrap_file(path, err);
        return 0;
}

static int finish(json_t *given, const char *path, json_t *file, struct daemon_config **out, berth_error_t **err)
{
        struct daemon_config *c = xcalloc(1, sizeof(*c));
        const char *key = NULL;

        c->given = given;
        if (typed(c, &key, err) < 0) {
                daemon_config_free(c);
                return json_object_get(file, key) ? wrap_file(path, err) : -1;
        }
        *out = c;
        return 0;
}

int daemon_config_load(json_t *flags, const char *path, bool required, struct daemon_config **out,
                       berth_error_t **err)
{
        _cleanup_j_ json_t *file = NULL;
        json_t *given;

        if (load_given(flags, path, required, &given, &file, err) < 0)
                return -1;
        return finish(given, path, file, out, err);
}

/* Keys only read at start that the new file changes: ", "-separated. */
static char *restart_keys(json_t *old, json_t *new)
{
        char *out = NULL;

        for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
                json_t *a = json_object_get(old, keys[i].name), *b = json_object_get(new, keys[i].name);
                if (!keys[i].restart || (a == NULL && b == NULL) || (a && b && json_equal(a, b)))
                        continue;
                char *more = xasprintf("%s%s%s", out ? out : "", out ? ", " : "", keys[i].name);
                free(out);
                out = more;
        }
        return out;
}

/* The running daemon's values for them, so the published configuration
 * says what is in effect. */
static void keep_restart_keys(json_t *given, json_t *running)
{
        for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
                json_t *v = json_object_get(running, keys[i].name);
                if (!keys[i].restart)
                        continue;
                if (v)
                        json_object_set(given, keys[i].name, v);
                else
                        json_object_del(given, keys[i].name);
        }
}

int daemon_config_reload(json_t *flags, const char *path, bool required, const struct daemon_config *running,
                         struct daemon_config **out, char **ignored, berth_error_t **err)
{
        _cleanup_j_ json_t *file = NULL;
        json_t *given;

        if (load_given(flags, path, required, &given, &file, err) < 0)
                return -1;
        *ignored = restart_keys(running->given, given);
        keep_restart_keys(given, running->given);
        if (finish(given, path, file, out, err) < 0) {
                free(steal_pointer(ignored));
                return -1;
        }
        return 0;
}

void daemon_config_free(struct daemon_config *c)
{
        if (c == NULL)
                return;
        for (size_t i = 0; i < c->n_runtimes; i++) {
                free(c->runtimes[i].path);
                free(c->runtimes[i].root);
        }
        free(c->runtimes);
        free(c->hosts);
        free(c->insecure_registries);
        json_decref(c->given);
        free(c);
}

/* ---- reload ---------------------------------------------------------------- */

char *daemon_config_describe(const struct daemon_config *c)
{
        _cleanup_free_ char *ulimits = json_dumps(c->default_ulimits, JSON_COMPACT | JSON_SORT_KEYS);
        _cleanup_free_ char *insecure = json_dumps(json_object_get(c->given, "insecure-registries"),
                                                   JSON_COMPACT | JSON_ENCODE_ANY);
        _cleanup_free_ char *runtimes = xstrdup("");

        for (size_t i = 0; i < c->n_runtimes; i++) {
                char *more = xasprintf("%s%s%s", runtimes, i ? "," : "", c->runtimes[i].name);
                free(runtimes);
                runtimes = more;
        }
        return xasprintf("debug=%s log-level=%s insecure-registries=%s default-ulimits=%s default-runtime=%s "
                         "runtimes=%s",
                         c->debug ? "true" : "false", c->log_level, insecure ? insecure : "[]", ulimits,
                         c->default_runtime, runtimes);
}

bool daemon_config_debug(const struct daemon_config *c)
{
        return c->debug || strcmp(c->log_level, "debug") == 0;
}

/* ---- the live configuration -------------------------------------------------- */

static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static struct daemon_config *live;
/* Every configuration published, kept (see daemon-config.h). */
static struct daemon_config **published;
static size_t n_published;
/* engine_opts points here once: the entries change, the array does not.
 * A reader between two stores sees old and new names mixed, each a live
 * string, and the last slot is always NULL. */
static const char *insecure_slots[MAX_INSECURE + 1];

void daemon_config_publish(struct daemon_config *c)
{
        size_t i = 0;

        pthread_mutex_lock(&live_lock);
        published = xrealloc(published, (n_published + 1) * sizeof(*published));
        published[n_published++] = c;
        for (; i < MAX_INSECURE && c->insecure_registries[i]; i++)
                __atomic_store_n(&insecure_slots[i], c->insecure_registries[i], __ATOMIC_RELEASE);
        for (; i < MAX_INSECURE; i++)
                __atomic_store_n(&insecure_slots[i], NULL, __ATOMIC_RELEASE);
        __atomic_store_n(&live, c, __ATOMIC_RELEASE);
        pthread_mutex_unlock(&live_lock);
}

const struct daemon_config *daemon_config_current(void)
{
        return __atomic_load_n(&live, __ATOMIC_ACQUIRE);
}

const char *const *daemon_config_insecure_registries(void)
{
        return insecure_slots;
}

const struct daemon_runtime *daemon_config_runtime(const struct daemon_config *c, const char *name)
{
        for (size_t i = 0; c && i < c->n_runtimes; i++)
                if (strcmp(c->runtimes[i].name, name) == 0)
                        return &c->runtimes[i];
        return NULL;
}

static const struct daemon_runtime builtin = { .name = DAEMON_RUNTIME_BUILTIN };

int daemon_config_container_runtime(json_t *body, const struct daemon_runtime **out, berth_error_t **err)
{
        const struct daemon_config *c = daemon_config_current();
        json_t *hc = json_object_get(body, "HostConfig");
        const char *name = json_string_value(json_object_get(hc, "Runtime"));

        if (name == NULL || name[0] == '\0') {
                name = c ? c->default_runtime : DAEMON_RUNTIME_BUILTIN;
                if (json_is_object(hc))
                        json_object_set_new(hc, "Runtime", json_string(name));
        }
        *out = c ? daemon_config_runtime(c, name) : strcmp(name, DAEMON_RUNTIME_BUILTIN) == 0 ? &builtin : NULL;
        if (*out == NULL)
                return berth_fail(err, EINVAL, "Unknown runtime specified %s", name);
        return 0;
}

void daemon_config_runtime_cmd(json_t *body, const char *builtin_path, const char *builtin_root,
                               const char **path, const char **root)
{
        const char *name = json_string_value(json_object_get(json_object_get(body, "HostConfig"), "Runtime"));
        const struct daemon_runtime *rt = name ? daemon_config_runtime(daemon_config_current(), name) : NULL;

        *path = rt && rt->path ? rt->path : builtin_path;
        *root = rt && rt->path ? rt->root : builtin_root;
}

json_t *daemon_config_runtimes_json(const char *builtin_path)
{
        const struct daemon_config *c = daemon_config_current();
        json_t *out = json_object();

        json_object_set_new(out, DAEMON_RUNTIME_BUILTIN, json_pack("{s:s}", "path", builtin_path));
        for (size_t i = 1; c && i < c->n_runtimes; i++)
                json_object_set_new(out, c->runtimes[i].name, json_pack("{s:s}", "path", c->runtimes[i].path));
        return out;
}

const char *daemon_config_default_runtime(void)
{
        const struct daemon_config *c = daemon_config_current();

        return c ? c->default_runtime : DAEMON_RUNTIME_BUILTIN;
}
