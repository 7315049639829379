/* docker pull: manifest (a list resolved to this platform), config, then
 * the missing layers, several at once.  Each layer is extracted while it
 * downloads: the registry client hands every byte it stores to a socket
 * the extractor reads, so download, digest, decompression and extraction
 * are one pass.  A layer counts only when both sides succeed: the blob's
 * digest verified by the store, the tar's DiffID by the extractor. */
#include "image/auth-config.h"
#include "image/digest.h"
#include "image/image.h"
#include "image/imagedb.h"
#include "image/manifest.h"
#include "image/reference.h"
#include "image/registry.h"
#include "image/store.h"
#include "util/util.h"
#include <pthread.h>
#include <sys/socket.h>

#define PULL_DEFAULT_JOBS 3
#define PULL_MAX_JOBS 32

/* ---- registry clients for a reference (shared with push.c) --------- */

static bool host_listed(const char *host, const char *const *list)
{
        for (size_t i = 0; list && list[i]; i++)
                if (strcmp(list[i], host) == 0)
                        return true;
        return false;
}

int image_registry_client(const struct image_ref *ref, const struct image_registry_opts *o,
                          struct registry_client **out, berth_error_t **err)
{
        const char *host = image_ref_registry_host(ref);
        _cleanup_free_ char *user = NULL;
        _cleanup_free_ char *pass = NULL;
        struct registry_options ro = {
                .insecure = o && host_listed(ref->domain, o->insecure),
                .user_agent = "berth/" BERTH_VERSION,
        };

        if (o && o->username && strcmp(o->username, REGISTRY_USER_IDENTITY_TOKEN) == 0) {
                ro.identity_token = o->password;
        } else if (o && o->username && strcmp(o->username, REGISTRY_USER_REGISTRY_TOKEN) == 0) {
                ro.registry_token = o->password;
        } else if (o && o->username) {
                ro.username = o->username;
                ro.password = o->password;
        } else {
                /* credentials are stored under the domain users type
                 * (docker.io), not the API host */
                int r = auth_config_get(o ? o->auth_config : NULL, ref->domain, &user, &pass, err);
                if (r < 0)
                        return r;
                ro.username = user;
                ro.password = pass;
        }
        return registry_client_new(host, &ro, out, err);
}

/* ---- progress, serialised: workers report from their threads -------- */

struct pull {
        struct image_store *s;
        const struct image_pull_opts *o;
        struct registry_client *client;
        const char *repo;
        struct image_plan plan;
        pthread_mutex_t lock;   /* progress calls, the database, next, done, the error */
        pthread_cond_t layer_done;
        bool *done;             /* per layer: finished (either way) */
        size_t next;            /* next layer to take */
        berth_error_t *error;   /* the first failure */
};

static void progress(struct pull *p, const char *digest, const char *status, int64_t cur, int64_t total)
{
        char id[13];

        if (p->o->progress == NULL)
                return;
        snprintf(id, sizeof(id), "%.12s", digest ? strchr(digest, ':') + 1 : "");
        pthread_mutex_lock(&p->lock);
        p->o->progress(p->o->progress_data,
                       &(struct image_progress){ .id = digest ? id : NULL, .status = status, .current = cur,
                                                 .total = total });
        pthread_mutex_unlock(&p->lock);
}

/* ---- one layer ------------------------------------------------------ */

struct layer_job {
        struct pull *p;
        size_t i;
        struct registry_client *client;
        struct layer_unpack l;
        int sock[2];            /* [0] the extractor reads, [1] the download writes */
        berth_error_t *extract_error;
};

static void *extract_thread(void *arg)
{
        struct layer_job *j = arg;

        if (image_store_unpack_layer(j->p->s, &j->l, j->sock[0], &j->extract_error) < 0)
                /* stop the download: its next write fails */
                shutdown(j->sock[0], SHUT_RDWR);
        return NULL;
}

static int on_data(void *data, const void *buf, size_t len)
{
        struct layer_job *j = data;
        const char *b = buf;

        while (len > 0) {
                /* MSG_NOSIGNAL: when the extractor gave up (a bad tar) the
                 * write fails with EPIPE, and its error is reported */
                ssize_t n = send(j->sock[1], b, len, MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return -1;
                b += n;
                len -= (size_t)n;
        }
        return 0;
}

static void on_progress(void *data, const char *digest, int64_t done, int64_t total)
{
        struct layer_job *j = data;
        progress(j->p, digest, "Downloading", done, total);
}

/* Download the blob into the store and the extractor at once. */
static int fetch_and_extract(struct layer_job *j, const struct descriptor *d, berth_error_t **err)
{
        struct registry_fetch_opts fo = { .progress = on_progress, .progress_data = j, .on_data = on_data, .data = j };
        pthread_t tid;
        int r;

        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, j->sock) < 0)
                return berth_error(err, errno, "socketpair");
        /* room for a few of curl's chunks, so download and extraction
         * overlap instead of taking turns (best effort) */
        int size = 1 << 20;
        setsockopt(j->sock[1], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
        setsockopt(j->sock[0], SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
        if ((r = pthread_create(&tid, NULL, extract_thread, j)) != 0) {
                close(j->sock[0]);
                close(j->sock[1]);
                return berth_error(err, r, "start an extraction thread");
        }
        r = registry_fetch_blob_ex(j->client, j->p->repo, d->digest, d->size, image_store_content(j->p->s), &fo, err);
        /* end of stream for the extractor; a failed download ends the
         * extraction too (truncated tar), and its result is dropped */
        shutdown(j->sock[1], SHUT_WR);
        pthread_join(tid, NULL);
        close(j->sock[0]);
        close(j->sock[1]);
        if (r == 1) {
                /* the blob arrived meanwhile (another pull): read it */
                berth_error_free(&j->extract_error);
                _cleanup_close_ int fd = content_open(image_store_content(j->p->s), d->digest, err);
                return fd < 0 ? -1 : image_store_unpack_layer(j->p->s, &j->l, fd, err);
        }
        if (j->extract_error != NULL) {
                berth_error_free(err);
                *err = steal_pointer(&j->extract_error);
                return -1;
        }
        return r < 0 ? r : 0;
}

/* An image may list the same blob twice (identical empty layers): the
 * later one waits for the earlier one's download, then reads the store.
 * The earlier index was taken first, so it is in progress, never waiting
 * on this one. */
static void wait_same_blob(struct pull *p, size_t i)
{
        const char *digest = p->plan.m->layers[i].digest;

        pthread_mutex_lock(&p->lock);
        for (size_t k = 0; k < i; k++)
                while (strcmp(p->plan.m->layers[k].digest, digest) == 0 && !p->done[k])
                        pthread_cond_wait(&p->layer_done, &p->lock);
        pthread_mutex_unlock(&p->lock);
}

static void mark_done(struct pull *p, size_t i)
{
        pthread_mutex_lock(&p->lock);
        p->done[i] = true;
        pthread_cond_broadcast(&p->layer_done);
        pthread_mutex_unlock(&p->lock);
}

static int pull_layer(struct layer_job *j, berth_error_t **err)
{
        struct pull *p = j->p;
        const struct descriptor *d = &p->plan.m->layers[j->i];
        int r;

        wait_same_blob(p, j->i);
        j->l = (struct layer_unpack){
                .chain_id = p->plan.chains[j->i],
                .parent_chain_id = j->i ? p->plan.chains[j->i - 1] : NULL,
                .diff_id = p->plan.cfg->diff_ids[j->i],
                .blob_digest = d->digest,
                .media_type = d->media_type,
        };
        if (content_exists(image_store_content(p->s), d->digest)) {
                _cleanup_close_ int fd = content_open(image_store_content(p->s), d->digest, err);
                progress(p, d->digest, "Extracting", 0, d->size);
                r = fd < 0 ? -1 : image_store_unpack_layer(p->s, &j->l, fd, err);
        } else {
                r = fetch_and_extract(j, d, err);
                if (r == 0)
                        progress(p, d->digest, "Download complete", -1, -1);
        }
        if (r < 0)
                return r;
        /* record at once: a pull killed later keeps this layer */
        pthread_mutex_lock(&p->lock);
        r = image_store_record_layer(p->s, &j->l, err);
        pthread_mutex_unlock(&p->lock);
        if (r == 0)
                progress(p, d->digest, "Pull complete", -1, -1);
        return r;
}

static bool take_layer(struct pull *p, size_t *i)
{
        bool got = false;

        pthread_mutex_lock(&p->lock);
        /* after a failure, start nothing new */
        while (p->error == NULL && p->next < p->plan.m->n_layers) {
                size_t k = p->next++;
                if (!image_store_has_layer(p->s, p->plan.chains[k]) ||
                    imagedb_layer_get(image_store_db(p->s), p->plan.chains[k], NULL, NULL) <= 0) {
                        *i = k;
                        got = true;
                        break;
                }
        }
        pthread_mutex_unlock(&p->lock);
        return got;
}

static void *worker(void *arg)
{
        struct pull *p = arg;
        _cleanup_error_ berth_error_t *err = NULL;
        struct registry_client *client = NULL;
        size_t i;

        if (registry_client_clone(p->client, &client, &err) == 0) {
                while (take_layer(p, &i)) {
                        struct layer_job j = { .p = p, .i = i, .client = client, .sock = { -1, -1 } };
                        int r = pull_layer(&j, &err);
                        mark_done(p, i);
                        if (r < 0)
                                break;
                }
        }
        registry_client_free(client);
        if (err != NULL) {
                pthread_mutex_lock(&p->lock);
                if (p->error == NULL)
                        p->error = steal_pointer(&err);
                pthread_mutex_unlock(&p->lock);
        }
        return NULL;
}

static int pull_layers(struct pull *p, berth_error_t **err)
{
        unsigned jobs = p->o->jobs ? p->o->jobs : PULL_DEFAULT_JOBS;
        pthread_t tids[PULL_MAX_JOBS];
        unsigned started = 0;

        for (size_t i = 0; i < p->plan.m->n_layers; i++) {
                const struct descriptor *d = &p->plan.m->layers[i];
                bool have = image_store_has_layer(p->s, p->plan.chains[i]) &&
                            imagedb_layer_get(image_store_db(p->s), p->plan.chains[i], NULL, NULL) > 0;
                progress(p, d->digest, have ? "Already exists" : "Pulling fs layer", -1, -1);
        }
        if (jobs > PULL_MAX_JOBS)
                jobs = PULL_MAX_JOBS;
        p->done = xcalloc(p->plan.m->n_layers + 1, sizeof(bool));
        /* layers skipped as present count as done for wait_same_blob */
        for (size_t i = 0; i < p->plan.m->n_layers; i++)
                p->done[i] = image_store_has_layer(p->s, p->plan.chains[i]);
        if (jobs > p->plan.m->n_layers)
                jobs = (unsigned)p->plan.m->n_layers;
        for (; started < jobs; started++)
                if (pthread_create(&tids[started], NULL, worker, p) != 0)
                        break;
        if (started == 0 && jobs > 0)
                return berth_error(err, errno, "start download threads");
        for (unsigned t = 0; t < started; t++)
                pthread_join(tids[t], NULL);
        if (p->error != NULL) {
                *err = steal_pointer(&p->error);
                return -1;
        }
        return 0;
}

/* ---- manifest and config ------------------------------------------- */

/* Store a document fetched by digest (or by tag: digest is what the
 * registry said, checked by the client) in the content store. */
static int store_document(struct image_store *s, const char *body, size_t len, const char *digest,
                          berth_error_t **err)
{
        _cleanup_free_ char *stored = NULL;

        if (content_put(image_store_content(s), body, len, &stored, err) < 0)
                return -1;
        if (strcmp(stored, digest) != 0)
                return berth_error(err, 0, "manifest: content is %s, the registry says %s", stored, digest);
        return 0;
}

/* The image manifest for the wanted platform: *digest and the body, and
 * *index_digest when ref named a list. */
static int resolve_manifest(struct pull *p, const struct image_ref *ref, char **body, size_t *len, char **type,
                            char **digest, char **index_digest, berth_error_t **err)
{
        const char *want = ref->digest ? ref->digest : ref->tag;
        _cleanup_free_ char *ibody = NULL;
        _cleanup_free_ char *itype = NULL;
        _cleanup_free_ char *idigest = NULL;
        struct manifest *m = NULL;
        struct index *ix = NULL;
        const struct descriptor *chosen;
        size_t ilen;
        int r;

        if (registry_get_manifest(p->client, p->repo, want, NULL, &ibody, &ilen, &itype, &idigest, err) < 0 ||
            manifest_parse_any(ibody, ilen, itype, &m, &ix, err) < 0)
                return -1;
        if (m != NULL) {
                manifest_free(m);
                *body = steal_pointer(&ibody);
                *len = ilen;
                *type = steal_pointer(&itype);
                *digest = steal_pointer(&idigest);
                return store_document(p->s, *body, *len, *digest, err);
        }
        r = index_select_platform(ix, p->o->platform, &chosen, err);
        if (r >= 0)
                r = registry_get_manifest(p->client, p->repo, chosen->digest, NULL, body, len, type, digest, err);
        index_free(ix);
        if (r < 0 || store_document(p->s, ibody, ilen, idigest, err) < 0 ||
            store_document(p->s, *body, *len, *digest, err) < 0)
                return -1;
        *index_digest = steal_pointer(&idigest);
        return 0;
}

static int fetch_config(struct pull *p, const char *body, size_t len, const char *type, berth_error_t **err)
{
        _cleanup_free_ char *config = NULL;
        struct manifest *m = NULL;
        size_t clen;
        int r;

        if (manifest_parse(body, len, type, &m, err) < 0)
                return -1;
        r = manifest_check_image(m, err);
        if (r == 0)
                r = registry_fetch_blob(p->client, p->repo, m->config.digest, m->config.size,
                                        image_store_content(p->s), NULL, NULL, err);
        if (r >= 0)
                r = content_read(image_store_content(p->s), m->config.digest, &config, &clen, err);
        manifest_free(m);
        if (r < 0)
                return r;
        if (image_plan_from_manifest(&p->plan, body, len, type, config, clen, err) < 0)
                return -1;
        return image_config_check_platform(p->plan.cfg, p->o->platform, err);
}

/* The image is recorded and every layer of it unpacked. */
static bool image_complete(struct pull *p)
{
        if (imagedb_image_get(image_store_db(p->s), p->plan.m->config.digest, NULL, NULL) <= 0)
                return false;
        for (size_t i = 0; p->plan.chains[i]; i++)
                if (!image_store_has_layer(p->s, p->plan.chains[i]))
                        return false;
        return true;
}

static bool name_points_at(struct pull *p, const char *name, const char *id)
{
        _cleanup_free_ char *now = NULL;
        return imagedb_name_get(image_store_db(p->s), name, &now, NULL) > 0 && strcmp(now, id) == 0;
}

/* The names a pull records: the tag (when the reference has one) and
 * repo@digest of what was asked for (the list, when it was one). */
static char **pull_names(const struct image_ref *ref, const char *digest)
{
        _cleanup_free_ char *repo = image_ref_name(ref);
        char **names = xcalloc(3, sizeof(char *));
        size_t n = 0;

        if (ref->tag) {
                struct image_ref tagged = { .domain = ref->domain, .path = ref->path, .tag = ref->tag };
                names[n++] = image_ref_string(&tagged);
        }
        names[n++] = xasprintf("%s@%s", repo, digest);
        return names;
}

static int do_pull(struct pull *p, const struct image_ref *ref, char **id, berth_error_t **err)
{
        _cleanup_free_ char *body = NULL;
        _cleanup_free_ char *type = NULL;
        _cleanup_free_ char *digest = NULL;
        _cleanup_free_ char *index_digest = NULL;
        _cleanup_strv_ char **names = NULL;
        size_t len;
        char line[256];

        if (resolve_manifest(p, ref, &body, &len, &type, &digest, &index_digest, err) < 0)
                return -1;
        /* after the manifest, as dockerd: a missing image reports
         * nothing else */
        if (p->o->progress) {
                /* docker's first line: "latest: Pulling from library/busybox" */
                _cleanup_free_ char *status = xasprintf("Pulling from %s", ref->path);
                p->o->progress(p->o->progress_data, &(struct image_progress){ .id = ref->tag ? ref->tag : ref->digest,
                                                                              .status = status, .current = -1,
                                                                              .total = -1 });
        }
        if (fetch_config(p, body, len, type, err) < 0)
                return -1;
        names = pull_names(ref, index_digest ? index_digest : digest);
        /* docker lists no layers for an image it already has */
        bool up_to_date = image_complete(p) && name_points_at(p, names[0], p->plan.m->config.digest);
        if (!image_complete(p) && pull_layers(p, err) < 0)
                return -1;
        if (image_plan_record(p->s, &p->plan, digest, index_digest, (const char *const *)names, id, err) < 0)
                return -1;
        snprintf(line, sizeof(line), "Digest: %s", index_digest ? index_digest : digest);
        progress(p, NULL, line, -1, -1);
        _cleanup_free_ char *familiar = image_ref_familiar(ref);
        snprintf(line, sizeof(line), "Status: %s for %s", up_to_date ? "Image is up to date" : "Downloaded newer image",
                 familiar);
        progress(p, NULL, line, -1, -1);
        return 0;
}

int image_pull(struct image_store *s, const char *name, const struct image_pull_opts *o, char **id,
               berth_error_t **err)
{
        static const struct image_pull_opts defaults;
        _cleanup_image_ref_ struct image_ref ref = { 0 };
        struct pull p = { .s = s, .o = o ? o : &defaults };
        int r;

        if (image_ref_parse(name, &ref, err) < 0)
                return -1;
        p.repo = ref.path;
        pthread_mutex_init(&p.lock, NULL);
        pthread_cond_init(&p.layer_done, NULL);
        r = image_registry_client(&ref, &p.o->reg, &p.client, err);
        if (r == 0)
                r = do_pull(&p, &ref, id, err);
        registry_client_free(p.client);
        image_plan_clear(&p.plan);
        berth_error_free(&p.error);
        pthread_mutex_destroy(&p.lock);
        pthread_cond_destroy(&p.layer_done);
        free(p.done);
        return r < 0 ? berth_error_wrap(err, "pull %s", name) : 0;
}
