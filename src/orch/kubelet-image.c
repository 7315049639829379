/* Images for pods: imagePullPolicy (Always, IfNotPresent, Never), pulls
 * through the image store in threads of their own (one per image at a
 * time, whichever pods wait for it), ErrImagePull then ImagePullBackOff
 * with the restart back-off's curve.
 *
 * Two departures from the kubelet, both for this one machine: a pull
 * that succeeded less than PULL_FRESH_MS ago serves the next container
 * too (fifty replicas of one image do not pull fifty times), and with
 * Always a pull that fails while the image is on the machine runs that
 * image, with a warning event (Kubernetes would fail: images tagged
 * locally, as the tests' are, have no registry to ask). */
#include "orch/kubelet.h"
#include "orch/kube-calc.h"
#include "engine/engine.h"
#include "image/image.h"
#include "util/log.h"
#include "util/util.h"

#define PULL_FRESH_MS 5000
#define PRESENT_FRESH_MS 30000

struct kl_image {
        char *ref;
        bool pulling;
        int64_t pulled_ms;      /* the last good pull, monotonic; 0: none */
        int64_t present_ms;     /* last seen in the store */
        int failures;
        int backoff_s;
        int64_t retry_ms;
        char *error;
        struct kl_image *next;
};

struct pull {
        struct kubelet *kl;
        struct kl_image *img;
        json_t *pod;            /* for the events */
        bool always;
};

static struct kl_image *image_rec(struct kubelet *kl, const char *ref)
{
        struct kl_image *i;

        for (i = kl->images; i; i = i->next)
                if (strcmp(i->ref, ref) == 0)
                        return i;
        i = xcalloc(1, sizeof(*i));
        i->ref = xstrdup(ref);
        i->next = kl->images;
        kl->images = i;
        return i;
}

void kl_images_free(struct kubelet *kl)
{
        while (kl->images) {
                struct kl_image *i = kl->images;
                kl->images = i->next;
                free(i->ref);
                free(i->error);
                free(i);
        }
}

/* The store's lock is held by a pull for as long as it runs: asking
 * whether an image is there waits for it, so the answer is remembered. */
static bool present(struct kubelet *kl, const char *ref)
{
        json_t *out = NULL;
        struct image_store *s = engine_images_lock(kl->e);
        int r = image_inspect(s, ref, &out, NULL);

        engine_images_unlock(kl->e);
        json_decref(out);
        return r == 0;
}

static void *pull_thread(void *data)
{
        struct pull *pl = data;
        struct kubelet *kl = pl->kl;
        const struct engine_opts *eo = engine_options(kl->e);
        struct image_pull_opts o = { .reg = { .auth_config = eo->auth_config, .insecure = eo->insecure_registries } };
        _cleanup_error_ berth_error_t *err = NULL;
        int64_t t0 = kl_now_ms();
        const char *ref = pl->img->ref;

        struct image_store *s = engine_images_lock(kl->e);
        int r = image_pull(s, ref, &o, NULL, &err);
        engine_images_unlock(kl->e);
        int64_t took = kl_now_ms() - t0;
        bool fallback = r < 0 && pl->always && present(kl, ref);

        if (r == 0) {
                engine_event(kl->e, "image", "pull", ref, json_pack("{s:s}", "name", ref));
                kube_event(kl->k, pl->pod, "Normal", "Pulled", "Successfully pulled image \"%s\" in %lld.%03llds",
                           ref, (long long)took / 1000, (long long)took % 1000);
        } else if (fallback) {
                kube_event(kl->k, pl->pod, "Warning", "Failed",
                           "Failed to pull image \"%s\": %s; using the image present on the node", ref, err->msg);
        } else {
                kube_event(kl->k, pl->pod, "Warning", "Failed", "Failed to pull image \"%s\": %s", ref, err->msg);
                kube_event(kl->k, pl->pod, "Warning", "Failed", "Error: ErrImagePull");
        }
        pthread_mutex_lock(&kl->lock);
        pl->img->pulling = false;
        if (r == 0 || fallback) {
                pl->img->pulled_ms = pl->img->present_ms = kl_now_ms();
                pl->img->failures = 0;
                pl->img->backoff_s = 0;
                kl_set_str(&pl->img->error, NULL);
        } else {
                const struct kube_opts *ko = kube_options(kl->k);
                pl->img->failures++;
                pl->img->backoff_s = kube_backoff_next(pl->img->backoff_s, ko->backoff_base_s, ko->backoff_max_s);
                pl->img->retry_ms = kl_now_ms() + pl->img->backoff_s * 1000LL;
                kl_set_str(&pl->img->error, err->msg);
        }
        pthread_mutex_unlock(&kl->lock);
        json_decref(pl->pod);
        free(pl);
        kube_wake(kl->k);
        return NULL;
}

/* kl->lock held. */
static int start_pull(struct kubelet *kl, struct kl_pod *p, struct kl_image *img, bool always)
{
        struct pull *pl = xmalloc(sizeof(*pl));

        *pl = (struct pull){ kl, img, json_incref(p->pod), always };
        img->pulling = true;
        if (kl_spawn(kl, pull_thread, pl) < 0) {
                img->pulling = false;
                json_decref(pl->pod);
                free(pl);
                return -1;
        }
        kube_event(kl->k, p->pod, "Normal", "Pulling", "Pulling image \"%s\"", img->ref);
        return 0;
}

static void waiting(char **reason, char **message, const char *r, char *m)
{
        *reason = xstrdup(r);
        *message = m;
}

int kl_image_ensure(struct kubelet *kl, struct kl_pod *p, struct kl_ctr *c, const char *policy, char **reason,
                    char **message)
{
        const char *ref = c->image;
        int64_t now = kl_now_ms();
        bool always, here;

        if (policy == NULL || *policy == '\0')
                policy = kubelet_default_pull_policy(ref);
        always = strcmp(policy, "Always") == 0;
        pthread_mutex_lock(&kl->lock);
        struct kl_image *img = image_rec(kl, ref);
        bool fresh_pull = img->pulled_ms && now - img->pulled_ms < PULL_FRESH_MS;
        bool fresh_present = img->present_ms && now - img->present_ms < PRESENT_FRESH_MS;
        bool pulling = img->pulling;
        pthread_mutex_unlock(&kl->lock);

        if (pulling) {
                pthread_mutex_lock(&kl->lock);
                kl_pod_due(p, now + 300);      /* look again soon: the pull wakes nobody in particular */
                pthread_mutex_unlock(&kl->lock);
                return 0;
        }
        if (always ? fresh_pull : fresh_present)
                return 1;
        here = !always && present(kl, ref);
        pthread_mutex_lock(&kl->lock);
        int r = 0;
        if (here) {
                img->present_ms = now;
                r = 1;
                kube_event(kl->k, p->pod, "Normal", "Pulled", "Container image \"%s\" already present on machine", ref);
        } else if (strcmp(policy, "Never") == 0) {
                waiting(reason, message, "ErrImageNeverPull",
                        xasprintf("Container image \"%s\" is not present with pull policy of Never", ref));
                r = -1;
        } else if (img->pulling) {
                kl_pod_due(p, now + 300);
        } else if (img->failures && now < img->retry_ms) {
                /* right after a failure the kubelet says why, then backs off */
                bool just = now - (img->retry_ms - img->backoff_s * 1000LL) < 1500;
                waiting(reason, message, just ? "ErrImagePull" : "ImagePullBackOff",
                        just ? xstrdup(img->error ? img->error : "") : xasprintf("Back-off pulling image \"%s\"", ref));
                kl_pod_due(p, img->retry_ms);
                r = -1;
        } else if (start_pull(kl, p, img, always) < 0) {
                waiting(reason, message, "ErrImagePull", xstrdup("cannot start a pull"));
                r = -1;
        } else {
                kl_pod_due(p, now + 300);
        }
        pthread_mutex_unlock(&kl->lock);
        return r;
}
