/* process: what runs (Entrypoint and Cmd merged with the image's), its
 * environment, working directory, user, rlimits and capabilities. */
#include "engine/docker-spec-internal.h"
#include "engine/daemon-config.h"
#include "engine/docker-user.h"
#include "oci/config.h"
#include <ctype.h>

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
/* Where Docker's init sits in the container; kept so tools that look for
 * it (ps output, healthchecks written for Docker) see the same. */
#define INIT_IN_CONTAINER "/sbin/docker-init"

/* Docker's merge with the image: an Entrypoint in the body replaces the
 * image's and with it the image's Cmd (a Cmd only goes with the Entrypoint
 * it was written for); an empty-but-present Entrypoint ([]) keeps the
 * image's Cmd without its Entrypoint; [""] means no entrypoint at all. */
static int command(struct spec_ctx *ctx, json_t *args, berth_error_t **err)
{
        const struct image_config *img = ctx->in->image;
        _cleanup_free_ const char **ep_given = NULL, **cmd_given = NULL;
        const char *const *ep, *const *cmd;
        int ret;

        if ((ret = dj_strv(ctx->body, "", "Entrypoint", true, &ep_given, err)) < 0 ||
            (ret = dj_strv(ctx->body, "", "Cmd", true, &cmd_given, err)) < 0)
                return ret;
        ep = ep_given;
        cmd = cmd_given;
        if (strv_len(ep) == 0) {
                if (strv_len(cmd) == 0)
                        cmd = img ? (const char *const *)img->cmd : NULL;
                if (ep == NULL)
                        ep = img ? (const char *const *)img->entrypoint : NULL;
        }
        if (strv_len(ep) == 1 && ep[0][0] == '\0')
                ep = NULL;
        if (strv_len(ep) == 0 && strv_len(cmd) == 0)
                return berth_error(err, 0, "no command specified");
        if (ctx->info->init && ctx->in->init_path) {
                json_array_append_new(args, must(json_string(INIT_IN_CONTAINER)));
                json_array_append_new(args, must(json_string("--")));
        }
        for (size_t i = 0; ep && ep[i]; i++)
                json_array_append_new(args, must(json_string(ep[i])));
        for (size_t i = 0; cmd && cmd[i]; i++)
                json_array_append_new(args, must(json_string(cmd[i])));
        return 0;
}

/* The environment as an ordered list plus an index by name, so a large Env
 * stays linear. */
struct env {
        json_t *list;   /* array of "K=V"; removed entries are null */
        json_t *index;  /* name -> position in list */
};

static char *env_key(const char *entry)
{
        return xasprintf("%.*s", (int)strcspn(entry, "="), entry);
}

/* Docker's ReplaceOrAppendEnvValues: "K=V" replaces K in place or appends;
 * a bare "K" unsets K. */
static void env_apply(struct env *e, const char *entry)
{
        _cleanup_free_ char *key = env_key(entry);
        json_t *pos = json_object_get(e->index, key);

        if (strchr(entry, '=') == NULL) {
                if (pos)
                        json_array_set_new(e->list, (size_t)json_integer_value(pos), json_null());
                json_object_del(e->index, key);
                return;
        }
        if (pos) {
                json_array_set_new(e->list, (size_t)json_integer_value(pos), must(json_string(entry)));
                return;
        }
        json_object_set_new(e->index, key, must(json_integer((json_int_t)json_array_size(e->list))));
        json_array_append_new(e->list, must(json_string(entry)));
}

/* The body's Env first, then the image's for names the body leaves
 * alone (Docker's merge), over the defaults PATH, HOSTNAME and TERM. */
static int environment(struct spec_ctx *ctx, const char *home, json_t *out, berth_error_t **err)
{
        _cleanup_free_ const char **given = NULL;
        _cleanup_json_ json_t *list = must(json_array()), *index = must(json_object()), *given_keys = must(json_object());
        struct env e = { list, index };
        char *const *image_env = ctx->in->image ? ctx->in->image->env : NULL;
        json_t *v;
        size_t i;
        int ret;

        if ((ret = dj_strv(ctx->body, "", "Env", false, &given, err)) < 0)
                return ret;
        env_apply(&e, "PATH=" DEFAULT_PATH);
        _cleanup_free_ char *h = xasprintf("HOSTNAME=%s", ctx->info->hostname);
        env_apply(&e, h);
        if (ctx->info->tty)
                env_apply(&e, "TERM=xterm");
        for (i = 0; given && given[i]; i++) {
                _cleanup_free_ char *key = env_key(given[i]);
                if (key[0] == '\0') {
                        _cleanup_free_ char *q = printable(given[i]);
                        return berth_error(err, 0, "Env[%zu]: invalid environment variable: %s", i, q);
                }
                json_object_set_new(given_keys, key, json_true());
                env_apply(&e, given[i]);
        }
        for (i = 0; image_env && image_env[i]; i++) {
                _cleanup_free_ char *key = env_key(image_env[i]);
                if (key[0] != '\0' && json_object_get(given_keys, key) == NULL)
                        env_apply(&e, image_env[i]);
        }
        /* runc sets HOME from the user's passwd entry when it is unset; the
         * runtime gets numeric ids only, so it is done here */
        if (json_object_get(index, "HOME") == NULL) {
                _cleanup_free_ char *hm = xasprintf("HOME=%s", home);
                env_apply(&e, hm);
        }
        json_array_foreach(list, i, v)
                if (json_is_string(v))
                        json_array_append(out, v);
        return 0;
}

static int working_dir(struct spec_ctx *ctx, json_t *process, berth_error_t **err)
{
        const char *wd;
        _cleanup_free_ char *clean = NULL;
        int ret;

        if ((ret = dj_string(ctx->body, "", "WorkingDir", &wd, err)) < 0)
                return ret;
        if (wd[0] == '\0' && ctx->in->image && ctx->in->image->working_dir)
                wd = ctx->in->image->working_dir;
        if (wd[0] == '\0')
                wd = "/";
        if (wd[0] != '/') {
                _cleanup_free_ char *q = printable(wd);
                return berth_error(err, 0, "WorkingDir: the working directory '%s' is invalid, it needs to be an "
                                   "absolute path", q);
        }
        clean = path_clean(wd);
        json_object_set_new(process, "cwd", must(json_string(clean)));
        return 0;
}

static int user(struct spec_ctx *ctx, json_t *process, berth_error_t **err)
{
        _cleanup_free_ const char **group_add = NULL;
        struct docker_user u;
        const char *spec;
        json_t *gids;
        int ret;

        if ((ret = dj_string(ctx->body, "", "User", &spec, err)) < 0 ||
            (ret = dj_strv(ctx->hc, "HostConfig.", "GroupAdd", false, &group_add, err)) < 0)
                return ret;
        if (spec[0] == '\0' && ctx->in->image && ctx->in->image->user)
                spec = ctx->in->image->user;
        if ((ret = docker_user_resolve(ctx->in->rootfs, spec, group_add, &u, err)) < 0)
                return ret;
        gids = must(json_array());
        for (size_t i = 0; i < u.n_gids; i++)
                json_array_append_new(gids, must(json_integer(u.gids[i])));
        json_object_set_new(process, "user",
                            must(json_pack("{s:I, s:I, s:o}", "uid", (json_int_t)u.uid, "gid", (json_int_t)u.gid,
                                           "additionalGids", gids)));
        ctx->info->uid = u.uid;
        ctx->info->gid = u.gid;
        ctx->info->home = steal_pointer(&u.home);
        docker_user_clear(&u);
        return 0;
}

/* A container inherits berthd's rlimits and cannot raise a hard limit
 * past them here (no CAP_SYS_RESOURCE): fail at create, not at start. */
static int ulimit_within_daemon(size_t i, const char *name, long long soft, long long hard, berth_error_t **err)
{
        _cleanup_free_ char *where = xasprintf("HostConfig.Ulimits[%zu]: ", i);

        return daemon_ulimit_check(where, name, soft, hard, err);
}

/* One of HostConfig.Ulimits: {"Name": "nofile", "Soft": 1024, "Hard": 2048};
 * -1 is unlimited, written as -1, which the runtime reads as
 * RLIM_INFINITY (jansson cannot hold 2^64-1). */
static int ulimit(json_t *u, size_t i, json_t *byname, berth_error_t **err)
{
        _cleanup_free_ char *where = xasprintf("HostConfig.Ulimits[%zu].", i), *type = NULL;
        const char *name;
        long long soft, hard;
        int ret;

        if (!json_is_object(u))
                return berth_error(err, 0, "HostConfig.Ulimits[%zu]: expected an object", i);
        if ((ret = dj_string(u, where, "Name", &name, err)) < 0 || (ret = dj_int(u, where, "Soft", &soft, err)) < 0 ||
            (ret = dj_int(u, where, "Hard", &hard, err)) < 0)
                return ret;
        type = xasprintf("RLIMIT_%s", name);
        for (char *p = type; *p; p++)
                *p = (char)toupper((unsigned char)*p);
        if (name[0] == '\0' || oci_rlimit_parse(type) < 0) {
                _cleanup_free_ char *q = printable(name);
                return berth_error(err, 0, "HostConfig.Ulimits[%zu]: invalid ulimit type: %s", i, q);
        }
        if (soft < -1 || hard < -1)
                return berth_error(err, 0, "HostConfig.Ulimits[%zu]: limits are -1 (unlimited) or more", i);
        if (hard != -1 && (soft == -1 || soft > hard))
                return berth_error(err, 0, "HostConfig.Ulimits[%zu]: ulimit soft limit must be less than or equal to "
                                   "hard limit: %lld > %lld", i, soft, hard);
        if ((ret = ulimit_within_daemon(i, name, soft, hard, err)) < 0)
                return ret;
        json_object_set_new(byname, type, must(json_pack("{s:s, s:I, s:I}", "type", type, "hard", (json_int_t)hard,
                                                         "soft", (json_int_t)soft)));
        return 0;
}

/* The daemon's default-ulimits for the names the container leaves alone,
 * merged name by name as dockerd does.  They were checked against
 * berthd's own limits when the configuration was loaded. */
static void default_ulimits(json_t *byname)
{
        const struct daemon_config *dc = daemon_config_current();
        const char *name;
        json_t *u;

        if (dc == NULL)
                return;
        json_object_foreach(dc->default_ulimits, name, u) {
                _cleanup_free_ char *type = xasprintf("RLIMIT_%s", name);
                for (char *p = type; *p; p++)
                        *p = (char)toupper((unsigned char)*p);
                if (json_object_get(byname, type))
                        continue;
                json_object_set_new(byname, type,
                                    must(json_pack("{s:s, s:I, s:I}", "type", type, "hard",
                                                   json_integer_value(json_object_get(u, "Hard")), "soft",
                                                   json_integer_value(json_object_get(u, "Soft")))));
        }
}

static int rlimits(struct spec_ctx *ctx, json_t *process, berth_error_t **err)
{
        _cleanup_json_ json_t *byname = must(json_object());
        json_t *list, *u, *out;
        const char *key;
        size_t i;
        int ret;

        if ((ret = dj_array(ctx->hc, "HostConfig.", "Ulimits", &list, err)) < 0)
                return ret;
        json_array_foreach(list, i, u)
                if ((ret = ulimit(u, i, byname, err)) < 0)
                        return ret;
        default_ulimits(byname);
        if (json_object_size(byname) == 0)
                return 0;
        out = must(json_array());
        json_object_set_new(process, "rlimits", out);
        json_object_foreach(byname, key, u)
                json_array_append(out, u);
        return 0;
}

static int console_size(struct spec_ctx *ctx, json_t *process, berth_error_t **err)
{
        json_t *size;
        long long hw[2];
        int ret;

        if ((ret = dj_array(ctx->hc, "HostConfig.", "ConsoleSize", &size, err)) < 0 || size == NULL)
                return ret;
        if (json_array_size(size) != 2)
                return berth_error(err, 0, "HostConfig.ConsoleSize: expected [height, width]");
        for (size_t i = 0; i < 2; i++) {
                json_t *v = json_array_get(size, i);
                if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 65535)
                        return berth_error(err, 0, "HostConfig.ConsoleSize[%zu]: expected 0 to 65535", i);
                hw[i] = json_integer_value(v);
        }
        if (ctx->info->tty && hw[0] > 0 && hw[1] > 0)
                json_object_set_new(process, "consoleSize",
                                    must(json_pack("{s:I, s:I}", "height", (json_int_t)hw[0], "width", (json_int_t)hw[1])));
        return 0;
}

static int oom_score(struct spec_ctx *ctx, json_t *process, berth_error_t **err)
{
        long long adj;
        int ret;

        if ((ret = dj_int(ctx->hc, "HostConfig.", "OomScoreAdj", &adj, err)) < 0)
                return ret;
        if (adj < -1000 || adj > 1000)
                return berth_error(err, 0, "HostConfig.OomScoreAdj: invalid value %lld, range for oom score adj is "
                                   "[-1000, 1000]", adj);
        json_object_set_new(process, "oomScoreAdj", must(json_integer(adj)));
        return 0;
}

int spec_process(struct spec_ctx *ctx, berth_error_t **err)
{
        json_t *p = json_object_get(ctx->spec, "process"), *args, *env;
        int ret;

        json_object_set_new(p, "terminal", json_boolean(ctx->info->tty));
        if ((ret = user(ctx, p, err)) < 0)
                return ret;
        json_object_set_new(p, "args", args = must(json_array()));
        json_object_set_new(p, "env", env = must(json_array()));
        if ((ret = command(ctx, args, err)) < 0 || (ret = environment(ctx, ctx->info->home, env, err)) < 0 ||
            (ret = working_dir(ctx, p, err)) < 0 || (ret = console_size(ctx, p, err)) < 0)
                return ret;
        /* Docker fills bounding, effective and permitted; inheritable and
         * ambient stay empty so an exec'd program gains nothing (CVE-2022-24769) */
        json_object_set_new(p, "capabilities",
                            must(json_pack("{s:o, s:o, s:o}", "bounding", caps_to_json(ctx->caps), "effective",
                                           caps_to_json(ctx->caps), "permitted", caps_to_json(ctx->caps))));
        if ((ret = rlimits(ctx, p, err)) < 0 || (ret = oom_score(ctx, p, err)) < 0)
                return ret;
        json_object_set_new(p, "noNewPrivileges", json_boolean(ctx->no_new_privileges));
        return 0;
}
