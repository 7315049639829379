/* Image operations, as the daemon serves them (docker pull, push, images,
 * inspect, tag, rmi, history, save, load, import, prune) over an image
 * store (image-store.h).  Names are references as users type them
 * ("busybox", "localhost:5000/a:b"), full ids or unique id prefixes. */
#pragma once
#include "image/image-store.h"
#include <jansson.h>

/* Where a registry's credentials and transport come from. */
struct image_registry_opts {
        const char *auth_config;        /* Docker-style config.json; NULL: $DOCKER_CONFIG or ~/.docker */
        const char *const *insecure;    /* hosts allowed plain http (localhost always is) */
        const char *username, *password; /* explicit credentials win over auth_config */
};

struct image_pull_opts {
        const char *platform;           /* "linux/arm64"; NULL: this host */
        unsigned jobs;                  /* layers downloaded at once; 0: 3, as docker */
        struct image_registry_opts reg;
        image_progress_fn progress;     /* NULL: none */
        void *progress_data;
};
/* Pull ref: manifest (choosing the platform from a list), config, and the
 * layers not already unpacked, downloaded in parallel and extracted while
 * they download.  *id (may be NULL) gets the image id. */
int image_pull(struct image_store *s, const char *ref, const struct image_pull_opts *o, char **id,
               berth_error_t **err);

struct image_push_opts {
        size_t chunk_size;              /* 0: monolithic uploads */
        struct image_registry_opts reg;
        image_progress_fn progress;
        void *progress_data;
};
/* Push the image `name` to `dest` (NULL: name itself, which must then be
 * a reference): blobs the registry has are not sent, blobs another
 * repository of the same registry has are mounted, then the manifest is
 * put under the tag.  *digest (may be NULL) gets the manifest digest. */
int image_push(struct image_store *s, const char *name, const char *dest, const struct image_push_opts *o,
               char **digest, berth_error_t **err);

/* docker tag SRC DST. */
int image_tag(struct image_store *s, const char *src, const char *dst, berth_error_t **err);

/* docker rmi: a name is untagged, and the image deleted when no name is
 * left; an id deletes the image with all its names.  An image used by a
 * container is refused ("image is being used by N container(s)") unless
 * force, which then only untags (the image stays, dangling, for its
 * containers).  An image with several tags given by id is refused unless
 * force.  fn (may be NULL) is told each
 * {"Untagged": name} and {"Deleted": id}, as the API reports them. */
typedef void (*image_removed_fn)(void *data, const char *what, const char *name);
int image_remove(struct image_store *s, const char *name, bool force, image_removed_fn fn, void *data,
                 berth_error_t **err);

/* Docker's ImageSummary list (GET /images/json), newest first.  all is
 * docker's flag for intermediate build images, which Berth does not keep. */
int image_list(struct image_store *s, bool all, json_t **out, berth_error_t **err);
/* Docker's ImageInspect (GET /images/{name}/json). */
int image_inspect(struct image_store *s, const char *name, json_t **out, berth_error_t **err);
/* Docker's history (GET /images/{name}/history): newest first. */
int image_history(struct image_store *s, const char *name, json_t **out, berth_error_t **err);

/* docker image prune: dangling images (no tags); all: every image no
 * container uses.  Then garbage collection.  *out: {"ImagesDeleted":
 * [...], "SpaceReclaimed": N}. */
int image_prune(struct image_store *s, bool all, json_t **out, berth_error_t **err);

/* docker save NAME... > fd. */
int image_save(struct image_store *s, const char *const *names, int fd, berth_error_t **err);
/* docker load < fd: every image in the archive, with its tags; fn is
 * told "Loaded image: NAME" or "Loaded image ID: ID" lines. */
int image_load(struct image_store *s, int fd, image_removed_fn fn, void *data, berth_error_t **err);
/* docker import: a rootfs tar to a one-layer image, tagged ref (NULL: untagged). */
int image_import_tar(struct image_store *s, int fd, const char *ref, const char *const *changes,
                     const char *message, char **id, berth_error_t **err);
/* An OCI image layout of the named images into dir. */
int image_export_oci(struct image_store *s, const char *const *names, const char *dir, berth_error_t **err);

/* ---- shared by pull.c and push.c ---- */
struct image_ref;
struct registry_client;
/* A client for ref's registry with the credentials o names. */
int image_registry_client(const struct image_ref *ref, const struct image_registry_opts *o,
                          struct registry_client **out, berth_error_t **err);
