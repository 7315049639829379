/* ConfigMap and Secret validation as kube-apiserver does it (decoding of
 * the v1 object, then ValidateConfigMap/ValidateSecret and their Update
 * variants), and the decoded view consumers need. */
#include "orch/kube-configdata.h"
#include "util/base64.h"
#include "util/util.h"
#include <stdarg.h>
#include <stdbool.h>

#define IMMUTABLE_MSG "field is immutable when `immutable` is set"
#define KEY_MAX 253

/* ---- base64 as Go's encoding/base64 StdEncoding decodes it ---- */

static int b64_value(unsigned char c)
{
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == '+')
                return 62;
        if (c == '/')
                return 63;
        return -1;
}

static bool is_newline(char c)
{
        return c == '\n' || c == '\r';
}

static size_t skip_newlines(const char *s, size_t i, size_t n)
{
        while (i < n && is_newline(s[i]))
                i++;
        return i;
}

/* One quantum (up to 4 characters, newlines skipped) from s[*si]: its
 * values into q, their count into *got.  -1 when fine, else the offset Go
 * reports; *end is set once padding or the end of input was reached. */
static long b64_quantum(const char *s, size_t n, size_t *si, int q[4], int *got, bool *end)
{
        int j = 0;

        *end = false;
        while (j < 4) {
                if (*si == n) {
                        *end = true;
                        *got = j;
                        /* a quantum must be whole: padding is required */
                        return j == 0 ? -1 : (long)(*si - (size_t)j);
                }
                unsigned char c = (unsigned char)s[(*si)++];
                int v = b64_value(c);
                if (v >= 0) {
                        q[j++] = v;
                        continue;
                }
                if (is_newline((char)c))
                        continue;
                if (c != '=' || j < 2)
                        return (long)(*si - 1);
                if (j == 2) {
                        /* "==" expected, the first one is consumed */
                        *si = skip_newlines(s, *si, n);
                        if (*si == n)
                                return (long)n;
                        if (s[*si] != '=')
                                return (long)(*si - 1);
                        (*si)++;
                }
                *si = skip_newlines(s, *si, n);
                if (*si < n)
                        return (long)*si;       /* trailing garbage */
                *end = true;
                break;
        }
        *got = j;
        return -1;
}

/* Decode s; -1 when valid (out, *len filled when out is not NULL), else
 * the offset of the error. */
static long go_base64(const char *s, char **out, size_t *len)
{
        size_t n = strlen(s), si = 0, o = 0;
        char *buf = out ? xmalloc(n / 4 * 3 + 4) : NULL;
        bool end = false;

        while (!end) {
                int q[4] = { 0 }, got = 0;
                long bad = b64_quantum(s, n, &si, q, &got, &end);
                if (bad >= 0) {
                        free(buf);
                        return bad;
                }
                unsigned v = (unsigned)q[0] << 18 | (unsigned)q[1] << 12 | (unsigned)q[2] << 6 | (unsigned)q[3];
                for (int k = 0; buf && k < got - 1; k++)
                        buf[o++] = (char)(v >> (16 - 8 * k) & 0xff);
                if (si == n)
                        end = true;
        }
        if (buf) {
                buf[o] = '\0';
                *out = buf;
                if (len)
                        *len = o;
        }
        return -1;
}

long kube_base64_error_offset(const char *s)
{
        return go_base64(s, NULL, NULL);
}

char *kube_base64_decode(const char *s, size_t *len)
{
        char *out = NULL;

        return go_base64(s, &out, len) < 0 ? out : NULL;
}

/* ---- errors in kube-apiserver's words ---- */

/* A field.ErrorList: messages in order, duplicates dropped as
 * utilerrors.Aggregate drops them. */
struct errlist {
        char **msg;
        size_t n;
};

static void errlist_add(struct errlist *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void errlist_add(struct errlist *l, const char *fmt, ...)
{
        va_list ap;
        char *m;

        va_start(ap, fmt);
        if (vasprintf(&m, fmt, ap) < 0)
                abort();
        va_end(ap);
        for (size_t i = 0; i < l->n; i++) {
                if (strcmp(l->msg[i], m) == 0) {
                        free(m);
                        return;
                }
        }
        l->msg = xrealloc(l->msg, (l->n + 1) * sizeof(*l->msg));
        l->msg[l->n++] = m;
}

static void errlist_free(struct errlist *l)
{
        for (size_t i = 0; i < l->n; i++)
                free(l->msg[i]);
        free(l->msg);
}

static const char *object_name(const json_t *obj)
{
        const char *name = json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
        return name ? name : "";
}

/* `Kind "name" is invalid: one` or `... is invalid: [one, two]`. */
static int errlist_fail(struct errlist *l, const char *kind, const json_t *obj, berth_error_t **err)
{
        struct strbuf b = { 0 };
        _cleanup_free_ char *name = quote(object_name(obj));
        int r;

        if (l->n > 1)
                strbuf_adds(&b, "[");
        for (size_t i = 0; i < l->n; i++) {
                if (i > 0)
                        strbuf_adds(&b, ", ");
                strbuf_adds(&b, l->msg[i]);
        }
        if (l->n > 1)
                strbuf_adds(&b, "]");
        r = berth_fail(err, EINVAL, "%s %s is invalid: %s", kind, name, b.data);
        free(b.data);
        return r;
}

/* A key as it appears inside a field path's brackets: printable, as
 * quote() has it but without the quotes. */
static char *path_key(const char *key)
{
        char *q = quote(key);
        size_t n = strlen(q);
        size_t close = str_has_prefix(q + (n >= 4 ? n - 4 : 0), "\"...") ? n - 4 : n - 1;

        memmove(q + close, q + close + 1, n - close);   /* the closing quote */
        memmove(q, q + 1, n - 1);                       /* the opening one */
        return q;
}

/* validation.IsConfigMapKey, each message as field.Invalid words it. */
static void check_key(struct errlist *l, const char *field, const char *key)
{
        _cleanup_free_ char *pk = path_key(key), *qk = quote(key);
        size_t n = strlen(key);
        bool charset = n > 0 && strspn(key, "-._abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == n;

        if (n > KEY_MAX)
                errlist_add(l, "%s[%s]: Invalid value: %s: must be no more than %d characters", field, pk, qk, KEY_MAX);
        if (!charset)
                errlist_add(l, "%s[%s]: Invalid value: %s: a valid config key must consist of alphanumeric "
                            "characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', "
                            "regex used for validation is '[-._a-zA-Z0-9]+')", field, pk, qk);
        if (strcmp(key, ".") == 0)
                errlist_add(l, "%s[%s]: Invalid value: %s: must not be '.'", field, pk, qk);
        else if (strcmp(key, "..") == 0)
                errlist_add(l, "%s[%s]: Invalid value: %s: must not be '..'", field, pk, qk);
        else if (str_has_prefix(key, ".."))
                errlist_add(l, "%s[%s]: Invalid value: %s: must not start with '..'", field, pk, qk);
}

/* ---- decoding the v1 object (errors end the request at once) ---- */

static const char *go_json_type(const json_t *v)
{
        switch (json_typeof(v)) {
        case JSON_OBJECT:
                return "object";
        case JSON_ARRAY:
                return "array";
        case JSON_STRING:
                return "string";
        case JSON_TRUE:
        case JSON_FALSE:
                return "bool";
        default:
                return "number";
        }
}

struct decoder {
        const char *kind;               /* "ConfigMap" */
        berth_error_t **err;
};

static int decode_fail(struct decoder *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int decode_fail(struct decoder *d, const char *fmt, ...)
{
        _cleanup_free_ char *m = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&m, fmt, ap) < 0)
                abort();
        va_end(ap);
        return berth_fail(d->err, EINVAL, "%s in version \"v1\" cannot be handled as a %s: %s", d->kind, d->kind, m);
}

static int type_mismatch(struct decoder *d, const json_t *v, const char *field, const char *gotype)
{
        return decode_fail(d, "json: cannot unmarshal %s into Go struct field %s.%s of type %s", go_json_type(v),
                           d->kind, field, gotype);
}

/* obj[field] as a map: NULL when absent or null, else a new object whose
 * values are the strings given (null → ""). */
static int decode_string_map(struct decoder *d, const json_t *obj, const char *field, const char *gotype,
                             json_t **out)
{
        json_t *m = json_object_get(obj, field), *v;
        _cleanup_free_ char *maptype = xasprintf("map[string]%s", gotype);
        const char *key;

        *out = NULL;
        if (!m || json_is_null(m))
                return 0;
        if (!json_is_object(m))
                return type_mismatch(d, m, field, maptype);
        json_object_foreach(m, key, v) {
                if (!json_is_string(v) && !json_is_null(v))
                        return type_mismatch(d, v, field, gotype);
        }
        *out = json_object();
        json_object_foreach(m, key, v)
                json_object_set_new(*out, key, json_string(json_is_null(v) ? "" : json_string_value(v)));
        return 0;
}

/* A map of base64 strings, canonicalised (decoded and encoded again). */
static int decode_bytes_map(struct decoder *d, const json_t *obj, const char *field, json_t **out)
{
        json_t *m = NULL, *v;
        const char *key;
        int r = decode_string_map(d, obj, field, "[]uint8", &m);

        *out = NULL;
        if (r < 0)
                return r;
        json_object_foreach(m, key, v) {
                _cleanup_free_ char *bytes = NULL, *canon = NULL;
                size_t len = 0;
                long bad = go_base64(json_string_value(v), &bytes, &len);
                if (bad >= 0) {
                        json_decref(m);
                        return decode_fail(d, "illegal base64 data at input byte %ld", bad);
                }
                canon = base64_encode(bytes, len, false);
                json_object_set_new(m, key, json_string(canon));
        }
        *out = m;
        return 0;
}

static int decode_bool(struct decoder *d, const json_t *obj, const char *field)
{
        json_t *v = json_object_get(obj, field);

        if (v && !json_is_boolean(v) && !json_is_null(v))
                return type_mismatch(d, v, field, "bool");
        return 0;
}

static bool is_immutable(const json_t *obj)
{
        return obj && json_is_true(json_object_get(obj, "immutable"));
}

/* Absent and empty maps are the same (the API omits empty ones). */
static bool maps_equal(const json_t *a, const json_t *b)
{
        bool ea = !a || json_object_size(a) == 0, eb = !b || json_object_size(b) == 0;

        return ea || eb ? ea == eb : json_equal(a, b);
}

/* Set (or, when empty, remove) obj[field], taking m. */
static void install_map(json_t *obj, const char *field, json_t *m)
{
        if (m && json_object_size(m) > 0)
                json_object_set_new(obj, field, m);
        else {
                json_decref(m);
                json_object_del(obj, field);
        }
}

static void install_immutable(json_t *obj)
{
        if (json_is_null(json_object_get(obj, "immutable")))
                json_object_del(obj, "immutable");
}

static size_t decoded_size(const json_t *b64map)
{
        const char *key;
        json_t *v;
        size_t total = 0;

        json_object_foreach((json_t *)b64map, key, v) {
                size_t len = 0;
                free(kube_base64_decode(json_string_value(v), &len));
                total += len;
        }
        return total;
}

/* ---- ConfigMap ---- */

static void check_immutable(struct errlist *l, const json_t *obj, const json_t *old, const char *const fields[][2],
                            size_t nfields)
{
        if (!is_immutable(old))
                return;
        if (!is_immutable(obj))
                errlist_add(l, "immutable: Forbidden: " IMMUTABLE_MSG);
        for (size_t i = 0; i < nfields; i++) {
                if (!maps_equal(json_object_get(obj, fields[i][0]), json_object_get(old, fields[i][1])))
                        errlist_add(l, "%s: Forbidden: " IMMUTABLE_MSG, fields[i][1]);
        }
}

static void validate_configmap(struct errlist *l, const json_t *data, const json_t *binary)
{
        const char *key;
        json_t *v;
        size_t total = 0;

        json_object_foreach((json_t *)data, key, v) {
                check_key(l, "data", key);
                if (json_object_get(binary, key)) {
                        _cleanup_free_ char *pk = path_key(key), *qk = quote(key);
                        errlist_add(l, "data[%s]: Invalid value: %s: duplicate of key present in binaryData", pk, qk);
                }
                total += strlen(json_string_value(v));
        }
        json_object_foreach((json_t *)binary, key, v)
                check_key(l, "binaryData", key);
        total += decoded_size(binary);
        if (total > KUBE_CONFIG_MAX_SIZE)
                errlist_add(l, "[]: Too long: must have at most %d bytes", KUBE_CONFIG_MAX_SIZE);
}

int kube_configmap_normalize(json_t *cm, const json_t *old, berth_error_t **err)
{
        struct decoder d = { "ConfigMap", err };
        static const char *const fields[][2] = { { "data", "data" }, { "binaryData", "binaryData" } };
        struct errlist l = { 0 };
        json_t *data = NULL, *binary = NULL, *view;
        int r;

        r = decode_string_map(&d, cm, "data", "string", &data);
        if (r == 0)
                r = decode_bytes_map(&d, cm, "binaryData", &binary);
        if (r == 0)
                r = decode_bool(&d, cm, "immutable");
        if (r < 0)
                goto out;
        /* compare with what the new object will be once stored */
        view = json_pack("{s:O?,s:O?,s:O?}", "data", data, "binaryData", binary, "immutable",
                         json_object_get(cm, "immutable"));
        check_immutable(&l, view, old, fields, ARRAY_SIZE(fields));
        json_decref(view);
        validate_configmap(&l, data, binary);
        if (l.n > 0) {
                r = errlist_fail(&l, "ConfigMap", cm, err);
                goto out;
        }
        install_map(cm, "data", steal_pointer(&data));
        install_map(cm, "binaryData", steal_pointer(&binary));
        install_immutable(cm);
out:
        json_decref(data);
        json_decref(binary);
        errlist_free(&l);
        return r;
}

/* ---- Secret ---- */

/* data with stringData merged in (it wins), all base64. */
static int secret_merged_data(struct decoder *d, const json_t *secret, json_t **out)
{
        json_t *data = NULL, *plain = NULL, *v;
        const char *key;
        int r;

        *out = NULL;
        r = decode_bytes_map(d, secret, "data", &data);
        if (r == 0)
                r = decode_string_map(d, secret, "stringData", "string", &plain);
        if (r < 0) {
                json_decref(data);
                return r;
        }
        if (!data)
                data = json_object();
        json_object_foreach(plain, key, v) {
                const char *s = json_string_value(v);
                _cleanup_free_ char *b64 = base64_encode(s, strlen(s), false);
                json_object_set_new(data, key, json_string(b64));
        }
        json_decref(plain);
        *out = data;
        return 0;
}

static void require_key(struct errlist *l, const json_t *data, const char *key)
{
        if (!json_object_get(data, key))
                errlist_add(l, "data[%s]: Required value", key);
}

/* The keys (and shapes) the built-in types need. */
static void validate_secret_type(struct errlist *l, const json_t *secret, const char *type, const json_t *data)
{
        if (strcmp(type, "kubernetes.io/service-account-token") == 0) {
                json_t *ann = json_object_get(json_object_get(secret, "metadata"), "annotations");
                if (!json_string_value(json_object_get(ann, "kubernetes.io/service-account.name")))
                        errlist_add(l, "metadata.annotations[kubernetes.io/service-account.name]: Required value");
        } else if (strcmp(type, "kubernetes.io/dockercfg") == 0 ||
                   strcmp(type, "kubernetes.io/dockerconfigjson") == 0) {
                const char *key = strchr(type, '/') + 1;
                _cleanup_free_ char *dotkey = xasprintf(".%s", key), *bytes = NULL;
                json_error_t jerr;
                json_t *doc;

                if (!json_object_get(data, dotkey)) {
                        errlist_add(l, "data[%s]: Required value", dotkey);
                        return;
                }
                bytes = kube_base64_decode(json_string_value(json_object_get(data, dotkey)), NULL);
                doc = bytes ? json_loads(bytes, JSON_DECODE_ANY, &jerr) : NULL;
                if (!doc)
                        errlist_add(l, "data[%s]: Invalid value: \"<secret contents redacted>\": %s", dotkey,
                                    bytes ? jerr.text : "not base64");
                else if (!json_is_object(doc))
                        errlist_add(l, "data[%s]: Invalid value: \"<secret contents redacted>\": json: cannot "
                                    "unmarshal %s into Go value of type map[string]interface {}", dotkey,
                                    go_json_type(doc));
                json_decref(doc);
        } else if (strcmp(type, "kubernetes.io/basic-auth") == 0) {
                if (!json_object_get(data, "username") && !json_object_get(data, "password")) {
                        require_key(l, data, "username");
                        require_key(l, data, "password");
                }
        } else if (strcmp(type, "kubernetes.io/ssh-auth") == 0) {
                const char *v = json_string_value(json_object_get(data, "ssh-privatekey"));
                if (!v || !*v)
                        errlist_add(l, "data[ssh-privatekey]: Required value");
        } else if (strcmp(type, "kubernetes.io/tls") == 0) {
                require_key(l, data, "tls.crt");
                require_key(l, data, "tls.key");
        }
}

static void validate_secret(struct errlist *l, const json_t *secret, const char *type, const json_t *data)
{
        const char *key;
        json_t *v;

        json_object_foreach((json_t *)data, key, v)
                check_key(l, "data", key);
        if (decoded_size(data) > KUBE_CONFIG_MAX_SIZE)
                errlist_add(l, "data: Too long: must have at most %d bytes", KUBE_CONFIG_MAX_SIZE);
        validate_secret_type(l, secret, type, data);
}

static void check_secret_update(struct errlist *l, const json_t *view, const json_t *old)
{
        static const char *const fields[][2] = { { "data", "data" } };
        const char *type = json_string_value(json_object_get(view, "type"));
        const char *old_type = json_string_value(json_object_get(old, "type"));

        if (!old)
                return;
        if (strcmp(type, old_type ? old_type : "Opaque") != 0) {
                _cleanup_free_ char *qt = quote(type);
                errlist_add(l, "type: Invalid value: %s: field is immutable", qt);
        }
        check_immutable(l, view, old, fields, ARRAY_SIZE(fields));
}

int kube_secret_normalize(json_t *secret, const json_t *old, berth_error_t **err)
{
        struct decoder d = { "Secret", err };
        struct errlist l = { 0 };
        json_t *data = NULL, *t = json_object_get(secret, "type"), *view;
        const char *type;
        int r;

        r = secret_merged_data(&d, secret, &data);
        if (r == 0 && t && !json_is_string(t) && !json_is_null(t))
                r = type_mismatch(&d, t, "type", "v1.SecretType");
        if (r == 0)
                r = decode_bool(&d, secret, "immutable");
        if (r < 0)
                goto out;
        type = json_string_value(t);
        if (!type || !*type)
                type = "Opaque";
        view = json_pack("{s:O,s:s,s:O?}", "data", data, "type", type, "immutable",
                                 json_object_get(secret, "immutable"));
        check_secret_update(&l, view, old);
        json_decref(view);
        validate_secret(&l, secret, type, data);
        if (l.n > 0) {
                r = errlist_fail(&l, "Secret", secret, err);
                goto out;
        }
        json_object_set_new(secret, "type", json_string(type));
        json_object_del(secret, "stringData");
        install_map(secret, "data", steal_pointer(&data));
        install_immutable(secret);
out:
        json_decref(data);
        errlist_free(&l);
        return r;
}

/* ---- reading ---- */

static bool is_secret(const json_t *obj)
{
        const char *kind = json_string_value(json_object_get(obj, "kind"));
        return kind && strcmp(kind, "Secret") == 0;
}

/* The value of one stored entry, decoded when base64. */
static int entry_bytes(const json_t *v, bool b64, char **val, size_t *len)
{
        const char *s = json_string_value(v);

        if (!s)
                return -EINVAL;
        if (!b64) {
                *val = xstrdup(s);
                *len = strlen(s);
                return 0;
        }
        *val = kube_base64_decode(s, len);
        return *val ? 0 : -EINVAL;
}

int kube_data_get(const json_t *obj, const char *key, char **val, size_t *len)
{
        bool secret = is_secret(obj);
        json_t *v = json_object_get(json_object_get(obj, "data"), key);

        if (v)
                return entry_bytes(v, secret, val, len);
        if (secret)
                return -ENOENT;
        v = json_object_get(json_object_get(obj, "binaryData"), key);
        return v ? entry_bytes(v, true, val, len) : -ENOENT;
}

static int add_entries(const json_t *map, bool b64, struct kube_data_entry **e, size_t *n, berth_error_t **err)
{
        const char *key;
        json_t *v;

        json_object_foreach((json_t *)map, key, v) {
                struct kube_data_entry x = { 0 };
                if (entry_bytes(v, b64, &x.val, &x.len) < 0) {
                        _cleanup_free_ char *qk = quote(key);
                        return berth_fail(err, EINVAL, "the value of key %s is not base64", qk);
                }
                x.key = xstrdup(key);
                *e = xrealloc(*e, (*n + 1) * sizeof(**e));
                (*e)[(*n)++] = x;
        }
        return 0;
}

int kube_data_entries(const json_t *obj, struct kube_data_entry **entries, size_t *n, berth_error_t **err)
{
        bool secret = is_secret(obj);
        struct kube_data_entry *e = NULL;
        size_t count = 0;
        int r;

        r = add_entries(json_object_get(obj, "data"), secret, &e, &count, err);
        if (r == 0 && !secret)
                r = add_entries(json_object_get(obj, "binaryData"), true, &e, &count, err);
        if (r < 0) {
                kube_data_entries_free(e, count);
                return r;
        }
        *entries = e;
        *n = count;
        return 0;
}

void kube_data_entries_free(struct kube_data_entry *entries, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(entries[i].key);
                free(entries[i].val);
        }
        free(entries);
}

json_t *kube_secret_redacted(const json_t *secret)
{
        json_t *out = json_object(), *v;
        const char *key;

        json_object_foreach(json_object_get(secret, "data"), key, v) {
                size_t len = 0;
                const char *s = json_string_value(v);
                _cleanup_free_ char *bytes = s ? kube_base64_decode(s, &len) : NULL;
                json_object_set_new(out, key, json_integer(bytes ? (json_int_t)len : 0));
        }
        return out;
}
