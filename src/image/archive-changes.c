/* Dockerfile instructions applied to an image config, as `docker import
 * --change` and `docker commit --change` take them: "CMD [\"sh\"]",
 * "ENV A=1 B=\"two words\"", "EXPOSE 80 53/udp"...
 *
 * Exec form is a JSON array of strings; anything else (Docker's rule,
 * malformed JSON included) is shell form, run as ["/bin/sh", "-c", ...].
 * Words split on whitespace with double quotes (backslash escapes inside),
 * single quotes and backslash outside quotes, as Docker's word lexer does;
 * no $VAR expansion. */
#include "image/archive-internal.h"
#include <ctype.h>

#define EXPOSE_MAX_PORTS 65536

static const char *skip_space(const char *s)
{
        while (*s && isspace((unsigned char)*s))
                s++;
        return s;
}

/* One word from *s, quotes removed; NULL at the end. */
static int next_word(const char **s, char **out, berth_error_t **err)
{
        const char *p = skip_space(*s);
        size_t n = 0;
        char quote = 0, *w;

        *out = NULL;
        if (*p == '\0') {
                *s = p;
                return 0;
        }
        w = xmalloc(strlen(p) + 1);
        for (; *p && (quote || !isspace((unsigned char)*p)); p++) {
                if (quote == '\'' ? *p == '\'' : quote == '"' ? *p == '"' : (*p == '\'' || *p == '"')) {
                        quote = quote ? 0 : *p;
                        continue;
                }
                if (*p == '\\' && quote != '\'' && p[1] != '\0')
                        p++;
                w[n++] = *p;
        }
        w[n] = '\0';
        if (quote) {
                free(w);
                return berth_error(err, 0, "unterminated %c quote", quote);
        }
        *s = p;
        *out = w;
        return 0;
}

static int split_words(const char *s, json_t **out, berth_error_t **err)
{
        json_t *words = json_array();
        char *w;

        for (;;) {
                if (next_word(&s, &w, err) < 0) {
                        json_decref(words);
                        return -1;
                }
                if (w == NULL)
                        break;
                json_array_append_new(words, json_string(w));
                free(w);
        }
        *out = words;
        return 0;
}

/* A JSON array of strings, or NULL when args is not one. */
static json_t *exec_form(const char *args)
{
        json_t *v = args[0] == '[' ? json_loads(args, JSON_DECODE_ANY, NULL) : NULL;
        json_t *item;
        size_t i;

        if (v == NULL || !json_is_array(v))
                goto not_exec;
        json_array_foreach(v, i, item)
                if (!json_is_string(item))
                        goto not_exec;
        return v;
not_exec:
        json_decref(v);
        return NULL;
}

static json_t *command(const char *args)
{
        json_t *v = exec_form(args);

        return v ? v : json_pack("[s, s, s]", "/bin/sh", "-c", args);
}

/* "k=v k2=v2", or the old "k v" (one pair, the value all the rest). */
static int pairs(const char *what, const char *args, json_t **out, berth_error_t **err)
{
        _cleanup_json_ json_t *words = NULL, *res = json_object();
        json_t *w;
        size_t i;

        if (split_words(args, &words, err) < 0)
                return berth_error_wrap(err, "%s", what);
        if (json_array_size(words) == 0)
                return berth_error(err, 0, "%s needs an argument", what);
        if (!strchr(json_string_value(json_array_get(words, 0)), '=')) {
                _cleanup_free_ char *value = NULL, *q = quote(json_string_value(json_array_get(words, 0)));
                if (json_array_size(words) < 2 || *json_string_value(json_array_get(words, 0)) == '\0')
                        return berth_error(err, 0, "%s needs a name and a value, not just %s", what, q);
                for (i = 1; i < json_array_size(words); i++) {
                        char *v = xasprintf("%s%s%s", value ? value : "", value ? " " : "",
                                            json_string_value(json_array_get(words, i)));
                        free(value);
                        value = v;
                }
                json_object_set_new(res, json_string_value(json_array_get(words, 0)), json_string(value));
        } else {
                json_array_foreach(words, i, w) {
                        const char *s = json_string_value(w), *eq = strchr(s, '=');
                        _cleanup_free_ char *key = eq ? strndup(s, (size_t)(eq - s)) : NULL;
                        if (eq == NULL || eq == s) {
                                _cleanup_free_ char *q = quote(s);
                                return berth_error(err, 0, "%s: %s is not KEY=VALUE", what, q);
                        }
                        json_object_set_new(res, key, json_string(eq + 1));
                }
        }
        *out = steal_pointer(&res);
        return 0;
}

static int do_env(json_t *config, const char *args, berth_error_t **err)
{
        _cleanup_json_ json_t *kv = NULL;
        json_t *env = json_object_get(config, "Env"), *v;
        const char *key;

        if (pairs("ENV", args, &kv, err) < 0)
                return -1;
        if (!json_is_array(env))
                json_object_set_new(config, "Env", env = json_array());
        json_object_foreach(kv, key, v) {
                _cleanup_free_ char *entry = xasprintf("%s=%s", key, json_string_value(v));
                size_t i, klen = strlen(key);
                json_t *old;

                /* a variable set again replaces its earlier value, in place */
                json_array_foreach(env, i, old) {
                        const char *s = json_string_value(old);
                        if (s && strncmp(s, key, klen) == 0 && s[klen] == '=')
                                break;
                }
                if (i < json_array_size(env))
                        json_array_set_new(env, i, json_string(entry));
                else
                        json_array_append_new(env, json_string(entry));
        }
        return 0;
}

static int do_label(json_t *config, const char *args, berth_error_t **err)
{
        _cleanup_json_ json_t *kv = NULL;
        json_t *labels = json_object_get(config, "Labels");

        if (pairs("LABEL", args, &kv, err) < 0)
                return -1;
        if (!json_is_object(labels))
                json_object_set_new(config, "Labels", labels = json_object());
        json_object_update(labels, kv);
        return 0;
}

/* "80", "80/tcp", "53/udp", "8000-8010/tcp": each port a key "80/tcp". */
static int expose_one(json_t *ports, const char *spec, berth_error_t **err)
{
        _cleanup_free_ char *q = quote(spec);
        const char *slash = strchr(spec, '/'), *proto = slash ? slash + 1 : "tcp";
        unsigned long lo, hi;
        char *end;

        if (strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0 && strcmp(proto, "sctp") != 0)
                return berth_error(err, 0, "EXPOSE %s: the protocol must be tcp, udp or sctp", q);
        if (!isdigit((unsigned char)spec[0]))
                return berth_error(err, 0, "EXPOSE %s: not a port", q);
        lo = hi = strtoul(spec, &end, 10);
        if (*end == '-' && isdigit((unsigned char)end[1]))
                hi = strtoul(end + 1, &end, 10);
        if (end != (slash ? slash : spec + strlen(spec)) || lo > hi || hi > 65535)
                return berth_error(err, 0, "EXPOSE %s: not a port or port range", q);
        for (unsigned long p = lo; p <= hi; p++) {
                char key[32];
                snprintf(key, sizeof(key), "%lu/%s", p, proto);
                json_object_set_new(ports, key, json_object());
        }
        return 0;
}

static int do_expose(json_t *config, const char *args, berth_error_t **err)
{
        _cleanup_json_ json_t *words = NULL;
        json_t *ports = json_object_get(config, "ExposedPorts"), *w;
        size_t i;

        if (split_words(args, &words, err) < 0)
                return berth_error_wrap(err, "EXPOSE");
        if (!json_is_object(ports))
                json_object_set_new(config, "ExposedPorts", ports = json_object());
        json_array_foreach(words, i, w)
                if (expose_one(ports, json_string_value(w), err) < 0)
                        return -1;
        return 0;
}

static int do_volume(json_t *config, const char *args, berth_error_t **err)
{
        _cleanup_json_ json_t *list = exec_form(args);
        json_t *vols = json_object_get(config, "Volumes"), *w;
        size_t i;

        if (list == NULL && split_words(args, &list, err) < 0)
                return berth_error_wrap(err, "VOLUME");
        if (!json_is_object(vols))
                json_object_set_new(config, "Volumes", vols = json_object());
        json_array_foreach(list, i, w) {
                if (*json_string_value(w) == '\0')
                        return berth_error(err, 0, "VOLUME: an empty path");
                json_object_set_new(vols, json_string_value(w), json_object());
        }
        return 0;
}

/* A relative WORKDIR is relative to the one before, as in a Dockerfile. */
static int do_workdir(json_t *config, const char *args, berth_error_t **err)
{
        const char *cur = json_string_value(json_object_get(config, "WorkingDir"));
        _cleanup_free_ char *dir = NULL;

        (void)err;
        if (args[0] == '/' || cur == NULL || *cur == '\0')
                dir = args[0] == '/' ? xstrdup(args) : xasprintf("/%s", args);
        else
                dir = xasprintf("%s%s%s", cur, cur[strlen(cur) - 1] == '/' ? "" : "/", args);
        json_object_set_new(config, "WorkingDir", json_string(dir));
        return 0;
}

/* "SIGTERM", "TERM", "9", "SIGRTMIN+3". */
static int do_stopsignal(json_t *config, const char *args, berth_error_t **err)
{
        for (const char *p = args; *p; p++)
                if (!isalnum((unsigned char)*p) && *p != '+' && *p != '-') {
                        _cleanup_free_ char *q = quote(args);
                        return berth_error(err, 0, "STOPSIGNAL %s: not a signal", q);
                }
        json_object_set_new(config, "StopSignal", json_string(args));
        return 0;
}

static int do_cmd(json_t *config, const char *args, berth_error_t **err)
{
        (void)err;
        json_object_set_new(config, "Cmd", command(args));
        return 0;
}

static int do_entrypoint(json_t *config, const char *args, berth_error_t **err)
{
        (void)err;
        json_object_set_new(config, "Entrypoint", command(args));
        return 0;
}

static int do_user(json_t *config, const char *args, berth_error_t **err)
{
        (void)err;
        json_object_set_new(config, "User", json_string(args));
        return 0;
}

static const struct {
        const char *keyword;
        int (*apply)(json_t *config, const char *args, berth_error_t **err);
} instructions[] = {
        { "CMD", do_cmd },         { "ENTRYPOINT", do_entrypoint }, { "ENV", do_env },
        { "EXPOSE", do_expose },   { "LABEL", do_label },           { "STOPSIGNAL", do_stopsignal },
        { "USER", do_user },       { "VOLUME", do_volume },         { "WORKDIR", do_workdir },
};

static int apply_one(json_t *config, const char *change, berth_error_t **err)
{
        const char *p = skip_space(change), *args;
        size_t n = strcspn(p, " \t\n\r\f\v"), len;
        _cleanup_free_ char *kw = strndup(p, n), *a = NULL, *q = NULL;

        if (kw == NULL)
                abort();
        if (*kw == '\0')
                return 0; /* an empty change changes nothing */
        for (char *k = kw; *k; k++)
                *k = (char)toupper((unsigned char)*k);
        args = skip_space(p + n);
        len = strlen(args);
        while (len > 0 && isspace((unsigned char)args[len - 1]))
                len--;
        a = strndup(args, len);
        if (a == NULL)
                abort();
        q = quote(kw);
        if (strcmp(kw, "ONBUILD") == 0)
                return berth_error(err, 0, "ONBUILD is not supported");
        for (size_t i = 0; i < ARRAY_SIZE(instructions); i++) {
                if (strcmp(kw, instructions[i].keyword) != 0)
                        continue;
                if (*a == '\0')
                        return berth_error(err, 0, "%s needs an argument", kw);
                return instructions[i].apply(config, a, err);
        }
        return berth_error(err, 0, "%s is not a valid change (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, "
                                   "USER, VOLUME, WORKDIR)", q);
}

int image_changes_apply(json_t *config, const char *const *changes, berth_error_t **err)
{
        for (size_t i = 0; changes != NULL && changes[i] != NULL; i++)
                if (apply_one(config, changes[i], err) < 0) {
                        _cleanup_free_ char *q = quote(changes[i]);
                        return berth_error_wrap(err, "change %s", q);
                }
        return 0;
}
