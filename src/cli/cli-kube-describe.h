/* The pieces of berth kube describe shared by its two files. */
#pragma once
#include "cli/cli-kube.h"

/* A line at an indentation level (two spaces each). */
void dw(struct tabw *w, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* "Labels:\tk=v\n\tk2=v2\n" (sorted), "<none>" when empty. */
void describe_labels(struct tabw *w, const char *indent, const char *title, const json_t *labels);
void describe_annotations(struct tabw *w, const char *indent, const char *title, const json_t *ann);
/* The Events table of an object (kind, name and namespace from it). */
void describe_events(struct cli *c, struct tabw *w, const json_t *obj);
/* cli-kube-describe-pod.c */
void describe_pod(struct cli *c, struct tabw *w, const json_t *o);
void describe_deployment(struct cli *c, struct tabw *w, const json_t *o);
void describe_replicaset(struct cli *c, struct tabw *w, const json_t *o);
/* "Pod Template:" and what it holds (rollout history --revision too). */
void describe_template(struct tabw *w, const json_t *tpl);
