/* Steps that change only the image config: ENV, LABEL, MAINTAINER,
 * EXPOSE, VOLUME, USER, STOPSIGNAL, CMD, ENTRYPOINT, SHELL, HEALTHCHECK,
 * ONBUILD, and ARG (no change at all).  No container: the new image is
 * derived from the current one (engine_image_derive) with an empty_layer
 * history entry "/bin/sh -c #(nop)  TEXT", which is also the step's cache
 * key. */
#include "build/builder-internal.h"
#include <ctype.h>

/* Go's %q of a []string: ["a" "b"]. */
static void add_strslice(struct strbuf *b, json_t *arr)
{
        size_t i;
        json_t *v;

        strbuf_adds(b, "[");
        json_array_foreach(arr, i, v) {
                _cleanup_free_ char *q = json_dumps(v, JSON_ENCODE_ANY);
                if (i)
                        strbuf_adds(b, " ");
                strbuf_adds(b, q ? q : "\"\"");
        }
        strbuf_adds(b, "]");
}

/* CMD, ENTRYPOINT, HEALTHCHECK's command: exec form as written, shell
 * form wrapped in the SHELL. */
static json_t *command_of(struct stage_state *s, const struct df_instr *in, size_t first)
{
        json_t *cmd;

        if (in->json) {
                cmd = json_array();
                for (size_t i = first; i < in->nargs; i++)
                        json_array_append_new(cmd, json_string(in->args[i]));
                return cmd;
        }
        cmd = build_shell(s->config);
        if (in->nargs > first)
                json_array_append_new(cmd, json_string(in->args[first]));
        return cmd;
}

static void env_set(json_t *config, const char *key, const char *value)
{
        json_t *env = json_object_get(config, "Env"), *v;
        size_t n = strlen(key), i;
        char *kv = xasprintf("%s=%s", key, value);

        if (!json_is_array(env))
                json_object_set_new(config, "Env", env = json_array());
        json_array_foreach(env, i, v) {
                const char *s = json_string_value(v);
                if (s && strncmp(s, key, n) == 0 && s[n] == '=') {
                        json_array_set_new(env, i, json_string(kv));
                        free(kv);
                        return;
                }
        }
        json_array_append_new(env, json_string(kv));
        free(kv);
}

static json_t *object_of(json_t *config, const char *key)
{
        json_t *o = json_object_get(config, key);

        if (!json_is_object(o))
                json_object_set_new(config, key, o = json_object());
        return o;
}

/* "10s", "1m30s", "500ms", "2h" to nanoseconds; -1 when malformed. */
static int64_t duration_ns(const char *s)
{
        int64_t total = 0;

        if (s == NULL || *s == '\0')
                return -1;
        while (*s) {
                char *end;
                double v = strtod(s, &end);
                if (end == s)
                        return -1;
                s = end;
                double unit = str_has_prefix(s, "ns") ? 1           : str_has_prefix(s, "us") ? 1e3
                              : str_has_prefix(s, "ms") ? 1e6       : *s == 's'              ? 1e9
                              : *s == 'm'               ? 60e9      : *s == 'h'              ? 3600e9
                                                                                               : 0;
                if (unit == 0)
                        return -1;
                s += (str_has_prefix(s, "ns") || str_has_prefix(s, "us") || str_has_prefix(s, "ms")) ? 2 : 1;
                total += (int64_t)(v * unit);
        }
        return total;
}

static int healthcheck(struct build *b, struct stage_state *s, const struct df_instr *in, berth_error_t **err)
{
        static const char *const durations[][2] = { { "interval", "Interval" },
                                                    { "timeout", "Timeout" },
                                                    { "start-period", "StartPeriod" },
                                                    { "start-interval", "StartInterval" } };
        json_t *hc;

        if (in->nargs == 0)
                return berth_fail(err, EINVAL, "%s:%u: HEALTHCHECK requires an argument", b->df->file, in->line);
        if (strcasecmp(in->args[0], "NONE") == 0) {
                json_object_set_new(s->config, "Healthcheck", json_pack("{s:[s]}", "Test", "NONE"));
                return 0;
        }
        json_t *cmd = command_of(s, in, 1);
        json_t *test = json_pack("[s]", in->json ? "CMD" : "CMD-SHELL");
        if (in->json)
                json_array_extend(test, cmd);
        else
                json_array_append(test, json_array_get(cmd, json_array_size(cmd) - 1));
        json_decref(cmd);
        hc = json_pack("{s:o}", "Test", test);
        for (size_t i = 0; i < in->nflags; i++) {
                const char *name = in->flags[i].name, *val = in->flags[i].value ? in->flags[i].value : "";
                bool done = false;
                for (size_t k = 0; k < ARRAY_SIZE(durations) && !done; k++) {
                        if (strcmp(name, durations[k][0]) != 0)
                                continue;
                        int64_t ns = duration_ns(val);
                        if (ns < 0) {
                                json_decref(hc);
                                return berth_fail(err, EINVAL, "%s:%u: invalid duration for --%s: %s", b->df->file,
                                                  in->line, name, val);
                        }
                        json_object_set_new(hc, durations[k][1], json_integer(ns));
                        done = true;
                }
                if (!done && strcmp(name, "retries") == 0) {
                        long long n = parse_ll(val);
                        if (n < 0) {
                                json_decref(hc);
                                return berth_fail(err, EINVAL, "%s:%u: invalid --retries: %s", b->df->file,
                                                  in->line, val);
                        }
                        json_object_set_new(hc, "Retries", json_integer(n));
                } else if (!done) {
                        json_decref(hc);
                        return berth_fail(err, EINVAL, "%s:%u: unknown flag: %s", b->df->file, in->line, name);
                }
        }
        json_object_set_new(s->config, "Healthcheck", hc);
        return 0;
}

/* "80", "80/udp", "8000-8002" as ExposedPorts keys. */
static int expose(struct build *b, struct stage_state *s, const struct df_instr *in, struct strbuf *text,
                  berth_error_t **err)
{
        json_t *ports = object_of(s->config, "ExposedPorts");

        for (size_t i = 0; i < in->nargs; i++) {
                _cleanup_free_ char *w = NULL;
                if (build_expand(b, s, in->args[i], &w, err) < 0)
                        return -1;
                char *slash = strchr(w, '/');
                const char *proto = slash ? slash + 1 : "tcp";
                if (slash)
                        *slash = '\0';
                char *dash = strchr(w, '-');
                long long lo = parse_ll(w), hi = lo;
                if (dash) {
                        *dash = '\0';
                        lo = parse_ll(w);
                        hi = parse_ll(dash + 1);
                }
                if (lo <= 0 || hi < lo || hi > 65535)
                        return berth_fail(err, EINVAL, "%s:%u: invalid containerPort: %s", b->df->file, in->line,
                                          in->args[i]);
                for (long long p = lo; p <= hi; p++) {
                        _cleanup_free_ char *key = xasprintf("%lld/%s", p, proto);
                        for (char *c = key; *c; c++)
                                *c = (char)tolower((unsigned char)*c);
                        json_object_set_new(ports, key, json_object());
                        strbuf_adds(text, " ");
                        strbuf_adds(text, key);
                }
        }
        return 0;
}

/* The change itself; text gets the history's words. */
static int apply(struct build *b, struct stage_state *s, const struct df_instr *in, struct strbuf *text,
                 berth_error_t **err)
{
        const char *kw = dockerfile_kind_name(in->kind);
        json_t *j;

        strbuf_adds(text, kw);
        switch (in->kind) {
        case DF_ENV:
        case DF_LABEL: {
                json_t *labels = in->kind == DF_LABEL ? object_of(s->config, "Labels") : NULL;
                /* every value sees the variables as they were before the instruction */
                const char **keys = xcalloc(in->nkvs + 1, sizeof(char *));
                char **vals = xcalloc(in->nkvs + 1, sizeof(char *));
                int r = 0;
                for (size_t i = 0; i < in->nkvs && r == 0; i++) {
                        keys[i] = in->kvs[i].key;
                        r = build_expand(b, s, in->kvs[i].has_value ? in->kvs[i].value : "", &vals[i], err);
                }
                for (size_t i = 0; i < in->nkvs && r == 0; i++) {
                        if (labels)
                                json_object_set_new(labels, keys[i], json_string(vals[i]));
                        else
                                env_set(s->config, keys[i], vals[i]);
                        strbuf_adds(text, " ");
                        strbuf_adds(text, keys[i]);
                        strbuf_adds(text, "=");
                        strbuf_adds(text, vals[i]);
                }
                for (size_t i = 0; i < in->nkvs; i++)
                        free(vals[i]);
                free(vals);
                free(keys);
                return r;
        }
        case DF_MAINTAINER:
                free(s->author);
                s->author = xstrdup(in->nargs ? in->args[0] : "");
                strbuf_adds(text, " ");
                strbuf_adds(text, s->author);
                return 0;
        case DF_EXPOSE:
                return expose(b, s, in, text, err);
        case DF_VOLUME: {
                json_t *vols = object_of(s->config, "Volumes");
                strbuf_adds(text, " [");
                for (size_t i = 0; i < in->nargs; i++) {
                        _cleanup_free_ char *w = NULL;
                        if (build_expand(b, s, in->args[i], &w, err) < 0)
                                return -1;
                        if (*w == '\0')
                                return berth_fail(err, EINVAL, "%s:%u: VOLUME specified can not be an empty string",
                                                  b->df->file, in->line);
                        json_object_set_new(vols, w, json_object());
                        strbuf_adds(text, i ? " " : "");
                        strbuf_adds(text, w);
                }
                strbuf_adds(text, "]");
                return 0;
        }
        case DF_USER:
        case DF_STOPSIGNAL: {
                _cleanup_free_ char *w = NULL;
                if (in->nargs == 0)
                        return berth_fail(err, EINVAL, "%s:%u: %s requires an argument", b->df->file, in->line, kw);
                if (build_expand(b, s, in->args[0], &w, err) < 0)
                        return -1;
                json_object_set_new(s->config, in->kind == DF_USER ? "User" : "StopSignal", json_string(w));
                strbuf_adds(text, " ");
                strbuf_adds(text, w);
                return 0;
        }
        case DF_CMD:
        case DF_ENTRYPOINT:
                j = command_of(s, in, 0);
                strbuf_adds(text, " ");
                add_strslice(text, j);
                if (in->kind == DF_CMD) {
                        s->cmd_set = true;
                        json_object_set_new(s->config, "Cmd", j);
                } else {
                        json_object_set_new(s->config, "Entrypoint", j);
                        if (!s->cmd_set)
                                json_object_set_new(s->config, "Cmd", json_null());
                }
                return 0;
        case DF_SHELL:
                if (!in->json || in->nargs == 0)
                        return berth_fail(err, EINVAL, "%s:%u: SHELL requires the arguments to be in JSON form",
                                          b->df->file, in->line);
                j = command_of(s, in, 0);
                strbuf_adds(text, " ");
                add_strslice(text, j);
                json_object_set_new(s->config, "Shell", j);
                return 0;
        case DF_HEALTHCHECK:
        {
                const char *rest = in->original + strcspn(in->original, " \t");
                strbuf_adds(text, " ");
                strbuf_adds(text, rest + strspn(rest, " \t"));
                return healthcheck(b, s, in, err);
        }
        case DF_ONBUILD: {
                const char *trigger = in->onbuild ? in->onbuild->original : NULL;
                json_t *ob = json_object_get(s->config, "OnBuild");
                if (trigger == NULL)
                        return berth_fail(err, EINVAL, "%s:%u: ONBUILD requires an instruction", b->df->file,
                                          in->line);
                if (!json_is_array(ob))
                        json_object_set_new(s->config, "OnBuild", ob = json_array());
                json_array_append_new(ob, json_string(trigger));
                strbuf_adds(text, " ");
                strbuf_adds(text, trigger);
                return 0;
        }
        default:
                return berth_fail(err, EINVAL, "%s:%u: %s is not a config step", b->df->file, in->line, kw);
        }
}

/* Expansion and the change happen on a copy: a cache hit takes the
 * recorded image's config instead. */
int build_config_step(struct build *b, struct stage_state *s, const struct df_instr *in, berth_error_t **err)
{
        _cleanup_json_decref_ json_t *before = json_deep_copy(s->config);
        _cleanup_free_ char *created_by = NULL, *key = NULL;
        struct strbuf text = { 0 };
        bool hit;

        if (apply(b, s, in, &text, err) < 0) {
                free(text.data);
                return -1;
        }
        created_by = build_nop(before, text.data);
        free(text.data);
        key = build_cache_key(created_by);
        /* the lookup sees the image as it was */
        json_t *after = steal_pointer(&s->config);
        s->config = json_incref(before);
        int r = build_cache_try(b, s, key, &hit, err);
        if (r < 0 || hit) {
                json_decref(after);
                return r;
        }
        json_decref(s->config);
        s->config = after;
        return build_commit(b, s, NULL, created_by, key, err);
}

int build_arg_step(struct build *b, struct stage_state *s, const struct df_instr *in, berth_error_t **err)
{
        struct strbuf text = { 0 };
        _cleanup_free_ char *created_by = NULL, *key = NULL;
        bool hit;

        strbuf_adds(&text, "ARG");
        for (size_t i = 0; i < in->nkvs; i++) {
                const struct df_kv *kv = &in->kvs[i];
                json_t *given = json_object_get(b->o->build_args, kv->key);
                char *v = NULL;
                strbuf_adds(&text, " ");
                strbuf_adds(&text, kv->key);
                if (kv->has_value) {
                        strbuf_adds(&text, "=");
                        strbuf_adds(&text, kv->value);
                }
                if (given) {
                        json_object_set_new(b->used_args, kv->key, json_true());
                        if (json_is_string(given)) {
                                json_object_set(s->args, kv->key, given);
                                continue;
                        }
                }
                if (kv->has_value) {
                        if (build_expand(b, s, kv->value, &v, err) < 0) {
                                free(text.data);
                                return -1;
                        }
                        json_object_set_new(s->args, kv->key, json_string(v));
                        free(v);
                } else {
                        json_t *meta = json_object_get(b->meta, kv->key);
                        json_object_set_new(s->args, kv->key, json_is_string(meta) ? json_incref(meta) : json_null());
                }
        }
        created_by = build_nop(s->config, text.data);
        free(text.data);
        key = build_cache_key(created_by);
        if (build_cache_try(b, s, key, &hit, err) < 0)
                return -1;
        return hit ? 0 : build_commit(b, s, NULL, created_by, key, err);
}
