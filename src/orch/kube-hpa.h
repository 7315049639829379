/* Inside the HPA controller (kube-hpa.c): the CPU sampler
 * (kube-hpa-cpu.c), Berth's stand-in for metrics-server. */
#pragma once
#include "orch/kube-calc.h"
#include "orch/kube.h"

/* The last cumulative CPU reading of each container of the pods one HPA
 * watches. */
struct hpa_cpu;
struct hpa_cpu *hpa_cpu_new(void);
void hpa_cpu_free(struct hpa_cpu *c);
/* Read every running container of the pods (a JSON array of Pod objects)
 * and fill out[i].usage_milli / has_metric with the pod's average use since
 * the previous call: a pod whose containers were not all read last time
 * (new, restarted) has no metric yet, as a pod metrics-server has not
 * scraped twice.  *window_ms gets the longest window of those samples. */
void hpa_cpu_sample(struct hpa_cpu *c, struct kube *k, const json_t *pods, int64_t now_ms, struct kube_hpa_pod *out,
                    int64_t *window_ms);
