#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "orch/kube-yaml.h"
#include "util/util.h"

/* The YAML layer of `berth kube`: how scalars are typed, documents split,
 * errors located, aliases capped, and that everything the emitter writes
 * reads back to the same JSON. */

static json_t *json_of(const char *text)
{
        json_error_t e;
        json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);

        if (!v)
                fail_msg("bad JSON in the test: %s: %s", e.text, text);
        return v;
}

static json_t *parse_ok(const char *yaml)
{
        _cleanup_error_ berth_error_t *err = NULL;
        json_t *docs = NULL;

        if (kube_yaml_parse(yaml, strlen(yaml), &docs, &err) < 0)
                fail_msg("parse failed: %s\n%s", err->msg, yaml);
        return docs;
}

/* The error message parsing yaml gives (which must fail). */
static char *parse_error(const char *yaml)
{
        berth_error_t *err = NULL;
        json_t *docs = NULL;
        char *msg;

        if (kube_yaml_parse(yaml, strlen(yaml), &docs, &err) == 0) {
                char *dump = json_dumps(docs, JSON_ENCODE_ANY);
                fail_msg("parsed, should not have: %s\n-> %s", yaml, dump);
        }
        assert_null(docs);
        assert_int_equal(err->status, EINVAL);
        msg = xstrdup(err->msg);
        berth_error_free(&err);
        return msg;
}

static void assert_yaml_is(const char *yaml, const char *json)
{
        json_t *docs = parse_ok(yaml), *want = json_of(json);

        if (!json_equal(docs, want)) {
                char *got = json_dumps(docs, JSON_ENCODE_ANY);
                fail_msg("%s\n-> %s, want %s", yaml, got, json);
        }
        json_decref(docs);
        json_decref(want);
}

static void assert_error_is(const char *yaml, const char *want)
{
        _cleanup_free_ char *msg = parse_error(yaml);

        if (strcmp(msg, want) != 0)
                fail_msg("%s\n-> error \"%s\", want \"%s\"", yaml, msg, want);
}

/* One scalar as the value of "v", and the JSON it becomes. */
struct typing {
        const char *yaml, *json;
};

static const struct typing typings[] = {
        { "", "null" },
        { "~", "null" },
        { "null", "null" },
        { "Null", "null" },
        { "NULL", "null" },
        { "true", "true" },
        { "True", "true" },
        { "TRUE", "true" },
        { "false", "false" },
        { "FALSE", "false" },
        /* YAML 1.1 booleans stay strings (env values) */
        { "yes", "\"yes\"" },
        { "no", "\"no\"" },
        { "on", "\"on\"" },
        { "off", "\"off\"" },
        { "y", "\"y\"" },
        { "tRUE", "\"tRUE\"" },
        { "0", "0" },
        { "123", "123" },
        { "-17", "-17" },
        { "+5", "5" },
        { "0x1F", "31" },
        { "0o17", "15" },
        { "0644", "420" }, /* defaultMode: octal, as kubectl reads it */
        { "09", "9" },
        { "-0", "0" },
        { "9223372036854775807", "9223372036854775807" },
        { "-9223372036854775808", "-9223372036854775808" },
        { "99999999999999999999", "1e20" },
        { "1.5", "1.5" },
        { "-1.", "-1.0" },
        { ".5", "0.5" },
        { "1e3", "1000.0" },
        { "2.5E-3", "0.0025" },
        { "10Mi", "\"10Mi\"" },
        { "500m", "\"500m\"" },
        { "1.2.3", "\"1.2.3\"" },
        { "0x", "\"0x\"" },
        { "-0x10", "\"-0x10\"" },
        { "1_000", "\"1_000\"" },
        { "-x", "\"-x\"" },
        { "--", "\"--\"" },
        { ".", "\".\"" },
        { "2024-01-02", "\"2024-01-02\"" },
        { "nginx:1.25", "\"nginx:1.25\"" },
        { "a b  c", "\"a b  c\"" },
        { "'123'", "\"123\"" },
        { "\"true\"", "\"true\"" },
        { "'null'", "\"null\"" },
        { "''", "\"\"" },
        { "\"a\\tb\\u00e9\\x41\"", "\"a\\tb\\u00e9A\"" },
        { "'it''s'", "\"it's\"" },
        { "|\n  80\n", "\"80\\n\"" },
        { ">-\n  true\n", "\"true\"" },
        { ">\n  a\n  b\n\n  c\n", "\"a b\\nc\\n\"" },
        { "!!str 123", "\"123\"" },
        { "!!str", "\"\"" },
        { "! 123", "\"123\"" },
        { "!!int \"42\"", "42" },
        { "!!int 0x10", "16" },
        { "!!float 1", "1.0" },
        { "!!float '2.5'", "2.5" },
        { "!!float 0o17", "15.0" },
        { "!!float 0644", "420.0" },
        { "!!bool 'true'", "true" },
        { "!!null ''", "null" },
        { "!!binary aGVsbG8=", "\"aGVsbG8=\"" },
        { "[1, \"2\", three, yes, ~]", "[1, \"2\", \"three\", \"yes\", null]" },
        { "{a: 1, b: [], c: {}}", "{\"a\": 1, \"b\": [], \"c\": {}}" },
        { "!!seq [a]", "[\"a\"]" },
        { "!!map {1: 2}", "{\"1\": 2}" },
};

static void test_scalar_typing(void **state)
{
        (void)state;
        for (size_t i = 0; i < ARRAY_SIZE(typings); i++) {
                _cleanup_free_ char *yaml = xasprintf("v: %s\n", typings[i].yaml);
                _cleanup_free_ char *json = xasprintf("[{\"v\": %s}]", typings[i].json);
                assert_yaml_is(yaml, json);
        }
        /* keys are strings, as written */
        assert_yaml_is("1: a\ntrue: b\n~: c\n0x10: d\n'q': e\n", "[{\"1\":\"a\",\"true\":\"b\",\"~\":\"c\",\"0x10\":\"d\",\"q\":\"e\"}]");
}

static void test_scalar_errors(void **state)
{
        (void)state;
        assert_error_is("v: .inf\n", "line 1 column 4: .inf cannot be represented in JSON");
        assert_error_is("v: -.Inf\n", "line 1 column 4: -.Inf cannot be represented in JSON");
        assert_error_is("v: .nan\n", "line 1 column 4: .nan cannot be represented in JSON");
        assert_error_is("v: 1e999\n", "line 1 column 4: number out of range");
        assert_error_is("v: 0x10000000000000000\n", "line 1 column 4: integer out of range");
        assert_error_is("v: !!int abc\n", "line 1 column 4: \"abc\" is not a valid !!int");
        assert_error_is("v: !!bool yes\n", "line 1 column 4: \"yes\" is not a valid !!bool");
        assert_error_is("v: !!null x\n", "line 1 column 4: \"x\" is not a valid !!null");
        assert_error_is("v: !Ref x\n", "line 1 column 4: unsupported tag \"!Ref\"");
        assert_error_is("v: !!set {a: ~}\n", "line 1 column 4: unsupported tag \"tag:yaml.org,2002:set\"");
        assert_error_is("? [a]\n: b\n", "line 1 column 3: a mapping key must be a scalar");
        assert_error_is("{a: 1}: b\n", "line 1 column 1: a mapping key must be a scalar");
        assert_error_is("\"k\\0y\": 1\n", "line 1 column 1: a key must not contain a NUL character");
        assert_error_is("v: *nope\n", "line 1 column 4: unknown anchor \"nope\"");
        assert_error_is("a: b: c\n", "line 1 column 5: mapping values are not allowed in this context");
        assert_error_is("a:\n  - b\n  c: d\n",
                        "line 3 column 3: did not find expected '-' indicator (while parsing a block collection at line 2 column 3)");
        assert_error_is("a: \"x\001\"\n", "line 1 column 6: control characters are not allowed");
        assert_error_is("a: [1, 2\n", "line 2 column 1: did not find expected ',' or ']' (while parsing a flow sequence at line 1 column 4)");
}

static void test_multi_document(void **state)
{
        (void)state;
        assert_yaml_is("a: 1\n---\n---\nb: 2\n...\n---\n~\n--- null\n---\n# only a comment\n--- [x]\n",
                       "[{\"a\": 1}, {\"b\": 2}, [\"x\"]]");
        assert_yaml_is("", "[]");
        assert_yaml_is("# nothing\n", "[]");
        assert_yaml_is("--- hello\n--- 5\n", "[\"hello\", 5]");
        /* JSON is YAML */
        assert_yaml_is("{\"kind\": \"Pod\", \"spec\": {\"a\": [1, 2.5, \"x\", null, true, {}], \"b\": \"\\u00e9\\/\"}}",
                       "[{\"kind\": \"Pod\", \"spec\": {\"a\": [1, 2.5, \"x\", null, true, {}], \"b\": \"\\u00e9/\"}}]");
        assert_yaml_is("{\n\t\"a\": [\n\t\t1\n\t]\n}\n", "[{\"a\": [1]}]");
        assert_yaml_is("%YAML 1.2\n---\na: 1\n", "[{\"a\": 1}]");
}

static const char deployment[] =
        "# a web server\n"
        "apiVersion: apps/v1\n"
        "kind: Deployment\n"
        "metadata:\n"
        "  name: web\n"
        "  labels:\n"
        "    app: web\n"
        "    tier: \"frontend\"\n"
        "    app.kubernetes.io/version: \"1.25\"\n"
        "spec:\n"
        "  replicas: 3\n"
        "  selector:\n"
        "    matchLabels:\n"
        "      app: web\n"
        "  template:\n"
        "    metadata:\n"
        "      labels:\n"
        "        app: web   # same as the selector\n"
        "    spec:\n"
        "      containers:\n"
        "      - name: nginx\n"
        "        image: nginx:1.25\n"
        "        args: [\"--port\", \"8080\"]\n"
        "        ports:\n"
        "        - containerPort: 80\n"
        "          name: http\n"
        "        env:\n"
        "        - name: DEBUG\n"
        "          value: yes\n"
        "        - name: PORT\n"
        "          value: \"80\"\n"
        "        command:\n"
        "          - /bin/sh\n"
        "          - -c\n"
        "          - |\n"
        "            echo start\n"
        "            exec nginx -g 'daemon off;'\n"
        "        resources:\n"
        "          limits: {cpu: 500m, memory: 128Mi}\n"
        "      volumes:\n"
        "      - name: cfg\n"
        "        configMap:\n"
        "          name: web-cfg\n"
        "          defaultMode: 0644\n";

static const char deployment_json[] =
        "[{\"apiVersion\": \"apps/v1\", \"kind\": \"Deployment\","
        " \"metadata\": {\"name\": \"web\", \"labels\": {\"app\": \"web\", \"tier\": \"frontend\","
        "  \"app.kubernetes.io/version\": \"1.25\"}},"
        " \"spec\": {\"replicas\": 3, \"selector\": {\"matchLabels\": {\"app\": \"web\"}},"
        "  \"template\": {\"metadata\": {\"labels\": {\"app\": \"web\"}},"
        "   \"spec\": {\"containers\": [{\"name\": \"nginx\", \"image\": \"nginx:1.25\", \"args\": [\"--port\", \"8080\"],"
        "     \"ports\": [{\"containerPort\": 80, \"name\": \"http\"}],"
        "     \"env\": [{\"name\": \"DEBUG\", \"value\": \"yes\"}, {\"name\": \"PORT\", \"value\": \"80\"}],"
        "     \"command\": [\"/bin/sh\", \"-c\", \"echo start\\nexec nginx -g 'daemon off;'\\n\"],"
        "     \"resources\": {\"limits\": {\"cpu\": \"500m\", \"memory\": \"128Mi\"}}}],"
        "    \"volumes\": [{\"name\": \"cfg\", \"configMap\": {\"name\": \"web-cfg\", \"defaultMode\": 420}}]}}}}]";

static void test_deployment(void **state)
{
        json_t *docs, *again;
        char *text;

        (void)state;
        assert_yaml_is(deployment, deployment_json);
        /* and with a Service after it, emitted and read back */
        {
                _cleanup_free_ char *two = xasprintf("%s---\napiVersion: v1\nkind: Service\n"
                                                     "metadata: {name: web}\nspec:\n  ports:\n  - port: 80\n"
                                                     "    targetPort: http\n",
                                                     deployment);
                docs = parse_ok(two);
        }
        assert_int_equal(json_array_size(docs), 2);
        text = kube_yaml_emit_docs(docs);
        assert_non_null(strstr(text, "\n---\napiVersion: v1\nkind: Service\n"));
        assert_non_null(strstr(text, "\n          defaultMode: 420\n"));
        assert_non_null(strstr(text, "\n        - name: PORT\n          value: \"80\"\n") ||
                        strstr(text, "\n        - name: PORT\n          value: '80'\n"));
        again = parse_ok(text);
        assert_true(json_equal(docs, again));
        free(text);
        json_decref(again);
        json_decref(docs);
}

static void test_duplicate_key(void **state)
{
        (void)state;
        assert_error_is("spec:\n  containers:\n  - name: a\n    image: x\n    image: y\n",
                        "line 5 column 5: duplicate key \"image\"");
        assert_error_is("a: 1\n---\nb: 1\nc: {d: 1, d: 2}\n", "document 2: line 4 column 11: duplicate key \"d\"");
        assert_error_is("{\"a\": 1, \"a\": 1}", "line 1 column 10: duplicate key \"a\"");
        /* same key in different mappings is fine */
        assert_yaml_is("a: {x: 1}\nb: {x: 1}\n", "[{\"a\": {\"x\": 1}, \"b\": {\"x\": 1}}]");
}

static void test_anchors_and_merge(void **state)
{
        (void)state;
        assert_yaml_is("base: &b {image: x, env: [a]}\none: *b\ntwo: *b\n",
                       "[{\"base\": {\"image\": \"x\", \"env\": [\"a\"]}, \"one\": {\"image\": \"x\", \"env\": [\"a\"]},"
                       " \"two\": {\"image\": \"x\", \"env\": [\"a\"]}}]");
        assert_yaml_is("a: &x 1\nb: *x\n&k c: 2\nd: *k\n", "[{\"a\": 1, \"b\": 1, \"c\": 2, \"d\": \"c\"}]");
        /* redefinition: the latest wins */
        assert_yaml_is("- &a 1\n- &a 2\n- *a\n", "[[1, 2, 2]]");
        /* merge keys: own keys win, then earlier sources */
        assert_yaml_is("d: &d {cpu: 1, mem: 2}\ne: &e {mem: 3, gpu: 4}\nx:\n  <<: [*d, *e]\n  cpu: 9\n",
                       "[{\"d\": {\"cpu\": 1, \"mem\": 2}, \"e\": {\"mem\": 3, \"gpu\": 4},"
                       " \"x\": {\"cpu\": 9, \"mem\": 2, \"gpu\": 4}}]");
        assert_yaml_is("d: &d {a: 1}\nx: {a: 2, <<: *d, b: 3}\n", "[{\"d\": {\"a\": 1}, \"x\": {\"a\": 2, \"b\": 3}}]");
        /* a quoted "<<" is an ordinary key */
        assert_yaml_is("'<<': 1\n", "[{\"<<\": 1}]");
        assert_error_is("x:\n  <<: 5\n", "line 2 column 7: a merge key \"<<\" needs a mapping or a list of mappings");
        assert_error_is("- &a [*a]\n", "line 1 column 7: unknown anchor \"a\"");
        /* anchors do not cross documents */
        assert_error_is("a: &x 1\n---\nb: *x\n", "document 2: line 3 column 4: unknown anchor \"x\"");
}

static void test_limits(void **state)
{
        static const char bomb[] = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
                                   "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                                   "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                                   "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                                   "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                                   "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
                                   "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
                                   "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
                                   "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]\n";
        struct strbuf deep = { 0 }, ok = { 0 };
        _cleanup_free_ char *msg = parse_error(bomb);
        json_t *docs;

        (void)state;
        assert_non_null(strstr(msg, "document too large"));
        assert_true(str_has_prefix(msg, "line 6 column "));
        /* 200 levels are fine, 201 are not */
        for (int i = 0; i < 200; i++)
                strbuf_adds(&ok, "[");
        for (int i = 0; i < 200; i++)
                strbuf_adds(&ok, "]");
        docs = parse_ok(ok.data);
        json_decref(docs);
        strbuf_adds(&deep, "[");
        strbuf_adds(&deep, ok.data);
        strbuf_adds(&deep, "]");
        free(msg);
        msg = parse_error(deep.data);
        assert_string_equal(msg, "line 1 column 201: document too deep (over 200 levels)");
        /* depth through an alias counts too */
        free(msg);
        ok.data[199] = '\0';
        free(deep.data);
        deep = (struct strbuf){ 0 };
        strbuf_adds(&deep, "a: &a [[[1]]]\nb: ");
        strbuf_adds(&deep, ok.data + 2);
        strbuf_adds(&deep, "*a");
        for (int i = 0; i < 197; i++)
                strbuf_adds(&deep, "]");
        strbuf_adds(&deep, "\n");
        msg = parse_error(deep.data);
        assert_string_equal(msg, "line 2 column 201: document too deep (over 200 levels)");
        free(ok.data);
        free(deep.data);
}

/* Emit v, parse it back: the same value, one document. */
static void assert_round_trip(const char *json)
{
        json_t *v = json_of(json), *docs;
        char *text = kube_yaml_emit(v);
        berth_error_t *err = NULL;

        if (kube_yaml_parse(text, strlen(text), &docs, &err) < 0)
                fail_msg("%s\nemitted:\n%s\ndoes not parse: %s", json, text, err->msg);
        if (json_array_size(docs) != 1 || !json_equal(json_array_get(docs, 0), v)) {
                char *got = json_dumps(docs, JSON_ENCODE_ANY);
                fail_msg("%s\nemitted:\n%s\nread back as %s", json, text, got);
        }
        json_decref(docs);
        json_decref(v);
        free(text);
}

static const char *const shapes[] = {
        "{\"a\": [[[]], [[1, [2, {}]]], {\"b\": [[{\"c\": [], \"d\": {}}]]}]}",
        "[[[\"x\"]], [], {}, [{}], [[{\"a\": [{\"b\": 1, \"c\": [[]]}]}]]]",
        "{\"\": \"\", \" a\": \" b \", \"true\": \"true\", \"1\": \"1\", \"null\": \"null\", \"~\": \"~\","
        " \"<<\": \"<<\", \"-\": \"-\", \"- x\": \"-x\", \"a: b\": \"a #b\", \"#\": \"#c\", \"k\": \"yes\","
        " \"o\": \"0o17\", \"h\": \"0x1f\", \"f\": \"1.5\", \"e\": \"1e3\", \"inf\": \".inf\", \"nan\": \".NaN\","
        " \"q\": \"'\\\"\", \"t\": \"a\\tb\", \"dash\": \"---\", \"dots\": \"...\", \"colon\": \"a:\","
        " \"amp\": \"&a\", \"star\": \"*a\", \"bang\": \"!x\", \"pct\": \"%x\", \"at\": \"@x\", \"tick\": \"`x\","
        " \"oct\": \"0644\", \"date\": \"2024-01-02\", \"under\": \"1_000\", \"Off\": \"N\", \"ws\": \"\\t\","
        " \"flow\": \"[a, b]\", \"brace\": \"{a: b}\", \"comma\": \"a, b\", \"url\": \"http://x/#y\"}",
        "{\"nul\": \"a\\u0000b\", \"ctl\": \"\\u0001\\u001b\\u007f\\u0085\\u0099\\u2028\\u2029\\ufeff\\uffff\","
        " \"bs\": \"\\\\ \\\"\"}",
        "{\"a\": \"x\\ny\", \"b\": \"x\\ny\\n\", \"c\": \"x\\n\\n\", \"d\": \"  lead\\nx\", \"e\": \"\\nx\","
        " \"f\": \"\\n\", \"g\": \"\\n\\n\", \"h\": \"a \\nb \", \"i\": \"\\tx\\ny\", \"j\": \"x\\r\\ny\","
        " \"k\": [\"l1\\nl2\", \"l3\\n\"], \"m\": [[\"a\\nb\"]], \"n\": {\"o\": {\"p\": \"q\\n  r\\n\"}},"
        " \"multi\\nline key\": 1, \"p\": \"# not a comment\\n---\\n...\\n- x\\n\", \"q\": \"x\\n\\n\\ny\\n\\n\\n\"}",
        "{\"名前\": \"値\", \"emoji\": \"😀 ok\", \"é\": \"ü\\nß\\n\", \"ltr\": \"\\u200fא\"}",
        "{\"i\": 0, \"neg\": -9223372036854775808, \"max\": 9223372036854775807, \"r\": 0.1, \"big\": 1e300,"
        " \"small\": -2.5e-300, \"whole\": 3.0, \"z\": -0.0, \"third\": 0.3333333333333333, \"t\": true,"
        " \"n\": null, \"e\": [true, false, null, 1, 1.0]}",
        "\"hello\"", "\"true\"", "42", "1.5", "true", "\"multi\\nline\\n\"", "[]", "{}", "\"--- x\"", "\"- x\"",
        "\"\"", "[\"a\\nb\"]",
};

static void test_emit_round_trip(void **state)
{
        struct strbuf long_key = { 0 };

        (void)state;
        for (size_t i = 0; i < ARRAY_SIZE(shapes); i++)
                assert_round_trip(shapes[i]);
        /* a key past libyaml's 1024-character limit on implicit keys */
        strbuf_adds(&long_key, "{\"");
        for (int i = 0; i < 1500; i++)
                strbuf_adds(&long_key, "k");
        strbuf_adds(&long_key, "\": {\"a\": [1]}, \"b\": [{\"");
        for (int i = 0; i < 1100; i++)
                strbuf_adds(&long_key, "'");
        strbuf_adds(&long_key, "\": 1}]}");
        assert_round_trip(long_key.data);
        free(long_key.data);
}

static void test_emit_text(void **state)
{
        json_t *v = json_of("{\"apiVersion\": \"v1\", \"kind\": \"Pod\","
                            " \"metadata\": {\"name\": \"p\", \"labels\": {\"app\": \"web\"}, \"annotations\": {}},"
                            " \"spec\": {\"containers\": [{\"name\": \"c\", \"image\": \"busybox\","
                            "   \"args\": [\"sh\", \"-c\", \"echo hi\\nsleep 1\\n\"],"
                            "   \"ports\": [{\"containerPort\": 80, \"protocol\": \"TCP\"}],"
                            "   \"env\": [{\"name\": \"A\", \"value\": \"true\"}, {\"name\": \"B\", \"value\": \"it's\"},"
                            "     {\"name\": \"C\", \"value\": \"0644\"}, {\"name\": \"D\", \"value\": \"\"},"
                            "     {\"name\": \"E\", \"value\": \"a: b\"}, {\"name\": \"F\", \"value\": \"x\\ny\"}]}],"
                            "  \"tolerations\": [], \"x\": [[1, 2], []], \"f\": 1.5, \"n\": null}}");
        static const char want[] = "apiVersion: v1\n"
                                   "kind: Pod\n"
                                   "metadata:\n"
                                   "  name: p\n"
                                   "  labels:\n"
                                   "    app: web\n"
                                   "  annotations: {}\n"
                                   "spec:\n"
                                   "  containers:\n"
                                   "  - name: c\n"
                                   "    image: busybox\n"
                                   "    args:\n"
                                   "    - sh\n"
                                   "    - -c\n"
                                   "    - |\n"
                                   "      echo hi\n"
                                   "      sleep 1\n"
                                   "    ports:\n"
                                   "    - containerPort: 80\n"
                                   "      protocol: TCP\n"
                                   "    env:\n"
                                   "    - name: A\n"
                                   "      value: 'true'\n"
                                   "    - name: B\n"
                                   "      value: it's\n"
                                   "    - name: C\n"
                                   "      value: '0644'\n"
                                   "    - name: D\n"
                                   "      value: ''\n"
                                   "    - name: E\n"
                                   "      value: 'a: b'\n"
                                   "    - name: F\n"
                                   "      value: |-\n"
                                   "        x\n"
                                   "        y\n"
                                   "  tolerations: []\n"
                                   "  x:\n"
                                   "  - - 1\n"
                                   "    - 2\n"
                                   "  - []\n"
                                   "  f: 1.5\n"
                                   "  'n': null\n"; /* "n" is a boolean to go-yaml */
        char *text = kube_yaml_emit(v), *docs;
        json_t *two = json_pack("[{s:i}, [s]]", "a", 1, "b");

        (void)state;
        assert_string_equal(text, want);
        free(text);
        docs = kube_yaml_emit_docs(two);
        assert_string_equal(docs, "a: 1\n---\n- b\n");
        free(docs);
        json_decref(two);
        json_decref(v);
        v = json_array();
        text = kube_yaml_emit_docs(v);
        assert_string_equal(text, "");
        free(text);
        json_decref(v);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_scalar_typing),
                cmocka_unit_test(test_scalar_errors),
                cmocka_unit_test(test_multi_document),
                cmocka_unit_test(test_deployment),
                cmocka_unit_test(test_duplicate_key),
                cmocka_unit_test(test_anchors_and_merge),
                cmocka_unit_test(test_limits),
                cmocka_unit_test(test_emit_round_trip),
                cmocka_unit_test(test_emit_text),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
