/* YAML manifests to JSON (see kube-yaml.h).  libyaml's event stream drives
 * a stack of open collections; a finished node with an anchor is kept with
 * its size, so an alias is charged for everything it expands to before it
 * is copied (the alias-bomb cap). */
#include "orch/kube-yaml.h"
#include "util/util.h"
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <yaml.h>

#define TAG_PREFIX "tag:yaml.org,2002:"

/* ---- the loader ---- */

struct frame {
        json_t *node;             /* the array or object being filled */
        char *anchor;             /* registered when the node ends */
        size_t nodes_before, bytes_before;
        int child_height;         /* the tallest child so far */
        char *key;                /* mappings: the key waiting for its value */
        size_t key_len;
        bool has_key, merge_key;  /* merge_key: the waiting key is "<<" */
        json_t *merges;           /* values of "<<", applied when the mapping ends */
};

struct anchor {
        json_t *node;
        size_t nodes, bytes; /* what an alias to it expands to */
        int height;
};

struct loader {
        yaml_parser_t parser;
        const char *buf;
        size_t len;
        berth_error_t **err;
        int doc; /* 1-based index of the current document */
        json_t *docs, *root;
        struct frame *frames; /* the open collections, outermost first */
        size_t nframes, frames_cap;
        struct anchor *anchors;
        size_t nanchors, anchors_cap;
        json_t *anchor_index; /* name -> position in anchors, the latest wins */
        size_t nodes, bytes; /* produced in this document */
};

static json_t *nonnull(json_t *j)
{
        if (!j)
                abort(); /* jansson fails only when out of memory here */
        return j;
}

static int fail_at(struct loader *l, yaml_mark_t m, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail_at(struct loader *l, yaml_mark_t m, const char *fmt, ...)
{
        char why[1200]; /* room for a quoted 256-byte key */
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(why, sizeof(why), fmt, ap);
        va_end(ap);
        if (l->doc > 1)
                return berth_fail(l->err, EINVAL, "document %d: line %zu column %zu: %s", l->doc, m.line + 1,
                                  m.column + 1, why);
        return berth_fail(l->err, EINVAL, "line %zu column %zu: %s", m.line + 1, m.column + 1, why);
}

/* libyaml's reader reports a byte offset, not a line. */
static yaml_mark_t mark_at_offset(const struct loader *l, size_t offset)
{
        yaml_mark_t m = { 0, 0, 0 };

        for (size_t i = 0; i < offset && i < l->len; i++) {
                unsigned char c = (unsigned char)l->buf[i];
                if (c == '\n')
                        m.line++, m.column = 0;
                else if ((c & 0xc0) != 0x80)
                        m.column++;
        }
        return m;
}

static int fail_libyaml(struct loader *l)
{
        const yaml_parser_t *p = &l->parser;
        yaml_mark_t m = p->error == YAML_READER_ERROR ? mark_at_offset(l, p->problem_offset) : p->problem_mark;
        const char *problem = p->problem ? p->problem : "invalid YAML";

        if (p->context)
                return fail_at(l, m, "%s (%s at line %zu column %zu)", problem, p->context, p->context_mark.line + 1,
                               p->context_mark.column + 1);
        return fail_at(l, m, "%s", problem);
}

static struct frame *top(struct loader *l)
{
        return l->nframes > 0 ? &l->frames[l->nframes - 1] : NULL;
}

static bool expecting_key(struct loader *l)
{
        struct frame *f = top(l);

        return f && json_is_object(f->node) && !f->has_key;
}

/* Count what a node adds to the document, refusing an alias bomb. */
static int charge(struct loader *l, size_t nodes, size_t bytes, yaml_mark_t m)
{
        l->nodes += nodes;
        l->bytes += bytes;
        if (l->nodes > KUBE_YAML_MAX_NODES || l->bytes > KUBE_YAML_MAX_BYTES)
                return fail_at(l, m, "document too large (over %d nodes or %u bytes, aliases expanded)",
                               KUBE_YAML_MAX_NODES, KUBE_YAML_MAX_BYTES);
        return 0;
}

static void add_anchor(struct loader *l, const char *name, json_t *node, size_t nodes, size_t bytes, int height)
{
        if (l->nanchors == l->anchors_cap) {
                l->anchors_cap = l->anchors_cap ? l->anchors_cap * 2 : 16;
                l->anchors = xrealloc(l->anchors, l->anchors_cap * sizeof(*l->anchors));
        }
        l->anchors[l->nanchors] = (struct anchor){ node, nodes, bytes, height };
        /* libyaml's anchor names are ASCII letters, digits, "_" and "-" */
        json_object_set_new(l->anchor_index, name, nonnull(json_integer((json_int_t)l->nanchors++)));
}

/* YAML lets a document redefine an anchor: the latest definition wins. */
static const struct anchor *find_anchor(const struct loader *l, const char *name)
{
        json_t *pos = json_object_get(l->anchor_index, name);

        return pos ? &l->anchors[json_integer_value(pos)] : NULL;
}

static void drop_anchors(struct loader *l)
{
        for (size_t i = 0; i < l->nanchors; i++)
                json_decref(l->anchors[i].node);
        l->nanchors = 0;
        json_object_clear(l->anchor_index);
}

static int take_key(struct loader *l, const char *s, size_t n, bool merge, yaml_mark_t m)
{
        struct frame *f = top(l);

        if (memchr(s, '\0', n)) /* jansson's lookups stop at a NUL */
                return fail_at(l, m, "a key must not contain a NUL character");
        if (!merge && json_object_getn(f->node, s, n)) {
                _cleanup_free_ char *q = quote_n(s, n);
                return fail_at(l, m, "duplicate key %s", q);
        }
        f->key = xmalloc(n + 1);
        memcpy(f->key, s, n);
        f->key[n] = '\0';
        f->key_len = n;
        f->has_key = true;
        f->merge_key = merge;
        return 0;
}

/* "<<: *base" or "<<: [*a, *b]": keep it to merge when the mapping ends. */
static int add_merge(struct loader *l, struct frame *f, json_t *v, yaml_mark_t m)
{
        size_t i;
        json_t *e;
        bool ok = json_is_object(v);

        if (json_is_array(v)) {
                ok = true;
                json_array_foreach(v, i, e) ok = ok && json_is_object(e);
        }
        if (!ok) {
                json_decref(v);
                return fail_at(l, m, "a merge key \"<<\" needs a mapping or a list of mappings");
        }
        if (!f->merges)
                f->merges = nonnull(json_array());
        json_array_append_new(f->merges, v);
        return 0;
}

/* Merged keys never override the mapping's own, and earlier sources win. */
static void merge_one(json_t *obj, json_t *src)
{
        const char *key;
        size_t key_len;
        json_t *v;

        json_object_keylen_foreach(src, key, key_len, v) {
                if (!json_object_getn(obj, key, key_len))
                        json_object_setn(obj, key, key_len, v);
        }
}

static void apply_merges(json_t *obj, json_t *merges)
{
        size_t i, j;
        json_t *src, *e;

        json_array_foreach(merges, i, src) {
                if (json_is_object(src))
                        merge_one(obj, src);
                else
                        json_array_foreach(src, j, e) merge_one(obj, e);
        }
}

/* Put a finished node (a reference handed over) where it belongs. */
static int add_node(struct loader *l, json_t *v, int height, yaml_mark_t m)
{
        struct frame *f = top(l);
        int r = 0;

        if (!f) {
                l->root = v;
                return 0;
        }
        if (height > f->child_height)
                f->child_height = height;
        if (json_is_array(f->node)) {
                json_array_append_new(f->node, v);
                return 0;
        }
        if (f->merge_key)
                r = add_merge(l, f, v, m);
        else if (json_object_setn_new(f->node, f->key, f->key_len, v) < 0)
                r = fail_at(l, m, "invalid key");
        free(f->key);
        f->key = NULL;
        f->has_key = f->merge_key = false;
        return r;
}

static int typed_value(struct loader *l, yaml_mark_t m, enum kube_yaml_kind kind, const char *s, size_t n, json_t **out)
{
        _cleanup_free_ char *text = NULL;
        bool decimal = true;
        json_int_t i;
        double d;

        switch (kind) {
        case KUBE_YAML_NULL:
                *out = json_null();
                return 0;
        case KUBE_YAML_BOOL:
                *out = json_boolean(s[0] == 't' || s[0] == 'T');
                return 0;
        case KUBE_YAML_INT:
                if (kube_yaml_int_value(s, n, &decimal, &i) == 0) {
                        *out = nonnull(json_integer(i));
                        return 0;
                }
                if (!decimal)
                        return fail_at(l, m, "integer out of range");
                break; /* a decimal beyond int64 is a real, as JSON decoders read it */
        case KUBE_YAML_FLOAT:
                break;
        case KUBE_YAML_NONFINITE:
                return fail_at(l, m, "%.*s cannot be represented in JSON", (int)MIN(n, 8), s);
        case KUBE_YAML_STRING:
                if (!(*out = json_stringn(s, n)))
                        return fail_at(l, m, "invalid UTF-8 in a string");
                return 0;
        }
        text = xmalloc(n + 1);
        memcpy(text, s, n);
        text[n] = '\0';
        d = strtod(text, NULL);
        if (!isfinite(d))
                return fail_at(l, m, "number out of range");
        *out = nonnull(json_real(d));
        return 0;
}

static bool tag_is(const char *tag, const char *name)
{
        return str_has_prefix(tag, TAG_PREFIX) && strcmp(tag + strlen(TAG_PREFIX), name) == 0;
}

/* Quoted and block scalars are strings; explicit tags are honoured. */
static int scalar_value(struct loader *l, const yaml_event_t *ev, json_t **out)
{
        const char *s = (const char *)ev->data.scalar.value, *tag = (const char *)ev->data.scalar.tag;
        size_t n = ev->data.scalar.length;
        enum kube_yaml_kind kind = kube_yaml_plain_kind(s, n), want;
        _cleanup_free_ char *q = NULL;

        if (!tag)
                return typed_value(l, ev->start_mark,
                                   ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ? kind : KUBE_YAML_STRING, s, n, out);
        if (strcmp(tag, "!") == 0 || tag_is(tag, "str") || tag_is(tag, "binary"))
                return typed_value(l, ev->start_mark, KUBE_YAML_STRING, s, n, out);
        if (tag_is(tag, "null"))
                want = KUBE_YAML_NULL;
        else if (tag_is(tag, "bool"))
                want = KUBE_YAML_BOOL;
        else if (tag_is(tag, "int"))
                want = KUBE_YAML_INT;
        else if (tag_is(tag, "float"))
                want = kind == KUBE_YAML_INT ? KUBE_YAML_INT : KUBE_YAML_FLOAT;
        else
                return fail_at(l, ev->start_mark, "unsupported tag %s", q = quote(tag));
        if (kind != want) {
                q = quote_n(s, n);
                return fail_at(l, ev->start_mark, "%s is not a valid !!%s", q, tag + strlen(TAG_PREFIX));
        }
        if (typed_value(l, ev->start_mark, kind, s, n, out) < 0)
                return -EINVAL;
        if (tag_is(tag, "float") && json_is_integer(*out)) { /* !!float 1 is 1.0, !!float 0o17 is 15.0 */
                json_t *real = nonnull(json_real((double)json_integer_value(*out)));
                json_decref(*out);
                *out = real;
        }
        return 0;
}

static int on_scalar(struct loader *l, const yaml_event_t *ev)
{
        const char *s = (const char *)ev->data.scalar.value, *anchor = (const char *)ev->data.scalar.anchor;
        size_t n = ev->data.scalar.length;
        json_t *v;
        int r = charge(l, 1, n, ev->start_mark);

        if (r < 0)
                return r;
        if (expecting_key(l)) {
                bool merge = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !ev->data.scalar.tag && n == 2 &&
                             memcmp(s, "<<", 2) == 0;
                if (anchor)
                        add_anchor(l, anchor, nonnull(json_stringn(s, n)), 1, n, 0);
                return take_key(l, s, n, merge, ev->start_mark);
        }
        if ((r = scalar_value(l, ev, &v)) < 0)
                return r;
        if (anchor)
                add_anchor(l, anchor, json_incref(v), 1, n, 0);
        return add_node(l, v, 0, ev->start_mark);
}

/* An alias used as a key: its scalar value as text. */
static int alias_key(struct loader *l, const json_t *node, yaml_mark_t m)
{
        _cleanup_free_ char *text = NULL;

        if (json_is_string(node))
                return take_key(l, json_string_value(node), json_string_length(node), false, m);
        if (json_is_object(node) || json_is_array(node))
                return fail_at(l, m, "a mapping key must be a scalar");
        if (!(text = json_dumps(node, JSON_ENCODE_ANY)))
                abort(); /* a scalar dumps unless out of memory */
        return take_key(l, text, strlen(text), false, m);
}

static int on_alias(struct loader *l, const yaml_event_t *ev)
{
        const struct anchor *a = find_anchor(l, (const char *)ev->data.alias.anchor);
        _cleanup_free_ char *q = NULL;
        int r;

        if (!a)
                return fail_at(l, ev->start_mark, "unknown anchor %s", q = quote((const char *)ev->data.alias.anchor));
        if (expecting_key(l))
                return alias_key(l, a->node, ev->start_mark);
        if ((r = charge(l, a->nodes, a->bytes, ev->start_mark)) < 0)
                return r;
        if ((int)l->nframes + a->height > KUBE_YAML_MAX_DEPTH)
                return fail_at(l, ev->start_mark, "document too deep (over %d levels)", KUBE_YAML_MAX_DEPTH);
        return add_node(l, nonnull(json_deep_copy(a->node)), a->height, ev->start_mark);
}

static int start_collection(struct loader *l, const yaml_event_t *ev, bool mapping)
{
        const char *tag = (const char *)(mapping ? ev->data.mapping_start.tag : ev->data.sequence_start.tag);
        const char *anchor = (const char *)(mapping ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor);
        _cleanup_free_ char *q = NULL;
        struct frame *f;
        int r;

        if (expecting_key(l))
                return fail_at(l, ev->start_mark, "a mapping key must be a scalar");
        if (tag && strcmp(tag, "!") != 0 && !tag_is(tag, mapping ? "map" : "seq"))
                return fail_at(l, ev->start_mark, "unsupported tag %s", q = quote(tag));
        if (l->nframes == KUBE_YAML_MAX_DEPTH)
                return fail_at(l, ev->start_mark, "document too deep (over %d levels)", KUBE_YAML_MAX_DEPTH);
        if ((r = charge(l, 1, 0, ev->start_mark)) < 0)
                return r;
        if (l->nframes == l->frames_cap) {
                l->frames_cap = l->frames_cap ? l->frames_cap * 2 : 16;
                l->frames = xrealloc(l->frames, l->frames_cap * sizeof(*l->frames));
        }
        f = &l->frames[l->nframes++];
        *f = (struct frame){ .node = nonnull(mapping ? json_object() : json_array()),
                             .anchor = anchor ? xstrdup(anchor) : NULL,
                             .nodes_before = l->nodes - 1,
                             .bytes_before = l->bytes };
        return 0;
}

static int end_collection(struct loader *l, yaml_mark_t m)
{
        struct frame *f = &l->frames[--l->nframes];
        int height = f->child_height + 1;

        if (f->merges) {
                apply_merges(f->node, f->merges);
                json_decref(f->merges);
        }
        if (f->anchor) {
                add_anchor(l, f->anchor, json_incref(f->node), l->nodes - f->nodes_before, l->bytes - f->bytes_before,
                           height);
                free(f->anchor);
        }
        return add_node(l, f->node, height, m);
}

static void end_document(struct loader *l)
{
        if (l->root && !json_is_null(l->root))
                json_array_append(l->docs, l->root);
        json_decref(l->root);
        l->root = NULL;
        drop_anchors(l);
        l->nodes = l->bytes = 0;
}

static int on_event(struct loader *l, const yaml_event_t *ev)
{
        switch (ev->type) {
        case YAML_DOCUMENT_START_EVENT:
                l->doc++;
                return 0;
        case YAML_DOCUMENT_END_EVENT:
                end_document(l);
                return 0;
        case YAML_SCALAR_EVENT:
                return on_scalar(l, ev);
        case YAML_ALIAS_EVENT:
                return on_alias(l, ev);
        case YAML_SEQUENCE_START_EVENT:
                return start_collection(l, ev, false);
        case YAML_MAPPING_START_EVENT:
                return start_collection(l, ev, true);
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
                return end_collection(l, ev->start_mark);
        default:
                return 0;
        }
}

static void loader_free(struct loader *l)
{
        for (size_t i = 0; i < l->nframes; i++) {
                json_decref(l->frames[i].node);
                json_decref(l->frames[i].merges);
                free(l->frames[i].anchor);
                free(l->frames[i].key);
        }
        free(l->frames);
        drop_anchors(l);
        free(l->anchors);
        json_decref(l->anchor_index);
        json_decref(l->root);
        json_decref(l->docs);
        yaml_parser_delete(&l->parser);
}

int kube_yaml_parse(const char *buf, size_t len, json_t **docs, berth_error_t **err)
{
        struct loader loader = { 0 }, *l = &loader;
        bool done = false;
        int r = 0;

        if (!yaml_parser_initialize(&l->parser))
                abort(); /* only out of memory */
        if (!buf) /* libyaml asserts on NULL input */
                buf = "", len = 0;
        yaml_parser_set_input_string(&l->parser, (const unsigned char *)buf, len);
        l->buf = buf;
        l->len = len;
        l->err = err;
        l->docs = nonnull(json_array());
        l->anchor_index = nonnull(json_object());
        while (!done && r == 0) {
                yaml_event_t ev;
                if (!yaml_parser_parse(&l->parser, &ev)) {
                        r = fail_libyaml(l);
                        break;
                }
                r = on_event(l, &ev);
                done = ev.type == YAML_STREAM_END_EVENT;
                yaml_event_delete(&ev);
        }
        if (r == 0)
                *docs = steal_pointer(&l->docs);
        loader_free(l);
        return r;
}
