/* libFuzzer target: the YAML layer of `berth kube` (src/orch/kube-yaml*.c),
 * which reads every manifest a user applies and every request body of the
 * /berth/v1 API.
 *
 * The input is a YAML stream.  When it parses, every document emitted as
 * YAML parses back to an equal JSON value, alone and as a multi-document
 * stream; when it does not, the error is one line.  The input is also a
 * string (when it is UTF-8), emitted as a value, an item, a key and a whole
 * document at several depths: it reads back the same. */
#include "orch/kube-yaml.h"
#include "util/util.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what, const char *text)
{
        if (!ok) {
                fprintf(stderr, "fuzz-kube-yaml: %s\n%s\n", what, text ? text : "");
                abort();
        }
}

/* text must parse to exactly the documents in want. */
static void reads_back(const char *text, const json_t *want)
{
        _cleanup_error_ berth_error_t *err = NULL;
        json_t *docs = NULL;

        if (kube_yaml_parse(text, strlen(text), &docs, &err) < 0) {
                fprintf(stderr, "error: %s\n", err->msg);
                check(false, "emitted YAML does not parse", text);
        }
        check(json_equal(docs, want), "emitted YAML reads back different", text);
        json_decref(docs);
}

/* The input as a string in every place the emitter writes one: a value,
 * an item, a nested item, a key, deep down, and a whole document. */
static void as_string(const uint8_t *data, size_t size)
{
        json_t *str = json_stringn((const char *)data, size), *places, *docs;
        char *text;

        if (!str)
                return; /* not UTF-8: no JSON string holds it */
        places = json_pack("{s:O, s:[O, [O, i]], s:{s:[{s:O, s:i}]}}", "v", str, "l", str, str, 1, "d", "b", "c", str,
                           "e", 2);
        check(places != NULL, "json_pack", NULL);
        if (!memchr(data, '\0', size)) /* the parser refuses a NUL in a key */
                json_object_setn_new(places, (const char *)data, size, json_pack("[{s:i}]", "k", 3));
        docs = json_pack("[o, o]", places, str);
        text = kube_yaml_emit_docs(docs);
        reads_back(text, docs);
        free(text);
        json_decref(docs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_error_ berth_error_t *err = NULL;
        json_t *docs = NULL;

        as_string(data, size);
        if (kube_yaml_parse((const char *)data, size, &docs, &err) < 0) {
                check(docs == NULL && err && err->status == EINVAL, "error contract", NULL);
                check(!strchr(err->msg, '\n') &&
                              (str_has_prefix(err->msg, "line ") || str_has_prefix(err->msg, "document ")),
                      "error is not one located line", err->msg);
                return 0;
        }
        if (json_array_size(docs) == 1) {
                _cleanup_free_ char *text = kube_yaml_emit(json_array_get(docs, 0));
                reads_back(text, docs);
        } else {
                _cleanup_free_ char *all = kube_yaml_emit_docs(docs);
                reads_back(all, docs);
        }
        json_decref(docs);
        return 0;
}
