/* Reading the Docker create body: typed field access with errors that name
 * the field, and the path and string-vector helpers the spec code shares. */
#include "engine/docker-spec-internal.h"
#include <stdarg.h>
#include <strings.h>

json_t *must(json_t *j)
{
        if (j == NULL)
                abort();
        return j;
}

json_t *dj_get(json_t *obj, const char *key)
{
        json_t *v = json_object_get(obj, key);
        const char *k;

        if (v != NULL || !json_is_object(obj))
                return v;
        json_object_foreach(obj, k, v)
                if (strcasecmp(k, key) == 0)
                        return v;
        return NULL;
}

static const char *type_name(json_t *v)
{
        switch (json_typeof(v)) {
        case JSON_OBJECT: return "an object";
        case JSON_ARRAY: return "an array";
        case JSON_STRING: return "a string";
        case JSON_INTEGER: return "an integer";
        case JSON_REAL: return "a number with a fraction or exponent";
        case JSON_TRUE:
        case JSON_FALSE: return "a boolean";
        default: return "null";
        }
}

static int wrong_type(const char *where, const char *key, const char *want, json_t *v, berth_error_t **err)
{
        return berth_error(err, 0, "%s%s: expected %s, got %s", where, key, want, type_name(v));
}

int dj_str_value(json_t *v, const char *field, const char **out, berth_error_t **err)
{
        if (!json_is_string(v))
                return berth_error(err, 0, "%s: expected a string, got %s", field, type_name(v));
        if (strlen(json_string_value(v)) != json_string_length(v))
                return berth_error(err, 0, "%s: contains a NUL character", field);
        *out = json_string_value(v);
        return 0;
}

int dj_string(json_t *obj, const char *where, const char *key, const char **out, berth_error_t **err)
{
        json_t *v = dj_get(obj, key);
        _cleanup_free_ char *field = NULL;

        *out = "";
        if (v == NULL || json_is_null(v))
                return 0;
        field = xasprintf("%s%s", where, key);
        return dj_str_value(v, field, out, err);
}

int dj_int(json_t *obj, const char *where, const char *key, long long *out, berth_error_t **err)
{
        json_t *v = dj_get(obj, key);

        *out = 0;
        if (v == NULL || json_is_null(v))
                return 0;
        if (!json_is_integer(v))
                return wrong_type(where, key, "an integer", v, err);
        *out = json_integer_value(v);
        return 0;
}

int dj_bool(json_t *obj, const char *where, const char *key, bool *out, berth_error_t **err)
{
        json_t *v = dj_get(obj, key);

        *out = false;
        if (v == NULL || json_is_null(v))
                return 0;
        if (!json_is_boolean(v))
                return wrong_type(where, key, "a boolean", v, err);
        *out = json_is_true(v);
        return 0;
}

int dj_object(json_t *obj, const char *where, const char *key, json_t **out, berth_error_t **err)
{
        json_t *v = dj_get(obj, key);

        *out = NULL;
        if (v == NULL || json_is_null(v))
                return 0;
        if (!json_is_object(v))
                return wrong_type(where, key, "an object", v, err);
        *out = v;
        return 0;
}

int dj_array(json_t *obj, const char *where, const char *key, json_t **out, berth_error_t **err)
{
        json_t *v = dj_get(obj, key);

        *out = NULL;
        if (v == NULL || json_is_null(v))
                return 0;
        if (!json_is_array(v))
                return wrong_type(where, key, "an array", v, err);
        *out = v;
        return 0;
}

int dj_strv(json_t *obj, const char *where, const char *key, bool allow_string, const char ***out,
            berth_error_t **err)
{
        json_t *v = dj_get(obj, key), *s;
        _cleanup_free_ const char **vec = NULL;
        size_t i;
        int ret;

        *out = NULL;
        if (v == NULL || json_is_null(v))
                return 0;
        if (allow_string && json_is_string(v)) {
                vec = xcalloc(2, sizeof(*vec));
                if ((ret = dj_string(obj, where, key, &vec[0], err)) < 0)
                        return ret;
                *out = steal_pointer(&vec);
                return 0;
        }
        if (!json_is_array(v))
                return wrong_type(where, key, allow_string ? "an array of strings or a string" : "an array of strings",
                                  v, err);
        vec = xcalloc(json_array_size(v) + 1, sizeof(*vec));
        json_array_foreach(v, i, s) {
                _cleanup_free_ char *field = xasprintf("%s%s[%zu]", where, key, i);
                if ((ret = dj_str_value(s, field, &vec[i], err)) < 0)
                        return ret;
        }
        *out = steal_pointer(&vec);
        return 0;
}

size_t strv_len(const char *const *v)
{
        size_t n = 0;

        while (v && v[n])
                n++;
        return n;
}

void strv_free_owned(char **v)
{
        for (size_t i = 0; v && v[i]; i++)
                free(v[i]);
        free(v);
}

char *path_clean(const char *path)
{
        size_t len = strlen(path);
        char *out = xmalloc(len + 2);
        size_t o = 0;
        const char *p = path;

        out[o++] = '/';
        while (*p) {
                const char *end;
                size_t n;

                while (*p == '/')
                        p++;
                end = strchrnul(p, '/');
                n = (size_t)(end - p);
                if (n == 0 || (n == 1 && p[0] == '.')) {
                        /* nothing */
                } else if (n == 2 && p[0] == '.' && p[1] == '.') {
                        while (o > 1 && out[o - 1] != '/')
                                o--;
                        if (o > 1)
                                o--;    /* the slash before the dropped component */
                } else {
                        if (o > 1)
                                out[o++] = '/';
                        memcpy(out + o, p, n);
                        o += n;
                }
                p = end;
        }
        out[o] = '\0';
        return out;
}

size_t path_depth(const char *clean)
{
        size_t n = 0;

        for (const char *p = clean; *p; p++)
                if (*p == '/' && p[1] != '\0')
                        n++;
        return n;
}

void spec_warn(struct spec_ctx *ctx, const char *fmt, ...)
{
        struct docker_spec_info *info = ctx->info;
        va_list ap;
        char *msg = NULL;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                abort();
        va_end(ap);
        info->warnings = xrealloc(info->warnings, (info->n_warnings + 2) * sizeof(char *));
        info->warnings[info->n_warnings++] = msg;
        info->warnings[info->n_warnings] = NULL;
}

char *printable(const char *s)
{
        size_t n = 0;

        for (; s[n]; n++)
                if ((unsigned char)s[n] < 0x20 || (unsigned char)s[n] >= 0x7f || n >= 256)
                        return quote(s);
        return xstrdup(s);
}

char *field_key(const char *prefix, const char *key)
{
        _cleanup_free_ char *k = printable(key);

        return xasprintf("%s[%s]", prefix, k);
}
