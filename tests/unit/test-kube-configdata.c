#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "orch/kube-configdata.h"
#include "util/util.h"

#define IMMUTABLE "field is immutable when `immutable` is set"
#define KEY_MSG "a valid config key must consist of alphanumeric characters, '-', '_' or '.' " \
        "(e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"

static json_t *parse(const char *s)
{
        json_error_t jerr;
        json_t *j = json_loads(s, 0, &jerr);

        if (!j)
                fail_msg("bad test JSON: %s: %s", jerr.text, s);
        return j;
}

/* normalize's error message for obj (kind from it), "" when it passed. */
static char *normalize_msg(json_t *obj, const json_t *old)
{
        _cleanup_error_ berth_error_t *err = NULL;
        const char *kind = json_string_value(json_object_get(obj, "kind"));
        int r = strcmp(kind, "Secret") == 0 ? kube_secret_normalize(obj, old, &err) :
                kube_configmap_normalize(obj, old, &err);

        if (r == 0)
                return xstrdup("");
        assert_int_equal(r, -EINVAL);
        assert_int_equal(err->status, EINVAL);
        return xstrdup(err->msg);
}

static void expect_error(const char *doc, const char *old_doc, const char *want)
{
        json_t *obj = parse(doc), *old = old_doc ? parse(old_doc) : NULL;
        _cleanup_free_ char *msg = normalize_msg(obj, old);

        assert_string_equal(msg, want);
        json_decref(obj);
        json_decref(old);
}

/* Normalize doc (with old) and compare the result with want. */
static void expect_stored(const char *doc, const char *old_doc, const char *want)
{
        json_t *obj = parse(doc), *old = old_doc ? parse(old_doc) : NULL, *w = parse(want);
        _cleanup_free_ char *msg = normalize_msg(obj, old);

        assert_string_equal(msg, "");
        if (!json_equal(obj, w)) {
                _cleanup_free_ char *got = json_dumps(obj, JSON_SORT_KEYS);
                fail_msg("stored %s, want %s", got, want);
        }
        json_decref(obj);
        json_decref(old);
        json_decref(w);
}

static void base64_like_go(void **state)
{
        (void)state;
        size_t len = 99;
        _cleanup_free_ char *a = kube_base64_decode("c2VjcmV0LXZhbHVl", NULL);
        _cleanup_free_ char *b = kube_base64_decode("YWJj\r\nZGVm\n", NULL);
        _cleanup_free_ char *c = kube_base64_decode("", &len);
        _cleanup_free_ char *d = NULL;

        assert_string_equal(a, "secret-value");
        assert_string_equal(b, "abcdef");
        assert_non_null(c);
        assert_int_equal(len, 0);
        d = kube_base64_decode("AAE=", &len);
        assert_int_equal(len, 2);
        assert_memory_equal(d, "\0\1", 2);
        /* the offsets Go's CorruptInputError reports */
        assert_int_equal(kube_base64_error_offset("YQ=="), -1);
        assert_int_equal(kube_base64_error_offset("billy"), 4);          /* an incomplete quantum */
        assert_int_equal(kube_base64_error_offset("APIKEY_BASE64"), 6);  /* '_' is not StdEncoding */
        assert_int_equal(kube_base64_error_offset("YQ"), 0);             /* padding is required */
        assert_int_equal(kube_base64_error_offset("YQ="), 3);            /* "==" expected */
        assert_int_equal(kube_base64_error_offset("YQ==YQ=="), 4);       /* trailing garbage */
        assert_int_equal(kube_base64_error_offset("Y==="), 1);
        assert_int_equal(kube_base64_error_offset("="), 0);
        assert_int_equal(kube_base64_error_offset("a b="), 1);
        assert_null(kube_base64_decode("billy", NULL));
}

static void configmap_stored_form(void **state)
{
        (void)state;
        /* null values become "", binaryData is re-encoded, empty maps go */
        expect_stored("{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\"},\"data\":{\"a\":\"1\",\"n\":null},"
                      "\"binaryData\":{\"b\":\"aGVs\\nbG8=\"},\"immutable\":null}",
                      NULL,
                      "{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\"},\"data\":{\"a\":\"1\",\"n\":\"\"},"
                      "\"binaryData\":{\"b\":\"aGVsbG8=\"}}");
        expect_stored("{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\"},\"data\":{},\"immutable\":false}", NULL,
                      "{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\"},\"immutable\":false}");
}

static void configmap_keys(void **state)
{
        (void)state;
        _cleanup_free_ char *long_key = xmalloc(300), *doc = NULL, *want = NULL;

        expect_error("{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"x\"},\"data\":{\"a b\":\"1\"}}", NULL,
                     "ConfigMap \"x\" is invalid: data[a b]: Invalid value: \"a b\": " KEY_MSG);
        expect_error("{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"x\"},\"binaryData\":{\"..\":\"\"}}", NULL,
                     "ConfigMap \"x\" is invalid: binaryData[..]: Invalid value: \"..\": must not be '..'");
        expect_error("{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"x\"},\"data\":{\".\":\"\"}}", NULL,
                     "ConfigMap \"x\" is invalid: data[.]: Invalid value: \".\": must not be '.'");
        expect_error("{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"x\"},\"data\":{\"..data\":\"\"}}", NULL,
                     "ConfigMap \"x\" is invalid: data[..data]: Invalid value: \"..data\": must not start with '..'");
        expect_error("{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"x\"},\"data\":{\"\":\"\"}}", NULL,
                     "ConfigMap \"x\" is invalid: data[]: Invalid value: \"\": " KEY_MSG);
        /* several errors: one list, in brackets */
        expect_error("{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"x\"},\"data\":{\"a/b\":\"\",\"k\":\"\"},"
                     "\"binaryData\":{\"k\":\"\"}}", NULL,
                     "ConfigMap \"x\" is invalid: [data[a/b]: Invalid value: \"a/b\": " KEY_MSG ", "
                     "data[k]: Invalid value: \"k\": duplicate of key present in binaryData]");
        memset(long_key, 'k', 254);
        long_key[254] = '\0';
        doc = xasprintf("{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"x\"},\"data\":{\"%s\":\"\"}}", long_key);
        want = xasprintf("ConfigMap \"x\" is invalid: data[%s]: Invalid value: \"%s\": must be no more than 253 "
                         "characters", long_key, long_key);
        expect_error(doc, NULL, want);
        long_key[253] = '\0';
        free(doc);
        doc = xasprintf("{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"x\"},\"data\":{\"%s\":\"\"}}", long_key);
        expect_error(doc, NULL, "");
        expect_error("{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"x\"},\"data\":{\"-A_z.9\":\"\"}}", NULL, "");
}

/* Keys reach messages printable and bounded. */
static void configmap_keys_in_messages(void **state)
{
        (void)state;
        _cleanup_free_ char *k300 = xmalloc(301), *msg = NULL, *cut = NULL, *want = NULL;
        json_t *cm = json_pack("{s:s,s:{s:s},s:{s:s}}", "kind", "ConfigMap", "metadata", "name", "x", "data", "", "");

        memset(k300, 'k', 300);
        k300[300] = '\0';
        json_object_clear(json_object_get(cm, "data"));
        json_object_set_new(json_object_get(cm, "data"), k300, json_string(""));
        msg = normalize_msg(cm, NULL);
        cut = xstrdup(k300);
        cut[256] = '\0';
        want = xasprintf("ConfigMap \"x\" is invalid: data[%s...]: Invalid value: \"%s\"...: must be no more than 253 "
                         "characters", cut, cut);
        assert_string_equal(msg, want);
        json_decref(cm);
        expect_error("{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"x\"},\"data\":{\"a\\nb\\\"\":\"\"}}", NULL,
                     "ConfigMap \"x\" is invalid: data[a\\x0ab\\\"]: Invalid value: \"a\\x0ab\\\"\": " KEY_MSG);
}

static void configmap_decoding(void **state)
{
        (void)state;
        expect_error("{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"x\"},\"data\":{\"a\":1}}", NULL,
                     "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: json: cannot unmarshal number "
                     "into Go struct field ConfigMap.data of type string");
        expect_error("{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"x\"},\"data\":[]}", NULL,
                     "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: json: cannot unmarshal array "
                     "into Go struct field ConfigMap.data of type map[string]string");
        expect_error("{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"x\"},\"binaryData\":{\"b\":\"billy\"}}", NULL,
                     "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: illegal base64 data at input "
                     "byte 4");
        expect_error("{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"x\"},\"immutable\":\"yes\"}", NULL,
                     "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: json: cannot unmarshal string "
                     "into Go struct field ConfigMap.immutable of type bool");
}

/* A ConfigMap (or Secret) with key "big" of n bytes of data. */
static json_t *with_size(const char *kind, size_t n, bool b64)
{
        _cleanup_free_ char *bytes = xmalloc(n + 1), *enc = NULL;
        json_t *obj = json_pack("{s:s,s:{s:s}}", "kind", kind, "metadata", "name", "x");

        memset(bytes, 'v', n);
        bytes[n] = '\0';
        if (b64) {
                size_t len;
                enc = xmalloc(n / 3 * 4 + 8);
                /* "dnZ2" is "vvv": n a multiple of 3 keeps it simple */
                assert_int_equal(n % 3, 0);
                for (size_t i = 0; i < n / 3; i++)
                        memcpy(enc + 4 * i, "dnZ2", 4);
                enc[n / 3 * 4] = '\0';
                free(kube_base64_decode(enc, &len));
                assert_int_equal(len, n);
        }
        json_object_set_new(obj, "data", json_pack("{s:s}", "big", b64 ? enc : bytes));
        return obj;
}

static void size_limits(void **state)
{
        (void)state;
        /* 1 MiB is allowed, one byte more is not; binaryData counts decoded */
        json_t *ok = with_size("ConfigMap", KUBE_CONFIG_MAX_SIZE, false);
        json_t *big = with_size("ConfigMap", KUBE_CONFIG_MAX_SIZE + 1, false);
        json_t *bin = with_size("ConfigMap", 1048575, false);
        json_t *sec_ok = with_size("Secret", 1048575, true), *sec_big = with_size("Secret", 1048578, true);
        _cleanup_free_ char *m1 = normalize_msg(ok, NULL), *m2 = normalize_msg(big, NULL);
        _cleanup_free_ char *m3 = NULL, *m4 = normalize_msg(sec_ok, NULL), *m5 = normalize_msg(sec_big, NULL);

        assert_string_equal(m1, "");
        assert_string_equal(m2, "ConfigMap \"x\" is invalid: []: Too long: must have at most 1048576 bytes");
        json_object_set_new(bin, "binaryData", json_pack("{s:s}", "b", "dnY="));     /* 2 bytes */
        m3 = normalize_msg(bin, NULL);
        assert_string_equal(m3, "ConfigMap \"x\" is invalid: []: Too long: must have at most 1048576 bytes");
        assert_string_equal(m4, "");
        assert_string_equal(m5, "Secret \"x\" is invalid: data: Too long: must have at most 1048576 bytes");
        json_decref(ok);
        json_decref(big);
        json_decref(bin);
        json_decref(sec_ok);
        json_decref(sec_big);
}

static void configmap_immutable(void **state)
{
        (void)state;
        const char *old = "{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"x\"},\"data\":{\"a\":\"1\"},"
                          "\"binaryData\":{\"b\":\"dnY=\"},\"immutable\":true}";

        /* the same content (binaryData spelt differently) is fine */
        expect_error("{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"x\",\"labels\":{\"l\":\"1\"}},"
                     "\"data\":{\"a\":\"1\"},\"binaryData\":{\"b\":\"dn\\nY=\"},\"immutable\":true}", old, "");
        expect_error("{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"x\"},\"data\":{\"a\":\"2\"},"
                     "\"binaryData\":{\"b\":\"dnY=\"},\"immutable\":true}", old,
                     "ConfigMap \"x\" is invalid: data: Forbidden: " IMMUTABLE);
        expect_error("{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"x\"},\"data\":{\"a\":\"1\"},"
                     "\"immutable\":true}", old,
                     "ConfigMap \"x\" is invalid: binaryData: Forbidden: " IMMUTABLE);
        expect_error("{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"x\"},\"data\":{\"a\":\"1\"},"
                     "\"binaryData\":{\"b\":\"dnY=\"}}", old,
                     "ConfigMap \"x\" is invalid: immutable: Forbidden: " IMMUTABLE);
        expect_error("{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"x\"},\"data\":{\"a\":\"2\"},"
                     "\"immutable\":false}", old,
                     "ConfigMap \"x\" is invalid: [immutable: Forbidden: " IMMUTABLE ", data: Forbidden: " IMMUTABLE
                     ", binaryData: Forbidden: " IMMUTABLE "]");
        /* not yet immutable: anything goes, including becoming immutable */
        expect_error("{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"x\"},\"data\":{\"a\":\"2\"},\"immutable\":true}",
                     "{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"x\"},\"data\":{\"a\":\"1\"}}", "");
}

static void secret_string_data_wins(void **state)
{
        (void)state;
        json_t *s = parse("{\"kind\":\"Secret\",\"metadata\":{\"name\":\"s\"},"
                          "\"data\":{\"P\":\"c2VjcmV0LXZhbHVl\",\"Q\":\"cQ==\"},"
                          "\"stringData\":{\"T\":\"plain\",\"P\":\"override\"}}");
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *p = NULL, *t = NULL, *q = NULL;
        size_t len = 0;
        json_t *want = parse("{\"kind\":\"Secret\",\"metadata\":{\"name\":\"s\"},\"type\":\"Opaque\","
                             "\"data\":{\"P\":\"b3ZlcnJpZGU=\",\"Q\":\"cQ==\",\"T\":\"cGxhaW4=\"}}");
        json_t *red;

        assert_int_equal(kube_secret_normalize(s, NULL, &err), 0);
        assert_true(json_equal(s, want));
        assert_int_equal(kube_data_get(s, "P", &p, &len), 0);
        assert_string_equal(p, "override");
        assert_int_equal(len, 8);
        assert_int_equal(kube_data_get(s, "T", &t, &len), 0);
        assert_string_equal(t, "plain");
        assert_int_equal(kube_data_get(s, "nope", &q, &len), -ENOENT);
        red = kube_secret_redacted(s);
        assert_int_equal(json_integer_value(json_object_get(red, "P")), 8);
        assert_int_equal(json_integer_value(json_object_get(red, "Q")), 1);
        assert_int_equal(json_integer_value(json_object_get(red, "T")), 5);
        assert_int_equal(json_object_size(red), 3);
        json_decref(red);
        json_decref(s);
        json_decref(want);
        /* an explicit type stays; stringData keys follow the key rules */
        expect_stored("{\"kind\":\"Secret\",\"metadata\":{\"name\":\"s\"},\"type\":\"example.com/x\","
                      "\"stringData\":{\"a\":\"\"}}", NULL,
                      "{\"kind\":\"Secret\",\"metadata\":{\"name\":\"s\"},\"type\":\"example.com/x\","
                      "\"data\":{\"a\":\"\"}}");
        expect_error("{\"kind\":\"Secret\",\"metadata\":{\"name\":\"s\"},\"stringData\":{\"a:b\":\"x\"}}", NULL,
                     "Secret \"s\" is invalid: data[a:b]: Invalid value: \"a:b\": " KEY_MSG);
}

static void secret_decoding(void **state)
{
        (void)state;
        expect_error("{\"kind\":\"Secret\",\"metadata\":{\"name\":\"s\"},\"data\":{\"user\":\"admin\"}}", NULL,
                     "Secret in version \"v1\" cannot be handled as a Secret: illegal base64 data at input byte 4");
        expect_error("{\"kind\":\"Secret\",\"metadata\":{\"name\":\"s\"},\"data\":{\"k\":true}}", NULL,
                     "Secret in version \"v1\" cannot be handled as a Secret: json: cannot unmarshal bool into Go "
                     "struct field Secret.data of type []uint8");
        expect_error("{\"kind\":\"Secret\",\"metadata\":{\"name\":\"s\"},\"stringData\":{\"k\":2}}", NULL,
                     "Secret in version \"v1\" cannot be handled as a Secret: json: cannot unmarshal number into Go "
                     "struct field Secret.stringData of type string");
        expect_error("{\"kind\":\"Secret\",\"metadata\":{\"name\":\"s\"},\"type\":3}", NULL,
                     "Secret in version \"v1\" cannot be handled as a Secret: json: cannot unmarshal number into Go "
                     "struct field Secret.type of type v1.SecretType");
}

static void secret_types(void **state)
{
        (void)state;
        expect_error("{\"kind\":\"Secret\",\"metadata\":{\"name\":\"s\"},\"type\":\"kubernetes.io/tls\"}", NULL,
                     "Secret \"s\" is invalid: [data[tls.crt]: Required value, data[tls.key]: Required value]");
        expect_error("{\"kind\":\"Secret\",\"metadata\":{\"name\":\"s\"},\"type\":\"kubernetes.io/tls\","
                     "\"stringData\":{\"tls.crt\":\"c\",\"tls.key\":\"k\"}}", NULL, "");
        expect_error("{\"kind\":\"Secret\",\"metadata\":{\"name\":\"s\"},\"type\":\"kubernetes.io/basic-auth\","
                     "\"stringData\":{\"password\":\"p\"}}", NULL, "");
        expect_error("{\"kind\":\"Secret\",\"metadata\":{\"name\":\"s\"},\"type\":\"kubernetes.io/basic-auth\"}", NULL,
                     "Secret \"s\" is invalid: [data[username]: Required value, data[password]: Required value]");
        expect_error("{\"kind\":\"Secret\",\"metadata\":{\"name\":\"s\"},\"type\":\"kubernetes.io/ssh-auth\","
                     "\"data\":{\"ssh-privatekey\":\"\"}}", NULL,
                     "Secret \"s\" is invalid: data[ssh-privatekey]: Required value");
        expect_error("{\"kind\":\"Secret\",\"metadata\":{\"name\":\"s\"},\"type\":\"kubernetes.io/dockerconfigjson\","
                     "\"stringData\":{\".dockerconfigjson\":\"[1]\"}}", NULL,
                     "Secret \"s\" is invalid: data[.dockerconfigjson]: Invalid value: \"<secret contents redacted>\": "
                     "json: cannot unmarshal array into Go value of type map[string]interface {}");
        expect_error("{\"kind\":\"Secret\",\"metadata\":{\"name\":\"s\"},\"type\":\"kubernetes.io/dockerconfigjson\","
                     "\"stringData\":{\".dockerconfigjson\":\"{\\\"auths\\\":{}}\"}}", NULL, "");
        expect_error("{\"kind\":\"Secret\",\"metadata\":{\"name\":\"s\"},"
                     "\"type\":\"kubernetes.io/service-account-token\"}", NULL,
                     "Secret \"s\" is invalid: metadata.annotations[kubernetes.io/service-account.name]: "
                     "Required value");
}

static void secret_update(void **state)
{
        (void)state;
        const char *old = "{\"kind\":\"Secret\",\"metadata\":{\"name\":\"s\"},\"type\":\"Opaque\","
                          "\"data\":{\"P\":\"cA==\"},\"immutable\":true}";

        /* type is immutable (an absent one defaults to Opaque) */
        expect_error("{\"kind\":\"Secret\",\"metadata\":{\"name\":\"s\"},\"type\":\"example.com/x\","
                     "\"data\":{\"P\":\"cA==\"},\"immutable\":true}", old,
                     "Secret \"s\" is invalid: type: Invalid value: \"example.com/x\": field is immutable");
        expect_error("{\"kind\":\"Secret\",\"metadata\":{\"name\":\"s\"},\"stringData\":{\"P\":\"p\"},"
                     "\"immutable\":true}", old, "");
        expect_error("{\"kind\":\"Secret\",\"metadata\":{\"name\":\"s\"},\"stringData\":{\"P\":\"q\"},"
                     "\"immutable\":true}", old,
                     "Secret \"s\" is invalid: data: Forbidden: " IMMUTABLE);
        expect_error("{\"kind\":\"Secret\",\"metadata\":{\"name\":\"s\"},\"data\":{\"P\":\"cA==\"}}", old,
                     "Secret \"s\" is invalid: immutable: Forbidden: " IMMUTABLE);
        expect_error("{\"kind\":\"Secret\",\"metadata\":{\"name\":\"s\"},\"data\":{\"P\":\"cQ==\"}}",
                     "{\"kind\":\"Secret\",\"metadata\":{\"name\":\"s\"},\"type\":\"Opaque\",\"data\":{\"P\":\"cA==\"}}",
                     "");
}

static void reading_configmaps(void **state)
{
        (void)state;
        json_t *cm = parse("{\"kind\":\"ConfigMap\",\"data\":{\"a\":\"x=1\",\"c\":\"\"},"
                           "\"binaryData\":{\"bin\":\"AAEC\"}}");
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *a = NULL, *bin = NULL;
        struct kube_data_entry *e = NULL;
        size_t len = 0, n = 0;

        assert_int_equal(kube_data_get(cm, "a", &a, &len), 0);
        assert_string_equal(a, "x=1");          /* data is not base64 in a ConfigMap */
        assert_int_equal(kube_data_get(cm, "bin", &bin, &len), 0);
        assert_int_equal(len, 3);
        assert_memory_equal(bin, "\0\1\2", 3);
        assert_int_equal(kube_data_entries(cm, &e, &n, &err), 0);
        assert_int_equal(n, 3);
        assert_string_equal(e[0].key, "a");
        assert_string_equal(e[1].key, "c");
        assert_int_equal(e[1].len, 0);
        assert_string_equal(e[2].key, "bin");
        assert_int_equal(e[2].len, 3);
        kube_data_entries_free(e, n);
        json_decref(cm);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(base64_like_go),
                cmocka_unit_test(configmap_stored_form),
                cmocka_unit_test(configmap_keys),
                cmocka_unit_test(configmap_keys_in_messages),
                cmocka_unit_test(configmap_decoding),
                cmocka_unit_test(size_limits),
                cmocka_unit_test(configmap_immutable),
                cmocka_unit_test(secret_string_data_wins),
                cmocka_unit_test(secret_decoding),
                cmocka_unit_test(secret_types),
                cmocka_unit_test(secret_update),
                cmocka_unit_test(reading_configmaps),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
