/* Label selectors: the LabelSelector object (matchLabels,
 * matchExpressions), a Service's plain map, and the string form of
 * `-l` / labelSelector= ("app=web,tier!=db,env in (a,b),!canary"). */
#include "orch/kube.h"
#include "orch/kube-selector.h"
#include "util/util.h"
#include <ctype.h>
#include <errno.h>
#include <string.h>

static bool in_values(const json_t *values, const char *v)
{
        size_t i;
        json_t *x;

        json_array_foreach(values, i, x) if (v && json_string_value(x) && strcmp(v, json_string_value(x)) == 0) return true;
        return false;
}

static bool expression_matches(const json_t *e, const json_t *labels)
{
        const char *key = json_string_value(json_object_get(e, "key"));
        const char *op = json_string_value(json_object_get(e, "operator"));
        const char *v = key ? json_string_value(json_object_get(labels, key)) : NULL;
        const json_t *values = json_object_get(e, "values");

        if (op == NULL)
                return false;
        if (strcmp(op, "In") == 0)
                return in_values(values, v);
        if (strcmp(op, "NotIn") == 0)
                return !in_values(values, v);
        if (strcmp(op, "Exists") == 0)
                return v != NULL;
        if (strcmp(op, "DoesNotExist") == 0)
                return v == NULL;
        return false;
}

static bool map_matches(const json_t *map, const json_t *labels)
{
        const char *k;
        json_t *v;

        json_object_foreach((json_t *)map, k, v) {
                const char *have = json_string_value(json_object_get(labels, k));
                if (have == NULL || !json_is_string(v) || strcmp(have, json_string_value(v)) != 0)
                        return false;
        }
        return true;
}

bool kube_selector_matches(const json_t *selector, const json_t *labels)
{
        json_t *ml = json_object_get(selector, "matchLabels"), *me = json_object_get(selector, "matchExpressions");
        size_t i;
        json_t *e;

        if (selector == NULL)
                return true;
        if (!json_is_object(ml) && !json_is_array(me))
                return map_matches(selector, labels);        /* Service.spec.selector */
        if (ml && !map_matches(ml, labels))
                return false;
        json_array_foreach(me, i, e) if (!expression_matches(e, labels)) return false;
        return true;
}

/* ---- the string form -------------------------------------------------------- */

static void skip_space(const char **p)
{
        while (isspace((unsigned char)**p))
                (*p)++;
}

static char *word(const char **p)
{
        const char *s = *p;

        while (**p && (isalnum((unsigned char)**p) || strchr("-_./", **p)))
                (*p)++;
        return *p > s ? xasprintf("%.*s", (int)(*p - s), s) : NULL;
}

static json_t *expression(const char *key, const char *op, json_t *values)
{
        json_t *e = must(json_pack("{s:s, s:s}", "key", key, "operator", op));
        if (values)
                json_object_set_new(e, "values", values);
        return e;
}

static int set_values(const char **p, json_t **out, berth_error_t **err)
{
        json_t *values = must(json_array());

        skip_space(p);
        if (**p != '(') {
                json_decref(values);
                return berth_error(err, EINVAL, "expected '(' at \"%s\"", *p);
        }
        (*p)++;
        for (;;) {
                skip_space(p);
                _cleanup_free_ char *v = word(p);
                if (v)
                        json_array_append_new(values, json_string(v));
                skip_space(p);
                if (**p == ',') {
                        (*p)++;
                        continue;
                }
                if (**p == ')') {
                        (*p)++;
                        *out = values;
                        return 0;
                }
                json_decref(values);
                return berth_error(err, EINVAL, "expected ',' or ')' at \"%s\"", *p);
        }
}

static int requirement(const char **p, json_t *exprs, berth_error_t **err)
{
        bool negated = false;
        json_t *values = NULL;

        skip_space(p);
        if (**p == '!') {
                negated = true;
                (*p)++;
                skip_space(p);
        }
        _cleanup_free_ char *key = word(p);
        if (key == NULL)
                return berth_error(err, EINVAL, "expected a label key at \"%s\"", *p);
        skip_space(p);
        if (negated || **p == ',' || **p == '\0') {
                json_array_append_new(exprs, expression(key, negated ? "DoesNotExist" : "Exists", NULL));
                return 0;
        }
        const char *op = NULL;
        if (strncmp(*p, "==", 2) == 0 || strncmp(*p, "!=", 2) == 0)
                op = (*p)[0] == '!' ? "NotIn" : "In", *p += 2;
        else if (**p == '=')
                op = "In", (*p)++;
        if (op) {
                skip_space(p);
                _cleanup_free_ char *v = word(p);
                json_array_append_new(exprs, expression(key, op, must(json_pack("[s]", v ? v : ""))));
                return 0;
        }
        _cleanup_free_ char *opword = word(p);
        if (opword && (strcmp(opword, "in") == 0 || strcmp(opword, "notin") == 0)) {
                if (set_values(p, &values, err) < 0)
                        return -1;
                json_array_append_new(exprs, expression(key, strcmp(opword, "in") == 0 ? "In" : "NotIn", values));
                return 0;
        }
        return berth_error(err, EINVAL, "unknown operator at \"%s\"", *p);
}

int kube_selector_parse(const char *text, json_t **out, berth_error_t **err)
{
        json_t *exprs = must(json_array());
        const char *p = text;

        while (*p) {
                if (requirement(&p, exprs, err) < 0) {
                        json_decref(exprs);
                        return berth_error_wrap(err, "couldn't parse the selector string \"%s\"", text);
                }
                skip_space(&p);
                if (*p == ',')
                        p++;
                else if (*p) {
                        json_decref(exprs);
                        return berth_error(err, EINVAL, "couldn't parse the selector string \"%s\"", text);
                }
        }
        *out = must(json_pack("{s:o}", "matchExpressions", exprs));
        return 0;
}
