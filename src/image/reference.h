/* Image references parsed and normalised exactly as Docker does
 * (github.com/distribution/reference, ParseNormalizedNamed):
 *
 *   busybox                      docker.io/library/busybox:latest
 *   user/repo:1.0                docker.io/user/repo:1.0
 *   index.docker.io/busybox      docker.io/library/busybox:latest
 *   localhost:5000/a/b:tag       localhost:5000/a/b:tag
 *   [::1]:5000/x@sha256:<hex>    [::1]:5000/x@sha256:<hex>
 *   name:tag@sha256:<hex>        both kept
 *
 * Grammar (distribution's reference.go):
 *   reference   := name [":" tag] ["@" digest]
 *   name        := [domain "/"] path
 *   domain      := host [":" port]; host is dns-ish components of
 *                  [a-zA-Z0-9-] (no "-" at either end) joined by ".", or an
 *                  IPv6 address in brackets; port is [0-9]+
 *   path        := component ("/" component)*, at most 255 characters
 *   component   := [a-z0-9]+ (separator [a-z0-9]+)*
 *   separator   := "." | "_" | "__" | "-"+
 *   tag         := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
 *   digest      := "sha256:" 64 lowercase hex | "sha512:" 128 lowercase hex
 *
 * The first "/"-separated element is the domain iff there is a "/" after it
 * and it is "localhost", contains "." or ":", or contains an uppercase
 * letter; otherwise the domain is docker.io, where a one-element path gets
 * the "library/" prefix.  No tag and no digest means the tag "latest". */
#pragma once
#include "util/error.h"

#define IMAGE_REF_DEFAULT_DOMAIN "docker.io"
#define IMAGE_REF_DEFAULT_TAG "latest"
#define IMAGE_REF_PATH_MAX 255

struct image_ref {
        char *domain;   /* "docker.io", "localhost:5000", "[::1]:5000" */
        char *path;     /* "library/busybox" */
        char *tag;      /* NULL only when a digest is given without a tag */
        char *digest;   /* "sha256:<hex>" or NULL */
};

/* Parse s into *out (which the caller frees with image_ref_free).  An
 * invalid reference gives one line: invalid reference "s": <reason>. */
int image_ref_parse(const char *s, struct image_ref *out, berth_error_t **err);
/* Fully qualified: "docker.io/library/busybox:latest", with "@digest" when
 * there is one.  Parsing it again gives the same reference. */
char *image_ref_string(const struct image_ref *r);
/* As docker shows it: "busybox:latest", "user/repo:1.0",
 * "localhost:5000/a/b:tag" (docker.io and library/ dropped).  One departure:
 * a Docker Hub path whose first element would read back as a registry
 * (docker.io/foo.com/bar) keeps its "docker.io/", so the familiar form
 * always parses back to the same reference; docker would print foo.com/bar. */
char *image_ref_familiar(const struct image_ref *r);
/* Repository name without tag or digest: "docker.io/library/busybox". */
char *image_ref_name(const struct image_ref *r);
/* Host (and port) to talk the registry API to: registry-1.docker.io for
 * docker.io, the domain itself otherwise. */
const char *image_ref_registry_host(const struct image_ref *r);
/* Frees the strings and zeroes *r (not r itself). */
void image_ref_free(struct image_ref *r);
static inline void cleanup_image_refp(struct image_ref *r) { image_ref_free(r); }
#define _cleanup_image_ref_ __attribute__((cleanup(cleanup_image_refp)))
